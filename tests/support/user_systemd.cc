#include "support/user_systemd.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "support/source_tree.h"

namespace jsn::testing {
namespace {

using Clock = std::chrono::steady_clock;

// busctl prints a string property as `s "value"`; systemd's state names need no unescaping.
std::string UnquoteBusctlString(const std::string& output) {
  size_t open = output.find('"');
  size_t close = output.rfind('"');
  if (open == std::string::npos || close == open) return "";
  return output.substr(open + 1, close - open - 1);
}

// Managers' cgroups are named jsn-test-PID-N: PID of the test process, N its counter.
constexpr char kCgroupPrefix[] = "jsn-test-";

std::string UniqueCgroupName() {
  static std::atomic<int> counter{0};
  return kCgroupPrefix + std::to_string(getpid()) + "-" + std::to_string(counter++);
}

// Cgroups of managers whose test process died without cleaning up (SIGKILL, a crash): named
// jsn-test-PID-N for a PID that no longer exists. Their processes got SIGTERM from the kernel
// (see ChildProcess), but the directories stay; removing them here keeps /sys/fs/cgroup tidy.
// A PID reused by another process only postpones the sweep.
void SweepStaleCgroups() {
  for (const char* root : {"/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified", "/sys/fs/cgroup"}) {
    for (const std::string& name : LeftByDeadTests(root, kCgroupPrefix)) {
      RunCommand({SourcePath("tests/support/user-systemd"), "clean", "--cgroup", name}, {},
                 std::chrono::seconds(30));
    }
  }
}

}  // namespace

UserSystemd::UserSystemd() : directory_("jsn-user-systemd"), cgroup_name_(UniqueCgroupName()) {
  mkdir(runtime_dir().c_str(), 0700);
  mkdir(config_home().c_str(), 0755);
  mkdir((config_home() + "/systemd").c_str(), 0755);
  mkdir(unit_dir().c_str(), 0755);
  mkdir(scratch_dir().c_str(), 0755);
}

UserSystemd::~UserSystemd() { Stop(); }

::testing::AssertionResult UserSystemd::WriteUnit(const std::string& name,
                                                  const std::string& text) {
  std::string path = unit_dir() + "/" + name;
  if (!WriteFile(path, text)) return ::testing::AssertionFailure() << "cannot write " << path;
  return ::testing::AssertionSuccess();
}

std::vector<std::string> UserSystemd::EnvironmentOverrides() const {
  return {
      "XDG_RUNTIME_DIR=" + runtime_dir(),
      "XDG_CONFIG_HOME=" + config_home(),
      "DBUS_SESSION_BUS_ADDRESS=" + bus_address(),
      "SYSTEMD_PAGER=",
      "SYSTEMD_COLORS=0",
  };
}

::testing::AssertionResult UserSystemd::Start(std::chrono::milliseconds timeout) {
  if (directory_.path().empty()) return ::testing::AssertionFailure() << "no temporary directory";
  if (manager_.running()) return ::testing::AssertionFailure() << "already started";
  if (geteuid() != 0) {
    return ::testing::AssertionFailure() << "a user manager in its own cgroup needs root";
  }
  SweepStaleCgroups();
  std::string error;
  cgroups_made_ = true;
  if (!manager_.Start({SourcePath("tests/support/user-systemd"), "start", "--runtime-dir",
                       runtime_dir(), "--config-home", config_home(), "--cgroup", cgroup_name_},
                      Environment(), &error, log_path())) {
    return ::testing::AssertionFailure() << "cannot start the user manager: " << error;
  }
  Clock::time_point started = Clock::now();
  Clock::time_point deadline = started + timeout;
  std::string state;
  while (Clock::now() < deadline) {
    if (manager_.WaitForExit(std::chrono::milliseconds(0))) {
      return ::testing::AssertionFailure()
             << "the user manager exited during start-up ("
             << CommandResult{manager_.wait_status(), "", ""}.Describe() << "); its log:\n"
             << ReadFile(log_path());
    }
    // SystemState can only be read once systemd owns org.freedesktop.systemd1 on the bus.
    state = ManagerProperty("SystemState");
    if (state == "running" || state == "degraded") {
      ::testing::Test::RecordProperty(
          "user_systemd_start_ms",
          static_cast<int>(
              std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started)
                  .count()));
      return ::testing::AssertionSuccess();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return ::testing::AssertionFailure()
         << "the user manager was not ready within " << timeout.count() << " ms (SystemState \""
         << state << "\"); its log:\n"
         << ReadFile(log_path());
}

void UserSystemd::Stop(std::chrono::milliseconds grace) {
  if (manager_.running()) {
    // SIGTERM makes a user manager start exit.target with replace-irreversibly, the same as
    // `systemctl --user exit`: it stops every unit, then itself. A signal rather than systemctl,
    // because when the manager has already died systemctl falls back to the bus and waits there
    // for an activation that never comes.
    manager_.Stop(SIGTERM, grace);
  }
  if (cgroups_made_) {
    // Kills what a SIGKILLed manager left behind (its dbus-daemon, services), removes the
    // cgroups. The script knows the layout, so it is one recipe for tests and demos.
    RunCommand({SourcePath("tests/support/user-systemd"), "clean", "--cgroup", cgroup_name_}, {},
               std::chrono::seconds(30));
    cgroups_made_ = false;
  }
}

CommandResult UserSystemd::Systemctl(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"systemctl", "--user", "--no-pager"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, Environment());
}

CommandResult UserSystemd::Busctl(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"busctl", "--address=" + bus_address()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, Environment());
}

::testing::AssertionResult UserSystemd::DaemonReload() const {
  CommandResult result = Systemctl({"daemon-reload"});
  if (result.succeeded()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "systemctl --user daemon-reload: " << result.Describe() << ": " << result.output;
}

std::string UserSystemd::ManagerProperty(const std::string& property) const {
  CommandResult result =
      Busctl({"get-property", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
              "org.freedesktop.systemd1.Manager", property});
  return result.succeeded() ? UnquoteBusctlString(result.output) : "";
}

std::string UserSystemd::UnitProperty(const std::string& unit, const std::string& property) const {
  CommandResult result = Busctl({"get-property", "org.freedesktop.systemd1", UnitObjectPath(unit),
                                 "org.freedesktop.systemd1.Unit", property});
  return result.succeeded() ? UnquoteBusctlString(result.output) : "";
}

::testing::AssertionResult UserSystemd::WaitForActiveState(
    const std::string& unit, const std::string& state, std::chrono::milliseconds timeout) const {
  Clock::time_point deadline = Clock::now() + timeout;
  std::string seen;
  for (;;) {
    seen = ActiveState(unit);
    if (seen == state) return ::testing::AssertionSuccess();
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return ::testing::AssertionFailure() << unit << " stayed \"" << seen << "\", expected \"" << state
                                       << "\" within " << timeout.count() << " ms";
}

std::string UserSystemd::UnitObjectPath(const std::string& unit) {
  static const char kHex[] = "0123456789abcdef";
  std::string path = "/org/freedesktop/systemd1/unit/";
  if (unit.empty()) return path + "_";
  for (size_t i = 0; i < unit.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(unit[i]);
    bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    bool digit = c >= '0' && c <= '9';
    if (alpha || (digit && i > 0)) {
      path += static_cast<char>(c);
    } else {
      path += '_';
      path += kHex[c >> 4];
      path += kHex[c & 15];
    }
  }
  return path;
}

}  // namespace jsn::testing
