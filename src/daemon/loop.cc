#include "jsn/daemon/loop.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace jsn {
namespace {

Status SystemError(const char* rule, const char* call) {
  return Status::Expected(rule, "%s to succeed, found error: %s", call, strerror(errno));
}

void CloseIfOpen(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

}  // namespace

Loop::~Loop() {
  CloseIfOpen(&timer_fd_);
  CloseIfOpen(&signal_fd_);
  CloseIfOpen(&epoll_fd_);
}

Status Loop::Open() {
  sigset_t signals;
  sigemptyset(&signals);
  for (int signal : {SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGPIPE}) sigaddset(&signals, signal);
  if (sigprocmask(SIG_BLOCK, &signals, nullptr) != 0)
    return SystemError("loop-setup", "sigprocmask");
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return SystemError("loop-setup", "epoll_create1");
  signal_fd_ = signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd_ < 0) return SystemError("loop-setup", "signalfd");
  timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (timer_fd_ < 0) return SystemError("loop-setup", "timerfd_create");
  JSN_RETURN_IF_ERROR(Add(signal_fd_, EPOLLIN, kSignalTag));
  return Add(timer_fd_, EPOLLIN, kTimerTag);
}

Status Loop::Add(int fd, uint32_t events, uint64_t tag) {
  epoll_event event{};
  event.events = events;
  event.data.u64 = tag;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0)
    return SystemError("loop-watch", "epoll_ctl ADD");
  return Status();
}

Status Loop::Modify(int fd, uint32_t events, uint64_t tag) {
  epoll_event event{};
  event.events = events;
  event.data.u64 = tag;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event) != 0)
    return SystemError("loop-watch", "epoll_ctl MOD");
  return Status();
}

Status Loop::Remove(int fd) {
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr) != 0 && errno != ENOENT && errno != EBADF) {
    return SystemError("loop-watch", "epoll_ctl DEL");
  }
  return Status();
}

Status Loop::Wait(epoll_event* events, size_t capacity, size_t* count) {
  *count = 0;
  int ready = epoll_wait(epoll_fd_, events, static_cast<int>(capacity), -1);
  if (ready < 0) {
    if (errno == EINTR) return Status();
    return SystemError("loop-wait", "epoll_wait");
  }
  *count = static_cast<size_t>(ready);
  return Status();
}

Status Loop::ReadSignals(int* signals, size_t capacity, size_t* count) {
  *count = 0;
  signalfd_siginfo infos[kMaxSignalsPerRead];
  size_t want = capacity < kMaxSignalsPerRead ? capacity : kMaxSignalsPerRead;
  ssize_t n;
  do {
    n = read(signal_fd_, infos, want * sizeof infos[0]);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN) return Status();
    return SystemError("loop-signal", "read of the signalfd");
  }
  *count = static_cast<size_t>(n) / sizeof infos[0];
  for (size_t i = 0; i < *count; ++i) signals[i] = static_cast<int>(infos[i].ssi_signo);
  return Status();
}

Status Loop::ArmTimer(MonotonicTime at) {
  itimerspec spec{};
  if (at != kNever) {
    // 0 would disarm; a deadline at or before the clock's origin is simply "now".
    if (at <= MonotonicTime{0}) at = MonotonicTime{1};
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(at);
    spec.it_value.tv_sec = static_cast<time_t>(seconds.count());
    spec.it_value.tv_nsec = static_cast<long>((at - seconds).count());
  }
  if (timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr) != 0) {
    return SystemError("loop-timer", "timerfd_settime");
  }
  return Status();
}

void Loop::AcknowledgeTimer() {
  uint64_t expirations = 0;
  ssize_t n;
  do {
    n = read(timer_fd_, &expirations, sizeof expirations);
  } while (n < 0 && errno == EINTR);
  // EAGAIN: already consumed, or re-armed since; either way nothing to do.
}

}  // namespace jsn
