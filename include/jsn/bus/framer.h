// Framer: cuts the byte stream from the bus into whole messages. It owns one receive buffer
// (malloc'd on first use, grown with realloc only when a message is larger than it, never past
// a cap, shrunk back once empty); the caller receives into ReceiveSpace() and hands out what
// Next() returns. A message view stays valid until the next ReceiveSpace() call, which may
// move or reallocate the buffer.
//
// A message longer than the cap is not buffered: its bytes are dropped as they arrive and Next
// reports "message-too-large" once, after which the stream goes on. A fixed header that makes
// no sense (MessageLength fails) is fatal: the stream has no markers to resynchronise on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "jsn/base/status.h"

namespace jsn {

class Framer {
 public:
  static constexpr size_t kDefaultInitialCapacity = 64 * 1024;
  // Well above what the daemon receives (a systemd unit's GetAll is a few KiB) and well
  // below the specification's 128 MiB, so a hostile peer cannot make us hold much memory.
  static constexpr size_t kDefaultMaxMessageLength = 8 * 1024 * 1024;

  explicit Framer(size_t initial_capacity = kDefaultInitialCapacity,
                  size_t max_message_length = kDefaultMaxMessageLength);
  ~Framer();
  Framer(const Framer&) = delete;
  Framer& operator=(const Framer&) = delete;

  // Where the next recv() should write: at least one byte, and room for the whole pending
  // message when its length is known. Call it once Next() has returned an empty span. Fails only
  // when memory cannot be had ("out-of-memory") or the stream is broken.
  Status ReceiveSpace(std::span<uint8_t>* space);
  // `count` bytes were written at the start of the last ReceiveSpace().
  void Received(size_t count);

  // The next whole message, or an empty span when more bytes are needed. A non-fatal error
  // ("message-too-large") means one message was dropped: call Next again. A fatal error
  // (broken() is then true) repeats on every later call.
  Status Next(std::span<const uint8_t>* message);

  // Drops all buffered bytes and any error, for a fresh connection. Keeps the buffer.
  void Reset();

  bool broken() const { return !broken_.ok(); }
  size_t capacity() const { return capacity_; }
  size_t buffered() const { return end_ - start_; }

 private:
  void Discard();

  uint8_t* buffer_ = nullptr;
  size_t capacity_ = 0;
  size_t initial_capacity_;
  size_t max_message_length_;
  size_t start_ = 0;              // first byte not yet handed out
  size_t end_ = 0;                // one past the last byte received
  size_t discard_remaining_ = 0;  // bytes of an over-long message still to drop
  Status broken_;
};

}  // namespace jsn
