#include "jsn/base/decimal.h"

namespace jsn {

bool ParseDecimal(std::string_view text, uint64_t* value) {
  if (text.empty()) return false;
  uint64_t result = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    auto digit = static_cast<uint64_t>(c - '0');
    if (result > (UINT64_MAX - digit) / 10) return false;  // result * 10 + digit would wrap
    result = result * 10 + digit;
  }
  *value = result;
  return true;
}

}  // namespace jsn
