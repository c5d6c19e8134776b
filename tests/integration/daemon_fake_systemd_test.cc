// The daemon against the fake systemd (tests/support/fake_systemd.py, an independent dbus-python
// implementation) on a private dbus-daemon, for what real systemd will not do on demand:
// ActiveState only in the invalidated list, exact ordering and coalescing behind a slow hook,
// transitions faster than hooks, an owner change, and a reply forged by another connection.
//
// As in the real-systemd tests, the daemon is stopped (it lets running hooks end first) before
// the complete list of hooks is compared. A slow hook is held on a gate the test opens, so
// nothing here depends on timing.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/daemon_under_test.h"
#include "support/fake_juju_exec.h"
#include "support/fake_systemd.h"
#include "support/private_bus.h"

namespace jsn::testing {
namespace {

using Hooks = std::vector<std::string>;

class DaemonWithFakeSystemd : public ::testing::Test {
 protected:
  void StartAll(const std::vector<std::string>& units, const std::vector<std::string>& names) {
    ASSERT_TRUE(bus_.Start());
    ASSERT_TRUE(systemd_.Start(bus_.address(), units));
    ASSERT_TRUE(daemon_.Start(bus_.address(), juju_.path(), names));
  }
  Hooks StopAndListHooks() {
    EXPECT_EQ(daemon_.Stop(), 0) << daemon_.Log();
    return HookList(juju_);
  }

