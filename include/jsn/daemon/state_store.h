// StateStore: the last hook delivered for each watched unit, kept on disk so that a transition
// that happens while the daemon is down is delivered when it starts again, and where each
// unit's delivery stands, for `status`. One small text file per Juju unit,
// DIR/<juju unit with '/' as '-'>.state:
//   juju-systemd-notices-state 1 app/0
//   slurmd.service started
//   munge.service stopped
//   failing slurmd.service stopped
//   pending munge.service started
//   record state=failed result=exit-code exit_code=exited exit_status=3 n_restarts=0
//   timestamp=1796... slurmd.service stopped
// A "UNIT HOOK" line is the hook last delivered; a unit with none has no delivered hook (its
// state was unknown). A "pending UNIT HOOK" line says HOOK is due or running, "failing UNIT
// HOOK" that its last attempt failed and a retry is scheduled; a unit with neither is idle.
// Those lines came later and stay readable by the first reader of this format: it splits a
// line at its last space, so it takes "pending UNIT" for a unit it does not watch and ignores
// the line (unit names hold no spaces). The delivery lines are informational: the daemon
// recomputes them at start-up and never reads them back.
// A "record FIELDS UNIT HOOK" line is what systemd said with the unit's latest settled state
// (jsn/systemd/transition.h's state-file form, a field "key=value" each; HOOK the hook that state
// calls for): a transition delivered after a restart or a reboot carries it. The fields come before
// the unit so that the first reader, splitting at the last space, ignores the line as well.
// A file without record lines (written before they existed) loads with no records.
// The file is replaced atomically: written to a temp file, fsync'ed, renamed over the old one,
// and the directory fsync'ed, so a crash leaves the old file or the new one, never half of one
// (and at worst a temp file, which the daemon deletes at its next start).
// The directory is checked and used through one descriptor, opened once (O_DIRECTORY|
// O_NOFOLLOW) and checked with fstat: every read, write, rename and fsync after that is relative
// to it, so a directory renamed away and replaced (by a symlink, say) after the check is not
// followed; the store goes on using the directory it checked.
//
// Ownership: the StateStore copies the directory and Juju unit names into fixed buffers and
// owns the directory's descriptor (closed when it is destroyed); Load and Save take the
// caller's unit names and hooks and keep nothing. Nothing is allocated.
#pragma once

#include <climits>
#include <cstddef>
#include <span>

#include "jsn/base/status.h"
#include "jsn/daemon/tracker.h"
#include "jsn/systemd/transition.h"

namespace jsn {

class StateStore {
 public:
  static constexpr size_t kMaxFileSize =
      128 * 1024;  // 64 units of at most 255 bytes, four lines each, fit
  static constexpr size_t kMaxJujuUnitLength = 255;

  StateStore() = default;
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;
  ~StateStore();

  // Fails ("invalid-state-dir") when the path would not fit PATH_MAX.
  Status Init(const char* directory, const char* juju_unit);
  const char* path() const { return path_; }

  // Opens the directory, creating it (one level, 0755) when it is missing, and checks it as
  // sshd's StrictModes checks a home: a directory (not a symlink) owned by this process's user
  // and writable by no one else; otherwise someone else could plant the state the daemon reads,
  // or a file its writes land on. "unsafe-state-dir", or "state-dir" when it cannot be made.
  // Load and Save open it so (Load without creating it) when this was not called.
  Status OpenDirectory();

  // Deletes the temp files a save killed before its rename left beside this Juju unit's state
  // file (regular files of the temp files' exact name pattern; nothing else); *removed gets how
  // many. Call after OpenDirectory, when no save of this unit can be running: at start-up.
  Status RemoveStaleTemporaries(int* removed);

  // Reads the file into `hooks` (one per entry of `units`, kNone for a unit it does not name;
  // lines for units not watched any more are ignored). *found is false when there is no file
  // (or no directory). A directory that fails OpenDirectory's checks fails the same way.
  // A file that is not ours, names another Juju unit or does not parse fails
  // ("corrupt-state-file", with the line) and leaves every hook kNone. `deliveries`, when
  // given (one per unit), gets each unit's delivery line, idle for a unit without one (and for
  // every unit of a file written before those lines existed). `records`, when given (one per
  // unit), gets each unit's record, not recorded() for a unit without one.
  Status Load(std::span<const char* const> units, std::span<Hook> hooks, bool* found,
              std::span<DeliveryState> deliveries = {}, std::span<Transition> records = {});

  // Replaces the file with `hooks` (units whose hook is kNone are left out), `deliveries`
  // (one per unit when given; idle ones are left out) and `records` (one per unit when given;
  // those not recorded() are left out). A directory deleted since it was opened is opened
  // (made, checked) again.
  Status Save(std::span<const char* const> units, std::span<const Hook> hooks,
              std::span<const DeliveryState> deliveries = {},
              std::span<const Transition> records = {});

 private:
  Status Open(bool create);

  char directory_[PATH_MAX] = {};
  char path_[PATH_MAX] = {};
  // All zero at first, so that a static StateStore (the subcommands' are) takes no bytes of the
  // binary's data.
  size_t name_offset_ = 0;  // the file's name within directory_: path_ from there
  bool directory_open_ = false;
  int directory_fd_ = 0;  // when directory_open_
  char juju_unit_[kMaxJujuUnitLength + 1] = {};
};

}  // namespace jsn
