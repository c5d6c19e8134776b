#include "jsn/wire/writer.h"

#include <cstring>

#include "jsn/wire/byte_order.h"
#include "jsn/wire/names.h"

namespace jsn {
namespace {

int Clip(std::string_view text) { return static_cast<int>(text.size() > 64 ? 64 : text.size()); }

}  // namespace

Writer::Writer(std::span<uint8_t> buffer, ByteOrder byte_order)
    : buffer_(buffer), byte_order_(byte_order) {}

void Writer::Fail(const Status& status) {
  if (status_.ok()) status_ = status;
}

bool Writer::Reserve(size_t count) {
  if (!status_.ok()) return false;
  if (count > buffer_.size() - size_) {
    Fail(Status::ExpectedAt("buffer-full", size_, "room for %zu more bytes, found %zu", count,
                            buffer_.size() - size_));
    return false;
  }
  return true;
}

void Writer::Pad(size_t alignment) {
  const size_t padding = AlignUp(size_, alignment) - size_;
  if (!Reserve(padding)) return;
  memset(buffer_.data() + size_, 0, padding);
  size_ += padding;
}

void Writer::WriteByte(uint8_t value) {
  if (!Reserve(1)) return;
  buffer_[size_++] = value;
}

void Writer::WriteUint16(uint16_t value) {
  Pad(2);
  if (!Reserve(2)) return;
  StoreUint16(buffer_.data() + size_, value, byte_order_);
  size_ += 2;
}

void Writer::WriteUint32(uint32_t value) {
  Pad(4);
  if (!Reserve(4)) return;
  StoreUint32(buffer_.data() + size_, value, byte_order_);
  size_ += 4;
}

void Writer::WriteUint64(uint64_t value) {
  Pad(8);
  if (!Reserve(8)) return;
  StoreUint64(buffer_.data() + size_, value, byte_order_);
  size_ += 8;
}

void Writer::WriteString(std::string_view value) {
  WriteUint32(static_cast<uint32_t>(value.size()));
  if (!Reserve(value.size() + 1)) return;
  memcpy(buffer_.data() + size_, value.data(), value.size());
  size_ += value.size();
  buffer_[size_++] = 0;
}

void Writer::WriteSignature(std::string_view value) {
  WriteByte(static_cast<uint8_t>(value.size()));
  if (!Reserve(value.size() + 1)) return;
  memcpy(buffer_.data() + size_, value.data(), value.size());
  size_ += value.size();
  buffer_[size_++] = 0;
}

// "Message Format": each header field is a struct (yv), aligned to 8.
void Writer::WriteField(HeaderField code, char type, std::string_view text) {
  Pad(8);
  WriteByte(static_cast<uint8_t>(code));
  const char signature[] = {type, '\0'};
  WriteSignature(std::string_view(signature, 1));
  if (type == 'g') {
    WriteSignature(text);
  } else {
    WriteString(text);
  }
}

void Writer::WriteField(HeaderField code, uint32_t value) {
  Pad(8);
  WriteByte(static_cast<uint8_t>(code));
  WriteSignature("u");
  WriteUint32(value);
}

bool Writer::CheckString(std::string_view value) {
  if (value.size() > UINT32_MAX) {
    Fail(Status::ExpectedAt("array-too-long", size_, "a string below 4 GiB, found %zu bytes",
                            value.size()));
    return false;
  }
  if (const void* nul = memchr(value.data(), 0, value.size()); nul != nullptr) {
    Fail(Status::ExpectedAt("string-contains-nul", size_,
                            "no NUL inside a string, found one at byte %zu",
                            static_cast<size_t>(static_cast<const char*>(nul) - value.data())));
    return false;
  }
  if (const size_t bad = FindInvalidUtf8(value); bad != value.size()) {
    Fail(Status::ExpectedAt("string-not-utf8", size_,
                            "UTF-8, found a bad sequence at byte %zu of the string", bad));
    return false;
  }
  return true;
}

bool Writer::CheckHeaderFields(const HeaderFields& fields) {
  const auto fail_name = [&](const char* rule, const char* what, std::string_view name) {
    Fail(Status::ExpectedAt(rule, 0, "%s, found \"%.*s\"", what, Clip(name), name.data()));
    return false;
  };
  const auto missing = [&](const char* field) {
    Fail(Status::ExpectedAt("missing-header-field", 0, "header field %s in a %s, found none", field,
                            MessageTypeName(fields.type)));
    return false;
  };
  if (fields.serial == 0) {
    Fail(Status::ExpectedAt("serial-zero", 8, "a non-zero serial, found 0"));
    return false;
  }
  switch (fields.type) {
    case MessageType::kMethodCall:
      if (fields.path.empty()) return missing("PATH");
      if (fields.member.empty()) return missing("MEMBER");
      break;
    case MessageType::kSignal:
      if (fields.path.empty()) return missing("PATH");
      if (fields.interface.empty()) return missing("INTERFACE");
      if (fields.member.empty()) return missing("MEMBER");
      break;
    case MessageType::kError:
      if (fields.error_name.empty()) return missing("ERROR_NAME");
      if (fields.reply_serial == 0) return missing("REPLY_SERIAL");
      break;
    case MessageType::kMethodReturn:
      if (fields.reply_serial == 0) return missing("REPLY_SERIAL");
      break;
    default:
      Fail(Status::ExpectedAt("bad-message-type", 1, "a message type from 1 to 4, found %u",
                              static_cast<unsigned>(fields.type)));
      return false;
  }
  if (!fields.path.empty() && !IsValidObjectPath(fields.path)) {
    return fail_name("bad-object-path", "an object path", fields.path);
  }
  if (!fields.interface.empty() && !IsValidInterfaceName(fields.interface)) {
    return fail_name("bad-interface-name", "an interface name", fields.interface);
  }
  if (!fields.member.empty() && !IsValidMemberName(fields.member)) {
    return fail_name("bad-member-name", "a member name", fields.member);
  }
  if (!fields.error_name.empty() && !IsValidErrorName(fields.error_name)) {
    return fail_name("bad-error-name", "an error name", fields.error_name);
  }
  if (!fields.destination.empty() && !IsValidBusName(fields.destination)) {
    return fail_name("bad-bus-name", "a bus name", fields.destination);
  }
  if (!fields.sender.empty() && !IsValidBusName(fields.sender)) {
    return fail_name("bad-bus-name", "a bus name", fields.sender);
  }
  Status signature = ValidateSignature(fields.signature, 0);
  if (!signature.ok()) {
    Fail(signature);
    return false;
  }
  return true;
}

void Writer::Begin(const HeaderFields& fields) {
  if (!status_.ok()) return;
  if (begun_) {
    Fail(Status::ExpectedAt("writer-misuse", size_, "Begin once, found a second call"));
    return;
  }
  begun_ = true;
  if (!CheckHeaderFields(fields)) return;
  // "Message Format": the fixed header; the two lengths are patched once known.
  WriteByte(static_cast<uint8_t>(byte_order_));
  WriteByte(static_cast<uint8_t>(fields.type));
  WriteByte(fields.flags);
  WriteByte(kProtocolVersion);
  WriteUint32(0);
  WriteUint32(fields.serial);
  WriteUint32(0);
  if (!fields.path.empty()) WriteField(HeaderField::kPath, 'o', fields.path);
  if (!fields.interface.empty()) WriteField(HeaderField::kInterface, 's', fields.interface);
  if (!fields.member.empty()) WriteField(HeaderField::kMember, 's', fields.member);
  if (!fields.error_name.empty()) WriteField(HeaderField::kErrorName, 's', fields.error_name);
  if (fields.reply_serial != 0) WriteField(HeaderField::kReplySerial, fields.reply_serial);
  if (!fields.destination.empty()) {
    WriteField(HeaderField::kDestination, 's', fields.destination);
  }
  if (!fields.sender.empty()) WriteField(HeaderField::kSender, 's', fields.sender);
  std::string_view body_signature;
  if (!fields.signature.empty()) {
    WriteField(HeaderField::kSignature, 'g', fields.signature);
    // Walk the copy in the buffer, so the caller's string need not outlive Begin.
    if (status_.ok()) {
      body_signature = std::string_view(
          reinterpret_cast<const char*>(buffer_.data() + size_ - 1 - fields.signature.size()),
          fields.signature.size());
    }
  }
  if (fields.unix_fds != 0) WriteField(HeaderField::kUnixFds, fields.unix_fds);
  if (!status_.ok()) return;
  StoreUint32(buffer_.data() + 12, static_cast<uint32_t>(size_ - kFixedHeaderLength), byte_order_);
  Pad(8);
  body_start_ = size_;
  unix_fds_ = fields.unix_fds;
  depth_ = 0;
  frames_[0] = Frame{body_signature, 0, 0, 0, 0};
}

bool Writer::Expect(char code) {
  if (!status_.ok()) return false;
  if (!begun_) {
    Fail(Status::ExpectedAt("writer-misuse", size_, "Begin before any value, found '%c'", code));
    return false;
  }
  const Frame& frame = frames_[depth_];
  if (frame.position >= frame.signature.size()) {
    Fail(Status::ExpectedAt("writer-type-mismatch", size_, "no more values in \"%.*s\", found '%c'",
                            Clip(frame.signature), frame.signature.data(), code));
    return false;
  }
  const char want = frame.signature[frame.position];
  if (want != code) {
    Fail(Status::ExpectedAt("writer-type-mismatch", size_,
                            "'%c' at position %zu of \"%.*s\", found '%c'", want, frame.position,
                            Clip(frame.signature), frame.signature.data(), code));
    return false;
  }
  return true;
}

void Writer::Advance(size_t length) {
  Frame& frame = frames_[depth_];
  // An array's frame holds its element type, which every element starts again.
  if (frame.kind != 'a') frame.position += length;
}

void Writer::AppendByte(uint8_t value) {
  if (!Expect('y')) return;
  WriteByte(value);
  Advance(1);
}

void Writer::AppendBool(bool value) {
  if (!Expect('b')) return;
  WriteUint32(value ? 1 : 0);
  Advance(1);
}

void Writer::AppendInt16(int16_t value) {
  if (!Expect('n')) return;
  WriteUint16(static_cast<uint16_t>(value));
  Advance(1);
}

void Writer::AppendUint16(uint16_t value) {
  if (!Expect('q')) return;
  WriteUint16(value);
  Advance(1);
}

void Writer::AppendInt32(int32_t value) {
  if (!Expect('i')) return;
  WriteUint32(static_cast<uint32_t>(value));
  Advance(1);
}

void Writer::AppendUint32(uint32_t value) {
  if (!Expect('u')) return;
  WriteUint32(value);
  Advance(1);
}

void Writer::AppendInt64(int64_t value) {
  if (!Expect('x')) return;
  WriteUint64(static_cast<uint64_t>(value));
  Advance(1);
}

void Writer::AppendUint64(uint64_t value) {
  if (!Expect('t')) return;
  WriteUint64(value);
  Advance(1);
}

void Writer::AppendDouble(double value) {
  if (!Expect('d')) return;
  uint64_t bits;
  memcpy(&bits, &value, sizeof bits);
  WriteUint64(bits);
  Advance(1);
}

void Writer::AppendString(std::string_view value) {
  if (!Expect('s') || !CheckString(value)) return;
  WriteString(value);
  Advance(1);
}

void Writer::AppendObjectPath(std::string_view value) {
  if (!Expect('o')) return;
  if (!IsValidObjectPath(value)) {
    Fail(Status::ExpectedAt("bad-object-path", size_, "an object path, found \"%.*s\"", Clip(value),
                            value.data()));
    return;
  }
  WriteString(value);
  Advance(1);
}

void Writer::AppendSignature(std::string_view value) {
  if (!Expect('g')) return;
  Status valid = ValidateSignature(value, size_ + 1);
  if (!valid.ok()) {
    Fail(valid);
    return;
  }
  WriteSignature(value);
  Advance(1);
}

void Writer::AppendUnixFd(uint32_t index) {
  if (!Expect('h')) return;
  if (index >= unix_fds_) {
    Fail(Status::ExpectedAt("unix-fd-out-of-range", size_,
                            "a unix fd index below %u (the UNIX_FDS header), found %u", unix_fds_,
                            index));
    return;
  }
  WriteUint32(index);
  Advance(1);
}

NestingDepth Writer::CurrentDepth() const {
  NestingDepth depth;
  for (size_t i = 1; i <= depth_; ++i) {
    const char kind = frames_[i].kind;
    if (kind == 'a') ++depth.arrays;
    if (kind == '(' || kind == '{') ++depth.structs;
    ++depth.total;
  }
  return depth;
}

void Writer::OpenContainer(char code, char kind, std::string_view contents) {
  if (depth_ == kMaxDepth) {
    Fail(Status::ExpectedAt("nesting-too-deep", size_, "at most %zu nested containers, found more",
                            kMaxDepth));
    return;
  }
  Frame frame{contents, 0, 0, 0, kind};
  if (code == 'a') {
    WriteUint32(0);
    frame.length_offset = size_ - 4;
    // The padding to the first element belongs before the array's contents, even when empty.
    Pad(AlignmentOf(contents[0]));
    frame.content_start = size_;
  } else if (code != 'v') {
    Pad(8);
  }
  if (!status_.ok()) return;
  frames_[++depth_] = frame;
}

void Writer::CloseContainer(char kind, size_t signature_length) {
  if (!status_.ok()) return;
  if (depth_ == 0 || frames_[depth_].kind != kind) {
    Fail(Status::ExpectedAt("writer-misuse", size_, "to close '%c', found '%c' open", kind,
                            depth_ == 0 ? '-' : frames_[depth_].kind));
    return;
  }
  const Frame& frame = frames_[depth_];
  if (kind != 'a' && frame.position != frame.signature.size()) {
    Fail(Status::ExpectedAt("writer-container-incomplete", size_,
                            "all of \"%.*s\" before closing '%c', found %zu codes written",
                            Clip(frame.signature), frame.signature.data(), kind, frame.position));
    return;
  }
  if (kind == 'a') {
    const size_t length = size_ - frame.content_start;
    if (length > kMaxArrayLength) {
      Fail(Status::ExpectedAt("array-too-long", frame.length_offset,
                              "an array of at most %zu bytes, found %zu", kMaxArrayLength, length));
      return;
    }
    StoreUint32(buffer_.data() + frame.length_offset, static_cast<uint32_t>(length), byte_order_);
  }
  --depth_;
  Advance(signature_length);
}

void Writer::OpenArray() {
  if (!Expect('a')) return;
  const Frame& parent = frames_[depth_];
  const size_t element = parent.position + 1;
  OpenContainer('a', 'a',
                parent.signature.substr(element, CompleteTypeLength(parent.signature, element)));
}

void Writer::CloseArray() {
  if (!status_.ok()) return;
  const size_t element_length = depth_ == 0 ? 0 : frames_[depth_].signature.size();
  CloseContainer('a', 1 + element_length);
}

void Writer::OpenStruct() {
  if (!Expect('(')) return;
  const Frame& parent = frames_[depth_];
  const size_t length = CompleteTypeLength(parent.signature, parent.position);
  OpenContainer('(', '(', parent.signature.substr(parent.position + 1, length - 2));
}

void Writer::CloseStruct() {
  if (!status_.ok()) return;
  CloseContainer('(', depth_ == 0 ? 0 : frames_[depth_].signature.size() + 2);
}

void Writer::OpenDictEntry() {
  if (!Expect('{')) return;
  const Frame& parent = frames_[depth_];
  const size_t length = CompleteTypeLength(parent.signature, parent.position);
  OpenContainer('{', '{', parent.signature.substr(parent.position + 1, length - 2));
}

void Writer::CloseDictEntry() {
  if (!status_.ok()) return;
  CloseContainer('{', depth_ == 0 ? 0 : frames_[depth_].signature.size() + 2);
}

void Writer::OpenVariant(std::string_view contents_signature) {
  if (!Expect('v')) return;
  NestingDepth depth = CurrentDepth();
  ++depth.total;
  Status valid = ValidateSingleCompleteType(contents_signature, size_ + 1, depth);
  if (!valid.ok()) {
    Fail(valid);
    return;
  }
  WriteSignature(contents_signature);
  if (!status_.ok()) return;
  // Walk the copy in the buffer, so the caller's string need not outlive this call.
  OpenContainer('v', 'v',
                std::string_view(reinterpret_cast<const char*>(buffer_.data() + size_ - 1 -
                                                               contents_signature.size()),
                                 contents_signature.size()));
}

void Writer::CloseVariant() { CloseContainer('v', 1); }

Status Writer::Finish(std::span<const uint8_t>* message) {
  if (!status_.ok()) return status_;
  if (!begun_) {
    return status_ = Status::ExpectedAt("writer-misuse", 0, "Begin before Finish");
  }
  if (depth_ != 0) {
    return status_ = Status::ExpectedAt("writer-container-incomplete", size_,
                                        "every container closed, found %zu open", depth_);
  }
  const Frame& body = frames_[0];
  if (body.position != body.signature.size()) {
    return status_ = Status::ExpectedAt("writer-container-incomplete", size_,
                                        "the body to hold all of \"%.*s\", found %zu codes written",
                                        Clip(body.signature), body.signature.data(), body.position);
  }
  if (size_ > kMaxMessageLength) {
    return status_ = Status::ExpectedAt("message-too-long", 4,
                                        "a message of at most %zu bytes, found %zu",
                                        kMaxMessageLength, size_);
  }
  StoreUint32(buffer_.data() + 4, static_cast<uint32_t>(size_ - body_start_), byte_order_);
  *message = std::span<const uint8_t>(buffer_.data(), size_);
  return Status();
}

}  // namespace jsn
