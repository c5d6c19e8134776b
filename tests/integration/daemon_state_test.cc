// The state file against a real systemd (the UserSystemd fixture): a transition made while the
// daemon is down is delivered once when it starts again; a first start records and fires
// nothing; a corrupt state file is reported and treated as absent.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/daemon_under_test.h"
#include "support/fake_juju_exec.h"
#include "support/user_systemd.h"

namespace jsn::testing {
namespace {

using Hooks = std::vector<std::string>;

constexpr const char* kSleeper = "[Service]\nExecStart=/bin/sleep infinity\n";

class DaemonStateFile : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(systemd_.WriteUnit("hello.service", kSleeper));
    ASSERT_TRUE(systemd_.WriteUnit("other.service", kSleeper));
    ASSERT_TRUE(systemd_.Start());
  }
  void Systemctl(const std::vector<std::string>& args) {
    CommandResult result = systemd_.Systemctl(args);
    ASSERT_TRUE(result.succeeded())
        << "systemctl --user " << args[0] << ": " << result.Describe() << "\n"
        << result.output;
  }

  UserSystemd systemd_;
  FakeJujuExec juju_;
  TempDir state_;  // the --state-dir every daemon of a test shares
};

TEST_F(DaemonStateFile, AChangeWhileTheDaemonWasDownIsDeliveredOnceOnRestart) {
  Systemctl({"start", "hello.service"});
  DaemonUnderTest first;
  first.UseStateDir(state_.path());
  ASSERT_TRUE(first.Start(systemd_.bus_address(), juju_.path(), {"hello", "other"}));
  EXPECT_TRUE(first.WaitForLine("no state file"));
  EXPECT_EQ(first.Stop(), 0) << first.Log();
  EXPECT_EQ(HookList(juju_), Hooks{});  // first start: recorded, nothing fired
  EXPECT_EQ(ReadStateHooks(state_.Join("app-0.state")),
            "juju-systemd-notices-state 1 app/0\nhello.service started\nother.service stopped\n");
  // While no daemon runs: hello stops; other starts and stops again (a flap that ends where it
  // began cannot be seen, and there is nothing to deliver for it).
  Systemctl({"stop", "hello.service"});
  Systemctl({"start", "other.service"});
  Systemctl({"stop", "other.service"});
  DaemonUnderTest second;
  second.UseStateDir(state_.path());
  ASSERT_TRUE(second.Start(systemd_.bus_address(), juju_.path(), {"hello", "other"}));
  ASSERT_TRUE(juju_.WaitForEnded(1)) << second.Log();
  EXPECT_TRUE(
      second.WaitForLine("hello.service: initially inactive, but started was delivered last"));
  EXPECT_EQ(second.Stop(), 0) << second.Log();
  EXPECT_EQ(HookList(juju_), (Hooks{"app/0 hooks/service-hello-stopped"})) << second.Log();
  // With what systemd says of the unit now (read at start-up: no signal told of it). Not when:
  // an inactive unit nobody references is unloaded, and loaded afresh by the daemon's question,
  // with no StateChangeTimestamp.
  JujuExecCall call = juju_.Calls().back();
  EXPECT_EQ(call.Variable("JSN_STATE"), "inactive") << call.argv[2];
  EXPECT_EQ(call.Variable("JSN_RESULT"), "success") << call.argv[2];
  EXPECT_EQ(ReadStateHooks(state_.Join("app-0.state")),
            "juju-systemd-notices-state 1 app/0\nhello.service stopped\nother.service stopped\n");
  // A third start with nothing changed delivers nothing again: it was delivered once.
  DaemonUnderTest third;
  third.UseStateDir(state_.path());
  ASSERT_TRUE(third.Start(systemd_.bus_address(), juju_.path(), {"hello", "other"}));
  Systemctl({"start", "hello.service"});  // and the daemon still watches
  ASSERT_TRUE(juju_.WaitForEnded(2)) << third.Log();
  EXPECT_EQ(third.Stop(), 0) << third.Log();
  EXPECT_EQ(HookList(juju_),
            (Hooks{"app/0 hooks/service-hello-stopped", "app/0 hooks/service-hello-started"}))
      << third.Log();
}

