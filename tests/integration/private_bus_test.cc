// The test fixtures themselves: a private bus that answers real peers, restarts at the same
// address, and leaves no process or file behind (the process runner: child_process_test.cc).
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
  CommandResult result =
      bus.RunPeer({"dbus-send", "--system", "--print-reply", "--dest=org.freedesktop.DBus",
                   "/org/freedesktop/DBus", "org.freedesktop.DBus.GetId"});
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

}  // namespace
}  // namespace jsn::testing
