// `stop`: stop the notices unit and disable it so it does not come back after a reboot (as the
// original's stop()). A unit that is not there is not an error.
#include <cstdio>

#include "jsn/cli/cli.h"
#include "jsn/cli/unit_file.h"
#include "jsn/systemd/manager.h"
#include "jsn/wire/calls.h"

namespace jsn {
namespace {

const char kStopUsage[] =
    "usage: juju-systemd-notices stop --unit UNIT [--user] [--bus ADDRESS] [--json]\n"
    "\n"
    "Stops juju-<UNIT with / as ->-systemd-notices.service and disables it, over D-Bus, waiting\n"
    "for the stop job, then reloads systemd. A unit that does not exist is not an error.\n"
    "--json: a failure as one JSON line on stderr (command, error, doing, dbus_error, message).\n"
    "Exit status: 0 done, 1 systemd said no, 2 bad input.\n";

constexpr CharmCommandSpec kSpec = {.name = "stop", .usage = kStopUsage, .needs_unit_file = false};

// Whether systemd's D-Bus error says the unit or its file is not there.
bool IsAbsentUnitError(std::string_view error_name) {
  return error_name == kNoSuchUnitError || error_name == kFileNotFoundError ||
         error_name == kLoadFailedError;
}

}  // namespace

Status StopAndDisable(Manager* manager, std::string_view unit, bool* loaded, const char** doing) {
  *loaded = true;
  *doing = "stopping the unit";
  Status status = manager->RunJob("StopUnit", unit, "replace");
  if (!status.ok()) {
    if (!IsAbsentUnitError(manager->error_name())) return status;
    *loaded = false;
  }
  *doing = "disabling the unit";
  status = manager->DisableUnitFile(unit);
  if (!status.ok() && !IsAbsentUnitError(manager->error_name())) return status;
  return Status();
}

int RunStop(int argc, char** argv) {
  static CharmCommand command;
  static NoticesUnit unit;
  int started = StartCharmCommand(kSpec, argc, argv, &command, &unit);
  if (started != kCharmCommandGoesOn) return started;
  std::string_view unit_name = unit.name;

  static Manager manager;
  Status status = manager.Open(command.bus_address);
  ReportDbusErrorsOf(&manager);
  if (!status.ok()) return ReportFailure(kSpec, "connecting to systemd", status, kExitFailure);
  bool loaded = false;
  const char* doing = "";
  status = StopAndDisable(&manager, unit_name, &loaded, &doing);
  if (!status.ok()) return ReportFailure(kSpec, doing, status, kExitFailure);
  // As `systemctl disable` does: until a reload, systemd (252) may still report the unit's
  // UnitFileState as enabled. Every run of a loaded unit reloads, so a run killed between the
  // disable and the reload is mended by the next.
  if (loaded) status = manager.Reload();
  if (!status.ok()) return ReportFailure(kSpec, "reloading systemd", status, kExitFailure);
  printf("%.*s: %s\n", static_cast<int>(unit_name.size()), unit_name.data(),
         loaded ? "stopped and disabled" : "not loaded; disabled");
  return kExitOk;
}

}  // namespace jsn