TEST_F(DaemonStateFile, ACorruptStateFileIsReportedAndTreatedAsAbsent) {
  ASSERT_TRUE(WriteFile(state_.Join("app-0.state"),
                        "\x7f"
                        "ELF garbage\nhello.service started\n"));
  DaemonUnderTest daemon;
  daemon.UseStateDir(state_.path());
  ASSERT_TRUE(daemon.Start(systemd_.bus_address(), juju_.path(), {"hello"}));
  EXPECT_TRUE(daemon.WaitForLine("treating it as absent"));
  // Absent: the initial state (inactive) is the baseline and nothing fires for it; the file is
  // rewritten with it, and the next transition is delivered.
  Systemctl({"start", "hello.service"});
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon.Log();
  EXPECT_EQ(daemon.Stop(), 0) << daemon.Log();
  EXPECT_EQ(HookList(juju_), (Hooks{"app/0 hooks/service-hello-started"})) << daemon.Log();
  EXPECT_EQ(ReadStateHooks(state_.Join("app-0.state")),
            "juju-systemd-notices-state 1 app/0\nhello.service started\n");
}

// A FIFO planted where the state file should be, with no writer, blocked the daemon in open()
// before it connected, past SIGTERM (blocked for the signalfd). Now it is said and treated as
// absent, and the first save replaces it with a regular file. `status` reads it the same way.
TEST_F(DaemonStateFile, AFifoAtTheStateFileIsReportedAndTreatedAsAbsentWithoutBlocking) {
  ASSERT_EQ(mkfifo(state_.Join("app-0.state").c_str(), 0644), 0);
  DaemonUnderTest daemon;
  daemon.UseStateDir(state_.path());
  ASSERT_TRUE(daemon.Start(systemd_.bus_address(), juju_.path(), {"hello"}));
  EXPECT_TRUE(daemon.WaitForLine("to be a regular file, found a FIFO")) << daemon.Log();
  Systemctl({"start", "hello.service"});
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon.Log();
  EXPECT_EQ(daemon.Stop(), 0) << daemon.Log();
  EXPECT_EQ(ReadStateHooks(state_.Join("app-0.state")),
            "juju-systemd-notices-state 1 app/0\nhello.service started\n");
}

// As sshd's StrictModes: a state dir someone else could write (group- or world-writable, or
// not the daemon's user's, or a symlink) could be handed state that makes the daemon skip or
// repeat hooks, or a file its writes land on. It is refused, said, and not used: the daemon
// runs on without state, delivering what it sees.
TEST_F(DaemonStateFile, AStateDirOthersCanWriteIsRefusedAndNotUsed) {
  ASSERT_EQ(chmod(state_.path().c_str(), 0777), 0);
  DaemonUnderTest daemon;
  daemon.UseStateDir(state_.path());
  ASSERT_TRUE(daemon.Start(systemd_.bus_address(), juju_.path(), {"hello"}));
  EXPECT_TRUE(daemon.WaitForLine("not keeping state: expected " + state_.path() +
                                 " to be a directory of user 0 that only it can write, found it "
                                 "writable by its group or by others"))
      << daemon.Log();
  Systemctl({"start", "hello.service"});
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon.Log();
  EXPECT_EQ(daemon.Stop(), 0) << daemon.Log();
  EXPECT_EQ(HookList(juju_), (Hooks{"app/0 hooks/service-hello-started"})) << daemon.Log();
  struct stat st;
  EXPECT_NE(lstat(state_.Join("app-0.state").c_str(), &st), 0) << "state written there";

  std::string link = state_.Join("link");
  ASSERT_EQ(mkdir(state_.Join("real").c_str(), 0755), 0);
  ASSERT_EQ(symlink(state_.Join("real").c_str(), link.c_str()), 0);
  DaemonUnderTest linked;
  linked.UseStateDir(link);
  ASSERT_TRUE(linked.Start(systemd_.bus_address(), juju_.path(), {"hello"}));
  EXPECT_TRUE(linked.WaitForLine("found it not a directory (a symlink?)")) << linked.Log();
  EXPECT_EQ(linked.Stop(), 0) << linked.Log();
}

