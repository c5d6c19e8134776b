// The daemon's loop keeps serving whatever the bus does: a bus that accepts and never answers,
// a listener whose backlog is full, a flood of unicast signals from another connection, a bus
// lost during SIGHUP's re-read or while stopping, and stderr on a pipe nobody reads. Each test
// asserts what the daemon did and in which order (datagrams on its NOTIFY_SOCKET, the fake
// juju-exec's records, its log and exit status), never how long it took.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "jsn/connection.h"
#include "jsn/writer.h"
#include "support/daemon_under_test.h"
#include "support/fake_juju_exec.h"
#include "support/fake_systemd.h"
#include "support/private_bus.h"

namespace jsn::testing {
namespace {

using Hooks = std::vector<std::string>;

// A unix socket of `type` bound at `path` (any file there replaced); -1 on failure.
int BoundSocket(int type, const std::string& path) {
  int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (fd < 0 || path.size() >= sizeof address.sun_path) return -1;
  memcpy(address.sun_path, path.c_str(), path.size() + 1);
  unlink(path.c_str());
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool Readable(int fd, std::chrono::milliseconds timeout) {
  pollfd entry{fd, POLLIN, 0};
  return poll(&entry, 1, static_cast<int>(timeout.count())) == 1;
}

// The daemon's NOTIFY_SOCKET: every datagram it sent, in order.
class NotifySocket {
 public:
  NotifySocket() : fd_(BoundSocket(SOCK_DGRAM, directory_.Join("notify"))) {}
  ~NotifySocket() {
    if (fd_ >= 0) close(fd_);
  }
  std::string path() const { return directory_.Join("notify"); }
  // Reads datagrams (bounded) until one contains `text`.
  ::testing::AssertionResult WaitFor(const std::string& text) {
    for (;;) {
      char buffer[4096];
      if (!Readable(fd_, std::chrono::seconds(30))) {
        return ::testing::AssertionFailure() << "no datagram with \"" << text << "\"; got:\n"
                                             << All();
      }
      ssize_t got = recv(fd_, buffer, sizeof buffer, 0);
      if (got <= 0) return ::testing::AssertionFailure() << "recv: " << strerror(errno);
      received_.emplace_back(buffer, static_cast<size_t>(got));
      if (received_.back().find(text) != std::string::npos) return ::testing::AssertionSuccess();
    }
  }
  // Forgets what came so far (read and unread).
  void Drain() {
    char buffer[4096];
    while (recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT) > 0) {
    }
    received_.clear();
  }
  // The index of the first datagram read containing `text`, or -1.
  int Find(const std::string& text, size_t from = 0) const {
    for (size_t i = from; i < received_.size(); ++i) {
      if (received_[i].find(text) != std::string::npos) return static_cast<int>(i);
    }
    return -1;
  }
  std::string All() const {
    std::string all;
    for (const std::string& datagram : received_) all += "[" + datagram + "]\n";
    return all;
  }

 private:
  TempDir directory_;
  int fd_;
  std::vector<std::string> received_;
};

// The peer end of one connection has not closed: nothing to read and no end of stream.
bool StillConnected(int fd) {
  char byte;
  return recv(fd, &byte, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN;
}

class DaemonKeepsServing : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(bus_.Start());
    ASSERT_TRUE(systemd_.Start(bus_.address(), {"foo.service=inactive"}));
    daemon_.SetEnvironment({"NOTIFY_SOCKET=" + notify_.path(), "WATCHDOG_USEC=200000"});
  }
  void StartDaemon() {
    ASSERT_TRUE(daemon_.Start(bus_.address(), juju_.path(), {"foo"}));
    ASSERT_TRUE(notify_.WaitFor("READY=1"));
  }
  // foo starts; its hook begins and waits at the gate "go".
  void StartAHookThatWaits() {
    ASSERT_TRUE(juju_.SetRules("* wait=" + juju_.GatePath("go") + "\n"));
    ASSERT_TRUE(systemd_.SetState("foo.service", "active"));
    ASSERT_TRUE(juju_.WaitForBegun(1));
  }

