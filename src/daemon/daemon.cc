#include "jsn/daemon/daemon.h"

#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "jsn/base/log.h"
#include "jsn/bus/connection.h"
#include "jsn/daemon/hook.h"
#include "jsn/daemon/hook_runner.h"
#include "jsn/daemon/loop.h"
#include "jsn/daemon/service_manager_link.h"
#include "jsn/daemon/state_keeper.h"
#include "jsn/daemon/tracker.h"
#include "jsn/systemd/watch.h"

namespace jsn {
namespace {

static_assert(Tracker::kMaxUnits >= kMaxWatchedUnits && Watch::kMaxUnits >= kMaxWatchedUnits,
              "every unit the command line accepts must fit the tracker and the watch");

constexpr uint64_t kBusTag = 3;
constexpr size_t kMaxEventsPerWait = 8;
// On SIGTERM, running hooks get this long to finish: systemd's own stop timeout (90 s by
// default) is far longer, and a hook cut short may leave the charm half-way.
constexpr MonotonicTime kStopGrace = std::chrono::seconds(10);
constexpr MonotonicTime kFirstReconnectDelay = std::chrono::milliseconds(100);
constexpr MonotonicTime kMaxReconnectDelay = std::chrono::seconds(5);
// A connection attempt that has not said Hello by then is abandoned (sd-bus's default method
// timeout); the loop serves everything else meanwhile.
constexpr MonotonicTime kOpenTimeout = std::chrono::seconds(25);
// Messages handled per wake-up: a flood (any local user may send us unicast signals) cannot
// hold back signals, hooks and timers, which are served between batches.
constexpr int kMaxMessagesPerWakeup = 64;

// The value of `name` in `environment` (NAME=VALUE entries), or nullptr.
const char* FindEnvironment(char** environment, const char* name) {
  size_t length = strlen(name);
  for (char** entry = environment; entry != nullptr && *entry != nullptr; ++entry) {
    if (strncmp(*entry, name, length) == 0 && (*entry)[length] == '=') return *entry + length + 1;
  }
  return nullptr;
}

// The daemon's life, top to bottom in Run(): connect, subscribe, watch, decide, deliver. It is
// the bus's MessageSink (the Watch's calls go out on the connection) and the Watch's listener
// (what systemd reports goes into the Tracker, whose deliveries the HookRunner runs); the loop
// only moves bytes and signals.
class Daemon final : public MessageSink, public WatchListener {
 public:
  Daemon(const Options& options, char** environment)
      : options_(options),
        environment_(environment),
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
      if (service_manager_.reloading() && !bus_down_ && !reconnecting_ && !watch_.rereading()) {
        service_manager_.FinishReload();
      }
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
      if (bus_down_ && !stopping_ && now >= reconnect_at_ && !Reconnect(now)) return 1;
      hook_runner_.HandleDeadlines(now);  // running hooks too, while stopping
      if (!ArmNextWakeup(now)) return 1;
      if (!WaitAndHandleEvents()) return 1;
    }
    JSN_LOG_INFO("stopping");
    return 0;
  }

  // MessageSink: the Watch's calls go out on the bus.
  uint32_t NextSerial() override { return bus_.NextSerial(); }
  Status Send(std::span<const uint8_t> message) override { return bus_.Send(message); }

