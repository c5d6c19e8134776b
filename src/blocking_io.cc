#include "jsn/blocking_io.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
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
      return Status::Failure(timeout_rule,
                             "expected the bus to answer while %s, found no "
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

Status SendAll(int fd, std::span<const uint8_t> bytes, int64_t deadline_ms,
               const char* timeout_rule, const char* doing) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t sent = send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (sent >= 0) {
      done += static_cast<size_t>(sent);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      JSN_RETURN_IF_ERROR(WaitReady(fd, POLLOUT, deadline_ms, timeout_rule, doing));
      continue;
    }
    if (errno == EPIPE || errno == ECONNRESET) {
      return Status::Failure("connection-closed", "the bus closed the connection while %s", doing);
    }
    return Status::Failure("send-failed", "send() while %s: %s", doing, strerror(errno));
  }
  return Status();
}

Status ReceiveSome(int fd, std::span<uint8_t> buffer, int64_t deadline_ms, const char* timeout_rule,
                   const char* doing, size_t* received) {
  while (true) {
    ssize_t got = recv(fd, buffer.data(), buffer.size(), 0);
    if (got > 0) {
      *received = static_cast<size_t>(got);
      return Status();
    }
    if (got == 0) {
      return Status::Failure("connection-closed", "the bus closed the connection while %s", doing);
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      JSN_RETURN_IF_ERROR(WaitReady(fd, POLLIN, deadline_ms, timeout_rule, doing));
      continue;
    }
    if (errno == ECONNRESET) {
      return Status::Failure("connection-closed", "the bus reset the connection while %s", doing);
    }
    return Status::Failure("recv-failed", "recv() while %s: %s", doing, strerror(errno));
  }
}

}  // namespace jsn
