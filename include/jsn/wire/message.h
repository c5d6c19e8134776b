// Message: the vocabulary of the D-Bus wire format shared by the reader and the writer:
// message types, header flags, byte orders and the limits the specification sets; and a
// Message itself, one whole message parsed in place (Message::Parse and its rules are the
// reader's, jsn/wire/reader.h, which also declares the Iterator and Value its body() walks).
// Clause names refer to the D-Bus Specification, "Message Protocol".
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "jsn/base/status.h"

namespace jsn {

enum class ByteOrder : uint8_t { kLittle = 'l', kBig = 'B' };

enum class MessageType : uint8_t {
  kInvalid = 0,
  kMethodCall = 1,
  kMethodReturn = 2,
  kError = 3,
  kSignal = 4,
};

// "Message Format": header flags.
constexpr uint8_t kFlagNoReplyExpected = 0x1;
constexpr uint8_t kFlagNoAutoStart = 0x2;
constexpr uint8_t kFlagAllowInteractiveAuthorization = 0x4;

// "Message Format": the fixed part of the header is 12 bytes, then the length of the header
// field array; a reader needs these 16 bytes to know how long the whole message is.
constexpr size_t kFixedHeaderLength = 16;
constexpr uint8_t kProtocolVersion = 1;

// "Valid Signatures" and "Message Format": limits.
constexpr size_t kMaxMessageLength = size_t{1} << 27;  // 128 MiB, header and body together
constexpr size_t kMaxArrayLength = size_t{1} << 26;    // 64 MiB of array data
constexpr size_t kMaxSignatureLength = 255;
constexpr size_t kMaxArrayNesting = 32;
constexpr size_t kMaxStructNesting = 32;
constexpr size_t kMaxTotalNesting = 64;  // arrays and structs together (variants count too)

// "Message Format": header field codes.
enum class HeaderField : uint8_t {
  kInvalid = 0,
  kPath = 1,
  kInterface = 2,
  kMember = 3,
  kErrorName = 4,
  kReplySerial = 5,
  kDestination = 6,
  kSender = 7,
  kSignature = 8,
  kUnixFds = 9,
};

const char* MessageTypeName(MessageType type);  // "method_call", "signal", ...; "invalid"

// A parsed message's fixed header and header fields; the strings are views into its bytes.
struct Header {
  ByteOrder byte_order = ByteOrder::kLittle;
  MessageType type = MessageType::kInvalid;
  uint8_t flags = 0;
  uint32_t body_length = 0;
  uint32_t serial = 0;
  // Absent fields are empty views (has_* says which were present where empty is possible).
  std::string_view path;
  std::string_view interface;
  std::string_view member;
  std::string_view error_name;
  std::string_view destination;
  std::string_view sender;
  std::string_view signature;  // body signature; empty for an empty body
  uint32_t reply_serial = 0;   // 0 when absent: 0 is never a valid serial
  uint32_t unix_fds = 0;
  bool has_signature = false;
  bool has_unix_fds = false;
};

class Iterator;  // jsn/wire/reader.h

// One whole message, validated: views into a buffer the caller owns, which must outlive the
// Message and every view from it.
class Message {
 public:
  // Validates `bytes` (exactly one whole message) and, on success, fills `message`.
  // A failure names the rule that was broken and the byte offset where; `message` is then
  // empty (no header fields, no body).
  static Status Parse(std::span<const uint8_t> bytes, Message* message);

  const Header& header() const { return header_; }
  std::span<const uint8_t> bytes() const { return bytes_; }
  // The body's values in signature order.
  Iterator body() const;

 private:
  Header header_;
  std::span<const uint8_t> bytes_;
  size_t body_offset_ = 0;
};

}  // namespace jsn
