// Auth: the client side of D-Bus authentication ("Authentication Protocol" in the D-Bus
// Specification) with the EXTERNAL mechanism only, which is what the system bus accepts from a
// local process: the kernel vouches for our uid on the unix socket.
//
//   client: \0AUTH EXTERNAL <hex of the ASCII decimal euid>\r\n
//   server: OK <guid>\r\n                 client: BEGIN\r\n   (then the message stream)
//   server: DATA [hex]\r\n                client: DATA\r\n    (empty: "use my credentials")
//   server: REJECTED <mechanisms>\r\n     -> error "auth-rejected"
//   server: ERROR [text]\r\n              -> error "auth-error"
//
// ParseAuthReply is a pure function over one line (fuzzable); Authenticate does the I/O.
// Replies are views into the line the caller passes; nothing is allocated.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string_view>

#include "jsn/status.h"

namespace jsn {

// Our limit on one line from the server (libdbus allows longer, but every reply to EXTERNAL
// is short: OK carries a 32-digit guid, REJECTED a few mechanism names).
constexpr size_t kMaxAuthLineLength = 512;
// "Authentication Protocol": the server guid is 16 bytes in hex.
constexpr size_t kServerGuidLength = 32;

enum class AuthCommand { kOk, kRejected, kError, kData, kAgreeUnixFd };

struct AuthReply {
  AuthCommand command = AuthCommand::kError;
  std::string_view argument;  // after the command and one space; may be empty
};

// Parses one server line without its "\r\n". Checks the command is one a server may send,
// the line is printable ASCII, OK carries a 32-hex-digit guid and DATA only hex.
Status ParseAuthReply(std::string_view line, AuthReply* reply);

// Writes the opening bytes ("\0AUTH EXTERNAL 31303030\r\n" for uid 1000) into `out` and
// returns their length; 0 when `capacity` is too small (64 bytes always suffice).
size_t FormatAuthStart(uid_t uid, char* out, size_t capacity);

struct AuthResult {
  char guid[kServerGuidLength + 1] = {};  // the server's guid, NUL-terminated
};

// Authenticates on a connected, non-blocking socket, blocking with poll() until `deadline_ms`
// (MonotonicMilliseconds()). On success BEGIN has been sent and the next byte on the socket
// belongs to the message stream. Failures: "auth-rejected", "auth-error", "auth-timeout",
// "connection-closed", "auth-line-too-long", or a parse error of the server's line.
Status Authenticate(int fd, uid_t uid, int64_t deadline_ms, AuthResult* result);

}  // namespace jsn
