// SystemSystemd: a real systemd *system* manager, private to one test: PID 1 of a PID namespace
// of its own, with the real system bus (dbus-daemon or dbus-broker, the test's choice) at
// /run/dbus/system_bus_socket inside, journald, and default paths everywhere. The deployment
// path a charm takes, on a machine whose PID 1 is not systemd. It runs through
// tests/support/system-systemd (see its --help for the recipe and what it keeps from the host).
//
//   jsn::testing::SystemSystemd systemd("dbus-broker");
//   systemd.WriteUnit("hello.service", "[Service]\nExecStart=/bin/sleep infinity\n");
//   ASSERT_TRUE(systemd.Start());
//   EXPECT_TRUE(systemd.Systemctl({"start", "hello.service"}).succeeded());
//   EXPECT_EQ(systemd.UnitProperty("hello.service", "ActiveState"), "active");
//
// Inside, /usr/bin/juju-exec is tests/support/juju-exec-client (an overlay over /usr/bin; the
// host's is untouched): Juju's client side, which stats and reads
// /var/lib/juju/agents/unit-NAME and connects to its run.socket, where the fake agent
// (tests/support/fake-juju-agent, the unit jsn-juju-agent.service, started at boot) relays it to
// juju_exec()'s agent, which does what Juju's does: queues the command behind the unit's and the
// machine's locks (juju_exec().HoldMachineLock()), runs it outside the caller's unit, to its end
// even when the client is killed, and records it. /tmp, /var/tmp, /run, /var/log/journal,
// /var/lib/juju-systemd-notices and /var/lib/juju are private (tmpfs, or folders of dir()). dir()
// is seen at the same path inside and out: put what the test and the units share there (a charm
// dir, say).
//
// Ownership: the object owns systemd (by PID; SIGKILL to PID 1 of the namespace ends
// everything in it), its cgroups and its directory. Stop() (the destructor calls it) ends them
// and then checks that the host kept what the recipe promises to keep: a sentinel file in the
// host's /tmp and /var/tmp is still there, and the host's /etc/systemd/system, /var/log/journal,
// /var/lib/juju-systemd-notices and /var/lib/juju list the same names as before Start (the last
// two are made, empty, when absent: mount points); a breach is a test failure. Instances are
// independent (own namespaces, cgroup, directory). Needs root.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "support/child_process.h"
#include "support/fake_juju_exec.h"

namespace jsn::testing {

// One journal entry, from `journalctl -o json`.
struct JournalEntry {
  int priority = -1;  // PRIORITY, -1 when absent
  std::string message;
};

class SystemSystemd {
 public:
  // `bus` is "dbus-daemon" or "dbus-broker": which program is the system bus.
  explicit SystemSystemd(const std::string& bus);
  ~SystemSystemd();
  SystemSystemd(const SystemSystemd&) = delete;
  SystemSystemd& operator=(const SystemSystemd&) = delete;

  // Lays out /var/lib/juju/agents/unit-NAME (agent.conf) for the Juju unit `unit` ("app/0"),
  // before Start: the fake agent listens on the run.socket of each unit laid out at boot.
  ::testing::AssertionResult AddJujuUnit(const std::string& unit);

  // Writes NAME into the private /etc/systemd/system. Before Start systemd loads it at boot;
  // afterwards `Systemctl({"daemon-reload"})` makes it seen.
  ::testing::AssertionResult WriteUnit(const std::string& name, const std::string& text);

  // Boots systemd and waits, at most `timeout`, until `systemctl is-system-running` says
  // running (or degraded) inside. On failure the message carries systemd's console log.
  ::testing::AssertionResult Start(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // SIGKILLs systemd (everything in its namespace dies with it), reaps it, cleans its cgroups,
  // then checks what the host kept (see above). Idempotent; the destructor calls it.
  void Stop();

  // systemd's PID as the host sees it (0 before Start).
  pid_t pid() const { return systemd_pid_; }
  const std::string& bus() const { return bus_; }
  // Seen at the same path inside and out.
  const std::string& dir() const { return directory_.path(); }
  // The private /etc/systemd/system, as the host sees it.
  std::string unit_dir() const { return directory_.Join("etc-systemd-system"); }
  // systemd's console output (its own log lines, before journald is up and on failures).
  std::string log_path() const { return directory_.Join("systemd.log"); }
  // Juju's agent side of each juju-exec call (queue, locks, rules), and its record of them.
  FakeJujuExec& juju_exec() { return *juju_exec_; }

  // ARGV run inside every namespace of this systemd (`nsenter -t PID -a`), with no pager and no
  // colours.
  CommandResult Run(const std::vector<std::string>& argv,
                    std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;
  // `systemctl --no-pager ARGS...` inside.
  CommandResult Systemctl(const std::vector<std::string>& args) const;
  // A unit's property as `systemctl show -p PROPERTY --value` prints it, "" when unreadable.
  std::string UnitProperty(const std::string& unit, const std::string& property) const;
  // Polls (bounded) until `unit`'s MainPID is a process other than `old_pid`; returns it, or 0.
  pid_t WaitForNewMainPid(const std::string& unit, pid_t old_pid,
                          std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  // The journal entries of one unit (`journalctl -u UNIT -o json`), in order.
  std::vector<JournalEntry> Journal(const std::string& unit) const;

 private:
  std::string SentinelPath(const std::string& parent) const;

  std::string bus_;
  std::string cgroup_name_;  // also the prefix of the directory's name
  TempDir directory_;
  std::unique_ptr<FakeJujuExec> juju_exec_;
  ChildProcess starter_;  // `system-systemd start`: systemd's keeper (see its --help)
  pid_t systemd_pid_ = 0;
  bool cgroups_made_ = false;
  std::vector<std::string> sentinels_;
  std::vector<std::pair<std::string, std::string>> host_trees_;  // path, its listing at Start
};

}  // namespace jsn::testing
