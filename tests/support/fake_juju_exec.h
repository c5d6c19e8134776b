// FakeJujuExec: a fake `juju-exec` for one test that behaves as Juju 3.6's, and the calls and runs
// it recorded.
//
// It starts the stand-in for the machine's unit agents (`tests/support/fake-juju-exec --agent`)
// and writes an executable wrapper (path()) that runs the client with this instance's directory
// baked in, so the daemon under test can strip its children's environment and still be recorded:
// give path() to the daemon as --juju-exec. As Juju's, a call is queued, waits for the unit's
// running hook and then for the one lock all units of the machine share, with no timeout; a
// client killed after queueing does not cancel its command; the exit status is 1 (with Juju's
// message) while the agent is down or the unit is gone, 2 with JUJU_CONTEXT_ID set, else the
// command's own. The rules (see `tests/support/fake-juju-exec --help`) make commands fail, sleep,
// or wait on a gate the test opens (holding the locks meanwhile).
//
// Ownership: owns a temporary directory (wrapper, socket, log, rules, gates, locks), removed on
// destruction, and the agent's process, killed (by PID) before. The calls are the daemon's
// children; the commands run in the agent, so they end with it.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "support/child_process.h"

namespace jsn::testing {

// One call: the client's begin and end lines, and its command's run and done lines (a command
// runs once both locks are held, and may run on after its client was killed).
struct JujuExecCall {
  pid_t pid = 0;              // the client's
  int64_t start_ns = 0;       // CLOCK_MONOTONIC, when the request reached the agent
  int64_t end_ns = -1;        // -1 while the client runs (or when SIGKILL ended it)
  int exit_code = -1;         // the client's, when it exited
  int signal = 0;             // when SIGTERM/SIGINT/SIGHUP ended the client
  int64_t run_start_ns = -1;  // the command's start; -1 while queued, or refused
  int64_t run_end_ns = -1;    // the command's end; -1 until it ended
  int run_exit_code = -1;     // the command's own status
  std::string cwd;
  std::vector<std::string> argv;         // argv[0] is the path the daemon ran
  std::vector<std::string> environment;  // the client's NAME=VALUE entries, in order

  bool ended() const { return end_ns >= 0; }
  bool ran() const { return run_start_ns >= 0; }
  bool run_ended() const { return run_end_ns >= 0; }
  // argv[1], "" when absent: the Juju unit.
  std::string unit() const { return argv.size() > 1 ? argv[1] : ""; }
  // The hook: the last word of the command (argv[2], "JSN_STATE=active ...
  // hooks/service-x-started"), "" when absent.
  std::string hook() const;
  // The value of the assignment NAME=VALUE in front of the hook in the command, "" when absent.
  std::string Variable(const std::string& name) const;
};

class FakeJujuExec {
 public:
  // The directory is made under `parent` (default $TMPDIR, else /tmp): a fixture whose units
  // see another /tmp (SystemSystemd) puts it where both sides see the same path.
  explicit FakeJujuExec(const std::string& parent = "");
  ~FakeJujuExec();
  FakeJujuExec(const FakeJujuExec&) = delete;
  FakeJujuExec& operator=(const FakeJujuExec&) = delete;

  // The executable to run as juju-exec.
  std::string path() const { return directory_.Join("juju-exec"); }
  std::string log_path() const { return directory_.Join("calls.log"); }
  std::string rules_path() const { return directory_.Join("rules"); }
  // The agent's socket, where the client connects (a relay may connect there for it).
  std::string socket_path() const { return directory_.Join("run.socket"); }

  // Replaces the rules (atomically: a call reads either the old or the new ones), e.g.
  // "service-foo-started exit=1 times=2\n* wait=" + GatePath("go") + "\n".
  ::testing::AssertionResult SetRules(const std::string& rules);
  // A gate for `wait=`: a path that does not exist until OpenGate(name).
  std::string GatePath(const std::string& name) const { return directory_.Join("gate-" + name); }
  ::testing::AssertionResult OpenGate(const std::string& name);

  // Juju's states around the command: the agent down (calls fail with status 1 and "ERROR
  // dialing juju run socket"), the unit gone (status 1 and `unit "UNIT" not found on this
  // machine`). Each is a flag file the agent reads at every call.
  ::testing::AssertionResult SetAgentDown(bool down);
  ::testing::AssertionResult SetUnitGone(const std::string& unit, bool gone);
  // Takes the machine lock every unit shares (as another unit's install hook would), or
  // `unit`'s own (as its running hook would), in this process, blocking until it is had;
  // queued commands wait until the Release. False when the lock file cannot be opened.
  ::testing::AssertionResult HoldMachineLock() { return HoldLock("machine.lock", &machine_lock_); }
  void ReleaseMachineLock() { ReleaseLock(&machine_lock_); }
  ::testing::AssertionResult HoldUnitLock(const std::string& unit);
  void ReleaseUnitLock() { ReleaseLock(&unit_lock_); }

  // Every call recorded so far, in the order they began.
  std::vector<JujuExecCall> Calls() const;
  // Waits (bounded) until at least `count` calls have begun / ended; the failure message lists
  // the calls seen.
  ::testing::AssertionResult WaitForBegun(
      size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  ::testing::AssertionResult WaitForEnded(
      size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  // Waits (bounded) until at least `count` commands have started / ended in the agent.
  ::testing::AssertionResult WaitForRunsBegun(
      size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  ::testing::AssertionResult WaitForRunsEnded(
      size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;

  // The log's text as calls: lines "begin PID START CWD ARGV...", "run PID START",
  // "done PID END RESULT" and "end PID END RESULT".
  static std::vector<JujuExecCall> ParseLog(const std::string& text);
  // One line a call, for failure messages: "pid 12 [u/0 hooks/x] 1000..2000 exit 0".
  static std::string Describe(const std::vector<JujuExecCall>& calls);

 private:
  ::testing::AssertionResult HoldLock(const std::string& name, int* fd);
  static void ReleaseLock(int* fd);
  ::testing::AssertionResult WaitFor(const char* what, size_t count,
                                     bool (*counts)(const JujuExecCall&),
                                     std::chrono::milliseconds timeout) const;

  TempDir directory_;
  ChildProcess agent_;  // after directory_: killed before the directory goes
  int machine_lock_ = -1;
  int unit_lock_ = -1;
};

}  // namespace jsn::testing
