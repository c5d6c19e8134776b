// Options: the daemon's command line, compatible with the original's ExecStart line
//   juju-systemd-notices --unit UNIT [-d|--debug] NAME[=ALIAS] ...
// plus --juju-exec PATH, --bus ADDRESS, --help and --version. Parsing is pure (argv in,
// Options or a Status out); nothing connects or runs before it has succeeded. The Options
// struct is declared in jsn/daemon.h: the daemon runs with it, and the daemon's part may not
// include the command line's (tests/include_directions_test.cc).
#pragma once

#include <cstddef>

#include "jsn/address.h"
#include "jsn/daemon.h"
#include "jsn/status.h"
#include "jsn/unit_path.h"

namespace jsn {

// The version --version prints and `subscribe` records in the unit file: the Makefile defines
// it from the file VERSION, the one place the binary's, the Python package's and the charm
// library's version (LIBAPI.LIBPATCH) are set.
#ifndef JSN_VERSION
#error "JSN_VERSION is defined by the Makefile, from the file VERSION (-DJSN_VERSION=\"X.Y.Z\")"
#endif

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
// DBUS_SYSTEM_BUS_ADDRESS, through SystemBusAddress in jsn/address.h).
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
