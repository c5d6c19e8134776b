#include "jsn/bus/auth.h"

#include <cstdio>
#include <cstring>

namespace jsn {
namespace {

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// The server sends DATA only to ask for EXTERNAL's identity again; more than a few rounds
// means it will never be satisfied.
constexpr int kMaxDataRounds = 4;

}  // namespace

Status ParseAuthReply(std::string_view line, AuthReply* reply) {
  for (size_t i = 0; i < line.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    if (c < 0x20 || c > 0x7e) {
      return Status::ExpectedAt("auth-bad-line", i,
                                "printable ASCII in the server's reply, found byte 0x%02x", c);
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
      return Status::ExpectedAt("auth-bad-guid", argument_offset,
                                "OK with a %zu-hex-digit server guid, found %zu characters",
                                kServerGuidLength, argument.size());
    }
    for (size_t i = 0; i < argument.size(); ++i) {
      if (!IsHexDigit(argument[i])) {
        return Status::ExpectedAt("auth-bad-guid", argument_offset + i,
                                  "a hex digit in the server guid, found '%c'", argument[i]);
      }
    }
    reply->command = AuthCommand::kOk;
  } else if (command == "REJECTED") {
    reply->command = AuthCommand::kRejected;
  } else if (command == "ERROR") {
    reply->command = AuthCommand::kError;
  } else if (command == "DATA") {
    if (argument.size() % 2 != 0) {
      return Status::ExpectedAt("auth-bad-data", argument_offset,
                                "DATA with an even number of hex digits, found %zu",
                                argument.size());
    }
    for (size_t i = 0; i < argument.size(); ++i) {
      if (!IsHexDigit(argument[i])) {
        return Status::ExpectedAt("auth-bad-data", argument_offset + i,
                                  "hex digits after DATA, found '%c'", argument[i]);
      }
    }
    reply->command = AuthCommand::kData;
  } else if (command == "AGREE_UNIX_FD") {
    if (!argument.empty()) {
      return Status::ExpectedAt("auth-bad-line", argument_offset,
                                "AGREE_UNIX_FD alone, found an argument");
    }
    reply->command = AuthCommand::kAgreeUnixFd;
  } else {
    return Status::ExpectedAt(
        "auth-unknown-command", 0, "OK, REJECTED, ERROR, DATA or AGREE_UNIX_FD, found \"%.*s\"",
        static_cast<int>(command.size() > 40 ? 40 : command.size()), command.data());
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

Status AuthStep(std::string_view line, uid_t uid, int* data_rounds, AuthResult* result,
                std::string_view* answer, bool* done) {
  AuthReply reply;
  JSN_RETURN_IF_ERROR(ParseAuthReply(line, &reply));
  switch (reply.command) {
    case AuthCommand::kOk:
      memcpy(result->guid, reply.argument.data(), kServerGuidLength);
      result->guid[kServerGuidLength] = '\0';
      *answer = "BEGIN\r\n";
      *done = true;
      return Status();
    case AuthCommand::kRejected:
      return Status::Expected("auth-rejected",
                              "the bus to accept EXTERNAL for uid %lu, found REJECTED "
                              "(it offers: %.*s)",
                              static_cast<unsigned long>(uid),
                              static_cast<int>(reply.argument.size()), reply.argument.data());
    case AuthCommand::kError:
      return Status::Expected("auth-error", "OK, found ERROR \"%.*s\"",
                              static_cast<int>(reply.argument.size()), reply.argument.data());
    case AuthCommand::kAgreeUnixFd:
      return Status::Expected("auth-unexpected-reply",
                              "OK, found AGREE_UNIX_FD we never asked for");
    case AuthCommand::kData:
      break;
  }
  if (++*data_rounds > kMaxDataRounds) {
    return Status::Expected("auth-unexpected-reply", "OK, found DATA again after %d empty answers",
                            kMaxDataRounds);
  }
  *answer = "DATA\r\n";
  return Status();
}

}  // namespace jsn
