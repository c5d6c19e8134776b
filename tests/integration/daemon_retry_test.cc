// Hook failures against the fake systemd on a private dbus-daemon, with the fake juju-exec (as
// Juju's: a queue, the machine lock, Juju's statuses) and its rules making hooks fail, hang or
// wait on a gate: a failed hook is retried with a doubling backoff until it succeeds, a newer
// state makes a failed hook moot, a hook queued past --hook-timeout is warned about and never
// run twice, an agent that is down is retried until it is up, and SIGTERM lets a running hook
// finish.
// Tests wait for events (bounded); the only time checks are lower bounds the daemon must keep.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/daemon_under_test.h"
#include "support/fake_juju_exec.h"
#include "support/fake_systemd.h"
#include "support/private_bus.h"

namespace jsn::testing {
namespace {

using Hooks = std::vector<std::string>;
constexpr int64_t kSecond = 1000000000;

class DaemonHookFailures : public ::testing::Test {
 protected:
  void StartAll(const std::vector<std::string>& extra_options = {}) {
    ASSERT_TRUE(bus_.Start());
    ASSERT_TRUE(systemd_.Start(bus_.address(), {"foo.service=inactive"}));
    ASSERT_TRUE(daemon_.Start(bus_.address(), juju_.path(), {"foo"}, extra_options));
  }

  PrivateBus bus_;
  FakeSystemd systemd_;
  FakeJujuExec juju_;
  DaemonUnderTest daemon_;
};

TEST_F(DaemonHookFailures, AFailingHookIsRetriedWithDoublingBackoffUntilItSucceeds) {
  ASSERT_TRUE(juju_.SetRules("service-foo-started exit=1 times=2\n"));
  StartAll();
  ASSERT_TRUE(systemd_.SetState("foo.service", "active"));
  ASSERT_TRUE(juju_.WaitForEnded(3)) << daemon_.Log();
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.Log();
  EXPECT_EQ(HookList(juju_),
            (Hooks{"app/0 hooks/service-foo-started", "app/0 hooks/service-foo-started",
                   "app/0 hooks/service-foo-started"}))
      << daemon_.Log();
  std::vector<JujuExecCall> calls = juju_.Calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].exit_code, 1);
  EXPECT_EQ(calls[1].exit_code, 1);
  EXPECT_EQ(calls[2].exit_code, 0);
  EXPECT_GE(calls[1].start_ns - calls[0].end_ns, 1 * kSecond);  // never sooner than the backoff
  EXPECT_GE(calls[2].start_ns - calls[1].end_ns, 2 * kSecond);
  EXPECT_EQ(daemon_.CountLines("retrying hooks/service-foo-started in 1 s (failure 1)"), 1u);
  EXPECT_EQ(daemon_.CountLines("retrying hooks/service-foo-started in 2 s (failure 2)"), 1u);
}

TEST_F(DaemonHookFailures, ANewerStateMakesAFailedHookMoot) {
  ASSERT_TRUE(juju_.SetRules("service-foo-started exit=1 wait=" + juju_.GatePath("go") + "\n"));
  StartAll();
  ASSERT_TRUE(systemd_.SetState("foo.service", "active"));
  ASSERT_TRUE(juju_.WaitForBegun(1)) << daemon_.Log();
  ASSERT_TRUE(systemd_.SetState("foo.service", "inactive"));
  ASSERT_TRUE(daemon_.WaitForLine("foo.service: inactive ("));
  ASSERT_TRUE(juju_.OpenGate("go"));
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();
  ASSERT_TRUE(daemon_.WaitForLine("hooks/service-foo-started: exit 1"));
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.Log();
  EXPECT_EQ(HookList(juju_), (Hooks{"app/0 hooks/service-foo-started"})) << daemon_.Log();
  EXPECT_EQ(daemon_.CountLines("retrying"), 0u) << daemon_.Log();
}

