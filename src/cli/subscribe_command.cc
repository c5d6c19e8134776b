// `subscribe`: validate everything, then make the hooks, write the notices unit, and have
// systemd (over D-Bus) enable, reload and start it, waiting for the start job's verdict.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "jsn/base/file_io.h"
#include "jsn/base/sha256.h"
#include "jsn/cli/cli.h"
#include "jsn/cli/hook_links.h"
#include "jsn/cli/unit_file.h"
#include "jsn/systemd/manager.h"

namespace jsn {
namespace {

constexpr size_t kMaxPath = 4096;
constexpr size_t kMaxUnitFile = 64 * 1024;

const char kSubscribeUsage[] =
    "usage: juju-systemd-notices subscribe --unit UNIT --charm-dir DIR [--user] [--root DIR]\n"
    "           [--bus ADDRESS] [--juju-exec PATH] [--state-dir DIR] [-d|--debug]\n"
    "           [--type notify|simple] [--json] "
    "NAME[=ALIAS] ...\n"
    "\n"
    "Links DIR/hooks/service-ALIAS-started and -stopped to DIR/dispatch (existing hooks are\n"
    "left alone), writes juju-<UNIT with / as ->-systemd-notices.service to run this binary as\n"
    "the daemon, and asks systemd over D-Bus to enable, reload and start it; returns once the\n"
    "start job is done. With the same arguments and binary again nothing changes; with new\n"
    "ones, or a new binary at this path (its sha256 is in the unit file), the unit file is\n"
    "rewritten and the daemon restarted, as is a daemon running another binary or command\n"
    "line.\n"
    "  --user        the calling user's systemd manager and $XDG_CONFIG_HOME/systemd/user\n"
    "  --root DIR    write under DIR/etc/systemd/system and enable offline (image builds);\n"
    "                systemd is not contacted\n"
    "  --type simple for a daemon build that does not send READY=1 (default notify)\n"
    "  --json        a failure as one JSON line on stderr (command, error, doing,\n"
    "                dbus_error, message)\n"
    "Exit status: 0 done, 1 systemd or the file system said no, 2 bad input (nothing written).\n";

constexpr CharmCommandSpec kSpec = {
    .name = "subscribe", .usage = kSubscribeUsage, .takes_watches = true, .takes_charm_dir = true};

// The directory `path` names, symlinks resolved, as the kernel found it when opening it (the
// path of an O_PATH descriptor, read back from /proc/self/fd): what realpath() gives, without
// its code. False, with errno set, when `path` is not a directory or cannot be resolved.
bool ResolveDirectory(const char* path, char* resolved, size_t size) {
  int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t length = readlink(link, resolved, size - 1);
  int error = errno;
  close(fd);
  if (length <= 0 || static_cast<size_t>(length) >= size - 1 || resolved[0] != '/') {
    // Unreadable, maybe cut short, or not under this process's root ("(unreachable)...").
    errno = length <= 0 ? error : ENAMETOOLONG;
    return false;
  }
  resolved[length] = '\0';
  return true;
}

Status MakeDirectories(const char* path) {
  char partial[kMaxPath];
  snprintf(partial, sizeof partial, "%s", path);
  for (char* p = partial + 1;; ++p) {
    if (*p == '/' || *p == '\0') {
      char saved = *p;
      *p = '\0';
      if (mkdir(partial, 0755) != 0 && errno != EEXIST) {
        return Status::Expected("mkdir-failed", "to create %.150s, found %s", partial,
                                strerror(errno));
      }
      *p = saved;
      if (saved == '\0') return Status();
    }
  }
}

// What `systemctl --root DIR enable` does for our unit: the WantedBy= symlink.
Status EnableOffline(const char* root, std::string_view unit) {
  char wants[kMaxPath];
  char link[kMaxPath];
  char target[kMaxPath];
  snprintf(wants, sizeof wants, "%s/etc/systemd/system/multi-user.target.wants", root);
  int link_length =
      snprintf(link, sizeof link, "%s/%.*s", wants, static_cast<int>(unit.size()), unit.data());
  int target_length = snprintf(target, sizeof target, "/etc/systemd/system/%.*s",
                               static_cast<int>(unit.size()), unit.data());
  if (link_length < 0 || static_cast<size_t>(link_length) >= sizeof link || target_length < 0 ||
      static_cast<size_t>(target_length) >= sizeof target) {
    return Status::Expected("path-too-long", "a path under %zu bytes", kMaxPath);
  }
  JSN_RETURN_IF_ERROR(MakeDirectories(wants));
  if (symlink(target, link) != 0 && errno != EEXIST) {
    return Status::Expected("symlink-failed", "to link %.150s, found %s", link, strerror(errno));
  }
  return Status();
}

// Whether the daemon systemd runs as `unit` is not what the unit file says: it executes another
// file than `executable` (a refresh wrote the same bytes to a new file, and the daemon goes on
// running the deleted one), or another command line than `command_line` (a run killed after
// writing the unit file and before the restart). Unknown (no daemon, /proc unreadable) counts
// as the same: nothing to restart for.
bool RunsAnotherCommand(Manager* manager, std::string_view unit, const char* executable,
                        std::string_view command_line) {
  uint32_t pid = 0;
  if (!manager->MainPid(unit, &pid).ok() || pid == 0) return false;
  char path[64];
  snprintf(path, sizeof path, "/proc/%u/exe", pid);
  struct stat running;
  struct stat wanted;
  if (stat(path, &running) != 0 || stat(executable, &wanted) != 0) return false;
  if (running.st_dev != wanted.st_dev || running.st_ino != wanted.st_ino) return true;
  snprintf(path, sizeof path, "/proc/%u/cmdline", pid);
  static char running_line[kMaxUnitFile];
  size_t length = 0;
  return ReadSmallFile(path, running_line, &length).ok() &&
         std::string_view(running_line, length) != command_line;
}

}  // namespace

int RunSubscribe(int argc, char** argv) {
  static CharmCommand command;  // large (the watch list): not on the stack
  static NoticesUnit unit;
  int started = StartCharmCommand(kSpec, argc, argv, &command, &unit);
  if (started != kCharmCommandGoesOn) return started;
  std::string_view unit_name = unit.name;
  const char* unit_directory = unit.directory;
  const char* unit_path = unit.path;
  if (unit_name.size() > kMaxUnitNameLength) {  // systemd's UNIT_NAME_MAX
    fprintf(stderr,
            "juju-systemd-notices subscribe: expected a Juju unit whose notices unit name fits "
            "systemd's %zu bytes, found %zu bytes for '%s'\n",
            kMaxUnitNameLength, unit_name.size(), command.juju_unit);
    return kExitUsageError;
  }

  // Everything that can be checked is checked before anything is written.
  char charm_dir[PATH_MAX];
  if (!ResolveDirectory(command.charm_dir, charm_dir, sizeof charm_dir)) {
    fprintf(stderr,
            "juju-systemd-notices subscribe: expected --charm-dir to be a directory, "
            "found '%s' (%s)\n",
            command.charm_dir, strerror(errno));
    return kExitUsageError;
  }
  char executable[PATH_MAX];
  ssize_t executable_length = readlink("/proc/self/exe", executable, sizeof executable - 1);
  if (executable_length <= 0) {
    fprintf(stderr, "juju-systemd-notices subscribe: cannot read /proc/self/exe: %s\n",
            strerror(errno));
    return kExitFailure;
  }
  executable[executable_length] = '\0';
  // What identifies the binary the unit will run: a refresh that replaces it changes the unit
  // file, and so restarts the daemon onto it.
  char executable_sha256[Sha256::kHexLength + 1];
  Status status = Sha256OfFile(executable, executable_sha256);
  if (!status.ok()) return ReportFailure(kSpec, "reading this binary", status, kExitFailure);

  UnitFileSpec spec;
  spec.executable = executable;
  spec.juju_unit = command.juju_unit;
  spec.charm_dir = charm_dir;
  spec.version = JSN_VERSION;
  spec.sha256 = executable_sha256;
  spec.watches = {command.daemon.watches, command.daemon.watch_count};
  spec.juju_exec = command.juju_exec != nullptr ? command.juju_exec : "";
  spec.state_dir = command.state_dir != nullptr ? command.state_dir : "";
  // The daemon's default is the system bus: only another bus needs saying.
  spec.bus_address =
      command.default_system_bus || command.root != nullptr ? "" : command.bus_address;
  spec.debug = command.debug;
  spec.user = command.user;
  spec.notify = command.notify;
  static char text_buffer[kMaxUnitFile];
  std::string_view text;
  status = RenderUnitFile(spec, text_buffer, &text);
  if (!status.ok()) return ReportFailure(kSpec, "rendering the unit file", status, kExitUsageError);
  // What systemd will run, as systemd will split it, through the daemon's own check: a unit
  // whose daemon exits 2 at every start would restart forever.
  static Options daemon;
  std::string_view command_line;
  status = ParseUnitFileOptions(text, &daemon, &command_line);
  if (!status.ok()) {
    return ReportFailure(kSpec, "checking the daemon's command line", status, kExitUsageError);
  }

  // Effects. Each is found done or done again by a rerun after a kill at any point: the links
  // and the unit file are compared with what they should be, systemd says whether it loaded
  // the file as it is (NeedDaemonReload), and the daemon's /proc whether it runs it.
  int links = 0;
  status = CreateHookLinks(charm_dir, spec.watches, &links);
  if (!status.ok()) return ReportFailure(kSpec, "linking hooks", status, kExitFailure);
  static char existing[kMaxUnitFile];
  size_t existing_length = 0;
  // Absent, unreadable, too large or not a regular file: not ours as it stands, rewritten.
  bool unchanged = ReadSmallFile(unit_path, existing, &existing_length).ok() &&
                   std::string_view(existing, existing_length) == text;
  if (!unchanged) {
    status = MakeDirectories(unit_directory);
    if (status.ok()) status = WriteFileAtomically(unit_path, text, /*fixed_temporary=*/true);
    if (!status.ok()) return ReportFailure(kSpec, "writing the unit file", status, kExitFailure);
  }
  if (command.root != nullptr) {
    status = EnableOffline(command.root, unit_name);
    if (!status.ok()) return ReportFailure(kSpec, "enabling offline", status, kExitFailure);
    printf("%s: %s, enabled under %s (systemd not contacted); %d hook links made\n", unit_path,
           unchanged ? "unchanged" : "written", command.root, links);
    return kExitOk;
  }

  static Manager manager;
  status = manager.Open(command.bus_address);
  ReportDbusErrorsOf(&manager);
  if (!status.ok()) return ReportFailure(kSpec, "connecting to systemd", status, kExitFailure);
  // Enabled before the reload, as systemctl enable does: newer systemd marks every unit as
  // needing a reload once enabling changed something.
  status = manager.EnableUnitFile(unit_name);
  if (!status.ok()) return ReportFailure(kSpec, "enabling the unit", status, kExitFailure);
  // The file's mtime may not move when rewritten within one clock tick: a changed file is
  // reloaded without asking.
  bool reload = !unchanged;
  if (unchanged) status = manager.NeedsReload(unit_name, &reload);
  if (status.ok() && reload) status = manager.Reload();
  if (!status.ok()) return ReportFailure(kSpec, "reloading systemd", status, kExitFailure);
  // A new unit file means new arguments or a new binary: restart a running daemon (this starts
  // a stopped one). So does a daemon running another binary or command line than the file's.
  bool replaced = unchanged && RunsAnotherCommand(&manager, unit_name, executable, command_line);
  status =
      manager.RunJob(unchanged && !replaced ? "StartUnit" : "RestartUnit", unit_name, "replace");
  if (!status.ok()) return ReportFailure(kSpec, "starting the unit", status, kExitFailure);
  const char* what = !unchanged ? "unit file written"
                     : replaced ? "unchanged, restarted: the daemon ran another command"
                                : "unchanged";
  printf("%.*s: %s and running; %d hook links made\n", static_cast<int>(unit_name.size()),
         unit_name.data(), what, links);
  return kExitOk;
}

}  // namespace jsn
