#include "jsn/reader.h"

#include <cstring>

#include "jsn/byte_order.h"
#include "jsn/names.h"
#include "jsn/signature.h"

namespace jsn {

Status MessageLength(std::span<const uint8_t> bytes, size_t* length) {
  if (bytes.size() < kFixedHeaderLength) {
    return Status::Error("short-read", bytes.size(),
                         "expected at least %zu bytes of fixed header, found %zu",
                         kFixedHeaderLength, bytes.size());
  }
  const uint8_t order = bytes[0];
  if (order != static_cast<uint8_t>(ByteOrder::kLittle) &&
      order != static_cast<uint8_t>(ByteOrder::kBig)) {
    return Status::Error("bad-byte-order", 0, "expected byte order 'l' or 'B', found 0x%02x",
                         order);
  }
  if (bytes[3] != kProtocolVersion) {
    return Status::Error("bad-protocol-version", 3, "expected protocol version 1, found %u",
                         bytes[3]);
  }
  const ByteOrder byte_order = static_cast<ByteOrder>(order);
  const size_t body_length = LoadUint32(bytes.data() + 4, byte_order);
  const size_t fields_length = LoadUint32(bytes.data() + 12, byte_order);
  if (fields_length > kMaxArrayLength) {
    return Status::Error("array-too-long", 12,
                         "expected a header field array of at most %zu bytes, found %zu",
                         kMaxArrayLength, fields_length);
  }
  // "Message Format": the header ends padded to a multiple of 8, then the body starts.
  const size_t total = AlignUp(kFixedHeaderLength + fields_length, 8) + body_length;
  if (total > kMaxMessageLength) {
    return Status::Error("message-too-long", 4,
                         "expected a message of at most %zu bytes, found %zu",
                         kMaxMessageLength, total);
  }
  *length = total;
  return Status();
}

namespace {

// Validation: one walk over the signature and the bytes together. Every read is bounded by
// `end`, the end of the innermost region (header field array, array, body) being read.
class Validator {
 public:
  Validator(const uint8_t* base, ByteOrder order) : base_(base), order_(order) {}

  void set_unix_fds(uint32_t unix_fds) { unix_fds_ = unix_fds; }

  // Moves *offset up to `alignment`, requiring the skipped bytes to exist and be zero.
  Status Align(size_t* offset, size_t alignment, size_t end) const {
    const size_t aligned = AlignUp(*offset, alignment);
    if (aligned > end) {
      return Status::Error("truncated", *offset,
                           "expected %zu bytes of padding to %zu-byte alignment, found %zu",
                           aligned - *offset, alignment, end - *offset);
    }
    for (size_t i = *offset; i < aligned; ++i) {
      if (base_[i] != 0) {
        return Status::Error("padding-not-zero", i, "expected a zero padding byte, found 0x%02x",
                             base_[i]);
      }
    }
    *offset = aligned;
    return Status();
  }

  static Status Need(size_t offset, size_t count, size_t end, const char* what) {
    if (count > end - offset) {
      return Status::Error("truncated", offset, "expected %zu bytes for %s, found %zu", count,
                           what, end - offset);
    }
    return Status();
  }

  Status ReadUint32(size_t* offset, size_t end, const char* what, uint32_t* value) const {
    JSN_RETURN_IF_ERROR(Align(offset, 4, end));
    JSN_RETURN_IF_ERROR(Need(*offset, 4, end, what));
    *value = LoadUint32(base_ + *offset, order_);
    *offset += 4;
    return Status();
  }

  // A string's bytes after its length: UTF-8, no NUL inside, a NUL after.
  Status CheckStringBytes(size_t start, size_t length) const {
    const auto* text = reinterpret_cast<const char*>(base_ + start);
    if (text[length] != '\0') {
      return Status::Error("string-missing-nul", start + length,
                           "expected a NUL after the string, found 0x%02x",
                           base_[start + length]);
    }
    if (const void* nul = memchr(text, 0, length); nul != nullptr) {
      return Status::Error("string-contains-nul",
                           start + static_cast<size_t>(static_cast<const char*>(nul) - text),
                           "expected no NUL inside a string of %zu bytes, found one", length);
    }
    const size_t bad = FindInvalidUtf8(std::string_view(text, length));
    if (bad != length) {
      return Status::Error("string-not-utf8", start + bad,
                           "expected UTF-8, found byte 0x%02x starting a bad sequence",
                           base_[start + bad]);
    }
    return Status();
  }

