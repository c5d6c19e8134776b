// UserSystemd: a real systemd user manager, private to one test, on a machine whose PID 1 is not
// systemd. It runs through tests/support/user-systemd (see its --help for the recipe: a cgroup of
// its own, a private mount namespace with a tmpfs on /run/systemd) and socket-activates its own
// dbus-daemon at bus_address(), where it owns org.freedesktop.systemd1.
//
//   jsn::testing::UserSystemd systemd;
//   systemd.WriteUnit("hello.service", "[Service]\nExecStart=/bin/sleep infinity\n");
//   ASSERT_TRUE(systemd.Start());
//   EXPECT_TRUE(systemd.Systemctl({"start", "hello.service"}).succeeded());
//   EXPECT_EQ(systemd.ActiveState("hello.service"), "active");
//
// Ownership: the object owns the manager process (by PID), its cgroups and its temporary
// directory (runtime dir, config home, the manager's log). The destructor stops the manager
// (SIGTERM, which for a user manager is `systemctl --user exit`; SIGKILL if it lingers), reaps
// it, kills whatever is left in its cgroups, and removes the cgroups and the directory.
// Instances are independent: each has its own cgroup name, runtime dir and bus, so tests (and
// test binaries) may run them in parallel.
// Needs root.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "support/child_process.h"

namespace jsn::testing {

class UserSystemd {
 public:
  UserSystemd();
  ~UserSystemd();
  UserSystemd(const UserSystemd&) = delete;
  UserSystemd& operator=(const UserSystemd&) = delete;

  // Writes NAME (e.g. "foo@.service") into $XDG_CONFIG_HOME/systemd/user/. Before Start the
  // manager loads it at start-up; afterwards call DaemonReload() for it to be seen.
  ::testing::AssertionResult WriteUnit(const std::string& name, const std::string& text);

  // Starts the manager and waits, at most `timeout`, until it owns org.freedesktop.systemd1 on
  // its bus and its SystemState is "running" (or "degraded"). On failure the message carries
  // the manager's log.
  ::testing::AssertionResult Start(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Asks the manager to exit and waits for it (SIGKILL after `grace`), then cleans its cgroups.
  // Idempotent; the destructor calls it.
  void Stop(std::chrono::milliseconds grace = std::chrono::seconds(10));

  pid_t pid() const { return manager_.pid(); }
  // "unix:path=<runtime dir>/bus": give it to the daemon as --bus, to busctl as --address.
  std::string bus_address() const { return "unix:path=" + runtime_dir() + "/bus"; }
  std::string runtime_dir() const { return directory_.Join("runtime"); }
  std::string config_home() const { return directory_.Join("config"); }
  std::string unit_dir() const { return config_home() + "/systemd/user"; }
  // A scratch directory for the test's own files (units' output, logs), removed with the rest.
  std::string scratch_dir() const { return directory_.Join("scratch"); }
  // Where the manager's stdout and stderr go.
  std::string log_path() const { return directory_.Join("manager.log"); }
  const std::string& cgroup_name() const { return cgroup_name_; }

  // The NAME=VALUE entries that point systemctl, systemd-run, busctl... at this manager:
  // XDG_RUNTIME_DIR, XDG_CONFIG_HOME, DBUS_SESSION_BUS_ADDRESS (and no pager, no colours).
  std::vector<std::string> EnvironmentOverrides() const;
  // The whole environment for a child: ours with EnvironmentOverrides() applied.
  std::vector<std::string> Environment() const { return EnvironmentWith(EnvironmentOverrides()); }

  // `systemctl --user ARGS...` against this manager (over its private socket).
  CommandResult Systemctl(const std::vector<std::string>& args) const;
  // `busctl --address=<bus> ARGS...` on this manager's bus.
  CommandResult Busctl(const std::vector<std::string>& args) const;
  // `systemctl --user daemon-reload`, as an assertion.
  ::testing::AssertionResult DaemonReload() const;

  // A property of org.freedesktop.systemd1.Unit read over the bus with
  // `busctl get-property` on the unit's object path (so it goes through the same escaping the
  // daemon uses); the unquoted string value, e.g. "active", or "" when it cannot be read.
  std::string UnitProperty(const std::string& unit, const std::string& property) const;
  std::string ActiveState(const std::string& unit) const {
    return UnitProperty(unit, "ActiveState");
  }
  // Polls ActiveState (bounded by `timeout`) until it equals `state`; the assertion message
  // says which state it stayed in.
  ::testing::AssertionResult WaitForActiveState(
      const std::string& unit, const std::string& state,
      std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;

  // systemd's object path for a unit: /org/freedesktop/systemd1/unit/ + bus-label escaping
  // (every byte outside [A-Za-z0-9], and a leading digit, as _xx in lowercase hex; "" as "_").
  // An independent implementation for tests; compare with the daemon's.
  static std::string UnitObjectPath(const std::string& unit);

 private:
  std::string ManagerProperty(const std::string& property) const;

  TempDir directory_;
  std::string cgroup_name_;
  ChildProcess manager_;
  bool cgroups_made_ = false;
};

}  // namespace jsn::testing