  // WatchListener: what systemd reported goes into the tracker.
  void OnInitialState(size_t unit, std::string_view state, bool known) override {
    if (reconnecting_) {
      // After a reconnect the tracker keeps its baselines: this is just the latest state.
      if (known) OnState(unit, state);
      return;
    }
    Hook saved = state_.saved(unit);
    if (known) {
      tracker_.RecordInitialState(unit, state, saved);
      // The transition owed since the daemon last ran keeps the record saved with it, which a
      // reboot or a restart has not reset (systemd starts a unit afresh at boot); otherwise
      // the record is what systemd says now.
      const Transition& saved_record = state_.saved_record(unit);
      Hook wanted = tracker_.unit(unit).wanted;
      bool owed = wanted != Hook::kNone && wanted != tracker_.unit(unit).delivered;
      records_[unit] = owed && HookForState(saved_record.state) == wanted ? saved_record
                                                                          : watch_.transition(unit);
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
    if (observation != Observation::kInPassing) records_[unit] = watch_.transition(unit);
    JSN_LOG_DEBUG("%s: %.*s (%s)", UnitName(unit), static_cast<int>(state.size()), state.data(),
                  ObservationName(observation));
    // A new hook due (or one no longer due) changes the unit's delivery state: it is written
    // once the loop has read every message at hand and started the hooks due (see Run), so a
    // unit flipping thousands of times costs one write per batch, not one fsync per signal.
  }
  void OnReady() override {
    if (reconnecting_) {
      reconnecting_ = false;
      JSN_LOG_INFO("watching again after the reconnect");
      service_manager_.SendStatus("watching again after a reconnect");
      return;
    }
    // Matches are in place, Subscribe returned and every initial state is known: from here on
    // no transition can be missed, so `systemctl start` may return.
    // The log line comes first, so whoever sees READY=1 finds it already written.
    JSN_LOG_INFO("watching %zu unit%s for %s; hooks run with %s", options_.watch_count,
                 options_.watch_count == 1 ? "" : "s", options_.juju_unit, options_.juju_exec);
    watching_ = true;
    SaveState();  // the baselines: with no state file yet, what the daemon found is recorded
    service_manager_.Ready(options_.watch_count, options_.juju_unit);
  }

 private:
  const char* UnitName(size_t unit) const { return options_.watches[unit].unit; }

  // What the state file records, once every initial state is in (OnReady): before that the
  // tracker lacks the hooks read at start-up for some units, and the file would lose them.
  void SaveState() {
    if (watching_) state_.Save(tracker_, records_);
  }

  // Logging, the spawner, the notifier, the loop, the state file, the bus, the watch: false
  // (logged) when the daemon cannot start.
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
    state_.Load(options_, std::span<const char* const>(unit_names_, options_.watch_count));

    // The loop connects, as it reconnects (at once; a first failure ends the daemon).
    status = ParseAddressList(options_.bus_address, &addresses_);
    if (!status.ok()) return LogFatalError("cannot connect to the bus", status);
    bus_down_ = true;
    reconnect_at_ = MonotonicNow();
    return true;
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
    MonotonicTime wakeup = more_input_ ? now : stopping_ ? stop_deadline_ : tracker_.NextWakeup();
    if (bus_down_ && !stopping_ && reconnect_at_ < wakeup) wakeup = reconnect_at_;
    MonotonicTime overdue = hook_runner_.NextDeadline();
    if (overdue < wakeup) wakeup = overdue;
    MonotonicTime ping = service_manager_.next_watchdog_ping();
    Status status = loop_.ArmTimer(wakeup < ping ? wakeup : ping);
    if (!status.ok()) return LogFatalError("cannot arm the timer", status);
    return UpdateBusInterest();
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
      uint32_t ready = events[i].events;
      if (tag == Loop::kSignalTag) {
        if (!HandleSignals()) return false;
      } else if (tag == Loop::kTimerTag) {
        loop_.AcknowledgeTimer();
      } else if (tag == kBusTag) {
        if (bus_down_) {
          if (bus_.opening() && !AdvanceOpening()) return false;
          continue;
        }
        if ((ready & EPOLLOUT) != 0 && !FlushBus()) return false;
        if (!bus_down_ && (ready & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) more_input_ = true;
      }
    }
    return !more_input_ || ReceiveFromBus();
  }

  // Logs why the daemon cannot go on, and returns false: every step returns what this does, and
  // its false means "stop" (Run then returns exit status 1).
  bool LogFatalError(const char* doing, const Status& status) {
    JSN_LOG_ERROR("%s: %s", doing, status.message());
    return false;
  }

