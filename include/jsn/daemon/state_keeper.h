// StateKeeper: the daemon's state file kept in step with the Tracker. At start-up it reads the
// hooks delivered before the daemon last stopped (the baselines the Tracker starts from); after
// that it writes what the Tracker counts as delivered, and where each delivery stands, whenever
// either changed since the last write: one write per batch of events, never one per signal.
//
// At start-up it also deletes the temp files that a save killed mid-way left behind
// (StateStore::RemoveStaleTemporaries). Nothing it meets stops the daemon: a state dir it may
// not keep (StateStore::OpenDirectory) means running without state, a missing or corrupt file
// means no baselines, and a failed save keeps the state in memory and tries again at the next
// change. Each is logged; a failing save once per episode (a full disk fails every save until
// it is not), not at every change.
#pragma once

#include <cstddef>
#include <span>

#include "jsn/daemon/daemon.h"
#include "jsn/daemon/hook.h"
#include "jsn/daemon/state_store.h"
#include "jsn/daemon/tracker.h"
#include "jsn/systemd/transition.h"

namespace jsn {

class StateKeeper {
 public:
  // Opens the state file of options.juju_unit in options.state_dir and reads it for `units`
  // (the watched units' names, which must outlive the keeper). Logs what it found.
  void Load(const Options& options, std::span<const char* const> units);

  // The hook delivered last before the daemon stopped, kNone when unknown.
  Hook saved(size_t unit) const { return saved_[unit]; }
  // The record of the unit's latest settled state before the daemon stopped (not recorded()
  // when unknown).
  const Transition& saved_record(size_t unit) const { return saved_records_[unit]; }

  // Writes the Tracker's deliveries and the records (one per unit) when they changed since the
  // last write (always the first time, so a new file records the baselines). Call only once
  // every initial state is in: before that the Tracker lacks the baselines read at start-up for
  // some units.
  void Save(const Tracker& tracker, std::span<const Transition> records);

 private:
  StateStore store_;
  std::span<const char* const> units_;
  bool persisting_ = false;
  bool saved_once_ = false;
  bool save_failing_ = false;            // the last save failed (logged once until one succeeds)
  Hook saved_[kMaxWatchedUnits] = {};    // read at start-up
  Hook written_[kMaxWatchedUnits] = {};  // in the file now
  DeliveryState written_deliveries_[kMaxWatchedUnits] = {};  // in the file now
  Transition saved_records_[kMaxWatchedUnits];               // read at start-up
  Transition written_records_[kMaxWatchedUnits];             // in the file now
};

}  // namespace jsn
