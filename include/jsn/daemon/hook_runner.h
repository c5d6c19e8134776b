// HookRunner: runs what the Tracker decides, as processes. Each delivery the Tracker says is due
// is started as `juju-exec UNIT hooks/service-ALIAS-KIND` (jsn/daemon/hook.h) by the Spawner,
// reaped when the loop sees SIGCHLD, warned of (never killed) once it runs past
// --hook-timeout, and its end told to the Tracker, which decides what runs next and when a
// failure is retried. Every start, end, kill and retry is logged here.
//
// After a hook fails the runner looks at --charm-dir: a charm directory that is gone means the
// Juju unit was removed, so it starts no more hooks, and the daemon exits (kExitCharmDirGone).
//
// The runner keeps references to the Options and the Tracker, which must outlive it (the
// daemon's). What it knows of each running process is in fixed arrays; nothing is allocated.
#pragma once

#include <sys/types.h>

#include "jsn/base/monotonic_time.h"
#include "jsn/base/status.h"
#include "jsn/daemon/daemon.h"
#include "jsn/daemon/hook.h"
#include "jsn/daemon/spawner.h"
#include "jsn/daemon/tracker.h"
#include "jsn/systemd/transition.h"

namespace jsn {

class HookRunner {
 public:
  // `records` (one per watched unit, the daemon's) is what each unit's next hook carries: the
  // record of the latest settled state, which is the state that calls for the hook due.
  HookRunner(const Options& options, Tracker& tracker, const Transition* records)
      : options_(options), tracker_(tracker), records_(records) {}
  HookRunner(const HookRunner&) = delete;
  HookRunner& operator=(const HookRunner&) = delete;

  // Prepares the Spawner with the environment hooks inherit (see Spawner::Init).
  Status Init(const char* const* environment) { return spawner_.Init(environment); }

  // Whether --charm-dir was given and is no longer a directory (logged once): retrying the
  // unit's hooks, or being restarted to retry them, would go on forever. Asked at start-up and
  // after a hook fails, never on the per-message path; charm_dir_gone() keeps the answer.
  bool CheckCharmDirGone();
  bool charm_dir_gone() const { return charm_dir_gone_; }

  // Starts every hook due at `now`. One that cannot start counts as a failed run (the Tracker
  // retries it); none starts once the charm directory is gone.
  void StartDue(MonotonicTime now);

  // After SIGCHLD: reaps every hook that has exited and tells the Tracker. True when one did,
  // so what is delivered (and the state file) may have changed.
  bool ReapExited();

  // Warns (once) of every hook running past --hook-timeout at `now`, and leaves it to run.
  // Called by the loop's pass, as StartDue is, so that its wake-up arithmetic only asks
  // NextDeadline.
  void HandleDeadlines(MonotonicTime now);

  // When the next running hook not yet warned of runs past --hook-timeout; kNever when none
  // will. After HandleDeadlines(now) it is later than `now`.
  MonotonicTime NextDeadline() const;

 private:
  // A hook's process; the Tracker's UnitState says which hook it is (`running`).
  struct Process {
    pid_t pid = 0;  // 0: none
    MonotonicTime started{0};
    bool warned = false;                            // past --hook-timeout, and logged
    char state[Tracker::kMaxStateLength + 1] = {};  // the state that called for it, for logs
  };

  // "hooks/service-ALIAS-KIND" of `unit`, for a log line.
  HookPath PathOf(size_t unit, Hook hook) const;
  void LogRetry(size_t unit, MonotonicTime now) const;

  const Options& options_;
  Tracker& tracker_;
  const Transition* records_;
  Spawner spawner_;
  bool charm_dir_gone_ = false;
  Process processes_[kMaxWatchedUnits];
};

}  // namespace jsn