  // s and o: a 32-bit length, the bytes, a NUL.
  Status ReadString(size_t* offset, size_t end, std::string_view* out) const {
    uint32_t length;
    JSN_RETURN_IF_ERROR(ReadUint32(offset, end, "a string length", &length));
    JSN_RETURN_IF_ERROR(Need(*offset, size_t{length} + 1, end, "a string and its NUL"));
    JSN_RETURN_IF_ERROR(CheckStringBytes(*offset, length));
    *out = std::string_view(reinterpret_cast<const char*>(base_ + *offset), length);
    *offset += size_t{length} + 1;
    return Status();
  }

  Status ReadObjectPath(size_t* offset, size_t end, std::string_view* out) const {
    JSN_RETURN_IF_ERROR(ReadString(offset, end, out));
    if (!IsValidObjectPath(*out)) {
      return Status::Error("bad-object-path", *offset - out->size() - 1,
                           "expected an object path, found \"%.*s\"", Clip(*out), out->data());
    }
    return Status();
  }

  // g (and a variant's type): an 8-bit length, the codes, a NUL. Not yet validated as types.
  Status ReadSignatureBytes(size_t* offset, size_t end, std::string_view* out) const {
    JSN_RETURN_IF_ERROR(Need(*offset, 1, end, "a signature length"));
    const size_t length = base_[*offset];
    ++*offset;
    JSN_RETURN_IF_ERROR(Need(*offset, length + 1, end, "a signature and its NUL"));
    if (base_[*offset + length] != 0) {
      return Status::Error("string-missing-nul", *offset + length,
                           "expected a NUL after the signature, found 0x%02x",
                           base_[*offset + length]);
    }
    *out = std::string_view(reinterpret_cast<const char*>(base_ + *offset), length);
    *offset += length + 1;
    return Status();
  }

  Status ReadSignature(size_t* offset, size_t end, std::string_view* out,
                       NestingDepth depth = {}) const {
    JSN_RETURN_IF_ERROR(ReadSignatureBytes(offset, end, out));
    return ValidateSignature(*out, *offset - out->size() - 1, depth);
  }

  // One value of the complete type at signature[*position]; advances both cursors past it.
  // `depth` counts the containers around the value; the signatures were validated against the
  // array and struct limits already, so only variants (whose depth the signature cannot know)
  // need counting here.
  Status Value(std::string_view signature, size_t* position, size_t* offset, size_t end,
               NestingDepth depth) const {
    const char code = signature[*position];
    ++*position;
    switch (code) {
      case 'y':
        JSN_RETURN_IF_ERROR(Need(*offset, 1, end, "a byte"));
        *offset += 1;
        return Status();
      case 'n':
      case 'q':
        JSN_RETURN_IF_ERROR(Align(offset, 2, end));
        JSN_RETURN_IF_ERROR(Need(*offset, 2, end, "a 16-bit integer"));
        *offset += 2;
        return Status();
      case 'i':
      case 'u': {
        uint32_t ignored;
        return ReadUint32(offset, end, "a 32-bit integer", &ignored);
      }
      case 'b': {
        uint32_t value;
        JSN_RETURN_IF_ERROR(ReadUint32(offset, end, "a boolean", &value));
        if (value > 1) {
          return Status::Error("bad-boolean", *offset - 4, "expected a boolean 0 or 1, found %u",
                               value);
        }
        return Status();
      }
      case 'h': {
        uint32_t index;
        JSN_RETURN_IF_ERROR(ReadUint32(offset, end, "a unix fd index", &index));
        if (index >= unix_fds_) {
          return Status::Error("unix-fd-out-of-range", *offset - 4,
                               "expected a unix fd index below %u (the UNIX_FDS header), found %u",
                               unix_fds_, index);
        }
        return Status();
      }
      case 'x':
      case 't':
      case 'd':
        JSN_RETURN_IF_ERROR(Align(offset, 8, end));
        JSN_RETURN_IF_ERROR(Need(*offset, 8, end, "a 64-bit value"));
        *offset += 8;
        return Status();
      case 's': {
        std::string_view ignored;
        return ReadString(offset, end, &ignored);
      }
      case 'o': {
        std::string_view ignored;
        return ReadObjectPath(offset, end, &ignored);
      }
      case 'g': {
        std::string_view ignored;
        return ReadSignature(offset, end, &ignored);
      }
      case 'v':
        return Variant(offset, end, depth);
      case 'a':
        return Array(signature, position, offset, end, depth);
      default:  // '(' or '{': the signature was validated
        return Struct(signature, position, offset, end, depth);
    }
  }

