// Address: parses a D-Bus server address string ("Server Addresses" in the D-Bus
// Specification) into the unix-socket addresses a client can connect to, in the order given.
// Parsing copies the unescaped socket names into the fixed-capacity AddressList the caller
// owns; nothing is allocated and the input string need not outlive the result.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "jsn/base/status.h"

namespace jsn {

// "Well-known Message Bus Instances": the system bus when DBUS_SYSTEM_BUS_ADDRESS is unset,
// where libdbus and sd-bus look too.
constexpr char kDefaultSystemBusAddress[] = "unix:path=/run/dbus/system_bus_socket";

// sockaddr_un::sun_path is 108 bytes on Linux. A filesystem path needs its terminating NUL,
// an abstract name starts with a NUL byte: either way 107 bytes of name fit.
constexpr size_t kMaxSocketNameLength = sizeof(sockaddr_un::sun_path) - 1;

// At most this many usable addresses are kept from one address string (more are an error:
// real addresses hold one or two).
constexpr size_t kMaxAddresses = 8;

struct UnixAddress {
  bool abstract = false;  // unix:abstract= (Linux abstract namespace) rather than unix:path=
  size_t length = 0;      // bytes of name
  char name[kMaxSocketNameLength] = {};  // unescaped; no terminator, no leading NUL

  std::string_view name_view() const { return {name, length}; }
  // Fills `socket_address` and returns the length to pass to connect().
  socklen_t ToSockaddr(sockaddr_un* socket_address) const;
};

struct AddressList {
  UnixAddress entries[kMaxAddresses];
  size_t count = 0;
};

// Parses `text`: `;`-separated addresses, each `transport:key=value,key=value`, values
// `%xx`-escaped where a byte is outside [-0-9A-Za-z_/.\*]. A syntax error anywhere fails the
// whole string (rule and byte offset say where). Addresses this client cannot use (another
// transport such as tcp:, or a listen-only unix: key such as tmpdir=) are skipped; when none is
// usable the error ("no-usable-address") says why the first one was skipped.
Status ParseAddressList(std::string_view text, AddressList* list);

// The system bus's address, for the daemon's and the subcommands' command lines:
// `environment_value` (the value of DBUS_SYSTEM_BUS_ADDRESS, null when unset) when it is set
// and not empty, else kDefaultSystemBusAddress; `*is_default`, when not null, says which. The
// result points at `environment_value` or at the constant.
const char* SystemBusAddress(const char* environment_value, bool* is_default = nullptr);

}  // namespace jsn
