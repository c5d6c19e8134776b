// The daemon against a real systemd (a user manager started by the UserSystemd fixture, which
// emits real PropertiesChanged signals) with a fake juju-exec that records every call.
//
// How these tests know that nothing more will come: the daemon runs hooks of one unit one at a
// time and in order, and on SIGTERM it starts nothing new but lets running hooks end before it
// exits. So a test waits for the hooks it expects to have ended, stops the daemon, and then
// compares the complete list of calls: an extra or a missing hook shows as a difference.
#include <gtest/gtest.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "support/bus_monitor.h"
#include "support/daemon_under_test.h"
#include "support/fake_juju_exec.h"
#include "support/user_systemd.h"

namespace jsn::testing {
namespace {

using Hooks = std::vector<std::string>;

constexpr const char* kSleeper = "[Service]\nExecStart=/bin/sleep infinity\n";

class DaemonWithSystemd : public ::testing::Test {
 protected:
  // Starts the manager with `units` written, then the daemon watching `names`.
  void StartAll(const std::vector<std::pair<std::string, std::string>>& units,
                const std::vector<std::string>& names) {
    for (const auto& [name, text] : units) ASSERT_TRUE(systemd_.WriteUnit(name, text));
    ASSERT_TRUE(systemd_.Start());
    StartDaemon(names);
  }
  void StartDaemon(const std::vector<std::string>& names) {
    ASSERT_TRUE(daemon_.Start(systemd_.bus_address(), juju_.path(), names));
  }
  void Systemctl(const std::vector<std::string>& args) {
    CommandResult result = systemd_.Systemctl(args);
    ASSERT_TRUE(result.succeeded())
        << "systemctl --user " << args[0] << ": " << result.Describe() << "\n"
        << result.output;
  }
  // Stops the daemon (after its running hooks end) and returns every hook it ran.
  Hooks StopAndListHooks() {
    EXPECT_EQ(daemon_.Stop(), 0) << daemon_.Log();
    return HookList(juju_);
  }

  UserSystemd systemd_;
  FakeJujuExec juju_;
  DaemonUnderTest daemon_;
};

TEST_F(DaemonWithSystemd, StartThenStopRunsStartedThenStopped) {
  StartAll({{"hello.service", kSleeper}}, {"hello"});
  Systemctl({"start", "hello.service"});
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();
  Systemctl({"stop", "hello.service"});
  ASSERT_TRUE(juju_.WaitForEnded(2)) << daemon_.Log();
  EXPECT_EQ(StopAndListHooks(),
            (Hooks{"app/0 hooks/service-hello-started", "app/0 hooks/service-hello-stopped"}))
      << daemon_.Log();
  std::vector<JujuExecCall> calls = juju_.Calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].argv[0], juju_.path());  // run directly, no shell in between
  EXPECT_EQ(calls[0].cwd, "/");
  EXPECT_LE(calls[0].end_ns, calls[1].start_ns);  // one at a time
  EXPECT_TRUE(
      daemon_.WaitForLine("hello.service: active -> hooks/service-hello-started: exit 0 after"));
  EXPECT_TRUE(
      daemon_.WaitForLine("hello.service: inactive -> hooks/service-hello-stopped: exit 0 after"));
}

TEST_F(DaemonWithSystemd, InitialStateIsRecordedWithoutAHook) {
  ASSERT_TRUE(systemd_.WriteUnit("up.service", kSleeper));
  ASSERT_TRUE(systemd_.Start());
  Systemctl({"start", "up.service"});
  StartDaemon({"up=up"});
  EXPECT_TRUE(daemon_.WaitForLine("up.service: initially active"));
  Systemctl({"stop", "up.service"});
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();
  EXPECT_EQ(StopAndListHooks(), (Hooks{"app/0 hooks/service-up-stopped"})) << daemon_.Log();
}

