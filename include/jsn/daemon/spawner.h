// Spawner: starts hook commands and reaps them, never blocking the loop. A child is started
// with posix_spawn (no shell) in a process group of its own (a Ctrl-C at the daemon's terminal
// is not the hook's), with "/" as its working directory, stdin on /dev/null, stdout and stderr
// inherited (the journal), an empty signal mask and default signal dispositions (the daemon blocks
// signals for its signalfd, and a blocked mask is inherited across exec), and the daemon's
// environment minus what systemd meant for the daemon's process alone (NOTIFY_SOCKET,
// WATCHDOG_*, LISTEN_*, INVOCATION_ID, SYSTEMD_EXEC_PID, MEMORY_PRESSURE_*), PATH first (a
// standard one when none is set). Exits are collected with ReapExited when
// the loop sees SIGCHLD. The Spawner keeps pointers into the environment it was given, which
// must outlive it (the process's own environ does).
#pragma once

#include <spawn.h>
#include <sys/types.h>

#include <cstddef>

#include "jsn/base/status.h"

namespace jsn {

// The PATH a hook gets when the daemon's environment has none, as an environment entry and
// as the value alone.
constexpr char kDefaultPathEntry[] =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr const char* kDefaultPath = kDefaultPathEntry + sizeof "PATH=" - 1;

struct ExitStatus {
  bool signaled = false;  // killed by a signal rather than exited
  int code = 0;           // the exit code, or the signal number when signaled
  bool ok() const { return !signaled && code == 0; }
};
ExitStatus DecodeWaitStatus(int wait_status);
// "exit 0", "exit 3", "killed by signal 9 (Killed)"; returns `buffer`.
const char* DescribeExitStatus(ExitStatus status, char* buffer, size_t capacity);

class Spawner {
 public:
  // Entries passed on, PATH included: the others past it are dropped.
  static constexpr size_t kMaxEnvironment = 256;

  Spawner() = default;
  Spawner(const Spawner&) = delete;
  Spawner& operator=(const Spawner&) = delete;
  ~Spawner();

  // Captures the children's environment from `environment` (NULL-terminated) and builds the
  // spawn attributes and file actions every hook shares, so Spawn itself allocates nothing.
  // Fails ("spawn-failed") only if libc cannot build them (out of memory); Spawn then refuses
  // ("spawner-not-ready").
  Status Init(const char* const* environment);

  // Starts argv[0] (an absolute path) with `argv` (NULL-terminated). Rules: "program-missing"
  // (ENOENT), "program-not-executable" (EACCES, ENOEXEC, ...), "spawn-failed" (anything else,
  // e.g. EAGAIN at the process limit).
  Status Spawn(const char* const* argv, pid_t* pid) const;

  // Reaps one exited child without blocking: true with its pid and status, false when no
  // child has exited (or there are none).
  bool ReapExited(pid_t* pid, ExitStatus* status) const;

  size_t environment_size() const { return environment_count_; }
  const char* const* environment() const { return environment_; }

 private:
  const char* environment_[kMaxEnvironment + 1] = {};
  size_t environment_count_ = 0;
  posix_spawnattr_t attributes_;
  posix_spawn_file_actions_t actions_;
  bool have_attributes_ = false;
  bool have_actions_ = false;
  bool ready_ = false;
};

}  // namespace jsn
