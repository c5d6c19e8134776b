#include "jsn/systemd/unit_path.h"

#include <cstring>

namespace jsn {
namespace {

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

// Whether `c` at `position` stands for itself in a label.
bool KeptInLabel(char c, size_t position) {
  return IsAsciiLetter(c) || (position > 0 && IsAsciiDigit(c));
}

// systemd writes lowercase hex (hexchar() in src/basic/hexdecoct.c).
int LowercaseHexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

Status EscapeBusLabel(std::string_view name, std::span<char> buffer, std::string_view* label) {
  static constexpr char kHex[] = "0123456789abcdef";
  if (name.empty()) {
    if (buffer.empty()) {
      return Status::Expected("buffer-too-small", "room for 1 byte, found 0");
    }
    buffer[0] = '_';
    *label = std::string_view(buffer.data(), 1);
    return Status();
  }
  size_t size = 0;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    size_t needed = KeptInLabel(c, i) ? 1 : 3;
    if (buffer.size() - size < needed) {
      return Status::Expected("buffer-too-small",
                              "room for the label of a %zu-byte name, found %zu bytes", name.size(),
                              buffer.size());
    }
    if (needed == 1) {
      buffer[size++] = c;
    } else {
      auto byte = static_cast<unsigned char>(c);
      buffer[size++] = '_';
      buffer[size++] = kHex[byte >> 4];
      buffer[size++] = kHex[byte & 0xf];
    }
  }
  *label = std::string_view(buffer.data(), size);
  return Status();
}

Status UnescapeBusLabel(std::string_view label, std::span<char> buffer, std::string_view* name) {
  if (label.empty()) {
    return Status::ExpectedAt("empty-label", 0,
                              "a bus label (\"_\" for an empty name), found nothing");
  }
  if (label == "_") {
    *name = std::string_view(buffer.data(), 0);
    return Status();
  }
  size_t size = 0;
  for (size_t i = 0; i < label.size(); ++i) {
    char c = label[i];
    if (size == buffer.size()) {
      return Status::ExpectedAt("buffer-too-small", i, "room for the name, found %zu bytes",
                                buffer.size());
    }
    if (c != '_') {
      if (IsAsciiLetter(c) || (IsAsciiDigit(c) && size > 0)) {
        buffer[size++] = c;
        continue;
      }
      if (IsAsciiDigit(c)) {
        return Status::ExpectedAt("unescaped-leading-digit", i,
                                  "a leading digit escaped as _3%c, found '%c'", c, c);
      }
      return Status::ExpectedAt("invalid-label-character", i, "[A-Za-z0-9_], found byte 0x%02x",
                                static_cast<unsigned char>(c));
    }
    if (label.size() - i < 3) {
      return Status::ExpectedAt("truncated-escape", i, "_ and two hex digits, found %zu bytes",
                                label.size() - i);
    }
    int high = LowercaseHexValue(label[i + 1]);
    int low = LowercaseHexValue(label[i + 2]);
    if (high < 0 || low < 0) {
      return Status::ExpectedAt("invalid-escape", i,
                                "two lowercase hex digits after _, found '%c%c'", label[i + 1],
                                label[i + 2]);
    }
    char decoded = static_cast<char>((high << 4) | low);
    if (KeptInLabel(decoded, size)) {
      return Status::ExpectedAt("needless-escape", i, "'%c' as itself, found it escaped as _%c%c",
                                decoded, label[i + 1], label[i + 2]);
    }
    buffer[size++] = decoded;
    i += 2;
  }
  *name = std::string_view(buffer.data(), size);
  return Status();
}

Status UnitObjectPath(std::string_view unit, std::span<char> buffer, std::string_view* path) {
  if (buffer.size() < kUnitPathPrefix.size()) {
    return Status::Expected("buffer-too-small", "room for the unit path prefix, found %zu bytes",
                            buffer.size());
  }
  memcpy(buffer.data(), kUnitPathPrefix.data(), kUnitPathPrefix.size());
  std::string_view label;
  JSN_RETURN_IF_ERROR(EscapeBusLabel(unit, buffer.subspan(kUnitPathPrefix.size()), &label));
  *path = std::string_view(buffer.data(), kUnitPathPrefix.size() + label.size());
  return Status();
}

}  // namespace jsn
