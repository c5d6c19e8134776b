// The charm-side subcommands (subscribe, status, stop) against a real systemd user manager
// (tests/support/user_systemd.h) with --user: our binary writes the notices unit and the hook
// links, asks systemd over D-Bus to enable, reload and start it, and the daemon systemd starts
// delivers to a fake juju-exec.
//
// Readiness: the notices unit is Type=notify and the daemon sends READY=1 once it watches, so
// a service started as soon as `subscribe` returns is delivered. The daemon's log goes to a
// file through a test-only drop-in (StandardError=append:), for failure messages and for
// counting its starts; the unit file itself is ours untouched.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.h"
#include "support/fake_juju_exec.h"
#include "support/source_tree.h"
#include "support/user_systemd.h"

namespace jsn::testing {
namespace {

constexpr const char* kNoticesUnit = "juju-app-0-systemd-notices.service";
constexpr const char* kSleeper = "[Service]\nExecStart=/bin/sleep infinity\n";

bool IsSymlinkTo(const std::string& path, const std::string& target) {
  char buffer[4096];
  ssize_t length = readlink(path.c_str(), buffer, sizeof buffer);
  return length > 0 && std::string(buffer, static_cast<size_t>(length)) == target;
}

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

class CharmWithSystemd : public ::testing::Test {
 protected:
  void SetUp() override {
    charm_dir_ = systemd_.scratch_dir() + "/charm";
    ASSERT_EQ(mkdir(systemd_.scratch_dir().c_str(), 0755) == 0 || errno == EEXIST, true);
    ASSERT_EQ(mkdir(charm_dir_.c_str(), 0755), 0);
    ASSERT_TRUE(WriteFile(charm_dir_ + "/dispatch", "#!/bin/sh\nexit 0\n", 0755));
    ASSERT_TRUE(systemd_.WriteUnit("hello.service", kSleeper));
    ASSERT_TRUE(systemd_.WriteUnit("other.service", kSleeper));
    std::string dropin_dir = systemd_.unit_dir() + "/" + kNoticesUnit + ".d";
    ASSERT_EQ(mkdir(dropin_dir.c_str(), 0755), 0);
    ASSERT_TRUE(WriteFile(dropin_dir + "/test-log.conf",
                          "[Service]\nStandardError=append:" + DaemonLog() + "\n"));
    ASSERT_TRUE(systemd_.Start());
  }

  // The daemon's PID as systemd knows it ("0" when none).
  std::string MainPid() const {
    CommandResult result = systemd_.Systemctl({"show", "-p", "MainPID", "--value", kNoticesUnit});
    return result.succeeded() ? result.output : "failed: " + result.output;
  }
  std::string DaemonLog() const { return systemd_.scratch_dir() + "/daemon.log"; }
  std::string UnitFile() const { return systemd_.unit_dir() + "/" + kNoticesUnit; }

