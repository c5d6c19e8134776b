// Blocking I/O with a deadline, for start-up only (connect, authenticate, Hello happen before
// the daemon's loop runs). The socket stays non-blocking; these helpers poll() until it is
// ready or the deadline passes. EINTR is retried; every other failure is a Status. No
// ownership: the caller owns the descriptor and the bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "jsn/status.h"

namespace jsn {

// CLOCK_MONOTONIC in milliseconds: deadlines never move with the wall clock.
int64_t MonotonicMilliseconds();

// Waits until `fd` reports one of `events` (POLLIN, POLLOUT) or `deadline_ms` passes
// (rule `timeout_rule`, message naming `doing`). POLLHUP/POLLERR count as ready: the read or
// write that follows reports what happened.
Status WaitReady(int fd, short events, int64_t deadline_ms, const char* timeout_rule,
                 const char* doing);

// Sends all of `bytes` (MSG_NOSIGNAL: a closed peer is "connection-closed", not SIGPIPE).
Status SendAll(int fd, std::span<const uint8_t> bytes, int64_t deadline_ms,
               const char* timeout_rule, const char* doing);

// Receives what is available, at least one byte, into `buffer`; waits while there is nothing.
// An orderly shutdown by the peer is "connection-closed".
Status ReceiveSome(int fd, std::span<uint8_t> buffer, int64_t deadline_ms, const char* timeout_rule,
                   const char* doing, size_t* received);

}  // namespace jsn
