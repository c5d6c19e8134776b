// Fuzz target: body validation and iteration under an arbitrary signature. The input is
//   [flags byte] [signature length byte] [signature bytes] [body bytes ...]
// and the target wraps it in a well-formed METHOD_RETURN header (REPLY_SERIAL, SIGNATURE and,
// when the flags ask, UNIX_FDS), so every execution reaches the body walker instead of dying in
// the header. Flags: bit 0 big-endian, bits 1-2 the UNIX_FDS count (0 = no field).
// Whatever Message::Parse accepts is walked completely, as in the message-reader target.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "fuzz/check_values.h"
#include "jsn/wire/byte_order.h"
#include "jsn/wire/reader.h"

namespace {

class Builder {
 public:
  explicit Builder(bool big_endian) : big_endian_(big_endian) {}
  void Byte(uint8_t value) { bytes_.push_back(value); }
  void Pad(size_t alignment) {
    while (bytes_.size() % alignment != 0) bytes_.push_back(0);
  }
  void Uint32(uint32_t value) {
    Pad(4);
    for (int i = 0; i < 4; ++i) {
      const int shift = big_endian_ ? 24 - 8 * i : 8 * i;
      bytes_.push_back(static_cast<uint8_t>(value >> shift));
    }
  }
  void SetUint32(size_t at, uint32_t value) {
    for (int i = 0; i < 4; ++i) {
      const int shift = big_endian_ ? 24 - 8 * i : 8 * i;
      bytes_[at + static_cast<size_t>(i)] = static_cast<uint8_t>(value >> shift);
    }
  }
  void Append(const uint8_t* data, size_t size) { bytes_.insert(bytes_.end(), data, data + size); }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  bool big_endian_;
  std::vector<uint8_t> bytes_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t flags = data[0];
  const size_t signature_length = data[1];
  if (size < 2 + signature_length) return 0;
  const uint8_t* signature = data + 2;
  const uint8_t* body = signature + signature_length;
  const size_t body_length = size - 2 - signature_length;
  const bool big_endian = (flags & 1) != 0;
  const uint32_t unix_fds = (flags >> 1) & 3;

  Builder message(big_endian);
  message.Byte(big_endian ? 'B' : 'l');
  message.Byte(2);  // METHOD_RETURN: REPLY_SERIAL is its only required field
  message.Byte(0);
  message.Byte(1);
  message.Uint32(static_cast<uint32_t>(body_length));
  message.Uint32(1);  // serial
  message.Uint32(0);  // header field array length, set below
  const size_t fields_start = message.bytes().size();
  message.Byte(5);  // REPLY_SERIAL
  message.Byte(1);
  message.Byte('u');
  message.Byte(0);
  message.Uint32(1);
  message.Pad(8);
  message.Byte(8);  // SIGNATURE
  message.Byte(1);
  message.Byte('g');
  message.Byte(0);
  message.Byte(static_cast<uint8_t>(signature_length));
  message.Append(signature, signature_length);
  message.Byte(0);
  if (unix_fds != 0) {
    message.Pad(8);
    message.Byte(9);  // UNIX_FDS
    message.Byte(1);
    message.Byte('u');
    message.Byte(0);
    message.Uint32(unix_fds);
  }
  message.SetUint32(12, static_cast<uint32_t>(message.bytes().size() - fields_start));
  message.Pad(8);
  message.Append(body, body_length);

  // An allocation of exactly the message's size, so AddressSanitizer sees a read one past it
  // (a vector may hold spare capacity).
  const std::vector<uint8_t>& built = message.bytes();
  std::unique_ptr<uint8_t[]> exact(new uint8_t[built.size()]);
  memcpy(exact.get(), built.data(), built.size());
  jsn::Message parsed;
  if (!jsn::Message::Parse(std::span<const uint8_t>(exact.get(), built.size()), &parsed).ok()) {
    return 0;
  }
  JSN_FUZZ_CHECK(parsed.header().signature ==
                 std::string_view(reinterpret_cast<const char*>(signature), signature_length));
  jsn::fuzz::CheckMessage(parsed);
  return 0;
}
