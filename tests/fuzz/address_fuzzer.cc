// Fuzz target: the bus address parser (ParseAddressList) over any text. What it accepts must
// fit a sockaddr_un, and must survive a round trip: every address, written back with every
// byte %xx-escaped, parses to the same socket name.
#include <sys/un.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz/check_values.h"
#include "jsn/bus/address.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  jsn::AddressList list;
  if (!jsn::ParseAddressList(text, &list).ok()) return 0;
  JSN_FUZZ_CHECK(list.count >= 1 && list.count <= jsn::kMaxAddresses);
  std::string escaped;
  for (size_t i = 0; i < list.count; ++i) {
    const jsn::UnixAddress& address = list.entries[i];
    JSN_FUZZ_CHECK(address.length >= 1 && address.length <= jsn::kMaxSocketNameLength);
    sockaddr_un socket_address;
    const socklen_t length = address.ToSockaddr(&socket_address);
    JSN_FUZZ_CHECK(length <= sizeof socket_address);
    JSN_FUZZ_CHECK(socket_address.sun_family == AF_UNIX);
    if (!address.abstract) {
      // connect() reads a path up to its first NUL: a NUL inside would name another file.
      JSN_FUZZ_CHECK(memchr(address.name, 0, address.length) == nullptr);
    }
    escaped += address.abstract ? "unix:abstract=" : "unix:path=";
    for (size_t j = 0; j < address.length; ++j) {
      char byte[4];
      snprintf(byte, sizeof byte, "%%%02x", static_cast<unsigned char>(address.name[j]));
      escaped += byte;
    }
    escaped += ';';
  }
  jsn::AddressList again;
  JSN_FUZZ_CHECK(jsn::ParseAddressList(escaped, &again).ok());
  JSN_FUZZ_CHECK(again.count == list.count);
  for (size_t i = 0; i < list.count; ++i) {
    JSN_FUZZ_CHECK(again.entries[i].abstract == list.entries[i].abstract);
    JSN_FUZZ_CHECK(again.entries[i].name_view() == list.entries[i].name_view());
  }
  return 0;
}
