#include "jsn/wire/calls.h"

#include "jsn/wire/writer.h"

namespace jsn {
namespace {

HeaderFields BusCall(uint32_t serial, std::string_view member, std::string_view signature) {
  HeaderFields fields;
  fields.type = MessageType::kMethodCall;
  fields.serial = serial;
  fields.destination = kBusName;
  fields.path = kBusPath;
  fields.interface = kBusInterface;
  fields.member = member;
  fields.signature = signature;
  return fields;
}

}  // namespace

Status BuildBusCall(std::span<uint8_t> buffer, uint32_t serial, std::string_view member,
                    std::string_view argument, MessageOut message) {
  Writer writer(buffer);
  writer.Begin(BusCall(serial, member, "s"));
  writer.AppendString(argument);
  return writer.Finish(message);
}

Status BuildHello(std::span<uint8_t> buffer, uint32_t serial, MessageOut message) {
  Writer writer(buffer);
  writer.Begin(BusCall(serial, "Hello", ""));
  return writer.Finish(message);
}

Status BuildAddMatch(std::span<uint8_t> buffer, uint32_t serial, std::string_view rule,
                     MessageOut message) {
  return BuildBusCall(buffer, serial, "AddMatch", rule, message);
}

Status BuildGetNameOwner(std::span<uint8_t> buffer, uint32_t serial, std::string_view name,
                         MessageOut message) {
  return BuildBusCall(buffer, serial, "GetNameOwner", name, message);
}

Status BuildPropertiesGet(std::span<uint8_t> buffer, uint32_t serial, std::string_view destination,
                          std::string_view path, std::string_view interface,
                          std::string_view property, MessageOut message) {
  HeaderFields fields;
  fields.serial = serial;
  fields.destination = destination;
  fields.path = path;
  fields.interface = kPropertiesInterface;
  fields.member = "Get";
  fields.signature = "ss";
  Writer writer(buffer);
  writer.Begin(fields);
  writer.AppendString(interface);
  writer.AppendString(property);
  return writer.Finish(message);
}

Status BuildPropertiesGetAll(std::span<uint8_t> buffer, uint32_t serial,
                             std::string_view destination, std::string_view path,
                             std::string_view interface, MessageOut message) {
  HeaderFields fields;
  fields.serial = serial;
  fields.destination = destination;
  fields.path = path;
  fields.interface = kPropertiesInterface;
  fields.member = "GetAll";
  fields.signature = "s";
  Writer writer(buffer);
  writer.Begin(fields);
  writer.AppendString(interface);
  return writer.Finish(message);
}

Status BuildMethodCall(std::span<uint8_t> buffer, uint32_t serial, std::string_view destination,
                       std::string_view path, std::string_view interface, std::string_view member,
                       MessageOut message) {
  HeaderFields fields;
  fields.serial = serial;
  fields.destination = destination;
  fields.path = path;
  fields.interface = interface;
  fields.member = member;
  Writer writer(buffer);
  writer.Begin(fields);
  return writer.Finish(message);
}

bool PropertiesGetValue(const Message& reply, char type, Value* value) {
  Iterator body = reply.body();
  Value variant;
  if (!body.Next(&variant) || variant.type() != 'v') return false;
  Iterator inside = variant.children();
  return inside.Next(value) && value->type() == type;
}

}  // namespace jsn
