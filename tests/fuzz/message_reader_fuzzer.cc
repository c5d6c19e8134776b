// Fuzz target: the message reader over one whole message. Any bytes go to Message::Parse;
// whatever it accepts is walked completely (every header field, every body value through the
// public accessors, FindInStringVariantDict on every a{sv}) and checked against the promises
// the reader makes after a successful parse. A crash, a sanitizer report or a broken promise
// is a finding.
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz/check_values.h"
#include "jsn/wire/reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  jsn::Message message;
  if (!jsn::Message::Parse(std::span<const uint8_t>(data, size), &message).ok()) return 0;
  jsn::fuzz::CheckMessage(message);
  return 0;
}
