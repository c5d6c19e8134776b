// Loop: the daemon's one epoll set, with the signals it handles turned into a signalfd and its
// deadlines into a timerfd, so that everything the daemon waits for arrives through one
// epoll_wait and nothing else ever blocks. The Loop owns its epoll, signal and timer
// descriptors (all close-on-exec, closed by its destructor); it only watches other descriptors
// (the bus socket), which their owners keep and close.
#pragma once

#include <sys/epoll.h>

#include <cstddef>
#include <cstdint>

#include "jsn/base/monotonic_time.h"
#include "jsn/base/status.h"

namespace jsn {

class Loop {
 public:
  // Tags identify what became ready; the Loop's own descriptors use these two.
  static constexpr uint64_t kSignalTag = 1;
  static constexpr uint64_t kTimerTag = 2;
  static constexpr size_t kMaxSignalsPerRead = 16;

  Loop() = default;
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // Blocks SIGTERM, SIGINT, SIGHUP, SIGCHLD and SIGPIPE (they then arrive only through the
  // signalfd, where a SIGPIPE is dropped: a write to a closed pipe, such as stderr outside
  // systemd, fails with EPIPE instead of killing the daemon; children get an empty mask and
  // default actions from the Spawner) and creates the descriptors.
  Status Open();

  // Adds `fd` with `events` (EPOLLIN, EPOLLOUT...) under `tag` (> kTimerTag), or changes them.
  Status Add(int fd, uint32_t events, uint64_t tag);
  Status Modify(int fd, uint32_t events, uint64_t tag);
  Status Remove(int fd);

  // Waits for readiness (forever when nothing is due); EINTR is not an error (count 0).
  Status Wait(epoll_event* events, size_t capacity, size_t* count);

  // Reads the pending signals into `signals` (their numbers); *count is 0 when none.
  Status ReadSignals(int* signals, size_t capacity, size_t* count);

  // Fires the timer once at `at` (CLOCK_MONOTONIC); kNever disarms it. A time already past
  // fires at once.
  Status ArmTimer(MonotonicTime at);
  // Consumes a timer expiry after kTimerTag became ready.
  void AcknowledgeTimer();

 private:
  int epoll_fd_ = -1;
  int signal_fd_ = -1;
  int timer_fd_ = -1;
};

}  // namespace jsn