  Status Variant(size_t* offset, size_t end, NestingDepth depth) const {
    const size_t start = *offset;
    ++depth.total;
    if (depth.total > kMaxTotalNesting) {
      return Status::Error("nesting-too-deep", start,
                           "expected at most %zu nested containers, found a variant at depth %zu",
                           kMaxTotalNesting, depth.total);
    }
    std::string_view contents;
    JSN_RETURN_IF_ERROR(ReadSignatureBytes(offset, end, &contents));
    JSN_RETURN_IF_ERROR(ValidateSingleCompleteType(contents, start + 1, depth));
    size_t position = 0;
    return Value(contents, &position, offset, end, depth);
  }

  Status Array(std::string_view signature, size_t* position, size_t* offset, size_t end,
               NestingDepth depth) const {
    uint32_t length;
    JSN_RETURN_IF_ERROR(Align(offset, 4, end));
    JSN_RETURN_IF_ERROR(Need(*offset, 4, end, "an array length"));
    length = LoadUint32(base_ + *offset, order_);
    if (length > kMaxArrayLength) {
      return Status::Error("array-too-long", *offset,
                           "expected an array of at most %zu bytes, found %u", kMaxArrayLength,
                           length);
    }
    *offset += 4;
    const size_t element = *position;
    const char element_code = signature[element];
    const size_t element_length = CompleteTypeLength(signature, element);
    *position = element + element_length;
    // The padding to the first element is there even when the array is empty.
    JSN_RETURN_IF_ERROR(Align(offset, AlignmentOf(element_code), end));
    JSN_RETURN_IF_ERROR(Need(*offset, length, end, "the array's contents"));
    const size_t array_end = *offset + length;
    // Arrays of fixed-size numbers need no per-element checks, only whole elements.
    size_t fixed_size = 0;
    switch (element_code) {
      case 'y': fixed_size = 1; break;
      case 'n': case 'q': fixed_size = 2; break;
      case 'i': case 'u': fixed_size = 4; break;
      case 'x': case 't': case 'd': fixed_size = 8; break;
      default: break;
    }
    if (fixed_size != 0) {
      const size_t partial = length % fixed_size;
      if (partial != 0) {
        return Status::Error("truncated", array_end - partial,
                             "expected %zu bytes for an array element, found %zu", fixed_size,
                             partial);
      }
      *offset = array_end;
      return Status();
    }
    ++depth.arrays;
    ++depth.total;
    while (*offset < array_end) {
      size_t element_position = element;
      JSN_RETURN_IF_ERROR(Value(signature, &element_position, offset, array_end, depth));
    }
    return Status();
  }

  Status Struct(std::string_view signature, size_t* position, size_t* offset, size_t end,
                NestingDepth depth) const {
    JSN_RETURN_IF_ERROR(Align(offset, 8, end));
    ++depth.structs;
    ++depth.total;
    while (signature[*position] != ')' && signature[*position] != '}') {
      JSN_RETURN_IF_ERROR(Value(signature, position, offset, end, depth));
    }
    ++*position;
    return Status();
  }

  static int Clip(std::string_view text) {
    return static_cast<int>(text.size() > 64 ? 64 : text.size());
  }

