// Test support: a private dbus-daemon per test, and peers run against it (with child_process.h's
// runner, which also starts the daemon).
//
//   jsn::testing::PrivateBus bus;                  // owns a fresh temp dir
//   ASSERT_TRUE(bus.Start());                      // waits until it listens
//   bus.address();                                 // "unix:path=<dir>/bus", stable over restarts
//   CommandResult result = bus.RunPeer({"gdbus", "emit", "--session", ...});
//   EXPECT_TRUE(result.succeeded()) << result.Describe() << ": " << result.output;
//   bus.Stop(SIGKILL); ASSERT_TRUE(bus.Start());   // crash and restart at the same socket path
//   // the destructor stops the daemon (kill + waitpid by PID) and removes the temp dir
//
// The PrivateBus owns the daemon's process (a ChildProcess) and its directory (a TempDir). The
// bus config comes from tests/support/private-bus.conf (found next to this file's source,
// relative to the working directory `make check` runs in, or under $JSN_SOURCE_DIR). Every
// process started here is killed and reaped by its PID; nothing is left running or on disk.
// Start returns ::testing::AssertionResult so a failure explains itself in ASSERT_TRUE.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "support/child_process.h"

namespace jsn::testing {

// What a finished (or timed-out and killed) process did.
struct ProcessResult {
  bool started = false;    // fork/exec worked (exit status 127 means exec failed)
  bool timed_out = false;  // it was killed with SIGKILL at the deadline
  int exit_status = -1;    // when it exited
  int signal = 0;          // when a signal ended it
  std::string out;         // everything it wrote to stdout
  std::string err;         // and to stderr

  bool Succeeded() const { return started && !timed_out && signal == 0 && exit_status == 0; }
  // One line for a failure message: how it ended, then its stderr.
  std::string Describe() const;
};

// Environment entries "NAME=value" that replace or extend the test's own environment.
using Environment = std::vector<std::string>;

// Runs `argv` (argv[0] is searched in PATH) with stdin from /dev/null, captures stdout and
// stderr, and waits for it up to `timeout_ms`; at the deadline it is killed and reaped.
ProcessResult RunProcess(const std::vector<std::string>& argv, const Environment& environment,
                         int timeout_ms = 20000);

// A process left running in the background (e.g. the daemon under test, a fake service):
// stdout and stderr go to `output_path` (appended; "" inherits the test's). Stop() or the
// destructor kills it by PID and reaps it.
class BackgroundProcess {
 public:
  BackgroundProcess() = default;
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  ::testing::AssertionResult Start(const std::vector<std::string>& argv,
                                   const Environment& environment,
                                   const std::string& output_path = "");
  // Sends `signal`, waits up to `timeout_ms` for the exit, then SIGKILLs; reaps in any case.
  // Returns how it ended (exit_status / signal set; out and err empty).
  ProcessResult Stop(int signal = SIGTERM, int timeout_ms = 5000);
  // Has it exited on its own? Reaps it when it has (then `result` says how).
  bool Exited(ProcessResult* result);
  // Waits up to `timeout_ms` for it to exit on its own (true, reaped, `result` says how);
  // false when it is still running at the deadline (it is left running).
  bool WaitForExit(int timeout_ms, ProcessResult* result);
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

class PrivateBus {
 public:
  PrivateBus();   // makes the temp dir
  ~PrivateBus();  // Stop(SIGKILL), then removes the directory and all in it
  PrivateBus(const PrivateBus&) = delete;
  PrivateBus& operator=(const PrivateBus&) = delete;

  // Starts dbus-daemon and returns once it listens (it has printed its address). Later calls
  // (after Stop) listen at the same socket path again.
  ::testing::AssertionResult Start();
  // Kills the daemon with `signal` (SIGKILL leaves the socket file behind, like a crash) and
  // reaps it. Connections to it see the socket close. The directory stays for a restart.
  void Stop(int signal = SIGTERM);

  bool running() const { return daemon_.running(); }
  pid_t pid() const { return daemon_.pid(); }
  const std::string& address() const { return address_; }          // unix:path=...
  const std::string& socket_path() const { return socket_path_; }  // the path alone
  const std::string& directory() const { return directory_.path(); }  // scratch space for tests
  std::string log_path() const { return directory_.Join("bus.log"); }  // dbus-daemon's stderr

  // What a peer needs in its environment (NAME=VALUE entries for EnvironmentWith) to find this
  // bus as its session and its system bus.
  std::vector<std::string> PeerEnvironment() const;
  // RunCommand with EnvironmentWith(PeerEnvironment()).
  CommandResult RunPeer(const std::vector<std::string>& argv,
                        std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;

 private:
  ::testing::AssertionResult WriteConfig();

  // Declared first, so it is removed after the daemon is reaped.
  TempDir directory_;
  ChildProcess daemon_;
  std::string socket_path_;
  std::string address_;
  std::string config_path_;
};

// Makes a fresh directory under $TMPDIR (or /tmp) named `prefix`XXXXXX; "" on failure.
std::string MakeTempDirectory(const std::string& prefix);

}  // namespace jsn::testing
