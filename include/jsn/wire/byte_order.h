// Byte order: loads and stores of D-Bus fixed-size integers in either wire byte order, and
// alignment arithmetic. Pure functions over memory the caller owns; no bounds are checked here
// (the reader and writer check them before calling).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "jsn/wire/message.h"

namespace jsn {

constexpr size_t AlignUp(size_t offset, size_t alignment) {
  return (offset + alignment - 1) & ~(alignment - 1);
}

constexpr bool IsHostOrder(ByteOrder order) {
  return (order == ByteOrder::kLittle) == (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__);
}

inline uint16_t LoadUint16(const uint8_t* p, ByteOrder order) {
  uint16_t v;
  memcpy(&v, p, sizeof v);
  return IsHostOrder(order) ? v : __builtin_bswap16(v);
}

inline uint32_t LoadUint32(const uint8_t* p, ByteOrder order) {
  uint32_t v;
  memcpy(&v, p, sizeof v);
  return IsHostOrder(order) ? v : __builtin_bswap32(v);
}

inline uint64_t LoadUint64(const uint8_t* p, ByteOrder order) {
  uint64_t v;
  memcpy(&v, p, sizeof v);
  return IsHostOrder(order) ? v : __builtin_bswap64(v);
}

inline void StoreUint16(uint8_t* p, uint16_t v, ByteOrder order) {
  if (!IsHostOrder(order)) v = __builtin_bswap16(v);
  memcpy(p, &v, sizeof v);
}

inline void StoreUint32(uint8_t* p, uint32_t v, ByteOrder order) {
  if (!IsHostOrder(order)) v = __builtin_bswap32(v);
  memcpy(p, &v, sizeof v);
}

inline void StoreUint64(uint8_t* p, uint64_t v, ByteOrder order) {
  if (!IsHostOrder(order)) v = __builtin_bswap64(v);
  memcpy(p, &v, sizeof v);
}

}  // namespace jsn
