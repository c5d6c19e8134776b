// The daemon as a Type=notify service of a real systemd (a user manager started by the
// UserSystemd fixture): systemd itself reads our READY=1, STATUS= and WATCHDOG=1 datagrams.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/daemon_under_test.h"
#include "support/fake_juju_exec.h"
#include "support/source_tree.h"
#include "support/user_systemd.h"

namespace jsn::testing {
namespace {

using Hooks = std::vector<std::string>;

constexpr const char* kSleeper = "[Service]\nExecStart=/bin/sleep infinity\n";

size_t CountOccurrences(const std::string& text, const std::string& what) {
  size_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

class DaemonAsNotifyService : public ::testing::Test {
 protected:
  // Writes jsn.service running our daemon (Type=notify, its stderr to daemon_log()) with
  // `extra` lines in [Service], plus hello.service, and starts the manager.
  void StartManager(const std::string& extra) {
    std::string unit = "[Service]\nType=notify\nExecStart=" + DaemonPath() +
                       " --unit app/0 -d --juju-exec " + juju_.path() + " --bus " +
                       systemd_.bus_address() + " --state-dir " + systemd_.scratch_dir() +
                       "/state hello\nStandardError=append:" + daemon_log() + "\n" + extra;
    ASSERT_TRUE(systemd_.WriteUnit("jsn.service", unit));
    ASSERT_TRUE(systemd_.WriteUnit("hello.service", kSleeper));
    ASSERT_TRUE(systemd_.Start());
  }
  std::string daemon_log() const { return systemd_.scratch_dir() + "/daemon.log"; }
  void Systemctl(const std::vector<std::string>& args) {
    CommandResult result = systemd_.Systemctl(args);
    ASSERT_TRUE(result.succeeded())
        << "systemctl --user " << args[0] << ": " << result.Describe() << "\n"
        << result.output << "\ndaemon log:\n"
        << ReadFile(daemon_log());
  }
  std::string Show(const std::string& unit, const std::string& property) {
    CommandResult result = systemd_.Systemctl({"show", "-p", property, "--value", unit});
    std::string value = result.output;
    while (!value.empty() && value.back() == '\n') value.pop_back();
    return value;
  }
  // Waits (bounded, polling the file) until the daemon's log holds `count` lines with `text`.
  ::testing::AssertionResult WaitForLogLines(const std::string& text, size_t count) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      std::string log = ReadFile(daemon_log());
      if (CountOccurrences(log, text) >= count) return ::testing::AssertionSuccess();
      if (std::chrono::steady_clock::now() > deadline) {
        return ::testing::AssertionFailure()
               << "the daemon's log never had " << count << " \"" << text << "\" lines:\n"
               << log;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  UserSystemd systemd_;
  FakeJujuExec juju_;
};

TEST_F(DaemonAsNotifyService, StartReturnsOnlyWhenReadyAndTheNextTransitionIsDelivered) {
  StartManager("");
  Systemctl({"start", "jsn.service"});
  // The daemon logs "watching" just before it sends READY=1, and only after the matches,
  // Subscribe and every initial state: start returned, so all of that has happened.
  std::string log = ReadFile(daemon_log());
  EXPECT_NE(log.find("watching 1 unit for app/0"), std::string::npos) << log;
  EXPECT_EQ(Show("jsn.service", "ActiveState"), "active");
  EXPECT_EQ(Show("jsn.service", "StatusText"), "watching 1 unit for app/0");
  Systemctl({"start", "hello.service"});
  ASSERT_TRUE(juju_.WaitForEnded(1)) << ReadFile(daemon_log());
  Systemctl({"stop", "jsn.service"});  // SIGTERM: STOPPING=1, exit 0 once hooks end
  EXPECT_EQ(HookList(juju_), (Hooks{"app/0 hooks/service-hello-started"}))
      << ReadFile(daemon_log());
  EXPECT_EQ(Show("jsn.service", "Result"), "success");
  EXPECT_NE(ReadFile(daemon_log()).find("received SIGTERM"), std::string::npos);
}

TEST_F(DaemonAsNotifyService, WatchdogDoesNotKillAHealthyDaemon) {
  StartManager("WatchdogSec=1\n");
  Systemctl({"start", "jsn.service"});
  std::string main_pid = Show("jsn.service", "MainPID");
  // Pings every 0.5 s: six of them span well past the 1 s watchdog timeout.
  ASSERT_TRUE(WaitForLogLines("watchdog: ping", 6));
  EXPECT_EQ(Show("jsn.service", "ActiveState"), "active") << ReadFile(daemon_log());
  EXPECT_EQ(Show("jsn.service", "MainPID"), main_pid);
  EXPECT_EQ(Show("jsn.service", "NRestarts"), "0");
  Systemctl({"start", "hello.service"});
  ASSERT_TRUE(juju_.WaitForEnded(1)) << ReadFile(daemon_log());
  Systemctl({"stop", "jsn.service"});
  EXPECT_EQ(Show("jsn.service", "Result"), "success") << ReadFile(daemon_log());
  EXPECT_EQ(HookList(juju_), (Hooks{"app/0 hooks/service-hello-started"}));
}

TEST_F(DaemonAsNotifyService, SighupReloadsAndComesBackReady) {
  StartManager("ExecReload=/bin/kill -HUP $MAINPID\n");
  Systemctl({"start", "jsn.service"});
  Systemctl({"reload", "jsn.service"});
  ASSERT_TRUE(WaitForLogLines("received SIGHUP", 1));
  // RELOADING=1 then READY=1 once every state is re-read: systemd shows it active again.
  ASSERT_TRUE(WaitForLogLines("hello.service: inactive", 1));
  Systemctl({"start", "hello.service"});
  ASSERT_TRUE(juju_.WaitForEnded(1)) << ReadFile(daemon_log());
  EXPECT_EQ(Show("jsn.service", "ActiveState"), "active");
  EXPECT_EQ(Show("jsn.service", "StatusText"), "re-read every state; watching");
  Systemctl({"stop", "jsn.service"});
  EXPECT_EQ(HookList(juju_), (Hooks{"app/0 hooks/service-hello-started"}));
}

}  // namespace
}  // namespace jsn::testing
