// The charm-side subcommands against the fake systemd (tests/support/fake_systemd.py, an
// independent dbus-python implementation) on a private bus, for what real systemd will not do
// on demand: a start job that fails, a method refused with AccessDenied. Also the exact calls
// made, in order. The unit file goes to a temporary XDG_CONFIG_HOME (--user with --bus). With
// the daemon itself run beside it (on the state dir `subscribe` wrote into its unit) and the
// fake juju-exec failing a hook, `status` shows the delivery failing, then done.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/daemon_under_test.h"
#include "support/fake_juju_exec.h"
#include "support/fake_systemd.h"
#include "support/private_bus.h"
#include "support/source_tree.h"

namespace jsn::testing {
namespace {

constexpr const char* kNoticesUnit = "juju-app-0-systemd-notices.service";

class CharmWithFakeSystemd : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(bus_.Start());
    ASSERT_TRUE(systemd_.Start(bus_.address()));
    ASSERT_EQ(mkdir(directory_.Join("charm").c_str(), 0755), 0);
    ASSERT_EQ(mkdir(directory_.Join("config").c_str(), 0755), 0);
  }

  CommandResult Run(std::vector<std::string> args) const {
    args.insert(args.begin(), DaemonPath());
    args.insert(args.end(), {"--user", "--bus", bus_.address()});
    return RunCommand(args, EnvironmentWith({"XDG_CONFIG_HOME=" + directory_.Join("config")}));
  }
  CommandResult Subscribe() const {
    return Run({"subscribe", "--unit", "app/0", "--charm-dir", directory_.Join("charm"),
                "--state-dir", directory_.Join("state"), "hello"});
  }
  std::string Calls() {
    std::string reply;
    EXPECT_TRUE(systemd_.Command("calls", &reply));
    return reply;
  }

  PrivateBus bus_;
  FakeSystemd systemd_;
  TempDir directory_;
};

// Enabled before the reload, as systemctl enable does; unchanged, and with NeedDaemonReload
// false, there is nothing to reload.
TEST_F(CharmWithFakeSystemd, SubscribeEnablesReloadsAndStartsThenOnlyStartsWhenUnchanged) {
  CommandResult first = Subscribe();
  ASSERT_TRUE(first.succeeded()) << first.Describe() << "\n" << first.output;
  std::string unit = std::string("ok calls EnableUnitFiles:") + kNoticesUnit + " Reload" +
                     " RestartUnit:" + kNoticesUnit + ",replace";
  EXPECT_EQ(Calls(), unit);
  CommandResult second = Subscribe();
  ASSERT_TRUE(second.succeeded()) << second.Describe() << "\n" << second.output;
  EXPECT_EQ(Calls(),
            unit + " EnableUnitFiles:" + kNoticesUnit + " StartUnit:" + kNoticesUnit + ",replace");
}

TEST_F(CharmWithFakeSystemd, AFailedStartJobIsReportedWithItsResultAndExitsOne) {
  ASSERT_TRUE(systemd_.Command(std::string("job-result ") + kNoticesUnit + " failed"));
  CommandResult result = Subscribe();
  EXPECT_EQ(result.exit_code(), 1) << result.output;
  EXPECT_NE(result.output.find("found 'failed'"), std::string::npos) << result.output;
}

// A stranger on the bus answers subscribe's job call first (with a job of its own) and then
// tells it, in a unicast JobRemoved, that the real job ended otherwise than systemd says: both
// are refused (a reply counts only from systemd or the bus, JobRemoved only from systemd), and
// systemd's own reply and verdict decide.
TEST_F(CharmWithFakeSystemd, ForgedJobRepliesAndJobRemovedFromAStrangerAreRefused) {
  ASSERT_TRUE(systemd_.Command(std::string("job-result ") + kNoticesUnit + " failed"));
  ASSERT_TRUE(systemd_.Command(std::string("forge-jobs ") + kNoticesUnit + " done"));
  CommandResult failed = Subscribe();
  EXPECT_EQ(failed.exit_code(), 1) << failed.output;
  EXPECT_NE(failed.output.find("found 'failed'"), std::string::npos) << failed.output;

  ASSERT_TRUE(systemd_.Command(std::string("job-result ") + kNoticesUnit + " done"));
  ASSERT_TRUE(systemd_.Command(std::string("forge-jobs ") + kNoticesUnit + " failed"));
  CommandResult done = Subscribe();
  EXPECT_TRUE(done.succeeded()) << done.Describe() << "\n" << done.output;
  CommandResult stop = Run({"stop", "--unit", "app/0"});
  EXPECT_TRUE(stop.succeeded()) << stop.Describe() << "\n" << stop.output;
}

