// Message: the vocabulary of the D-Bus wire format shared by the reader and the writer:
// message types, header flags, byte orders and the limits the specification sets.
// Clause names refer to the D-Bus Specification, "Message Protocol".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

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

}  // namespace jsn
