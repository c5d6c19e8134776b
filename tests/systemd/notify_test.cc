// The sd_notify client against datagram sockets of the test's own: a path and an abstract name.
#include "jsn/systemd/notify.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace jsn {
namespace {

// A bound datagram socket that receives what the Notifier sends.
class Receiver {
 public:
  // `name` is a path, or "@name" for the abstract namespace.
  explicit Receiver(const std::string& name) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address = {};
    address.sun_family = AF_UNIX;
    memcpy(address.sun_path, name.data(), name.size());
    socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    if (name[0] == '@') {
      address.sun_path[0] = '\0';
    } else {
      length += 1;
    }
    bound_ = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&address), length) == 0;
  }
  ~Receiver() {
    if (fd_ >= 0) close(fd_);
  }
  bool bound() const { return bound_; }
  std::string Receive() {
    char buffer[4096];
    ssize_t got = recv(fd_, buffer, sizeof buffer, 0);  // blocking: the datagram was sent
    return got < 0 ? std::string("<error>") : std::string(buffer, static_cast<size_t>(got));
  }

 private:
  int fd_ = -1;
  bool bound_ = false;
};

TEST(NotifierTest, SendsOneDatagramToAPathSocket) {
  const char* tmpdir = getenv("TMPDIR");
  std::string pattern = std::string(tmpdir != nullptr ? tmpdir : "/tmp") + "/jsn-notify-XXXXXX";
  ASSERT_LT(pattern.size(), 80u);  // the socket path must fit sun_path
  char* directory = pattern.data();
  ASSERT_NE(mkdtemp(directory), nullptr);
  std::string path = std::string(directory) + "/notify";
  {
    Receiver receiver(path);
    ASSERT_TRUE(receiver.bound());
    Notifier notifier;
    ASSERT_TRUE(notifier.Open(path.c_str()).ok());
    EXPECT_TRUE(notifier.enabled());
    ASSERT_TRUE(notifier.Send("READY=1\nSTATUS=watching 2 units\n").ok());
    EXPECT_EQ(receiver.Receive(), "READY=1\nSTATUS=watching 2 units\n");
    ASSERT_TRUE(notifier.Send("STOPPING=1\n").ok());
    EXPECT_EQ(receiver.Receive(), "STOPPING=1\n");
  }
  unlink(path.c_str());
  rmdir(directory);
}

TEST(NotifierTest, ALeadingAtMeansTheAbstractNamespace) {
  std::string name = "@jsn-notify-test-" + std::to_string(getpid());
  Receiver receiver(name);
  ASSERT_TRUE(receiver.bound());
  Notifier notifier;
  ASSERT_TRUE(notifier.Open(name.c_str()).ok());
  ASSERT_TRUE(notifier.Send("WATCHDOG=1\n").ok());
  EXPECT_EQ(receiver.Receive(), "WATCHDOG=1\n");
}

TEST(NotifierTest, UnsetSocketDisablesNotificationsQuietly) {
  Notifier notifier;
  ASSERT_TRUE(notifier.Open(nullptr).ok());
  EXPECT_FALSE(notifier.enabled());
  EXPECT_TRUE(notifier.Send("READY=1\n").ok());
  ASSERT_TRUE(notifier.Open("").ok());
  EXPECT_FALSE(notifier.enabled());
}

TEST(NotifierTest, RelativeOrOverlongSocketNamesAreRejected) {
  Notifier notifier;
  Status status = notifier.Open("relative/notify");
  EXPECT_EQ(std::string(status.rule()), "invalid-notify-socket");
  EXPECT_NE(std::string(status.message()).find("relative/notify"), std::string::npos);
  EXPECT_FALSE(notifier.enabled());
  std::string long_path = "/" + std::string(200, 'x');
  EXPECT_EQ(std::string(notifier.Open(long_path.c_str()).rule()), "invalid-notify-socket");
  EXPECT_EQ(std::string(notifier.Open("@").rule()), "invalid-notify-socket");
}

TEST(NotifierTest, SendingToAMissingSocketIsAnErrorNotACrash) {
  Notifier notifier;
  ASSERT_TRUE(notifier.Open("/nonexistent/jsn/notify").ok());
  EXPECT_EQ(std::string(notifier.Send("READY=1\n").rule()), "notify-send");
}

TEST(WatchdogPingIntervalTest, PingsAtHalfTheWatchdogTimeout) {
  EXPECT_EQ(WatchdogPingInterval("2000000", nullptr, 42), std::chrono::milliseconds(1000));
  EXPECT_EQ(WatchdogPingInterval("2000000", "42", 42), std::chrono::milliseconds(1000));
}

TEST(WatchdogPingIntervalTest, AnotherProcessesWatchdogOrNoneIsNever) {
  EXPECT_EQ(WatchdogPingInterval(nullptr, nullptr, 42), kNever);
  EXPECT_EQ(WatchdogPingInterval("", nullptr, 42), kNever);
  EXPECT_EQ(WatchdogPingInterval("2000000", "43", 42), kNever);
  EXPECT_EQ(WatchdogPingInterval("0", nullptr, 42), kNever);
  EXPECT_EQ(WatchdogPingInterval("-5", nullptr, 42), kNever);
  EXPECT_EQ(WatchdogPingInterval("12abc", nullptr, 42), kNever);
  EXPECT_EQ(WatchdogPingInterval("2000000", "x", 42), kNever);
  EXPECT_EQ(WatchdogPingInterval("2000000", "+42", 42), kNever);
  EXPECT_EQ(WatchdogPingInterval("18446744073709551616", nullptr, 42), kNever);  // past 64 bits
  // 2^64 + 42 would be 42 to a parser that wrapped around.
  EXPECT_EQ(WatchdogPingInterval("2000000", "18446744073709551658", 42), kNever);
}

}  // namespace
}  // namespace jsn