  PrivateBus bus_;
  FakeSystemd systemd_;
  FakeJujuExec juju_;
  DaemonUnderTest daemon_;
};

TEST_F(DaemonWithFakeSystemd, ActiveStateOnlyInvalidatedIsFetchedWithGet) {
  StartAll({"foo.service=inactive"}, {"foo"});
  int gets_at_start = systemd_.Gets("foo.service");
  // Its Id, then what comes with its state (GetAll of the Service interface, Get of
  // StateChangeTimestamp), then its ActiveState.
  EXPECT_EQ(gets_at_start, 4);
  bool emitted = false;
  ASSERT_TRUE(systemd_.Invalidate("foo.service", "active", "", &emitted));
  ASSERT_TRUE(emitted);  // the daemon subscribed
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();
  ASSERT_TRUE(systemd_.Invalidate("foo.service", "failed"));
  ASSERT_TRUE(juju_.WaitForEnded(2)) << daemon_.Log();
  EXPECT_EQ(StopAndListHooks(),
            (Hooks{"app/0 hooks/service-foo-started", "app/0 hooks/service-foo-stopped"}))
      << daemon_.Log();
  EXPECT_EQ(systemd_.Gets("foo.service"), gets_at_start + 2 * 3);
}

TEST_F(DaemonWithFakeSystemd, WhileAHookRunsLaterStatesCoalesceToTheNetState) {
  ASSERT_TRUE(juju_.SetRules("service-foo-stopped wait=" + juju_.GatePath("stopped") + "\n"));
  StartAll({"foo.service=active"}, {"foo"});
  ASSERT_TRUE(systemd_.SetState("foo.service", "inactive"));
  ASSERT_TRUE(juju_.WaitForBegun(1)) << daemon_.Log();  // stopped runs, held on its gate
  ASSERT_TRUE(systemd_.Sequence("foo.service", {"activating", "active", "deactivating", "inactive",
                                                "active", "failed", "activating", "active"}));
  // The daemon has seen the whole sequence (the last "active" is the third) before the gate opens.
  ASSERT_TRUE(daemon_.WaitForLines("foo.service: active (", 3));
  ASSERT_TRUE(juju_.OpenGate("stopped"));
  ASSERT_TRUE(juju_.WaitForEnded(2)) << daemon_.Log();
  EXPECT_EQ(StopAndListHooks(),
            (Hooks{"app/0 hooks/service-foo-stopped", "app/0 hooks/service-foo-started"}))
      << daemon_.Log();
  std::vector<JujuExecCall> calls = juju_.Calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_LE(calls[0].end_ns, calls[1].start_ns);  // in order, one at a time
}

TEST_F(DaemonWithFakeSystemd, AFlapThatEndsWhereTheRunningHookLeftItSendsNothingMore) {
  ASSERT_TRUE(juju_.SetRules("service-foo-stopped wait=" + juju_.GatePath("stopped") + "\n"));
  StartAll({"foo.service=active"}, {"foo"});
  ASSERT_TRUE(systemd_.SetState("foo.service", "inactive"));
  ASSERT_TRUE(juju_.WaitForBegun(1)) << daemon_.Log();
  ASSERT_TRUE(systemd_.Sequence("foo.service", {"active", "failed"}));
  ASSERT_TRUE(daemon_.WaitForLine("foo.service: failed ("));
  ASSERT_TRUE(juju_.OpenGate("stopped"));
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();
  // A later, different transition is the barrier: it is delivered right after the stopped.
  ASSERT_TRUE(systemd_.SetState("foo.service", "active"));
  ASSERT_TRUE(juju_.WaitForEnded(2)) << daemon_.Log();
  EXPECT_EQ(StopAndListHooks(),
            (Hooks{"app/0 hooks/service-foo-stopped", "app/0 hooks/service-foo-started"}))
      << daemon_.Log();
}

TEST_F(DaemonWithFakeSystemd, ManyTransitionsBehindASlowHookGiveOneHookForTheNetChange) {
  ASSERT_TRUE(juju_.SetRules("service-foo-started wait=" + juju_.GatePath("foo") + "\n"));
  StartAll({"foo.service=inactive", "bar.service=inactive"}, {"foo", "bar"});
  ASSERT_TRUE(systemd_.SetState("foo.service", "active"));
  ASSERT_TRUE(juju_.WaitForBegun(1)) << daemon_.Log();  // foo's started, held on its gate
  std::vector<std::string> flaps;
  for (int i = 0; i < 10; ++i) {
    for (const char* state : {"deactivating", "inactive", "activating", "active"})
      flaps.push_back(state);
  }
  flaps.push_back("deactivating");
  flaps.push_back("failed");
  ASSERT_TRUE(systemd_.Sequence("foo.service", flaps));
  // The daemon does not hold another unit's hook back behind foo's; Juju does (one hook of the
  // Juju unit at a time, under the machine lock).
  ASSERT_TRUE(systemd_.SetState("bar.service", "active"));
  ASSERT_TRUE(juju_.WaitForBegun(2)) << daemon_.Log();
  ASSERT_TRUE(daemon_.WaitForLine("foo.service: failed ("));
  ASSERT_TRUE(juju_.OpenGate("foo"));
  ASSERT_TRUE(juju_.WaitForEnded(3)) << daemon_.Log();
  Hooks hooks = StopAndListHooks();
  EXPECT_EQ(hooks, (Hooks{"app/0 hooks/service-foo-started", "app/0 hooks/service-bar-started",
                          "app/0 hooks/service-foo-stopped"}))
      << daemon_.Log();
  std::vector<JujuExecCall> calls = juju_.Calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_LE(calls[0].end_ns, calls[2].start_ns) << "foo's hooks overlap";
  EXPECT_LT(calls[1].start_ns, calls[0].end_ns) << "the daemon held bar's back";
  EXPECT_GE(calls[1].run_start_ns, calls[0].run_end_ns) << "Juju ran bar's alongside foo's";
}

// What juju-exec gets from a daemon with more environment entries than it passes on, PATH last,
// and the variables systemd sets for the daemon's own process: PATH first, then the others in
// order up to 256 entries, none of systemd's for the daemon; JOURNAL_STREAM kept.
TEST_F(DaemonWithFakeSystemd, AHookGetsPathFirstAndNoneOfTheDaemonsOwnSystemdVariables) {
  std::vector<std::string> environment = {"INVOCATION_ID=0123456789abcdef0123456789abcdef",
                                          "SYSTEMD_EXEC_PID=1",
                                          "MEMORY_PRESSURE_WATCH=/sys/fs/cgroup/x/memory.pressure",
                                          "MEMORY_PRESSURE_WRITE=c29tZQ==",
                                          "JOURNAL_STREAM=8:1",
                                          "LISTEN_FDS=1",
                                          "STATE_DIRECTORY=/var/lib/juju-systemd-notices"};
  for (int i = 0; i < 300; ++i) environment.push_back("FILL" + std::to_string(i) + "=x");
  environment.push_back("PATH=/usr/bin:/bin");
  daemon_.WithEnvironment(environment);
  StartAll({"foo.service=inactive"}, {"foo"});
  ASSERT_TRUE(systemd_.SetState("foo.service", "active"));
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();
  std::vector<JujuExecCall> calls = juju_.Calls();
  ASSERT_EQ(calls.size(), 1u);
  std::vector<std::string> expected = {"PATH=/usr/bin:/bin", "JOURNAL_STREAM=8:1"};
  for (int i = 0; expected.size() < 256; ++i) expected.push_back("FILL" + std::to_string(i) + "=x");
  EXPECT_EQ(calls[0].environment, expected);
}

TEST_F(DaemonWithFakeSystemd, ANewOwnerIsTrustedAndSubscribedTo) {
  StartAll({"foo.service=inactive"}, {"foo"});
  EXPECT_EQ(systemd_.SubscribeCalls(), 1);
  std::string old_owner = systemd_.owner();
  ASSERT_TRUE(systemd_.ReplaceOwner());
  ASSERT_NE(systemd_.owner(), old_owner);
  ASSERT_TRUE(daemon_.WaitForLine("systemd is now " + systemd_.owner()));
  // The new owner drops subscriptions: a signal now comes only because the daemon subscribed again.
  // Bounded by time, not by a count of pings: under qemu on a loaded machine (daemon-ARCH) the
  // daemon's Subscribe can take longer than many round trips to the fake systemd.
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
       systemd_.Subscribers() < 1 && std::chrono::steady_clock::now() < deadline;) {
    ASSERT_TRUE(systemd_.Command("ping"));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(systemd_.Subscribers(), 1);
  bool emitted = false;
  ASSERT_TRUE(systemd_.SetState("foo.service", "active", "", &emitted));
  EXPECT_TRUE(emitted);
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();
  EXPECT_EQ(StopAndListHooks(), (Hooks{"app/0 hooks/service-foo-started"})) << daemon_.Log();
}

// systemd re-executes while the daemon's Get is out: the old owner leaves without answering
// (the bus answers NoReply), after the bus has announced the new one. The Get is asked again of
// the new owner, so the change it was for is delivered; nothing signals it again.
TEST_F(DaemonWithFakeSystemd, AGetTheOldOwnerLeftUnansweredIsAskedOfTheNewOne) {
  StartAll({"foo.service=inactive"}, {"foo"});
  ASSERT_TRUE(systemd_.Command("hold-gets"));
  ASSERT_TRUE(systemd_.Invalidate("foo.service", "active"));  // the daemon Gets ActiveState
  std::string reply;
  for (int i = 0; i < 1000 && reply != "ok held 1"; ++i) {  // a hang guard: 10 s at most
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(systemd_.Command("held", &reply));
  }
  ASSERT_EQ(reply, "ok held 1") << daemon_.Log();
  ASSERT_TRUE(systemd_.ReplaceOwner(false, "leave"));
  ASSERT_TRUE(daemon_.WaitForLine("foo.service: Get failed (org.freedesktop.DBus.Error.NoReply)"));
  ASSERT_TRUE(systemd_.Command("release-gets"));  // whatever the new owner holds by now
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();
  EXPECT_EQ(StopAndListHooks(), Hooks{"app/0 hooks/service-foo-started"}) << daemon_.Log();
}

TEST_F(DaemonWithFakeSystemd, AMissingJujuExecIsReportedOncePerTransitionAndRetriedQuietly) {
  ASSERT_TRUE(bus_.Start());
  ASSERT_TRUE(systemd_.Start(bus_.address(), {"foo.service=inactive"}));
  std::string missing = juju_.path() + "-missing";
  ASSERT_TRUE(daemon_.Start(bus_.address(), missing, {"foo"}));
  ASSERT_TRUE(systemd_.SetState("foo.service", "active"));
  ASSERT_TRUE(
      daemon_.WaitForLine("foo.service: active -> hooks/service-foo-started: not run: "
                          "expected an executable at " +
                          missing));
  // Retried after the backoff, at debug level only.
  ASSERT_TRUE(daemon_.WaitForLine("hooks/service-foo-started failed to start again"));
  // Back to inactive: the started hook never ran, so it is moot and nothing is due.
  ASSERT_TRUE(systemd_.SetState("foo.service", "inactive"));
  ASSERT_TRUE(daemon_.WaitForLine("foo.service: inactive ("));
  // A new transition is reported again.
  ASSERT_TRUE(systemd_.SetState("foo.service", "active"));
  ASSERT_TRUE(daemon_.WaitForLines("hooks/service-foo-started: not run", 2));
  EXPECT_EQ(daemon_.Stop(), 0);
  EXPECT_EQ(daemon_.CountLines("not run"), 2u) << daemon_.Log();
  EXPECT_TRUE(juju_.Calls().empty());
}

TEST_F(DaemonWithFakeSystemd, SighupReReadsEveryState) {
  StartAll({"foo.service=inactive", "bar.service=active"}, {"foo", "bar"});
  ASSERT_EQ(systemd_.Gets("foo.service"), 4);  // its Id, GetAll, the timestamp, its ActiveState
  ASSERT_EQ(kill(daemon_.pid(), SIGHUP), 0);
  ASSERT_TRUE(daemon_.WaitForLine("received SIGHUP"));
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
       systemd_.Gets("bar.service") < 8 && std::chrono::steady_clock::now() < deadline;) {
    ASSERT_TRUE(systemd_.Command("ping"));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(systemd_.Gets("foo.service"), 8);
  EXPECT_EQ(systemd_.Gets("bar.service"), 8);
  // Unchanged states deliver nothing.
  EXPECT_EQ(StopAndListHooks(), Hooks{}) << daemon_.Log();
}

TEST_F(DaemonWithFakeSystemd, SighupDeliversAChangeWhoseSignalWasLost) {
  StartAll({"foo.service=inactive", "bar.service=active"}, {"foo", "bar"});
  ASSERT_TRUE(systemd_.Command("set-silently foo.service active"));
  ASSERT_EQ(kill(daemon_.pid(), SIGHUP), 0);
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();
  // Only the unit that changed gets a hook, and only once.
  EXPECT_EQ(StopAndListHooks(), Hooks{"app/0 hooks/service-foo-started"}) << daemon_.Log();
}

TEST_F(DaemonWithFakeSystemd, AMethodCallToTheDaemonIsAnsweredUnknownMethod) {
  StartAll({"foo.service=inactive"}, {"foo"});
  std::string name = daemon_.UniqueName();
  ASSERT_FALSE(name.empty()) << daemon_.Log();
  CommandResult result = RunCommand({"dbus-send", "--bus=" + bus_.address(), "--print-reply",
                                     "--dest=" + name, "/", "org.example.Nothing.Here"});
  EXPECT_FALSE(result.succeeded());
  EXPECT_NE(result.output.find("org.freedesktop.DBus.Error.UnknownMethod"), std::string::npos)
      << result.output;
  // So is a Peer method that does not exist.
  result = RunCommand({"busctl", "--address=" + bus_.address(), "call", name, "/",
                       "org.freedesktop.DBus.Peer", "Pong"});
  EXPECT_EQ(result.exit_code(), 1) << result.output;
  EXPECT_NE(result.output.find("no method org.freedesktop.DBus.Peer.Pong here"), std::string::npos)
      << result.output;
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.Log();
}

// A Get answered first by a stranger through the real bus: the fake holds systemd's answer
// while its other connection sends one with the right serial, then lets the real one go.
TEST_F(DaemonWithFakeSystemd, AGetAnsweredByAnotherConnectionIsRefusedAndTheRealAnswerCounts) {
  ASSERT_TRUE(bus_.Start());
  ASSERT_TRUE(systemd_.Start(bus_.address(), {"foo.service=inactive"}));
  ASSERT_TRUE(systemd_.Command("hold-gets"));
  ASSERT_TRUE(daemon_.Launch(bus_.address(), juju_.path(), {"foo"}));
  std::string reply;
  for (int i = 0; i < 1000 && reply != "ok held 1"; ++i) {  // a hang guard: 10 s at most
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(systemd_.Command("held", &reply));
  }
  ASSERT_EQ(reply, "ok held 1") << daemon_.Log();
  ASSERT_TRUE(systemd_.Command("forge-get-reply foo.service active", &reply));
  std::string forger = reply.substr(reply.rfind(' ') + 1);
  ASSERT_NE(forger, systemd_.owner());
  ASSERT_TRUE(daemon_.WaitForLine("refusing a reply to Get for foo.service from " + forger +
                                  ": systemd is " + systemd_.owner()));
  ASSERT_TRUE(systemd_.Command("release-gets", &reply));
  EXPECT_EQ(reply, "ok released 1");
  ASSERT_TRUE(daemon_.WaitForLine("watching "));
  EXPECT_EQ(daemon_.CountLines("foo.service: initially inactive"), 1u) << daemon_.Log();
  // The real state is the baseline: becoming active is a transition.
  ASSERT_TRUE(systemd_.SetState("foo.service", "active"));
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();
  EXPECT_EQ(StopAndListHooks(), Hooks{"app/0 hooks/service-foo-started"}) << daemon_.Log();
}

// This machine's id as GetMachineId should answer it (the daemon reads the default paths; the
// test only reads them too), or "" when neither file holds one.
std::string ThisMachineId() {
  for (const char* path : {"/etc/machine-id", "/var/lib/dbus/machine-id"}) {
    std::string text = ReadFile(path);
    if (text.size() == 33 && text[32] == '\n') return text.substr(0, 32);
  }
  return "";
}

TEST_F(DaemonWithFakeSystemd, PeerPingAndGetMachineIdAreAnsweredToBusctlDbusSendAndGdbus) {
  StartAll({"foo.service=inactive"}, {"foo"});
  std::string name = daemon_.UniqueName();
  ASSERT_FALSE(name.empty()) << daemon_.Log();
  std::string address = bus_.address();
  std::string id = ThisMachineId();

  CommandResult result = RunCommand(
      {"busctl", "--address=" + address, "call", name, "/", "org.freedesktop.DBus.Peer", "Ping"});
  EXPECT_TRUE(result.succeeded()) << result.output;
  EXPECT_EQ(result.output, "");  // an empty reply prints nothing
  result = RunCommand({"dbus-send", "--bus=" + address, "--print-reply", "--dest=" + name,
                       "/org/freedesktop/anything", "org.freedesktop.DBus.Peer.Ping"});
  EXPECT_TRUE(result.succeeded()) << result.output;
  EXPECT_EQ(result.output.rfind("method return ", 0), 0u) << result.output;
  result = RunCommand({"gdbus", "call", "--address", address, "--dest", name, "--object-path", "/",
                       "--method", "org.freedesktop.DBus.Peer.Ping"});
  EXPECT_TRUE(result.succeeded()) << result.output;
  EXPECT_EQ(result.output, "()\n");

  result = RunCommand({"busctl", "--address=" + address, "call", name, "/",
                       "org.freedesktop.DBus.Peer", "GetMachineId"});
  if (id.empty()) {
    // No machine id on this machine: an error naming the files, never a made-up id.
    EXPECT_EQ(result.exit_code(), 1) << result.output;
    EXPECT_NE(result.output.find("/etc/machine-id"), std::string::npos) << result.output;
  } else {
    EXPECT_TRUE(result.succeeded()) << result.output;
    EXPECT_EQ(result.output, "s \"" + id + "\"\n");
    result = RunCommand({"dbus-send", "--bus=" + address, "--print-reply", "--dest=" + name, "/",
                         "org.freedesktop.DBus.Peer.GetMachineId"});
    EXPECT_TRUE(result.succeeded()) << result.output;
    EXPECT_NE(result.output.find("string \"" + id + "\""), std::string::npos) << result.output;
    result = RunCommand({"gdbus", "call", "--address", address, "--dest", name, "--object-path",
                         "/", "--method", "org.freedesktop.DBus.Peer.GetMachineId"});
    EXPECT_TRUE(result.succeeded()) << result.output;
    EXPECT_EQ(result.output, "('" + id + "',)\n");
  }
  // The calls changed nothing: the daemon still watches and delivers.
  ASSERT_TRUE(systemd_.SetState("foo.service", "active"));
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();
  EXPECT_EQ(StopAndListHooks(), Hooks{"app/0 hooks/service-foo-started"}) << daemon_.Log();
}

}  // namespace
}  // namespace jsn::testing
