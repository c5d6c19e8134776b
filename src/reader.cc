#include "jsn/reader.h"

#include "jsn/byte_order.h"

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

}  // namespace jsn
