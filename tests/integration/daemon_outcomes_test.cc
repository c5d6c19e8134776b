// What a hook learns of each outcome a service can have, on a real systemd user manager: the
// JSN_ variables the daemon puts before the hook path in juju-exec's one command argument
// (JSN_STATE, JSN_RESULT, JSN_EXIT_CODE, JSN_EXIT_STATUS, JSN_N_RESTARTS, JSN_TIMESTAMP), for a
// clean stop, an exit status, a kill by signal, a start timeout, the start limit hit, a crash
// restarted by Restart=always, a oneshot that succeeds and a timer.
//
// The expected values are what systemd 252 says on the bus (Result, ExecMainCode,
// ExecMainStatus, NRestarts beside ActiveState), seen with dbus-monitor for each scenario; each
// test's comment gives the sequence of settled states and why the hooks are the ones delivered
// under the tracker's rules (include/jsn/daemon/tracker.h: states in passing are ignored, a state
// calling for the hook already wanted is a repeat, states coalesce while a unit's hook runs).
//
// Nothing here waits on time: every step waits for a hook to begin or end (the fake juju-exec's
// record), for a line of the daemon's log, or for a state systemd reports. Where the unit itself
// would race the daemon (a restart that could come before the daemon has seen the crash), the
// unit waits on a FIFO the test writes, or the fake juju-exec holds a hook on a gate.
// One manager serves the whole suite: every test has units of its own.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <time.h>

#include <cstdint>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/daemon_under_test.h"
#include "support/fake_juju_exec.h"
#include "support/user_systemd.h"

namespace jsn::testing {
namespace {

// A call's record and hook as one line to compare whole: the variables present, in the
// contract's order, then the hook path. JSN_TIMESTAMP is left out (see ExpectTimestamps).
std::string RecordAndHook(const JujuExecCall& call) {
  std::string text;
  for (const char* name :
       {"JSN_STATE", "JSN_RESULT", "JSN_EXIT_CODE", "JSN_EXIT_STATUS", "JSN_N_RESTARTS"}) {
    std::string value = call.Variable(name);
    if (!value.empty()) text += std::string(name) + "=" + value + " ";
  }
  return text + call.hook();
}

std::vector<std::string> RecordsAndHooks(const std::vector<JujuExecCall>& calls) {
  std::vector<std::string> lines;
  for (const JujuExecCall& call : calls) lines.push_back(RecordAndHook(call));
  return lines;
}

int64_t RealtimeMicroseconds() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return int64_t{now.tv_sec} * 1000000 + now.tv_nsec / 1000;
}

// The units, as systemd 252 runs them here. FIFOs and gates live in the manager's scratch dir.
struct UnitFile {
  std::string name;
  std::string text;
};

std::vector<UnitFile> Units(const std::string& scratch) {
  return {
      {"clean.service", "[Service]\nExecStart=/bin/sleep infinity\n"},
      // Active until the test writes a line, then exit 3.
      {"exits.service",
       "[Service]\nExecStart=/bin/sh -c 'read -r line < " + scratch + "/exits.fifo; exit 3'\n"},
      {"killed.service", "[Service]\nExecStart=/bin/sleep infinity\n"},
      // Never ready: keeps extending its start timeout until the gate exists, so that it is
      // still starting when the daemon reads its state, then lets the 1 s TimeoutStartSec run out.
      {"slow.service", "[Service]\nType=notify\nTimeoutStartSec=1s\nExecStart=/usr/bin/python3 " +
                           scratch + "/never-ready.py " + scratch + "/slow.gate\n"},
      // One start a minute; exits 0 when the test writes a line, and Restart=always's restart is
      // the second start. (A crash loop would not do: systemd keeps the crash's Result, e.g.
      // "exit-code", when the start limit ends it; Result says start-limit-hit only when the
      // run before ended well.)
      {"limited.service",
       "[Unit]\nStartLimitIntervalSec=1min\nStartLimitBurst=1\n"
       "[Service]\nExecStart=/bin/sh -c 'read -r line < " +
           scratch +
           "/limited.fifo'\n"
           "Restart=always\nRestartSec=100ms\n"},
      // Exits 1 when the test writes a line. Its restarts (not its first start) wait in
      // ExecStartPre for another line, so the test decides when it is back.
      {"crashy.service", "[Service]\nExecStartPre=/bin/sh -c 'if [ -e " + scratch +
                             "/crashy.started ]; then read -r line < " + scratch +
                             "/crashy-restart.fifo; else touch " + scratch +
                             "/crashy.started; fi'\n"
                             "ExecStart=/bin/sh -c 'read -r line < " +
                             scratch +
                             "/crashy.fifo; exit 1'\n"
                             "Restart=always\nRestartSec=100ms\n"},
      {"oneshot.service", "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n"},
      {"tick.timer", "[Timer]\nOnActiveSec=1h\n"},
      {"tick.service", "[Service]\nExecStart=/bin/true\n"},
  };
}

// slow.service's main process: sd_notify's EXTEND_TIMEOUT_USEC every 100 ms while the gate
// (argv[1]) is closed, never READY=1.
constexpr const char* kNeverReady = R"(import os, socket, sys, time
address = os.environ["NOTIFY_SOCKET"]
if address.startswith("@"):
    address = "\0" + address[1:]
notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
while not os.path.exists(sys.argv[1]):
    notify.sendto(b"EXTEND_TIMEOUT_USEC=1000000", address)
    time.sleep(0.1)
time.sleep(3600)
)";

