// Hex: decodes the hex strings that wire tests keep recorded messages in (see
// glib_messages.h). The rendering of values to canonical text lives in render.h, one renderer
// shared by the fixture, reader, writer and fuzz tests. Test support: allocates freely.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "support/render.h"

namespace jsn::wire_test {

std::vector<uint8_t> FromHex(std::string_view hex);

// The wire tests name the shared renderer through this namespace.
using ::jsn::RenderBody;
using ::jsn::RenderValue;

}  // namespace jsn::wire_test