TEST_F(DaemonWithSystemd, AFailingServiceRunsStopped) {
  StartAll({{"fails.service", "[Service]\nExecStart=/bin/sh -c 'sleep 0.5; exit 3'\n"}}, {"fails"});
  Systemctl({"start", "fails.service"});
  ASSERT_TRUE(systemd_.WaitForActiveState("fails.service", "failed"));
  ASSERT_TRUE(juju_.WaitForEnded(2)) << daemon_.Log();
  EXPECT_EQ(StopAndListHooks(),
            (Hooks{"app/0 hooks/service-fails-started", "app/0 hooks/service-fails-stopped"}))
      << daemon_.Log();
  EXPECT_TRUE(daemon_.WaitForLine("fails.service: failed -> hooks/service-fails-stopped"));
}

TEST_F(DaemonWithSystemd, ACrashRestartedByRestartAlwaysRunsOneStoppedAndOneStarted) {
  ASSERT_TRUE(systemd_.WriteUnit("crashy.service",
                                 "[Service]\nExecStart=/bin/sleep infinity\nRestart=always\n"
                                 "RestartSec=200ms\n"));
  ASSERT_TRUE(systemd_.Start());
  Systemctl({"start", "crashy.service"});
  StartDaemon({"crashy"});
  EXPECT_TRUE(daemon_.WaitForLine("crashy.service: initially active"));
  Systemctl({"kill", "--signal=SIGKILL", "crashy.service"});
  // Back up, restarted by systemd (its main PID changed), and both hooks delivered.
  ASSERT_TRUE(juju_.WaitForEnded(2)) << daemon_.Log();
  ASSERT_TRUE(systemd_.WaitForActiveState("crashy.service", "active"));
  EXPECT_EQ(StopAndListHooks(),
            (Hooks{"app/0 hooks/service-crashy-stopped", "app/0 hooks/service-crashy-started"}))
      << daemon_.Log();
}

TEST_F(DaemonWithSystemd, NamesThatNeedEscapingAreWatched) {
  StartAll({{"foo@.service", kSleeper}, {"a-b_c.service", kSleeper}, {"0lead.service", kSleeper}},
           {"foo@bar=foobar", "a-b_c", "0lead.service=zero"});
  for (const char* unit : {"foo@bar.service", "a-b_c.service", "0lead.service"}) {
    Systemctl({"start", unit});
  }
  ASSERT_TRUE(juju_.WaitForEnded(3)) << daemon_.Log();
  for (const char* unit : {"foo@bar.service", "a-b_c.service", "0lead.service"}) {
    Systemctl({"stop", unit});
  }
  ASSERT_TRUE(juju_.WaitForEnded(6)) << daemon_.Log();
  Hooks hooks = StopAndListHooks();
  // Units are independent, so only each unit's own order is fixed.
  auto order_of = [&](const std::string& alias) {
    Hooks own;
    for (const std::string& hook : hooks) {
      if (hook.find("service-" + alias + "-") != std::string::npos) own.push_back(hook);
    }
    return own;
  };
  EXPECT_EQ(hooks.size(), 6u) << daemon_.Log();
  for (const char* alias : {"foobar", "a-b_c", "zero"}) {
    EXPECT_EQ(order_of(alias), (Hooks{std::string("app/0 hooks/service-") + alias + "-started",
                                      std::string("app/0 hooks/service-") + alias + "-stopped"}))
        << daemon_.Log();
  }
}

TEST_F(DaemonWithSystemd, AUnitCreatedLaterIsWatched) {
  ASSERT_TRUE(systemd_.Start());
  StartDaemon({"later"});
  ASSERT_TRUE(systemd_.WriteUnit("later.service", kSleeper));
  ASSERT_TRUE(systemd_.DaemonReload());
  Systemctl({"start", "later.service"});
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();
  Systemctl({"stop", "later.service"});
  ASSERT_TRUE(juju_.WaitForEnded(2)) << daemon_.Log();
  EXPECT_EQ(StopAndListHooks(),
            (Hooks{"app/0 hooks/service-later-started", "app/0 hooks/service-later-stopped"}))
      << daemon_.Log();
}

