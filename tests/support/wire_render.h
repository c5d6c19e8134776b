// Test support for the wire tests: hex decoding and the canonical value rendering of
// COMMON.md ("Fixture files"), so reader results compare as one string. Views only: the
// rendered text is a fresh std::string; the message buffer stays the caller's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "jsn/reader.h"

namespace jsn::wire_test {

std::vector<uint8_t> FromHex(std::string_view hex);
std::string RenderValue(const Value& value);
// All top-level values as a tuple: `()`, `(v1)`, `(v1, v2)`.
std::string RenderBody(const Message& message);

}  // namespace jsn::wire_test
