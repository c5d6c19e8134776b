// The canonical rendering (fixtures/README.md). The Python twin is render_* in
// tools/record-fixtures; both must produce identical text for every fixture.
#include "support/render.h"

#include <cinttypes>
#include <cstdio>
#include <string_view>

namespace jsn {
namespace {

void AppendDecimal(std::string* out, const char* format, auto number) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, format, number);
  out->append(buffer);
}

// `"`, `\`, bytes below 0x20 and 0x7f escaped; every other byte (UTF-8 included) as is.
void AppendQuoted(std::string* out, std::string_view text) {
  out->push_back('"');
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (byte < 0x20 || byte == 0x7f) {
      AppendDecimal(out, "\\x%02x", static_cast<unsigned>(byte));
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

void AppendValue(std::string* out, const Value& value);

// The values of `children`, each rendered, separated by ", ".
void AppendSequence(std::string* out, Iterator children) {
  Value child;
  bool first = true;
  while (children.Next(&child)) {
    if (!first) out->append(", ");
    first = false;
    AppendValue(out, child);
  }
}

void AppendDictEntries(std::string* out, Iterator entries) {
  Value entry;
  bool first = true;
  while (entries.Next(&entry)) {
    if (!first) out->append(", ");
    first = false;
    Iterator key_and_value = entry.children();
    Value key;
    Value item;
    key_and_value.Next(&key);
    key_and_value.Next(&item);
    AppendValue(out, key);
    out->append(": ");
    AppendValue(out, item);
  }
}

void AppendValue(std::string* out, const Value& value) {
  switch (value.type()) {
    case 'y':
      AppendDecimal(out, "%u", static_cast<unsigned>(value.as_byte()));
      return;
    case 'b':
      out->append(value.as_bool() ? "true" : "false");
      return;
    case 'n':
      AppendDecimal(out, "%d", static_cast<int>(value.as_int16()));
      return;
    case 'q':
      AppendDecimal(out, "%u", static_cast<unsigned>(value.as_uint16()));
      return;
    case 'i':
      AppendDecimal(out, "%" PRId32, value.as_int32());
      return;
    case 'u':
      AppendDecimal(out, "%" PRIu32, value.as_uint32());
      return;
    case 'x':
      AppendDecimal(out, "%" PRId64, value.as_int64());
      return;
    case 't':
      AppendDecimal(out, "%" PRIu64, value.as_uint64());
      return;
    case 'h':
      AppendDecimal(out, "%" PRIu32, value.as_unix_fd());
      return;
    case 'd':
      AppendDecimal(out, "%.17g", value.as_double());
      return;
    case 's':
    case 'o':
    case 'g':
      AppendQuoted(out, value.as_string());
      return;
    case 'v': {
      Iterator inside = value.children();
      Value content;
      inside.Next(&content);
      out->push_back('<');
      out->append(content.signature());
      out->push_back(' ');
      AppendValue(out, content);
      out->push_back('>');
      return;
    }
    case 'a':
      if (value.signature().size() > 1 && value.signature()[1] == '{') {
        out->push_back('{');
        AppendDictEntries(out, value.children());
        out->push_back('}');
      } else {
        out->push_back('[');
        AppendSequence(out, value.children());
        out->push_back(']');
      }
      return;
    case '(':
      out->push_back('(');
      AppendSequence(out, value.children());
      out->push_back(')');
      return;
    default:
      // A type the reader should never hand out; make the mismatch visible in the diff.
      out->append("<unrenderable type '");
      out->append(value.signature());
      out->append("'>");
      return;
  }
}

void AppendLine(std::string* out, const char* key, std::string_view text) {
  out->append(key);
  out->append(": ");
  out->append(text);
  out->push_back('\n');
}

void AppendNumberLine(std::string* out, const char* key, uint32_t number) {
  out->append(key);
  out->append(": ");
  AppendDecimal(out, "%" PRIu32, number);
  out->push_back('\n');
}

}  // namespace

std::string RenderValue(const Value& value) {
  std::string out;
  AppendValue(&out, value);
  return out;
}

std::string RenderBody(const Message& message) {
  std::string out = "(";
  AppendSequence(&out, message.body());
  out.push_back(')');
  return out;
}

std::string RenderExpect(const Message& message) {
  const Header& header = message.header();
  std::string out;
  AppendLine(&out, "type", MessageTypeName(header.type));
  AppendLine(&out, "byte-order", header.byte_order == ByteOrder::kBig ? "B" : "l");
  AppendNumberLine(&out, "flags", header.flags);
  AppendNumberLine(&out, "serial", header.serial);
  // Names and paths are never empty when present, so an empty view means "absent".
  if (!header.path.empty()) AppendLine(&out, "path", header.path);
  if (!header.interface.empty()) AppendLine(&out, "interface", header.interface);
  if (!header.member.empty()) AppendLine(&out, "member", header.member);
  if (!header.error_name.empty()) AppendLine(&out, "error-name", header.error_name);
  if (!header.destination.empty()) AppendLine(&out, "destination", header.destination);
  if (!header.sender.empty()) AppendLine(&out, "sender", header.sender);
  if (header.has_signature) AppendLine(&out, "signature", header.signature);
  if (header.reply_serial != 0) AppendNumberLine(&out, "reply-serial", header.reply_serial);
  if (header.has_unix_fds) AppendNumberLine(&out, "unix-fds", header.unix_fds);
  AppendLine(&out, "body", RenderBody(message));
  return out;
}

}  // namespace jsn
