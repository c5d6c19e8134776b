#include "support/wire_render.h"

#include <cstdio>

namespace jsn::wire_test {
namespace {

std::string RenderSequence(Iterator it, const char* open, const char* close) {
  std::string out = open;
  Value v;
  bool first = true;
  while (it.Next(&v)) {
    if (!first) out += ", ";
    first = false;
    out += RenderValue(v);
  }
  return out + close;
}

std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char buffer[8];
      snprintf(buffer, sizeof buffer, "\\x%02x", u);
      out += buffer;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

std::vector<uint8_t> FromHex(std::string_view hex) {
  std::vector<uint8_t> bytes;
  const auto nibble = [](char c) {
    return static_cast<uint8_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  };
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  }
  return bytes;
}

std::string RenderValue(const Value& value) {
  char buffer[64];
  switch (value.type()) {
    case 'y': return std::to_string(value.as_byte());
    case 'b': return value.as_bool() ? "true" : "false";
    case 'n': return std::to_string(value.as_int16());
    case 'q': return std::to_string(value.as_uint16());
    case 'i': return std::to_string(value.as_int32());
    case 'u': return std::to_string(value.as_uint32());
    case 'x': return std::to_string(value.as_int64());
    case 't': return std::to_string(value.as_uint64());
    case 'h': return std::to_string(value.as_unix_fd());
    case 'd':
      snprintf(buffer, sizeof buffer, "%.17g", value.as_double());
      return buffer;
    case 's': case 'o': case 'g': return Quote(value.as_string());
    case 'v': {
      Iterator it = value.children();
      Value inner;
      it.Next(&inner);
      return "<" + std::string(inner.signature()) + " " + RenderValue(inner) + ">";
    }
    case 'a':
      if (value.signature()[1] == '{') return RenderSequence(value.children(), "{", "}");
      return RenderSequence(value.children(), "[", "]");
    case '{': {
      Iterator it = value.children();
      Value key, item;
      it.Next(&key);
      it.Next(&item);
      return RenderValue(key) + ": " + RenderValue(item);
    }
    case '(': return RenderSequence(value.children(), "(", ")");
  }
  return "?";
}

std::string RenderBody(const Message& message) {
  return RenderSequence(message.body(), "(", ")");
}

}  // namespace jsn::wire_test