class DaemonOutcomes : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    systemd_ = new UserSystemd();
    started_ = new ::testing::AssertionResult(StartManager());
  }
  static void TearDownTestSuite() {
    delete started_;
    started_ = nullptr;
    delete systemd_;
    systemd_ = nullptr;
  }
  static ::testing::AssertionResult StartManager() {
    std::string scratch = systemd_->scratch_dir();
    for (const UnitFile& unit : Units(scratch)) {
      ::testing::AssertionResult written = systemd_->WriteUnit(unit.name, unit.text);
      if (!written) return written;
    }
    for (const char* fifo : {"exits.fifo", "limited.fifo", "crashy.fifo", "crashy-restart.fifo"}) {
      if (mkfifo((scratch + "/" + fifo).c_str(), 0600) != 0) {
        return ::testing::AssertionFailure() << "cannot make " << fifo;
      }
    }
    if (!WriteFile(scratch + "/never-ready.py", kNeverReady)) {
      return ::testing::AssertionFailure() << "cannot write never-ready.py";
    }
    return systemd_->Start();
  }

  void SetUp() override {
    ASSERT_TRUE(*started_);
    started_at_us_ = RealtimeMicroseconds();
  }

  void StartDaemon(const std::vector<std::string>& names) {
    ASSERT_TRUE(daemon_.Start(systemd_->bus_address(), juju_.path(), names));
  }
  void Systemctl(const std::vector<std::string>& args) {
    CommandResult result = systemd_->Systemctl(args);
    ASSERT_TRUE(result.succeeded())
        << "systemctl --user " << args[0] << ": " << result.Describe() << "\n"
        << result.output;
  }
  // Writes a line into the FIFO `name` of the scratch dir, once the unit reads it (bounded).
  void WriteLine(const std::string& name) {
    CommandResult result =
        RunCommand({"/bin/sh", "-c", "echo > \"$0\"", systemd_->scratch_dir() + "/" + name}, {});
    ASSERT_TRUE(result.succeeded()) << name << ": " << result.Describe() << "\n" << result.output;
  }
  // Stops the daemon (after its running hooks end) and returns every call it made.
  std::vector<JujuExecCall> StopAndListCalls() {
    EXPECT_EQ(daemon_.Stop(), 0) << daemon_.Log();
    return juju_.Calls();
  }
  // Each call's JSN_TIMESTAMP is a CLOCK_REALTIME µs value within this test's run, and they
  // follow the calls' order (each is its own transition's StateChangeTimestamp).
  void ExpectTimestamps(const std::vector<JujuExecCall>& calls) {
    int64_t ended_at_us = RealtimeMicroseconds();
    int64_t previous = started_at_us_;
    for (const JujuExecCall& call : calls) {
      std::string text = call.Variable("JSN_TIMESTAMP");
      ASSERT_FALSE(text.empty()) << call.hook();
      int64_t timestamp = std::stoll(text);
      EXPECT_GE(timestamp, previous) << call.hook();
      EXPECT_LE(timestamp, ended_at_us) << call.hook();
      previous = timestamp;
    }
  }

  static UserSystemd* systemd_;
  static ::testing::AssertionResult* started_;
  int64_t started_at_us_ = 0;
  FakeJujuExec juju_;
  DaemonUnderTest daemon_;
};

UserSystemd* DaemonOutcomes::systemd_ = nullptr;
::testing::AssertionResult* DaemonOutcomes::started_ = nullptr;

using Lines = std::vector<std::string>;

// Bus: active; deactivating (stop-sigterm); inactive, Result success, the main process killed
// by systemd's SIGTERM (ExecMainCode 2 = CLD_KILLED, ExecMainStatus 15).
TEST_F(DaemonOutcomes, ACleanStopIsInactiveWithSuccessAndTheSigtermThatEndedIt) {
  StartDaemon({"clean"});
  Systemctl({"start", "clean.service"});
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();
  Systemctl({"stop", "clean.service"});
  ASSERT_TRUE(juju_.WaitForEnded(2)) << daemon_.Log();
  std::vector<JujuExecCall> calls = StopAndListCalls();
  EXPECT_EQ(RecordsAndHooks(calls),
            (Lines{"JSN_STATE=active JSN_RESULT=success JSN_N_RESTARTS=0 "
                   "hooks/service-clean-started",
                   "JSN_STATE=inactive JSN_RESULT=success JSN_EXIT_CODE=killed JSN_EXIT_STATUS=15 "
                   "JSN_N_RESTARTS=0 hooks/service-clean-stopped"}))
      << daemon_.Log();
  ExpectTimestamps(calls);
}

