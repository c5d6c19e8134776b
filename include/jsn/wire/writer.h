// Writer: marshals one D-Bus message into a buffer the caller owns; no allocation. Values are
// appended in signature order and checked against the signature given to Begin as they go;
// the first mistake (a type that does not match, an invalid name, a full buffer) is kept and
// returned by Finish, so a sequence of appends needs one check at the end. The bytes Finish
// hands out are a view into the caller's buffer.
//
// Rules Finish can name: buffer-full, writer-type-mismatch (a value the signature does not
// expect there), writer-container-incomplete (Finish or a Close* before all values),
// writer-misuse (Close* of the wrong container, values before Begin, Begin twice), and the
// reader's rules for what is checked on the way in: serial-zero, bad-message-type,
// missing-header-field, bad-object-path and the bad-*-name rules, the signature rules,
// string-not-utf8, string-contains-nul, unix-fd-out-of-range, array-too-long,
// nesting-too-deep, message-too-long. Offsets are where in the buffer the writer had got to
// (0 for the header checks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "jsn/base/status.h"
#include "jsn/wire/message.h"
#include "jsn/wire/signature.h"

namespace jsn {

struct HeaderFields {
  MessageType type = MessageType::kMethodCall;
  uint8_t flags = 0;
  uint32_t serial = 0;  // must not be 0
  std::string_view path;
  std::string_view interface;
  std::string_view member;
  std::string_view error_name;
  std::string_view destination;
  std::string_view sender;
  std::string_view signature;  // of the body; empty for no body
  uint32_t reply_serial = 0;   // 0: absent
  uint32_t unix_fds = 0;       // 0: absent
};

class Writer {
 public:
  explicit Writer(std::span<uint8_t> buffer, ByteOrder byte_order = ByteOrder::kLittle);

  // Writes the header; checks the fields each type requires and the validity of every name.
  void Begin(const HeaderFields& fields);

  void AppendByte(uint8_t value);
  void AppendBool(bool value);
  void AppendInt16(int16_t value);
  void AppendUint16(uint16_t value);
  void AppendInt32(int32_t value);
  void AppendUint32(uint32_t value);
  void AppendInt64(int64_t value);
  void AppendUint64(uint64_t value);
  void AppendDouble(double value);
  void AppendString(std::string_view value);
  void AppendObjectPath(std::string_view value);
  void AppendSignature(std::string_view value);
  void AppendUnixFd(uint32_t index);

  // Containers: Open* then the contents then the matching Close*. An array's element type
  // comes from the enclosing signature; a variant's from `contents_signature`.
  void OpenArray();
  void CloseArray();
  void OpenStruct();
  void CloseStruct();
  void OpenDictEntry();
  void CloseDictEntry();
  void OpenVariant(std::string_view contents_signature);
  void CloseVariant();

  // Completes the message (patches the body length) and sets `message` to its bytes.
  Status Finish(std::span<const uint8_t>* message);

  const Status& status() const { return status_; }

 private:
  // Keeps `status` if it is the first failure.
  void Fail(const Status& status);
  // Checks that the current container expects a value of type `code` next.
  bool Expect(char code);
  // Moves past a complete type of `length` codes in the current container.
  void Advance(size_t length);
  bool Reserve(size_t count);
  void Pad(size_t alignment);
  void WriteByte(uint8_t value);
  void WriteUint16(uint16_t value);
  void WriteUint32(uint32_t value);
  void WriteUint64(uint64_t value);
  void WriteString(std::string_view value);     // s and o: 32-bit length, bytes, NUL
  void WriteSignature(std::string_view value);  // g: 8-bit length, codes, NUL
  void WriteField(HeaderField code, char type, std::string_view text);
  void WriteField(HeaderField code, uint32_t value);
  bool CheckHeaderFields(const HeaderFields& fields);
  bool CheckString(std::string_view value);
  NestingDepth CurrentDepth() const;
  void OpenContainer(char code, char kind, std::string_view contents);
  void CloseContainer(char kind, size_t signature_length);

  // The implementation decides what state it needs; these are what the interface implies.
  std::span<uint8_t> buffer_;
  size_t size_ = 0;
  ByteOrder byte_order_;
  Status status_;
  size_t body_start_ = 0;
  static constexpr size_t kMaxDepth = kMaxTotalNesting;
  struct Frame {
    std::string_view signature;  // what this level must hold
    size_t position = 0;         // next type to write within it
    size_t length_offset = 0;    // arrays: where the length goes
    size_t content_start = 0;    // arrays: first element, after padding
    char kind = 0;               // 'a', '(', '{', 'v' or 0 for the body
  };
  Frame frames_[kMaxDepth + 1];
  size_t depth_ = 0;
  uint32_t unix_fds_ = 0;  // from the header: every h appended must index below it
  bool begun_ = false;
};

}  // namespace jsn
