// Names: validity of the strings the D-Bus specification constrains ("Valid Names", "Basic
// Types" for object paths, and UTF-8 for every string). Pure predicates over text the caller
// owns; nothing is copied or kept.
#pragma once

#include <cstddef>
#include <string_view>

namespace jsn {

// "Valid Names": interface, member, error and bus names are at most 255 bytes.
constexpr size_t kMaxNameLength = 255;

// The offset of the first byte at which `text` stops being well-formed UTF-8 (a stray
// continuation byte, a truncated or overlong sequence, a UTF-16 surrogate, or a code point above
// U+10FFFF), or text.size() when all of it is well-formed. NUL bytes are well-formed UTF-8; the
// reader rejects them separately.
size_t FindInvalidUtf8(std::string_view text);
inline bool IsValidUtf8(std::string_view text) { return FindInvalidUtf8(text) == text.size(); }
// As FindInvalidUtf8, but a NUL byte also stops the scan: one pass for what a D-Bus string
// must be (UTF-8 without NUL). The caller tells the two apart by the byte at the offset.
size_t FindNulOrInvalidUtf8(std::string_view text);

// "Basic Types", OBJECT_PATH: "/" or "/" followed by elements of [A-Za-z0-9_] separated by
// single "/", with no trailing "/".
bool IsValidObjectPath(std::string_view path);
// "Valid Names", interface names: two or more elements of [A-Za-z0-9_] separated by ".", no
// element starting with a digit, at most 255 bytes.
bool IsValidInterfaceName(std::string_view name);
// "Valid Names", member names: one element of [A-Za-z0-9_], not starting with a digit, 1 to
// 255 bytes.
bool IsValidMemberName(std::string_view name);
// "Valid Names", error names: the same rules as interface names.
bool IsValidErrorName(std::string_view name);
// "Valid Names", bus names: either unique (":" then two or more elements of [A-Za-z0-9_-],
// which may start with a digit) or well-known (two or more elements of [A-Za-z0-9_-], none
// starting with a digit); at most 255 bytes.
bool IsValidBusName(std::string_view name);

}  // namespace jsn
