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
// bus config comes from tests/support/private-bus.conf (found by source_tree.h's SourcePath). Every
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
  const std::string& address() const { return address_; }              // unix:path=...
  const std::string& socket_path() const { return socket_path_; }      // the path alone
  const std::string& directory() const { return directory_.path(); }   // scratch space for tests
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

}  // namespace jsn::testing
