#include "support/system_systemd.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/child_process.h"
#include "support/source_tree.h"

namespace jsn::testing {
namespace {

using Clock = std::chrono::steady_clock;

// Cgroups, folders and sentinels are named jsn-system-test-PID-N: PID of the test process, N
// its counter, so what a dead test left is found and removed (SweepStale).
constexpr char kStalePrefix[] = "jsn-system-test-";

std::string UniqueName(const char* prefix) {
  static std::atomic<int> counter{0};
  return std::string(prefix) + std::to_string(getpid()) + "-" + std::to_string(counter++);
}

std::string Trim(const std::string& text) {
  size_t end = text.find_last_not_of(" \t\r\n");
  return end == std::string::npos ? "" : text.substr(0, end + 1);
}

// The first line of `path`, "" when unreadable.
std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// The string value of "KEY":"..." in one line of journalctl's JSON, unescaped; false when the
// key is absent or its value is not a string (journalctl writes non-UTF-8 as a byte array).
bool JsonStringField(const std::string& line, const std::string& key, std::string* value) {
  std::string opening = "\"" + key + "\":\"";
  size_t at = line.find(opening);
  if (at == std::string::npos) return false;
  value->clear();
  for (size_t i = at + opening.size(); i < line.size(); ++i) {
    char c = line[i];
    if (c == '"') return true;
    if (c != '\\' || i + 1 == line.size()) {
      *value += c;
      continue;
    }
    char escaped = line[++i];
    switch (escaped) {
      case 'n':
        *value += '\n';
        break;
      case 't':
        *value += '\t';
        break;
      case 'u':
        *value += '?';
        i += 4;
        break;  // not in our messages; kept visible
      default:
        *value += escaped;
        break;
    }
  }
  return false;
}

// Every name under `path`, one a line, sorted ("" when it does not exist).
std::string ListTree(const std::string& path) {
  return RunCommand({"sh", "-c", "find \"$1\" 2>/dev/null | LC_ALL=C sort", "sh", path}).output;
}

// What a test process that died without its destructors (SIGKILL, a crash) left: cgroups,
// folders and sentinels named jsn-system-test-PID-N* for a PID that no longer exists. Its
// systemd is gone already (the starter SIGKILLs it on the parent-death SIGTERM), unless the
// starter was SIGKILLed too; `clean` kills whatever is left in the cgroups.
void SweepStale() {
  const char* tmpdir = getenv("TMPDIR");
  std::vector<std::string> places = {"/tmp", "/var/tmp"};
  if (tmpdir != nullptr && *tmpdir != '\0') places.push_back(tmpdir);
  for (const std::string& place : places) {
    for (const std::string& name : LeftByDeadTests(place, kStalePrefix)) {
      RemoveTree(place + "/" + name);
    }
  }
  for (const char* root : {"/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified", "/sys/fs/cgroup"}) {
    for (const std::string& name : LeftByDeadTests(root, kStalePrefix)) {
      RunCommand({SourcePath("tests/support/system-systemd"), "clean", "--cgroup", name}, {},
                 std::chrono::seconds(30));
    }
  }
}

}  // namespace

SystemSystemd::SystemSystemd(const std::string& bus)
    : bus_(bus),
      cgroup_name_(UniqueName(kStalePrefix)),
      directory_(cgroup_name_),
      juju_exec_(std::make_unique<FakeJujuExec>(directory_.path())) {
  mkdir(unit_dir().c_str(), 0755);
  mkdir(directory_.Join("usr-bin").c_str(), 0755);
  mkdir(directory_.Join("var-lib-juju").c_str(), 0755);
  mkdir(directory_.Join("var-lib-juju/agents").c_str(), 0755);
  // /usr/bin/juju-exec inside is Juju's client side, stood in for: it connects to the fake
  // agent below, which relays it to juju_exec()'s agent (queue, locks, record) outside.
  // The checkout's tests/support is shared at the same path inside.
  if (symlink(SourcePath("tests/support/juju-exec-client").c_str(),
              directory_.Join("usr-bin/juju-exec").c_str()) != 0) {
    ADD_FAILURE() << "cannot link the juju-exec stand-in: " << strerror(errno);
  }
  WriteUnit("jsn-juju-agent.service",
            "[Unit]\nDescription=fake Juju agent: runs juju-exec's commands\n"
            "[Service]\nType=notify\nExecStart=/usr/bin/python3 \"" +
                SourcePath("tests/support/fake-juju-agent") + "\" --socket \"" +
                juju_exec_->socket_path() + "\"\n");
  mkdir(directory_.Join("etc-systemd-system/jsn-test.target.wants").c_str(), 0755);
  if (symlink("/etc/systemd/system/jsn-juju-agent.service",
              directory_.Join("etc-systemd-system/jsn-test.target.wants/jsn-juju-agent.service")
                  .c_str()) != 0) {
    ADD_FAILURE() << "cannot enable the fake Juju agent: " << strerror(errno);
  }
}

::testing::AssertionResult SystemSystemd::AddJujuUnit(const std::string& unit) {
  std::string name = unit;
  for (char& c : name) c = c == '/' ? '-' : c;
  std::string agent = directory_.Join("var-lib-juju/agents/unit-" + name);
  if (mkdir(agent.c_str(), 0755) != 0 ||
      !WriteFile(agent + "/agent.conf", "# a fake agent.conf for " + unit + "\n")) {
    return ::testing::AssertionFailure() << "cannot lay out " << agent;
  }
  return ::testing::AssertionSuccess();
}

SystemSystemd::~SystemSystemd() { Stop(); }

::testing::AssertionResult SystemSystemd::WriteUnit(const std::string& name,
                                                    const std::string& text) {
  std::string path = unit_dir() + "/" + name;
  if (!WriteFile(path, text)) return ::testing::AssertionFailure() << "cannot write " << path;
  return ::testing::AssertionSuccess();
}

std::string SystemSystemd::SentinelPath(const std::string& parent) const {
  return parent + "/" + cgroup_name_ + ".sentinel";
}

::testing::AssertionResult SystemSystemd::Start(std::chrono::milliseconds timeout) {
  if (directory_.path().empty()) return ::testing::AssertionFailure() << "no temporary directory";
  if (starter_.running()) return ::testing::AssertionFailure() << "already started";
  if (geteuid() != 0) {
    return ::testing::AssertionFailure()
           << "systemd as PID 1 of a namespace needs root (namespaces, cgroups, mounts)";
  }
  SweepStale();
  // Files the boot must not touch: systemd-tmpfiles --remove, were it to reach the host's /tmp,
  // would take them. Stop() checks they are still there.
  for (const char* parent : {"/tmp", "/var/tmp"}) {
    std::string sentinel = SentinelPath(parent);
    if (!WriteFile(sentinel, "kept by the host\n")) {
      return ::testing::AssertionFailure() << "cannot write " << sentinel;
    }
    sentinels_.push_back(sentinel);
  }
  // Where the units systemd writes would land, were those places not private. The recipe
  // binds a folder of the test's over the daemon's default state dir, so its mount point must
  // exist (an empty folder, where an installed daemon would keep its state).
  mkdir("/var/lib/juju-systemd-notices", 0755);
  mkdir("/var/lib/juju", 0755);
  for (const char* path : {"/etc/systemd/system", "/var/log/journal",
                           "/var/lib/juju-systemd-notices", "/var/lib/juju"}) {
    host_trees_.emplace_back(path, ListTree(path));
  }
  // The checkout's test scripts (fake-juju-exec) must stay visible inside, even from a clone
  // under /tmp.
  std::string support = SourcePath("tests/support/");
  support.pop_back();
  std::string error;
  cgroups_made_ = true;
  if (!starter_.Start({SourcePath("tests/support/system-systemd"), "start", "--dir", dir(), "--bus",
                       bus_, "--cgroup", cgroup_name_, "--share", support},
                      {}, &error, log_path())) {
    return ::testing::AssertionFailure() << "cannot start systemd: " << error;
  }
  Clock::time_point started = Clock::now();
  Clock::time_point deadline = started + timeout;
  std::string state;
  while (Clock::now() < deadline) {
    if (starter_.WaitForExit(std::chrono::milliseconds(0))) {
      return ::testing::AssertionFailure()
             << "systemd exited during boot ("
             << CommandResult{starter_.wait_status(), "", ""}.Describe() << "); its log:\n"
             << ReadFile(log_path());
    }
    // The starter writes systemd's PID (as the host sees it) once unshare has forked it.
    if (systemd_pid_ == 0) {
      long pid = strtol(FirstLine(directory_.Join("systemd.pid")).c_str(), nullptr, 10);
      if (pid > 0) systemd_pid_ = static_cast<pid_t>(pid);
    }
    if (systemd_pid_ != 0) {
      state = Trim(Run({"systemctl", "is-system-running"}, std::chrono::seconds(10)).output);
      if (state == "running" || state == "degraded") {
        ::testing::Test::RecordProperty(
            "system_systemd_boot_ms",
            static_cast<int>(
                std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started)
                    .count()));
        return ::testing::AssertionSuccess();
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return ::testing::AssertionFailure() << "systemd did not boot within " << timeout.count()
                                       << " ms (is-system-running: \"" << state << "\"); its log:\n"
                                       << ReadFile(log_path());
}

void SystemSystemd::Stop() {
  // SIGKILL to PID 1 of the namespace, from the host's, always lands and takes everything in
  // the namespace along; the starter then exits (SIGTERM to it does the same).
  if (systemd_pid_ > 0) {
    kill(systemd_pid_, SIGKILL);
    systemd_pid_ = 0;
  }
  if (starter_.running()) starter_.Stop(SIGTERM, std::chrono::seconds(10));
  if (cgroups_made_) {
    CommandResult clean =
        RunCommand({SourcePath("tests/support/system-systemd"), "clean", "--cgroup", cgroup_name_},
                   {}, std::chrono::seconds(30));
    if (!clean.succeeded()) ADD_FAILURE() << "cleaning the cgroups failed: " << clean.output;
    cgroups_made_ = false;
  }
  for (const std::string& sentinel : sentinels_) {
    struct stat st;
    if (lstat(sentinel.c_str(), &st) != 0) {
      ADD_FAILURE() << "the host lost " << sentinel
                    << " while systemd ran: its /tmp was not private";
    }
    unlink(sentinel.c_str());
  }
  sentinels_.clear();
  for (const auto& [path, before] : host_trees_) {
    std::string after = ListTree(path);
    if (after != before) {
      ADD_FAILURE() << "the host's " << path << " changed while systemd ran; before:\n"
                    << before << "after:\n"
                    << after;
    }
  }
  host_trees_.clear();
}

CommandResult SystemSystemd::Run(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout) const {
  if (systemd_pid_ == 0) return CommandResult{-1, "systemd is not running", ""};
  std::vector<std::string> command = {"nsenter", "-t", std::to_string(systemd_pid_), "-a"};
  command.insert(command.end(), argv.begin(), argv.end());
  return RunCommand(command, EnvironmentWith({"SYSTEMD_PAGER=", "SYSTEMD_COLORS=0"}), timeout);
}

CommandResult SystemSystemd::Systemctl(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"systemctl", "--no-pager"};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv);
}

std::string SystemSystemd::UnitProperty(const std::string& unit,
                                        const std::string& property) const {
  CommandResult result = Systemctl({"show", "-p", property, "--value", unit});
  return result.succeeded() ? Trim(result.output) : "";
}

pid_t SystemSystemd::WaitForNewMainPid(const std::string& unit, pid_t old_pid,
                                       std::chrono::milliseconds timeout) const {
  Clock::time_point deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    long pid = strtol(UnitProperty(unit, "MainPID").c_str(), nullptr, 10);
    if (pid > 0 && pid != old_pid) return static_cast<pid_t>(pid);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return 0;
}

std::vector<JournalEntry> SystemSystemd::Journal(const std::string& unit) const {
  CommandResult result = Run(
      {"journalctl", "--no-pager", "-u", unit, "-o", "json", "--output-fields=PRIORITY,MESSAGE"});
  std::vector<JournalEntry> entries;
  std::istringstream lines(result.output);
  std::string line;
  while (std::getline(lines, line)) {
    JournalEntry entry;
    std::string priority;
    if (!JsonStringField(line, "MESSAGE", &entry.message)) continue;
    if (JsonStringField(line, "PRIORITY", &priority)) entry.priority = atoi(priority.c_str());
    entries.push_back(entry);
  }
  return entries;
}

}  // namespace jsn::testing