// The same verdict sent later, after systemd's reply, while subscribe waits for the job: still
// refused, and still systemd's own JobRemoved decides.
TEST_F(CharmWithFakeSystemd, AForgedJobRemovedWhileWaitingForTheJobIsRefused) {
  ASSERT_TRUE(systemd_.Command(std::string("job-result ") + kNoticesUnit + " failed"));
  ASSERT_TRUE(systemd_.Command(std::string("forge-jobs ") + kNoticesUnit + " done late"));
  CommandResult failed = Subscribe();
  EXPECT_EQ(failed.exit_code(), 1) << failed.output;
  EXPECT_NE(failed.output.find("found 'failed'"), std::string::npos) << failed.output;
}

TEST_F(CharmWithFakeSystemd, AccessDeniedIsShownWithItsErrorNameAndExitsOne) {
  ASSERT_TRUE(systemd_.Command("deny EnableUnitFiles"));
  CommandResult result = Subscribe();
  EXPECT_EQ(result.exit_code(), 1) << result.output;
  EXPECT_NE(result.output.find("org.freedesktop.DBus.Error.AccessDenied: Access denied to "
                               "EnableUnitFiles (fake)"),
            std::string::npos)
      << result.output;
  EXPECT_EQ(Calls().find("StartUnit"), std::string::npos) << "went on after the refusal";
}

TEST_F(CharmWithFakeSystemd, WithJsonARefusalIsOneJsonLineWithTheRuleAndTheDbusErrorName) {
  ASSERT_TRUE(systemd_.Command("deny StopUnit"));
  CommandResult denied = Run({"stop", "--unit", "app/0", "--json"});
  EXPECT_EQ(denied.exit_code(), 1) << denied.output;
  EXPECT_EQ(denied.output,
            "{\"command\":\"stop\",\"error\":\"dbus-error\",\"doing\":\"stopping the unit\","
            "\"dbus_error\":\"org.freedesktop.DBus.Error.AccessDenied\",\"message\":\"StopUnit: "
            "org.freedesktop.DBus.Error.AccessDenied: Access denied to StopUnit (fake)\"}\n");
  CommandResult usage = Run({"remove", "--json", "--unit", "app 0"});
  EXPECT_EQ(usage.exit_code(), 2) << usage.output;
  EXPECT_EQ(usage.output.rfind("{\"command\":\"remove\",\"error\":\"invalid-juju-unit\",", 0), 0u)
      << usage.output;
}

// Then reloads, as systemctl disable does (systemd 252 may report the unit enabled until then).
TEST_F(CharmWithFakeSystemd, StopStopsThenDisablesThenReloadsAndReportsARefusal) {
  CommandResult stop = Run({"stop", "--unit", "app/0"});
  ASSERT_TRUE(stop.succeeded()) << stop.Describe() << "\n" << stop.output;
  EXPECT_EQ(Calls(), std::string("ok calls StopUnit:") + kNoticesUnit +
                         ",replace DisableUnitFiles:" + kNoticesUnit + " Reload");
  ASSERT_TRUE(systemd_.Command("deny StopUnit"));
  CommandResult denied = Run({"stop", "--unit", "app/0"});
  EXPECT_EQ(denied.exit_code(), 1) << denied.output;
  EXPECT_NE(denied.output.find("org.freedesktop.DBus.Error.AccessDenied"), std::string::npos)
      << denied.output;
}

TEST_F(CharmWithFakeSystemd, StatusShowsEachWatchedUnitsStateFromSystemd) {
  ASSERT_TRUE(Subscribe().succeeded());
  ASSERT_TRUE(systemd_.SetState("hello.service", "failed"));
  CommandResult status = Run({"status", "--unit", "app/0", "--json"});
  ASSERT_TRUE(status.succeeded()) << status.Describe() << "\n" << status.output;
  EXPECT_EQ(
      status.output,
      std::string("{\"juju_unit\": \"app/0\", \"daemon_unit\": \"") + kNoticesUnit +
          "\", \"daemon_active_state\": \"active\", \"state_file\": false, \"watches\": "
          "[{\"alias\": \"hello\", \"unit\": \"hello.service\", \"id\": \"hello.service\", "
          "\"active_state\": "
          "\"failed\", \"delivered\": \"unknown\", \"pending\": \"unknown\", \"pending_hook\": "
          "\"unknown\", \"transition\": null}]}\n");
}

