#include "jsn/daemon/state_keeper.h"

#include "jsn/base/log.h"

namespace jsn {

void StateKeeper::Load(const Options& options, std::span<const char* const> units) {
  units_ = units;
  Status status = store_.Init(options.state_dir, options.juju_unit);
  if (status.ok()) status = store_.OpenDirectory();
  if (!status.ok()) {
    JSN_LOG_ERROR("not keeping state: %s", status.message());
    return;
  }
  persisting_ = true;
  int removed = 0;
  status = store_.RemoveStaleTemporaries(&removed);
  if (!status.ok()) JSN_LOG_WARNING("state dir: %s", status.message());
  if (removed > 0) {
    JSN_LOG_INFO("deleted %d temporary file(s) a crash mid-save left beside %s", removed,
                 store_.path());
  }
  bool found = false;
  status = store_.Load(units_, std::span<Hook>(saved_, units_.size()), &found, {},
                       std::span<Transition>(saved_records_, units_.size()));
  if (!status.ok()) {
    JSN_LOG_WARNING("state file %s: %s; treating it as absent", store_.path(), status.message());
  } else if (found) {
    JSN_LOG_INFO("read the hooks last delivered from %s", store_.path());
  } else {
    JSN_LOG_INFO("no state file %s yet: recording the states found", store_.path());
  }
}

void StateKeeper::Save(const Tracker& tracker, std::span<const Transition> records) {
  if (!persisting_) return;
  Hook hooks[kMaxWatchedUnits];
  DeliveryState deliveries[kMaxWatchedUnits];
  bool changed = !saved_once_;
  for (size_t i = 0; i < units_.size(); ++i) {
    hooks[i] = tracker.unit(i).delivered;
    deliveries[i] = tracker.DeliveryStateOf(i);
    if (hooks[i] != written_[i] || deliveries[i] != written_deliveries_[i] ||
        !(records[i] == written_records_[i])) {
      changed = true;
    }
  }
  if (!changed) return;
  Status status = store_.Save(units_, std::span<const Hook>(hooks, units_.size()),
                              std::span<const DeliveryState>(deliveries, units_.size()),
                              records.first(units_.size()));
  if (!status.ok()) {
    // The state stays in memory, deliveries go on, and the next change tries again.
    if (!save_failing_) {
      JSN_LOG_ERROR("cannot save state: %s; delivering on, saving again at the next change",
                    status.message());
    } else {
      JSN_LOG_DEBUG("cannot save state: %s", status.message());
    }
    save_failing_ = true;
    return;
  }
  if (save_failing_) JSN_LOG_INFO("saved state to %s again", store_.path());
  save_failing_ = false;
  saved_once_ = true;
  for (size_t i = 0; i < units_.size(); ++i) {
    written_[i] = hooks[i];
    written_deliveries_[i] = deliveries[i];
    written_records_[i] = records[i];
  }
  JSN_LOG_DEBUG("saved state to %s", store_.path());
}

}  // namespace jsn
