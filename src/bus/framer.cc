#include "jsn/bus/framer.h"

#include <cstdlib>
#include <cstring>

#include "jsn/wire/message.h"
#include "jsn/wire/reader.h"

namespace jsn {

Framer::Framer(size_t initial_capacity, size_t max_message_length)
    : initial_capacity_(initial_capacity < kFixedHeaderLength ? kFixedHeaderLength
                                                              : initial_capacity),
      max_message_length_(max_message_length > kMaxMessageLength ? kMaxMessageLength
                                                                 : max_message_length) {
  if (max_message_length_ < initial_capacity_) max_message_length_ = initial_capacity_;
}

Framer::~Framer() { free(buffer_); }

void Framer::Reset() {
  start_ = 0;
  end_ = 0;
  discard_remaining_ = 0;
  broken_ = Status();
}

Status Framer::ReceiveSpace(std::span<uint8_t>* space) {
  *space = {};
  if (broken()) return broken_;
  // Move the unfinished message to the front: it is at most one message, and this keeps the
  // free space in one piece at the end.
  size_t pending = end_ - start_;
  if (start_ > 0) {
    memmove(buffer_, buffer_ + start_, pending);
    start_ = 0;
    end_ = pending;
  }
  size_t wanted = initial_capacity_;
  if (pending == 0 && capacity_ > initial_capacity_) {
    // The large message that grew the buffer is gone; give the memory back.
    void* smaller = realloc(buffer_, initial_capacity_);
    if (smaller != nullptr) {
      buffer_ = static_cast<uint8_t*>(smaller);
      capacity_ = initial_capacity_;
    }
  }
  if (pending >= kFixedHeaderLength) {
    size_t length = 0;
    // An invalid header is reported by Next(); here it only means "no growth".
    if (MessageLength({buffer_, pending}, &length).ok() && length <= max_message_length_ &&
        length > wanted) {
      wanted = length;
    }
  }
  if (buffer_ == nullptr || capacity_ < wanted) {
    void* bigger = realloc(buffer_, wanted);
    if (bigger == nullptr) {
      return Status::Expected("out-of-memory",
                              "%zu bytes for the receive buffer, found realloc failing", wanted);
    }
    buffer_ = static_cast<uint8_t*>(bigger);
    capacity_ = wanted;
  }
  *space = {buffer_ + end_, capacity_ - end_};
  return Status();
}

void Framer::Received(size_t count) {
  end_ += count;
  Discard();
}

void Framer::Discard() {
  size_t drop = end_ - start_ < discard_remaining_ ? end_ - start_ : discard_remaining_;
  start_ += drop;
  discard_remaining_ -= drop;
}

Status Framer::Next(std::span<const uint8_t>* message) {
  *message = {};
  if (broken()) return broken_;
  Discard();
  if (discard_remaining_ > 0) return Status();
  size_t available = end_ - start_;
  if (available < kFixedHeaderLength) return Status();
  size_t length = 0;
  Status status = MessageLength({buffer_ + start_, available}, &length);
  if (!status.ok()) {
    broken_ = status;
    return status;
  }
  if (length > max_message_length_) {
    discard_remaining_ = length;
    Discard();
    return Status::Expected("message-too-large",
                            "a message of at most %zu bytes, found one of %zu; "
                            "dropped it",
                            max_message_length_, length);
  }
  if (available < length) return Status();
  *message = {buffer_ + start_, length};
  start_ += length;
  return Status();
}

}  // namespace jsn