  bool UpdateBusInterest() {
    if (!bus_.is_open()) return true;
    uint32_t events = EPOLLIN | (bus_.wants_write() ? EPOLLOUT : 0u);
    if (events == bus_events_) return true;
    Status status = loop_.Modify(bus_.fd(), events, kBusTag);
    if (!status.ok()) return LogFatalError("cannot watch the bus", status);
    bus_events_ = events;
    return true;
  }

  bool FlushBus() {
    Status status = bus_.Flush();
    if (!status.ok() && !bus_.is_open()) return BusLost(status);
    return true;
  }

  // The matches, Subscribe and the initial Gets, on a fresh Watch (a new connection has none).
  Status StartWatching() {
    Status status =
        watch_.Init(std::span<const char* const>(unit_names_, options_.watch_count), this);
    if (status.ok()) status = watch_.Start(this);
    return status;
  }

  // The bus went away (dbus-daemon restarted): reconnect with a backoff, 100 ms doubling to 5 s
  // with jitter, so a bus that stays away costs a few wake-ups, never a busy loop. Hooks already
  // running go on and are reaped as usual. While stopping, nothing reconnects: the stop ends
  // as it would have.
  bool BusLost(const Status& status) {
    JSN_LOG_ERROR("lost the bus connection: %s", status.message());
    bus_.Close();  // its descriptor leaves the epoll set as it closes
    bus_down_ = true;
    more_input_ = false;
    reconnect_delay_ = kFirstReconnectDelay;
    reconnect_at_ = MonotonicNow() + Jittered(reconnect_delay_);
    service_manager_.SendStatus("bus connection lost; reconnecting");
    return true;
  }

  // `delay` +-20 %, from a small xorshift: daemons that lost the same bus do not all return at
  // once.
  MonotonicTime Jittered(MonotonicTime delay) {
    jitter_state_ ^= jitter_state_ << 13;
    jitter_state_ ^= jitter_state_ >> 7;
    jitter_state_ ^= jitter_state_ << 17;
    int64_t span = delay.count() / 5;
    int64_t offset =
        static_cast<int64_t>(jitter_state_ % static_cast<uint64_t>(2 * span + 1)) - span;
    return MonotonicTime(delay.count() + offset);
  }

  // Reconnecting, when reconnect_at_ comes: a new attempt on the next address, or the end of
  // one that got no answer in time. An attempt's steps (authentication, Hello) are taken as the
  // socket becomes ready (AdvanceOpening), so signals, hooks and the watchdog are served
  // meanwhile, even by a bus that accepts and never answers.
  bool Reconnect(MonotonicTime now) {
    Status status = Status::Failure("connect-timeout", "expected Hello's reply within 25 s");
    if (!bus_.is_open()) {
      status = bus_.Begin(addresses_.entries[next_address_++ % addresses_.count]);
      if (status.ok()) status = loop_.Add(bus_.fd(), EPOLLIN, kBusTag);
      if (status.ok()) {
        bus_events_ = EPOLLIN;
        reconnect_at_ = now + kOpenTimeout;
        return true;
      }
    }
    return RetryLater(now, status);
  }

  // A failed attempt: the next one after the backoff; none when the daemon never connected.
  bool RetryLater(MonotonicTime now, const Status& status) {
    bus_.Close();
    if (!connected_) return LogFatalError("cannot connect to the bus", status);
    reconnect_delay_ =
        reconnect_delay_ * 2 < kMaxReconnectDelay ? reconnect_delay_ * 2 : kMaxReconnectDelay;
    reconnect_at_ = now + Jittered(reconnect_delay_);
    JSN_LOG_DEBUG("cannot reconnect yet (%s); next try in %s s", status.message(),
                  FormatSeconds(reconnect_at_ - now, 3).text);
    return true;
  }