// --- Names as systemd knows them: systemd signals only on the path of a unit's Id, so an alias
// is resolved to its unit and watched there; its hooks keep the charm's alias.

// A link NAME -> TARGET in the manager's unit directory (a symlinked unit file).
::testing::AssertionResult LinkUnit(const UserSystemd& systemd, const std::string& name,
                                    const std::string& target) {
  std::string path = systemd.unit_dir() + "/" + name;
  if (symlink(target.c_str(), path.c_str()) != 0) {
    return ::testing::AssertionFailure() << "cannot link " << path;
  }
  return ::testing::AssertionSuccess();
}

TEST_F(DaemonWithSystemd, ASymlinkedUnitFileIsWatchedOnItsTarget) {
  ASSERT_TRUE(systemd_.WriteUnit("app.service", kSleeper));
  ASSERT_TRUE(LinkUnit(systemd_, "nick.service", "app.service"));
  ASSERT_TRUE(systemd_.Start());
  StartDaemon({"nick"});
  EXPECT_EQ(daemon_.CountLines("nick.service is app.service"), 1u) << daemon_.Log();
  Systemctl({"start", "app.service"});
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();
  Systemctl({"stop", "nick.service"});
  ASSERT_TRUE(juju_.WaitForEnded(2)) << daemon_.Log();
  EXPECT_EQ(StopAndListHooks(),
            (Hooks{"app/0 hooks/service-nick-started", "app/0 hooks/service-nick-stopped"}))
      << daemon_.Log();
  EXPECT_EQ(daemon_.CountLines("nick.service is app.service"), 1u) << daemon_.Log();
}

TEST_F(DaemonWithSystemd, AnInstallAliasEnabledBeforeTheStartIsWatched) {
  ASSERT_TRUE(
      systemd_.WriteUnit("app.service", std::string(kSleeper) + "[Install]\nAlias=nick.service\n"));
  ASSERT_TRUE(systemd_.Start());
  Systemctl({"enable", "app.service"});  // the link, made client-side here (see below)
  StartDaemon({"nick=nick"});
  ASSERT_TRUE(daemon_.WaitForLine("nick.service is app.service"));
  Systemctl({"start", "app.service"});
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();
  EXPECT_EQ(StopAndListHooks(), (Hooks{"app/0 hooks/service-nick-started"})) << daemon_.Log();
}

TEST_F(DaemonWithSystemd, AnAliasMadeAfterTheStartIsFollowedOnceSystemdReloads) {
  ASSERT_TRUE(
      systemd_.WriteUnit("app.service", std::string(kSleeper) + "[Install]\nAlias=nick.service\n"));
  ASSERT_TRUE(systemd_.Start());
  Systemctl({"start", "app.service"});
  StartDaemon({"nick"});
  ASSERT_TRUE(daemon_.WaitForLine("nick.service: initially inactive"));  // no such unit yet
  // `enable` makes the Alias= link; the reload makes the running app what nick is now. (On a
  // booted machine enable reloads by itself; here PID 1 is not systemd, so systemctl links
  // client-side and leaves the reload to us.)
  Systemctl({"enable", "app.service"});
  ASSERT_TRUE(systemd_.DaemonReload());
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();
  ASSERT_TRUE(daemon_.WaitForLine("nick.service is app.service"));
  // A link by hand, seen at the next daemon-reload: another name for the same unit.
  ASSERT_TRUE(LinkUnit(systemd_, "other.service", "app.service"));
  ASSERT_TRUE(systemd_.DaemonReload());
  Systemctl({"stop", "app.service"});
  ASSERT_TRUE(juju_.WaitForEnded(2)) << daemon_.Log();
  EXPECT_EQ(StopAndListHooks(),
            (Hooks{"app/0 hooks/service-nick-started", "app/0 hooks/service-nick-stopped"}))
      << daemon_.Log();
}

