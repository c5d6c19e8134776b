// UnitPath: the D-Bus object path systemd gives a unit, and the bus-label escaping behind it
// (systemd's bus_label_escape/bus_label_unescape in src/basic/bus-label.c). Every byte outside
// [A-Za-z0-9], and a digit in first place, becomes "_xx" (two lowercase hex digits); an empty
// label is "_". The caller owns every buffer; nothing allocates.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "jsn/base/status.h"

namespace jsn {

constexpr std::string_view kUnitPathPrefix = "/org/freedesktop/systemd1/unit/";
// systemd's UNIT_NAME_MAX is 256 including the NUL (src/basic/unit-name.h).
constexpr size_t kMaxUnitNameLength = 255;
// Every byte may take three in the label.
constexpr size_t kMaxUnitPathLength = kUnitPathPrefix.size() + 3 * kMaxUnitNameLength;

// Writes the bus label of `name` into `buffer` and sets `label` to it. Fails with
// "buffer-too-small" when it does not fit (3 * name.size() bytes always do, or 1 when empty).
Status EscapeBusLabel(std::string_view name, std::span<char> buffer, std::string_view* label);

// The inverse, strict: accepts exactly the labels EscapeBusLabel produces, so that
// Escape(Unescape(label)) == label whenever it succeeds. Rules: "empty-label" (the empty name
// is "_"), "invalid-label-character" (a byte outside [A-Za-z0-9_]), "truncated-escape",
// "invalid-escape" (not two lowercase hex digits), "needless-escape" (an escaped byte that is a
// letter, or a digit after the first place), "unescaped-leading-digit", "buffer-too-small".
// Offsets are into `label`.
Status UnescapeBusLabel(std::string_view label, std::span<char> buffer, std::string_view* name);

// "/org/freedesktop/systemd1/unit/" + the label of `unit`, into `buffer`.
Status UnitObjectPath(std::string_view unit, std::span<char> buffer, std::string_view* path);

}  // namespace jsn
