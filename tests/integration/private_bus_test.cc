// The test fixtures themselves: a private bus that answers real peers, restarts at the same
// address, and leaves no process or file behind; peer processes captured and bounded.
#include "support/private_bus.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

namespace jsn::testing {
namespace {

CommandResult GetId(const PrivateBus& bus) {
  return bus.RunPeer({"dbus-send", "--bus=" + bus.address(), "--print-reply",
                      "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
                      "org.freedesktop.DBus.GetId"});
}

TEST(PrivateBus, AnswersAPeerAtItsAddress) {
  PrivateBus bus;
  ASSERT_TRUE(bus.Start());
  EXPECT_EQ(bus.address(), "unix:path=" + bus.socket_path());
  CommandResult result = GetId(bus);
  EXPECT_TRUE(result.succeeded()) << result.Describe() << ": " << result.output;
  EXPECT_NE(result.output.find("string \""), std::string::npos) << result.output;
}

TEST(PrivateBus, PeerEnvironmentNamesTheBusAsSessionAndSystemBus) {
  PrivateBus bus;
  ASSERT_TRUE(bus.Start());
  CommandResult result = bus.RunPeer({"dbus-send", "--system", "--print-reply",
                                      "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
                                      "org.freedesktop.DBus.GetId"});
  EXPECT_TRUE(result.succeeded()) << result.Describe() << ": " << result.output;
  result = bus.RunPeer({"sh", "-c", "echo \"$DBUS_SESSION_BUS_ADDRESS\""});
  EXPECT_EQ(result.output, bus.address() + "\n");
}

TEST(PrivateBus, RestartsAtTheSameAddressAfterACrash) {
  PrivateBus bus;
  ASSERT_TRUE(bus.Start());
  std::string address = bus.address();
  pid_t first = bus.pid();
  bus.Stop(SIGKILL);
  EXPECT_FALSE(bus.running());
  struct stat info;
  EXPECT_EQ(stat(bus.socket_path().c_str(), &info), 0) << "a crash leaves the socket file";
  EXPECT_FALSE(GetId(bus).succeeded());
  ASSERT_TRUE(bus.Start());
  EXPECT_NE(bus.pid(), first);
  EXPECT_EQ(bus.address(), address);
  CommandResult result = GetId(bus);
  EXPECT_TRUE(result.succeeded()) << result.Describe() << ": " << result.output;
}

TEST(PrivateBus, DestructorReapsTheDaemonAndRemovesTheDirectory) {
  pid_t pid;
  std::string directory;
  {
    PrivateBus bus;
    ASSERT_TRUE(bus.Start());
    pid = bus.pid();
    directory = bus.directory();
    struct stat info;
    ASSERT_EQ(stat(directory.c_str(), &info), 0);
  }
  // Reaped: the PID no longer names our child (kill reports ESRCH, not a zombie's success).
  EXPECT_EQ(kill(pid, 0), -1);
  struct stat info;
  EXPECT_EQ(stat(directory.c_str(), &info), -1);
}

TEST(RunProcess, CapturesOutputErrorAndExitStatus) {
  ProcessResult result =
      RunProcess({"sh", "-c", "echo out; echo err >&2; echo \"$JSN_X\"; exit 3"},
                 {"JSN_X=from-the-test"});
  EXPECT_TRUE(result.started);
  EXPECT_FALSE(result.timed_out);
  EXPECT_EQ(result.exit_status, 3);
  EXPECT_EQ(result.out, "out\nfrom-the-test\n");
  EXPECT_EQ(result.err, "err\n");
  EXPECT_FALSE(result.Succeeded());
}

TEST(RunProcess, KillsAndReapsAProcessPastItsDeadline) {
  ProcessResult result = RunProcess({"sleep", "30"}, {}, 100);
  EXPECT_TRUE(result.timed_out);
  EXPECT_FALSE(result.Succeeded());
}

TEST(RunProcess, MissingProgramExits127) {
  ProcessResult result = RunProcess({"/nonexistent/program"}, {});
  EXPECT_EQ(result.exit_status, 127);
}

TEST(BackgroundProcess, StopKillsAndReportsTheSignal) {
  BackgroundProcess process;
  ASSERT_TRUE(process.Start({"sleep", "30"}, {}));
  ProcessResult result;
  EXPECT_FALSE(process.Exited(&result));
  result = process.Stop(SIGTERM);
  EXPECT_EQ(result.signal, SIGTERM);
  EXPECT_FALSE(process.running());
}

TEST(BackgroundProcess, ExitedReapsAFinishedProcess) {
  BackgroundProcess process;
  ASSERT_TRUE(process.Start({"sh", "-c", "exit 4"}, {}));
  ProcessResult result;
  ASSERT_TRUE(process.WaitForExit(10000, &result));
  EXPECT_FALSE(process.running());
  EXPECT_EQ(result.exit_status, 4);
}

}  // namespace
}  // namespace jsn::testing
