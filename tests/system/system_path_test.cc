// The deployment path a charm takes, under test: a real systemd as PID 1 (of a PID namespace of
// its own, tests/support/system_systemd.h) with the real system bus, dbus-daemon and dbus-broker
// in turn. No --user, no --bus, no --juju-exec, no --state-dir: the charm dir's copy of our
// static binary runs `subscribe` as a charm would, which writes /etc/systemd/system, enables
// into multi-user.target.wants and starts the hardened unit; the daemon systemd starts talks
// to /run/dbus/system_bus_socket, runs /usr/bin/juju-exec (a recording stand-in) and keeps its
// state in /var/lib/juju-systemd-notices; its stderr is journald's.
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.h"
#include "support/fake_juju_exec.h"
#include "support/source_tree.h"
#include "support/system_systemd.h"

namespace jsn::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kWatched = "jsn-watched.service";
constexpr const char* kNoticesUnit = "juju-app-0-systemd-notices.service";
constexpr const char* kOtherNoticesUnit = "juju-other-0-systemd-notices.service";
constexpr const char* kStarted = "hooks/service-watched-started";
constexpr const char* kStopped = "hooks/service-watched-stopped";

std::string Contents(const std::vector<JournalEntry>& entries) {
  std::string text;
  for (const JournalEntry& entry : entries) {
    text += "  <" + std::to_string(entry.priority) + "> " + entry.message + "\n";
  }
  return text;
}

class SystemPath : public ::testing::TestWithParam<std::string> {
 protected:
  SystemPath() : systemd_(GetParam()) {}

