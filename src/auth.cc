#include "jsn/auth.h"

#include <cstdio>
#include <cstring>
#include <span>

#include "jsn/blocking_io.h"

namespace jsn {
namespace {

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

std::span<const uint8_t> Bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// The server sends DATA only to ask for EXTERNAL's identity again; more than a few rounds
// means it will never be satisfied.
constexpr int kMaxDataRounds = 4;

}  // namespace

Status ParseAuthReply(std::string_view line, AuthReply* reply) {
  for (size_t i = 0; i < line.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    if (c < 0x20 || c > 0x7e) {
      return Status::Error("auth-bad-line", i,
                           "expected printable ASCII in the server's reply, found byte 0x%02x", c);
    }
  }
  size_t space = line.find(' ');
  std::string_view command = line.substr(0, space);
  std::string_view argument =
      space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  // Where the argument starts, or the end of the line when there is none.
  size_t argument_offset = space == std::string_view::npos ? line.size() : space + 1;
  if (command == "OK") {
    if (argument.size() != kServerGuidLength) {
      return Status::Error("auth-bad-guid", argument_offset,
                           "expected OK with a %zu-hex-digit server guid, found %zu characters",
                           kServerGuidLength, argument.size());
    }
    for (size_t i = 0; i < argument.size(); ++i) {
      if (!IsHexDigit(argument[i])) {
        return Status::Error("auth-bad-guid", argument_offset + i,
                             "expected a hex digit in the server guid, found '%c'", argument[i]);
      }
    }
    reply->command = AuthCommand::kOk;
  } else if (command == "REJECTED") {
    reply->command = AuthCommand::kRejected;
  } else if (command == "ERROR") {
    reply->command = AuthCommand::kError;
  } else if (command == "DATA") {
    if (argument.size() % 2 != 0) {
      return Status::Error("auth-bad-data", argument_offset,
                           "expected DATA with an even number of hex digits, found %zu",
                           argument.size());
    }
    for (size_t i = 0; i < argument.size(); ++i) {
      if (!IsHexDigit(argument[i])) {
        return Status::Error("auth-bad-data", argument_offset + i,
                             "expected hex digits after DATA, found '%c'", argument[i]);
      }
    }
    reply->command = AuthCommand::kData;
  } else if (command == "AGREE_UNIX_FD") {
    if (!argument.empty()) {
      return Status::Error("auth-bad-line", argument_offset,
                           "expected AGREE_UNIX_FD alone, found an argument");
    }
    reply->command = AuthCommand::kAgreeUnixFd;
  } else {
    return Status::Error("auth-unknown-command", 0,
                         "expected OK, REJECTED, ERROR, DATA or AGREE_UNIX_FD, found \"%.*s\"",
                         static_cast<int>(command.size() > 40 ? 40 : command.size()),
                         command.data());
  }
  reply->argument = argument;
  return Status();
}

size_t FormatAuthStart(uid_t uid, char* out, size_t capacity) {
  char decimal[24];
  int digits = snprintf(decimal, sizeof decimal, "%lu", static_cast<unsigned long>(uid));
  constexpr std::string_view kPrefix("\0AUTH EXTERNAL ", 15);
  size_t needed = kPrefix.size() + 2 * static_cast<size_t>(digits) + 2;
  if (digits <= 0 || needed > capacity) return 0;
  memcpy(out, kPrefix.data(), kPrefix.size());
  size_t pos = kPrefix.size();
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < digits; ++i) {
    unsigned char c = static_cast<unsigned char>(decimal[i]);
    out[pos++] = kHex[c >> 4];
    out[pos++] = kHex[c & 0xf];
  }
  out[pos++] = '\r';
  out[pos++] = '\n';
  return pos;
}

Status Authenticate(int fd, uid_t uid, int64_t deadline_ms, AuthResult* result) {
  constexpr const char* kTimeout = "auth-timeout";
  char start[64];
  size_t start_length = FormatAuthStart(uid, start, sizeof start);
  JSN_RETURN_IF_ERROR(
      SendAll(fd, Bytes({start, start_length}), deadline_ms, kTimeout, "sending AUTH EXTERNAL"));
  uint8_t buffer[kMaxAuthLineLength + 2];  // a line and its "\r\n"
  size_t filled = 0;
  int data_rounds = 0;
  while (true) {
    // Take every complete line already received before reading more.
    std::string_view text(reinterpret_cast<const char*>(buffer), filled);
    size_t end = text.find("\r\n");
    if (end == std::string_view::npos) {
      if (filled == sizeof buffer) {
        return Status::Failure("auth-line-too-long",
                               "expected a reply line of at most %zu bytes ending in \\r\\n, "
                               "found %zu bytes without one",
                               kMaxAuthLineLength, filled);
      }
      size_t received = 0;
      JSN_RETURN_IF_ERROR(
          ReceiveSome(fd, std::span<uint8_t>(buffer + filled, sizeof buffer - filled), deadline_ms,
                      kTimeout, "waiting for the auth reply", &received));
      filled += received;
      continue;
    }
    AuthReply reply;
    JSN_RETURN_IF_ERROR(ParseAuthReply(text.substr(0, end), &reply));
    size_t rest = filled - (end + 2);
    switch (reply.command) {
      case AuthCommand::kOk:
        if (rest != 0) {
          // The server speaks only when spoken to: bytes after OK and before our BEGIN are
          // a protocol violation, and would be lost to the message stream.
          return Status::Failure("auth-unexpected-bytes",
                                 "expected nothing after OK until BEGIN, found %zu bytes", rest);
        }
        memcpy(result->guid, reply.argument.data(), kServerGuidLength);
        result->guid[kServerGuidLength] = '\0';
        return SendAll(fd, Bytes("BEGIN\r\n"), deadline_ms, kTimeout, "sending BEGIN");
      case AuthCommand::kRejected:
        return Status::Failure("auth-rejected",
                               "expected the bus to accept EXTERNAL for uid %lu, found REJECTED "
                               "(it offers: %.*s)",
                               static_cast<unsigned long>(uid),
                               static_cast<int>(reply.argument.size()), reply.argument.data());
      case AuthCommand::kError:
        return Status::Failure("auth-error", "expected OK, found ERROR \"%.*s\"",
                               static_cast<int>(reply.argument.size()), reply.argument.data());
      case AuthCommand::kAgreeUnixFd:
        return Status::Failure("auth-unexpected-reply",
                               "expected OK, found AGREE_UNIX_FD we never asked for");
      case AuthCommand::kData:
        if (++data_rounds > kMaxDataRounds) {
          return Status::Failure("auth-unexpected-reply",
                                 "expected OK, found DATA again after %d empty answers",
                                 kMaxDataRounds);
        }
        JSN_RETURN_IF_ERROR(
            SendAll(fd, Bytes("DATA\r\n"), deadline_ms, kTimeout, "answering DATA"));
        break;
    }
    memmove(buffer, buffer + end + 2, rest);
    filled = rest;
  }
}

}  // namespace jsn
