// The bus goes away under the daemon: the private dbus-daemon is killed and restarted at the
// same address, with a fake systemd on it whose state changed meanwhile. The daemon reconnects
// (with backoff), subscribes and re-reads every state, and delivers the net change once.
#include <gtest/gtest.h>
#include <signal.h>

#include <string>
#include <vector>

#include "support/daemon_under_test.h"
#include "support/fake_juju_exec.h"
#include "support/fake_systemd.h"
#include "support/private_bus.h"

namespace jsn::testing {
namespace {

using Hooks = std::vector<std::string>;

TEST(DaemonReconnect, ABusRestartWithAChangeWhileItWasDownDeliversTheChange) {
  PrivateBus bus;
  FakeJujuExec juju;
  DaemonUnderTest daemon;
  ASSERT_TRUE(bus.Start());
  {
    FakeSystemd before;
    ASSERT_TRUE(before.Start(bus.address(), {"foo.service=inactive", "bar.service=active"}));
    ASSERT_TRUE(daemon.Start(bus.address(), juju.path(), {"foo", "bar"}));
    bus.Stop(SIGKILL);
    ASSERT_TRUE(daemon.WaitForLine("lost the bus connection"));
  }
  // While the bus was away foo started; bar stayed as it was.
  ASSERT_TRUE(bus.Start());
  FakeSystemd after;
  ASSERT_TRUE(after.Start(bus.address(), {"foo.service=active", "bar.service=active"}));
  ASSERT_TRUE(daemon.WaitForLine("watching again after the reconnect"));
  ASSERT_TRUE(juju.WaitForEnded(1)) << daemon.Log();
  // Subscribed again: a later transition arrives.
  ASSERT_TRUE(after.SetState("bar.service", "failed"));
  ASSERT_TRUE(juju.WaitForEnded(2)) << daemon.Log();
  EXPECT_EQ(daemon.Stop(), 0) << daemon.Log();
  EXPECT_EQ(HookList(juju),
            (Hooks{"app/0 hooks/service-foo-started", "app/0 hooks/service-bar-stopped"}))
      << daemon.Log();
  EXPECT_EQ(daemon.CountLines("reconnected to"), 1u) << daemon.Log();
}

}  // namespace
}  // namespace jsn::testing
