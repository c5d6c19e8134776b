// The charm-side subcommands are crash-only, against a real systemd user manager
// (tests/support/user_systemd.h) with --user: `subscribe`, `stop` and `remove`, killed (SIGKILL,
// injected by Debian's strace on entry to one system call: -e inject=NAME:signal=KILL:when=K)
// at any one of their system calls and then run again normally, end in exactly the state an
// uninterrupted run gives. The table is the uninterrupted run's own trace, call by call: the
// K-th call of each name, from the first execve to exit_group. The state compared: the unit
// directory (the unit file, its enablement link, no temporary left beside), the unit file's
// text, the hook links, the state directory, and what systemd has loaded and runs
// (LoadState, ActiveState, SubState, NeedDaemonReload, the loaded ExecStart=, and the daemon's
// own /proc command line and executable). Enablement is the link in default.target.wants, as
// GetUnitFileState reads it: systemd 252 keeps a unit's UnitFileState property from when it was
// first asked until the next reload, and neither `systemctl disable --no-reload` nor `stop`
// reloads.
//
// A call before the run's first change (the first call that creates, deletes or renames a
// file, or sends systemd a request that acts: StartUnit, StopUnit, RestartUnit, EnableUnitFiles,
// DisableUnitFiles, Reload, and conservatively the NeedDaemonReload question) and before its
// first connect (after which the number of socket reads varies from run to run, so a call's
// place in the trace says less) cannot leave anything behind: the run is killed there, and the
// state it found is checked once, after the last of them. Run again from that same state, it is
// the uninterrupted run, checked already. From there on each kill is followed by the run again
// and the comparison.
//
// `subscribe` goes back and forth between two watch lists (each run rewrites the unit file and
// restarts the daemon), so each call is killed once in one of the two directions: the two
// runs make the same calls, only their arguments differ. `stop` and `remove` are set up again
// by an uninterrupted `subscribe` after each kill that changed something.
#include <dirent.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "support/child_process.h"
#include "support/fake_juju_exec.h"
#include "support/source_tree.h"
#include "support/user_systemd.h"

namespace jsn::testing {
namespace {

constexpr const char* kNoticesUnit = "juju-app-0-systemd-notices.service";
constexpr const char* kSleeper = "[Service]\nExecStart=/bin/sleep infinity\n";

// One system call of a trace: its name and which call of that name it is (from 1).
using Call = std::pair<std::string, int>;

struct Trace {
  std::vector<Call> calls;
  // The index of the first call that may change something, or of the first connect: up to there
  // a run makes the same calls every time, after it how often the socket is read varies.
  size_t first_change = 0;
  size_t before_bus = 0;  // how many calls precede the first connect: the same in every run
};

bool MayChangeSomething(const std::string& name, const std::string& line) {
  for (const char* call : {"mkdir", "symlink", "unlink", "rename", "link", "fchmod"}) {
    if (name.rfind(call, 0) == 0) return true;
  }
  if (name.rfind("open", 0) == 0 && line.find("O_CREAT") != std::string::npos) return true;
  for (const char* request :
       {"StartUnit", "StopUnit", "EnableUnitFiles", "DisableUnitFiles", "Reload"}) {
    if (line.find(request) != std::string::npos) return true;  // RestartUnit too
  }
  return false;
}

// "NAME -> TARGET" or "NAME/" for each entry under `dir`, depth first, sorted.
void List(const std::string& dir, const std::string& prefix, std::string* out) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* entry = readdir(d)) {
      std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    std::string path = dir + "/" + name;
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) continue;
    if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t length = readlink(path.c_str(), target, sizeof target);
      *out += prefix + name + " -> " + std::string(target, length > 0 ? length : 0) + "\n";
    } else if (S_ISDIR(st.st_mode)) {
      *out += prefix + name + "/\n";
      List(path, prefix + name + "/", out);
    } else {
      *out += prefix + name + "\n";
    }
  }
}

