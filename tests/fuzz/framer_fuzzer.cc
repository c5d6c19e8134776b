// Fuzz target: the framer fed arbitrary chunkings of a byte stream. The input is
//   [n] [n chunk sizes] [capacity byte] [stream ...]
// The stream goes through one Framer in chunks of the given sizes (cycled; 0 means "as much
// as ReceiveSpace offers") and through a second Framer as fast as it will take it. Both must
// report the same sequence of messages and errors: how the bytes arrive may not change what
// comes out. Every message handed out must be as long as its header says and is parsed.
// The framers are small (a capacity of 16 to 271 bytes, messages up to 512 bytes) so that
// growth, shrinking and the discarding of over-long messages all happen on fuzz-sized inputs.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "fuzz/check_values.h"
#include "jsn/bus/framer.h"
#include "jsn/wire/reader.h"

namespace {

constexpr size_t kMaxMessage = 512;

// One event per message or error, in order. Stops at a fatal error.
std::vector<std::string> Frame(std::span<const uint8_t> stream, std::span<const uint8_t> chunks,
                               size_t initial_capacity) {
  jsn::Framer framer(initial_capacity, kMaxMessage);
  std::vector<std::string> events;
  size_t fed = 0;
  size_t chunk_index = 0;
  for (;;) {
    std::span<const uint8_t> message;
    jsn::Status status = framer.Next(&message);
    if (!status.ok()) {
      events.push_back(std::string("error ") + status.rule());
      if (framer.broken()) return events;
      continue;
    }
    if (!message.empty()) {
      size_t length = 0;
      JSN_FUZZ_CHECK(jsn::MessageLength(message, &length).ok());
      JSN_FUZZ_CHECK(length == message.size());
      JSN_FUZZ_CHECK(length <= kMaxMessage);
      // A copy of exactly the message's size, so a read past it is caught.
      std::vector<uint8_t> copy(message.begin(), message.end());
      jsn::Message parsed;
      if (jsn::Message::Parse(copy, &parsed).ok()) jsn::fuzz::CheckMessage(parsed);
      events.emplace_back(message.begin(), message.end());
      continue;
    }
    if (fed == stream.size()) return events;
    std::span<uint8_t> space;
    JSN_FUZZ_CHECK(framer.ReceiveSpace(&space).ok());
    JSN_FUZZ_CHECK(!space.empty());
    JSN_FUZZ_CHECK(framer.buffered() + space.size() == framer.capacity());
    JSN_FUZZ_CHECK(framer.capacity() <=
                   (kMaxMessage > initial_capacity ? kMaxMessage : initial_capacity));
    size_t count = stream.size() - fed;
    if (count > space.size()) count = space.size();
    if (!chunks.empty()) {
      const size_t chunk = chunks[chunk_index++ % chunks.size()];
      if (chunk != 0 && count > chunk) count = chunk;
    }
    memcpy(space.data(), stream.data() + fed, count);
    framer.Received(count);
    fed += count;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t chunk_count = data[0] % 16;
  if (size < 2 + chunk_count) return 0;
  const std::span<const uint8_t> chunks(data + 1, chunk_count);
  const size_t initial_capacity = 16 + data[1 + chunk_count];
  const std::span<const uint8_t> stream(data + 2 + chunk_count, size - 2 - chunk_count);
  const std::vector<std::string> chunked = Frame(stream, chunks, initial_capacity);
  const std::vector<std::string> whole = Frame(stream, {}, initial_capacity);
  JSN_FUZZ_CHECK(chunked == whole);
  return 0;
}
