#include "jsn/daemon/daemon.h"

#include <signal.h>
#include <sys/epoll.h>

#include <cstring>

#include "jsn/base/log.h"
#include "jsn/daemon/bus_session.h"
#include "jsn/daemon/hook.h"
#include "jsn/daemon/hook_runner.h"
#include "jsn/daemon/loop.h"
#include "jsn/daemon/service_manager_link.h"
#include "jsn/daemon/state_keeper.h"
#include "jsn/daemon/tracker.h"

namespace jsn {
namespace {

static_assert(Tracker::kMaxUnits >= kMaxWatchedUnits && Watch::kMaxUnits >= kMaxWatchedUnits,
              "every unit the command line accepts must fit the tracker and the watch");

constexpr size_t kMaxEventsPerWait = 8;
// On SIGTERM, running hooks get this long to finish: systemd's own stop timeout (90 s by
// default) is far longer, and a hook cut short may leave the charm half-way.
constexpr MonotonicTime kStopGrace = std::chrono::seconds(10);

// The value of `name` in `environment` (NAME=VALUE entries), or nullptr.
const char* FindEnvironment(char** environment, const char* name) {
  size_t length = strlen(name);
  for (char** entry = environment; entry != nullptr && *entry != nullptr; ++entry) {
    if (strncmp(*entry, name, length) == 0 && (*entry)[length] == '=') return *entry + length + 1;
  }
  return nullptr;
}

// Logs why the daemon cannot go on, and returns false: every step returns what this does, and
// its false means "stop" (Run then returns exit status 1).
bool LogFatalError(const char* doing, const Status& status) {
  JSN_LOG_ERROR("%s: %s", doing, status.message());
  return false;
}

// The daemon's life, top to bottom in Run(): connect, subscribe, watch, decide, deliver. It
// wires the parts: the BusSession (the connection and the Watch) reports what systemd said,
// which goes into the Tracker, whose deliveries the HookRunner runs and the StateKeeper
// records; the ServiceManagerLink tells systemd how it goes. The Daemon itself keeps the loop,
// the records and the stop policy.
class Daemon final : public BusSessionListener {
 public:
  Daemon(const Options& options, char** environment)
      : options_(options),
        environment_(environment),
        bus_(loop_, *this),
        // A failed hook is retried (1 s doubling to 5 min) unless a newer state makes it moot.
        tracker_(options.watch_count, RetryPolicy{.retry_failed_hooks = true}),
        hook_runner_(options, tracker_, records_) {}

  // The daemon's life: set up, connect and watch, then one pass of the loop per wake-up
  // (decide and deliver, record, reconnect when due, sleep until the next event) until a
  // SIGTERM's running hooks have ended.
  int Run() {
    if (!Start()) return hook_runner_.charm_dir_gone() ? kExitCharmDirGone : 1;
    for (;;) {
      MonotonicTime now = MonotonicNow();
      service_manager_.PingWatchdogIfDue(now);
      // After SIGHUP: READY=1 again once every state has been re-read.
      // A bus lost meanwhile: once the reconnect's states are in.
      if (service_manager_.reloading() && bus_.all_states_in()) service_manager_.FinishReload();
      if (hook_runner_.charm_dir_gone()) {
        SaveState();
        return kExitCharmDirGone;
      }
      if (stopping_) {
        if (DoneStopping(now)) break;
      } else {
        hook_runner_.StartDue(now);
      }
      // What the last events changed (states seen, hooks ended), in one write and only when
      // something changed. After the hooks they call for have started, so the write's fsync
      // never delays a hook.
      SaveState();
      // While stopping, nothing reconnects: the stop ends as it would have.
      if (!stopping_ && !bus_.ReconnectIfDue(now)) return 1;
      hook_runner_.HandleDeadlines(now);  // running hooks too, while stopping
      if (!ArmNextWakeup(now)) return 1;
      if (!WaitAndHandleEvents()) return 1;
    }
    JSN_LOG_INFO("stopping");
    return 0;
  }

