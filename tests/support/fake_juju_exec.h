// FakeJujuExec: a fake `juju-exec` for one test, and the calls it recorded.
//
// It writes an executable wrapper (path()) that runs tests/support/fake-juju-exec with this
// instance's log and rules file baked in, so the daemon under test can strip its children's
// environment and still be recorded: give path() to the daemon as --juju-exec. The rules (see
// `tests/support/fake-juju-exec --help`) make calls fail, sleep, or wait on a gate the test opens.
//
// Ownership: owns a temporary directory (wrapper, log, rules, gates), removed on destruction. It
// starts no process itself; the calls are the daemon's children.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "support/child_process.h"

namespace jsn::testing {

// One call, from its begin line and (once it ended) its end line.
struct JujuExecCall {
  pid_t pid = 0;
  int64_t start_ns = 0;  // CLOCK_MONOTONIC
  int64_t end_ns = -1;   // -1 while running (or when SIGKILL ended it)
  int exit_code = -1;    // when it exited
  int signal = 0;        // when SIGTERM/SIGINT/SIGHUP ended it
  std::string cwd;
  std::vector<std::string> argv;  // argv[0] is the path the daemon ran

  bool ended() const { return end_ns >= 0; }
  // argv[1] and argv[2], "" when absent: the Juju unit and the hook ("hooks/service-x-started").
  std::string unit() const { return argv.size() > 1 ? argv[1] : ""; }
  std::string hook() const { return argv.size() > 2 ? argv[2] : ""; }
};

class FakeJujuExec {
 public:
  // The directory is made under `parent` (default $TMPDIR, else /tmp): a fixture whose units
  // see another /tmp (SystemSystemd) puts it where both sides see the same path.
  explicit FakeJujuExec(const std::string& parent = "");
  FakeJujuExec(const FakeJujuExec&) = delete;
  FakeJujuExec& operator=(const FakeJujuExec&) = delete;

  // The executable to run as juju-exec.
  std::string path() const { return directory_.Join("juju-exec"); }
  std::string log_path() const { return directory_.Join("calls.log"); }
  std::string rules_path() const { return directory_.Join("rules"); }

  // Replaces the rules (atomically: a call reads either the old or the new ones), e.g.
  // "service-foo-started exit=1 times=2\n* wait=" + GatePath("go") + "\n".
  ::testing::AssertionResult SetRules(const std::string& rules);
  // A gate for `wait=`: a path that does not exist until OpenGate(name).
  std::string GatePath(const std::string& name) const { return directory_.Join("gate-" + name); }
  ::testing::AssertionResult OpenGate(const std::string& name);

  // Every call recorded so far, in the order they began.
  std::vector<JujuExecCall> Calls() const;
  // Waits (bounded) until at least `count` calls have begun / ended; the failure message lists
  // the calls seen.
  ::testing::AssertionResult WaitForBegun(
      size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  ::testing::AssertionResult WaitForEnded(
      size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;

  // The log's text as calls: lines "begin PID START CWD ARGV..." and "end PID END RESULT".
  static std::vector<JujuExecCall> ParseLog(const std::string& text);
  // One line a call, for failure messages: "pid 12 [u/0 hooks/x] 1000..2000 exit 0".
  static std::string Describe(const std::vector<JujuExecCall>& calls);

 private:
  TempDir directory_;
};

}  // namespace jsn::testing
