// Proves the real-systemd fixture (tests/support/user_systemd.h) and pins down what real systemd
// does here, which the daemon's tests rely on: units reach the states we expect, unit signals
// reach the bus only while some client is subscribed, crashes and restarts show the states the
// daemon must coalesce, escaped names map to the object paths we compute, and managers run side
// by side without touching each other.
#include "support/user_systemd.h"

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>

#include "support/bus_monitor.h"
#include "support/child_process.h"
#include "support/source_tree.h"

namespace jsn::testing {
namespace {

const char kSleepService[] =
    "[Service]\n"
    "ExecStart=/bin/sleep infinity\n";

const char kPropertiesChangedRule[] =
    "type='signal',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged'";

bool ProcessGoneOrZombie(pid_t pid) {
  if (kill(pid, 0) != 0 && errno == ESRCH) return true;
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t close = stat.rfind(')');
  return stat.empty() || (close != std::string::npos && stat.compare(close + 2, 1, "Z") == 0);
}

bool PathExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// A PropertiesChanged of org.freedesktop.systemd1.Unit on `unit`'s object path.
auto UnitChanged(const std::string& unit) {
  std::string path = UserSystemd::UnitObjectPath(unit);
  return [path](const BusMessage& m) {
    return m.member == "PropertiesChanged" && m.path == path && !m.body.empty() &&
           m.body[0] == "string \"org.freedesktop.systemd1.Unit\"";
  };
}

// The ActiveState values in `unit`'s PropertiesChanged signals from index `from` on.
std::vector<std::string> ActiveStates(const BusMonitor& monitor, const std::string& unit,
                                      size_t from = 0) {
  std::vector<std::string> states;
  auto is_unit = UnitChanged(unit);
  for (size_t i = from; i < monitor.messages().size(); ++i) {
    const BusMessage& m = monitor.messages()[i];
    if (is_unit(m) && !m.ChangedString("ActiveState").empty()) {
      states.push_back(m.ChangedString("ActiveState"));
    }
  }
  return states;
}

// `states` without consecutive repeats.
std::vector<std::string> Collapsed(const std::vector<std::string>& states) {
  std::vector<std::string> result;
  for (const std::string& state : states) {
    if (result.empty() || result.back() != state) result.push_back(state);
  }
  return result;
}

std::string Join(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items) text += (text.empty() ? "" : " ") + item;
  return text;
}

// A client subscribed to systemd on the bus for as long as it lives.
class Subscriber {
 public:
  ::testing::AssertionResult Start(const std::string& address) {
    std::string error;
    if (!process_.Start({SourcePath("tests/support/systemd-subscriber"), "--address", address}, {},
                        &error, "",
                        /*with_stdin=*/true)) {
      return ::testing::AssertionFailure() << error;
    }
    std::string line;
    if (!process_.ReadLine(&line, std::chrono::seconds(20)) || line.rfind("subscribed ", 0) != 0) {
      return ::testing::AssertionFailure() << "systemd-subscriber said \"" << line << "\"";
    }
    return ::testing::AssertionSuccess();
  }
  // Unsubscribes and waits for the process to end.
  ::testing::AssertionResult Stop() {
    process_.CloseStdin();
    std::string line;
    bool said = process_.ReadLine(&line, std::chrono::seconds(20)) && line == "unsubscribed";
    process_.Stop(SIGTERM, std::chrono::seconds(10));
    if (!said) return ::testing::AssertionFailure() << "systemd-subscriber said \"" << line << "\"";
    return ::testing::AssertionSuccess();
  }