 private:
  const uint8_t* base_;
  ByteOrder order_;
  uint32_t unix_fds_ = 0;
};

struct FieldRule {
  char type;
  const char* name;
};

// "Message Format", header fields: the one type each known field must have.
constexpr FieldRule kFieldRules[] = {
    {0, "INVALID"},     {'o', "PATH"},   {'s', "INTERFACE"}, {'s', "MEMBER"},
    {'s', "ERROR_NAME"}, {'u', "REPLY_SERIAL"}, {'s', "DESTINATION"},
    {'s', "SENDER"},    {'g', "SIGNATURE"}, {'u', "UNIX_FDS"},
};
constexpr uint8_t kLastKnownField = static_cast<uint8_t>(HeaderField::kUnixFds);

Status CheckName(bool valid, const char* rule, const char* what, size_t offset,
                 std::string_view name) {
  if (valid) return Status();
  return Status::Error(rule, offset, "expected %s, found \"%.*s\"", what, Validator::Clip(name),
                       name.data());
}

Status ReadKnownField(const Validator& validator, HeaderField field, size_t* offset,
                      size_t end, Header* header) {
  std::string_view text;
  switch (field) {
    case HeaderField::kPath:
      return validator.ReadObjectPath(offset, end, &header->path);
    case HeaderField::kInterface:
      JSN_RETURN_IF_ERROR(validator.ReadString(offset, end, &text));
      header->interface = text;
      return CheckName(IsValidInterfaceName(text), "bad-interface-name", "an interface name",
                       *offset - text.size() - 1, text);
    case HeaderField::kMember:
      JSN_RETURN_IF_ERROR(validator.ReadString(offset, end, &text));
      header->member = text;
      return CheckName(IsValidMemberName(text), "bad-member-name", "a member name",
                       *offset - text.size() - 1, text);
    case HeaderField::kErrorName:
      JSN_RETURN_IF_ERROR(validator.ReadString(offset, end, &text));
      header->error_name = text;
      return CheckName(IsValidErrorName(text), "bad-error-name", "an error name",
                       *offset - text.size() - 1, text);
    case HeaderField::kDestination:
      JSN_RETURN_IF_ERROR(validator.ReadString(offset, end, &text));
      header->destination = text;
      return CheckName(IsValidBusName(text), "bad-bus-name", "a bus name",
                       *offset - text.size() - 1, text);
    case HeaderField::kSender:
      JSN_RETURN_IF_ERROR(validator.ReadString(offset, end, &text));
      header->sender = text;
      return CheckName(IsValidBusName(text), "bad-bus-name", "a bus name",
                       *offset - text.size() - 1, text);
    case HeaderField::kSignature:
      header->has_signature = true;
      return validator.ReadSignature(offset, end, &header->signature);
    case HeaderField::kReplySerial:
      JSN_RETURN_IF_ERROR(validator.ReadUint32(offset, end, "REPLY_SERIAL", &header->reply_serial));
      if (header->reply_serial == 0) {
        return Status::Error("reply-serial-zero", *offset - 4,
                             "expected a non-zero REPLY_SERIAL, found 0");
      }
      return Status();
    case HeaderField::kUnixFds:
      header->has_unix_fds = true;
      return validator.ReadUint32(offset, end, "UNIX_FDS", &header->unix_fds);
    case HeaderField::kInvalid:
      break;
  }
  return Status();
}

// "Message Format": the header field array, an a(yv) that starts at offset 16.
Status ParseHeaderFields(const Validator& validator, const uint8_t* base, size_t fields_end,
                         Header* header) {
  // The header field array is an array of structs holding a variant.
  const NestingDepth field_depth{1, 1, 2};
  uint32_t seen = 0;
  size_t offset = kFixedHeaderLength;
  while (offset < fields_end) {
    JSN_RETURN_IF_ERROR(validator.Align(&offset, 8, fields_end));
    const size_t field_start = offset;
    JSN_RETURN_IF_ERROR(Validator::Need(offset, 1, fields_end, "a header field code"));
    const uint8_t code = base[offset++];
    if (code == 0) {
      return Status::Error("header-field-invalid", field_start,
                           "expected a header field code from 1, found 0 (INVALID)");
    }
    const size_t type_offset = offset;
    std::string_view type;
    JSN_RETURN_IF_ERROR(validator.ReadSignatureBytes(&offset, fields_end, &type));
    NestingDepth depth = field_depth;
    ++depth.total;  // the variant
    JSN_RETURN_IF_ERROR(ValidateSingleCompleteType(type, type_offset + 1, depth));
    if (code > kLastKnownField) {
      // "Message Format": unknown header fields must be accepted and ignored.
      size_t position = 0;
      JSN_RETURN_IF_ERROR(validator.Value(type, &position, &offset, fields_end, depth));
      continue;
    }
    const FieldRule& rule = kFieldRules[code];
    if (type.size() != 1 || type[0] != rule.type) {
      return Status::Error("header-field-type", type_offset + 1,
                           "expected header field %s to be of type '%c', found \"%.*s\"",
                           rule.name, rule.type, Validator::Clip(type), type.data());
    }
    const uint32_t bit = uint32_t{1} << code;
    if ((seen & bit) != 0) {
      return Status::Error("header-field-repeated", field_start,
                           "expected header field %s at most once, found it again", rule.name);
    }
    seen |= bit;
    JSN_RETURN_IF_ERROR(
        ReadKnownField(validator, static_cast<HeaderField>(code), &offset, fields_end, header));
  }
  // "Message Format": the fields each message type requires.
  struct Required {
    HeaderField field;
    const char* name;
  };
  Required required[3];
  size_t count = 0;
  switch (header->type) {
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
      return Status::Error("missing-header-field", fields_end,
                           "expected header field %s in a %s, found none", required[i].name,
                           MessageTypeName(header->type));
    }
  }
  return Status();
}

}  // namespace

