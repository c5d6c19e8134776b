#include "jsn/daemon/spawner.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace jsn {
namespace {

// Variables systemd sets for the daemon's own process (systemd.exec(5), "Environment Variables
// in Spawned Processes"), a prefix each: a hook inheriting them could send READY=1 or watchdog
// pings in the daemon's name, think it was handed the daemon's sockets, take the daemon's PID
// or invocation for its own, watch the daemon's memory pressure, or write in its state dir
// (StateDirectory= in the unit `subscribe` writes). JOURNAL_STREAM stays: the
// hook's stderr is that same stream.
constexpr const char* kDaemonOnlyVariables[] = {
    "NOTIFY_SOCKET=",    "WATCHDOG_",        "LISTEN_",         "INVOCATION_ID=",
    "SYSTEMD_EXEC_PID=", "MEMORY_PRESSURE_", "STATE_DIRECTORY="};

bool IsDaemonOnly(const char* entry) {
  for (const char* prefix : kDaemonOnlyVariables) {
    if (strncmp(entry, prefix, strlen(prefix)) == 0) return true;
  }
  return false;
}

bool IsPath(const char* entry) { return strncmp(entry, "PATH=", 5) == 0; }

// Makes every descriptor above stderr close-on-exec, so that one this process inherited without
// it (a leak of its parent's) never reaches a hook. close_range() does it in one call since
// Linux 5.11; before, each descriptor up to the limit, one fcntl each (once, at start-up).
void MarkInheritedDescriptorsCloseOnExec() {
  constexpr unsigned kCloseRangeCloexec = 1U << 2;  // CLOSE_RANGE_CLOEXEC, linux/close_range.h
  if (syscall(SYS_close_range, 3U, ~0U, kCloseRangeCloexec) == 0) return;
  // Raw system calls: libc's fcntl and getrlimit wrappers would add 0.6 KiB to the musl build
  // for this fallback alone.
  struct rlimit limit;
  rlim_t last =
      syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, nullptr, &limit) == 0 ? limit.rlim_cur : 1024;
  if (last > 1 << 20) last = 1 << 20;
  for (long fd = 3; static_cast<rlim_t>(fd) < last; ++fd) {
    long flags = syscall(SYS_fcntl, fd, F_GETFD);
    if (flags >= 0 && (flags & FD_CLOEXEC) == 0)
      syscall(SYS_fcntl, fd, F_SETFD, flags | FD_CLOEXEC);
  }
}

Status SpawnSetupFailed(const char* what, int error) {
  return Status::Expected("spawn-failed", "%s to succeed, found error: %s", what, strerror(error));
}

}  // namespace

ExitStatus DecodeWaitStatus(int wait_status) {
  ExitStatus status;
  if (WIFSIGNALED(wait_status)) {
    status.signaled = true;
    status.code = WTERMSIG(wait_status);
  } else {
    status.code = WEXITSTATUS(wait_status);
  }
  return status;
}

namespace {

// The name of a signal that ends a hook most often (the timeout's SIGKILL, a stop's SIGTERM, a
// crash), as kill -l prints it: the same words on every libc (strsignal's differ, and musl's
// table is 0.7 KiB of the static build). Others are named by number alone.
const char* SignalName(int signal) {
  switch (signal) {
    case SIGKILL:
      return " (SIGKILL)";
    case SIGTERM:
      return " (SIGTERM)";
    case SIGINT:
      return " (SIGINT)";
    case SIGHUP:
      return " (SIGHUP)";
    case SIGSEGV:
      return " (SIGSEGV)";
    case SIGABRT:
      return " (SIGABRT)";
    case SIGBUS:
      return " (SIGBUS)";
    case SIGPIPE:
      return " (SIGPIPE)";
    default:
      return "";
  }
}

}  // namespace

const char* DescribeExitStatus(ExitStatus status, char* buffer, size_t capacity) {
  if (status.signaled) {
    snprintf(buffer, capacity, "killed by signal %d%s", status.code, SignalName(status.code));
  } else {
    snprintf(buffer, capacity, "exit %d", status.code);
  }
  return buffer;
}

