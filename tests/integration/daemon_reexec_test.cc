// systemd re-executes itself (`systemctl --user daemon-reexec` on the real user manager of the
// UserSystemd fixture) and comes back on the bus under a new unique name: the daemon trusts the
// new owner only, subscribes again and keeps delivering; a spoofed signal is still refused.
#include <gtest/gtest.h>

#include <string>
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

}  // namespace
}  // namespace jsn::testing
