#include "jsn/base/sha256.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace jsn {
namespace {

// FIPS 180-4, 4.2.2: the first 32 bits of the fractional parts of the cube roots of the first
// 64 primes.
constexpr uint32_t kRoundConstants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

// FIPS 180-4, 5.3.3: the first 32 bits of the fractional parts of the square roots of the
// first 8 primes.
constexpr uint32_t kInitialState[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

uint32_t RotateRight(uint32_t value, unsigned count) {
  return (value >> count) | (value << (32 - count));
}

}  // namespace

Sha256::Sha256() { memcpy(state_, kInitialState, sizeof state_); }

// FIPS 180-4, 6.2.2. Words are big-endian whatever the machine's byte order.
void Sha256::Compress(const uint8_t block[64]) {
  uint32_t schedule[64];
  for (size_t t = 0; t < 16; ++t) {
    schedule[t] = uint32_t{block[4 * t]} << 24 | uint32_t{block[4 * t + 1]} << 16 |
                  uint32_t{block[4 * t + 2]} << 8 | uint32_t{block[4 * t + 3]};
  }
  for (size_t t = 16; t < 64; ++t) {
    uint32_t w15 = schedule[t - 15];
    uint32_t w2 = schedule[t - 2];
    uint32_t sigma0 = RotateRight(w15, 7) ^ RotateRight(w15, 18) ^ (w15 >> 3);
    uint32_t sigma1 = RotateRight(w2, 17) ^ RotateRight(w2, 19) ^ (w2 >> 10);
    schedule[t] = schedule[t - 16] + sigma0 + schedule[t - 7] + sigma1;
  }
  uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3];
  uint32_t e = state_[4], f = state_[5], g = state_[6], h = state_[7];
  for (size_t t = 0; t < 64; ++t) {
    uint32_t sum1 = RotateRight(e, 6) ^ RotateRight(e, 11) ^ RotateRight(e, 25);
    uint32_t choose = (e & f) ^ (~e & g);
    uint32_t temporary1 = h + sum1 + choose + kRoundConstants[t] + schedule[t];
    uint32_t sum0 = RotateRight(a, 2) ^ RotateRight(a, 13) ^ RotateRight(a, 22);
    uint32_t majority = (a & b) ^ (a & c) ^ (b & c);
    uint32_t temporary2 = sum0 + majority;
    h = g;
    g = f;
    f = e;
    e = d + temporary1;
    d = c;
    c = b;
    b = a;
    a = temporary1 + temporary2;
  }
  state_[0] += a;
  state_[1] += b;
  state_[2] += c;
  state_[3] += d;
  state_[4] += e;
  state_[5] += f;
  state_[6] += g;
  state_[7] += h;
}

void Sha256::Update(std::span<const uint8_t> bytes) {
  total_length_ += bytes.size();
  while (!bytes.empty()) {
    size_t take = sizeof block_ - block_length_;
    if (take > bytes.size()) take = bytes.size();
    memcpy(block_ + block_length_, bytes.data(), take);
    block_length_ += take;
    bytes = bytes.subspan(take);
    if (block_length_ == sizeof block_) {
      Compress(block_);
      block_length_ = 0;
    }
  }
}

// FIPS 180-4, 5.1.1: a 1 bit, zeros up to 56 bytes mod 64, then the length in bits, big-endian.
void Sha256::Finish(uint8_t digest[kDigestLength]) {
  uint64_t bit_length = total_length_ * 8;
  block_[block_length_++] = 0x80;
  if (block_length_ > 56) {
    memset(block_ + block_length_, 0, sizeof block_ - block_length_);
    Compress(block_);
    block_length_ = 0;
  }
  memset(block_ + block_length_, 0, 56 - block_length_);
  for (size_t i = 0; i < 8; ++i) block_[56 + i] = static_cast<uint8_t>(bit_length >> (56 - 8 * i));
  Compress(block_);
  for (size_t i = 0; i < 8; ++i) {
    digest[4 * i] = static_cast<uint8_t>(state_[i] >> 24);
    digest[4 * i + 1] = static_cast<uint8_t>(state_[i] >> 16);
    digest[4 * i + 2] = static_cast<uint8_t>(state_[i] >> 8);
    digest[4 * i + 3] = static_cast<uint8_t>(state_[i]);
  }
}

void Sha256::FinishHex(char hex[kHexLength + 1]) {
  static constexpr char kDigits[] = "0123456789abcdef";
  uint8_t digest[kDigestLength];
  Finish(digest);
  for (size_t i = 0; i < kDigestLength; ++i) {
    hex[2 * i] = kDigits[digest[i] >> 4];
    hex[2 * i + 1] = kDigits[digest[i] & 0x0f];
  }
  hex[kHexLength] = '\0';
}

Status Sha256OfFile(const char* path, char hex[Sha256::kHexLength + 1]) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    return Status::Expected("open-failed", "to read %.150s, found %s", path, strerror(errno));
  }
  Sha256 hash;
  static uint8_t buffer[64 * 1024];  // one thread; off the stack
  while (true) {
    ssize_t got = read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      int saved = errno;
      close(fd);
      return Status::Expected("read-failed", "to read %.150s, found %s", path, strerror(saved));
    }
    if (got == 0) break;
    hash.Update({buffer, static_cast<size_t>(got)});
  }
  close(fd);
  hash.FinishHex(hex);
  return Status();
}

}  // namespace jsn
