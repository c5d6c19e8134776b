#include "jsn/systemd/notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "jsn/base/decimal.h"

namespace jsn {

Notifier::~Notifier() {
  if (fd_ >= 0) close(fd_);
}

Status Notifier::Open(const char* notify_socket) {
  if (notify_socket == nullptr || notify_socket[0] == '\0') return Status();
  size_t length = strlen(notify_socket);
  if (notify_socket[0] != '/' && notify_socket[0] != '@') {
    return Status::Expected("invalid-notify-socket",
                            "NOTIFY_SOCKET to be an absolute path or @name, found \"%s\"",
                            notify_socket);
  }
  // A path needs its NUL inside sun_path; an abstract name uses every byte it names.
  bool abstract = notify_socket[0] == '@';
  if (length >= sizeof address_.sun_path + (abstract ? 1 : 0) || length < 2) {
    return Status::Expected("invalid-notify-socket", "NOTIFY_SOCKET of 2 to %zu bytes, found %zu",
                            sizeof address_.sun_path - 1, length);
  }
  address_ = {};
  address_.sun_family = AF_UNIX;
  memcpy(address_.sun_path, notify_socket, length);
  if (abstract) address_.sun_path[0] = '\0';
  // The abstract name is exactly `length` bytes (no trailing NUL); a path includes its NUL.
  address_length_ =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length + (abstract ? 0 : 1));
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    return Status::Failure("notify-socket", "cannot create a datagram socket: %s", strerror(errno));
  }
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
  return Status();
}

Status Notifier::Send(std::string_view text) {
  if (fd_ < 0) return Status();
  for (;;) {
    ssize_t sent = sendto(fd_, text.data(), text.size(), MSG_NOSIGNAL,
                          reinterpret_cast<const sockaddr*>(&address_), address_length_);
    if (sent >= 0) return Status();
    if (errno == EINTR) continue;
    // EAGAIN: systemd's queue is full; a lost notification is better than a blocked loop.
    return Status::Failure("notify-send", "cannot notify systemd: %s", strerror(errno));
  }
}

MonotonicTime WatchdogPingInterval(const char* watchdog_usec, const char* watchdog_pid,
                                   pid_t self) {
  if (watchdog_usec == nullptr || watchdog_usec[0] == '\0') return kNever;
  if (watchdog_pid != nullptr && watchdog_pid[0] != '\0') {
    uint64_t pid = 0;
    if (!ParseDecimal(watchdog_pid, &pid) || pid != static_cast<uint64_t>(self)) return kNever;
  }
  uint64_t usec = 0;
  if (!ParseDecimal(watchdog_usec, &usec) || usec == 0) return kNever;
  // Keep clear of overflow for absurd values: anything beyond a year is "never".
  constexpr uint64_t kYearUsec = 365ull * 24 * 3600 * 1000000;
  if (usec > kYearUsec) return kNever;
  return std::chrono::microseconds(static_cast<int64_t>(usec / 2));
}

}  // namespace jsn
