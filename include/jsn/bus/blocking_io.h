// Waiting with a deadline, for the subcommands and the daemon's start-up (Connection::Open,
// the Manager's calls). The socket stays non-blocking; WaitReady poll()s until it is ready or
// the deadline passes. EINTR is retried; every other failure is a Status. No ownership: the
// caller owns the descriptor.
#pragma once

#include "jsn/base/monotonic_time.h"
#include "jsn/base/status.h"

namespace jsn {

// Waits until `fd` reports one of `events` (POLLIN, POLLOUT) or `deadline` (jsn::MonotonicNow)
// passes (rule `timeout_rule`, message naming `doing`). POLLHUP/POLLERR count as ready: the read or
// write that follows reports what happened.
Status WaitReady(int fd, short events, MonotonicTime deadline, const char* timeout_rule,
                 const char* doing);

}  // namespace jsn
