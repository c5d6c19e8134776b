// The charm-side subcommands: `subscribe`, `stop`, `status` and `remove`, which set up, tear
// down, report on and take away the systemd unit that runs our daemon for one Juju unit (what
// the Python library's SystemdNotices.subscribe() and .stop() did, without Python or
// systemctl). main() hands
// argv over when argv[1] names one of them; each returns the process's exit code: 0 done,
// 1 the system said no (a D-Bus error, a failed job, a file that could not be written),
// 2 bad input (nothing written).
#pragma once

#include <cstddef>
#include <cstdio>
#include <string_view>

#include "jsn/base/status.h"
#include "jsn/daemon/options.h"
#include "jsn/systemd/manager.h"

namespace jsn {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsageError = 2;

// The command line shared by the subcommands. Strings point into argv or the
// environment; `watches` is filled by the daemon's own parser so that both agree on names.
struct CharmCommand {
  const char* juju_unit = nullptr;
  const char* charm_dir = nullptr;
  const char* root = nullptr;
  const char* bus_address = nullptr;  // resolved: --bus, else the system or the user bus
  // Nothing named a bus (no --bus, --user or DBUS_SYSTEM_BUS_ADDRESS): bus_address is
  // kDefaultSystemBusAddress, where the daemon looks by itself too.
  bool default_system_bus = false;
  const char* juju_exec = nullptr;
  const char* state_dir = nullptr;
  bool user = false;
  bool json = false;
  bool debug = false;
  bool notify = true;  // --type notify|simple
  bool help = false;
  Options daemon;  // the NAME[=ALIAS] list, parsed as the daemon parses it
};

// A subcommand: its name, its --help text and the options it accepts, by name:
//   constexpr CharmCommandSpec kStatus = {.name = "status", .usage = kUsage, .needs_unit_file =
//   true};
// Every subcommand takes --json: a failure is then reported as one JSON line on stderr (see
// ReportFailure), and status prints its report as JSON.
struct CharmCommandSpec {
  const char* name = "";         // "subscribe", in messages
  const char* usage = "";        // what --help prints
  bool takes_watches = false;    // NAME[=ALIAS] ..., -d, --juju-exec, --state-dir, --type
  bool takes_charm_dir = false;  // --charm-dir (required) and --root
  bool needs_unit_file = true;   // finds the unit file's directory (stop needs only the name)
};

// The notices unit of a subcommand's Juju unit: its name, and the directory and path of its
// unit file.
struct NoticesUnit {
  char name_buffer[kMaxUnitNameLength + 64];
  std::string_view name;
  char directory[4096];
  char path[4400];
};

// StartCharmCommand's "go on": any other value is the exit status.
constexpr int kCharmCommandGoesOn = -1;

// What every subcommand starts with: parses argv by `spec` (a bad command line is reported,
// with the pointer to --help), answers --help with `spec.usage`, then names the notices unit
// and, when `spec.needs_unit_file`, its file (failures reported as `spec.name`'s, exit 2).
// Returns kCharmCommandGoesOn to go on, else the exit status.
int StartCharmCommand(const CharmCommandSpec& spec, int argc, char** argv, CharmCommand* command,
                      NoticesUnit* unit);

// Prints "juju-systemd-notices NAME: DOING: MESSAGE" to stderr and returns `exit_code`. With
// --json, one line instead, for programs (the Python library) to read rather than scrape:
//   {"command":"NAME","error":"RULE","doing":"DOING","dbus_error":"NAME or empty","message":"..."}
// where RULE is the Status's rule ("dbus-error", "job-failed", "invalid-juju-unit", ...) and
// dbus_error the error name of the last D-Bus error reply the manager given to
// ReportDbusErrorsOf received, for a "dbus-error" failure.
int ReportFailure(const CharmCommandSpec& spec, const char* doing, const Status& status,
                  int exit_code);
// The manager whose D-Bus error name ReportFailure reports (each subcommand has one).
void ReportDbusErrorsOf(const Manager* manager);
// Writes `text` to `file` as a JSON string, quotes included.
void PrintJsonString(FILE* file, std::string_view text);

// What `stop` does, shared with `remove`: StopUnit (waiting for the job), then DisableUnitFiles.
// A unit or unit file that is not there is not an error; *loaded says whether the unit was. On
// failure *doing names the step, for the message.
Status StopAndDisable(Manager* manager, std::string_view unit, bool* loaded, const char** doing);

int RunSubscribe(int argc, char** argv);
int RunStop(int argc, char** argv);
int RunStatus(int argc, char** argv);
int RunRemove(int argc, char** argv);

}  // namespace jsn
