// Fuzz target: the bus-label escaping of unit names (systemd's bus_label_escape/unescape).
// Any bytes as a name must escape to a label of [A-Za-z0-9_] that unescapes to the same
// bytes, and make a valid object path; any bytes as a label that UnescapeBusLabel accepts must
// escape back to exactly that label (it accepts only what EscapeBusLabel writes).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/check_values.h"
#include "jsn/systemd/unit_path.h"
#include "jsn/wire/names.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // Room for the worst case of 3 bytes per input byte, plus the prefix.
  static char label_buffer[3 * 4096 + 64];
  static char name_buffer[3 * 4096 + 64];
  static char path_buffer[3 * 4096 + 64];
  if (size > 4096) return 0;

  // Name -> label -> name.
  std::string_view label;
  JSN_FUZZ_CHECK(jsn::EscapeBusLabel(input, label_buffer, &label).ok());
  JSN_FUZZ_CHECK(!label.empty());
  JSN_FUZZ_CHECK(label.size() <= (size == 0 ? 1 : 3 * size));
  for (char c : label) {
    JSN_FUZZ_CHECK((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '_');
  }
  std::string_view name;
  JSN_FUZZ_CHECK(jsn::UnescapeBusLabel(label, name_buffer, &name).ok());
  JSN_FUZZ_CHECK(name == input);
  // A buffer one byte short is refused, not overrun.
  if (label.size() > 1) {
    std::string_view ignored;
    JSN_FUZZ_CHECK(!jsn::EscapeBusLabel(input, {label_buffer, label.size() - 1}, &ignored).ok());
  }
  std::string_view path;
  if (jsn::UnitObjectPath(input, path_buffer, &path).ok()) {
    JSN_FUZZ_CHECK(jsn::IsValidObjectPath(path));
    JSN_FUZZ_CHECK(path.substr(0, jsn::kUnitPathPrefix.size()) == jsn::kUnitPathPrefix);
    JSN_FUZZ_CHECK(path.substr(jsn::kUnitPathPrefix.size()) == label);
  }

  // Label -> name -> label.
  std::string_view unescaped;
  if (jsn::UnescapeBusLabel(input, name_buffer, &unescaped).ok()) {
    std::string_view again;
    JSN_FUZZ_CHECK(jsn::EscapeBusLabel(unescaped, label_buffer, &again).ok());
    JSN_FUZZ_CHECK(again == input);
  }
  return 0;
}