Status Message::Parse(std::span<const uint8_t> bytes, Message* message) {
  size_t total = 0;
  JSN_RETURN_IF_ERROR(MessageLength(bytes, &total));
  if (bytes.size() < total) {
    return Status::Error("message-truncated", bytes.size(),
                         "expected %zu bytes as the header declares, found %zu", total,
                         bytes.size());
  }
  if (bytes.size() > total) {
    return Status::Error("trailing-bytes", total,
                         "expected the message to end after %zu bytes, found %zu", total,
                         bytes.size());
  }
  const uint8_t* base = bytes.data();
  Header header;
  header.byte_order = static_cast<ByteOrder>(base[0]);
  if (base[1] == 0) {
    return Status::Error("bad-message-type", 1, "expected a message type from 1, found 0");
  }
  header.type = static_cast<MessageType>(base[1]);
  header.flags = base[2];
  header.body_length = LoadUint32(base + 4, header.byte_order);
  header.serial = LoadUint32(base + 8, header.byte_order);
  if (header.serial == 0) {
    return Status::Error("serial-zero", 8, "expected a non-zero serial, found 0");
  }
  const size_t fields_end = kFixedHeaderLength + LoadUint32(base + 12, header.byte_order);
  const size_t body_offset = AlignUp(fields_end, 8);

  Validator validator(base, header.byte_order);
  JSN_RETURN_IF_ERROR(ParseHeaderFields(validator, base, fields_end, &header));
  size_t offset = fields_end;
  JSN_RETURN_IF_ERROR(validator.Align(&offset, 8, body_offset));

  // The body: exactly the values its signature names, filling exactly body_length bytes.
  validator.set_unix_fds(header.unix_fds);
  const std::string_view signature = header.signature;
  size_t position = 0;
  while (position < signature.size()) {
    JSN_RETURN_IF_ERROR(validator.Value(signature, &position, &offset, total, NestingDepth{}));
  }
  if (offset != total) {
    return Status::Error("trailing-bytes", offset,
                         "expected the body to end after the values of \"%.*s\", found %zu more "
                         "bytes",
                         Validator::Clip(signature), signature.data(), total - offset);
  }
  message->header_ = header;
  message->bytes_ = bytes;
  message->body_offset_ = body_offset;
  return Status();
}

}  // namespace jsn