  CommandResult Run(std::vector<std::string> args) const {
    args.insert(args.begin(), DaemonPath());
    return RunCommand(args, systemd_.Environment(), std::chrono::seconds(120));
  }
  CommandResult Subscribe(const std::vector<std::string>& names) const {
    std::vector<std::string> args = {
        "subscribe", "--user",      "--unit",     "app/0",       "--charm-dir",
        charm_dir_,  "--juju-exec", juju_.path(), "--state-dir", systemd_.scratch_dir() + "/state"};
    args.insert(args.end(), names.begin(), names.end());
    return Run(args);
  }
  // Waits until the daemon's log has said "watching " `count` times (once per start).
  ::testing::AssertionResult WaitForWatching(size_t count) const {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::string log;
    while (std::chrono::steady_clock::now() < deadline) {
      log = ReadFile(DaemonLog());
      size_t seen = 0;
      for (size_t at = log.find("watching "); at != std::string::npos;
           at = log.find("watching ", at + 1)) {
        ++seen;
      }
      if (seen >= count) return ::testing::AssertionSuccess();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return ::testing::AssertionFailure()
           << "daemon did not say 'watching ' " << count << " times; its log:\n"
           << log;
  }

  UserSystemd systemd_;
  FakeJujuExec juju_;
  std::string charm_dir_;
};

TEST_F(CharmWithSystemd, SubscribeWritesUnitAndHooksAndSystemdRunsTheDaemonWhichDelivers) {
  CommandResult result = Subscribe({"hello=greeter"});
  ASSERT_TRUE(result.succeeded()) << result.Describe() << "\n" << result.output;

  std::string unit = ReadFile(UnitFile());
  EXPECT_NE(unit.find("\nType=notify\n"), std::string::npos) << unit;
  EXPECT_NE(unit.find("\nRestart=always\n"), std::string::npos) << unit;
  EXPECT_NE(unit.find("\nWorkingDirectory=" + charm_dir_ + "\n"), std::string::npos) << unit;
  EXPECT_NE(unit.find(" --unit app/0 "), std::string::npos) << unit;
  EXPECT_NE(unit.find(" hello.service=greeter\n"), std::string::npos) << unit;
  EXPECT_NE(unit.find("\nWantedBy=default.target\n"), std::string::npos) << unit;
  EXPECT_TRUE(IsSymlinkTo(charm_dir_ + "/hooks/service-greeter-started", charm_dir_ + "/dispatch"));
  EXPECT_TRUE(IsSymlinkTo(charm_dir_ + "/hooks/service-greeter-stopped", charm_dir_ + "/dispatch"));
  EXPECT_TRUE(
      IsSymlinkTo(systemd_.unit_dir() + "/default.target.wants/" + kNoticesUnit, UnitFile()));
  EXPECT_EQ(systemd_.ActiveState(kNoticesUnit), "active");
  EXPECT_EQ(systemd_.UnitProperty(kNoticesUnit, "UnitFileState"), "enabled");
  EXPECT_NE(MainPid(), "0\n");

  // No waiting: Type=notify made subscribe return only once the daemon watches.
  ASSERT_TRUE(systemd_.Systemctl({"start", "hello.service"}).succeeded());
  ASSERT_TRUE(juju_.WaitForEnded(1)) << ReadFile(DaemonLog());
  std::vector<JujuExecCall> calls = juju_.Calls();
  ASSERT_EQ(calls.size(), 1u) << FakeJujuExec::Describe(calls);
  EXPECT_EQ(calls[0].unit(), "app/0");
  EXPECT_EQ(calls[0].hook(), "hooks/service-greeter-started");

  CommandResult status = Run({"status", "--user", "--unit", "app/0"});
  ASSERT_TRUE(status.succeeded()) << status.Describe() << "\n" << status.output;
  EXPECT_NE(status.output.find(std::string(kNoticesUnit) + ": active\n"), std::string::npos)
      << status.output;
  EXPECT_NE(status.output.find("greeter"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("hello.service"), std::string::npos) << status.output;
  // The hook's end is logged by juju-exec before the daemon reaps it and records it in its
  // state file (on its next loop pass), so under load status may still say pending: poll.
  const std::string delivered =
      "{\"alias\": \"greeter\", \"unit\": \"hello.service\", \"id\": \"hello.service\", "
      "\"active_state\": \"active\", \"delivered\": \"started\"";
  CommandResult json;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);;) {
    json = Run({"status", "--user", "--unit", "app/0", "--json"});
    ASSERT_TRUE(json.succeeded()) << json.Describe() << "\n" << json.output;
    if (json.output.find(delivered) != std::string::npos) break;
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(json.output.find(delivered), std::string::npos) << json.output;
  // What systemd said with that state, as the hook was told it.
  std::string timestamp = calls[0].Variable("JSN_TIMESTAMP");
  EXPECT_EQ(calls[0].argv[2],
            "JSN_STATE=active JSN_RESULT=success JSN_N_RESTARTS=0 JSN_TIMESTAMP=" + timestamp +
                " hooks/service-greeter-started");
  EXPECT_NE(json.output.find("\"transition\": {\"state\": \"active\", \"result\": \"success\", "
                             "\"n_restarts\": 0, \"timestamp\": " +
                             timestamp + "}}"),
            std::string::npos)
      << json.output;
  CommandResult table = Run({"status", "--user", "--unit", "app/0"});
  EXPECT_NE(table.output.find(
                " last: state=active result=success n_restarts=0 timestamp=" + timestamp + " \n"),
            std::string::npos)
      << table.output;
}

TEST_F(CharmWithSystemd, SubscribeTwiceWithTheSameArgumentsChangesNothing) {
  ASSERT_TRUE(Subscribe({"hello"}).succeeded());
  ASSERT_TRUE(WaitForWatching(1));
  std::string pid = MainPid();
  ASSERT_NE(pid, "0\n");
  std::string before = ReadFile(UnitFile());
  struct stat first;
  ASSERT_EQ(stat(UnitFile().c_str(), &first), 0);

  CommandResult again = Subscribe({"hello"});
  ASSERT_TRUE(again.succeeded()) << again.Describe() << "\n" << again.output;
  EXPECT_NE(again.output.find("unchanged"), std::string::npos) << again.output;
  struct stat second;
  ASSERT_EQ(stat(UnitFile().c_str(), &second), 0);
  EXPECT_EQ(first.st_ino, second.st_ino) << "the unit file was rewritten";
  EXPECT_EQ(ReadFile(UnitFile()), before);
  EXPECT_EQ(MainPid(), pid) << "the daemon was restarted";
}

TEST_F(CharmWithSystemd, SubscribeWithNewArgumentsRewritesAndRestartsTheDaemon) {
  ASSERT_TRUE(Subscribe({"hello"}).succeeded());
  ASSERT_TRUE(WaitForWatching(1));
  std::string pid = MainPid();

  CommandResult changed = Subscribe({"hello", "other"});
  ASSERT_TRUE(changed.succeeded()) << changed.Describe() << "\n" << changed.output;
  EXPECT_NE(ReadFile(UnitFile()).find(" other.service=other\n"), std::string::npos);
  EXPECT_NE(MainPid(), pid) << "not restarted";
  EXPECT_EQ(systemd_.ActiveState(kNoticesUnit), "active");
  ASSERT_TRUE(WaitForWatching(2));
  ASSERT_TRUE(systemd_.Systemctl({"start", "other.service"}).succeeded());
  ASSERT_TRUE(juju_.WaitForEnded(1)) << ReadFile(DaemonLog());
  EXPECT_EQ(juju_.Calls()[0].hook(), "hooks/service-other-started");
}

TEST_F(CharmWithSystemd, SubscribeLeavesAnExistingHookAlone) {
  ASSERT_EQ(mkdir((charm_dir_ + "/hooks").c_str(), 0755), 0);
  ASSERT_TRUE(WriteFile(charm_dir_ + "/hooks/service-hello-started", "#!/bin/sh\n# mine\n", 0755));
  ASSERT_TRUE(Subscribe({"hello"}).succeeded());
  EXPECT_EQ(ReadFile(charm_dir_ + "/hooks/service-hello-started"), "#!/bin/sh\n# mine\n");
  EXPECT_TRUE(IsSymlinkTo(charm_dir_ + "/hooks/service-hello-stopped", charm_dir_ + "/dispatch"));
}

TEST_F(CharmWithSystemd, StopStopsAndDisablesTheDaemon) {
  ASSERT_TRUE(Subscribe({"hello"}).succeeded());
  EXPECT_EQ(systemd_.ActiveState(kNoticesUnit), "active");

  CommandResult stop = Run({"stop", "--user", "--unit", "app/0"});
  ASSERT_TRUE(stop.succeeded()) << stop.Describe() << "\n" << stop.output;
  EXPECT_EQ(systemd_.ActiveState(kNoticesUnit), "inactive");
  EXPECT_EQ(systemd_.UnitProperty(kNoticesUnit, "UnitFileState"), "disabled");
  EXPECT_FALSE(Exists(systemd_.unit_dir() + "/default.target.wants/" + kNoticesUnit));

  // Subscribing again brings it back.
  ASSERT_TRUE(Subscribe({"hello"}).succeeded());
  EXPECT_EQ(systemd_.ActiveState(kNoticesUnit), "active");
}

TEST_F(CharmWithSystemd, StopOfAUnitNeverSubscribedSucceeds) {
  CommandResult stop = Run({"stop", "--user", "--unit", "never/3"});
  EXPECT_TRUE(stop.succeeded()) << stop.Describe() << "\n" << stop.output;
}

TEST_F(CharmWithSystemd, StatusOfAUnitNeverSubscribedSaysSoAndFails) {
  CommandResult status = Run({"status", "--user", "--unit", "never/3"});
  EXPECT_EQ(status.exit_code(), 1) << status.output;
  EXPECT_NE(status.output.find("juju-never-3-systemd-notices.service"), std::string::npos)
      << status.output;
}

// A FIFO planted where the unit file should be hung status (and subscribe's comparison) in
// open(). It is reported, read as no unit file, and subscribe replaces it with the real one.
TEST_F(CharmWithSystemd, AFifoAtTheUnitFileIsReportedWithoutBlockingAndReplaced) {
  ASSERT_EQ(mkfifo(UnitFile().c_str(), 0644), 0);
  CommandResult status = Run({"status", "--user", "--unit", "app/0"});
  EXPECT_EQ(status.exit_code(), 1) << status.output;
  EXPECT_NE(status.output.find("to be a regular file, found a FIFO"), std::string::npos)
      << status.output;
  CommandResult subscribed = Subscribe({"hello"});
  ASSERT_TRUE(subscribed.succeeded()) << subscribed.Describe() << "\n" << subscribed.output;
  struct stat st;
  ASSERT_EQ(lstat(UnitFile().c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(systemd_.ActiveState(kNoticesUnit), "active");
}

TEST_F(CharmWithSystemd, BadInputExitsTwoAndWritesNothing) {
  const std::vector<std::vector<std::string>> bad = {
      {"subscribe", "--user", "--unit", "App/0", "--charm-dir", charm_dir_, "hello"},
      {"subscribe", "--user", "--unit", "app/0", "--charm-dir", charm_dir_, "hello=bad alias"},
      {"subscribe", "--user", "--unit", "app/0", "--charm-dir", charm_dir_, "he llo"},
      {"subscribe", "--user", "--unit", "app/0", "--charm-dir", charm_dir_},
      {"subscribe", "--user", "--unit", "app/0", "--charm-dir", "relative", "hello"},
      {"subscribe", "--user", "--unit", "app/0", "--charm-dir", charm_dir_ + "/absent", "hello"},
      {"subscribe", "--user", "--unit", "app/0", "hello"},
      {"subscribe", "--user", "--unit", "app/0", "--charm-dir", charm_dir_, "--type=forking",
       "hello"},
      {"subscribe", "--user", "--unit", "app/0", "--charm-dir", charm_dir_, "a", "a"},
      {"stop", "--user", "--unit", "app/0", "hello"},
      {"status", "--user", "--unit", "app"},
  };
  for (const auto& args : bad) {
    CommandResult result = Run(args);
    EXPECT_EQ(result.exit_code(), 2) << args[4] << " " << args.back() << ": " << result.output;
    EXPECT_NE(result.output.find("expected"), std::string::npos) << result.output;
  }
  EXPECT_FALSE(Exists(charm_dir_ + "/hooks"));
  EXPECT_FALSE(Exists(UnitFile()));
  EXPECT_EQ(systemd_.UnitProperty(kNoticesUnit, "LoadState"), "not-found");
}

TEST_F(CharmWithSystemd, RemoveStopsDisablesAndDeletesTheUnitFileAndTheStateFile) {
  ASSERT_TRUE(Subscribe({"hello"}).succeeded());
  ASSERT_TRUE(WaitForWatching(1));
  std::string state_file = systemd_.scratch_dir() + "/state/app-0.state";
  ASSERT_TRUE(Exists(state_file));

  CommandResult remove = Run({"remove", "--user", "--unit", "app/0"});
  ASSERT_TRUE(remove.succeeded()) << remove.Describe() << "\n" << remove.output;
  EXPECT_FALSE(Exists(UnitFile()));
  EXPECT_FALSE(Exists(systemd_.unit_dir() + "/default.target.wants/" + kNoticesUnit));
  EXPECT_FALSE(Exists(state_file)) << "the --state-dir read back from the unit file";
  EXPECT_EQ(systemd_.ActiveState(kNoticesUnit), "inactive");
  EXPECT_EQ(systemd_.UnitProperty(kNoticesUnit, "LoadState"), "not-found");
  // The hook links go with the charm dir, not with us.
  EXPECT_TRUE(IsSymlinkTo(charm_dir_ + "/hooks/service-hello-started", charm_dir_ + "/dispatch"));

  // Again, or after stop, or for a unit never subscribed: nothing there is not an error.
  CommandResult again = Run({"remove", "--user", "--unit", "app/0"});
  EXPECT_TRUE(again.succeeded()) << again.Describe() << "\n" << again.output;
  EXPECT_NE(again.output.find("was not there"), std::string::npos) << again.output;
  CommandResult never = Run({"remove", "--user", "--unit", "never/3"});
  EXPECT_TRUE(never.succeeded()) << never.Describe() << "\n" << never.output;
}

// A refresh unlinks the charm's old files and writes new ones: the binary at the same path is
// another file. The unit file records the binary's sha256, so subscribing with the new one
// rewrites it and restarts the daemon onto the new binary, not the deleted one.
TEST_F(CharmWithSystemd, SubscribeWithANewBinaryAtTheSamePathRestartsTheDaemonOntoIt) {
  std::string binary = charm_dir_ + "/bin/juju-systemd-notices";
  ASSERT_EQ(mkdir((charm_dir_ + "/bin").c_str(), 0755), 0);
  std::string program = ReadFile(DaemonPath());
  ASSERT_FALSE(program.empty());
  ASSERT_TRUE(WriteFile(binary, program, 0755));
  std::vector<std::string> args = {binary,
                                   "subscribe",
                                   "--user",
                                   "--unit",
                                   "app/0",
                                   "--charm-dir",
                                   charm_dir_,
                                   "--juju-exec",
                                   juju_.path(),
                                   "--state-dir",
                                   systemd_.scratch_dir() + "/state",
                                   "hello"};
  CommandResult first = RunCommand(args, systemd_.Environment(), std::chrono::seconds(120));
  ASSERT_TRUE(first.succeeded()) << first.Describe() << "\n" << first.output;
  ASSERT_TRUE(WaitForWatching(1));
  std::string pid = MainPid();

  // The new build: another file (trailing bytes change the digest, not what the ELF loader runs).
  ASSERT_EQ(unlink(binary.c_str()), 0);
  ASSERT_TRUE(WriteFile(binary, program + "refreshed", 0755));
  CommandResult refreshed = RunCommand(args, systemd_.Environment(), std::chrono::seconds(120));
  ASSERT_TRUE(refreshed.succeeded()) << refreshed.Describe() << "\n" << refreshed.output;
  EXPECT_NE(refreshed.output.find("unit file written"), std::string::npos) << refreshed.output;
  ASSERT_TRUE(WaitForWatching(2));
  std::string new_pid = MainPid();
  EXPECT_NE(new_pid, pid) << "not restarted";
  char exe[4096];
  std::string exe_link = "/proc/" + new_pid.substr(0, new_pid.find('\n')) + "/exe";
  ssize_t length = readlink(exe_link.c_str(), exe, sizeof exe);
  ASSERT_GT(length, 0) << exe_link;
  EXPECT_EQ(std::string(exe, static_cast<size_t>(length)), binary);  // not "... (deleted)"
  CommandResult digest = RunCommand({"sha256sum", binary}, {}, std::chrono::seconds(30));
  ASSERT_TRUE(digest.succeeded());
  EXPECT_NE(ReadFile(UnitFile())
                .find("# Binary: juju-systemd-notices " JSN_VERSION ", sha256 " +
                      digest.output.substr(0, 64) + "\n"),
            std::string::npos)
      << ReadFile(UnitFile());

  // The same binary again: nothing changes.
  CommandResult same = RunCommand(args, systemd_.Environment(), std::chrono::seconds(120));
  ASSERT_TRUE(same.succeeded()) << same.Describe() << "\n" << same.output;
  EXPECT_NE(same.output.find("unchanged and running"), std::string::npos) << same.output;
  EXPECT_EQ(MainPid(), new_pid);

  // The same bytes in a new file (a refresh that kept the build): the unit file is the same,
  // but the daemon runs the deleted file, so it is restarted onto the one at the path.
  ASSERT_EQ(unlink(binary.c_str()), 0);
  ASSERT_TRUE(WriteFile(binary, program + "refreshed", 0755));
  CommandResult copied = RunCommand(args, systemd_.Environment(), std::chrono::seconds(120));
  ASSERT_TRUE(copied.succeeded()) << copied.Describe() << "\n" << copied.output;
  EXPECT_NE(copied.output.find("unchanged, restarted: the daemon ran another command"),
            std::string::npos)
      << copied.output;
  ASSERT_TRUE(WaitForWatching(3));
  std::string copied_pid = MainPid();
  EXPECT_NE(copied_pid, new_pid) << "not restarted";
  exe_link = "/proc/" + copied_pid.substr(0, copied_pid.find('\n')) + "/exe";
  length = readlink(exe_link.c_str(), exe, sizeof exe);
  ASSERT_GT(length, 0) << exe_link;
  EXPECT_EQ(std::string(exe, static_cast<size_t>(length)), binary);
}

// Every path subscribe writes into the unit file is read back by systemd exactly, or refused
// with exit 2 before anything is written. The charm dir is the one that reaches the unit file
// as realpath() found it, so hostile names are real directories here (a symlink to one is the
// attack: --charm-dir itself may look harmless). The binary (its own path, from a copy in the
// hostile dir), --state-dir and --juju-exec under the same name go into ExecStart= and come
// back as the daemon's argv.
TEST_F(CharmWithSystemd, HostileCharmDirsAreReadBackExactlyOrRefusedBeforeAnythingIsWritten) {
  const std::vector<std::string> accepted = {
      "dollar$HOME", "percent100%", "back\\slash", "quote\"d", "it's", "sp ace", "semi;colon",
      "caf\xc3\xa9", "#hash", " leading",
      // U+FDCF and U+FFFD, each next to systemd's noncharacters (refused below)
      "near\xef\xb7\x8f\xef\xbf\xbd"};
  for (const std::string& name : accepted) {
    std::string dir = systemd_.scratch_dir() + "/" + name;
    ASSERT_EQ(mkdir(dir.c_str(), 0755), 0) << name;
    ASSERT_TRUE(WriteFile(dir + "/dispatch", "#!/bin/sh\nexit 0\n", 0755));
    std::string link = systemd_.scratch_dir() + "/innocent";
    unlink(link.c_str());
    ASSERT_EQ(symlink(dir.c_str(), link.c_str()), 0);
    // systemd refuses a quote or a backslash in the executable's name (refused below): the
    // binary is copied into the dir only when it may run from there.
    std::string binary = DaemonPath();
    if (name.find_first_of("\"'\\") == std::string::npos) {
      binary = dir + "/juju-systemd-notices";
      ASSERT_TRUE(WriteFile(binary, ReadFile(DaemonPath()), 0755));
    }
    CommandResult result =
        RunCommand({binary, "subscribe", "--user", "--unit", "app/0", "--charm-dir", link,
                    "--juju-exec", dir + "/juju-exec", "--state-dir", dir + "/state", "hello"},
                   systemd_.Environment(), std::chrono::seconds(120));
    ASSERT_TRUE(result.succeeded())
        << name << ": " << result.Describe() << "\n"
        << result.output << ReadFile(DaemonLog())
        << systemd_.Systemctl({"status", "--no-pager", "-l", kNoticesUnit}).output
        << ReadFile(UnitFile());
    // Active: the conditions on the dir and the binary held, so systemd read both paths back.
    EXPECT_EQ(systemd_.ActiveState(kNoticesUnit), "active") << name;
    CommandResult verify = RunCommand({"systemd-analyze", "--user", "verify", UnitFile()},
                                      systemd_.Environment(), std::chrono::seconds(60));
    EXPECT_TRUE(verify.succeeded()) << name << ": " << verify.Describe() << "\n" << verify.output;
    EXPECT_EQ(verify.output, "") << name;
    std::string pid = MainPid();
    char cwd[4096];
    std::string cwd_link = "/proc/" + pid.substr(0, pid.find('\n')) + "/cwd";
    ssize_t cwd_length = readlink(cwd_link.c_str(), cwd, sizeof cwd);
    ASSERT_GT(cwd_length, 0) << cwd_link;
    EXPECT_EQ(std::string(cwd, static_cast<size_t>(cwd_length)), dir) << "WorkingDirectory";
    std::string cmdline = ReadFile("/proc/" + pid.substr(0, pid.find('\n')) + "/cmdline");
    const std::string nul(1, '\0');
    if (binary != DaemonPath()) {
      EXPECT_EQ(cmdline.rfind(binary + nul, 0), 0u) << name << ": the daemon's argv: " << cmdline;
    }
    for (const std::string& option :
         {"--charm-dir" + nul + dir, "--juju-exec" + nul + dir + "/juju-exec",
          "--state-dir" + nul + dir + "/state"}) {
      EXPECT_NE(cmdline.find(nul + option + nul), std::string::npos)
          << name << ": the daemon's argv: " << cmdline;
    }
  }
  const std::vector<std::string> refused = {"new\nExecStartPre=touch jsn-pwned",
                                            "trailing\\",
                                            "trailing ",
                                            "tab\there",
                                            "ctl\x01",
                                            "latin1\xe9",
                                            "U+FDD0\xef\xb7\x90",
                                            "U+FDEF\xef\xb7\xaf",
                                            "U+FFFE\xef\xbf\xbe",
                                            "U+10FFFF\xf4\x8f\xbf\xbf"};
  for (const std::string& name : refused) {
    std::string dir = systemd_.scratch_dir() + "/" + name;
    ASSERT_EQ(mkdir(dir.c_str(), 0755), 0) << name;
    ASSERT_TRUE(WriteFile(dir + "/dispatch", "#!/bin/sh\nexit 0\n", 0755));
    std::string link = systemd_.scratch_dir() + "/innocent";
    unlink(link.c_str());
    ASSERT_EQ(symlink(dir.c_str(), link.c_str()), 0);
    CommandResult result =
        Run({"subscribe", "--user", "--unit", "bad/0", "--charm-dir", link, "hello"});
    EXPECT_EQ(result.exit_code(), 2) << name << ": " << result.output;
    EXPECT_NE(result.output.find("expected the charm directory that systemd reads back"),
              std::string::npos)
        << result.output;
    EXPECT_FALSE(Exists(dir + "/hooks")) << name;
    EXPECT_FALSE(Exists(systemd_.unit_dir() + "/juju-bad-0-systemd-notices.service")) << name;
    if (name.rfind("U+", 0) == 0) {
      // The rule is systemd's own (unichar_is_valid): such a line is dropped.
      std::string probe = systemd_.scratch_dir() + "/probe.service";
      ASSERT_TRUE(
          WriteFile(probe, "[Service]\nExecStart=/bin/true\nWorkingDirectory=" + dir + "\n"));
      CommandResult verify = RunCommand({"systemd-analyze", "--user", "verify", probe},
                                        systemd_.Environment(), std::chrono::seconds(60));
      EXPECT_NE(verify.output.find("String is not UTF-8 clean, ignoring assignment"),
                std::string::npos)
          << name << ": " << verify.output;
    }
  }
  EXPECT_FALSE(Exists(charm_dir_ + "/jsn-pwned"));
  // A binary systemd could never start: a quote in its path.
  std::string dir = systemd_.scratch_dir() + "/quote\"d";
  std::string binary = dir + "/juju-systemd-notices";
  ASSERT_TRUE(WriteFile(binary, ReadFile(DaemonPath()), 0755));
  CommandResult result = RunCommand(
      {binary, "subscribe", "--user", "--unit", "bad/0", "--charm-dir", charm_dir_, "hello"},
      systemd_.Environment(), std::chrono::seconds(120));
  EXPECT_EQ(result.exit_code(), 2) << result.output;
  EXPECT_NE(result.output.find("no quote or backslash (refused in an executable's name)"),
            std::string::npos)
      << result.output;
  EXPECT_FALSE(Exists(charm_dir_ + "/hooks"));
  EXPECT_FALSE(Exists(systemd_.unit_dir() + "/juju-bad-0-systemd-notices.service"));
}

}  // namespace
}  // namespace jsn::testing
