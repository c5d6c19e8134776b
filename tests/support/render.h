// Render: the canonical text of a parsed message, as fixtures/valid/NAME.expect holds it
// (fixtures/README.md, "The .expect format"). tools/record-fixtures writes the same text from
// GLib's reading of the bytes, so comparing the two checks our reader against GLib's.
// Renders through the reader's public accessors only; the Message and its buffer stay the
// caller's, the returned strings are copies. Test support: allocates freely.
#pragma once

#include <string>

#include "jsn/wire/reader.h"

namespace jsn {

// One value: `<s "active">`, `[1, 2]`, `{"k": <u 1>}`, `(1, "x")` ...
std::string RenderValue(const Value& value);

// The body as a tuple of its top-level values: `()`, `(v1)`, `(v1, v2)`.
std::string RenderBody(const Message& message);

// The whole .expect text: one `key: value` line per header field present, then `body: ...`,
// each line ending in '\n'.
std::string RenderExpect(const Message& message);

}  // namespace jsn
