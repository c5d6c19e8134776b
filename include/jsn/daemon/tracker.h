// Tracker: the pure decisions of the daemon. For each watched unit it takes the ActiveState
// values systemd reports and the outcomes of the hooks it ran, and says which hook to run next
// and when. It knows nothing of sockets, D-Bus or processes; time comes in as `now`, so tests
// drive it with plain values ("state failed at t", "hook exited 1") and never sleep.
//
// Rules (the original's, compared on the hook rather than the raw state):
//  - a state ending in "ing" (activating, deactivating, reloading, refreshing) is in passing
//    and ignored; "active" calls for the started hook, every other settled state for stopped;
//  - the initial state (read at start-up) is recorded, never delivered; a unit whose initial
//    state is unknown (not loaded, or in passing) has no baseline, so its first settled state
//    is delivered, as the original does;
//  - a state calling for the hook already wanted is a repeat and dropped, so active -> failed
//    -> activating -> inactive -> active gives one stopped and one started;
//  - per unit one hook runs at a time, in order; while it runs newer states coalesce to the
//    latest one, and when that calls for the hook last delivered nothing more is sent;
//  - a failed hook (non-zero exit, killed) counts as delivered unless the RetryPolicy says to
//    retry: then it is run again after an exponential backoff (1 s doubling to 5 min, as Juju
//    backs off its own failed hooks), unless a newer state makes it moot. (The daemon turns
//    retries on; the decision lives here so the loop stays I/O only.) A hook that has not
//    ended is never started again, however long it runs: Juju may still have it queued.
// The Tracker owns all its state in fixed arrays; it allocates nothing.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "jsn/base/monotonic_time.h"
#include "jsn/daemon/hook.h"

namespace jsn {

// The hook a raw ActiveState calls for: kNone for a state in passing ("...ing") or empty.
Hook HookForState(std::string_view state);

struct RetryPolicy {
  bool retry_failed_hooks = false;
  MonotonicTime first_delay = std::chrono::seconds(1);
  MonotonicTime max_delay = std::chrono::minutes(5);  // Juju's longest wait between hook retries
};

// What ObserveState made of a state, for the debug log and for tests.
enum class Observation : uint8_t {
  kInPassing,        // "...ing" or empty: ignored
  kRepeat,           // calls for the hook already wanted: dropped
  kWanted,           // calls for a new hook: queued (or coalesced behind a running one)
  kBackToDelivered,  // calls for the hook last delivered again: what was queued is dropped
};
const char* ObservationName(Observation observation);

struct Delivery {
  size_t unit = 0;
  Hook hook = Hook::kNone;
};

// Where a unit's delivery stands, for the state file and `status`: derived from what the
// Tracker already knows (running, wanted vs delivered, failures), never kept beside it.
enum class Progress : uint8_t {
  kIdle,     // nothing due: the hook wanted is the hook delivered
  kPending,  // a hook is due or running
  kFailing,  // the wanted hook's last attempt failed; a retry is scheduled (or running)
};
const char* ProgressName(Progress progress);  // "idle", "pending", "failing"

struct DeliveryState {
  Progress progress = Progress::kIdle;
  Hook hook = Hook::kNone;  // the hook pending or failing; kNone when idle
  bool operator==(const DeliveryState&) const = default;
};

class Tracker {
 public:
  static constexpr size_t kMaxUnits = 64;
  static constexpr size_t kMaxStateLength = 31;  // longer states are cut in logs only

  struct UnitState {
    Hook delivered = Hook::kNone;  // last hook delivered, or the initial state's (recorded)
    Hook wanted = Hook::kNone;     // the hook the latest settled state calls for
    Hook running = Hook::kNone;    // the hook in flight; kNone when idle
    char state[kMaxStateLength + 1] = "unknown";  // latest state seen, for logs
    uint32_t failures = 0;                        // consecutive failures of the wanted hook
    MonotonicTime retry_at{0};                    // a failed hook is not run again before this
  };

  // Tracks units 0 .. unit_count-1 (at most kMaxUnits), every one unknown.
  explicit Tracker(size_t unit_count, RetryPolicy retry = RetryPolicy());

  size_t unit_count() const { return unit_count_; }
  const UnitState& unit(size_t index) const { return units_[index]; }

  // The state read at start-up: becomes the baseline, nothing is delivered. With
  // `last_delivered` (the hook delivered before the daemon last stopped, from the state file)
  // that is the baseline instead, and a state calling for another hook is delivered: a
  // transition made while the daemon was down is not lost.
  void RecordInitialState(size_t unit, std::string_view state, Hook last_delivered = Hook::kNone);
  // The state could not be read (the unit is not loaded): no baseline, or `last_delivered`.
  void RecordUnknown(size_t unit, Hook last_delivered = Hook::kNone);

  // A state reported later (a PropertiesChanged, or a Get after an invalidation).
  Observation ObserveState(size_t unit, std::string_view state);

  // The next hook to run now, if any: marks it running and returns true. Call until false;
  // hooks of different units may run side by side, of one unit never.
  bool TakeNextDelivery(MonotonicTime now, Delivery* delivery);

  // The running hook of `unit` has finished.
  void HookFinished(size_t unit, bool succeeded, MonotonicTime now);

  // The earliest time TakeNextDelivery has something to take: a retry becoming due, or a time
  // already past for a delivery due now; kNever when nothing is owed. The loop arms a timer
  // for it, so a delivery that became due after the loop's delivery step still runs at once.
  MonotonicTime NextWakeup() const;

  bool AnyRunning() const;

  // Where `unit`'s delivery stands. A retry in flight still counts as failing (until it
  // succeeds), so the state file is not rewritten for every attempt.
  DeliveryState DeliveryStateOf(size_t unit) const;

 private:
  bool IsDue(const UnitState& state, MonotonicTime now) const;
  MonotonicTime RetryDelay(uint32_t failures) const;

  size_t unit_count_;
  RetryPolicy retry_;
  UnitState units_[kMaxUnits];
};

}  // namespace jsn