// Juju queues juju-exec's request behind the machine lock with no timeout, and runs it even once
// the client is killed: past --hook-timeout the daemon only warns, and the transition runs once.
TEST_F(DaemonHookFailures, AHookQueuedPastTheTimeoutIsWarnedAboutAndRunsOnce) {
  ASSERT_TRUE(juju_.HoldMachineLock());
  StartAll({"--hook-timeout", "1"});
  ASSERT_TRUE(systemd_.SetState("foo.service", "active"));
  ASSERT_TRUE(daemon_.WaitForLine(
      "hooks/service-foo-started still running after 1 s (queued behind the machine lock?)"));
  EXPECT_EQ(juju_.Calls().size(), 1u) << FakeJujuExec::Describe(juju_.Calls());
  juju_.ReleaseMachineLock();
  ASSERT_TRUE(daemon_.WaitForLine("hooks/service-foo-started: exit 0"));
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.Log();
  std::vector<JujuExecCall> calls = juju_.Calls();
  ASSERT_EQ(calls.size(), 1u) << FakeJujuExec::Describe(calls);
  EXPECT_EQ(calls[0].run_exit_code, 0);
  EXPECT_EQ(calls[0].exit_code, 0);
  EXPECT_EQ(daemon_.CountLines("still running"), 1u) << daemon_.Log();
}

// Another unit's install hook holds the machine lock: the hook waits behind it, states that come
// meanwhile coalesce, and each transition the charm needs runs once, in order.
TEST_F(DaemonHookFailures, AMachineLockHeldByAnotherUnitDelaysButDoesNotDuplicate) {
  ASSERT_TRUE(juju_.SetRules("install wait=" + juju_.GatePath("installed") + "\n"));
  ChildProcess install;
  std::string error;
  ASSERT_TRUE(install.Start({juju_.path(), "other/0", "hooks/install"}, {}, &error)) << error;
  ASSERT_TRUE(juju_.WaitForRunsBegun(1));
  StartAll({"--hook-timeout", "1"});
  ASSERT_TRUE(systemd_.SetState("foo.service", "active"));
  ASSERT_TRUE(daemon_.WaitForLine("hooks/service-foo-started still running after 1 s"));
  // Stopped, then failed, while the started hook waits: one stopped follows it, nothing more.
  ASSERT_TRUE(systemd_.SetState("foo.service", "inactive"));
  ASSERT_TRUE(daemon_.WaitForLine("foo.service: inactive ("));
  ASSERT_TRUE(systemd_.SetState("foo.service", "failed"));
  ASSERT_TRUE(daemon_.WaitForLine("foo.service: failed ("));
  ASSERT_TRUE(juju_.OpenGate("installed"));
  ASSERT_TRUE(install.WaitForExit(std::chrono::seconds(30)));
  ASSERT_TRUE(daemon_.WaitForLine("hooks/service-foo-stopped: exit 0")) << daemon_.Log();
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.Log();
  std::vector<JujuExecCall> calls = juju_.Calls();
  ASSERT_EQ(calls.size(), 3u) << FakeJujuExec::Describe(calls);
  EXPECT_EQ(calls[1].hook(), "hooks/service-foo-started");
  EXPECT_EQ(calls[2].hook(), "hooks/service-foo-stopped");
  EXPECT_GE(calls[1].run_start_ns, calls[0].run_end_ns);  // behind the install hook
  EXPECT_GE(calls[2].start_ns, calls[1].end_ns);          // one at a time
}

// juju-exec fails with status 1 and "ERROR dialing juju run socket" until the unit agent is up
// (after a reboot): retried on the backoff until it answers, then delivered exactly once.
TEST_F(DaemonHookFailures, AnAgentThatIsDownIsRetriedUntilItIsUpThenDeliveredOnce) {
  ASSERT_TRUE(juju_.SetAgentDown(true));
  StartAll();
  ASSERT_TRUE(systemd_.SetState("foo.service", "active"));
  ASSERT_TRUE(daemon_.WaitForLine("retrying hooks/service-foo-started in 2 s (failure 2)"))
      << daemon_.Log();
  ASSERT_TRUE(juju_.SetAgentDown(false));
  ASSERT_TRUE(juju_.WaitForRunsEnded(1)) << daemon_.Log();
  ASSERT_TRUE(daemon_.WaitForLine("hooks/service-foo-started: exit 0")) << daemon_.Log();
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.Log();
  std::vector<JujuExecCall> calls = juju_.Calls();
  size_t runs = 0;
  for (const JujuExecCall& call : calls) runs += call.ran() ? 1 : 0;
  EXPECT_EQ(runs, 1u) << FakeJujuExec::Describe(calls);
  EXPECT_GE(calls.size(), 3u) << FakeJujuExec::Describe(calls);
  EXPECT_EQ(calls.back().exit_code, 0);
  for (size_t i = 0; i + 1 < calls.size(); ++i) EXPECT_EQ(calls[i].exit_code, 1) << i;
}