  void SetUp() override {
    // The charm dir as Juju lays it out, with our static binary in bin/ (where a charm ships
    // it), inside the fixture's folder so systemd sees it at the same path.
    charm_dir_ = systemd_.dir() + "/charm";
    ASSERT_EQ(mkdir(charm_dir_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir((charm_dir_ + "/bin").c_str(), 0755), 0);
    ASSERT_TRUE(WriteFile(charm_dir_ + "/dispatch", "#!/bin/sh\nexit 0\n", 0755));
    binary_ = charm_dir_ + "/bin/juju-systemd-notices";
    std::string program = ReadFile(DaemonPath());
    ASSERT_FALSE(program.empty()) << "cannot read " << DaemonPath()
                                  << " (build it, or set $JSN_DAEMON)";
    ASSERT_TRUE(WriteFile(binary_, program, 0755));
    ASSERT_TRUE(systemd_.WriteUnit(kWatched,
                                   "[Service]\nExecStart=/bin/sleep infinity\nRestart=always\n"
                                   "RestartSec=100ms\n"));
    // Juju's agent dirs, whose run.socket juju-exec connects to.
    ASSERT_TRUE(systemd_.AddJujuUnit("app/0"));
    ASSERT_TRUE(systemd_.AddJujuUnit("other/0"));
    ASSERT_TRUE(systemd_.Start());
  }

  // Our binary, run inside as a charm's hook would run it.
  CommandResult Notices(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {binary_};
    argv.insert(argv.end(), args.begin(), args.end());
    return systemd_.Run(argv);
  }

  ::testing::AssertionResult Subscribe(const std::string& unit) const {
    CommandResult result = Notices(
        {"subscribe", "--unit", unit, "--charm-dir", charm_dir_, "-d", "jsn-watched=watched"});
    if (result.succeeded()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "subscribe --unit " << unit << ": " << result.Describe() << ": " << result.output;
  }

  ::testing::AssertionResult Systemctl(const std::vector<std::string>& args) const {
    CommandResult result = systemd_.Systemctl(args);
    if (result.succeeded()) return ::testing::AssertionSuccess();
    std::string command;
    for (const std::string& arg : args) command += " " + arg;
    return ::testing::AssertionFailure()
           << "systemctl" << command << ": " << result.Describe() << ": " << result.output;
  }

  // The hooks juju-exec has run so far, as "UNIT HOOK", once `count` of them have ended.
  std::vector<std::string> Hooks(size_t count) {
    EXPECT_TRUE(systemd_.juju_exec().WaitForEnded(count))
        << "the daemons' journal:\n"
        << Contents(systemd_.Journal(kNoticesUnit))
        << Contents(systemd_.Journal(kOtherNoticesUnit));
    std::vector<std::string> hooks;
    for (const JujuExecCall& call : systemd_.juju_exec().Calls()) {
      hooks.push_back(call.unit() + " " + call.hook());
    }
    return hooks;
  }

  // The last of them ("" when none ran).
  std::string LastHook(size_t count) {
    std::vector<std::string> hooks = Hooks(count);
    return hooks.empty() ? "" : hooks.back();
  }

  // Waits (bounded) for a journal entry of `unit` at `priority` whose message holds `text`.
  ::testing::AssertionResult WaitForJournal(const std::string& unit, int priority,
                                            const std::string& text) const {
    Clock::time_point deadline = Clock::now() + std::chrono::seconds(30);
    std::vector<JournalEntry> entries;
    for (;;) {
      entries = systemd_.Journal(unit);
      for (const JournalEntry& entry : entries) {
        if (entry.priority == priority && entry.message.find(text) != std::string::npos) {
          return ::testing::AssertionSuccess();
        }
      }
      if (Clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return ::testing::AssertionFailure() << "no PRIORITY=" << priority << " entry with \"" << text
                                         << "\" in the journal of " << unit << "; it holds:\n"
                                         << Contents(entries);
  }

  // `systemctl ARGS...` inside, left running (a stop that waits for a hook) in `child`.
  ::testing::AssertionResult StartSystemctl(ChildProcess* child,
                                            const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {"nsenter", "-t",        std::to_string(systemd_.pid()),
                                     "-a",      "systemctl", "--no-pager"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string error;
    if (child->Start(argv, {}, &error)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "cannot run systemctl: " << error;
  }

  // Waits (bounded) until `unit`'s SubState is `state`.
  ::testing::AssertionResult WaitForSubState(const std::string& unit,
                                             const std::string& state) const {
    Clock::time_point deadline = Clock::now() + std::chrono::seconds(30);
    std::string seen;
    while (Clock::now() < deadline) {
      seen = systemd_.UnitProperty(unit, "SubState");
      if (seen == state) return ::testing::AssertionSuccess();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return ::testing::AssertionFailure()
           << unit << " never reached " << state << " (last " << seen << ")";
  }

  // A hook held running (until OpenGate("hook")) when `systemctl ARGS...` (a stop or a
  // restart of the notices unit) begins: returns once systemd has sent the daemon its SIGTERM,
  // lets the hook end, and waits for systemctl. With `queue_a_stop` the watched service stops
  // while the hook is held: a transition queued behind it. CLOCK_MONOTONIC ns when systemctl
  // had ended.
  int64_t StopWhileAHookRuns(const std::vector<std::string>& args, bool queue_a_stop = false) {
    EXPECT_TRUE(systemd_.juju_exec().SetRules(
        "service-watched-started wait=" + systemd_.juju_exec().GatePath("hook") + "\n"));
    EXPECT_TRUE(Systemctl({"start", kWatched}));
    EXPECT_TRUE(systemd_.juju_exec().WaitForBegun(1));
    if (queue_a_stop) {
      EXPECT_TRUE(Systemctl({"stop", kWatched}));
    }
    ChildProcess systemctl;
    EXPECT_TRUE(StartSystemctl(&systemctl, args));
    // SIGTERM sent: systemd stays in stop-sigterm until the daemon has exited.
    EXPECT_TRUE(WaitForSubState(kNoticesUnit, "stop-sigterm"));
    EXPECT_TRUE(systemd_.juju_exec().OpenGate("hook"));
    EXPECT_TRUE(systemctl.WaitForExit(std::chrono::seconds(60)));
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    EXPECT_EQ(systemctl.wait_status(), 0) << "systemctl failed";
    return int64_t{now.tv_sec} * 1000000000 + now.tv_nsec;
  }

  std::string ProcFile(const std::string& pid, const std::string& file) const {
    return systemd_.Run({"cat", "/proc/" + pid + "/" + file}).output;
  }

  SystemSystemd systemd_;
  std::string charm_dir_;
  std::string binary_;
};

TEST_P(SystemPath, SubscribeWritesEnablesAndStartsTheHardenedUnit) {
  ASSERT_TRUE(Subscribe("app/0"));

  std::string unit_file = systemd_.unit_dir() + "/" + kNoticesUnit;
  std::string text = ReadFile(unit_file);
  EXPECT_NE(text.find("ExecStart=" + binary_ + " --unit app/0 --charm-dir " + charm_dir_ +
                      " --debug -- jsn-watched.service=watched"),
            std::string::npos)
      << text;
  char target[4096];
  std::string wants = systemd_.unit_dir() + "/multi-user.target.wants/" + kNoticesUnit;
  ssize_t length = readlink(wants.c_str(), target, sizeof target);
  ASSERT_GT(length, 0) << wants << " is not a link";
  EXPECT_EQ(std::string(target, static_cast<size_t>(length)),
            std::string("/etc/systemd/system/") + kNoticesUnit);
  EXPECT_EQ(systemd_.UnitProperty(kNoticesUnit, "UnitFileState"), "enabled");
  EXPECT_EQ(systemd_.UnitProperty(kNoticesUnit, "ActiveState"), "active");
  struct stat st;
  EXPECT_EQ(lstat((charm_dir_ + "/hooks/service-watched-started").c_str(), &st), 0);
  EXPECT_EQ(lstat((charm_dir_ + "/hooks/service-watched-stopped").c_str(), &st), 0);

  // The hardening is in force on the running daemon, as the kernel sees it.
  std::string pid = systemd_.UnitProperty(kNoticesUnit, "MainPID");
  ASSERT_NE(pid, "0");
  std::string status = ProcFile(pid, "status");
  EXPECT_NE(status.find("NoNewPrivs:\t1"), std::string::npos) << status;
  EXPECT_NE(status.find("Seccomp:\t2"), std::string::npos) << status;  // RestrictRealtime & co.
  CommandResult proc_sys = systemd_.Run({"findmnt", "-N", pid, "-no", "OPTIONS", "/proc/sys"});
  EXPECT_EQ(proc_sys.output.rfind("ro,", 0), 0u) << "ProtectKernelTunables: " << proc_sys.output;
  CommandResult cgroup = systemd_.Run({"findmnt", "-N", pid, "-no", "OPTIONS", "/sys/fs/cgroup"});
  EXPECT_EQ(cgroup.output.rfind("ro,", 0), 0u) << "ProtectControlGroups: " << cgroup.output;

  // ProtectSystem=strict: in the daemon's mount namespace (juju-exec's too) nothing is
  // writable but the state dir.
  for (const char* place : {"/var/lib/juju", "/etc", "/tmp", "/run", "/root"}) {
    CommandResult touched =
        systemd_.Run({"nsenter", "-t", pid, "-m", "touch", std::string(place) + "/jsn-probe"});
    EXPECT_FALSE(touched.succeeded()) << place << " is writable to the daemon";
    EXPECT_NE(touched.output.find("Read-only file system"), std::string::npos) << touched.output;
  }
  CommandResult written = systemd_.Run({"nsenter", "-t", pid, "-m", "sh", "-c",
                                        "touch /var/lib/juju-systemd-notices/jsn-probe && rm "
                                        "/var/lib/juju-systemd-notices/jsn-probe"});
  EXPECT_TRUE(written.succeeded()) << "the state dir is not writable: " << written.output;
  EXPECT_EQ(systemd_.UnitProperty(kNoticesUnit, "KillMode"), "mixed");

  CommandResult shown = Notices({"status", "--unit", "app/0"});
  EXPECT_TRUE(shown.succeeded()) << shown.output;
  EXPECT_NE(shown.output.find("watched"), std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find("jsn-watched.service"), std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find("inactive"), std::string::npos) << shown.output;

  CommandResult stopped = Notices({"stop", "--unit", "app/0"});
  EXPECT_TRUE(stopped.succeeded()) << stopped.output;
  EXPECT_EQ(systemd_.UnitProperty(kNoticesUnit, "ActiveState"), "inactive");
  EXPECT_EQ(systemd_.UnitProperty(kNoticesUnit, "UnitFileState"), "disabled");
  EXPECT_NE(lstat(wants.c_str(), &st), 0) << wants << " is still there";
}

TEST_P(SystemPath, StartStopAndCrashOfAWatchedServiceReachJujuExec) {
  ASSERT_TRUE(Subscribe("app/0"));
  ASSERT_TRUE(Systemctl({"start", kWatched}));
  EXPECT_EQ(Hooks(1), (std::vector<std::string>{std::string("app/0 ") + kStarted}));
  ASSERT_TRUE(Systemctl({"stop", kWatched}));
  EXPECT_EQ(LastHook(2), std::string("app/0 ") + kStopped);
  ASSERT_TRUE(Systemctl({"start", kWatched}));
  EXPECT_EQ(LastHook(3), std::string("app/0 ") + kStarted);

  // SIGKILL with Restart=always: one stopped, then one started.
  pid_t service = static_cast<pid_t>(atoi(systemd_.UnitProperty(kWatched, "MainPID").c_str()));
  ASSERT_TRUE(Systemctl({"kill", "--signal=KILL", kWatched}));
  ASSERT_NE(systemd_.WaitForNewMainPid(kWatched, service), 0);
  std::vector<std::string> hooks = Hooks(5);
  ASSERT_EQ(hooks.size(), 5u);
  EXPECT_EQ(hooks[3], std::string("app/0 ") + kStopped);
  EXPECT_EQ(hooks[4], std::string("app/0 ") + kStarted);

  // What ran is /usr/bin/juju-exec, from /, with PATH first, JOURNAL_STREAM, and nothing else of
  // what systemd sets for a service but the locale (README: Running the daemon).
  for (const JujuExecCall& call : systemd_.juju_exec().Calls()) {
    EXPECT_EQ(call.argv[0], "/usr/bin/juju-exec");
    EXPECT_EQ(call.cwd, "/");
    EXPECT_EQ(call.exit_code, 0);
    std::vector<std::string> names;
    for (const std::string& entry : call.environment) {
      std::string name = entry.substr(0, entry.find('='));
      if (name != "LANG" && name != "LANGUAGE" && name.rfind("LC_", 0) != 0) names.push_back(name);
    }
    EXPECT_EQ(names, (std::vector<std::string>{"PATH", "JOURNAL_STREAM"}))
        << ::testing::PrintToString(call.environment);
  }
}

// KillMode=mixed: `systemctl stop` sends SIGTERM to the daemon alone; juju-exec, mid-hook, is
// left to end, the daemon waits for it (its stop grace), records the hook, and only then exits.
TEST_P(SystemPath, StopLetsARunningHookEndAndRecordsIt) {
  ASSERT_TRUE(Subscribe("app/0"));
  int64_t stopped_ns = StopWhileAHookRuns({"stop", kNoticesUnit});

  std::vector<JujuExecCall> calls = systemd_.juju_exec().Calls();
  ASSERT_EQ(calls.size(), 1u) << FakeJujuExec::Describe(calls);
  EXPECT_EQ(calls[0].exit_code, 0) << FakeJujuExec::Describe(calls);
  EXPECT_LT(calls[0].end_ns, stopped_ns) << "the stop returned before the hook had ended";
  // juju-exec's own exit (not a signal) is what the daemon saw.
  EXPECT_TRUE(WaitForJournal(kNoticesUnit, 6, "-> hooks/service-watched-started: exit 0"));
  EXPECT_EQ(systemd_.UnitProperty(kNoticesUnit, "Result"), "success");
  CommandResult state = systemd_.Run({"cat", "/var/lib/juju-systemd-notices/app-0.state"});
  ASSERT_TRUE(state.succeeded()) << state.output;
  EXPECT_NE(state.output.find("jsn-watched.service"), std::string::npos) << state.output;
  EXPECT_EQ(state.output.find("pending"), std::string::npos) << state.output;
  EXPECT_EQ(state.output.find("failing"), std::string::npos) << state.output;
}

// The same through `systemctl restart` (what every `subscribe` that changed the unit does): the
// hook ends, the new daemon knows it was delivered and does not run it again, and delivers the
// transition that was queued behind it when the stop came.
TEST_P(SystemPath, RestartLetsARunningHookEndAndDeliversWhatWasQueuedOnce) {
  ASSERT_TRUE(Subscribe("app/0"));
  pid_t daemon = static_cast<pid_t>(atoi(systemd_.UnitProperty(kNoticesUnit, "MainPID").c_str()));
  StopWhileAHookRuns({"restart", kNoticesUnit}, /*queue_a_stop=*/true);
  EXPECT_TRUE(WaitForJournal(kNoticesUnit, 6, "-> hooks/service-watched-started: exit 0"));
  EXPECT_NE(systemd_.WaitForNewMainPid(kNoticesUnit, daemon), 0);
  EXPECT_EQ(systemd_.UnitProperty(kNoticesUnit, "ActiveState"), "active");

  EXPECT_EQ(Hooks(2), (std::vector<std::string>{std::string("app/0 ") + kStarted,
                                                std::string("app/0 ") + kStopped}));
  // And nothing after it: a start now gives the third hook, and only that.
  ASSERT_TRUE(Systemctl({"start", kWatched}));
  EXPECT_EQ(Hooks(3), (std::vector<std::string>{std::string("app/0 ") + kStarted,
                                                std::string("app/0 ") + kStopped,
                                                std::string("app/0 ") + kStarted}));
  for (const JujuExecCall& call : systemd_.juju_exec().Calls()) EXPECT_EQ(call.exit_code, 0);
}

// A restart from inside `upgrade-charm` (README: What a stop can and cannot interrupt). Juju's
// upgrade-charm hook holds the machine lock while the charm's `subscribe` finds a new binary and
// restarts the daemon. A juju-exec the daemon started just before is queued behind that lock: it
// cannot end within the stop grace, and once the daemon has left it systemd SIGKILLs it. Juju
// still runs its command; the restarted daemon cannot know that, finds the delivery pending and
// runs it again. So the hook runs twice, the one repeat being the killed client's, and the state
// ends delivered.
TEST_P(SystemPath, RestartFromUpgradeCharmUnderTheMachineLockRepeatsOnlyTheKilledClientsHook) {
  FakeJujuExec& juju = systemd_.juju_exec();
  ASSERT_TRUE(Subscribe("app/0"));
  pid_t daemon = static_cast<pid_t>(atoi(systemd_.UnitProperty(kNoticesUnit, "MainPID").c_str()));
  ASSERT_TRUE(juju.HoldMachineLock());  // the upgrade-charm hook is running
  ASSERT_TRUE(Systemctl({"start", kWatched}));
  ASSERT_TRUE(juju.WaitForBegun(1));
  ASSERT_FALSE(juju.Calls()[0].ran()) << "not queued behind the machine lock";

  // The refresh: a new binary at the same path (appended bytes: it still runs), put in place as
  // Juju does, by rename, and the hook's `subscribe`, which restarts the daemon and waits for it.
  std::string refreshed = ReadFile(binary_) + "refreshed\n";
  ASSERT_TRUE(WriteFile(binary_ + ".new", refreshed, 0755));
  ASSERT_EQ(rename((binary_ + ".new").c_str(), binary_.c_str()), 0);
  ASSERT_TRUE(Subscribe("app/0"));
  EXPECT_NE(systemd_.WaitForNewMainPid(kNoticesUnit, daemon), 0);
  // The old daemon waited out its grace and left the juju-exec, which systemd then killed.
  EXPECT_TRUE(WaitForJournal(kNoticesUnit, 4, "hooks still running after 10 s; leaving them"));
  // That juju-exec is gone (systemd reaps what it kills), and never ended as a client does, by
  // its answer (none can come while the lock is held) or by a signal it handles (it records
  // those): SIGKILL.
  std::string proc = "/proc/" + std::to_string(juju.Calls()[0].pid);
  Clock::time_point deadline = Clock::now() + std::chrono::seconds(30);
  while (systemd_.Run({"test", "-e", proc}).succeeded() && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_FALSE(systemd_.Run({"test", "-e", proc}).succeeded()) << "the first juju-exec lives on";
  // The new one read the delivery as pending and runs it again: queued too, the lock still held.
  EXPECT_TRUE(WaitForJournal(kNoticesUnit, 6, "delivering the change"));
  ASSERT_TRUE(juju.WaitForBegun(2));
  CommandResult state = systemd_.Run({"cat", "/var/lib/juju-systemd-notices/app-0.state"});
  EXPECT_NE(state.output.find("pending"), std::string::npos) << state.output;
  std::vector<JujuExecCall> calls = juju.Calls();
  ASSERT_EQ(calls.size(), 2u) << FakeJujuExec::Describe(calls);
  EXPECT_FALSE(calls[0].ended()) << "the first client was not killed: "
                                 << FakeJujuExec::Describe(calls);
  EXPECT_FALSE(calls[0].ran() || calls[1].ran()) << FakeJujuExec::Describe(calls);

  // The upgrade-charm hook ends: both commands run, the killed client's included.
  juju.ReleaseMachineLock();
  ASSERT_TRUE(juju.WaitForRunsEnded(2));
  ASSERT_TRUE(juju.WaitForEnded(1));
  EXPECT_TRUE(WaitForJournal(kNoticesUnit, 6, "-> hooks/service-watched-started: exit 0"));
  calls = juju.Calls();
  ASSERT_EQ(calls.size(), 2u) << FakeJujuExec::Describe(calls);
  for (const JujuExecCall& call : calls) {
    EXPECT_EQ(call.hook(), kStarted);
    EXPECT_EQ(call.run_exit_code, 0) << FakeJujuExec::Describe(calls);
  }
  EXPECT_FALSE(calls[0].ended()) << FakeJujuExec::Describe(calls);
  EXPECT_EQ(calls[1].exit_code, 0) << FakeJujuExec::Describe(calls);
  // Delivered, as the service is; and nothing more to run: the next hook is the next change's.
  CommandResult shown = Notices({"status", "--unit", "app/0", "--json"});
  EXPECT_NE(shown.output.find("\"delivered\": \"started\""), std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find("\"pending\": \"none\""), std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find("\"active_state\": \"active\""), std::string::npos) << shown.output;
  ASSERT_TRUE(Systemctl({"stop", kWatched}));
  EXPECT_EQ(Hooks(2), (std::vector<std::string>{std::string("app/0 ") + kStarted,
                                                std::string("app/0 ") + kStarted,
                                                std::string("app/0 ") + kStopped}));
}

TEST_P(SystemPath, JournalFilesDeliveriesAsInfoAndFailingHooksAsWarnings) {
  ASSERT_TRUE(Subscribe("app/0"));
  ASSERT_TRUE(systemd_.juju_exec().SetRules("service-watched-stopped exit=1 times=1\n"));
  ASSERT_TRUE(Systemctl({"start", kWatched}));
  EXPECT_TRUE(WaitForJournal(kNoticesUnit, 6, "-> hooks/service-watched-started: exit 0"));
  ASSERT_TRUE(Systemctl({"stop", kWatched}));
  EXPECT_TRUE(WaitForJournal(kNoticesUnit, 4, "-> hooks/service-watched-stopped: exit 1"));
  // The retry succeeds, and is filed as info again.
  EXPECT_TRUE(WaitForJournal(kNoticesUnit, 6, "-> hooks/service-watched-stopped: exit 0"));
}

TEST_P(SystemPath, BusRestartIsSurvivedAndAChangeWhileTheBusWasDownIsDelivered) {
  ASSERT_TRUE(Subscribe("app/0"));
  std::string daemon = systemd_.UnitProperty(kNoticesUnit, "MainPID");

  ASSERT_TRUE(Systemctl({"restart", "dbus.service"}));
  ASSERT_TRUE(Systemctl({"start", kWatched}));
  EXPECT_EQ(LastHook(1), std::string("app/0 ") + kStarted);

  // The bus down (its socket too, or a reconnect would start it again) while the service stops.
  ASSERT_TRUE(Systemctl({"stop", "dbus.socket", "dbus.service"}));
  ASSERT_TRUE(Systemctl({"stop", kWatched}));
  EXPECT_TRUE(WaitForJournal(kNoticesUnit, 3, "lost the bus connection"));
  ASSERT_TRUE(Systemctl({"start", "dbus.socket", "dbus.service"}));
  EXPECT_EQ(LastHook(2), std::string("app/0 ") + kStopped);
  // The same daemon reconnected: systemd did not have to restart it.
  EXPECT_EQ(systemd_.UnitProperty(kNoticesUnit, "MainPID"), daemon);
}

TEST_P(SystemPath, DaemonReexecAndReloadKeepDelivering) {
  ASSERT_TRUE(Subscribe("app/0"));
  ASSERT_TRUE(Systemctl({"daemon-reexec"}));
  ASSERT_TRUE(Systemctl({"start", kWatched}));
  EXPECT_EQ(LastHook(1), std::string("app/0 ") + kStarted);
  ASSERT_TRUE(Systemctl({"daemon-reload"}));
  ASSERT_TRUE(Systemctl({"stop", kWatched}));
  EXPECT_EQ(LastHook(2), std::string("app/0 ") + kStopped);
}

TEST_P(SystemPath, KilledDaemonIsRestartedAndDeliversWhatChangedWhileItWasDown) {
  ASSERT_TRUE(Subscribe("app/0"));
  ASSERT_TRUE(Systemctl({"start", kWatched}));
  EXPECT_EQ(LastHook(1), std::string("app/0 ") + kStarted);
  std::string daemon = systemd_.UnitProperty(kNoticesUnit, "MainPID");
  ASSERT_NE(daemon, "0");

  // In one go, inside the unit's RestartSec=1: kill the daemon, stop the service, and show that
  // systemd was still waiting to restart the daemon when the stop had completed.
  CommandResult down = systemd_.Run(
      {"sh", "-c",
       "kill -KILL \"$1\" && systemctl stop \"$2\" && systemctl show -p SubState --value \"$3\"",
       "sh", daemon, kWatched, kNoticesUnit});
  ASSERT_TRUE(down.succeeded()) << down.output;
  EXPECT_EQ(down.output, "auto-restart\n");

  pid_t restarted = systemd_.WaitForNewMainPid(kNoticesUnit, atoi(daemon.c_str()));
  EXPECT_NE(restarted, 0) << "systemd did not restart the daemon";
  EXPECT_EQ(LastHook(2), std::string("app/0 ") + kStopped);
  CommandResult state = systemd_.Run({"cat", "/var/lib/juju-systemd-notices/app-0.state"});
  EXPECT_TRUE(state.succeeded()) << state.output;
  EXPECT_NE(state.output.find("jsn-watched.service"), std::string::npos) << state.output;
}

TEST_P(SystemPath, TwoJujuUnitsGetTheirOwnHooksAndStopIndependently) {
  ASSERT_TRUE(Subscribe("app/0"));
  ASSERT_TRUE(Subscribe("other/0"));
  EXPECT_EQ(systemd_.UnitProperty(kOtherNoticesUnit, "ActiveState"), "active");

  ASSERT_TRUE(Systemctl({"start", kWatched}));
  std::vector<std::string> hooks = Hooks(2);
  std::sort(hooks.begin(), hooks.end());
  EXPECT_EQ(hooks, (std::vector<std::string>{std::string("app/0 ") + kStarted,
                                             std::string("other/0 ") + kStarted}));

  CommandResult stopped = Notices({"stop", "--unit", "app/0"});
  ASSERT_TRUE(stopped.succeeded()) << stopped.output;
  EXPECT_EQ(systemd_.UnitProperty(kNoticesUnit, "ActiveState"), "inactive");
  EXPECT_EQ(systemd_.UnitProperty(kOtherNoticesUnit, "ActiveState"), "active");
  EXPECT_EQ(systemd_.UnitProperty(kOtherNoticesUnit, "UnitFileState"), "enabled");

  ASSERT_TRUE(Systemctl({"stop", kWatched}));
  EXPECT_EQ(LastHook(3), std::string("other/0 ") + kStopped);
  // app/0's daemon is gone: once other/0's hook has run, app/0 has had none more.
  ASSERT_TRUE(Systemctl({"start", kWatched}));
  hooks = Hooks(4);
  ASSERT_EQ(hooks.size(), 4u) << "app/0's stopped daemon ran a hook";
  EXPECT_EQ(hooks.back(), std::string("other/0 ") + kStarted);
}

// Test names end in /DbusDaemon or /DbusBroker.
std::string BusName(const ::testing::TestParamInfo<std::string>& bus) {
  return bus.param == "dbus-daemon" ? "DbusDaemon" : "DbusBroker";
}

INSTANTIATE_TEST_SUITE_P(Buses, SystemPath, ::testing::Values("dbus-daemon", "dbus-broker"),
                         BusName);

}  // namespace
}  // namespace jsn::testing