  // A step of the attempt; once it has said Hello, the watch starts. After a reconnect every
  // state is read again and reported as a state (not a baseline), so a change made while the
  // bus was away is delivered.
  bool AdvanceOpening() {
    Status status = bus_.Advance();
    if (!status.ok()) return RetryLater(MonotonicNow(), status);
    if (bus_.opening()) return true;
    bus_down_ = false;
    reconnecting_ = connected_;
    connected_ = true;
    Log(reconnecting_ ? LogLevel::kInfo : LogLevel::kDebug, "%sconnected to %s as %.*s%s",
        reconnecting_ ? "re" : "", options_.bus_address,
        static_cast<int>(bus_.unique_name().size()), bus_.unique_name().data(),
        reconnecting_ ? "; re-reading every state" : "");
    status = StartWatching();
    if (!status.ok()) {
      if (!bus_.is_open()) return BusLost(status);
      return LogFatalError("cannot start watching systemd", status);
    }
    return ReceiveFromBus();
  }

  // At most kMaxMessagesPerWakeup messages; more_input_ says whether more may wait.
  bool ReceiveFromBus() {
    more_input_ = true;
    for (int budget = kMaxMessagesPerWakeup; budget > 0; --budget) {
      Incoming incoming;
      bool have = false;
      Status status = bus_.Receive(&incoming, &have);
      if (!status.ok()) {
        if (!bus_.is_open()) return BusLost(status);
        JSN_LOG_DEBUG("skipping a message: %s", status.message());
        continue;
      }
      if (!have) {
        more_input_ = false;
        return true;
      }
      if (incoming.message.header().type == MessageType::kMethodCall) {
        // Peer's Ping and GetMachineId are answered, anything else refused: either way the
        // caller is spared its timeout.
        status = bus_.AnswerCall(incoming.message);
        if (!status.ok() && !bus_.is_open()) return BusLost(status);
        continue;
      }
      status = watch_.HandleMessage(incoming.message, this);
      if (!status.ok()) {
        return LogFatalError("cannot watch systemd", status);
      }
    }
    return true;
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
          if (bus_down_) {
            JSN_LOG_INFO(
                "received SIGHUP while the bus is away: the reconnect re-reads every state");
            break;
          }
          JSN_LOG_INFO("received SIGHUP: re-reading every state");
          if (watch_.ready()) {
            // READY=1 follows once every answer is in (the loop checks watch_.rereading()).
            service_manager_.BeginReload(MonotonicNow());
          }
          status = watch_.RereadStates(this);
          // A bus that went away meanwhile (EPIPE, ECONNRESET) is reconnected, as anywhere.
          if (!status.ok() && !bus_.is_open()) return BusLost(status);
          if (!status.ok()) return LogFatalError("cannot re-read states", status);
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
  Connection bus_;
  Watch watch_;
  Tracker tracker_;
  // What systemd said with each unit's latest settled state (the transition a hook started now
  // is for), kept in the state file.
  Transition records_[kMaxWatchedUnits];
  HookRunner hook_runner_;
  uint32_t bus_events_ = EPOLLIN;
  bool stopping_ = false;
  MonotonicTime stop_deadline_{0};
  ServiceManagerLink service_manager_;
  StateKeeper state_;
  const char* unit_names_[kMaxWatchedUnits] = {};
  bool watching_ = false;      // every initial state is in (OnReady): the state may be saved
  bool bus_down_ = false;      // waiting to reconnect, or reconnecting (bus_.opening())
  bool connected_ = false;     // once connected: a failed attempt is retried, not fatal
  bool more_input_ = false;    // the last batch used its whole budget: read again at once
  bool reconnecting_ = false;  // reconnected; the re-read states are not in yet
  MonotonicTime reconnect_delay_{0};
  MonotonicTime reconnect_at_ = kNever;  // the next attempt, or the current one's deadline
  AddressList addresses_;
  size_t next_address_ = 0;
  uint64_t jitter_state_ = uint64_t{0x9e3779b97f4a7c15} ^ static_cast<uint64_t>(getpid());
};

}  // namespace

int RunDaemon(const Options& options, char** environment) {
  // Large (fixed arrays for every unit): kept off the stack.
  static Daemon daemon(options, environment);
  return daemon.Run();
}

}  // namespace jsn