Spawner::~Spawner() {
  if (have_attributes_) posix_spawnattr_destroy(&attributes_);
  if (have_actions_) posix_spawn_file_actions_destroy(&actions_);
}

Status Spawner::Init(const char* const* environment) {
  // PATH first (the first one given, as getenv finds it, else the default), so that no number
  // of other entries can crowd it out; then the others, in order, up to the limit.
  environment_[0] = kDefaultPathEntry;
  environment_count_ = 1;
  for (const char* const* entry = environment; entry != nullptr && *entry != nullptr; ++entry) {
    if (IsPath(*entry)) {
      environment_[0] = *entry;
      break;
    }
  }
  for (const char* const* entry = environment; entry != nullptr && *entry != nullptr; ++entry) {
    if (environment_count_ == kMaxEnvironment) break;
    if (!IsPath(*entry) && !IsDaemonOnly(*entry)) environment_[environment_count_++] = *entry;
  }
  environment_[environment_count_] = nullptr;

  // The attributes and file actions are the same for every hook: built once here (libc
  // allocates for file actions), so starting a hook allocates nothing.
  if (!have_attributes_) {
    int error = posix_spawnattr_init(&attributes_);
    if (error != 0) return SpawnSetupFailed("posix_spawnattr_init", error);
    have_attributes_ = true;
    sigset_t empty;
    sigset_t all;
    sigemptyset(&empty);
    // Every bit, not sigfillset: glibc's leaves out its internal signals 32 and 33, and its
    // posix_spawn then starts the child with them ignored.
    memset(&all, 0xff, sizeof all);
    short flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if ((error = posix_spawnattr_setflags(&attributes_, flags)) != 0 ||
        (error = posix_spawnattr_setpgroup(&attributes_, 0)) != 0 ||
        (error = posix_spawnattr_setsigmask(&attributes_, &empty)) != 0 ||
        (error = posix_spawnattr_setsigdefault(&attributes_, &all)) != 0) {
      return SpawnSetupFailed("setting the spawn attributes", error);
    }
  }
  if (!have_actions_) {
    int error = posix_spawn_file_actions_init(&actions_);
    if (error != 0) return SpawnSetupFailed("posix_spawn_file_actions_init", error);
    have_actions_ = true;
    if ((error = posix_spawn_file_actions_addopen(&actions_, 0, "/dev/null", O_RDONLY, 0)) != 0 ||
        (error = posix_spawn_file_actions_addchdir_np(&actions_, "/")) != 0) {
      return SpawnSetupFailed("setting the spawn file actions", error);
    }
  }
  MarkInheritedDescriptorsCloseOnExec();
  ready_ = true;
  return Status();
}

Status Spawner::Spawn(const char* const* argv, pid_t* pid) const {
  if (!ready_) {
    return Status::Expected("spawner-not-ready", "Spawner::Init to have succeeded first");
  }
  // posix_spawn's argv and envp are not const for historical reasons; it does not write them.
  int error = posix_spawn(pid, argv[0], &actions_, &attributes_, const_cast<char* const*>(argv),
                          const_cast<char* const*>(environment_));
  if (error == 0) return Status();
  if (error == ENOENT || error == ENOTDIR) {
    return Status::Expected("program-missing", "an executable at %.120s, found none (%s)", argv[0],
                            strerror(error));
  }
  if (error == EACCES || error == ENOEXEC || error == EPERM || error == EISDIR) {
    return Status::Expected("program-not-executable", "%.120s to be executable, found: %s", argv[0],
                            strerror(error));
  }
  return Status::Expected("spawn-failed", "to start %.120s, found error: %s", argv[0],
                          strerror(error));
}

bool Spawner::ReapExited(pid_t* pid, ExitStatus* status) const {
  for (;;) {
    int wait_status = 0;
    pid_t reaped = waitpid(-1, &wait_status, WNOHANG);
    if (reaped < 0 && errno == EINTR) continue;
    if (reaped <= 0) return false;  // 0: children still running; ECHILD: none at all
    *pid = reaped;
    *status = DecodeWaitStatus(wait_status);
    return true;
  }
}

}  // namespace jsn
