#include "jsn/cli/cli.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "jsn/cli/unit_file.h"

namespace jsn {
namespace {

bool HasControlByte(const char* text) {
  for (const char* p = text; *p != '\0'; ++p) {
    auto byte = static_cast<unsigned char>(*p);
    if (byte < 0x20 || byte == 0x7f) return true;
  }
  return false;
}

Status ResolveBus(CharmCommand* command) {
  static char user_bus[4200];
  if (command->bus_address != nullptr) return Status();
  if (!command->user) {
    command->bus_address =
        SystemBusAddress(getenv("DBUS_SYSTEM_BUS_ADDRESS"), &command->default_system_bus);
    return Status();
  }
  const char* session = getenv("DBUS_SESSION_BUS_ADDRESS");
  if (session != nullptr && session[0] != '\0') {
    command->bus_address = session;
    return Status();
  }
  const char* runtime = getenv("XDG_RUNTIME_DIR");
  if (runtime == nullptr || runtime[0] != '/') {
    return Status::Expected("no-user-bus",
                            "DBUS_SESSION_BUS_ADDRESS or XDG_RUNTIME_DIR for --user, "
                            "found neither");
  }
  snprintf(user_bus, sizeof user_bus, "unix:path=%s/bus", runtime);
  command->bus_address = user_bus;
  return Status();
}

// Parses argv[1..argc) (argv[0] is the subcommand) into `command`, resolving the bus address
// from `--user`, DBUS_SESSION_BUS_ADDRESS, XDG_RUNTIME_DIR or DBUS_SYSTEM_BUS_ADDRESS.
Status ParseCharmCommand(const CharmCommandSpec& spec, int argc, const char* const* argv,
                         CharmCommand* command) {
  const char* names[kMaxWatchedUnits];
  size_t name_count = 0;
  const char* type = nullptr;
  bool options_ended = false;
  for (int i = 1; i < argc; ++i) {
    const char* argument = argv[i];
    const char* value = nullptr;
    Status status;
    if (options_ended || argument[0] != '-') {
      if (!spec.takes_watches) {
        return Status::Expected("unexpected-argument", "only options after %s, found '%.60s'",
                                spec.name, argument);
      }
      if (name_count == kMaxWatchedUnits) {
        return Status::Expected("too-many-units", "at most %zu units to watch, found more",
                                kMaxWatchedUnits);
      }
      names[name_count++] = argument;
      continue;
    }
    if (strcmp(argument, "--") == 0) {
      options_ended = true;
    } else if (strcmp(argument, "--help") == 0 || strcmp(argument, "-h") == 0) {
      command->help = true;
      return Status();
    } else if (strcmp(argument, "--user") == 0) {
      command->user = true;
    } else if (strcmp(argument, "--json") == 0) {
      command->json = true;
    } else if (spec.takes_watches &&
               (strcmp(argument, "--debug") == 0 || strcmp(argument, "-d") == 0)) {
      command->debug = true;
    } else if (MatchValueOption("--unit", argc, argv, &i, &value, &status)) {
      command->juju_unit = value;
    } else if (spec.takes_charm_dir &&
               MatchValueOption("--charm-dir", argc, argv, &i, &value, &status)) {
      command->charm_dir = value;
    } else if (MatchValueOption("--root", argc, argv, &i, &value, &status)) {
      if (!spec.takes_charm_dir) {  // not subscribe: it would act on the live system instead
        return Status::Expected("unexpected-root",
                                "no --root with %s, which asks the running systemd over "
                                "D-Bus (--root is subscribe's, for offline image builds)",
                                spec.name);
      }
      command->root = value;
    } else if (MatchValueOption("--bus", argc, argv, &i, &value, &status)) {
      command->bus_address = value;
    } else if (spec.takes_watches &&
               MatchValueOption("--juju-exec", argc, argv, &i, &value, &status)) {
      command->juju_exec = value;
    } else if (spec.takes_watches &&
               MatchValueOption("--state-dir", argc, argv, &i, &value, &status)) {
      command->state_dir = value;
    } else if (spec.takes_watches && MatchValueOption("--type", argc, argv, &i, &value, &status)) {
      type = value;
    } else {
      return Status::Expected("unknown-option", "an option of %s, found '%.60s'", spec.name,
                              argument);
    }
    JSN_RETURN_IF_ERROR(status);
  }
  if (command->juju_unit == nullptr) {
    return Status::Expected("missing-unit", "--unit UNIT (e.g. --unit slurmd/0), found none");
  }
  if (!IsValidJujuUnitName(command->juju_unit)) {
    return Status::Expected("invalid-juju-unit", "a Juju unit name such as app/0, found '%.60s'",
                            command->juju_unit);
  }
  if (type != nullptr) {
    if (strcmp(type, "notify") != 0 && strcmp(type, "simple") != 0) {
      return Status::Expected("invalid-type", "--type notify or simple, found '%.60s'", type);
    }
    command->notify = strcmp(type, "notify") == 0;
  }
  if (spec.takes_charm_dir) {
    if (command->charm_dir == nullptr) {
      return Status::Expected("missing-charm-dir", "--charm-dir DIR, found none");
    }
    if (command->charm_dir[0] != '/' || HasControlByte(command->charm_dir)) {
      return Status::Expected("invalid-charm-dir",
                              "--charm-dir to be an absolute path without control "
                              "characters, found '%.100s'",
                              command->charm_dir);
    }
  }
  if (command->root != nullptr && (command->root[0] != '/' || command->user)) {
    return Status::Expected("invalid-root",
                            "--root to be an absolute path, and not with "
                            "--user, found '%.100s'",
                            command->root);
  }
  if (command->state_dir != nullptr && command->state_dir[0] != '/') {
    return Status::Expected("invalid-state-dir",
                            "--state-dir to be an absolute path, found '%.100s'",
                            command->state_dir);
  }
  for (const char* text : {command->juju_exec, command->bus_address, command->state_dir}) {
    if (text != nullptr && (text[0] == '\0' || HasControlByte(text))) {
      return Status::Expected("invalid-argument",
                              "a value without control characters, found '%.60s'", text);
    }
  }
  if (spec.takes_watches) {
    if (name_count == 0) {
      return Status::Expected("no-units", "at least one NAME[=ALIAS] to watch, found none");
    }
    // The daemon's own parser, so that what subscribe accepts the daemon will accept.
    const char* daemon_argv[kMaxWatchedUnits + 4];
    int daemon_argc = 0;
    daemon_argv[daemon_argc++] = "juju-systemd-notices";
    daemon_argv[daemon_argc++] = "--unit";
    daemon_argv[daemon_argc++] = command->juju_unit;
    daemon_argv[daemon_argc++] = "--";
    for (size_t n = 0; n < name_count; ++n) daemon_argv[daemon_argc++] = names[n];
    JSN_RETURN_IF_ERROR(ParseOptions(daemon_argc, daemon_argv, &command->daemon));
  }
  return ResolveBus(command);
}

// The directory the notices unit file goes in: ROOT/etc/systemd/system, the user's
// $XDG_CONFIG_HOME/systemd/user (else ~/.config/systemd/user), or /etc/systemd/system.
Status UnitDirectory(const CharmCommand& command, char* buffer, size_t size) {
  int length;
  if (command.root != nullptr) {
    length = snprintf(buffer, size, "%s/etc/systemd/system", command.root);
  } else if (command.user) {
    const char* config = getenv("XDG_CONFIG_HOME");
    const char* home = getenv("HOME");
    if (config != nullptr && config[0] == '/') {
      length = snprintf(buffer, size, "%s/systemd/user", config);
    } else if (home != nullptr && home[0] == '/') {
      length = snprintf(buffer, size, "%s/.config/systemd/user", home);
    } else {
      return Status::Expected("no-user-config",
                              "XDG_CONFIG_HOME or HOME for --user, found neither");
    }
  } else {
    length = snprintf(buffer, size, "/etc/systemd/system");
  }
  if (length < 0 || static_cast<size_t>(length) >= size) {
    return Status::Expected("path-too-long", "a unit directory under %zu bytes", size);
  }
  return Status();
}

bool report_json = false;
const Manager* reported_manager = nullptr;

}  // namespace

void ReportDbusErrorsOf(const Manager* manager) { reported_manager = manager; }

void PrintJsonString(FILE* file, std::string_view text) {
  fputc('"', file);
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      fprintf(file, "\\%c", c);
    } else if (byte < 0x20) {
      fprintf(file, "\\u%04x", byte);
    } else {
      fputc(c, file);
    }
  }
  fputc('"', file);
}