  // BusSessionListener: what systemd reported goes into the tracker.
  void OnInitialState(size_t unit, std::string_view state, bool known) override {
    Hook saved = state_.saved(unit);
    if (known) {
      tracker_.RecordInitialState(unit, state, saved);
      // The transition owed since the daemon last ran keeps the record saved with it, which a
      // reboot or a restart has not reset (systemd starts a unit afresh at boot); otherwise
      // the record is what systemd says now.
      const Transition& saved_record = state_.saved_record(unit);
      Hook wanted = tracker_.unit(unit).wanted;
      bool owed = wanted != Hook::kNone && wanted != tracker_.unit(unit).delivered;
      records_[unit] =
          owed && HookForState(saved_record.state) == wanted ? saved_record : bus_.transition(unit);
      Hook now = HookForState(state);
      if (saved != Hook::kNone && now != Hook::kNone && now != saved) {
        JSN_LOG_INFO("%s: initially %.*s, but %s was delivered last: delivering the change",
                     UnitName(unit), static_cast<int>(state.size()), state.data(), HookName(saved));
      } else {
        JSN_LOG_INFO("%s: initially %.*s", UnitName(unit), static_cast<int>(state.size()),
                     state.data());
      }
    } else {
      tracker_.RecordUnknown(unit, saved);
      records_[unit] = state_.saved_record(unit);
      JSN_LOG_INFO("%s: initial state unknown (not loaded?)", UnitName(unit));
    }
  }
  void OnState(size_t unit, std::string_view state) override {
    Observation observation = tracker_.ObserveState(unit, state);
    // The latest settled state's record: the one a hook started now for it carries.
    if (observation != Observation::kInPassing) records_[unit] = bus_.transition(unit);
    JSN_LOG_DEBUG("%s: %.*s (%s)", UnitName(unit), static_cast<int>(state.size()), state.data(),
                  ObservationName(observation));
    // A new hook due (or one no longer due) changes the unit's delivery state: it is written
    // once the loop has read every message at hand and started the hooks due (see Run), so a
    // unit flipping thousands of times costs one write per batch, not one fsync per signal.
  }
  void OnReady() override {
    // Matches are in place, Subscribe returned and every initial state is known: from here on
    // no transition can be missed, so `systemctl start` may return.
    // The log line comes first, so whoever sees READY=1 finds it already written.
    JSN_LOG_INFO("watching %zu unit%s for %s; hooks run with %s", options_.watch_count,
                 options_.watch_count == 1 ? "" : "s", options_.juju_unit, options_.juju_exec);
    watching_ = true;
    SaveState();  // the baselines: with no state file yet, what the daemon found is recorded
    service_manager_.Ready(options_.watch_count, options_.juju_unit);
  }
  void OnBusLost() override { service_manager_.SendStatus("bus connection lost; reconnecting"); }
  void OnWatchingAgain() override {
    service_manager_.SendStatus("watching again after a reconnect");
  }

 private:
  const char* UnitName(size_t unit) const { return options_.watches[unit].unit; }

  // What the state file records, once every initial state is in (OnReady): before that the
  // tracker lacks the hooks read at start-up for some units, and the file would lose them.
  void SaveState() {
    if (watching_) state_.Save(tracker_, records_);
  }

  // Logging, the loop, the spawner, the notifier, the state file, the bus: false (logged) when
  // the daemon cannot start.
  bool Start() {
    SetDebugLogging(options_.debug);
    SetJournalPriorityPrefix(IsJournalStream(FindEnvironment(environment_, "JOURNAL_STREAM"), 2));
    // First, so that SIGPIPE is blocked before anything is written.
    Status status = loop_.Open();
    if (!status.ok()) return LogFatalError("cannot set up the event loop", status);
    if (hook_runner_.CheckCharmDirGone()) return false;
    status = hook_runner_.Init(environment_);
    if (!status.ok()) return LogFatalError("cannot prepare to start hooks", status);
    // sd_notify: a bad value is reported and the daemon runs on without.
    service_manager_.Open(FindEnvironment(environment_, "NOTIFY_SOCKET"),
                          FindEnvironment(environment_, "WATCHDOG_USEC"),
                          FindEnvironment(environment_, "WATCHDOG_PID"), MonotonicNow());

    for (size_t i = 0; i < options_.watch_count; ++i) unit_names_[i] = options_.watches[i].unit;
    std::span<const char* const> units(unit_names_, options_.watch_count);
    state_.Load(options_, units);
    // The loop connects, as it reconnects.
    return bus_.Start(options_.bus_address, units, MonotonicNow());
  }