// The state dir is checked once through a descriptor and used through it: swapped for a
// symlink after start, it is not followed, and the saves go on in the directory checked.
TEST_F(DaemonStateFile, AStateDirSwappedForASymlinkAfterStartIsNotFollowed) {
  std::string state_dir = state_.Join("state");
  std::string elsewhere = state_.Join("elsewhere");
  ASSERT_EQ(mkdir(state_dir.c_str(), 0755), 0);
  ASSERT_EQ(mkdir(elsewhere.c_str(), 0755), 0);
  DaemonUnderTest daemon;
  daemon.UseStateDir(state_dir);
  ASSERT_TRUE(daemon.Start(systemd_.bus_address(), juju_.path(), {"hello"}));
  ASSERT_TRUE(daemon.WaitForLine("no state file")) << daemon.Log();
  ASSERT_EQ(rename(state_dir.c_str(), state_.Join("checked").c_str()), 0);
  ASSERT_EQ(symlink(elsewhere.c_str(), state_dir.c_str()), 0);
  Systemctl({"start", "hello.service"});
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon.Log();
  EXPECT_EQ(daemon.Stop(), 0) << daemon.Log();
  EXPECT_EQ(HookList(juju_), (Hooks{"app/0 hooks/service-hello-started"})) << daemon.Log();
  EXPECT_EQ(ReadStateHooks(state_.Join("checked/app-0.state")),
            "juju-systemd-notices-state 1 app/0\nhello.service started\n");
  EXPECT_EQ(RunCommand({"ls", "-A", elsewhere}).output, "") << "the symlink was followed";
}

// A transition owed since the daemon last ran carries the record saved with it, not what systemd
// says after a reboot (a unit that failed, and is merely inactive after the boot, still says how
// it failed): the record is the transition's.
TEST_F(DaemonStateFile, AnOwedTransitionCarriesTheRecordSavedWithIt) {
  Systemctl({"stop", "hello.service"});
  ASSERT_TRUE(
      WriteFile(state_.Join("app-0.state"),
                "juju-systemd-notices-state 1 app/0\nhello.service started\n"
                "pending hello.service stopped\n"
                "record state=failed result=exit-code exit_code=exited exit_status=3 n_restarts=2 "
                "timestamp=5 hello.service stopped\n"));
  DaemonUnderTest daemon;
  daemon.UseStateDir(state_.path());
  ASSERT_TRUE(daemon.Start(systemd_.bus_address(), juju_.path(), {"hello"}));
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon.Log();
  EXPECT_EQ(daemon.Stop(), 0) << daemon.Log();
  ASSERT_EQ(HookList(juju_), (Hooks{"app/0 hooks/service-hello-stopped"})) << daemon.Log();
  EXPECT_EQ(juju_.Calls()[0].argv[2],
            "JSN_STATE=failed JSN_RESULT=exit-code JSN_EXIT_CODE=exited JSN_EXIT_STATUS=3 "
            "JSN_N_RESTARTS=2 JSN_TIMESTAMP=5 hooks/service-hello-stopped");
  // Delivered, the record stays in the file for `status`.
  EXPECT_NE(ReadFile(state_.Join("app-0.state"))
                .find("record state=failed result=exit-code exit_code=exited exit_status=3 "
                      "n_restarts=2 timestamp=5 "
                      "hello.service stopped\n"),
            std::string::npos)
      << ReadFile(state_.Join("app-0.state"));
}

// A save killed between creating its temp file and renaming it over the state file leaves the
// temp file; the next start deletes it (and nothing of another name: another unit's stays).
TEST_F(DaemonStateFile, ATempFileACrashMidSaveLeftIsDeletedAtStart) {
  std::string stale = state_.Join("app-0.state.tmp-0123456789abcdef");
  std::string other = state_.Join("app-1.state.tmp-0123456789abcdef");
  ASSERT_TRUE(WriteFile(stale, "juju-systemd-notices-state 1 app/0\nhello.se"));
  ASSERT_TRUE(WriteFile(other, "another unit's\n"));
  DaemonUnderTest daemon;
  daemon.UseStateDir(state_.path());
  ASSERT_TRUE(daemon.Start(systemd_.bus_address(), juju_.path(), {"hello"}));
  EXPECT_TRUE(daemon.WaitForLine("deleted 1 temporary file(s) a crash mid-save left beside " +
                                 state_.Join("app-0.state")))
      << daemon.Log();
  EXPECT_EQ(daemon.Stop(), 0) << daemon.Log();
  struct stat st;
  EXPECT_NE(lstat(stale.c_str(), &st), 0) << "the stale temp file is still there";
  EXPECT_EQ(ReadFile(other), "another unit's\n");
  EXPECT_EQ(ReadStateHooks(state_.Join("app-0.state")),
            "juju-systemd-notices-state 1 app/0\nhello.service stopped\n");
}

}  // namespace
}  // namespace jsn::testing