TEST_F(CharmWithFakeSystemd, StatusShowsTheUnitAWatchedAliasIs) {
  ASSERT_TRUE(Subscribe().succeeded());
  ASSERT_TRUE(systemd_.Command("alias hello.service world.service"));
  ASSERT_TRUE(systemd_.SetState("world.service", "active"));
  CommandResult json = Run({"status", "--unit", "app/0", "--json"});
  ASSERT_TRUE(json.succeeded()) << json.Describe() << "\n" << json.output;
  EXPECT_NE(json.output.find("{\"alias\": \"hello\", \"unit\": \"hello.service\", \"id\": "
                             "\"world.service\", \"active_state\": \"active\""),
            std::string::npos)
      << json.output;
  CommandResult table = Run({"status", "--unit", "app/0"});
  ASSERT_TRUE(table.succeeded()) << table.Describe() << "\n" << table.output;
  EXPECT_NE(table.output.find("hello                    hello.service (world.service)    active "),
            std::string::npos)
      << table.output;
}

TEST_F(CharmWithFakeSystemd, StatusShowsAHookFailingWhileItIsRetriedAndNoneOnceItSucceeds) {
  ASSERT_TRUE(Subscribe().succeeded());
  ASSERT_TRUE(systemd_.SetState("hello.service", "inactive"));  // the daemon's baseline
  FakeJujuExec juju;
  // The first attempt fails; the retry waits at a gate, so the test reads the state between.
  ASSERT_TRUE(juju.SetRules("service-hello-started exit=1 times=1\nservice-hello-started wait=" +
                            juju.GatePath("go") + "\n"));
  DaemonUnderTest daemon;
  daemon.UseStateDir(directory_.Join("state"));  // as in the unit file `subscribe` wrote
  ASSERT_TRUE(daemon.Start(bus_.address(), juju.path(), {"hello"}));
  ASSERT_TRUE(systemd_.SetState("hello.service", "active"));
  ASSERT_TRUE(juju.WaitForBegun(2)) << daemon.Log();  // the failure was saved before the retry
  EXPECT_EQ(ReadFile(directory_.Join("state/app-0.state")),
            "juju-systemd-notices-state 1 app/0\nhello.service stopped\n"
            "failing hello.service started\n"
            // What systemd said with the state: this fake says only the state.
            "record state=active hello.service started\n");
  CommandResult failing = Run({"status", "--unit", "app/0", "--json"});
  ASSERT_TRUE(failing.succeeded()) << failing.Describe() << "\n" << failing.output;
  EXPECT_NE(failing.output.find("\"active_state\": \"active\", \"delivered\": \"stopped\", "
                                "\"pending\": \"failing\", \"pending_hook\": \"started\", "
                                "\"transition\": {\"state\": \"active\"}}"),
            std::string::npos)
      << failing.output;
  CommandResult table = Run({"status", "--unit", "app/0"});
  ASSERT_TRUE(table.succeeded()) << table.Describe() << "\n" << table.output;
  EXPECT_NE(table.output.find(" stopped    failing started\n"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find(" last: state=active \n"), std::string::npos) << table.output;

  ASSERT_TRUE(juju.OpenGate("go"));
  ASSERT_TRUE(juju.WaitForEnded(2)) << daemon.Log();
  EXPECT_EQ(daemon.Stop(), 0) << daemon.Log();  // after the retry has been reaped and saved
  EXPECT_EQ(HookList(juju), (std::vector<std::string>{"app/0 hooks/service-hello-started",
                                                      "app/0 hooks/service-hello-started"}));
  EXPECT_EQ(ReadFile(directory_.Join("state/app-0.state")),
            "juju-systemd-notices-state 1 app/0\nhello.service started\n"
            "record state=active hello.service started\n");
  CommandResult done = Run({"status", "--unit", "app/0", "--json"});
  ASSERT_TRUE(done.succeeded()) << done.Describe() << "\n" << done.output;
  EXPECT_NE(
      done.output.find("\"delivered\": \"started\", \"pending\": \"none\", "
                       "\"pending_hook\": \"none\", \"transition\": {\"state\": \"active\"}}"),
      std::string::npos)
      << done.output;
}

}  // namespace
}  // namespace jsn::testing
