#include "jsn/bus/address.h"

#include <cstring>

namespace jsn {
namespace {

// "Server Addresses": bytes that may appear unescaped in a value, [-0-9A-Za-z_/.\*]; every
// other byte must be written as %xx. The backslash is in the set as libdbus reads it
// (_DBUS_ADDRESS_OPTIONALLY_ESCAPED_BYTE), so we accept what libdbus writes.
bool IsOptionallyEscaped(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' ||
         c == '_' || c == '/' || c == '.' || c == '\\' || c == '*';
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Unescapes `value` (which starts at byte `offset` of the whole address string) into `out`
// when `out` is not null; with a null `out` it only checks the escaping. `capacity` bytes fit.
Status UnescapeValue(std::string_view value, size_t offset, char* out, size_t capacity,
                     size_t* length, std::string_view key) {
  size_t written = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    char byte = value[i];
    if (byte == '%') {
      int high = i + 1 < value.size() ? HexDigit(value[i + 1]) : -1;
      int low = i + 2 < value.size() ? HexDigit(value[i + 2]) : -1;
      if (high < 0 || low < 0) {
        return Status::ExpectedAt("address-bad-escape", offset + i,
                                  "two hex digits after '%%' in the value of %.*s=, "
                                  "found \"%.*s\"",
                                  static_cast<int>(key.size()), key.data(),
                                  static_cast<int>(value.size() - i < 3 ? value.size() - i : 3),
                                  value.data() + i);
      }
      byte = static_cast<char>(high * 16 + low);
      i += 2;
    } else if (!IsOptionallyEscaped(byte)) {
      return Status::ExpectedAt("address-unescaped-byte", offset + i,
                                "bytes outside [-0-9A-Za-z_/.\\*] to be %%-escaped in the "
                                "value of %.*s=, found byte 0x%02x",
                                static_cast<int>(key.size()), key.data(),
                                static_cast<unsigned char>(byte));
    }
    if (out != nullptr) {
      if (written == capacity) {
        return Status::ExpectedAt("socket-path-too-long", offset,
                                  "a %.*s= of at most %zu bytes (sockaddr_un), found one "
                                  "longer than that",
                                  static_cast<int>(key.size()), key.data(), capacity);
      }
      out[written] = byte;
    }
    ++written;
  }
  *length = written;
  return Status();
}

struct ParsedAddress {
  bool usable = false;
  Status skip_reason;  // why an address that parsed cannot be used by this client
  UnixAddress unix_address;
};

// Parses one address (no ';'), which starts at `offset` in the whole string.
Status ParseOneAddress(std::string_view text, size_t offset, ParsedAddress* parsed) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Status::ExpectedAt("address-missing-transport", offset,
                              "\"transport:key=value,...\", found \"%.*s\"",
                              static_cast<int>(text.size()), text.data());
  }
  std::string_view transport = text.substr(0, colon);
  bool is_unix = transport == "unix";
  bool have_path = false;
  bool have_abstract = false;
  std::string_view listen_only_key;
  // Keys seen so far, to refuse duplicates; an address has a handful at most.
  constexpr size_t kMaxKeys = 16;
  std::string_view keys[kMaxKeys];
  size_t key_count = 0;