  // While stopping, hooks already running may finish (their end is logged) and nothing new
  // starts: true once none runs, or the grace is over (the state is saved then).
  bool DoneStopping(MonotonicTime now) {
    bool done = !tracker_.AnyRunning();
    if (!done && now >= stop_deadline_) {
      JSN_LOG_WARNING("hooks still running after %s s; leaving them",
                      FormatSeconds(kStopGrace, 0).text);
      done = true;
    }
    if (done) SaveState();
    return done;
  }

  // The timer for the earliest of: a delivery or retry due, a reconnect, a hook's warning, the
  // watchdog (the stop's deadline instead of deliveries while stopping); and the bus's epoll
  // interest (EPOLLOUT only while output waits).
  bool ArmNextWakeup(MonotonicTime now) {
    MonotonicTime wakeup = bus_.more_input() ? now
                           : stopping_       ? stop_deadline_
                                             : tracker_.NextWakeup();
    if (!stopping_ && bus_.next_attempt() < wakeup) wakeup = bus_.next_attempt();
    MonotonicTime overdue = hook_runner_.NextDeadline();
    if (overdue < wakeup) wakeup = overdue;
    MonotonicTime ping = service_manager_.next_watchdog_ping();
    Status status = loop_.ArmTimer(wakeup < ping ? wakeup : ping);
    if (!status.ok()) return LogFatalError("cannot arm the timer", status);
    return bus_.UpdateInterest();
  }

  // One epoll_wait, and each event handled: signals, the timer, the bus's output, then a batch
  // of its input (or a step of opening it).
  bool WaitAndHandleEvents() {
    epoll_event events[kMaxEventsPerWait];
    size_t count = 0;
    Status status = loop_.Wait(events, kMaxEventsPerWait, &count);
    if (!status.ok()) return LogFatalError("cannot wait for events", status);
    for (size_t i = 0; i < count; ++i) {
      uint64_t tag = events[i].data.u64;
      if (tag == Loop::kSignalTag) {
        if (!HandleSignals()) return false;
      } else if (tag == Loop::kTimerTag) {
        loop_.AcknowledgeTimer();
      } else if (tag == BusSession::kTag) {
        if (!bus_.HandleReadiness(events[i].events)) return false;
      }
    }
    return bus_.ReceiveIfWaiting();
  }

  bool HandleSignals() {
    int signals[Loop::kMaxSignalsPerRead];
    size_t count = 0;
    Status status = loop_.ReadSignals(signals, Loop::kMaxSignalsPerRead, &count);
    if (!status.ok()) return LogFatalError("cannot read signals", status);
    for (size_t i = 0; i < count; ++i) {
      switch (signals[i]) {
        case SIGTERM:
        case SIGINT:
          if (!stopping_) {
            service_manager_.Stopping();
            JSN_LOG_INFO("received %s; stopping once running hooks end",
                         signals[i] == SIGTERM ? "SIGTERM" : "SIGINT");
            stopping_ = true;
            stop_deadline_ = MonotonicNow() + kStopGrace;
          }
          break;
        case SIGHUP:
          if (bus_.down()) {
            JSN_LOG_INFO(
                "received SIGHUP while the bus is away: the reconnect re-reads every state");
            break;
          }
          JSN_LOG_INFO("received SIGHUP: re-reading every state");
          // READY=1 follows once every answer is in (Run asks bus_.all_states_in()).
          if (bus_.watch_ready()) service_manager_.BeginReload(MonotonicNow());
          if (!bus_.RereadStates()) return false;
          break;
        case SIGCHLD:
          if (hook_runner_.ReapExited()) SaveState();
          break;
        default:
          break;
      }
    }
    return true;
  }

  const Options& options_;
  char** environment_;
  Loop loop_;
  BusSession bus_;
  ServiceManagerLink service_manager_;
  Tracker tracker_;
  // What systemd said with each unit's latest settled state (the transition a hook started now
  // is for), kept in the state file.
  Transition records_[kMaxWatchedUnits];
  HookRunner hook_runner_;
  StateKeeper state_;
  const char* unit_names_[kMaxWatchedUnits] = {};
  bool watching_ = false;  // every initial state is in (OnReady): the state may be saved
  bool stopping_ = false;
  MonotonicTime stop_deadline_{0};
};

}  // namespace

int RunDaemon(const Options& options, char** environment) {
  // Large (fixed arrays for every unit): kept off the stack.
  static Daemon daemon(options, environment);
  return daemon.Run();
}

}  // namespace jsn
