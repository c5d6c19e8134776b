#include "jsn/daemon/options.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "jsn/base/decimal.h"

namespace jsn {
namespace {

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLetter(char c) { return IsLower(c) || (c >= 'A' && c <= 'Z'); }

// systemd's unit types (unit_type_table in src/basic/unit-def.c).
constexpr const char* kUnitTypes[] = {"service", "socket", "target", "device", "mount", "automount",
                                      "swap",    "timer",  "path",   "slice",  "scope"};

bool IsUnitType(const char* text, size_t length) {
  for (const char* type : kUnitTypes) {
    if (strlen(type) == length && memcmp(type, text, length) == 0) return true;
  }
  return false;
}

Status AddWatch(const char* argument, Options* options) {
  const char* equals = strchr(argument, '=');
  size_t name_length =
      equals != nullptr ? static_cast<size_t>(equals - argument) : strlen(argument);
  if (options->watch_count == kMaxWatchedUnits) {
    return Status::Expected("too-many-units", "at most %zu units to watch, found more at '%.60s'",
                            kMaxWatchedUnits, argument);
  }
  WatchedUnit& watch = options->watches[options->watch_count];

  // The unit: NAME, with ".service" appended unless it already ends in a unit type.
  char name[kMaxUnitNameLength + 1];
  if (name_length == 0 || name_length > kMaxUnitNameLength) {
    return Status::Expected("invalid-unit-name",
                            "NAME[=ALIAS] with a NAME of 1 to %zu bytes, found '%.60s'",
                            kMaxUnitNameLength, argument);
  }
  memcpy(name, argument, name_length);
  name[name_length] = '\0';
  static constexpr char kServiceSuffix[] = ".service";
  memcpy(watch.unit, name, name_length + 1);
  if (!HasUnitTypeSuffix(name)) {
    if (name_length + strlen(kServiceSuffix) > kMaxUnitNameLength) {
      return Status::Expected("invalid-unit-name",
                              "a unit name of at most %zu bytes with .service, found '%.60s...'",
                              kMaxUnitNameLength, name);
    }
    memcpy(watch.unit + name_length, kServiceSuffix, sizeof kServiceSuffix);
  }
  if (!IsValidUnitName(watch.unit)) {
    return Status::Expected("invalid-unit-name",
                            "a systemd unit name ([A-Za-z0-9:_.\\@-], e.g. slurmd or "
                            "foo@bar.service), found '%.60s'",
                            watch.unit);
  }

  // The alias: given after '=', or NAME itself without a ".service" suffix.
  const char* alias = equals != nullptr ? equals + 1 : name;
  size_t alias_length = strlen(alias);
  if (equals == nullptr && alias_length > strlen(kServiceSuffix) &&
      strcmp(alias + alias_length - strlen(kServiceSuffix), kServiceSuffix) == 0) {
    alias_length -= strlen(kServiceSuffix);
  }
  if (alias_length > kMaxAliasLength) {
    return Status::Expected("invalid-alias", "an ALIAS of at most %zu bytes, found '%.60s...'",
                            kMaxAliasLength, alias);
  }
  memcpy(watch.alias, alias, alias_length);
  watch.alias[alias_length] = '\0';
  if (!IsValidAlias(watch.alias)) {
    return Status::Expected("invalid-alias",
                            "an ALIAS of [A-Za-z0-9._@:-] starting with a letter or digit "
                            "(for hooks/service-ALIAS-started), found '%.60s' in '%.60s'",
                            watch.alias, argument);
  }

  for (size_t i = 0; i < options->watch_count; ++i) {
    if (strcmp(options->watches[i].unit, watch.unit) == 0) {
      return Status::Expected("duplicate-unit", "each unit once, found %.80s twice", watch.unit);
    }
    if (strcmp(options->watches[i].alias, watch.alias) == 0) {
      return Status::Expected("duplicate-alias",
                              "a different ALIAS for each unit, found '%.60s' for %.60s and %.60s",
                              watch.alias, options->watches[i].unit, watch.unit);
    }
  }
  options->watch_count += 1;
  return Status();
}

}  // namespace

bool MatchValueOption(const char* name, int argc, const char* const* argv, int* index,
                      const char** value, Status* status) {
  const char* argument = argv[*index];
  size_t name_length = strlen(name);
  if (strncmp(argument, name, name_length) != 0) return false;
  if (argument[name_length] == '=') {
    *value = argument + name_length + 1;
    return true;
  }
  if (argument[name_length] != '\0') return false;
  if (*index + 1 >= argc) {
    *status = Status::Expected("missing-value",
                               "a value after %s, found the end of the command line", name);
    return true;
  }
  *index += 1;
  *value = argv[*index];
  return true;
}

bool HasUnitTypeSuffix(const char* name) {
  const char* dot = strrchr(name, '.');
  return dot != nullptr && dot != name && IsUnitType(dot + 1, strlen(dot + 1));
}

// Juju's names.IsValidUnit: an application name (lowercase segments joined by '-', the first
// starting with a letter, each containing a letter), '/', and a number without leading zeros.
bool IsValidJujuUnitName(const char* name) {
  const char* slash = strchr(name, '/');
  if (slash == nullptr || slash == name) return false;
  if (!IsLower(name[0])) return false;
  bool segment_has_letter = false;
  for (const char* p = name; p < slash; ++p) {
    if (*p == '-') {
      if (!segment_has_letter) return false;
      segment_has_letter = false;
    } else if (IsLower(*p)) {
      segment_has_letter = true;
    } else if (!IsDigit(*p)) {
      return false;
    }
  }
  if (!segment_has_letter) return false;
  const char* number = slash + 1;
  if (!IsDigit(number[0])) return false;
  if (number[0] == '0' && number[1] != '\0') return false;
  for (const char* p = number; *p != '\0'; ++p) {
    if (!IsDigit(*p)) return false;
  }
  return strlen(number) <= 9;  // a unit number fits an int
}

// systemd's unit_name_is_valid(name, UNIT_NAME_PLAIN | UNIT_NAME_INSTANCE) from
// src/basic/unit-name.c: a valid type after the last '.', a non-empty prefix of
// [A-Za-z0-9:-_.\] with at most the first '@' opening a non-empty instance (which may hold '@').
bool IsValidUnitName(const char* name) {
  size_t length = strlen(name);
  if (length == 0 || length > kMaxUnitNameLength) return false;
  const char* dot = strrchr(name, '.');
  if (dot == nullptr || dot == name) return false;
  if (!IsUnitType(dot + 1, strlen(dot + 1))) return false;
  const char* at = nullptr;
  for (const char* p = name; p < dot; ++p) {
    char c = *p;
    if (c == '@' && at == nullptr) at = p;
    bool valid = IsLetter(c) || IsDigit(c) || c == ':' || c == '-' || c == '_' || c == '.' ||
                 c == '\\' || c == '@';
    if (!valid) return false;
  }
  if (at == name) return false;
  if (at == nullptr) return true;
  return dot > at + 1;  // "foo@.service" is a template: it never has a state to watch
}

bool IsValidAlias(const char* alias) {
  if (!IsLetter(alias[0]) && !IsDigit(alias[0])) return false;
  size_t length = 0;
  for (const char* p = alias; *p != '\0'; ++p, ++length) {
    char c = *p;
    if (!(IsLetter(c) || IsDigit(c) || c == '.' || c == '_' || c == '@' || c == ':' || c == '-')) {
      return false;
    }
  }
  return length <= kMaxAliasLength;
}

Status ParseOptions(int argc, const char* const* argv, Options* options) {
  *options = Options();
  bool options_ended = false;
  for (int i = 1; i < argc; ++i) {
    const char* argument = argv[i];
    if (!options_ended && argument[0] == '-' && argument[1] != '\0') {
      if (strcmp(argument, "--") == 0) {
        options_ended = true;
        continue;
      }
      if (strcmp(argument, "--help") == 0 || strcmp(argument, "-h") == 0) {
        options->action = Options::Action::kHelp;
        return Status();
      }
      if (strcmp(argument, "--version") == 0) {
        options->action = Options::Action::kVersion;
        return Status();
      }
      if (strcmp(argument, "-d") == 0 || strcmp(argument, "--debug") == 0) {
        options->debug = true;
        continue;
      }
      Status status;
      const char* value = nullptr;
      if (MatchValueOption("--unit", argc, argv, &i, &value, &status)) {
        JSN_RETURN_IF_ERROR(status);
        if (!IsValidJujuUnitName(value)) {
          return Status::Expected("invalid-juju-unit",
                                  "--unit to name a Juju unit such as app/0, found '%.60s'", value);
        }
        options->juju_unit = value;
        continue;
      }
      if (MatchValueOption("--juju-exec", argc, argv, &i, &value, &status)) {
        JSN_RETURN_IF_ERROR(status);
        if (value[0] != '/') {
          return Status::Expected("invalid-juju-exec",
                                  "--juju-exec to be an absolute path, found '%.60s'", value);
        }
        options->juju_exec = value;
        continue;
      }
      if (MatchValueOption("--bus", argc, argv, &i, &value, &status)) {
        JSN_RETURN_IF_ERROR(status);
        if (value[0] == '\0') {
          return Status::Expected("invalid-bus",
                                  "--bus to be a D-Bus address such as "
                                  "unix:path=/run/dbus/system_bus_socket, found ''");
        }
        options->bus_address = value;
        continue;
      }
      if (MatchValueOption("--hook-timeout", argc, argv, &i, &value, &status)) {
        JSN_RETURN_IF_ERROR(status);
        uint64_t seconds = 0;
        if (!ParseDecimal(value, &seconds) || seconds == 0 || seconds > 7 * 24 * 3600) {
          return Status::Expected("invalid-hook-timeout",
                                  "--hook-timeout to be whole seconds from 1 to 604800, "
                                  "found '%.60s'",
                                  value);
        }
        options->hook_timeout_seconds = static_cast<unsigned>(seconds);
        continue;
      }
      if (MatchValueOption("--charm-dir", argc, argv, &i, &value, &status)) {
        JSN_RETURN_IF_ERROR(status);
        if (value[0] != '/') {
          return Status::Expected("invalid-charm-dir",
                                  "--charm-dir to be an absolute path, found '%.60s'", value);
        }
        options->charm_dir = value;
        continue;
      }
      if (MatchValueOption("--state-dir", argc, argv, &i, &value, &status)) {
        JSN_RETURN_IF_ERROR(status);
        // Room for "/" + a Juju unit name + ".state.tmp" under PATH_MAX.
        if (value[0] != '/' || strlen(value) > 3000) {
          return Status::Expected("invalid-state-dir",
                                  "--state-dir to be an absolute path of at most 3000 "
                                  "bytes, found '%.60s'",
                                  value);
        }
        options->state_dir = value;
        continue;
      }
      return Status::Expected("unknown-option",
                              "--unit, -d, --debug, --juju-exec, --bus, --state-dir, --charm-dir, "
                              "--hook-timeout, --help, --version "
                              "or NAME[=ALIAS], found '%.60s'",
                              argument);
    }
    JSN_RETURN_IF_ERROR(AddWatch(argument, options));
  }
  if (options->juju_unit == nullptr) {
    return Status::Expected("missing-unit", "--unit UNIT (the Juju unit, e.g. app/0), found none");
  }
  if (options->watch_count == 0) {
    return Status::Expected("no-units", "at least one NAME[=ALIAS] to watch, found none");
  }
  return Status();
}

void ResolveDefaults(Options* options, const char* system_bus_env,
                     bool (*is_executable)(const char* path)) {
  if (options->juju_exec == nullptr) {
    options->juju_exec = kDefaultJujuExec;
    if (!is_executable(kDefaultJujuExec) && is_executable(kLegacyJujuRun)) {
      options->juju_exec = kLegacyJujuRun;
    }
  }
  if (options->state_dir == nullptr) options->state_dir = kDefaultStateDir;
  if (options->bus_address == nullptr) options->bus_address = SystemBusAddress(system_bus_env);
}

const char* UsageText() {
  return "usage: juju-systemd-notices --unit UNIT [-d|--debug] [--juju-exec PATH] [--bus ADDRESS]\n"
         "                            [--state-dir DIR] [--charm-dir DIR] [--hook-timeout "
         "SECONDS]\n"
         "                            NAME[=ALIAS] ...\n"
         "\n"
         "Watches the ActiveState of systemd units and runs\n"
         "  juju-exec UNIT hooks/service-ALIAS-started   when a unit becomes active\n"
         "  juju-exec UNIT hooks/service-ALIAS-stopped   when it settles in any other state\n"
         "one hook at a time per unit, in order.\n"
         "\n"
         "  --unit UNIT        the Juju unit the hooks run for, e.g. slurmd/0 (required)\n"
         "  NAME[=ALIAS]       a unit to watch; NAME without a unit type gets .service\n"
         "                     (snap.slurm.slurmd -> snap.slurm.slurmd.service); ALIAS names\n"
         "                     the hooks and defaults to NAME without .service\n"
         "  -d, --debug        also log debug lines\n"
         "  --juju-exec PATH   the program to run hooks with (default /usr/bin/juju-exec, or\n"
         "                     /usr/bin/juju-run when only that exists)\n"
         "  --bus ADDRESS      the D-Bus address of systemd's bus (default\n"
         "                     $DBUS_SYSTEM_BUS_ADDRESS, then "
         "unix:path=/run/dbus/system_bus_socket)\n"
         "  --state-dir DIR    where the last hook delivered per unit is kept, one file per Juju\n"
         "                     unit (default /var/lib/juju-systemd-notices/); a change made\n"
         "                     while the daemon was down is delivered when it starts again\n"
         "  --charm-dir DIR    the charm's directory: when a hook fails and DIR is gone (the\n"
         "                     Juju unit was removed), stop retrying and exit with status 3\n"
         "  --hook-timeout SECONDS  a hook running longer is logged as a warning, and left to\n"
         "                     run, as Juju may still have it queued (default 600)\n"
         "  --help, --version  print this or the version and exit\n"
         "\n"
         "Limits: at most 64 units, unit names of at most 255 bytes, aliases of at most 128\n"
         "bytes of [A-Za-z0-9._@:-]. Bad arguments exit 2 before anything connects.\n"
         "\n"
         "For charms, the same binary sets the daemon up as a systemd service:\n"
         "  juju-systemd-notices subscribe|stop|status|remove --help\n";
}

const char* VersionText() { return "juju-systemd-notices " JSN_VERSION "\n"; }

}  // namespace jsn