class CrashOnlySubcommands : public ::testing::Test {
 protected:
  void SetUp() override {
    charm_dir_ = systemd_.scratch_dir() + "/charm";
    state_dir_ = systemd_.scratch_dir() + "/state";
    ASSERT_EQ(mkdir(systemd_.scratch_dir().c_str(), 0755) == 0 || errno == EEXIST, true);
    ASSERT_EQ(mkdir(charm_dir_.c_str(), 0755), 0);
    ASSERT_TRUE(WriteFile(charm_dir_ + "/dispatch", "#!/bin/sh\nexit 0\n", 0755));
    ASSERT_TRUE(systemd_.WriteUnit("hello.service", kSleeper));
    // Without generators (none is needed here) a reload, which most reruns make, costs much
    // less: the manager inherits these from our environment.
    std::string none = systemd_.scratch_dir() + "/no-generators";
    setenv("SYSTEMD_GENERATOR_PATH", none.c_str(), 1);
    setenv("SYSTEMD_ENVIRONMENT_GENERATOR_PATH", none.c_str(), 1);
    bool started = systemd_.Start();
    unsetenv("SYSTEMD_GENERATOR_PATH");
    unsetenv("SYSTEMD_ENVIRONMENT_GENERATOR_PATH");
    ASSERT_TRUE(started);
  }

  std::vector<std::string> Subscribe(const std::string& watch) const {
    return {DaemonPath(), "subscribe",   "--user",     "--unit",      "app/0",    "--charm-dir",
            charm_dir_,   "--juju-exec", juju_.path(), "--state-dir", state_dir_, watch};
  }
  static std::vector<std::string> Unsubscribe(const char* verb) {
    return {DaemonPath(), verb, "--user", "--unit", "app/0"};
  }

