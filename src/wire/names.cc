#include "jsn/wire/names.h"

#include <cstdint>
#include <cstring>

namespace jsn {
namespace {

// Character classes of "Valid Names", as a table so validating a name is one load and one test
// a byte: the reader validates a path, an interface, a member and a sender in every signal.
enum : uint8_t {
  kNameCharacter = 1,  // [A-Za-z0-9_]
  kDigit = 2,          // [0-9]
  kHyphen = 4,         // '-', allowed in bus names only
};

constexpr auto kCharacterClasses = [] {
  struct Table {
    uint8_t classes[256] = {};
  } table;
  for (int c = 'A'; c <= 'Z'; ++c) table.classes[c] = kNameCharacter;
  for (int c = 'a'; c <= 'z'; ++c) table.classes[c] = kNameCharacter;
  for (int c = '0'; c <= '9'; ++c) table.classes[c] = kNameCharacter | kDigit;
  table.classes[static_cast<unsigned char>('_')] = kNameCharacter;
  table.classes[static_cast<unsigned char>('-')] = kHyphen;
  return table;
}();

uint8_t ClassOf(char c) { return kCharacterClasses.classes[static_cast<unsigned char>(c)]; }
bool IsAsciiDigit(char c) { return (ClassOf(c) & kDigit) != 0; }
bool IsNameCharacter(char c) { return (ClassOf(c) & kNameCharacter) != 0; }

// Dotted names: interface, error, and (with `allow_hyphen`, `allow_leading_digit`) bus names.
bool IsValidDottedName(std::string_view name, bool allow_hyphen, bool allow_leading_digit) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  const uint8_t allowed = static_cast<uint8_t>(kNameCharacter | (allow_hyphen ? kHyphen : 0));
  size_t elements = 1;
  bool element_start = true;
  for (char c : name) {
    if (c == '.') {
      if (element_start) return false;
      ++elements;
      element_start = true;
      continue;
    }
    const uint8_t classes = ClassOf(c);
    if ((classes & allowed) == 0) return false;
    if (element_start && (classes & kDigit) != 0 && !allow_leading_digit) return false;
    element_start = false;
  }
  return !element_start && elements >= 2;
}

}  // namespace

namespace {

// The offset of the first byte where `text` stops being well-formed UTF-8 (or, with
// kStopAtNul, holds a NUL), or text.size().
template <bool kStopAtNul>
size_t ScanUtf8(std::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const size_t size = text.size();
  size_t i = 0;
  while (i < size) {
    // Most D-Bus strings are ASCII: skip eight bytes at a time while none has its high bit
    // set (and, when NULs matter, none is zero: x - 0x01.. borrows into bit 7 of a zero byte).
    while (i + 8 <= size) {
      uint64_t chunk;
      memcpy(&chunk, bytes + i, sizeof chunk);
      uint64_t suspect = chunk;
      if (kStopAtNul) suspect |= chunk - 0x0101010101010101ull;
      if ((suspect & 0x8080808080808080ull) != 0) break;
      i += 8;
    }
    // The last few bytes: one more chunk, ending at the end and overlapping what was checked.
    if (i + 8 > size && size >= 8 && i < size) {
      uint64_t chunk;
      memcpy(&chunk, bytes + size - 8, sizeof chunk);
      uint64_t suspect = chunk;
      if (kStopAtNul) suspect |= chunk - 0x0101010101010101ull;
      if ((suspect & 0x8080808080808080ull) == 0) return size;
    }
    if (i >= size) break;
    const unsigned char lead = bytes[i];
    if (lead < 0x80) {
      if (kStopAtNul && lead == 0) return i;
      ++i;
      continue;
    }
    size_t length;
    uint32_t minimum;
    uint32_t code_point;
    if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2;
      minimum = 0x80;
      code_point = lead & 0x1fu;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      minimum = 0x800;
      code_point = lead & 0x0fu;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      minimum = 0x10000;
      code_point = lead & 0x07u;
    } else {
      return i;  // a continuation byte, an overlong 2-byte lead (c0, c1), or f5..ff
    }
    for (size_t k = 1; k < length; ++k) {
      if (i + k >= size) return i;
      const unsigned char next = bytes[i + k];
      if ((next & 0xc0) != 0x80) return i;
      code_point = (code_point << 6) | (next & 0x3fu);
    }
    if (code_point < minimum || code_point > 0x10ffff ||
        (code_point >= 0xd800 && code_point <= 0xdfff)) {
      return i;
    }
    i += length;
  }
  return size;
}

}  // namespace

size_t FindInvalidUtf8(std::string_view text) { return ScanUtf8<false>(text); }

size_t FindNulOrInvalidUtf8(std::string_view text) { return ScanUtf8<true>(text); }

bool IsValidObjectPath(std::string_view path) {
  if (path.empty() || path[0] != '/') return false;
  if (path.size() == 1) return true;
  if (path.back() == '/') return false;
  bool after_slash = true;
  for (size_t i = 1; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '/') {
      if (after_slash) return false;
      after_slash = true;
    } else if (!IsNameCharacter(c)) {
      return false;
    } else {
      after_slash = false;
    }
  }
  return true;
}

bool IsValidInterfaceName(std::string_view name) {
  return IsValidDottedName(name, /*allow_hyphen=*/false, /*allow_leading_digit=*/false);
}

bool IsValidErrorName(std::string_view name) { return IsValidInterfaceName(name); }

bool IsValidMemberName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  if (IsAsciiDigit(name[0])) return false;
  for (char c : name) {
    if (!IsNameCharacter(c)) return false;
  }
  return true;
}

bool IsValidBusName(std::string_view name) {
  if (name.size() > kMaxNameLength) return false;
  if (!name.empty() && name[0] == ':') {
    return IsValidDottedName(name.substr(1), /*allow_hyphen=*/true,
                             /*allow_leading_digit=*/true);
  }
  return IsValidDottedName(name, /*allow_hyphen=*/true, /*allow_leading_digit=*/false);
}

}  // namespace jsn
