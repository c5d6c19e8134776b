// The daemon's loop keeps serving whatever the bus does: a bus that accepts and never answers
// (at start-up or on a reconnect), a listener whose backlog is full, a flood of unicast signals
// (through the bus, or from a proxy faster than the daemon reads), a bus lost during SIGHUP's
// re-read or while stopping, and stderr on a pipe nobody reads. Each test
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

#include "jsn/bus/connection.h"
#include "jsn/bus/framer.h"
#include "jsn/wire/writer.h"
#include "support/daemon_under_test.h"
#include "support/fake_juju_exec.h"
#include "support/fake_systemd.h"
#include "support/private_bus.h"
#include "support/source_tree.h"

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

// The peer end of one connection has not closed: what it sent read, and no end of stream.
bool StillConnected(int fd) {
  char buffer[256];
  ssize_t got;
  while ((got = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT)) > 0) {
  }
  return got < 0 && errno == EAGAIN;
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

// Connecting at start-up is a step of the loop too: SIGTERM ends a daemon whose bus never
// answered, while the attempt still waits.
TEST_F(DaemonKeepsServing, AtStartUpASilentBusHoldsNoSignalOrWatchdogBack) {
  TempDir directory;
  int listener = BoundSocket(SOCK_STREAM, directory.Join("silent"));
  ASSERT_GE(listener, 0);
  ASSERT_EQ(listen(listener, 8), 0);
  ASSERT_TRUE(daemon_.Launch("unix:path=" + directory.Join("silent"), juju_.path(), {"foo"}));
  ASSERT_TRUE(Readable(listener, std::chrono::seconds(30)));
  int silent = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(silent, 0);
  notify_.Drain();
  ASSERT_TRUE(notify_.WaitFor("WATCHDOG=1"));
  EXPECT_TRUE(StillConnected(silent));
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.Log();
  EXPECT_EQ(notify_.Find("READY=1"), -1) << notify_.All();
  close(silent);
  close(listener);
}