  ::testing::AssertionResult Run(const std::vector<std::string>& args) const {
    CommandResult result = RunCommand(args, systemd_.Environment(), std::chrono::seconds(120));
    if (result.succeeded()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << args[1] << ": " << result.Describe() << "\n"
                                         << result.output;
  }

  // The calls of an uninterrupted run of `args`, in order (-s: the D-Bus members in full).
  Trace TraceOf(const std::vector<std::string>& args) const {
    std::string file = systemd_.scratch_dir() + "/trace";
    std::vector<std::string> command = {"strace", "-qq", "-s", "512", "-o", file, "--"};
    command.insert(command.end(), args.begin(), args.end());
    CommandResult result = RunCommand(command, systemd_.Environment(), std::chrono::seconds(120));
    EXPECT_TRUE(result.succeeded()) << result.Describe() << "\n" << result.output;
    Trace trace;
    std::map<std::string, int> seen;
    bool changed = false;
    bool connected = false;
    std::string text = ReadFile(file);
    for (size_t at = 0, end; at < text.size(); at = end + 1) {
      end = text.find('\n', at);
      if (end == std::string::npos) end = text.size();
      std::string line = text.substr(at, end - at);
      size_t paren = line.find('(');
      if (line.rfind("+++", 0) == 0 || line.rfind("---", 0) == 0 || paren == std::string::npos) {
        continue;
      }
      std::string name = line.substr(0, paren);
      changed = changed || MayChangeSomething(name, line);
      connected = connected || name == "connect";
      if (!changed && !connected) trace.first_change += 1;
      if (!connected) trace.before_bus += 1;
      trace.calls.emplace_back(name, ++seen[name]);
    }
    return trace;
  }

  // Runs `args` under strace, which kills it on entry to `call`. True when it was killed: a run
  // may make fewer calls of a name than the traced one did (a socket read that found more at
  // once), and then ends on its own.
  bool KilledAt(const std::vector<std::string>& args, const Call& call) const {
    std::string name = call.first;
    std::vector<std::string> command = {
        "strace", "-qq",
        "-o",     "/dev/null",
        "-e",     "trace=" + name,
        "-e",     "inject=" + name + ":signal=KILL:when=" + std::to_string(call.second),
        "--"};
    command.insert(command.end(), args.begin(), args.end());
    CommandResult result = RunCommand(command, systemd_.Environment(), std::chrono::seconds(120));
    return !result.exited();
  }

  std::string Snapshot() const {
    std::string out = "unit directory:\n";
    List(systemd_.unit_dir(), "  ", &out);
    out += "unit file:\n" + ReadFile(systemd_.unit_dir() + "/" + kNoticesUnit);
    out += "hooks:\n";
    List(charm_dir_ + "/hooks", "  ", &out);
    out += "state directory:\n";
    List(state_dir_, "  ", &out);
    out += "state file:\n" + ReadFile(state_dir_ + "/app-0.state");
    CommandResult show = systemd_.Systemctl(
        {"show", "-p", "LoadState,ActiveState,SubState,NeedDaemonReload,ExecStart,MainPID",
         kNoticesUnit});
    std::string properties = show.output;
    // The loaded definition, not how its last run went (times, PID).
    size_t runtime = properties.find(" ; ignore_errors=");
    if (runtime != std::string::npos) {
      properties.erase(runtime, properties.find('\n', runtime) - runtime);
    }
    size_t main_pid = properties.find("MainPID=");
    std::string pid;
    if (main_pid != std::string::npos) {
      size_t end = properties.find('\n', main_pid);
      pid = properties.substr(main_pid + 8, end - main_pid - 8);
      properties.erase(main_pid, end + 1 - main_pid);
    }
    out += "systemd:\n" + properties + "daemon:";
    if (!pid.empty() && pid != "0") {
      std::string cmdline = ReadFile("/proc/" + pid + "/cmdline");
      std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
      char exe[4096];
      ssize_t length = readlink(("/proc/" + pid + "/exe").c_str(), exe, sizeof exe);
      out += " " + cmdline + "\n  running " + std::string(exe, length > 0 ? length : 0);
    }
    return out + "\n";
  }

  // Kills `args` at call `i` of `trace`, run from the state `from`; *changed says whether it
  // may have changed something, and then it is run again and must end in `to`. Counts the runs
  // that strace killed in killed_: a run may make fewer calls of a name than the traced one did
  // (a socket read that found more at once), and then it ends on its own.
  ::testing::AssertionResult KillAndRunAgain(const std::vector<std::string>& args,
                                             const Trace& trace, size_t i, const std::string& from,
                                             const std::string& to, bool* changed) {
    const Call& call = trace.calls[i];
    bool killed = KilledAt(args, call);
    killed_ += killed ? 1 : 0;
    *changed = i >= trace.first_change || !killed;  // a run not killed made its changes
    if (!*changed) {
      if (i + 1 < trace.first_change) return ::testing::AssertionSuccess();
      std::string state = Snapshot();
      if (state == from) return ::testing::AssertionSuccess();
      return ::testing::AssertionFailure() << args[1] << " killed before its first change, at "
                                           << call.first << " #" << call.second << ", left\n"
                                           << state << "where it found\n"
                                           << from;
    }
    ::testing::AssertionResult again = Run(args);
    if (!again) {
      return again << " (run again after a kill at " << call.first << " #" << call.second << ")";
    }
    std::string state = Snapshot();
    if (state == to) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << args[1] << " killed at " << call.first << " #" << call.second << " (call " << i + 1
           << " of " << trace.calls.size() << ") and run again ends in\n"
           << state << "where an uninterrupted run ends in\n"
           << to;
  }

  // The table for `stop` and `remove`, each killed from the subscribed state (`subscribe`
  // brings it back after a kill that changed something).
  void KillAtEachCall(const std::vector<std::string>& args,
                      const std::vector<std::string>& subscribe) {
    ASSERT_TRUE(Run(subscribe));
    const std::string subscribed = Snapshot();
    ASSERT_TRUE(Run(args));
    const std::string done = Snapshot();
    ASSERT_TRUE(Run(subscribe));
    ASSERT_EQ(Snapshot(), subscribed);
    const Trace trace = TraceOf(args);
    ASSERT_EQ(Snapshot(), done);
    ASSERT_TRUE(Run(subscribe));
    auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < trace.calls.size(); ++i) {
      bool changed = false;
      ASSERT_TRUE(KillAndRunAgain(args, trace, i, subscribed, done, &changed));
      if (changed) {
        ASSERT_TRUE(Run(subscribe));
      }
    }
    Report(args[1], trace, start);
  }