  size_t pos = colon + 1;
  while (pos < text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view pair = text.substr(pos, end - pos);
    size_t equals = pair.find('=');
    if (equals == std::string_view::npos || equals == 0) {
      return Status::ExpectedAt("address-bad-key-value", offset + pos,
                                "\"key=value\", found \"%.*s\"", static_cast<int>(pair.size()),
                                pair.data());
    }
    std::string_view key = pair.substr(0, equals);
    std::string_view value = pair.substr(equals + 1);
    for (size_t i = 0; i < key_count; ++i) {
      if (keys[i] == key) {
        return Status::ExpectedAt("address-duplicate-key", offset + pos,
                                  "each key once, found %.*s= twice", static_cast<int>(key.size()),
                                  key.data());
      }
    }
    if (key_count == kMaxKeys) {
      return Status::ExpectedAt("address-too-many-keys", offset + pos,
                                "at most %zu keys in one address, found more", kMaxKeys);
    }
    keys[key_count++] = key;
    size_t value_offset = offset + pos + equals + 1;
    UnixAddress& target = parsed->unix_address;
    size_t length = 0;
    if (is_unix && (key == "path" || key == "abstract")) {
      JSN_RETURN_IF_ERROR(
          UnescapeValue(value, value_offset, target.name, sizeof target.name, &length, key));
      if (length == 0) {
        return Status::ExpectedAt("address-empty-value", value_offset,
                                  "a socket name after %.*s=, found nothing",
                                  static_cast<int>(key.size()), key.data());
      }
      if (key == "path") {
        if (memchr(target.name, '\0', length) != nullptr) {
          return Status::ExpectedAt("address-bad-escape", value_offset,
                                    "a path= without NUL bytes, found %%00");
        }
        have_path = true;
      } else {
        have_abstract = true;
        target.abstract = true;
      }
      target.length = length;
    } else {
      JSN_RETURN_IF_ERROR(UnescapeValue(value, value_offset, nullptr, 0, &length, key));
      if (is_unix && (key == "tmpdir" || key == "dir" || key == "runtime")) listen_only_key = key;
    }
    pos = end + 1;
  }

  if (!is_unix) {
    parsed->skip_reason = Status::ExpectedAt("unsupported-transport", offset,
                                             "a unix: address, found transport \"%.*s\"",
                                             static_cast<int>(transport.size()), transport.data());
    return Status();
  }
  if (have_path && have_abstract) {
    return Status::ExpectedAt("address-conflicting-keys", offset,
                              "one of path= or abstract= in a unix: address, found both");
  }
  if (!have_path && !have_abstract) {
    if (!listen_only_key.empty()) {
      parsed->skip_reason =
          Status::ExpectedAt("listen-only-address", offset,
                             "unix:path= or unix:abstract= to connect to, found listen-only %.*s=",
                             static_cast<int>(listen_only_key.size()), listen_only_key.data());
      return Status();
    }
    return Status::ExpectedAt("address-missing-key", offset,
                              "path= or abstract= in a unix: address, found \"%.*s\"",
                              static_cast<int>(text.size()), text.data());
  }
  parsed->usable = true;
  return Status();
}

}  // namespace

socklen_t UnixAddress::ToSockaddr(sockaddr_un* socket_address) const {
  memset(socket_address, 0, sizeof *socket_address);
  socket_address->sun_family = AF_UNIX;
  size_t start = abstract ? 1 : 0;  // an abstract name starts with a NUL byte
  memcpy(socket_address->sun_path + start, name, length);
  size_t used = start + length + (abstract ? 0 : 1);  // a path keeps its terminating NUL
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + used);
}

Status ParseAddressList(std::string_view text, AddressList* list) {
  list->count = 0;
  Status first_skip;
  size_t pos = 0;
  while (true) {
    size_t end = text.find(';', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view one = text.substr(pos, end - pos);
    if (!one.empty()) {  // tolerate a trailing or doubled ';'
      ParsedAddress parsed;
      JSN_RETURN_IF_ERROR(ParseOneAddress(one, pos, &parsed));
      if (parsed.usable) {
        if (list->count == kMaxAddresses) {
          return Status::ExpectedAt("too-many-addresses", pos,
                                    "at most %zu unix addresses, found more", kMaxAddresses);
        }
        list->entries[list->count++] = parsed.unix_address;
      } else if (first_skip.ok()) {
        first_skip = parsed.skip_reason;
      }
    }
    if (end == text.size()) break;
    pos = end + 1;
  }
  if (list->count > 0) return Status();
  if (first_skip.ok()) {
    return Status::ExpectedAt("address-empty", 0, "at least one address, found \"%.*s\"",
                              static_cast<int>(text.size()), text.data());
  }
  return Status::Error("no-usable-address", first_skip.offset(), "no usable address: %s",
                       first_skip.message());
}

const char* SystemBusAddress(const char* environment_value, bool* is_default) {
  bool use_default = environment_value == nullptr || environment_value[0] == '\0';
  if (is_default != nullptr) *is_default = use_default;
  return use_default ? kDefaultSystemBusAddress : environment_value;
}

}  // namespace jsn
