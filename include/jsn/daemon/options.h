// Options: the daemon's command line, compatible with the original's ExecStart line
//   juju-systemd-notices --unit UNIT [-d|--debug] NAME[=ALIAS] ...
// plus --juju-exec PATH, --bus ADDRESS, --help and --version. Parsing is pure (argv in,
// Options or a Status out); nothing connects or runs before it has succeeded. Options, what the
// daemon runs with, hold fixed-size arrays (no heap): unit names are copied in because
// ".service" may be appended; every other string points into argv or the environment, which
// live as long as the process. The command line is the daemon's own, so it sits in the daemon's
// part; main (cli) prints what these functions return.
#pragma once

#include <cstddef>

#include "jsn/base/status.h"
#include "jsn/bus/address.h"
#include "jsn/systemd/unit_path.h"

namespace jsn {

// The version --version prints and `subscribe` records in the unit file: the Makefile defines
// it from the file VERSION, the one place the binary's, the Python package's and the charm
// library's version (LIBAPI.LIBPATCH) are set.
#ifndef JSN_VERSION
#error "JSN_VERSION is defined by the Makefile, from the file VERSION (-DJSN_VERSION=\"X.Y.Z\")"
#endif

// Fixed limits, stated in --help.
constexpr size_t kMaxWatchedUnits = 64;
constexpr size_t kMaxAliasLength = 128;

struct WatchedUnit {
  char unit[kMaxUnitNameLength + 1];  // full systemd unit name, e.g. "slurmd.service"
  char alias[kMaxAliasLength + 1];    // the hook is hooks/service-ALIAS-started|stopped
};

// The daemon's exit status when its charm directory (--charm-dir) is gone: the Juju unit was
// removed, so no hook can run any more. The notices unit lists it in RestartPreventExitStatus=
// (not restarted) and SuccessExitStatus= (inactive, not failed).
constexpr int kExitCharmDirGone = 3;

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

constexpr const char* kDefaultJujuExec = "/usr/bin/juju-exec";
constexpr const char* kDefaultStateDir = "/var/lib/juju-systemd-notices/";
constexpr const char* kLegacyJujuRun = "/usr/bin/juju-run";  // Juju 2.9

// Parses argv[1..argc). On failure the Status says what was expected and what was found
// (rule names: "unknown-option", "missing-value", "missing-unit", "invalid-juju-unit",
// "invalid-unit-name", "invalid-alias", "duplicate-unit", "duplicate-alias", "no-units",
// "too-many-units", "invalid-juju-exec", "invalid-bus", "invalid-state-dir",
// "invalid-charm-dir", "invalid-hook-timeout"); the caller prints it with the usage line and
// exits 2.
Status ParseOptions(int argc, const char* const* argv, Options* options);

// Fills what the command line left out: juju_exec (/usr/bin/juju-exec when `is_executable`
// says so, else /usr/bin/juju-run when it says so, else /usr/bin/juju-exec so that the first
// delivery reports it missing) and bus_address (`system_bus_env`, the value of
// DBUS_SYSTEM_BUS_ADDRESS, through SystemBusAddress in jsn/bus/address.h).
void ResolveDefaults(Options* options, const char* system_bus_env,
                     bool (*is_executable)(const char* path));

// The text --help prints (and, first line only, what follows a usage error).
const char* UsageText();
const char* VersionText();

// "--name=value" or "--name value" at argv[*index], for ParseOptions and the subcommands'
// parser: returns true when the argument is option `name`, and sets `*value` (advancing
// *index past a separate value). A missing value is reported in *status ("missing-value"),
// with true returned.
bool MatchValueOption(const char* name, int argc, const char* const* argv, int* index,
                      const char** value, Status* status);

// Checks used by ParseOptions, exposed for tests.
bool IsValidJujuUnitName(const char* name);
bool IsValidUnitName(const char* name);  // systemd's unit_name_is_valid, plain or instance
bool IsValidAlias(const char* alias);
// Whether `name` ends in ".TYPE" for a systemd unit type (.service, .socket, .timer, ...).
bool HasUnitTypeSuffix(const char* name);

}  // namespace jsn