TEST_F(DaemonHookFailures, SigtermDuringARunningHookLetsItFinishThenExitsZero) {
  ASSERT_TRUE(juju_.SetRules("service-foo-started wait=" + juju_.GatePath("go") + "\n"));
  StartAll();
  ASSERT_TRUE(systemd_.SetState("foo.service", "active"));
  ASSERT_TRUE(juju_.WaitForBegun(1)) << daemon_.Log();
  ASSERT_EQ(kill(daemon_.pid(), SIGTERM), 0);
  ASSERT_TRUE(daemon_.WaitForLine("received SIGTERM"));
  ASSERT_TRUE(juju_.OpenGate("go"));
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.Log();
  std::vector<JujuExecCall> calls = juju_.Calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_TRUE(calls[0].ended());
  EXPECT_EQ(calls[0].exit_code, 0);
}

// A removed Juju unit's charm directory is gone, so its hooks fail for ever: once a hook fails
// and --charm-dir is gone, the daemon stops retrying and exits 3, which the notices unit lists
// in RestartPreventExitStatus= so that systemd does not start it again.
TEST_F(DaemonHookFailures, AFailedHookWithItsCharmDirGoneEndsTheDaemonWithStatus3) {
  TempDir charm("jsn-charm");
  ASSERT_TRUE(juju_.SetRules("service-foo-started exit=1\n"));
  StartAll({"--charm-dir", charm.path()});
  ASSERT_TRUE(systemd_.SetState("foo.service", "active"));
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();  // charm dir still there: retried
  ASSERT_TRUE(daemon_.WaitForLine("retrying hooks/service-foo-started in 1 s")) << daemon_.Log();
  ASSERT_EQ(rmdir(charm.path().c_str()), 0);
  EXPECT_EQ(daemon_.WaitForExit(), 3) << daemon_.Log();
  EXPECT_EQ(daemon_.CountLines("the charm directory " + charm.path() + " is gone"), 1u)
      << daemon_.Log();
  EXPECT_EQ(juju_.Calls().size(), 2u) << daemon_.Log();  // the retry that found it gone, no more
}

// What Juju's removal of the unit does: the agent's directory (and the charm's in it) goes, and
// juju-exec says `unit "app/0" not found on this machine`: the daemon ends as above.
TEST_F(DaemonHookFailures, AUnitThatIsGoneEndsTheDaemonWithStatus3) {
  TempDir charm("jsn-charm");
  StartAll({"--charm-dir", charm.path()});
  ASSERT_TRUE(juju_.SetUnitGone("app/0", true));
  ASSERT_EQ(rmdir(charm.path().c_str()), 0);
  ASSERT_TRUE(systemd_.SetState("foo.service", "active"));
  EXPECT_EQ(daemon_.WaitForExit(), 3) << daemon_.Log();
  std::vector<JujuExecCall> calls = juju_.Calls();
  ASSERT_EQ(calls.size(), 1u) << FakeJujuExec::Describe(calls);
  EXPECT_EQ(calls[0].exit_code, 1);
  EXPECT_FALSE(calls[0].ran());
}

TEST_F(DaemonHookFailures, AHookThatSucceedsNeverAsksForTheCharmDir) {
  // No charm dir at all, yet a working juju-exec: the daemon runs on (only a failure asks).
  TempDir charm("jsn-charm");
  StartAll({"--charm-dir", charm.path()});
  ASSERT_EQ(rmdir(charm.path().c_str()), 0);
  ASSERT_TRUE(systemd_.SetState("foo.service", "active"));
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();
  ASSERT_TRUE(systemd_.SetState("foo.service", "inactive"));
  ASSERT_TRUE(juju_.WaitForEnded(2)) << daemon_.Log();
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.Log();
  EXPECT_EQ(daemon_.CountLines("is gone"), 0u) << daemon_.Log();
}

TEST_F(DaemonHookFailures, ADaemonStartedForACharmDirThatIsGoneExits3AtOnce) {
  ASSERT_TRUE(bus_.Start());
  ASSERT_TRUE(systemd_.Start(bus_.address(), {"foo.service=inactive"}));
  ASSERT_TRUE(daemon_.Launch(bus_.address(), juju_.path(), {"foo"},
                             {"--charm-dir", "/nonexistent/jsn-charm"}));
  EXPECT_EQ(daemon_.WaitForExit(), 3) << daemon_.Log();
  EXPECT_EQ(daemon_.CountLines("the charm directory /nonexistent/jsn-charm is gone"), 1u)
      << daemon_.Log();
  EXPECT_EQ(daemon_.CountLines("watching"), 0u) << daemon_.Log();
}

}  // namespace
}  // namespace jsn::testing
