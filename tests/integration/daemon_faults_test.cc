// The machine failing under the daemon: faults injected at the system-call level by Debian's
// strace (--inject), attached to the running daemon (its hooks are not traced), while it watches
// a real systemd user manager and runs a fake juju-exec. Each case ends with the hook last
// delivered matching the unit's state and a whole state file:
//   - SIGKILL at each system call of a state save (creating the temporary file, writing it,
//     fsync, rename, fsyncing the directory, held open since start-up): the file is the old one
//     or the new one, and the restarted daemon delivers what the killed one may not have;
//   - EIO and ENOSPC on the save: deliveries go on, the failure is logged once, a later save
//     succeeds;
//   - EAGAIN and ENOMEM when a hook is started: it is retried, not dropped;
//   - ECONNRESET and EPIPE on the bus socket: the daemon reconnects, and the change it missed
//     is delivered;
//   - EINTR on every other call of each blocking system call: nothing is lost or logged.
// The daemon runs without -d here, so that its own writes are few and known: the first write,
// openat and fsync after a transition are the state save's.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

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

constexpr const char* kSleeper = "[Service]\nExecStart=/bin/sleep infinity\n";
constexpr const char* kStopped = "juju-systemd-notices-state 1 app/0\nhello.service stopped\n";
constexpr const char* kStarted = "juju-systemd-notices-state 1 app/0\nhello.service started\n";

class DaemonFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(systemd_.WriteUnit("hello.service", kSleeper));
    ASSERT_TRUE(systemd_.Start());
  }
  void TearDown() override { EndInjection(); }

  void Systemctl(const std::vector<std::string>& args) {
    CommandResult result = systemd_.Systemctl(args);
    ASSERT_TRUE(result.succeeded())
        << "systemctl --user " << args[0] << ": " << result.Describe() << "\n"
        << result.output;
  }

  ::testing::AssertionResult StartDaemon(DaemonUnderTest* daemon, const std::string& state_dir) {
    daemon->WithoutDebug();
    daemon->UseStateDir(state_dir);
    return daemon->Start(systemd_.bus_address(), juju_.path(), {"hello"});
  }

  // Attaches strace to `pid` with `inject` (strace's -e inject=... expression) on the calls
  // named in `trace`; returns once the daemon is traced.
  ::testing::AssertionResult Inject(pid_t pid, const std::string& trace,
                                    const std::string& inject) {
    EndInjection();
    std::string error;
    if (!strace_.Start({"strace", "-qq", "-o", "/dev/null", "-p", std::to_string(pid), "-e",
                        "trace=" + trace, "-e", "inject=" + inject},
                       {}, &error)) {
      return ::testing::AssertionFailure() << "cannot start strace: " << error;
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      std::string status = ReadFile("/proc/" + std::to_string(pid) + "/status");
      size_t at = status.find("TracerPid:\t");
      if (at != std::string::npos && status.compare(at + 11, 2, "0\n") != 0) {
        return ::testing::AssertionSuccess();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return ::testing::AssertionFailure() << "strace did not attach to " << pid;
  }
  // Detaches strace (SIGTERM: it lets go of the daemon, which runs on untraced).
  void EndInjection() {
    if (strace_.running()) strace_.Stop(SIGTERM, std::chrono::seconds(10));
  }

  // The hooks run for hello since call `from`, "started" or "stopped".
  std::vector<std::string> HelloHooks(size_t from = 0) const {
    std::vector<std::string> hooks;
    std::vector<JujuExecCall> calls = juju_.Calls();
    for (size_t i = from; i < calls.size(); ++i) {
      std::string hook = calls[i].hook();
      hooks.push_back(hook.substr(hook.rfind('-') + 1));
    }
    return hooks;
  }

  ::testing::AssertionResult WaitForStateFile(const std::string& path, const std::string& text) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (ReadStateHooks(path) == text) return ::testing::AssertionSuccess();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return ::testing::AssertionFailure() << path << " is\n" << ReadFile(path);
  }

  UserSystemd systemd_;
  FakeJujuExec juju_;
  ChildProcess strace_;
};

