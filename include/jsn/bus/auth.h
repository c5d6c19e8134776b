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
// ParseAuthReply and AuthStep are pure functions over one line (fuzzable); the Connection does
// the I/O, as steps of its owner's loop.
// Replies are views into the line the caller passes; nothing is allocated.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string_view>

#include "jsn/base/status.h"

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

// The client's answer to one server line (without its "\r\n"): "BEGIN\r\n" once the server
// said OK (then *done, and result->guid is set), "DATA\r\n" when it asked for DATA (a few times
// at most, counted in *data_rounds). Failures: "auth-rejected", "auth-error",
// "auth-unexpected-reply", or a parse error of the line.
Status AuthStep(std::string_view line, uid_t uid, int* data_rounds, AuthResult* result,
                std::string_view* answer, bool* done);

}  // namespace jsn
