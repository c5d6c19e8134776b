// Hook failures against the fake systemd on a private dbus-daemon, with the fake juju-exec's
// rules making hooks fail, hang or wait on a gate: a failed hook is retried with a doubling
// backoff until it succeeds, a newer state makes a failed hook moot, a hook past
// --hook-timeout is killed and retried, and SIGTERM lets a running hook finish.
// Tests wait for events (bounded); the only time checks are lower bounds the daemon must keep.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

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

TEST_F(DaemonHookFailures, AHookPastTheTimeoutIsKilledAndRetried) {
  ASSERT_TRUE(juju_.SetRules("service-foo-started sleep=3600 times=1\n"));
  StartAll({"--hook-timeout", "1"});
  ASSERT_TRUE(systemd_.SetState("foo.service", "active"));
  ASSERT_TRUE(daemon_.WaitForLine("hooks/service-foo-started still running after 1 s: killing"));
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();  // the retry, which does not hang
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.Log();
  std::vector<JujuExecCall> calls = juju_.Calls();
  ASSERT_EQ(calls.size(), 2u) << FakeJujuExec::Describe(calls);
  EXPECT_FALSE(calls[0].ended());  // SIGKILL: it never wrote its end
  EXPECT_EQ(kill(calls[0].pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
  EXPECT_EQ(calls[1].exit_code, 0);
  EXPECT_EQ(HookList(juju_),
            (Hooks{"app/0 hooks/service-foo-started", "app/0 hooks/service-foo-started"}));
  EXPECT_TRUE(daemon_.WaitForLine("killed by signal 9"));
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