  void Report(const std::string& command, const Trace& trace,
              std::chrono::steady_clock::time_point start) {
    auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start);
    printf("%s: %zu calls (the first change at call %zu), %zu runs killed, %lld s\n",
           command.c_str(), trace.calls.size(), trace.first_change + 1, killed_,
           static_cast<long long>(seconds.count()));
    EXPECT_GE(killed_, trace.before_bus) << "the kills before the bus must all land";
  }

  UserSystemd systemd_;
  FakeJujuExec juju_;
  std::string charm_dir_;
  std::string state_dir_;
  size_t killed_ = 0;
};

TEST_F(CrashOnlySubcommands, SubscribeKilledAtAnyCallThenRunAgainEndsAsAnUninterruptedRun) {
  const std::vector<std::string> first = Subscribe("hello=first");
  const std::vector<std::string> second = Subscribe("hello=second");
  ASSERT_TRUE(Run(first));
  ASSERT_TRUE(Run(second));  // both aliases' links exist from here on, as they stay
  const std::string as_second = Snapshot();
  ASSERT_TRUE(Run(first));
  const std::string as_first = Snapshot();
  for (const char* property : {"\nLoadState=loaded\n", "\nActiveState=active\n",
                               "\nSubState=running\n", "\nNeedDaemonReload=no\n",
                               "\nhello.service stopped\n", " hello.service=first \n  running "}) {
    ASSERT_NE(as_first.find(property), std::string::npos) << property << " in\n" << as_first;
  }
  // From first to second and back: each rewrites the unit file and restarts the daemon.
  const Trace to_second = TraceOf(second);
  const Trace to_first = TraceOf(first);
  ASSERT_EQ(Snapshot(), as_first);
  ASSERT_GT(to_second.calls.size(), to_second.first_change);
  auto start = std::chrono::steady_clock::now();
  bool at_first = true;
  for (size_t i = 0; i < std::max(to_second.calls.size(), to_first.calls.size()); ++i) {
    const Trace& trace = at_first ? to_second : to_first;
    if (i >= trace.calls.size()) continue;
    bool changed = false;
    ASSERT_TRUE(KillAndRunAgain(at_first ? second : first, trace, i,
                                at_first ? as_first : as_second, at_first ? as_second : as_first,
                                &changed));
    if (changed) at_first = !at_first;
  }
  Report("subscribe", to_second, start);
}

TEST_F(CrashOnlySubcommands, StopKilledAtAnyCallThenRunAgainEndsAsAnUninterruptedRun) {
  KillAtEachCall(Unsubscribe("stop"), Subscribe("hello=greeter"));
}

TEST_F(CrashOnlySubcommands, RemoveKilledAtAnyCallThenRunAgainEndsAsAnUninterruptedRun) {
  KillAtEachCall(Unsubscribe("remove"), Subscribe("hello=greeter"));
}

// What the tables above start and end in, as they take it.
TEST_F(CrashOnlySubcommands, StopAndRemoveEndAsTheyShould) {
  const std::vector<std::string> subscribe = Subscribe("hello=greeter");
  ASSERT_TRUE(Run(subscribe));
  const std::string subscribed = Snapshot();
  EXPECT_NE(subscribed.find("state file:\njuju-systemd-notices-state 1 app/0\n"), std::string::npos)
      << "the daemon writes its state file before READY=1:\n"
      << subscribed;
  ASSERT_TRUE(Run(Unsubscribe("stop")));
  const std::string stopped = Snapshot();
  for (const char* property :
       {"\nActiveState=inactive\n", "\nNeedDaemonReload=no\n", "\ndaemon:\n"}) {
    EXPECT_NE(stopped.find(property), std::string::npos) << property << " in\n" << stopped;
  }
  ASSERT_TRUE(Run(subscribe));
  ASSERT_TRUE(Run(Unsubscribe("remove")));
  const std::string removed = Snapshot();
  for (const char* property : {"\nLoadState=not-found\n", "\nActiveState=inactive\n",
                               "\nNeedDaemonReload=no\n", "state directory:\nstate file:\n"}) {
    EXPECT_NE(removed.find(property), std::string::npos) << property << " in\n" << removed;
  }
  EXPECT_EQ(removed.find(kNoticesUnit), std::string::npos) << removed;  // file, link, daemon
}

}  // namespace
}  // namespace jsn::testing