TEST_F(DaemonFaults, KilledAtEachCallOfAStateSaveTheFileIsWholeAndNothingIsLost) {
  struct Case {
    const char* trace;  // the calls strace counts (and traces)
    const char* when;   // which of them, counting from the transition
    const char* what;
  };
  const Case cases[] = {
      {"openat", "1", "creating the temporary file"},
      {"write", "1", "writing it"},
      {"fsync", "1", "fsyncing it"},
      {"rename,renameat,renameat2", "1", "renaming it over the state file"},
      {"fsync", "2", "fsyncing the directory"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    TempDir state;
    Systemctl({"stop", "hello.service"});
    size_t before = juju_.Calls().size();
    {
      DaemonUnderTest daemon;
      ASSERT_TRUE(StartDaemon(&daemon, state.path()));
      ASSERT_TRUE(WaitForStateFile(state.Join("app-0.state"), kStopped));  // the baseline
      std::string inject = std::string(c.trace) + ":signal=KILL:when=" + c.when;
      ASSERT_TRUE(Inject(daemon.pid(), c.trace, inject));
      Systemctl({"start", "hello.service"});
      EXPECT_EQ(daemon.WaitForExit(), -1) << "not killed; its log:\n" << daemon.Log();
    }
    EndInjection();
    // Whole: the old file, or the new one (the delivery due recorded, not yet delivered).
    std::string after_kill = ReadStateHooks(state.Join("app-0.state"));
    EXPECT_TRUE(after_kill == kStopped ||
                after_kill == std::string(kStopped) + "pending hello.service started\n")
        << after_kill;
    // Restarted on the same state, the daemon delivers what the killed one may not have.
    DaemonUnderTest restarted;
    ASSERT_TRUE(StartDaemon(&restarted, state.path()));
    ASSERT_TRUE(WaitForStateFile(state.Join("app-0.state"), kStarted)) << restarted.Log();
    EXPECT_EQ(restarted.Stop(), 0) << restarted.Log();
    // The record of the state delivered is in the file too.
    EXPECT_NE(ReadFile(state.Join("app-0.state")).find("record state=active result=success "),
              std::string::npos)
        << ReadFile(state.Join("app-0.state"));
    std::vector<std::string> hooks = HelloHooks(before);
    ASSERT_FALSE(hooks.empty());
    EXPECT_EQ(hooks.back(), "started");
    for (const JujuExecCall& call : juju_.Calls()) EXPECT_TRUE(call.ended());
  }
}

TEST_F(DaemonFaults, AFailingSaveIsLoggedOnceDeliveriesGoOnAndALaterSaveSucceeds) {
  for (const char* error : {"EIO", "ENOSPC"}) {
    SCOPED_TRACE(error);
    TempDir state;
    Systemctl({"stop", "hello.service"});
    size_t before = juju_.Calls().size();
    DaemonUnderTest daemon;
    ASSERT_TRUE(StartDaemon(&daemon, state.path()));
    // Every fsync fails while injected, as on a disk that is full or failing.
    ASSERT_TRUE(Inject(daemon.pid(), "fsync", std::string("fsync:error=") + error));
    Systemctl({"start", "hello.service"});
    ASSERT_TRUE(juju_.WaitForEnded(before + 1)) << daemon.Log();
    Systemctl({"stop", "hello.service"});
    ASSERT_TRUE(juju_.WaitForEnded(before + 2)) << daemon.Log();
    Systemctl({"start", "hello.service"});
    ASSERT_TRUE(juju_.WaitForEnded(before + 3)) << daemon.Log();
    ASSERT_TRUE(daemon.WaitForLines("hello.service: active -> hooks/service-hello-started", 2));
    EXPECT_EQ(ReadStateHooks(state.Join("app-0.state")), kStopped);  // never replaced meanwhile
    EndInjection();
    Systemctl({"stop", "hello.service"});
    ASSERT_TRUE(WaitForStateFile(state.Join("app-0.state"), kStopped));
    ASSERT_TRUE(juju_.WaitForEnded(before + 4)) << daemon.Log();
    Systemctl({"start", "hello.service"});
    ASSERT_TRUE(WaitForStateFile(state.Join("app-0.state"), kStarted)) << daemon.Log();
    EXPECT_EQ(daemon.Stop(), 0) << daemon.Log();
    EXPECT_EQ(HelloHooks(before),
              (std::vector<std::string>{"started", "stopped", "started", "stopped", "started"}));
    EXPECT_EQ(daemon.CountLines("cannot save state"), 1u) << daemon.Log();
    EXPECT_EQ(daemon.CountLines("saved state to " + state.Join("app-0.state") + " again"), 1u)
        << daemon.Log();
    std::string listing = RunCommand({"ls", "-A", state.path()}).output;
    EXPECT_EQ(listing, "app-0.state\n") << "temporary files left";
  }
}

TEST_F(DaemonFaults, AHookThatCannotBeStartedIsRetriedNotDropped) {
  for (const char* error : {"EAGAIN", "ENOMEM"}) {
    SCOPED_TRACE(error);
    TempDir state;
    Systemctl({"stop", "hello.service"});
    size_t before = juju_.Calls().size();
    DaemonUnderTest daemon;
    ASSERT_TRUE(StartDaemon(&daemon, state.path()));
    // posix_spawn's clone (glibc: clone3, clone where that is missing), once.
    ASSERT_TRUE(Inject(daemon.pid(), "clone,clone3,vfork",
                       std::string("clone,clone3,vfork:error=") + error + ":when=1"));
    Systemctl({"start", "hello.service"});
    ASSERT_TRUE(daemon.WaitForLine("hooks/service-hello-started: not run")) << daemon.Log();
    ASSERT_TRUE(juju_.WaitForEnded(before + 1)) << daemon.Log();
    ASSERT_TRUE(WaitForStateFile(state.Join("app-0.state"), kStarted)) << daemon.Log();
    EXPECT_EQ(daemon.Stop(), 0) << daemon.Log();
    EXPECT_EQ(HelloHooks(before), std::vector<std::string>{"started"});
    EndInjection();
  }
}

TEST_F(DaemonFaults, ABusSocketResetOrBrokenIsReconnectedAndTheMissedChangeDelivered) {
  struct Case {
    const char* trace;
    const char* inject;
  };
  // A reset when the transition's signal is read (it is lost with the connection); a broken
  // pipe when SIGHUP's re-read is sent.
  const Case cases[] = {{"recvfrom", "recvfrom:error=ECONNRESET:when=1"},
                        {"sendto,sendmsg", "sendto,sendmsg:error=EPIPE:when=1"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.inject);
    TempDir state;
    Systemctl({"stop", "hello.service"});
    size_t before = juju_.Calls().size();
    DaemonUnderTest daemon;
    ASSERT_TRUE(StartDaemon(&daemon, state.path()));
    ASSERT_TRUE(Inject(daemon.pid(), c.trace, c.inject));
    Systemctl({"start", "hello.service"});
    if (std::string(c.trace) != "recvfrom") {
      ASSERT_EQ(kill(daemon.pid(), SIGHUP), 0);
    }
    ASSERT_TRUE(daemon.WaitForLine("lost the bus")) << daemon.Log();
    ASSERT_TRUE(daemon.WaitForLine("watching again")) << daemon.Log();
    ASSERT_TRUE(WaitForStateFile(state.Join("app-0.state"), kStarted)) << daemon.Log();
    EndInjection();
    Systemctl({"stop", "hello.service"});
    ASSERT_TRUE(WaitForStateFile(state.Join("app-0.state"), kStopped)) << daemon.Log();
    EXPECT_EQ(daemon.Stop(), 0) << daemon.Log();
    EXPECT_EQ(HelloHooks(before), (std::vector<std::string>{"started", "stopped"}));
  }
}

TEST_F(DaemonFaults, EintrOnEveryOtherBlockingCallLosesAndLogsNothing) {
  TempDir state;
  Systemctl({"stop", "hello.service"});
  size_t before = juju_.Calls().size();
  DaemonUnderTest daemon;
  ASSERT_TRUE(StartDaemon(&daemon, state.path()));
  const std::string calls =
      "epoll_wait,epoll_pwait,read,recvfrom,sendto,sendmsg,write,waitid,wait4";
  ASSERT_TRUE(Inject(daemon.pid(), calls, calls + ":error=EINTR:when=1+2"));
  for (int round = 0; round < 3; ++round) {
    Systemctl({"start", "hello.service"});
    ASSERT_TRUE(WaitForStateFile(state.Join("app-0.state"), kStarted)) << daemon.Log();
    Systemctl({"stop", "hello.service"});
    ASSERT_TRUE(WaitForStateFile(state.Join("app-0.state"), kStopped)) << daemon.Log();
  }
  EndInjection();
  EXPECT_EQ(daemon.Stop(), 0) << daemon.Log();
  EXPECT_EQ(HelloHooks(before), (std::vector<std::string>{"started", "stopped", "started",
                                                          "stopped", "started", "stopped"}));
  for (const std::string& line : daemon.lines()) {
    EXPECT_EQ(line.find("error"), std::string::npos) << line;
    EXPECT_EQ(line.find("lost the bus"), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace jsn::testing
