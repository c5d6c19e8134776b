// Test support for the daemon's integration tests (shared by daemon_*_test.cc): runs the
// daemon, DaemonPath() (source_tree.h: build/juju-systemd-notices, or the build $JSN_DAEMON
// names), as a child with -d, waits for it to say it is watching, reads its log lines, and
// stops it so that every hook it started has ended (SIGTERM lets running hooks finish before
// exit). Owns the daemon process; kills and reaps it by PID on destruction. The daemon runs
// through the program $JSN_DAEMON_LAUNCHER names when set: another architecture's build under
// qemu-user, e.g.
//   JSN_DAEMON=build/arch/s390x/juju-systemd-notices-musl JSN_DAEMON_LAUNCHER=qemu-s390x-static
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/fake_juju_exec.h"

namespace jsn::testing {

class DaemonUnderTest {
 public:
  ~DaemonUnderTest() { Stop(); }

  // Starts the daemon for Juju unit app/0 on `bus_address` with `juju_exec` and the given
  // NAME[=ALIAS] arguments, and waits until it logs that it is watching (start-up done).
  ::testing::AssertionResult Start(const std::string& bus_address, const std::string& juju_exec,
                                   const std::vector<std::string>& names,
                                   const std::vector<std::string>& extra_options = {});
  // The same without waiting: for a test that holds the daemon's start-up up (then
  // WaitForLine("watching ") says when it is done).
  ::testing::AssertionResult Launch(const std::string& bus_address, const std::string& juju_exec,
                                    const std::vector<std::string>& names,
                                    const std::vector<std::string>& extra_options = {});
  // Reads the daemon's log until a line contains `text` (bounded); lines read are kept.
  ::testing::AssertionResult WaitForLine(
      const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Reads until `count` lines in all contain `text` (bounded).
  ::testing::AssertionResult WaitForLines(
      const std::string& text, size_t count,
      std::chrono::milliseconds timeout = std::chrono::seconds(30));
  size_t CountLines(const std::string& text) const;
  // The daemon's unique name on the bus, from its debug line "connected to ... as :1.N".
  std::string UniqueName() const;
  // SIGTERM, then waits for the exit (which comes after running hooks end). Returns the exit
  // code (-1 when killed). Reads the rest of the log first.
  int Stop();
  // Waits (bounded) for the daemon to exit on its own, reading the rest of its log. Returns the
  // exit code; -1 when it was killed by a signal or had to be (the deadline passed).
  int WaitForExit(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  pid_t pid() const { return process_.pid(); }
  // The daemon's --state-dir: a temp dir of this object's, kept across Stop and Start so a
  // test can restart the daemon on the same state.
  std::string state_dir() const {
    return shared_state_dir_.empty() ? state_directory_.path() : shared_state_dir_;
  }
  // Without -d (call before Start): only info lines and above, so that the daemon's own writes
  // are few and known (a test injecting faults counts system calls).
  void WithoutDebug() { debug_ = false; }
  // The daemon's whole environment (call before Start); by default the test's own.
  void WithEnvironment(const std::vector<std::string>& environment) { environment_ = environment; }
  // Adds NAME=VALUE entries to the test's own environment for the daemon (call before Start).
  void SetEnvironment(const std::vector<std::string>& entries) { added_environment_ = entries; }
  // Uses another's state dir (call before Start): a second daemon picking up where one stopped.
  void UseStateDir(const std::string& directory) { shared_state_dir_ = directory; }
  // Every log line read so far, for failure messages and checks.
  const std::vector<std::string>& lines() const { return lines_; }
  std::string Log() const;

  // $JSN_DAEMON_LAUNCHER: the program that runs it (its first argument), "" for none.
  static std::string Launcher();

 private:
  TempDir state_directory_;
  std::string shared_state_dir_;
  ChildProcess process_;
  std::vector<std::string> lines_;
  std::vector<std::string> environment_;
  std::vector<std::string> added_environment_;
  bool stopped_ = false;
  bool debug_ = true;
  int exit_code_ = -1;
};

// The hooks recorded, as "UNIT HOOK" strings ("app/0 hooks/service-x-started"), in call order.
std::vector<std::string> HookList(const FakeJujuExec& juju_exec);

// The daemon's state file at `path` without its "record ..." lines (what systemd said with each
// state: times and results most tests do not control): the hooks delivered and the deliveries
// due. "" when there is no file.
std::string ReadStateHooks(const std::string& path);

}  // namespace jsn::testing
