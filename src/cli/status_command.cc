// `status`: what the notices daemon for one Juju unit watches, read back from its unit file,
// with each watched unit's Id and ActiveState asked of systemd now and the hook last delivered,
// from the daemon's state file (--state-dir in the unit's ExecStart=, else the default), and from
// the same file whether a delivery is pending or failing, and what systemd said with each unit's
// latest settled state (its transition record).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "jsn/cli/cli.h"
#include "jsn/cli/unit_file.h"
#include "jsn/daemon/state_store.h"
#include "jsn/systemd/manager.h"
#include "jsn/systemd/unit_path.h"

namespace jsn {
namespace {

const char kStatusUsage[] =
    "usage: juju-systemd-notices status --unit UNIT [--user] [--bus ADDRESS] [--json]\n"
    "\n"
    "For each unit the notices daemon watches: its alias, its name (with the unit systemd\n"
    "knows it as, \"id\", when an alias), its ActiveState now (asked of systemd), the hook last\n"
    "delivered to the charm, and whether a delivery is pending (due or running), failing (its\n"
    "last attempt failed; a retry is scheduled) or none, with the hook. The last two come from\n"
    "the daemon's state file, as the daemon last wrote it (\"unknown\" without one). A table, or\n"
    "JSON with --json (\"pending\": \"none\", \"pending\" or \"failing\", and \"pending_hook\":\n"
    "\"started\", \"stopped\" or \"none\"; \"transition\": what systemd said with the latest\n"
    "settled state, or null), and a failure as one JSON line on stderr (command,\n"
    "error, doing, dbus_error, message).\n"
    "Exit status: 0 done, 1 not subscribed or systemd said no, 2 bad input.\n";

constexpr CharmCommandSpec kSpec = {.name = "status", .usage = kStatusUsage};

}  // namespace

int RunStatus(int argc, char** argv) {
  static CharmCommand command;
  static NoticesUnit unit;
  int started = StartCharmCommand(kSpec, argc, argv, &command, &unit);
  if (started != kCharmCommandGoesOn) return started;
  std::string_view unit_name = unit.name;
  const char* unit_path = unit.path;
  static Options watched;
  Status status = ReadUnitFileOptions(unit_path, &watched);
  if (!status.ok()) return ReportFailure(kSpec, "reading the unit file", status, kExitFailure);

  static Manager manager;
  status = manager.Open(command.bus_address);
  ReportDbusErrorsOf(&manager);
  if (!status.ok()) return ReportFailure(kSpec, "connecting to systemd", status, kExitFailure);
  char daemon_state[64];
  std::string_view state;
  status = manager.ActiveState(unit_name, &state);
  if (!status.ok()) {
    return ReportFailure(kSpec, "asking for the daemon's state", status, kExitFailure);
  }
  snprintf(daemon_state, sizeof daemon_state, "%.*s", static_cast<int>(state.size()), state.data());

  // The hooks last delivered, from the daemon's state file.
  const char* units[kMaxWatchedUnits];
  Hook hooks[kMaxWatchedUnits] = {};
  DeliveryState deliveries[kMaxWatchedUnits] = {};
  static Transition records[kMaxWatchedUnits];
  for (size_t i = 0; i < watched.watch_count; ++i) units[i] = watched.watches[i].unit;
  bool state_file = false;
  static StateStore store;
  status = store.Init(watched.state_dir != nullptr ? watched.state_dir : kDefaultStateDir,
                      command.juju_unit);
  if (status.ok()) {
    status = store.Load({units, watched.watch_count}, {hooks, watched.watch_count}, &state_file,
                        {deliveries, watched.watch_count}, {records, watched.watch_count});
  }
  if (!status.ok()) {
    fprintf(stderr, "juju-systemd-notices status: state file: %s\n", status.message());
    state_file = false;
  }

  if (command.json) {
    fputs("{\"juju_unit\": ", stdout);
    PrintJsonString(stdout, command.juju_unit);
    fputs(", \"daemon_unit\": ", stdout);
    PrintJsonString(stdout, unit_name);
    fputs(", \"daemon_active_state\": ", stdout);
    PrintJsonString(stdout, daemon_state);
    fputs(state_file ? ", \"state_file\": true" : ", \"state_file\": false", stdout);
    fputs(", \"watches\": [", stdout);
  } else {
    printf("%.*s: %s\n", static_cast<int>(unit_name.size()), unit_name.data(), daemon_state);
    printf("%-24s %-32s %-12s %-10s %s\n", "ALIAS", "UNIT", "ACTIVE", "DELIVERED", "PENDING");
  }
  for (size_t i = 0; i < watched.watch_count; ++i) {
    const WatchedUnit& watch = watched.watches[i];
    // The unit systemd knows the name as (its Id: ssh.service for the alias sshd.service).
    status = manager.UnitString(watch.unit, "Id", &state);
    char id[kMaxUnitNameLength + 1];
    snprintf(id, sizeof id, "%.*s", static_cast<int>(state.size()), state.data());
    if (status.ok()) status = manager.ActiveState(watch.unit, &state);
    if (!status.ok()) {
      return ReportFailure(kSpec, "asking for a unit's state", status, kExitFailure);
    }
    char name[2 * kMaxUnitNameLength + 4];
    snprintf(name, sizeof name, "%s (%s)", watch.unit, id);
    if (strcmp(id, watch.unit) == 0) name[strlen(watch.unit)] = '\0';
    const char* delivered = state_file ? HookName(hooks[i]) : "unknown";
    // The state file says "idle"; status says "none", as in "nothing pending".
    const DeliveryState& delivery = deliveries[i];
    const char* pending = !state_file                            ? "unknown"
                          : delivery.progress == Progress::kIdle ? "none"
                                                                 : ProgressName(delivery.progress);
    const char* pending_hook = state_file ? HookName(delivery.hook) : "unknown";
    if (command.json) {
      fputs(i == 0 ? "{\"alias\": " : ", {\"alias\": ", stdout);
      PrintJsonString(stdout, watch.alias);
      fputs(", \"unit\": ", stdout);
      PrintJsonString(stdout, watch.unit);
      fputs(", \"id\": ", stdout);
      PrintJsonString(stdout, id);
      fputs(", \"active_state\": ", stdout);
      PrintJsonString(stdout, state);
      fputs(", \"delivered\": ", stdout);
      PrintJsonString(stdout, delivered);
      fputs(", \"pending\": ", stdout);
      PrintJsonString(stdout, pending);
      fputs(", \"pending_hook\": ", stdout);
      PrintJsonString(stdout, pending_hook);
      char transition[256];
      FormatTransition(records[i], TransitionForm::kJson, transition);
      printf(", \"transition\": %s}", transition);
    } else if (state_file && delivery.progress != Progress::kIdle) {
      printf("%-24s %-32s %-12.*s %-10s %s %s\n", watch.alias, name, static_cast<int>(state.size()),
             state.data(), delivered, pending, pending_hook);
    } else {
      printf("%-24s %-32s %-12.*s %-10s %s\n", watch.alias, name, static_cast<int>(state.size()),
             state.data(), delivered, pending);
    }
    if (!command.json && records[i].recorded()) {
      char transition[256];
      FormatTransition(records[i], TransitionForm::kStateFile, transition);
      printf("%-24s last: %s\n", "", transition);
    }
  }
  if (command.json) fputs("]}\n", stdout);
  return kExitOk;
}

}  // namespace jsn