// Bus: active; failed, Result exit-code, ExecMainCode 1 (CLD_EXITED), ExecMainStatus 3.
TEST_F(DaemonOutcomes, AnExitStatusIsFailedWithExitCodeAndTheStatus) {
  StartDaemon({"exits"});
  Systemctl({"start", "exits.service"});
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();
  WriteLine("exits.fifo");
  ASSERT_TRUE(juju_.WaitForEnded(2)) << daemon_.Log();
  std::vector<JujuExecCall> calls = StopAndListCalls();
  EXPECT_EQ(RecordsAndHooks(calls),
            (Lines{"JSN_STATE=active JSN_RESULT=success JSN_N_RESTARTS=0 "
                   "hooks/service-exits-started",
                   "JSN_STATE=failed JSN_RESULT=exit-code JSN_EXIT_CODE=exited JSN_EXIT_STATUS=3 "
                   "JSN_N_RESTARTS=0 hooks/service-exits-stopped"}))
      << daemon_.Log();
  ExpectTimestamps(calls);
}

// Bus: active; failed, Result signal, ExecMainCode 2 (CLD_KILLED), ExecMainStatus 9.
TEST_F(DaemonOutcomes, AKillBySignalIsFailedWithSignalAndTheSignalNumber) {
  StartDaemon({"killed"});
  Systemctl({"start", "killed.service"});
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();
  Systemctl({"kill", "--signal=SIGKILL", "killed.service"});
  ASSERT_TRUE(juju_.WaitForEnded(2)) << daemon_.Log();
  std::vector<JujuExecCall> calls = StopAndListCalls();
  EXPECT_EQ(RecordsAndHooks(calls),
            (Lines{"JSN_STATE=active JSN_RESULT=success JSN_N_RESTARTS=0 "
                   "hooks/service-killed-started",
                   "JSN_STATE=failed JSN_RESULT=signal JSN_EXIT_CODE=killed JSN_EXIT_STATUS=9 "
                   "JSN_N_RESTARTS=0 hooks/service-killed-stopped"}))
      << daemon_.Log();
  ExpectTimestamps(calls);
}

// Bus: activating (start); at the timeout deactivating (stop-sigterm) with Result timeout
// already; failed, Result timeout, the main process killed by the SIGTERM systemd sent it
// (ExecMainCode 2, ExecMainStatus 15).
// From a baseline the failure would be a repeat (inactive before the start calls for stopped
// already; from active, any way back to a start passes inactive). So the daemon starts while
// the unit is starting: "activating" is in passing, no baseline, and the first settled state
// after it, the failure, is delivered.
TEST_F(DaemonOutcomes, AStartTimeoutIsFailedWithTimeout) {
  Systemctl({"--no-block", "start", "slow.service"});
  ASSERT_TRUE(systemd_->WaitForActiveState("slow.service", "activating"));
  StartDaemon({"slow"});
  ASSERT_TRUE(daemon_.WaitForLine("slow.service: initially activating")) << daemon_.Log();
  ASSERT_TRUE(WriteFile(systemd_->scratch_dir() + "/slow.gate", ""));
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();
  std::vector<JujuExecCall> calls = StopAndListCalls();
  EXPECT_EQ(RecordsAndHooks(calls),
            (Lines{"JSN_STATE=failed JSN_RESULT=timeout JSN_EXIT_CODE=killed JSN_EXIT_STATUS=15 "
                   "JSN_N_RESTARTS=0 hooks/service-slow-stopped"}))
      << daemon_.Log();
  ExpectTimestamps(calls);
}

