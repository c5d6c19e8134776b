// Fuzz target: the SASL reply-line parser (ParseAuthReply) over any line, and the opening
// line for any uid. An accepted reply must be one the protocol allows: a known command, an
// argument that is a view into the line, a 32-hex-digit guid after OK, hex after DATA.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "fuzz/check_values.h"
#include "jsn/bus/auth.h"

namespace {

bool AllHex(std::string_view text) {
  for (char c : text) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  jsn::AuthReply reply;
  if (jsn::ParseAuthReply(line, &reply).ok()) {
    JSN_FUZZ_CHECK(reply.argument.empty() ||
                   (reply.argument.data() >= line.data() &&
                    reply.argument.data() + reply.argument.size() == line.data() + line.size()));
    for (char c : line) JSN_FUZZ_CHECK(c >= 0x20 && c <= 0x7e);
    switch (reply.command) {
      case jsn::AuthCommand::kOk:
        JSN_FUZZ_CHECK(line.substr(0, 3) == "OK ");
        JSN_FUZZ_CHECK(reply.argument.size() == jsn::kServerGuidLength);
        JSN_FUZZ_CHECK(AllHex(reply.argument));
        break;
      case jsn::AuthCommand::kData:
        JSN_FUZZ_CHECK(line.substr(0, 4) == "DATA");
        JSN_FUZZ_CHECK(reply.argument.size() % 2 == 0 && AllHex(reply.argument));
        break;
      case jsn::AuthCommand::kRejected:
        JSN_FUZZ_CHECK(line.substr(0, 8) == "REJECTED");
        break;
      case jsn::AuthCommand::kError:
        JSN_FUZZ_CHECK(line.substr(0, 5) == "ERROR");
        break;
      case jsn::AuthCommand::kAgreeUnixFd:
        // A trailing space before the (empty) argument is tolerated, as for every command.
        JSN_FUZZ_CHECK(line == "AGREE_UNIX_FD" || line == "AGREE_UNIX_FD ");
        break;
    }
  }

  // The opening line: "\0AUTH EXTERNAL " then the decimal uid, hex-encoded, then CRLF.
  uid_t uid = 0;
  memcpy(&uid, data, size < sizeof uid ? size : sizeof uid);
  char out[64];
  const size_t length = jsn::FormatAuthStart(uid, out, sizeof out);
  JSN_FUZZ_CHECK(length > 17 && length <= sizeof out);
  const std::string_view start(out, length);
  JSN_FUZZ_CHECK(start.substr(0, 15) == std::string_view("\0AUTH EXTERNAL ", 15));
  JSN_FUZZ_CHECK(start.substr(length - 2) == "\r\n");
  const std::string_view hex = start.substr(15, length - 17);
  JSN_FUZZ_CHECK(hex.size() % 2 == 0 && AllHex(hex));
  uint64_t decoded = 0;
  for (size_t i = 0; i < hex.size(); i += 2) {
    JSN_FUZZ_CHECK(hex[i] == '3');  // ASCII digits are 0x30..0x39
    decoded = decoded * 10 + static_cast<uint64_t>(hex[i + 1] - '0');
  }
  JSN_FUZZ_CHECK(decoded == uid);
  // Too small a buffer is refused, never overrun.
  JSN_FUZZ_CHECK(jsn::FormatAuthStart(uid, out, length - 1) == 0);
  return 0;
}
