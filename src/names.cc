#include "jsn/names.h"

#include <cstdint>
#include <cstring>

namespace jsn {
namespace {

bool IsAsciiAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNameCharacter(char c) { return IsAsciiAlpha(c) || IsAsciiDigit(c) || c == '_'; }

// Dotted names: interface, error, and (with `allow_hyphen`, `allow_leading_digit`) bus names.
bool IsValidDottedName(std::string_view name, bool allow_hyphen, bool allow_leading_digit) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  size_t elements = 0;
  size_t element_length = 0;
  for (char c : name) {
    if (c == '.') {
      if (element_length == 0) return false;
      ++elements;
      element_length = 0;
      continue;
    }
    const bool allowed = IsNameCharacter(c) || (allow_hyphen && c == '-');
    if (!allowed) return false;
    if (element_length == 0 && IsAsciiDigit(c) && !allow_leading_digit) return false;
    ++element_length;
  }
  if (element_length == 0) return false;
  return elements + 1 >= 2;
}

}  // namespace

size_t FindInvalidUtf8(std::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const size_t size = text.size();
  size_t i = 0;
  while (i < size) {
    // Most D-Bus strings are ASCII: skip eight bytes at a time while none has its high bit.
    while (i + 8 <= size) {
      uint64_t chunk;
      memcpy(&chunk, bytes + i, sizeof chunk);
      if ((chunk & 0x8080808080808080ull) != 0) break;
      i += 8;
    }
    if (i >= size) break;
    const unsigned char lead = bytes[i];
    if (lead < 0x80) {
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

bool IsValidObjectPath(std::string_view path) {
  if (path.empty() || path[0] != '/') return false;
  if (path.size() == 1) return true;
  if (path.back() == '/') return false;
  char previous = '/';
  for (size_t i = 1; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '/') {
      if (previous == '/') return false;
    } else if (!IsNameCharacter(c)) {
      return false;
    }
    previous = c;
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