int ReportFailure(const CharmCommandSpec& spec, const char* doing, const Status& status,
                  int exit_code) {
  if (!report_json) {
    fprintf(stderr, "juju-systemd-notices %s: %s: %s\n", spec.name, doing, status.message());
    return exit_code;
  }
  std::string_view dbus_error;
  if (reported_manager != nullptr && strcmp(status.rule(), "dbus-error") == 0) {
    dbus_error = reported_manager->error_name();
  }
  const char* keys[] = {
      "{\"command\":", ",\"error\":", ",\"doing\":", ",\"dbus_error\":", ",\"message\":"};
  std::string_view values[] = {spec.name, status.rule(), doing, dbus_error, status.message()};
  for (size_t i = 0; i < 5; ++i) {
    fputs(keys[i], stderr);
    PrintJsonString(stderr, values[i]);
  }
  fputs("}\n", stderr);
  return exit_code;
}

int StartCharmCommand(const CharmCommandSpec& spec, int argc, char** argv, CharmCommand* command,
                      NoticesUnit* unit) {
  *command = CharmCommand();
  // --json before any failure, even one in reading the command line.
  for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; ++i) {
    if (strcmp(argv[i], "--json") == 0) report_json = true;
  }
  Status status = ParseCharmCommand(spec, argc, argv, command);
  if (!status.ok() && report_json) {
    return ReportFailure(spec, "reading the command line", status, kExitUsageError);
  }
  if (!status.ok()) {
    fprintf(stderr, "juju-systemd-notices %s: %s\n", spec.name, status.message());
    fprintf(stderr, "Try 'juju-systemd-notices %s --help' for more.\n", spec.name);
    return kExitUsageError;
  }
  if (command->help) {
    fputs(spec.usage, stdout);
    return kExitOk;
  }
  status = NoticesUnitName(command->juju_unit, unit->name_buffer, &unit->name);
  if (!status.ok()) return ReportFailure(spec, "naming the unit", status, kExitUsageError);
  if (!spec.needs_unit_file) return kCharmCommandGoesOn;
  status = UnitDirectory(*command, unit->directory, sizeof unit->directory);
  if (!status.ok()) {
    return ReportFailure(spec, "finding the unit directory", status, kExitUsageError);
  }
  int length = snprintf(unit->path, sizeof unit->path, "%s/%.*s", unit->directory,
                        static_cast<int>(unit->name.size()), unit->name.data());
  if (length < 0 || static_cast<size_t>(length) >= sizeof unit->path) {
    fprintf(stderr, "juju-systemd-notices %s: expected a unit path under %zu bytes\n", spec.name,
            sizeof unit->path);
    return kExitUsageError;
  }
  return kCharmCommandGoesOn;
}

}  // namespace jsn
