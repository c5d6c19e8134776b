#include "jsn/wire/reader.h"

#include "jsn/wire/byte_order.h"
#include "jsn/wire/names.h"
#include "jsn/wire/signature.h"
#include "validator.h"

namespace jsn {

namespace {

// MessageLength's checks, reporting through *error only on failure (Parse's hot path builds no
// Status until something is wrong).
bool CheckMessageLength(std::span<const uint8_t> bytes, size_t* length, Status* error) {
  if (bytes.size() < kFixedHeaderLength) {
    *error = Status::ExpectedAt("short-read", bytes.size(),
                                "at least %zu bytes of fixed header, found %zu", kFixedHeaderLength,
                                bytes.size());
    return false;
  }
  const uint8_t order = bytes[0];
  if (order != static_cast<uint8_t>(ByteOrder::kLittle) &&
      order != static_cast<uint8_t>(ByteOrder::kBig)) {
    *error = Status::ExpectedAt("bad-byte-order", 0, "byte order 'l' or 'B', found 0x%02x", order);
    return false;
  }
  if (bytes[3] != kProtocolVersion) {
    *error =
        Status::ExpectedAt("bad-protocol-version", 3, "protocol version 1, found %u", bytes[3]);
    return false;
  }
  const ByteOrder byte_order = static_cast<ByteOrder>(order);
  const size_t body_length = LoadUint32(bytes.data() + 4, byte_order);
  const size_t fields_length = LoadUint32(bytes.data() + 12, byte_order);
  if (fields_length > kMaxArrayLength) {
    *error = Status::ExpectedAt("array-too-long", 12,
                                "a header field array of at most %zu bytes, found %zu",
                                kMaxArrayLength, fields_length);
    return false;
  }
  // "Message Format": the header ends padded to a multiple of 8, then the body starts.
  const size_t total = AlignUp(kFixedHeaderLength + fields_length, 8) + body_length;
  if (total > kMaxMessageLength) {
    *error = Status::ExpectedAt("message-too-long", 4, "a message of at most %zu bytes, found %zu",
                                kMaxMessageLength, total);
    return false;
  }
  *length = total;
  return true;
}

}  // namespace

Status MessageLength(std::span<const uint8_t> bytes, size_t* length) {
  Status status;
  CheckMessageLength(bytes, length, &status);
  return status;
}

namespace {

using internal::IsOneCodeType;
using internal::Validator;

struct FieldRule {
  char type;
  const char* name;
};

// "Message Format", header fields: the one type each known field must have.
constexpr FieldRule kFieldRules[] = {
    {0, "INVALID"},      {'o', "PATH"},         {'s', "INTERFACE"},   {'s', "MEMBER"},
    {'s', "ERROR_NAME"}, {'u', "REPLY_SERIAL"}, {'s', "DESTINATION"}, {'s', "SENDER"},
    {'g', "SIGNATURE"},  {'u', "UNIX_FDS"},
};
constexpr uint8_t kLastKnownField = static_cast<uint8_t>(HeaderField::kUnixFds);

// A known header field's value, of the type already checked, into `header`.
bool ReadKnownField(Validator& validator, HeaderField field, size_t end, Header* header) {
  switch (field) {
    case HeaderField::kPath:
      return validator.ReadObjectPath(end, &header->path);
    case HeaderField::kInterface:
      return validator.ReadName(end, IsValidInterfaceName, "bad-interface-name",
                                "an interface name", &header->interface);
    case HeaderField::kMember:
      return validator.ReadName(end, IsValidMemberName, "bad-member-name", "a member name",
                                &header->member);
    case HeaderField::kErrorName:
      return validator.ReadName(end, IsValidErrorName, "bad-error-name", "an error name",
                                &header->error_name);
    case HeaderField::kDestination:
      return validator.ReadName(end, IsValidBusName, "bad-bus-name", "a bus name",
                                &header->destination);
    case HeaderField::kSender:
      return validator.ReadName(end, IsValidBusName, "bad-bus-name", "a bus name", &header->sender);
    case HeaderField::kSignature:
      header->has_signature = true;
      return validator.ReadSignature(end, &header->signature);
    case HeaderField::kReplySerial:
      if (!validator.ReadUint32(end, "REPLY_SERIAL", &header->reply_serial)) return false;
      if (header->reply_serial == 0) {
        return validator.Fail("reply-serial-zero", validator.offset() - 4,
                              "expected a non-zero REPLY_SERIAL, found 0");
      }
      return true;
    case HeaderField::kUnixFds:
      header->has_unix_fds = true;
      return validator.ReadUint32(end, "UNIX_FDS", &header->unix_fds);
    case HeaderField::kInvalid:
      break;
  }
  return true;
}

// "Message Format": the fields each message type requires.
bool CheckRequiredFields(const Validator& validator, const Header& header, uint32_t seen,
                         size_t fields_end) {
  struct Required {
    HeaderField field;
    const char* name;
  };
  Required required[3];
  size_t count = 0;
  switch (header.type) {
    case MessageType::kMethodCall:
      required[count++] = {HeaderField::kPath, "PATH"};
      required[count++] = {HeaderField::kMember, "MEMBER"};
      break;
    case MessageType::kSignal:
      required[count++] = {HeaderField::kPath, "PATH"};
      required[count++] = {HeaderField::kInterface, "INTERFACE"};
      required[count++] = {HeaderField::kMember, "MEMBER"};
      break;
    case MessageType::kError:
      required[count++] = {HeaderField::kErrorName, "ERROR_NAME"};
      required[count++] = {HeaderField::kReplySerial, "REPLY_SERIAL"};
      break;
    case MessageType::kMethodReturn:
      required[count++] = {HeaderField::kReplySerial, "REPLY_SERIAL"};
      break;
    default:
      break;  // "Message Types": unknown types carry no requirements; the caller ignores them
  }
  for (size_t i = 0; i < count; ++i) {
    if ((seen & (uint32_t{1} << static_cast<uint8_t>(required[i].field))) == 0) {
      return validator.Fail("missing-header-field", fields_end,
                            "expected header field %s in a %s, found none", required[i].name,
                            MessageTypeName(header.type));
    }
  }
  return true;
}

// "Message Format": the header field array, an a(yv) that starts at offset 16.
bool ParseHeaderFields(Validator& validator, const uint8_t* base, size_t fields_end,
                       Header* header) {
  // Each field's value sits in a variant, in a struct, in the array.
  const NestingDepth value_depth{1, 1, 3};
  uint32_t seen = 0;
  validator.set_offset(kFixedHeaderLength);
  while (validator.offset() < fields_end) {
    if (!validator.Align(8, fields_end)) return false;
    const size_t field_start = validator.offset();
    if (!validator.Need(1, fields_end, "a header field code")) return false;
    const uint8_t code = base[field_start];
    validator.set_offset(field_start + 1);
    if (code == 0) {
      return validator.Fail("header-field-invalid", field_start,
                            "expected a header field code from 1, found 0 (INVALID)");
    }
    const size_t type_offset = validator.offset();
    std::string_view type;
    if (!validator.ReadSignatureBytes(fields_end, &type)) return false;
    if (!IsOneCodeType(type) && !CheckSignature(type, type_offset + 1, value_depth,
                                                /*single_complete_type=*/true, validator.error())) {
      return false;
    }
    if (code > kLastKnownField) {
      // "Message Format": unknown header fields must be accepted and ignored.
      const char* type_code = type.data();
      validator.set_depth(value_depth);
      if (!validator.Value(&type_code, fields_end)) return false;
      continue;
    }
    const FieldRule& rule = kFieldRules[code];
    if (type.size() != 1 || type[0] != rule.type) {
      return validator.Fail("header-field-type", type_offset + 1,
                            "expected header field %s to be of type '%c', found \"%.*s\"",
                            rule.name, rule.type, Validator::Clip(type), type.data());
    }
    const uint32_t bit = uint32_t{1} << code;
    if ((seen & bit) != 0) {
      return validator.Fail("header-field-repeated", field_start,
                            "expected header field %s at most once, found it again", rule.name);
    }
    seen |= bit;
    if (!ReadKnownField(validator, static_cast<HeaderField>(code), fields_end, header)) {
      return false;
    }
  }
  return CheckRequiredFields(validator, *header, seen, fields_end);
}

}  // namespace

Status Message::Parse(std::span<const uint8_t> bytes, Message* message) {
  // One Status, the return value itself, is written only if a check fails; then `message`
  // is emptied on the way out.
  Status result;
  struct EmptyOnFailure {
    Message* message;
    const Status* result;
    ~EmptyOnFailure() {
      if (!result->ok()) *message = Message();
    }
  } empty_on_failure{message, &result};
  size_t total = 0;
  if (!CheckMessageLength(bytes, &total, &result)) return result;
  if (bytes.size() < total) {
    result = Status::ExpectedAt("message-truncated", bytes.size(),
                                "%zu bytes as the header declares, found %zu", total, bytes.size());
    return result;
  }
  if (bytes.size() > total) {
    result =
        Status::ExpectedAt("trailing-bytes", total, "the message to end after %zu bytes, found %zu",
                           total, bytes.size());
    return result;
  }
  const uint8_t* base = bytes.data();
  if (base[1] == 0) {
    result = Status::ExpectedAt("bad-message-type", 1, "a message type from 1, found 0");
    return result;
  }
  const ByteOrder byte_order = static_cast<ByteOrder>(base[0]);
  if (LoadUint32(base + 8, byte_order) == 0) {
    result = Status::ExpectedAt("serial-zero", 8, "a non-zero serial, found 0");
    return result;
  }
  // Filled in place (no copy of the Header at the end).
  Header& header = message->header_;
  header = Header{};
  header.byte_order = byte_order;
  header.type = static_cast<MessageType>(base[1]);
  header.flags = base[2];
  header.body_length = LoadUint32(base + 4, byte_order);
  header.serial = LoadUint32(base + 8, byte_order);
  const size_t fields_end = kFixedHeaderLength + LoadUint32(base + 12, byte_order);
  const size_t body_offset = AlignUp(fields_end, 8);

  Validator validator(bytes, byte_order, &result);
  if (!ParseHeaderFields(validator, base, fields_end, &header)) return result;
  if (!validator.Align(8, body_offset)) return result;

  // The body: exactly the values its signature names, filling exactly body_length bytes.
  validator.set_unix_fds(header.unix_fds);
  validator.set_depth(NestingDepth{});
  const std::string_view signature = header.signature;
  const char* code = signature.data();
  const char* const signature_end = code + signature.size();
  while (code < signature_end) {
    if (!validator.NextValue(&code, total)) return result;
  }
  if (validator.offset() != total) {
    result = Status::ExpectedAt("trailing-bytes", validator.offset(),
                                "the body to end after the values of \"%.*s\", found %zu "
                                "more bytes",
                                Validator::Clip(signature), signature.data(),
                                total - validator.offset());
    return result;
  }
  message->bytes_ = bytes;
  message->body_offset_ = body_offset;
  return result;
}

}  // namespace jsn
