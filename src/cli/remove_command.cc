// `remove`: what a removed Juju unit leaves behind, taken away: the notices unit stopped and
// disabled, the daemon's state file deleted, and its unit file deleted (systemd reloaded). The
// charm library runs it on the charm's `remove` event. The hook links are left: they live in the
// charm directory, which Juju deletes next. Whatever is already gone is not an error, so it can
// run after `stop`, twice, or for a unit never subscribed.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "jsn/cli/cli.h"
#include "jsn/cli/unit_file.h"
#include "jsn/daemon/state_store.h"
#include "jsn/systemd/manager.h"

namespace jsn {
namespace {

const char kRemoveUsage[] =
    "usage: juju-systemd-notices remove --unit UNIT [--user] [--bus ADDRESS] [--json]\n"
    "\n"
    "As stop, then deletes the daemon's state file (in the unit's --state-dir, else the\n"
    "default) and the unit file (systemd reloads): for a Juju unit being removed. Hook\n"
    "links stay: they go with the charm dir. What is already gone is not an error. --json: a\n"
    "failure as one JSON line on stderr (command, error, doing, dbus_error, message).\n"
    "Exit status: 0 done, 1 systemd or the file system said no, 2 bad input.\n";

constexpr CharmCommandSpec kSpec = {.name = "remove", .usage = kRemoveUsage};

// Unlinks `path`; *removed says whether there was a file. A missing file is not an error.
Status RemoveFile(const char* path, bool* removed) {
  *removed = unlink(path) == 0;
  if (*removed || errno == ENOENT) return Status();
  return Status::Expected("unlink-failed", "to delete %.150s, found %s", path, strerror(errno));
}

}  // namespace

int RunRemove(int argc, char** argv) {
  static CharmCommand command;
  static NoticesUnit unit;
  int started = StartCharmCommand(kSpec, argc, argv, &command, &unit);
  if (started != kCharmCommandGoesOn) return started;
  std::string_view unit_name = unit.name;
  const char* unit_path = unit.path;

  // The state dir the daemon was given, read before the unit file goes. A unit file that does
  // not run our daemon (the original's) or none at all: the default.
  static Options daemon;
  const char* state_dir = kDefaultStateDir;
  if (ReadUnitFileOptions(unit_path, &daemon).ok() && daemon.state_dir != nullptr) {
    state_dir = daemon.state_dir;
  }
  static StateStore store;
  Status status = store.Init(state_dir, command.juju_unit);
  if (!status.ok()) return ReportFailure(kSpec, "finding the state file", status, kExitFailure);

  static Manager manager;
  status = manager.Open(command.bus_address);
  ReportDbusErrorsOf(&manager);
  if (!status.ok()) return ReportFailure(kSpec, "connecting to systemd", status, kExitFailure);
  bool loaded = false;
  const char* doing = "";
  status = StopAndDisable(&manager, unit_name, &loaded, &doing);
  if (!status.ok()) return ReportFailure(kSpec, doing, status, kExitFailure);
  // The state file first: the unit file names its directory, so a rerun after a kill between
  // the two still finds it.
  bool state_file_removed = false;
  status = RemoveFile(store.path(), &state_file_removed);
  if (!status.ok()) return ReportFailure(kSpec, "deleting the state file", status, kExitFailure);
  bool unit_file_removed = false;
  status = RemoveFile(unit_path, &unit_file_removed);
  if (!status.ok()) return ReportFailure(kSpec, "deleting the unit file", status, kExitFailure);
  // Deleted by a run killed before its reload: systemd still has the file's definition loaded.
  bool reload = unit_file_removed;
  if (!reload) status = manager.NeedsReload(unit_name, &reload);
  if (status.ok() && reload) status = manager.Reload();
  if (!status.ok()) return ReportFailure(kSpec, "reloading systemd", status, kExitFailure);
  printf("%.*s: stopped and disabled; %s %s; %s %s\n", static_cast<int>(unit_name.size()),
         unit_name.data(), unit_path, unit_file_removed ? "deleted" : "was not there", store.path(),
         state_file_removed ? "deleted" : "was not there");
  return kExitOk;
}

}  // namespace jsn
