#include "jsn/blocking_io.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

namespace jsn {

int64_t MonotonicMilliseconds() {
  timespec now{};
  // CLOCK_MONOTONIC cannot fail with a valid pointer on Linux; a zero time would only make
  // deadlines expire early, never hang.
  if (clock_gettime(CLOCK_MONOTONIC, &now) != 0) return 0;
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

Status WaitReady(int fd, short events, int64_t deadline_ms, const char* timeout_rule,
                 const char* doing) {
  while (true) {
    int64_t left = deadline_ms - MonotonicMilliseconds();
    if (left <= 0) {
      return Status::Expected(timeout_rule,
                              "the bus to answer while %s, found no "
                              "answer before the deadline",
                              doing);
    }
    pollfd entry{};
    entry.fd = fd;
    entry.events = events;
    int ready = poll(&entry, 1, left > 60000 ? 60000 : static_cast<int>(left));
    if (ready > 0) return Status();
    if (ready < 0 && errno != EINTR) {
      return Status::Failure("poll-failed", "poll() while %s: %s", doing, strerror(errno));
    }
  }
}

}  // namespace jsn
