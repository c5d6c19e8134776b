#include "jsn/daemon/hook_runner.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "jsn/base/log.h"
#include "jsn/daemon/hook.h"
#include "jsn/daemon/loop.h"

namespace jsn {

// Every alias the command line accepts makes a hook path that fits, with room for
// "hooks/service-", the dash and a kind's name.
static_assert(kMaxAliasLength + 32 <= HookPath::kMaxLength, "hook paths must fit HookPath");

bool HookRunner::CheckCharmDirGone() {
  if (charm_dir_gone_) return true;
  if (options_.charm_dir == nullptr) return false;
  struct stat charm_dir;
  if (stat(options_.charm_dir, &charm_dir) == 0) {
    if (S_ISDIR(charm_dir.st_mode)) return false;
  } else if (errno != ENOENT && errno != ENOTDIR) {
    return false;  // e.g. EACCES or EIO: not known to be gone
  }
  JSN_LOG_WARNING(
      "the charm directory %s is gone (the Juju unit was removed): exiting, "
      "with no more hooks to run",
      options_.charm_dir);
  charm_dir_gone_ = true;
  return true;
}

HookPath HookRunner::PathOf(size_t unit, Hook hook) const {
  HookPath path;
  // Fits (see the static_assert above), and the hook is one the Tracker took: never refused.
  static_cast<void>(FormatHookPath(options_.watches[unit].alias, hook, &path));
  return path;
}

void HookRunner::StartDue(MonotonicTime now) {
  Delivery delivery;
  // Taking a due hook leaves its unit's delivery state as it was (pending or failing, the same
  // hook); only a hook that could not be started changes it, and the daemon saves the state
  // once every due hook has started.
  while (!charm_dir_gone_ && tracker_.TakeNextDelivery(now, &delivery)) {
    const WatchedUnit& watched = options_.watches[delivery.unit];
    Process& process = processes_[delivery.unit];
    memcpy(process.state, tracker_.unit(delivery.unit).state, sizeof process.state);
    HookCommand command;
    Status status = BuildHookCommand(options_.juju_exec, options_.juju_unit, watched.alias,
                                     delivery.hook, records_[delivery.unit], &command);
    pid_t pid = 0;
    if (status.ok()) status = spawner_.Spawn(command.argv, &pid);
    if (!status.ok()) {
      // A failed delivery, retried with backoff: logged as an error once per transition (the
      // first attempt), the retries at debug level, so a missing juju-exec never floods.
      if (tracker_.unit(delivery.unit).failures == 0) {
        JSN_LOG_ERROR("%s: %s -> %s: not run: %s", watched.unit, process.state, command.path.text,
                      status.message());
      } else {
        JSN_LOG_DEBUG("%s: %s failed to start again: %s", watched.unit, command.path.text,
                      status.message());
      }
      tracker_.HookFinished(delivery.unit, false, now);
      CheckCharmDirGone();  // it may be why
      LogRetry(delivery.unit, now);
      continue;
    }
    process.pid = pid;
    process.started = now;
    JSN_LOG_DEBUG("%s: %s -> running %s %s %s (pid %d)", watched.unit, process.state,
                  command.argv[0], command.argv[1], command.argv[2], static_cast<int>(pid));
  }
}

bool HookRunner::ReapExited() {
  bool any = false;
  pid_t pid = 0;
  ExitStatus exit;
  while (spawner_.ReapExited(&pid, &exit)) {
    MonotonicTime now = MonotonicNow();
    for (size_t unit = 0; unit < options_.watch_count; ++unit) {
      Process& process = processes_[unit];
      if (process.pid != pid) continue;
      const WatchedUnit& watched = options_.watches[unit];
      HookPath path = PathOf(unit, tracker_.unit(unit).running);
      char exit_text[64];
      DescribeExitStatus(exit, exit_text, sizeof exit_text);
      Log(exit.ok() ? LogLevel::kInfo : LogLevel::kWarning, "%s: %s -> %s: %s after %s s",
          watched.unit, process.state, path.text, exit_text,
          FormatSeconds(now - process.started, 3).text);
      process.pid = 0;
      process.warned = false;
      tracker_.HookFinished(unit, exit.ok(), now);
      if (!exit.ok()) CheckCharmDirGone();  // it may be why
      LogRetry(unit, now);
      any = true;
      break;
    }
  }
  return any;
}

// After a failure: says when the hook runs again (nothing when a newer state made it moot).
void HookRunner::LogRetry(size_t unit, MonotonicTime now) const {
  const Tracker::UnitState& state = tracker_.unit(unit);
  if (state.failures == 0 || state.running != Hook::kNone) return;
  JSN_LOG_INFO("%s: retrying %s in %s s (failure %u)", options_.watches[unit].unit,
               PathOf(unit, state.wanted).text, FormatSeconds(state.retry_at - now, 0).text,
               state.failures);
}

void HookRunner::HandleDeadlines(MonotonicTime now) {
  MonotonicTime timeout = std::chrono::seconds(options_.hook_timeout_seconds);
  for (size_t unit = 0; unit < options_.watch_count; ++unit) {
    Process& process = processes_[unit];
    if (process.pid == 0 || process.warned || now < process.started + timeout) continue;
    // Not killed: Juju queued the request, and runs it even when its client is killed, so a
    // kill and a retry would only run the hook twice.
    JSN_LOG_WARNING("%s: %s still running after %u s (queued behind the machine lock?): waiting",
                    options_.watches[unit].unit, PathOf(unit, tracker_.unit(unit).running).text,
                    options_.hook_timeout_seconds);
    process.warned = true;
  }
}

MonotonicTime HookRunner::NextDeadline() const {
  MonotonicTime timeout = std::chrono::seconds(options_.hook_timeout_seconds);
  MonotonicTime next = kNever;
  for (size_t unit = 0; unit < options_.watch_count; ++unit) {
    const Process& process = processes_[unit];
    if (process.pid == 0 || process.warned) continue;
    MonotonicTime deadline = process.started + timeout;
    if (deadline < next) next = deadline;
  }
  return next;
}

}  // namespace jsn