TEST_F(DaemonKeepsServing, NoBusAtStartUpEndsTheDaemonWithStatus1) {
  TempDir directory;
  ASSERT_TRUE(daemon_.Launch("unix:path=" + directory.Join("none"), juju_.path(), {"foo"}));
  EXPECT_EQ(daemon_.WaitForExit(), 1) << daemon_.Log();
  EXPECT_EQ(daemon_.CountLines("cannot connect to the bus"), 1u) << daemon_.Log();
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

// Between the daemon and the bus: forwards every byte, and while flooding() puts unicast
// signals between the bus's messages as fast as the daemon's socket takes them, so that its
// socket is never empty for long. A bus cannot flood that fast (it routes each message), so
// only a proxy can show that a batch ends by budget, not by an empty socket.
class FloodingProxy {
 public:
  FloodingProxy(const std::string& bus_socket)
      : bus_socket_(bus_socket), listener_(BoundSocket(SOCK_STREAM, directory_.Join("proxy"))) {
    listen(listener_, 1);
    thread_ = std::thread([this] { Run(); });
  }
  ~FloodingProxy() {
    quit_ = true;
    thread_.join();
    close(listener_);
  }
  std::string address() const { return "unix:path=" + directory_.Join("proxy"); }
  void Flood() { flooding_ = true; }
  uint64_t flooded() const { return flooded_; }
  // Waits (bounded) until `count` flood messages have been queued for the daemon.
  ::testing::AssertionResult WaitForFlooded(uint64_t count) const {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (flooded_ < count) {
      if (std::chrono::steady_clock::now() > deadline) {
        return ::testing::AssertionFailure() << flooded_ << " of " << count << " flooded";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return ::testing::AssertionSuccess();
  }

 private:
  void Run() {
    pollfd accepting{listener_, POLLIN, 0};
    while (!quit_ && poll(&accepting, 1, 100) != 1) {
    }
    if (quit_) return;
    int daemon = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    int bus = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    memcpy(address.sun_path, bus_socket_.c_str(), bus_socket_.size() + 1);
    if (daemon < 0 || connect(bus, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      return;
    }
    // Megabytes in flight: the daemon has a long way to read before the socket could run dry,
    // and the proxy refills it long before (as root; otherwise up to net.core.wmem_max).
    int size = 16 << 20;
    if (setsockopt(daemon, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) != 0) {
      setsockopt(daemon, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    }
    std::string flood = FloodChunk();
    std::string to_daemon;    // whole messages (or the auth lines), in order
    std::string auth_server;  // the bus's bytes until its OK line has passed
    bool framed = false;
    Framer framer;
    char buffer[65536];
    while (!quit_) {
      bool want_out = !to_daemon.empty() || flooding_;
      pollfd fds[2] = {{daemon, static_cast<short>(POLLIN | (want_out ? POLLOUT : 0)), 0},
                       {bus, POLLIN, 0}};
      if (poll(fds, 2, 100) <= 0) continue;
      if (fds[0].revents & (POLLIN | POLLHUP)) {
        ssize_t got = recv(daemon, buffer, sizeof buffer, 0);
        if (got == 0) break;
        if (got > 0 && send(bus, buffer, static_cast<size_t>(got), MSG_NOSIGNAL) != got) break;
      }
      if (fds[1].revents & (POLLIN | POLLHUP)) {
        if (!framed) {
          ssize_t got = recv(bus, buffer, sizeof buffer, 0);
          if (got <= 0) break;
          to_daemon.append(buffer, static_cast<size_t>(got));  // AUTH's answers, whole lines
          framed = to_daemon.find("OK ") != std::string::npos;
        } else {
          std::span<uint8_t> space;
          if (!framer.ReceiveSpace(&space).ok()) break;
          ssize_t got = recv(bus, space.data(), space.size(), 0);
          if (got <= 0) break;
          framer.Received(static_cast<size_t>(got));
          std::span<const uint8_t> message;
          while (framer.Next(&message).ok() && !message.empty()) {
            to_daemon.append(reinterpret_cast<const char*>(message.data()), message.size());
          }
        }
      }
      if (fds[0].revents & POLLOUT) {
        if (to_daemon.empty() && flooding_ && framed) {
          to_daemon = flood;
          flooded_ += kChunkMessages;
        }
        ssize_t sent = send(daemon, to_daemon.data(), to_daemon.size(), MSG_NOSIGNAL);
        if (sent > 0) to_daemon.erase(0, static_cast<size_t>(sent));
      }
    }
    close(daemon);
    close(bus);
  }

  static constexpr int kChunkMessages = 16384;
  static std::string FloodChunk() {
    std::string chunk;
    for (int i = 0; i < kChunkMessages; ++i) {
      HeaderFields fields;
      fields.type = MessageType::kSignal;
      fields.serial = 1;
      fields.path = "/flood";
      fields.interface = "org.example.Flood";
      fields.member = "Ping";
      fields.sender = ":1.999";
      uint8_t buffer[256];
      Writer writer(buffer);
      writer.Begin(fields);
      std::span<const uint8_t> message;
      if (!writer.Finish(&message).ok()) return "";
      chunk.append(reinterpret_cast<const char*>(message.data()), message.size());
    }
    return chunk;
  }

  TempDir directory_;
  std::string bus_socket_;
  int listener_;
  std::thread thread_;
  std::atomic<bool> quit_{false};
  std::atomic<bool> flooding_{false};
  std::atomic<uint64_t> flooded_{0};
};

// The flood arrives faster than the daemon reads it: without a budget it would read forever
// (the daemon before the budget, tried here, delivered late and never served the SIGTERM).
// With it, the hook runs and SIGTERM ends the daemon while the flood goes on.
TEST_F(DaemonKeepsServing, ASocketThatNeverRunsDryDoesNotHoldTheHookBack) {
  FloodingProxy proxy(bus_.socket_path());
  ASSERT_TRUE(daemon_.Start(proxy.address(), juju_.path(), {"foo"}));
  proxy.Flood();
  ASSERT_TRUE(proxy.WaitForFlooded(200000));
  ASSERT_TRUE(systemd_.SetState("foo.service", "active"));
  ASSERT_TRUE(juju_.WaitForEnded(1));
  // The flood went on meanwhile, and still does.
  EXPECT_TRUE(proxy.WaitForFlooded(proxy.flooded() + 100000));
  EXPECT_EQ(daemon_.Stop(), 0);
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
  std::vector<std::string> args = {DaemonPath(),  "-d",         "--unit", "app/0",
                                   "--juju-exec", juju_.path(), "--bus",  bus_.address(),
                                   "--state-dir", state.path(), "foo"};
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