 private:
  ChildProcess process_;
};

TEST(UserSystemd, StartsAndOwnsSystemdNameOnItsOwnBus) {
  UserSystemd systemd;
  ASSERT_TRUE(systemd.Start());
  CommandResult owner = systemd.Busctl({"call", "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                        "org.freedesktop.DBus", "GetConnectionUnixProcessID", "s",
                                        "org.freedesktop.systemd1"});
  ASSERT_TRUE(owner.succeeded()) << owner.output;
  EXPECT_EQ(owner.output, "u " + std::to_string(systemd.pid()) + "\n");
  // The manager runs in the cgroup named for this instance, not in ours.
  std::string cgroups = ReadFile("/proc/" + std::to_string(systemd.pid()) + "/cgroup");
  EXPECT_NE(cgroups.find("/" + systemd.cgroup_name() + "/init.scope"), std::string::npos)
      << cgroups;
}

TEST(UserSystemd, StartedServiceBecomesActiveAndStoppedServiceInactive) {
  UserSystemd systemd;
  ASSERT_TRUE(systemd.WriteUnit("hello.service", kSleepService));
  ASSERT_TRUE(systemd.Start());
  EXPECT_EQ(systemd.ActiveState("hello.service"), "inactive");
  CommandResult started = systemd.Systemctl({"start", "hello.service"});
  ASSERT_TRUE(started.succeeded()) << started.output;
  EXPECT_EQ(systemd.ActiveState("hello.service"), "active");
  EXPECT_EQ(systemd.UnitProperty("hello.service", "SubState"), "running");
  CommandResult stopped = systemd.Systemctl({"stop", "hello.service"});
  ASSERT_TRUE(stopped.succeeded()) << stopped.output;
  EXPECT_EQ(systemd.ActiveState("hello.service"), "inactive");
  EXPECT_EQ(systemd.UnitProperty("hello.service", "SubState"), "dead");
}

// systemd sends unit signals on a bus only while a client there has called Subscribe() and kept
// its connection (bus_foreach_bus in src/core/dbus.c). systemctl subscribes over the manager's
// private socket, which does not count for the bus. So: nothing without a subscriber, signals
// with one, nothing again once it has unsubscribed.
TEST(UserSystemd, EmitsUnitSignalsOnTheBusOnlyWhileAClientIsSubscribed) {
  UserSystemd systemd;
  ASSERT_TRUE(systemd.WriteUnit("watched.service", kSleepService));
  ASSERT_TRUE(systemd.Start());
  BusMonitor monitor;
  ASSERT_TRUE(monitor.Start(systemd.bus_address(), {kPropertiesChangedRule}));

  ASSERT_TRUE(systemd.Systemctl({"start", "watched.service"}).succeeded());
  // The reply to this Get leaves systemd after any signal it sent for the start, and the marker
  // is emitted after the reply: whatever systemd sent is in the monitor by the Sync.
  ASSERT_TRUE(systemd.WaitForActiveState("watched.service", "active"));
  ASSERT_TRUE(monitor.Sync());
  EXPECT_EQ(ActiveStates(monitor, "watched.service"), std::vector<std::string>{}) << monitor.Dump();

  Subscriber subscriber;
  ASSERT_TRUE(subscriber.Start(systemd.bus_address()));
  size_t before_stop = monitor.messages().size();
  ASSERT_TRUE(systemd.Systemctl({"stop", "watched.service"}).succeeded());
  ASSERT_TRUE(monitor.WaitFor(
      [&](const BusMessage& m) {
        return UnitChanged("watched.service")(m) && m.ChangedString("ActiveState") == "inactive";
      },
      "with ActiveState inactive for watched.service", before_stop));
  // systemd sends the Unit's properties again whenever any of them changes (the stop job
  // being queued, then finishing), so the same ActiveState comes in a row; the daemon dedupes.
  // Collapsed, a stop goes through deactivating.
  EXPECT_EQ(Join(Collapsed(ActiveStates(monitor, "watched.service", before_stop))),
            "active deactivating inactive");

  // Whatever systemd still sends for the stop (it repeats states) goes out before its answer to
  // a Get, so after this Sync none of it can be mistaken for a signal sent later.
  ASSERT_TRUE(systemd.WaitForActiveState("watched.service", "inactive"));
  ASSERT_TRUE(monitor.Sync());
  ASSERT_TRUE(subscriber.Stop());
  size_t after_unsubscribe = monitor.messages().size();
  ASSERT_TRUE(systemd.Systemctl({"start", "watched.service"}).succeeded());
  ASSERT_TRUE(systemd.WaitForActiveState("watched.service", "active"));
  ASSERT_TRUE(monitor.Sync());
  EXPECT_EQ(ActiveStates(monitor, "watched.service", after_unsubscribe), std::vector<std::string>{})
      << monitor.Dump(after_unsubscribe);
}

TEST(UserSystemd, ServiceWhoseCommandFailsEndsFailed) {
  UserSystemd systemd;
  ASSERT_TRUE(
      systemd.WriteUnit("fails.service", "[Service]\nType=oneshot\nExecStart=/bin/false\n"));
  ASSERT_TRUE(systemd.Start());
  CommandResult started = systemd.Systemctl({"start", "fails.service"});
  EXPECT_FALSE(started.succeeded()) << "a oneshot whose command fails fails its start job";
  EXPECT_EQ(systemd.ActiveState("fails.service"), "failed");
  EXPECT_EQ(systemd.UnitProperty("fails.service", "SubState"), "failed");
}

TEST(UserSystemd, CrashingServiceEndsFailedWithTheSignalAsResult) {
  UserSystemd systemd;
  // Started fine, then killed by a signal: the crash a charm's service has in real life.
  ASSERT_TRUE(systemd.WriteUnit("crashes.service",
                                "[Service]\nExecStart=/bin/sh -c 'sleep 0.2; kill -KILL $$$$'\n"));
  ASSERT_TRUE(systemd.Start());
  ASSERT_TRUE(systemd.Systemctl({"start", "crashes.service"}).succeeded());
  ASSERT_TRUE(systemd.WaitForActiveState("crashes.service", "failed"));
  CommandResult result = systemd.Busctl({"get-property", "org.freedesktop.systemd1",
                                         UserSystemd::UnitObjectPath("crashes.service"),
                                         "org.freedesktop.systemd1.Service", "Result"});
  EXPECT_EQ(result.output, "s \"signal\"\n");
}

// The sequence a Restart=always crash shows on the bus is what the daemon's tracker must turn
// into one "stopped" and one "started".
TEST(UserSystemd, RestartAlwaysBringsAKilledServiceBackThroughNonActiveStates) {
  UserSystemd systemd;
  ASSERT_TRUE(systemd.WriteUnit("restarts.service",
                                "[Service]\nExecStart=/bin/sleep infinity\nRestart=always\n"
                                "RestartSec=100ms\n"));
  ASSERT_TRUE(systemd.Start());
  BusMonitor monitor;
  ASSERT_TRUE(monitor.Start(systemd.bus_address(), {kPropertiesChangedRule}));
  Subscriber subscriber;
  ASSERT_TRUE(subscriber.Start(systemd.bus_address()));
  ASSERT_TRUE(systemd.Systemctl({"start", "restarts.service"}).succeeded());
  std::string first_pid = systemd.Systemctl({"show", "-P", "MainPID", "restarts.service"}).output;
  ASSERT_NE(first_pid, "0\n");
  // A Get over the bus first: the start's signals leave systemd before its reply.
  ASSERT_TRUE(systemd.WaitForActiveState("restarts.service", "active"));
  ASSERT_TRUE(monitor.Sync());
  size_t before_kill = monitor.messages().size();

  ASSERT_TRUE(systemd.Systemctl({"kill", "--signal=KILL", "restarts.service"}).succeeded());
  // Back to active after having left it.
  ASSERT_TRUE(monitor.WaitFor(
      [&](const BusMessage& m) {
        return UnitChanged("restarts.service")(m) && m.ChangedString("ActiveState") == "active";
      },
      "with ActiveState active again for restarts.service", before_kill));
  std::vector<std::string> states = ActiveStates(monitor, "restarts.service", before_kill);
  ASSERT_GE(states.size(), 2u) << Join(states);
  EXPECT_NE(states.front(), "active") << Join(states);
  EXPECT_EQ(states.back(), "active") << Join(states);
  std::string second_pid = systemd.Systemctl({"show", "-P", "MainPID", "restarts.service"}).output;
  EXPECT_NE(second_pid, first_pid);
  EXPECT_EQ(systemd.UnitProperty("restarts.service", "SubState"), "running");
  RecordProperty("restart_states", Join(states));
  std::printf("restart states: %s\n", Join(states).c_str());
  ASSERT_TRUE(subscriber.Stop());
}

// Object paths for names that need escaping: our UnitObjectPath must agree with systemd's own
// GetUnit, and the unit must be reachable there.
TEST(UserSystemd, TemplateAndEscapedNamesLiveAtTheEscapedObjectPath) {
  UserSystemd systemd;
  ASSERT_TRUE(systemd.WriteUnit("foo@.service", "[Service]\nExecStart=/bin/sleep infinity\n"));
  ASSERT_TRUE(systemd.WriteUnit("a-b_c.service", kSleepService));
  ASSERT_TRUE(systemd.WriteUnit("0lead.service", kSleepService));
  ASSERT_TRUE(systemd.Start());
  EXPECT_EQ(UserSystemd::UnitObjectPath("foo@bar.service"),
            "/org/freedesktop/systemd1/unit/foo_40bar_2eservice");
  EXPECT_EQ(UserSystemd::UnitObjectPath("a-b_c.service"),
            "/org/freedesktop/systemd1/unit/a_2db_5fc_2eservice");
  EXPECT_EQ(UserSystemd::UnitObjectPath("0lead.service"),
            "/org/freedesktop/systemd1/unit/_30lead_2eservice");
  for (const char* unit : {"foo@bar.service", "a-b_c.service", "0lead.service"}) {
    SCOPED_TRACE(unit);
    CommandResult started = systemd.Systemctl({"start", unit});
    ASSERT_TRUE(started.succeeded()) << started.output;
    CommandResult path =
        systemd.Busctl({"call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                        "org.freedesktop.systemd1.Manager", "GetUnit", "s", unit});
    EXPECT_EQ(path.output, "o \"" + UserSystemd::UnitObjectPath(unit) + "\"\n");
    EXPECT_EQ(systemd.ActiveState(unit), "active");
    EXPECT_EQ(systemd.UnitProperty(unit, "Id"), unit);
  }
}

TEST(UserSystemd, UnitWrittenAfterStartIsFoundAfterDaemonReload) {
  UserSystemd systemd;
  ASSERT_TRUE(systemd.Start());
  // Asking for a unit that does not exist loads a stub: inactive and not-found.
  EXPECT_EQ(systemd.ActiveState("later.service"), "inactive");
  EXPECT_EQ(systemd.UnitProperty("later.service", "LoadState"), "not-found");
  EXPECT_FALSE(systemd.Systemctl({"start", "later.service"}).succeeded());

  ASSERT_TRUE(systemd.WriteUnit("later.service", kSleepService));
  ASSERT_TRUE(systemd.DaemonReload());
  EXPECT_EQ(systemd.UnitProperty("later.service", "LoadState"), "loaded");
  CommandResult started = systemd.Systemctl({"start", "later.service"});
  ASSERT_TRUE(started.succeeded()) << started.output;
  EXPECT_EQ(systemd.ActiveState("later.service"), "active");
}

// daemon-reexec keeps the PID and the units, but systemd comes back on the bus as a new
// connection: a new unique name owns org.freedesktop.systemd1. It carries its subscribers across
// (serialized as "subscribed="), so a client that stays connected keeps getting signals.
TEST(UserSystemd, DaemonReexecGivesANewUniqueNameAndKeepsSubscribers) {
  UserSystemd systemd;
  ASSERT_TRUE(systemd.WriteUnit("kept.service", kSleepService));
  ASSERT_TRUE(systemd.Start());
  ASSERT_TRUE(systemd.Systemctl({"start", "kept.service"}).succeeded());
  std::vector<std::string> get_owner = {"call",
                                        "org.freedesktop.DBus",
                                        "/org/freedesktop/DBus",
                                        "org.freedesktop.DBus",
                                        "GetNameOwner",
                                        "s",
                                        "org.freedesktop.systemd1"};
  std::string before = systemd.Busctl(get_owner).output;
  ASSERT_EQ(before.rfind("s \":", 0), 0u) << before;
  BusMonitor monitor;
  ASSERT_TRUE(monitor.Start(systemd.bus_address(), {kPropertiesChangedRule}));
  Subscriber subscriber;
  ASSERT_TRUE(subscriber.Start(systemd.bus_address()));

  CommandResult reexec = systemd.Systemctl({"daemon-reexec"});
  ASSERT_TRUE(reexec.succeeded()) << reexec.output;
  std::string after;
  for (int i = 0; i < 1500; ++i) {  // bounded: 30 s
    after = systemd.Busctl(get_owner).output;
    if (after.rfind("s \":", 0) == 0 && after != before) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(after, before);
  EXPECT_EQ(after.rfind("s \":", 0), 0u) << after;
  CommandResult pid = systemd.Busctl({"call", "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                      "org.freedesktop.DBus", "GetConnectionUnixProcessID", "s",
                                      "org.freedesktop.systemd1"});
  EXPECT_EQ(pid.output, "u " + std::to_string(systemd.pid()) + "\n");
  EXPECT_EQ(systemd.ActiveState("kept.service"), "active");

  ASSERT_TRUE(monitor.Sync());
  size_t before_stop = monitor.messages().size();
  ASSERT_TRUE(systemd.Systemctl({"stop", "kept.service"}).succeeded());
  EXPECT_TRUE(monitor.WaitFor(
      [&](const BusMessage& m) {
        return UnitChanged("kept.service")(m) && m.ChangedString("ActiveState") == "inactive";
      },
      "with ActiveState inactive for kept.service after the reexec", before_stop));
  std::string new_owner = after.substr(3, after.size() - 5);
  for (size_t i = before_stop; i < monitor.messages().size(); ++i) {
    if (UnitChanged("kept.service")(monitor.messages()[i])) {
      EXPECT_EQ(monitor.messages()[i].sender, new_owner);
    }
  }
  ASSERT_TRUE(subscriber.Stop());
}

TEST(UserSystemd, TwoManagersRunSideBySideWithoutTouchingEachOthersServices) {
  UserSystemd first;
  UserSystemd second;
  ASSERT_TRUE(first.WriteUnit("same.service", kSleepService));
  ASSERT_TRUE(second.WriteUnit("same.service", kSleepService));
  ASSERT_TRUE(first.Start());
  ASSERT_TRUE(second.Start());
  EXPECT_NE(first.cgroup_name(), second.cgroup_name());
  EXPECT_NE(first.bus_address(), second.bus_address());
  ASSERT_TRUE(first.Systemctl({"start", "same.service"}).succeeded());
  ASSERT_TRUE(second.Systemctl({"start", "same.service"}).succeeded());
  ASSERT_TRUE(first.Systemctl({"stop", "same.service"}).succeeded());
  EXPECT_EQ(first.ActiveState("same.service"), "inactive");
  EXPECT_EQ(second.ActiveState("same.service"), "active");
  first.Stop();
  EXPECT_EQ(second.ActiveState("same.service"), "active");
}

TEST(UserSystemd, StopEndsManagerAndServicesAndRemovesCgroupsAndFiles) {
  std::string runtime_dir, cgroup;
  pid_t manager = 0, service = 0;
  {
    UserSystemd systemd;
    ASSERT_TRUE(systemd.WriteUnit("hello.service", kSleepService));
    ASSERT_TRUE(systemd.Start());
    ASSERT_TRUE(systemd.Systemctl({"start", "hello.service"}).succeeded());
    service = std::stoi(systemd.Systemctl({"show", "-P", "MainPID", "hello.service"}).output);
    manager = systemd.pid();
    runtime_dir = systemd.runtime_dir();
    cgroup = systemd.cgroup_name();
    ASSERT_TRUE(PathExists("/sys/fs/cgroup/systemd/" + cgroup + "/app.slice/hello.service") ||
                PathExists("/sys/fs/cgroup/" + cgroup + "/app.slice/hello.service"));
  }
  EXPECT_TRUE(ProcessGoneOrZombie(manager));
  EXPECT_TRUE(ProcessGoneOrZombie(service));
  EXPECT_FALSE(PathExists(runtime_dir));
  for (const char* root :
       {"/sys/fs/cgroup/systemd/", "/sys/fs/cgroup/unified/", "/sys/fs/cgroup/"}) {
    EXPECT_FALSE(PathExists(root + cgroup)) << root << cgroup;
  }
}

// A manager that dies without stopping its services (SIGKILL) leaves them running in its
// cgroups; Stop must still end them and remove everything.
TEST(UserSystemd, StopAfterTheManagerWasKilledStillEndsItsServices) {
  std::string cgroup;
  pid_t service = 0;
  {
    UserSystemd systemd;
    ASSERT_TRUE(systemd.WriteUnit("orphan.service", kSleepService));
    ASSERT_TRUE(systemd.Start());
    ASSERT_TRUE(systemd.Systemctl({"start", "orphan.service"}).succeeded());
    service = std::stoi(systemd.Systemctl({"show", "-P", "MainPID", "orphan.service"}).output);
    cgroup = systemd.cgroup_name();
    ASSERT_EQ(kill(systemd.pid(), SIGKILL), 0);
    ASSERT_FALSE(ProcessGoneOrZombie(service)) << "the service outlives its killed manager";
  }
  EXPECT_TRUE(ProcessGoneOrZombie(service));
  for (const char* root :
       {"/sys/fs/cgroup/systemd/", "/sys/fs/cgroup/unified/", "/sys/fs/cgroup/"}) {
    EXPECT_FALSE(PathExists(root + cgroup)) << root << cgroup;
  }
}

// A test process killed outright leaves its managers' cgroup directories; the next Start in any
// test process removes those whose process is gone.
TEST(UserSystemd, StartRemovesCgroupsLeftByADeadTestProcess) {
  ChildProcess ended;
  std::string error;
  ASSERT_TRUE(ended.Start({"true"}, {}, &error)) << error;
  pid_t dead = ended.pid();
  ASSERT_TRUE(ended.WaitForExit(std::chrono::seconds(10)));
  std::string name = "jsn-test-" + std::to_string(dead) + "-0";
  std::vector<std::string> made;
  for (const char* root : {"/sys/fs/cgroup/systemd/", "/sys/fs/cgroup/unified/"}) {
    if (!PathExists(std::string(root) + "cgroup.procs")) continue;
    ASSERT_EQ(mkdir((root + name).c_str(), 0755), 0) << root << name;
    ASSERT_EQ(mkdir((root + name + "/init.scope").c_str(), 0755), 0);
    made.push_back(root + name);
  }
  ASSERT_FALSE(made.empty()) << "no cgroup hierarchy to test with";
  UserSystemd systemd;
  ASSERT_TRUE(systemd.Start());
  for (const std::string& path : made) EXPECT_FALSE(PathExists(path)) << path;
}

// The script's `run` is what demos use: a manager around one command, everything gone after.
TEST(UserSystemdScript, RunGivesTheCommandAManagerAndRemovesItAfterwards) {
  TempDir units;
  ASSERT_TRUE(WriteFile(units.Join("demo.service"), kSleepService));
  CommandResult run = RunCommand(
      {SourcePath("tests/support/user-systemd"), "run", "--units", units.path(), "--", "sh", "-c",
       "systemctl --user start demo.service && systemctl --user is-active demo.service && "
       "pid=$(systemctl --user show -P MainPID demo.service) && "
       "echo \"runtime $XDG_RUNTIME_DIR\" && echo \"service $pid\" && "
       "sed -n 's/^0::/cgroup /p' /proc/$pid/cgroup && exit 7"});
  EXPECT_EQ(run.exit_code(), 7) << run.output;
  std::string runtime, cgroup;
  pid_t service = 0;
  for (size_t at = 0, end; (end = run.output.find('\n', at)) != std::string::npos; at = end + 1) {
    std::string line = run.output.substr(at, end - at);
    if (line.rfind("runtime ", 0) == 0) runtime = line.substr(8);
    if (line.rfind("service ", 0) == 0) service = std::stoi(line.substr(8));
    if (line.rfind("cgroup ", 0) == 0) cgroup = line.substr(7);
  }
  EXPECT_NE(run.output.find("active\n"), std::string::npos) << run.output;
  ASSERT_FALSE(runtime.empty()) << run.output;
  ASSERT_GT(service, 0) << run.output;
  // The service ran in the manager's own tree: /<name>/app.slice/demo.service.
  ASSERT_NE(cgroup.find("/app.slice/demo.service"), std::string::npos) << cgroup;
  std::string top = cgroup.substr(0, cgroup.find('/', 1));
  EXPECT_FALSE(PathExists(runtime));
  EXPECT_TRUE(ProcessGoneOrZombie(service));
  EXPECT_FALSE(PathExists("/sys/fs/cgroup/unified" + top)) << top;
  EXPECT_FALSE(PathExists("/sys/fs/cgroup/systemd" + top)) << top;
}

TEST(UserSystemdScript, HelpSaysHowToRunStartAndClean) {
  CommandResult help = RunCommand({SourcePath("tests/support/user-systemd"), "--help"});
  EXPECT_TRUE(help.succeeded());
  EXPECT_NE(help.output.find("usage: tests/support/user-systemd run"), std::string::npos);
  TempDir dirs;
  CommandResult bad =
      RunCommand({SourcePath("tests/support/user-systemd"), "start", "--runtime-dir",
                  dirs.Join("runtime"), "--config-home", dirs.Join("config"), "--cgroup", "../x"});
  EXPECT_EQ(bad.exit_code(), 2) << bad.output;
  EXPECT_NE(bad.output.find("found '../x'"), std::string::npos) << bad.output;
  EXPECT_FALSE(PathExists(dirs.Join("runtime"))) << "nothing is made before the checks pass";
}

TEST(UserSystemd, UnitObjectPathEscapesLikeSystemdBusLabels) {
  EXPECT_EQ(UserSystemd::UnitObjectPath(""), "/org/freedesktop/systemd1/unit/_");
  EXPECT_EQ(UserSystemd::UnitObjectPath("snap.slurm.slurmd.service"),
            "/org/freedesktop/systemd1/unit/snap_2eslurm_2eslurmd_2eservice");
  EXPECT_EQ(UserSystemd::UnitObjectPath("x\xc3\xa9"), "/org/freedesktop/systemd1/unit/x_c3_a9");
  EXPECT_EQ(UserSystemd::UnitObjectPath("Ab9"), "/org/freedesktop/systemd1/unit/Ab9");
}

}  // namespace
}  // namespace jsn::testing
