// ServiceManagerLink: what the daemon tells its service manager (systemd, or whoever set
// $NOTIFY_SOCKET), in one place: READY=1 once every initial state is in, RELOADING=1 with
// MONOTONIC_USEC when a SIGHUP's re-read begins and READY=1 when it is answered, STOPPING=1 on
// SIGTERM, the STATUS= lines as the bus goes and comes back, and WATCHDOG=1 at half of
// $WATCHDOG_USEC. The sd_notify protocol itself (one datagram of KEY=VALUE lines) is the
// Notifier's (jsn/systemd/notify.h); this is the daemon's side of the conversation: which
// datagram, with which text, when.
//
// Nothing sent here can stop the daemon: a bad $NOTIFY_SOCKET or a failed send is logged as a
// warning and the daemon runs on (systemd says so itself if it waited for READY=1 in vain).
// Without $NOTIFY_SOCKET every call does nothing, so the daemon runs the same outside systemd.
//
// The link owns its Notifier (and so the socket) and copies what it needs from the strings
// given to Open. Time comes in as an argument, as everywhere in the daemon.
#pragma once

#include <cstddef>

#include "jsn/base/monotonic_time.h"
#include "jsn/systemd/notify.h"

namespace jsn {

class ServiceManagerLink {
 public:
  ServiceManagerLink() = default;
  ServiceManagerLink(const ServiceManagerLink&) = delete;
  ServiceManagerLink& operator=(const ServiceManagerLink&) = delete;

  // Sets up from the values of $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID (nullptr when
  // unset). With a watchdog for this process, the first ping is due at `now`.
  void Open(const char* notify_socket, const char* watchdog_usec, const char* watchdog_pid,
            MonotonicTime now);

  // When the watchdog's next ping is due; kNever without a watchdog.
  MonotonicTime next_watchdog_ping() const { return watchdog_next_; }
  // Pings when one is due at `now`; the next is due an interval later.
  void PingWatchdogIfDue(MonotonicTime now);

  // READY=1: every initial state of the `unit_count` units watched for `juju_unit` is in.
  void Ready(size_t unit_count, const char* juju_unit);

  // RELOADING=1 (SIGHUP): READY=1 follows with FinishReload, once every state is re-read.
  void BeginReload(MonotonicTime now);
  bool reloading() const { return reloading_; }
  void FinishReload();

  // STOPPING=1 (SIGTERM or SIGINT): systemd waits for the exit.
  void Stopping();

  // A STATUS= line alone, e.g. "bus connection lost; reconnecting".
  void SendStatus(const char* status);

 private:
  void Notify(const char* text);

  Notifier notifier_;
  MonotonicTime watchdog_interval_ = kNever;
  MonotonicTime watchdog_next_ = kNever;
  bool reloading_ = false;  // RELOADING=1 sent; READY=1 due when the re-read is answered
};

}  // namespace jsn
