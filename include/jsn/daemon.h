// Daemon: the daemon's life once the command line is parsed: connect, subscribe, watch,
// decide, deliver, until SIGTERM or SIGINT. Returns the process exit status. The Options and
// the environment must outlive the call (they are main's).
//
// Options, what the daemon runs with, are declared here; ParseOptions (jsn/options.h) fills
// them from argv. They hold fixed-size arrays (no heap): unit names are copied in because
// ".service" may be appended; every other string points into argv or the environment, which
// live as long as the process.
#pragma once

#include <cstddef>

#include "jsn/unit_path.h"

namespace jsn {

// Fixed limits, stated in --help.
constexpr size_t kMaxWatchedUnits = 64;
constexpr size_t kMaxAliasLength = 128;

// The daemon's exit status when its charm directory (--charm-dir) is gone: the Juju unit was
// removed, so no hook can run any more. The notices unit lists it in RestartPreventExitStatus=
// (not restarted) and SuccessExitStatus= (inactive, not failed).
constexpr int kExitCharmDirGone = 3;

struct WatchedUnit {
  char unit[kMaxUnitNameLength + 1];  // full systemd unit name, e.g. "slurmd.service"
  char alias[kMaxAliasLength + 1];    // the hook is hooks/service-ALIAS-started|stopped
};

struct Options {
  enum class Action { kRun, kHelp, kVersion };
  Action action = Action::kRun;
  const char* juju_unit = nullptr;  // "app/0"
  bool debug = false;
  const char* juju_exec = nullptr;  // nullptr until given or resolved by ResolveDefaults
  const char* bus_address = nullptr;
  const char* state_dir = nullptr;      // nullptr until given or resolved (kDefaultStateDir)
  const char* charm_dir = nullptr;      // when given: exit kExitCharmDirGone once it is gone
  unsigned hook_timeout_seconds = 600;  // a hook running longer is warned about, not killed
  size_t watch_count = 0;
  WatchedUnit watches[kMaxWatchedUnits];
};

int RunDaemon(const Options& options, char** environment);

}  // namespace jsn