  PrivateBus bus_;
  FakeSystemd systemd_;
  FakeJujuExec juju_;
  NotifySocket notify_;
  DaemonUnderTest daemon_;
};

TEST_F(DaemonKeepsServing, ABusThatAcceptsAndNeverAnswersHoldsNoHookWatchdogOrSignalBack) {
  StartDaemon();
  StartAHookThatWaits();
  bus_.Stop(SIGKILL);
  ASSERT_TRUE(daemon_.WaitForLine("lost the bus connection"));
  // A "bus" at the same path that accepts and then says nothing.
  int listener = BoundSocket(SOCK_STREAM, bus_.socket_path());
  ASSERT_GE(listener, 0);
  ASSERT_EQ(listen(listener, 8), 0);
  ASSERT_TRUE(Readable(listener, std::chrono::seconds(30))) << daemon_.Log();
  int silent = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(silent, 0);
  char auth[64];
  ASSERT_TRUE(Readable(silent, std::chrono::seconds(30)));
  ASSERT_GT(recv(silent, auth, sizeof auth, 0), 0);  // its AUTH, which nobody answers
  // Meanwhile, with the attempt still waiting: the watchdog is pinged ...
  notify_.Drain();
  ASSERT_TRUE(notify_.WaitFor("WATCHDOG=1"));
  ASSERT_TRUE(notify_.WaitFor("WATCHDOG=1"));
  // ... the hook's end is seen (reaped and logged) ...
  ASSERT_TRUE(juju_.OpenGate("go"));
  ASSERT_TRUE(daemon_.WaitForLine("service-foo-started: exit 0"));
  // ... and SIGTERM ends the daemon, all before the attempt let go of the silent peer.
  EXPECT_TRUE(StillConnected(silent)) << daemon_.Log();
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.Log();
  EXPECT_TRUE(notify_.WaitFor("STOPPING=1"));
  EXPECT_EQ(daemon_.CountLines("cannot reconnect yet (expected Hello"), 0u) << daemon_.Log();
  close(silent);
  close(listener);
}

TEST_F(DaemonKeepsServing, AFullBacklogIsRetriedWithTheBackoffUntilTheBusIsBack) {
  StartDaemon();
  bus_.Stop(SIGKILL);
  ASSERT_TRUE(daemon_.WaitForLine("lost the bus connection"));
  // A listener that never accepts, its backlog filled: connect() fails with EAGAIN.
  int listener = BoundSocket(SOCK_STREAM, bus_.socket_path());
  ASSERT_GE(listener, 0);
  ASSERT_EQ(listen(listener, 0), 0);
  std::vector<int> fillers;
  for (;;) {
    int filler = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    memcpy(address.sun_path, bus_.socket_path().c_str(), bus_.socket_path().size() + 1);
    fillers.push_back(filler);
    if (connect(filler, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ASSERT_EQ(errno, EAGAIN);
      break;
    }
  }
  ASSERT_TRUE(daemon_.WaitForLines("Resource temporarily unavailable); next try in", 2))
      << daemon_.Log();
  for (int fd : fillers) close(fd);
  close(listener);
  // The bus comes back (foo started meanwhile): the next try connects and delivers.
  ASSERT_TRUE(bus_.Start());
  FakeSystemd after;
  ASSERT_TRUE(after.Start(bus_.address(), {"foo.service=active"}));
  ASSERT_TRUE(daemon_.WaitForLine("watching again after the reconnect"));
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.Log();
  EXPECT_EQ(HookList(juju_), (Hooks{"app/0 hooks/service-foo-started"}));
}

// Another connection on the bus sends the daemon unicast signals without pause while foo
// starts: foo's hook still runs, with the flood still going.
TEST_F(DaemonKeepsServing, AFloodOfUnicastSignalsDoesNotHoldTheHookBack) {
  StartDaemon();
  std::string daemon_name = daemon_.UniqueName();
  ASSERT_FALSE(daemon_name.empty()) << daemon_.Log();
  Connection flooder;
  ASSERT_TRUE(flooder.Open(bus_.address()).ok());
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> sent{0};
  std::thread flood([&] {
    while (!stop) {
      HeaderFields fields;
      fields.type = MessageType::kSignal;
      fields.serial = flooder.NextSerial();
      fields.path = "/flood";
      fields.interface = "org.example.Flood";
      fields.member = "Ping";
      fields.destination = daemon_name;
      uint8_t buffer[256];
      Writer writer(buffer);
      writer.Begin(fields);
      std::span<const uint8_t> message;
      if (!writer.Finish(&message).ok()) return;
      Status status = flooder.Send(message);
      if (status.ok()) {
        ++sent;
      } else if (!flooder.is_open()) {
        return;
      } else {
        pollfd entry{flooder.fd(), POLLOUT, 0};
        poll(&entry, 1, 100);
        (void)flooder.Flush();
      }
      // The bus's replies (errors, NameAcquired) are read and dropped.
      Incoming incoming;
      bool have = true;
      while (have && flooder.Receive(&incoming, &have).ok()) {
      }
    }
  });
  // Well under way before foo starts.
  while (sent < 20000 && flooder.is_open()) std::this_thread::yield();
  ASSERT_TRUE(systemd_.SetState("foo.service", "active"));
  bool began = juju_.WaitForBegun(1);
  uint64_t sent_when_begun = sent;
  while (sent < sent_when_begun + 1000 && flooder.is_open()) std::this_thread::yield();
  bool flooding = flooder.is_open();
  stop = true;
  flood.join();
  ASSERT_TRUE(began) << daemon_.Log();
  EXPECT_TRUE(flooding) << "the flood stopped before the hook began";
  ASSERT_TRUE(juju_.WaitForEnded(1));
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.Log();
  EXPECT_EQ(HookList(juju_), (Hooks{"app/0 hooks/service-foo-started"}));
}

TEST_F(DaemonKeepsServing, ReadyAfterAReloadWaitsForTheStatesOfTheReconnect) {
  StartDaemon();
  ASSERT_TRUE(systemd_.Command("hold-gets"));
  kill(daemon_.pid(), SIGHUP);
  ASSERT_TRUE(notify_.WaitFor("RELOADING=1"));
  // The bus goes while the re-read's Gets are held; foo starts meanwhile.
  bus_.Stop(SIGKILL);
  ASSERT_TRUE(daemon_.WaitForLine("lost the bus connection"));
  ASSERT_TRUE(bus_.Start());
  FakeSystemd after;
  ASSERT_TRUE(after.Start(bus_.address(), {"foo.service=active"}));
  ASSERT_TRUE(notify_.WaitFor("READY=1"));
  int reloading = notify_.Find("RELOADING=1");
  int watching = notify_.Find("watching again after a reconnect", static_cast<size_t>(reloading));
  int ready = notify_.Find("READY=1", static_cast<size_t>(reloading));
  EXPECT_GE(watching, 0) << notify_.All();
  EXPECT_GT(ready, watching) << notify_.All();
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.Log();
}

TEST_F(DaemonKeepsServing, ABusLostWhileStoppingEndsTheStopWithStatusZero) {
  StartDaemon();
  StartAHookThatWaits();
  kill(daemon_.pid(), SIGTERM);
  ASSERT_TRUE(daemon_.WaitForLine("stopping once running hooks end"));
  bus_.Stop(SIGKILL);
  ASSERT_TRUE(daemon_.WaitForLine("lost the bus connection"));
  ASSERT_TRUE(juju_.OpenGate("go"));
  EXPECT_EQ(daemon_.WaitForExit(), 0) << daemon_.Log();
  EXPECT_EQ(daemon_.CountLines("service-foo-started: exit 0"), 1u) << daemon_.Log();
}

// Outside systemd, with stdout and stderr on a pipe whose reader has gone: every log line's
// write fails with EPIPE, and the daemon runs on (SIGPIPE would kill it at the first line).
TEST_F(DaemonKeepsServing, StderrOnAClosedPipeDoesNotKillIt) {
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  close(pipe_fds[0]);
  TempDir state;
  std::vector<std::string> args = {DaemonUnderTest::Program(),
                                   "-d",
                                   "--unit",
                                   "app/0",
                                   "--juju-exec",
                                   juju_.path(),
                                   "--bus",
                                   bus_.address(),
                                   "--state-dir",
                                   state.path(),
                                   "foo"};
  if (!DaemonUnderTest::Launcher().empty()) args.insert(args.begin(), DaemonUnderTest::Launcher());
  std::vector<std::string> environment =
      EnvironmentWith({"NOTIFY_SOCKET=" + notify_.path(), "WATCHDOG_USEC=200000"});
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (std::string& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    signal(SIGPIPE, SIG_DFL);
    dup2(pipe_fds[1], 1);
    dup2(pipe_fds[1], 2);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  bool ready = notify_.WaitFor("READY=1");
  bool delivered = ready && systemd_.SetState("foo.service", "active") && juju_.WaitForEnded(1);
  kill(pid, SIGTERM);
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) kill(pid, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(ready) << notify_.All();
  EXPECT_TRUE(delivered);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "wait status " << status << (WIFSIGNALED(status) ? " (killed by a signal)" : "");
}

}  // namespace
}  // namespace jsn::testing
