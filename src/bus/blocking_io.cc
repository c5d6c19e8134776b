#include "jsn/bus/blocking_io.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

namespace jsn {

Status WaitReady(int fd, short events, MonotonicTime deadline, const char* timeout_rule,
                 const char* doing) {
  while (true) {
    const MonotonicTime remaining = deadline - MonotonicNow();
    if (remaining <= MonotonicTime(0)) {
      return Status::Expected(timeout_rule,
                              "the bus to answer while %s, found no "
                              "answer before the deadline",
                              doing);
    }
    pollfd entry{};
    entry.fd = fd;
    entry.events = events;
    // Whole milliseconds, rounded up, so that poll() never returns early and spins.
    const int64_t left = std::chrono::ceil<std::chrono::milliseconds>(remaining).count();
    int ready = poll(&entry, 1, left > 60000 ? 60000 : static_cast<int>(left));
    if (ready > 0) return Status();
    if (ready < 0 && errno != EINTR) {
      return Status::Failure("poll-failed", "poll() while %s: %s", doing, strerror(errno));
    }
  }
}

}  // namespace jsn
