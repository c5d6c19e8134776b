// systemd re-executes itself (`systemctl --user daemon-reexec` on the real user manager of the
// UserSystemd fixture) and comes back on the bus under a new unique name: the daemon trusts the
// new owner only, subscribes again and keeps delivering; a spoofed signal is still refused; and
// a unit that changes while systemd re-executes, with the daemon's Gets out, ends delivered.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.h"
#include "support/daemon_under_test.h"
#include "support/fake_juju_exec.h"
#include "support/user_systemd.h"

namespace jsn::testing {
namespace {

using Hooks = std::vector<std::string>;

// Sends PropertiesChanged(ActiveState=active) for PATH from a connection of its own, directed
// at TARGET (so it reaches the daemon whatever its matches say).
constexpr const char* kSpoofScript = R"(
import sys, dbus, dbus.lowlevel
address, path, target = sys.argv[1:4]
bus = dbus.bus.BusConnection(address)
message = dbus.lowlevel.SignalMessage(path, 'org.freedesktop.DBus.Properties', 'PropertiesChanged')
message.set_destination(target)
message.append('org.freedesktop.systemd1.Unit',
               dbus.Dictionary({'ActiveState': dbus.String('active', variant_level=1)}, signature='sv'),
               dbus.Array([], signature='s'))
bus.send_message(message)
bus.call_blocking('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'GetId', '', ())
)";

TEST(DaemonWithReexecutingSystemd, AfterDaemonReexecTheNewOwnerIsTrustedAndDelivered) {
  UserSystemd systemd;
  FakeJujuExec juju;
  DaemonUnderTest daemon;
  ASSERT_TRUE(systemd.WriteUnit("hello.service", "[Service]\nExecStart=/bin/sleep infinity\n"));
  ASSERT_TRUE(systemd.Start());
  ASSERT_TRUE(daemon.Start(systemd.bus_address(), juju.path(), {"hello"}));
  CommandResult reexec = systemd.Systemctl({"daemon-reexec"});
  ASSERT_TRUE(reexec.succeeded()) << reexec.Describe() << "\n" << reexec.output;
  ASSERT_TRUE(daemon.WaitForLine("systemd is now :")) << daemon.Log();
  CommandResult spoof =
      RunCommand({"/usr/bin/python3", "-c", kSpoofScript, systemd.bus_address(),
                  UserSystemd::UnitObjectPath("hello.service"), daemon.UniqueName()});
  ASSERT_TRUE(spoof.succeeded()) << spoof.Describe() << "\n" << spoof.output;
  ASSERT_TRUE(daemon.WaitForLine("ignoring PropertiesChanged for hello.service from :"));
  ASSERT_TRUE(systemd.Systemctl({"start", "hello.service"}).succeeded());
  ASSERT_TRUE(juju.WaitForEnded(1)) << daemon.Log();
  ASSERT_TRUE(systemd.Systemctl({"stop", "hello.service"}).succeeded());
  ASSERT_TRUE(juju.WaitForEnded(2)) << daemon.Log();
  EXPECT_EQ(daemon.Stop(), 0) << daemon.Log();
  EXPECT_EQ(HookList(juju),
            (Hooks{"app/0 hooks/service-hello-started", "app/0 hooks/service-hello-stopped"}))
      << daemon.Log();
}

// Each round: SIGHUP (the daemon asks systemd for the state again), a start or stop queued
// (--no-block: the job runs while systemd re-executes or just after), and daemon-reexec at once,
// so Gets are out when the old owner leaves and the unit changes meanwhile. Whatever the timing,
// the last hook delivered is the unit's last state, and no hook repeats the one before it. (The
// exact interleaving is not forced here; tests/integration/daemon_fake_systemd_test.cc forces
// the lost Get, tests/systemd/watch_test.cc every order.)
TEST(DaemonWithReexecutingSystemd, AUnitChangingWhileSystemdReexecutesEndsDelivered) {
  UserSystemd systemd;
  FakeJujuExec juju;
  DaemonUnderTest daemon;
  ASSERT_TRUE(systemd.WriteUnit("flip.service", "[Service]\nExecStart=/bin/sleep infinity\n"));
  ASSERT_TRUE(systemd.Start());
  ASSERT_TRUE(daemon.Start(systemd.bus_address(), juju.path(), {"flip"}));
  for (const char* step : {"start", "stop", "start", "stop", "start"}) {
    ASSERT_EQ(kill(daemon.pid(), SIGHUP), 0);
    CommandResult queued = systemd.Systemctl({"--no-block", step, "flip.service"});
    ASSERT_TRUE(queued.succeeded()) << queued.Describe() << "\n" << queued.output;
    CommandResult reexec = systemd.Systemctl({"daemon-reexec"});
    ASSERT_TRUE(reexec.succeeded()) << reexec.Describe() << "\n" << reexec.output;
  }
  ASSERT_TRUE(systemd.WaitForActiveState("flip.service", "active"));
  // Bounded wait for the delivery of that last state.
  std::vector<JujuExecCall> calls;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
       std::chrono::steady_clock::now() < deadline;
       std::this_thread::sleep_for(std::chrono::milliseconds(10))) {
    calls = juju.Calls();
    if (!calls.empty() && calls.back().ended() &&
        calls.back().hook() == "hooks/service-flip-started") {
      break;
    }
  }
  EXPECT_EQ(daemon.Stop(), 0) << daemon.Log();
  Hooks hooks = HookList(juju);
  ASSERT_FALSE(hooks.empty()) << daemon.Log();
  EXPECT_EQ(hooks.back(), "app/0 hooks/service-flip-started") << daemon.Log();
  for (size_t i = 1; i < hooks.size(); ++i) {
    EXPECT_NE(hooks[i], hooks[i - 1]) << "a needless repeat at " << i << "\n" << daemon.Log();
  }
}

}  // namespace
}  // namespace jsn::testing
