// Sha256: the SHA-256 digest (FIPS 180-4, section 6.2) of a byte stream, fed in pieces of any
// size. `subscribe` records the digest of the binary it writes into the notices unit, so that a
// refreshed binary at the same path restarts the daemon (`sha256sum` prints the same digest).
// Nothing is allocated; the state lives in the object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "jsn/base/status.h"

namespace jsn {

class Sha256 {
 public:
  static constexpr size_t kDigestLength = 32;
  static constexpr size_t kHexLength = 2 * kDigestLength;

  Sha256();
  void Update(std::span<const uint8_t> bytes);
  // Pads, and writes the digest; the object must not be updated afterwards.
  void Finish(uint8_t digest[kDigestLength]);
  // The digest as 64 lowercase hex digits and a NUL, as sha256sum prints it.
  void FinishHex(char hex[kHexLength + 1]);

 private:
  void Compress(const uint8_t block[64]);

  uint32_t state_[8];
  uint8_t block_[64] = {};
  size_t block_length_ = 0;
  uint64_t total_length_ = 0;
};

// The SHA-256 of the whole file at `path`, in hex. Rules: "open-failed", "read-failed".
Status Sha256OfFile(const char* path, char hex[Sha256::kHexLength + 1]);

}  // namespace jsn
