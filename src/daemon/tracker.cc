#include "jsn/daemon/tracker.h"

#include <cstring>

namespace jsn {

const char* ObservationName(Observation observation) {
  switch (observation) {
    case Observation::kInPassing:
      return "in passing";
    case Observation::kRepeat:
      return "repeat";
    case Observation::kWanted:
      return "wanted";
    case Observation::kBackToDelivered:
      return "back to what was delivered";
  }
  return "?";
}

const char* ProgressName(Progress progress) {
  switch (progress) {
    case Progress::kIdle:
      return "idle";
    case Progress::kPending:
      return "pending";
    case Progress::kFailing:
      return "failing";
  }
  return "?";
}

Hook HookForState(std::string_view state) {
  if (state.empty() || state.ends_with("ing")) return Hook::kNone;
  return state == "active" ? Hook::kStarted : Hook::kStopped;
}

namespace {

void CopyState(std::string_view state, char* out) {
  size_t length = state.size() < Tracker::kMaxStateLength ? state.size() : Tracker::kMaxStateLength;
  memcpy(out, state.data(), length);
  out[length] = '\0';
}

}  // namespace

Tracker::Tracker(size_t unit_count, RetryPolicy retry)
    : unit_count_(unit_count < kMaxUnits ? unit_count : kMaxUnits), retry_(retry) {}

void Tracker::RecordInitialState(size_t unit, std::string_view state, Hook last_delivered) {
  UnitState& s = units_[unit];
  CopyState(state, s.state);
  Hook hook = HookForState(state);  // kNone for a state in passing: no baseline
  s.failures = 0;
  if (last_delivered == Hook::kNone) {
    s.delivered = hook;
    s.wanted = hook;
    return;
  }
  s.delivered = last_delivered;
  // In passing: nothing is wanted yet; the state it settles in decides.
  s.wanted = hook == Hook::kNone ? last_delivered : hook;
}

void Tracker::RecordUnknown(size_t unit, Hook last_delivered) {
  UnitState& s = units_[unit];
  CopyState("unknown", s.state);
  s.delivered = last_delivered;
  s.wanted = last_delivered;
  s.failures = 0;
}

Observation Tracker::ObserveState(size_t unit, std::string_view state) {
  UnitState& s = units_[unit];
  Hook hook = HookForState(state);
  if (hook == Hook::kNone) return Observation::kInPassing;
  CopyState(state, s.state);
  if (hook == s.wanted) return Observation::kRepeat;
  s.wanted = hook;
  // A newer state supersedes a failed attempt: its backoff no longer applies.
  s.failures = 0;
  s.retry_at = MonotonicTime{0};
  // A running hook counts as delivered already: it is what the charm will have seen last.
  Hook last = s.running != Hook::kNone ? s.running : s.delivered;
  return hook == last ? Observation::kBackToDelivered : Observation::kWanted;
}

bool Tracker::IsDue(const UnitState& s, MonotonicTime now) const {
  return s.running == Hook::kNone && s.wanted != Hook::kNone && s.wanted != s.delivered &&
         now >= s.retry_at;
}

bool Tracker::TakeNextDelivery(MonotonicTime now, Delivery* delivery) {
  for (size_t i = 0; i < unit_count_; ++i) {
    UnitState& s = units_[i];
    if (!IsDue(s, now)) continue;
    s.running = s.wanted;
    delivery->unit = i;
    delivery->hook = s.running;
    return true;
  }
  return false;
}

MonotonicTime Tracker::RetryDelay(uint32_t failures) const {
  MonotonicTime delay = retry_.first_delay;
  for (uint32_t i = 1; i < failures && delay < retry_.max_delay; ++i) delay *= 2;
  return delay < retry_.max_delay ? delay : retry_.max_delay;
}

void Tracker::HookFinished(size_t unit, bool succeeded, MonotonicTime now) {
  UnitState& s = units_[unit];
  Hook finished = s.running;
  s.running = Hook::kNone;
  if (succeeded || !retry_.retry_failed_hooks) {
    s.delivered = finished;
    s.failures = 0;
    s.retry_at = MonotonicTime{0};
    return;
  }
  // Not delivered: the same hook is due again after the backoff, unless the wanted hook has
  // moved on meanwhile (then ObserveState already reset the backoff and the newer one runs).
  if (s.wanted == finished) {
    s.failures += 1;
    s.retry_at = now + RetryDelay(s.failures);
  }
}

MonotonicTime Tracker::NextWakeup() const {
  MonotonicTime earliest = kNever;
  for (size_t i = 0; i < unit_count_; ++i) {
    const UnitState& s = units_[i];
    // Due now (retry_at is in the past) or waiting for its retry: either way the loop must
    // wake by retry_at. A state observed after the loop's delivery step in the same pass (a
    // reconnect reads states in passing) is thus delivered at once, not at the next event.
    bool owed = s.running == Hook::kNone && s.wanted != Hook::kNone && s.wanted != s.delivered;
    if (owed && s.retry_at < earliest) earliest = s.retry_at;
  }
  return earliest;
}

bool Tracker::AnyRunning() const {
  for (size_t i = 0; i < unit_count_; ++i) {
    if (units_[i].running != Hook::kNone) return true;
  }
  return false;
}

DeliveryState Tracker::DeliveryStateOf(size_t unit) const {
  const UnitState& s = units_[unit];
  bool owed = s.wanted != Hook::kNone && s.wanted != s.delivered;
  // failures counts failures of the wanted hook only: a newer state resets it.
  if (owed && s.failures > 0) return {Progress::kFailing, s.wanted};
  if (s.running != Hook::kNone) return {Progress::kPending, s.running};
  if (owed) return {Progress::kPending, s.wanted};
  return {};
}

}  // namespace jsn
