#include "jsn/reader.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "jsn/byte_order.h"
#include "jsn/names.h"
#include "jsn/signature.h"

namespace jsn {

namespace {

// MessageLength's checks, reporting through *error only on failure (Parse's hot path builds no
// Status until something is wrong).
bool CheckMessageLength(std::span<const uint8_t> bytes, size_t* length, Status* error) {
  if (bytes.size() < kFixedHeaderLength) {
    *error = Status::Error("short-read", bytes.size(),
                           "expected at least %zu bytes of fixed header, found %zu",
                           kFixedHeaderLength, bytes.size());
    return false;
  }
  const uint8_t order = bytes[0];
  if (order != static_cast<uint8_t>(ByteOrder::kLittle) &&
      order != static_cast<uint8_t>(ByteOrder::kBig)) {
    *error = Status::Error("bad-byte-order", 0, "expected byte order 'l' or 'B', found 0x%02x",
                           order);
    return false;
  }
  if (bytes[3] != kProtocolVersion) {
    *error = Status::Error("bad-protocol-version", 3, "expected protocol version 1, found %u",
                           bytes[3]);
    return false;
  }
  const ByteOrder byte_order = static_cast<ByteOrder>(order);
  const size_t body_length = LoadUint32(bytes.data() + 4, byte_order);
  const size_t fields_length = LoadUint32(bytes.data() + 12, byte_order);
  if (fields_length > kMaxArrayLength) {
    *error = Status::Error("array-too-long", 12,
                           "expected a header field array of at most %zu bytes, found %zu",
                           kMaxArrayLength, fields_length);
    return false;
  }
  // "Message Format": the header ends padded to a multiple of 8, then the body starts.
  const size_t total = AlignUp(kFixedHeaderLength + fields_length, 8) + body_length;
  if (total > kMaxMessageLength) {
    *error = Status::Error("message-too-long", 4,
                           "expected a message of at most %zu bytes, found %zu",
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

// Past the complete type that starts at `code` in a validated, NUL-terminated signature.
const char* SkipCompleteType(const char* code) {
  while (*code == 'a') ++code;
  if (*code != '(' && *code != '{') return code + 1;
  int open = 0;
  for (;; ++code) {
    if (*code == '(' || *code == '{') {
      ++open;
    } else if ((*code == ')' || *code == '}') && --open == 0) {
      return code + 1;
    }
  }
}

// Most variants (and every well-formed header field) hold one basic type or a variant, which
// needs no signature walk; checking that here also spares building a NestingDepth argument.
inline bool IsOneCodeType(std::string_view type) {
  return type.size() == 1 && (IsBasicType(type[0]) || type[0] == 'v');
}

// Validation: one walk over the signature and the bytes together. The cursor offset_ moves
// through the message; every read is bounded by `end`, the end of the innermost region (header
// field array, array, body) being read. Signatures are walked as NUL-terminated code pointers:
// every signature in a message is followed by its NUL (checked before it is walked).
class Validator {
 public:
  // Failures are written to *error; every check returns false once one is found.
  Validator(const uint8_t* base, ByteOrder order, Status* error)
      : base_(base), order_(order), error_(error) {}

  // Records a failure and returns false, so a check can `return Fail(...)`. Only failures
  // build a Status; kept out of line so the hot path's frames stay small.
  [[gnu::cold, gnu::noinline]] bool Fail(const char* rule, size_t offset, const char* format,
                                         ...) const __attribute__((format(printf, 4, 5))) {
    char message[Status::kMessageCapacity];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    *error_ = Status::Error(rule, offset, "%s", message);
    return false;
  }
  bool Fail(const Status& status) const {
    *error_ = status;
    return false;
  }

  size_t offset() const { return offset_; }
  void set_offset(size_t offset) { offset_ = offset; }
  void set_depth(NestingDepth depth) {
    array_depth_ = depth.arrays;
    struct_depth_ = depth.structs;
    variant_depth_ = static_cast<uint32_t>(depth.total - depth.arrays - depth.structs);
  }
  uint32_t total_depth() const { return array_depth_ + struct_depth_ + variant_depth_; }
  NestingDepth depth() const {
    return NestingDepth{static_cast<uint8_t>(array_depth_), static_cast<uint8_t>(struct_depth_),
                        static_cast<uint8_t>(total_depth())};
  }
  void set_unix_fds(uint32_t unix_fds) { unix_fds_ = unix_fds; }
  Status* error() const { return error_; }

  // Moves the cursor up to `alignment`, requiring the skipped bytes to exist and be zero.
  bool Align(size_t alignment, size_t end) {
    const size_t aligned = AlignUp(offset_, alignment);
    if (aligned == offset_) return true;
    if (aligned > end) {
      return Fail("truncated", offset_,
                  "expected %zu bytes of padding to %zu-byte alignment, found %zu",
                  aligned - offset_, alignment, end - offset_);
    }
    for (size_t i = offset_; i < aligned; ++i) {
      if (base_[i] != 0) {
        return Fail("padding-not-zero", i, "expected a zero padding byte, found 0x%02x",
                    base_[i]);
      }
    }
    offset_ = aligned;
    return true;
  }

  bool Need(size_t count, size_t end, const char* what) const {
    if (count > end - offset_) {
      return Fail("truncated", offset_, "expected %zu bytes for %s, found %zu", count, what,
                  end - offset_);
    }
    return true;
  }

  bool ReadUint32(size_t end, const char* what, uint32_t* value) {
    if (!Align(4, end) || !Need(4, end, what)) return false;
    *value = LoadUint32(base_ + offset_, order_);
    offset_ += 4;
    return true;
  }

  bool SkipFixed(size_t size, size_t end, const char* what) {
    if (!Align(size, end) || !Need(size, end, what)) return false;
    offset_ += size;
    return true;
  }

  // A string's bytes after its length: UTF-8 and no NUL inside (the NUL after is checked).
  bool CheckStringBytes(size_t start, size_t length) const {
    const auto* text = reinterpret_cast<const char*>(base_ + start);
    const size_t bad = FindNulOrInvalidUtf8(std::string_view(text, length));
    if (bad == length) return true;
    if (text[bad] == '\0') {
      return Fail("string-contains-nul", start + bad,
                  "expected no NUL inside a string of %zu bytes, found one", length);
    }
    return Fail("string-not-utf8", start + bad,
                "expected UTF-8, found byte 0x%02x starting a bad sequence", base_[start + bad]);
  }

  // s and o: a 32-bit length, the bytes, a NUL. Leaves the cursor on the bytes.
  bool ReadStringFrame(size_t end, std::string_view* out) {
    uint32_t length;
    if (!ReadUint32(end, "a string length", &length)) return false;
    if (!Need(size_t{length} + 1, end, "a string and its NUL")) return false;
    if (base_[offset_ + length] != 0) {
      return Fail("string-missing-nul", offset_ + length,
                  "expected a NUL after the string, found 0x%02x", base_[offset_ + length]);
    }
    *out = std::string_view(reinterpret_cast<const char*>(base_ + offset_), length);
    return true;
  }

  bool ReadString(size_t end, std::string_view* out) {
    if (!ReadStringFrame(end, out) || !CheckStringBytes(offset_, out->size())) return false;
    offset_ += out->size() + 1;
    return true;
  }

  // A string that must also be a name (object path, interface, member, error or bus name).
  // Every valid name is ASCII without NUL, so a name that passes needs no UTF-8 scan; one
  // that fails is scanned, so a bad UTF-8 byte or a NUL is still the rule reported.
  bool ReadName(size_t end, bool (*is_valid)(std::string_view), const char* rule,
                const char* what, std::string_view* out) {
    if (!ReadStringFrame(end, out)) return false;
    if (!is_valid(*out)) {
      if (!CheckStringBytes(offset_, out->size())) return false;
      return Fail(rule, offset_, "expected %s, found \"%.*s\"", what, Clip(*out), out->data());
    }
    offset_ += out->size() + 1;
    return true;
  }

  bool ReadObjectPath(size_t end, std::string_view* out) {
    return ReadName(end, IsValidObjectPath, "bad-object-path", "an object path", out);
  }

  // g (and a variant's type): an 8-bit length, the codes, a NUL. Not yet validated as types.
  bool ReadSignatureBytes(size_t end, std::string_view* out) {
    if (!Need(1, end, "a signature length")) return false;
    const size_t length = base_[offset_];
    ++offset_;
    if (!Need(length + 1, end, "a signature and its NUL")) return false;
    if (base_[offset_ + length] != 0) {
      return Fail("string-missing-nul", offset_ + length,
                  "expected a NUL after the signature, found 0x%02x", base_[offset_ + length]);
    }
    *out = std::string_view(reinterpret_cast<const char*>(base_ + offset_), length);
    offset_ += length + 1;
    return true;
  }

  bool ReadSignature(size_t end, std::string_view* out) {
    if (!ReadSignatureBytes(end, out)) return false;
    return CheckSignature(*out, offset_ - out->size() - 1, NestingDepth{},
                          /*single_complete_type=*/false, error_);
  }

  // One value of the complete type at *code; moves *code past the type and the cursor past
  // the value. The *_depth_ members count the containers around the value; the signatures
  // were checked against the array and struct limits already, so only variants (whose depth no
  // signature knows) need the counts. They are members, not arguments, because passing a small
  // struct down the recursion made compilers store and reload it piecewise, which stalled.
  bool Value(const char** code, size_t end) {
    const char type = **code;
    ++*code;
    switch (type) {
      case 'y':
        return SkipFixed(1, end, "a byte");
      case 'n':
      case 'q':
        return SkipFixed(2, end, "a 16-bit integer");
      case 'i':
      case 'u':
        return SkipFixed(4, end, "a 32-bit integer");
      case 'x':
      case 't':
      case 'd':
        return SkipFixed(8, end, "a 64-bit value");
      case 'b': {
        uint32_t value;
        if (!ReadUint32(end, "a boolean", &value)) return false;
        if (value > 1) {
          return Fail("bad-boolean", offset_ - 4, "expected a boolean 0 or 1, found %u", value);
        }
        return true;
      }
      case 'h': {
        uint32_t index;
        if (!ReadUint32(end, "a unix fd index", &index)) return false;
        if (index >= unix_fds_) {
          return Fail("unix-fd-out-of-range", offset_ - 4,
                      "expected a unix fd index below %u (the UNIX_FDS header), found %u",
                      unix_fds_, index);
        }
        return true;
      }
      case 's': {
        std::string_view ignored;
        return ReadString(end, &ignored);
      }
      case 'o': {
        std::string_view ignored;
        return ReadObjectPath(end, &ignored);
      }
      case 'g': {
        std::string_view ignored;
        return ReadSignature(end, &ignored);
      }
      case 'v':
        return Variant(end);
      case 'a':
        return Array(code, end);
      default:  // '(' or '{': the signature was validated
        return Struct(code, end);
    }
  }

  bool Variant(size_t end) {
    const size_t start = offset_;
    ++variant_depth_;
    if (total_depth() > kMaxTotalNesting) {
      return Fail("nesting-too-deep", start,
                  "expected at most %zu nested containers, found a variant at depth %u",
                  kMaxTotalNesting, total_depth());
    }
    std::string_view contents;
    if (!ReadSignatureBytes(end, &contents)) return false;
    if (!IsOneCodeType(contents) && !CheckSignature(contents, start + 1, depth(),
                                                    /*single_complete_type=*/true, error_)) {
      return false;
    }
    const char* code = contents.data();
    if (!Value(&code, end)) return false;
    --variant_depth_;
    return true;
  }

  bool Array(const char** code, size_t end) {
    uint32_t length;
    if (!Align(4, end) || !Need(4, end, "an array length")) return false;
    length = LoadUint32(base_ + offset_, order_);
    if (length > kMaxArrayLength) {
      return Fail("array-too-long", offset_, "expected an array of at most %zu bytes, found %u",
                  kMaxArrayLength, length);
    }
    offset_ += 4;
    const char* element = *code;
    *code = SkipCompleteType(element);
    // The padding to the first element is there even when the array is empty.
    if (!Align(AlignmentOf(*element), end)) return false;
    if (!Need(length, end, "the array's contents")) return false;
    const size_t array_end = offset_ + length;
    // Arrays of fixed-size numbers need no per-element checks, only whole elements.
    size_t fixed_size = 0;
    switch (*element) {
      case 'y': fixed_size = 1; break;
      case 'n': case 'q': fixed_size = 2; break;
      case 'i': case 'u': fixed_size = 4; break;
      case 'x': case 't': case 'd': fixed_size = 8; break;
      default: break;
    }
    if (fixed_size != 0) {
      const size_t partial = length % fixed_size;
      if (partial != 0) {
        return Fail("truncated", array_end - partial,
                    "expected %zu bytes for an array element, found %zu", fixed_size, partial);
      }
      offset_ = array_end;
      return true;
    }
    if (*element == 's') {  // as: common enough in systemd's properties for its own loop
      std::string_view ignored;
      while (offset_ < array_end) {
        if (!ReadString(array_end, &ignored)) return false;
      }
      return true;
    }
    ++array_depth_;
    while (offset_ < array_end) {
      const char* element_code = element;
      if (!Value(&element_code, array_end)) return false;
    }
    --array_depth_;
    return true;
  }

  // Structs and dict entries: *code is just past the opening '(' or '{'.
  bool Struct(const char** code, size_t end) {
    if (!Align(8, end)) return false;
    ++struct_depth_;
    while (**code != ')' && **code != '}') {
      if (!Value(code, end)) return false;
    }
    ++*code;
    --struct_depth_;
    return true;
  }

  static int Clip(std::string_view text) {
    return static_cast<int>(text.size() > 64 ? 64 : text.size());
  }

 private:
  const uint8_t* base_;
  ByteOrder order_;
  Status* error_;
  size_t offset_ = 0;
  // The containers around the cursor, each kind counted apart (the total is their sum) so
  // each container touches one full-width member. A NestingDepth here, or counting the total
  // alongside, led compilers to update neighbouring fields with one wide store or vector op
  // and then reload them piecewise, which stalled store forwarding in the recursion.
  uint32_t array_depth_ = 0;
  uint32_t struct_depth_ = 0;
  uint32_t variant_depth_ = 0;
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
      return validator.ReadName(end, IsValidBusName, "bad-bus-name", "a bus name",
                                &header->sender);
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
                                                /*single_complete_type=*/true,
                                                validator.error())) {
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
  // One Status, the return value itself, is written only if a check fails.
  Status result;
  size_t total = 0;
  if (!CheckMessageLength(bytes, &total, &result)) return result;
  if (bytes.size() < total) {
    result = Status::Error("message-truncated", bytes.size(),
                           "expected %zu bytes as the header declares, found %zu", total,
                           bytes.size());
    return result;
  }
  if (bytes.size() > total) {
    result = Status::Error("trailing-bytes", total,
                           "expected the message to end after %zu bytes, found %zu", total,
                           bytes.size());
    return result;
  }
  const uint8_t* base = bytes.data();
  if (base[1] == 0) {
    result = Status::Error("bad-message-type", 1, "expected a message type from 1, found 0");
    return result;
  }
  const ByteOrder byte_order = static_cast<ByteOrder>(base[0]);
  if (LoadUint32(base + 8, byte_order) == 0) {
    result = Status::Error("serial-zero", 8, "expected a non-zero serial, found 0");
    return result;
  }
  // Filled in place (no copy of the Header at the end); on failure the caller must not use it.
  Header& header = message->header_;
  header = Header{};
  header.byte_order = byte_order;
  header.type = static_cast<MessageType>(base[1]);
  header.flags = base[2];
  header.body_length = LoadUint32(base + 4, byte_order);
  header.serial = LoadUint32(base + 8, byte_order);
  const size_t fields_end = kFixedHeaderLength + LoadUint32(base + 12, byte_order);
  const size_t body_offset = AlignUp(fields_end, 8);

  Validator validator(base, byte_order, &result);
  if (!ParseHeaderFields(validator, base, fields_end, &header)) return result;
  if (!validator.Align(8, body_offset)) return result;

  // The body: exactly the values its signature names, filling exactly body_length bytes.
  validator.set_unix_fds(header.unix_fds);
  validator.set_depth(NestingDepth{});
  const std::string_view signature = header.signature;
  const char* code = signature.data();
  const char* const signature_end = code + signature.size();
  while (code < signature_end) {
    if (!validator.Value(&code, total)) return result;
  }
  if (validator.offset() != total) {
    result = Status::Error("trailing-bytes", validator.offset(),
                           "expected the body to end after the values of \"%.*s\", found %zu "
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
