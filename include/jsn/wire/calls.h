// Calls: ready-made messages for the bus and the systemd calls the daemon makes, built with
// the Writer into a buffer the caller owns. Each returns the message bytes through `message`
// (a view into `buffer`) or a Status saying why it could not be built. And what a reply to
// Properties.Get holds, for the daemon's Watch and the subcommands' Manager alike.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "jsn/base/status.h"
#include "jsn/wire/reader.h"

namespace jsn {

constexpr std::string_view kBusName = "org.freedesktop.DBus";
constexpr std::string_view kBusPath = "/org/freedesktop/DBus";
constexpr std::string_view kBusInterface = "org.freedesktop.DBus";
constexpr std::string_view kPropertiesInterface = "org.freedesktop.DBus.Properties";

// The errors of the D-Bus specification's own vocabulary that we send or act on, spelled here
// once: a method we do not serve, a file (the machine id) that is not there, anything else.
constexpr std::string_view kUnknownMethodError = "org.freedesktop.DBus.Error.UnknownMethod";
constexpr std::string_view kFileNotFoundError = "org.freedesktop.DBus.Error.FileNotFound";
constexpr std::string_view kFailedError = "org.freedesktop.DBus.Error.Failed";

using MessageOut = std::span<const uint8_t>*;

Status BuildHello(std::span<uint8_t> buffer, uint32_t serial, MessageOut message);
Status BuildAddMatch(std::span<uint8_t> buffer, uint32_t serial, std::string_view rule,
                     MessageOut message);
// Any of the bus's own methods that take one string (AddMatch, RemoveMatch, GetNameOwner).
Status BuildBusCall(std::span<uint8_t> buffer, uint32_t serial, std::string_view member,
                    std::string_view argument, MessageOut message);
Status BuildGetNameOwner(std::span<uint8_t> buffer, uint32_t serial, std::string_view name,
                         MessageOut message);
// org.freedesktop.DBus.Properties.Get(interface, property) on `destination` at `path`.
Status BuildPropertiesGet(std::span<uint8_t> buffer, uint32_t serial, std::string_view destination,
                          std::string_view path, std::string_view interface,
                          std::string_view property, MessageOut message);
Status BuildPropertiesGetAll(std::span<uint8_t> buffer, uint32_t serial,
                             std::string_view destination, std::string_view path,
                             std::string_view interface, MessageOut message);
// The value in a reply to Properties.Get (a body of one variant), when it is of type `type`
// ('s', 'u', ...): a view into `reply`'s bytes. False for any other body.
bool PropertiesGetValue(const Message& reply, char type, Value* value);
// A method call with no arguments (e.g. org.freedesktop.systemd1.Manager.Subscribe).
Status BuildMethodCall(std::span<uint8_t> buffer, uint32_t serial, std::string_view destination,
                       std::string_view path, std::string_view interface, std::string_view member,
                       MessageOut message);

}  // namespace jsn
