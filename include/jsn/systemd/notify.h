// Notify: the sd_notify readiness protocol, written by hand. Each notification is one datagram
// of "KEY=VALUE\n" lines sent to the AF_UNIX socket named in $NOTIFY_SOCKET: a path, or with a
// leading '@' a name in the abstract namespace (the '@' stands for the leading NUL byte). When
// $NOTIFY_SOCKET is unset the Notifier is disabled and Send does nothing, so the daemon runs
// the same under systemd and outside it.
//
// The watchdog: when $WATCHDOG_USEC is set (and $WATCHDOG_PID, if set, is our PID) systemd
// expects "WATCHDOG=1" at least that often; we ping at half of it, as sd_watchdog_enabled(3)
// advises.
//
// Ownership: the Notifier owns its datagram socket (close-on-exec, closed by the destructor);
// it copies the socket name, so the environment string need not outlive Open.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <string_view>

#include "jsn/base/monotonic_time.h"
#include "jsn/base/status.h"

namespace jsn {

class Notifier {
 public:
  Notifier() = default;
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // `notify_socket` is the value of $NOTIFY_SOCKET (nullptr or "" when unset: disabled).
  // Fails ("invalid-notify-socket") when it is neither an absolute path nor "@name", or too
  // long for sockaddr_un; the daemon reports that and runs on without notifications.
  Status Open(const char* notify_socket);
  bool enabled() const { return fd_ >= 0; }

  // Sends `text` (e.g. "READY=1\nSTATUS=watching 2 units\n") as one datagram. Disabled: ok.
  Status Send(std::string_view text);

 private:
  int fd_ = -1;
  sockaddr_un address_ = {};
  socklen_t address_length_ = 0;
};

// The watchdog ping interval: half of $WATCHDOG_USEC when it is a positive number and
// $WATCHDOG_PID is unset or equals `self`; kNever otherwise.
MonotonicTime WatchdogPingInterval(const char* watchdog_usec, const char* watchdog_pid, pid_t self);

}  // namespace jsn