TEST_F(DaemonWithSystemd, AnAliasRemovedIsTheNameItselfAgain) {
  ASSERT_TRUE(systemd_.WriteUnit("app.service", kSleeper));
  ASSERT_TRUE(systemd_.WriteUnit("barrier.service", kSleeper));
  ASSERT_TRUE(LinkUnit(systemd_, "nick.service", "app.service"));
  ASSERT_TRUE(systemd_.Start());
  StartDaemon({"nick", "barrier"});
  Systemctl({"start", "app.service"});
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();
  ASSERT_EQ(unlink((systemd_.unit_dir() + "/nick.service").c_str()), 0);
  ASSERT_TRUE(systemd_.DaemonReload());
  // nick.service is a unit of its own now, and not running: stopped.
  ASSERT_TRUE(juju_.WaitForEnded(2)) << daemon_.Log();
  EXPECT_TRUE(daemon_.WaitForLine("nick.service is nick.service"));
  // app's transitions are no longer nick's. The barrier's hook starts after the daemon has
  // read app's signals, which came first; so any hook they caused has begun before it ends.
  Systemctl({"stop", "app.service"});
  Systemctl({"start", "app.service"});
  Systemctl({"start", "barrier.service"});
  ASSERT_TRUE(juju_.WaitForEnded(3)) << daemon_.Log();
  EXPECT_EQ(StopAndListHooks(),
            (Hooks{"app/0 hooks/service-nick-started", "app/0 hooks/service-nick-stopped",
                   "app/0 hooks/service-barrier-started"}))
      << daemon_.Log();
}

TEST_F(DaemonWithSystemd, TwoWatchedNamesOfOneSnapStyleUnitEachGetTheirHooks) {
  ASSERT_TRUE(systemd_.WriteUnit("snap.slurm.slurmd.service", kSleeper));
  ASSERT_TRUE(LinkUnit(systemd_, "slurmd.service", "snap.slurm.slurmd.service"));
  ASSERT_TRUE(systemd_.Start());
  StartDaemon({"snap.slurm.slurmd=snapd", "slurmd"});
  EXPECT_EQ(daemon_.CountLines("slurmd.service is snap.slurm.slurmd.service"), 1u) << daemon_.Log();
  Systemctl({"start", "slurmd.service"});
  ASSERT_TRUE(juju_.WaitForEnded(2)) << daemon_.Log();
  Systemctl({"stop", "snap.slurm.slurmd.service"});
  ASSERT_TRUE(juju_.WaitForEnded(4)) << daemon_.Log();
  Hooks hooks = StopAndListHooks();
  std::sort(hooks.begin(), hooks.end());  // the two names are independent
  EXPECT_EQ(hooks,
            (Hooks{"app/0 hooks/service-slurmd-started", "app/0 hooks/service-slurmd-stopped",
                   "app/0 hooks/service-snapd-started", "app/0 hooks/service-snapd-stopped"}))
      << daemon_.Log();
}

// One connection emits, in order, a broadcast PropertiesChanged and one addressed to the daemon's
// unique name (the bus delivers a signal with a destination whatever the match rules say),
// both claiming the unit is active, then makes a round trip so the bus has routed both.
constexpr const char* kSpoofScript = R"(
import sys, dbus, dbus.lowlevel
address, path, target = sys.argv[1:4]
bus = dbus.bus.BusConnection(address)
for destination in (None, target):
    message = dbus.lowlevel.SignalMessage(path, 'org.freedesktop.DBus.Properties', 'PropertiesChanged')
    if destination:
        message.set_destination(destination)
    message.append('org.freedesktop.systemd1.Unit',
                   dbus.Dictionary({'ActiveState': dbus.String('active', variant_level=1)}, signature='sv'),
                   dbus.Array([], signature='s'))
    bus.send_message(message)
