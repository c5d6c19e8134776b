// What the daemon tells its service manager: the exact datagrams, received on a unix datagram
// socket of the test's own given as $NOTIFY_SOCKET (as systemd's is), and the watchdog's
// schedule with time given as an argument.
#include "jsn/daemon/service_manager_link.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>

namespace jsn {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A bound datagram socket in the abstract namespace ("@name"), as $NOTIFY_SOCKET names it.
// Non-blocking: a datagram is queued on it before Send returns, so "nothing sent" is an empty
// receive, not a wait.
class NotifySocket {
 public:
  NotifySocket() {
    static int count = 0;
    name_ = "@jsn-service-manager-link-test-" + std::to_string(getpid()) + "-" +
            std::to_string(++count);
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un address = {};
    address.sun_family = AF_UNIX;
    memcpy(address.sun_path, name_.data(), name_.size());
    address.sun_path[0] = '\0';
    socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size());
    bound_ = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&address), length) == 0;
  }
  ~NotifySocket() {
    if (fd_ >= 0) close(fd_);
  }
  bool bound() const { return bound_; }
  const char* name() const { return name_.c_str(); }
  // The next datagram, or "" when none was sent.
  std::string Receive() {
    char buffer[4096];
    ssize_t got = recv(fd_, buffer, sizeof buffer, 0);
    return got < 0 ? std::string() : std::string(buffer, static_cast<size_t>(got));
  }

 private:
  std::string name_;
  int fd_ = -1;
  bool bound_ = false;
};

const MonotonicTime kStart = seconds(50);

TEST(ServiceManagerLink, ReadyNamesTheUnitsWatchedAndTheJujuUnit) {
  NotifySocket manager;
  ASSERT_TRUE(manager.bound());
  ServiceManagerLink link;
  link.Open(manager.name(), nullptr, nullptr, kStart);
  link.Ready(2, "app/0");
  EXPECT_EQ(manager.Receive(), "READY=1\nSTATUS=watching 2 units for app/0\n");
  link.Ready(1, "app/1");
  EXPECT_EQ(manager.Receive(), "READY=1\nSTATUS=watching 1 unit for app/1\n");
  EXPECT_EQ(manager.Receive(), "");
}

TEST(ServiceManagerLink, AReloadIsReloadingWithItsMonotonicTimeThenReadyOnce) {
  NotifySocket manager;
  ASSERT_TRUE(manager.bound());
  ServiceManagerLink link;
  link.Open(manager.name(), nullptr, nullptr, kStart);
  EXPECT_FALSE(link.reloading());
  link.FinishReload();  // no reload begun: nothing to end
  EXPECT_EQ(manager.Receive(), "");

  link.BeginReload(microseconds(1234567890));
  EXPECT_EQ(manager.Receive(),
            "RELOADING=1\nSTATUS=re-reading every state\nMONOTONIC_USEC=1234567890\n");
  EXPECT_TRUE(link.reloading());
  link.FinishReload();
  EXPECT_EQ(manager.Receive(), "READY=1\nSTATUS=re-read every state; watching\n");
  EXPECT_FALSE(link.reloading());
  link.FinishReload();
  EXPECT_EQ(manager.Receive(), "");
}

TEST(ServiceManagerLink, StoppingAndStatusLinesAreSentAsTheyAre) {
  NotifySocket manager;
  ASSERT_TRUE(manager.bound());
  ServiceManagerLink link;
  link.Open(manager.name(), nullptr, nullptr, kStart);
  link.SendStatus("bus connection lost; reconnecting");
  EXPECT_EQ(manager.Receive(), "STATUS=bus connection lost; reconnecting\n");
  link.SendStatus("watching again after a reconnect");
  EXPECT_EQ(manager.Receive(), "STATUS=watching again after a reconnect\n");
  link.Stopping();
  EXPECT_EQ(manager.Receive(), "STOPPING=1\nSTATUS=stopping once running hooks end\n");
  EXPECT_EQ(manager.Receive(), "");
}

TEST(ServiceManagerLink, TheWatchdogIsPingedAtOnceThenAtHalfItsTimeout) {
  NotifySocket manager;
  ASSERT_TRUE(manager.bound());
  ServiceManagerLink link;
  std::string self = std::to_string(getpid());
  link.Open(manager.name(), "2000000", self.c_str(), kStart);
  EXPECT_EQ(link.next_watchdog_ping(), kStart);
  link.PingWatchdogIfDue(kStart);
  EXPECT_EQ(manager.Receive(), "WATCHDOG=1\n");
  EXPECT_EQ(link.next_watchdog_ping(), kStart + seconds(1));
  link.PingWatchdogIfDue(kStart + milliseconds(999));
  EXPECT_EQ(manager.Receive(), "");
  // Late (the loop was busy): the next ping is an interval after this one, not before.
  link.PingWatchdogIfDue(kStart + milliseconds(1500));
  EXPECT_EQ(manager.Receive(), "WATCHDOG=1\n");
  EXPECT_EQ(link.next_watchdog_ping(), kStart + milliseconds(2500));
}

TEST(ServiceManagerLink, AWatchdogMeantForAnotherProcessIsNotPinged) {
  NotifySocket manager;
  ASSERT_TRUE(manager.bound());
  ServiceManagerLink link;
  std::string other = std::to_string(getpid() + 1);
  link.Open(manager.name(), "2000000", other.c_str(), kStart);
  EXPECT_EQ(link.next_watchdog_ping(), kNever);
  link.PingWatchdogIfDue(kStart + seconds(3600));
  EXPECT_EQ(manager.Receive(), "");
}

TEST(ServiceManagerLink, WithoutAUsableNotifySocketEveryCallIsANoOpAndNoWatchdogIsDue) {
  for (const char* unusable : {static_cast<const char*>(nullptr), "", "relative/path"}) {
    ServiceManagerLink link;
    link.Open(unusable, "2000000", nullptr, kStart);  // a bad one is logged, not fatal
    EXPECT_EQ(link.next_watchdog_ping(), kNever);
    link.PingWatchdogIfDue(kStart);
    link.Ready(1, "app/0");
    link.BeginReload(kStart);
    link.FinishReload();
    link.Stopping();
    link.SendStatus("anything");
    EXPECT_FALSE(link.reloading());
  }
}

}  // namespace
}  // namespace jsn