// Bus: active; inactive, Result success, ExecMainCode 1, ExecMainStatus 0 (the clean exit);
// activating (auto-restart), NRestarts 1; inactive, Result start-limit-hit; failed, Result
// start-limit-hit (ExecMain* still the last run's: no process was started).
// Delivered live, the first inactive would run stopped and the rest be repeats. The started
// hook is held on a gate until the daemon has seen the failure, so the stopped hook waits in
// the daemon and takes the latest settled state's record when it runs: start-limit-hit.
TEST_F(DaemonOutcomes, TheStartLimitHitIsFailedWithStartLimitHit) {
  ASSERT_TRUE(juju_.SetRules("service-limited-started wait=" + juju_.GatePath("started") + "\n"));
  StartDaemon({"limited"});
  Systemctl({"start", "limited.service"});
  ASSERT_TRUE(juju_.WaitForBegun(1)) << daemon_.Log();
  WriteLine("limited.fifo");
  ASSERT_TRUE(systemd_->WaitForActiveState("limited.service", "failed"));
  // The Service interface's PropertiesChanged (Result) comes before the Unit one (ActiveState):
  // once the daemon logs the failure, it has both.
  ASSERT_TRUE(daemon_.WaitForLine("limited.service: failed (")) << daemon_.Log();
  ASSERT_TRUE(juju_.OpenGate("started"));
  ASSERT_TRUE(juju_.WaitForEnded(2)) << daemon_.Log();
  std::vector<JujuExecCall> calls = StopAndListCalls();
  EXPECT_EQ(RecordsAndHooks(calls),
            (Lines{"JSN_STATE=active JSN_RESULT=success JSN_N_RESTARTS=0 "
                   "hooks/service-limited-started",
                   "JSN_STATE=failed JSN_RESULT=start-limit-hit JSN_EXIT_CODE=exited "
                   "JSN_EXIT_STATUS=0 JSN_N_RESTARTS=1 hooks/service-limited-stopped"}))
      << daemon_.Log();
  ExpectTimestamps(calls);
}

// Bus: activating (start-pre); active; failed, Result exit-code, ExecMainCode 1,
// ExecMainStatus 1, NRestarts 0; activating (auto-restart), NRestarts 1; inactive, Result
// success, ExecMain* reset; activating (start-pre); active, NRestarts 1.
// The restart waits in ExecStartPre until the stopped hook has begun (its record is then its
// own), so the daemon cannot see active again before it has delivered the crash.
TEST_F(DaemonOutcomes, ACrashRestartedByRestartAlwaysSaysOneRestartWhenStartedAgain) {
  StartDaemon({"crashy"});
  Systemctl({"start", "crashy.service"});
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();
  WriteLine("crashy.fifo");
  ASSERT_TRUE(juju_.WaitForBegun(2)) << daemon_.Log();
  WriteLine("crashy-restart.fifo");
  ASSERT_TRUE(juju_.WaitForEnded(3)) << daemon_.Log();
  std::vector<JujuExecCall> calls = StopAndListCalls();
  EXPECT_EQ(RecordsAndHooks(calls),
            (Lines{"JSN_STATE=active JSN_RESULT=success JSN_N_RESTARTS=0 "
                   "hooks/service-crashy-started",
                   "JSN_STATE=failed JSN_RESULT=exit-code JSN_EXIT_CODE=exited JSN_EXIT_STATUS=1 "
                   "JSN_N_RESTARTS=0 hooks/service-crashy-stopped",
                   "JSN_STATE=active JSN_RESULT=success JSN_N_RESTARTS=1 "
                   "hooks/service-crashy-started"}))
      << daemon_.Log();
  ExpectTimestamps(calls);
}

// Bus: activating (start); active (exited), Result success, ExecMainCode 1, ExecMainStatus 0.
// (Without RemainAfterExit the bus shows activating, then inactive: a repeat of the baseline,
// no hook.)
TEST_F(DaemonOutcomes, AOneshotThatSucceedsIsActiveWithExitStatusZero) {
  StartDaemon({"oneshot"});
  Systemctl({"start", "oneshot.service"});
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();
  std::vector<JujuExecCall> calls = StopAndListCalls();
  EXPECT_EQ(RecordsAndHooks(calls),
            (Lines{"JSN_STATE=active JSN_RESULT=success JSN_EXIT_CODE=exited JSN_EXIT_STATUS=0 "
                   "JSN_N_RESTARTS=0 hooks/service-oneshot-started"}))
      << daemon_.Log();
  ExpectTimestamps(calls);
}

// Bus: active (waiting), Timer Result success; inactive (dead), Result success. A timer has
// no main process nor restarts: only the state and its Result.
TEST_F(DaemonOutcomes, ATimerHasItsOwnResult) {
  StartDaemon({"tick.timer=tick"});
  Systemctl({"start", "tick.timer"});
  ASSERT_TRUE(juju_.WaitForEnded(1)) << daemon_.Log();
  Systemctl({"stop", "tick.timer"});
  ASSERT_TRUE(juju_.WaitForEnded(2)) << daemon_.Log();
  std::vector<JujuExecCall> calls = StopAndListCalls();
  EXPECT_EQ(RecordsAndHooks(calls),
            (Lines{"JSN_STATE=active JSN_RESULT=success hooks/service-tick-started",
                   "JSN_STATE=inactive JSN_RESULT=success "
                   "hooks/service-tick-stopped"}))
      << daemon_.Log();
  ExpectTimestamps(calls);
}

}  // namespace
}  // namespace jsn::testing