bus.call_blocking('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'GetId', '', ())
print('spoofed as', bus.get_unique_name())
)";

TEST_F(DaemonWithSystemd, ASpoofedPropertiesChangedRunsNoHook) {
  StartAll({{"hello.service", kSleeper}}, {"hello"});
  std::string daemon_name = daemon_.UniqueName();
  ASSERT_FALSE(daemon_name.empty()) << daemon_.Log();
  CommandResult spoof = RunCommand({"/usr/bin/python3", "-c", kSpoofScript, systemd_.bus_address(),
                                    UserSystemd::UnitObjectPath("hello.service"), daemon_name});
  ASSERT_TRUE(spoof.succeeded()) << spoof.Describe() << "\n" << spoof.output;
  // The directed one reached the daemon and was refused: its sender is not systemd's owner.
  ASSERT_TRUE(daemon_.WaitForLine("ignoring PropertiesChanged for hello.service from :"));
  // The broadcast one never reached it (our match names systemd as the sender): had it come
  // first, it would have been refused, and logged, first.
  EXPECT_EQ(daemon_.CountLines("ignoring PropertiesChanged"), 1u) << daemon_.Log();
  // The real start afterwards is what runs started, and a stop follows it.
  timespec before{};
  clock_gettime(CLOCK_MONOTONIC, &before);
  int64_t before_ns = int64_t{before.tv_sec} * 1000000000 + before.tv_nsec;
  Systemctl({"start", "hello.service"});
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();
  Systemctl({"stop", "hello.service"});
  ASSERT_TRUE(juju_.WaitForEnded(2)) << daemon_.Log();
  EXPECT_EQ(StopAndListHooks(),
            (Hooks{"app/0 hooks/service-hello-started", "app/0 hooks/service-hello-stopped"}))
      << daemon_.Log();
  EXPECT_GT(juju_.Calls()[0].start_ns, before_ns);
}

TEST_F(DaemonWithSystemd, SubscribesItselfSoTransitionsArriveWithNoOtherSubscriber) {
  ASSERT_TRUE(systemd_.WriteUnit("hello.service", kSleeper));
  ASSERT_TRUE(systemd_.Start());
  BusMonitor monitor;
  ASSERT_TRUE(monitor.Start(systemd_.bus_address()));
  StartDaemon({"hello"});
  // Our Subscribe went to systemd and was answered with success, not AlreadySubscribed: no
  // other client was subscribed. --no-block keeps systemctl from subscribing to wait for jobs.
  size_t subscribe = 0;
  ASSERT_TRUE(monitor.WaitFor(
      [](const BusMessage& m) { return m.type == "method call" && m.member == "Subscribe"; },
      "the daemon's Subscribe call", 0, &subscribe));
  std::string daemon_name = monitor.messages()[subscribe].sender;
  ASSERT_TRUE(monitor.WaitFor(
      [&](const BusMessage& m) {
        return m.type == "method return" && m.destination == daemon_name;
      },
      "a successful reply to the daemon", subscribe));
  for (const BusMessage& m : monitor.messages()) {
    EXPECT_FALSE(m.type == "error" && m.destination == daemon_name) << m.Text();
  }
  Systemctl({"--no-block", "start", "hello.service"});
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();
  EXPECT_EQ(StopAndListHooks(), (Hooks{"app/0 hooks/service-hello-started"})) << daemon_.Log();
  for (const BusMessage& m : monitor.messages()) {
    if (m.member == "Subscribe") {
      EXPECT_EQ(m.sender, daemon_name) << "another subscriber: " << m.Text();
    }
  }
}

TEST_F(DaemonWithSystemd, SigtermExitsZero) {
  StartAll({{"hello.service", kSleeper}}, {"hello"});
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.Log();
  EXPECT_TRUE(daemon_.WaitForLine("received SIGTERM"));
}

}  // namespace
}  // namespace jsn::testing
