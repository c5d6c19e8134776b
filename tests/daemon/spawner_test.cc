#include "jsn/daemon/spawner.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace jsn {
namespace {

// Waits (in the test, not in the daemon) until `pid` has exited, without reaping it, so
// that ReapExited is what collects it.
void WaitUntilExited(pid_t pid) {
  siginfo_t info;
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT), 0);
}

ExitStatus ReapOnly(const Spawner& spawner, pid_t expected) {
  pid_t pid = 0;
  ExitStatus status;
  EXPECT_TRUE(spawner.ReapExited(&pid, &status));
  EXPECT_EQ(pid, expected);
  return status;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Field `n` (1-based, after the comm field) of /proc/PID/stat.
long StatField(pid_t pid, int n) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  for (int i = 3; i <= n; ++i) fields >> field;
  return std::stol(field);
}

class SpawnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmpdir = getenv("TMPDIR");
    std::string templ = std::string(tmpdir != nullptr ? tmpdir : "/tmp") + "/spawner_test.XXXXXX";
    std::vector<char> buffer(templ.begin(), templ.end());
    buffer.push_back('\0');
    ASSERT_NE(mkdtemp(buffer.data()), nullptr);
    dir_ = buffer.data();
  }
  void TearDown() override {
    for (const std::string& file : files_) unlink(file.c_str());
    rmdir(dir_.c_str());
  }
  std::string WriteScript(const std::string& name, const std::string& text, mode_t mode) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    chmod(path.c_str(), mode);
    files_.push_back(path);
    return path;
  }
  std::string dir_;
  std::vector<std::string> files_;
};

TEST_F(SpawnerTest, ReportsTheExitCode) {
  Spawner spawner;
  const char* environment[] = {nullptr};
  ASSERT_TRUE(spawner.Init(environment).ok());
  const char* argv[] = {"/bin/sh", "-c", "exit 3", nullptr};
  pid_t pid = 0;
  ASSERT_TRUE(spawner.Spawn(argv, &pid).ok());
  WaitUntilExited(pid);
  ExitStatus status = ReapOnly(spawner, pid);
  EXPECT_FALSE(status.ok());
  EXPECT_FALSE(status.signaled);
  EXPECT_EQ(status.code, 3);
  char text[64];
  EXPECT_STREQ(DescribeExitStatus(status, text, sizeof text), "exit 3");
}

TEST_F(SpawnerTest, ReapingNeverBlocks) {
  Spawner spawner;
  const char* environment[] = {nullptr};
  ASSERT_TRUE(spawner.Init(environment).ok());
  pid_t none = 0;
  ExitStatus status;
  EXPECT_FALSE(spawner.ReapExited(&none, &status));  // no children at all

  const char* argv[] = {"/bin/sleep", "30", nullptr};
  pid_t pid = 0;
  ASSERT_TRUE(spawner.Spawn(argv, &pid).ok());
  EXPECT_FALSE(spawner.ReapExited(&none, &status));  // running: returns at once
  kill(pid, SIGKILL);
  WaitUntilExited(pid);
  status = ReapOnly(spawner, pid);
  EXPECT_TRUE(status.signaled);
  EXPECT_EQ(status.code, SIGKILL);
  char text[64];
  EXPECT_STREQ(DescribeExitStatus(status, text, sizeof text), "killed by signal 9 (SIGKILL)");
}

TEST_F(SpawnerTest, ChildHasItsOwnProcessGroupRootCwdAndNoBlockedSignals) {
  // Block a signal here, as the daemon does for its signalfd: the child must not inherit it.
  sigset_t block, previous;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  ASSERT_EQ(sigprocmask(SIG_BLOCK, &block, &previous), 0);
  Spawner spawner;
  const char* environment[] = {nullptr};
  ASSERT_TRUE(spawner.Init(environment).ok());
  const char* argv[] = {"/bin/sleep", "30", nullptr};
  pid_t pid = 0;
  Status spawned = spawner.Spawn(argv, &pid);
  sigprocmask(SIG_SETMASK, &previous, nullptr);
  ASSERT_TRUE(spawned.ok()) << spawned.message();

  // exec may not have happened yet; /proc/PID/exe changes when it has.
  for (int i = 0; i < 1000; ++i) {
    char exe[256] = {};
    ssize_t n = readlink(("/proc/" + std::to_string(pid) + "/exe").c_str(), exe, sizeof exe - 1);
    if (n > 0 && strstr(exe, "sleep") != nullptr) break;
    usleep(1000);
  }
  EXPECT_EQ(StatField(pid, 5), pid);  // pgrp
  EXPECT_NE(getpgrp(), pid);
  char cwd[256] = {};
  ASSERT_GT(readlink(("/proc/" + std::to_string(pid) + "/cwd").c_str(), cwd, sizeof cwd - 1), 0);
  EXPECT_STREQ(cwd, "/");
  std::string status = ReadFile("/proc/" + std::to_string(pid) + "/status");
  EXPECT_NE(status.find("SigBlk:\t0000000000000000"), std::string::npos) << status;
  char stdin_target[256] = {};
  ASSERT_GT(readlink(("/proc/" + std::to_string(pid) + "/fd/0").c_str(), stdin_target,
                     sizeof stdin_target - 1),
            0);
  EXPECT_STREQ(stdin_target, "/dev/null");

  ASSERT_EQ(kill(pid, SIGKILL), 0);
  WaitUntilExited(pid);
  EXPECT_TRUE(ReapOnly(spawner, pid).signaled);
}

// A hook starts clean whatever the daemon inherited or the libc did: no signal ignored (glibc's
// posix_spawn ignores its internal signals 32 and 33 in the child unless they are in the
// default set, which sigfillset leaves them out of), and no descriptor but 0-2 (one the
// daemon's parent leaked without close-on-exec would reach every hook).
TEST_F(SpawnerTest, ChildIgnoresNoSignalAndHasNoDescriptorButTheFirstThree) {
  int leaked = open("/dev/null", O_RDONLY);  // no O_CLOEXEC, as a careless parent's
  ASSERT_GE(leaked, 0);
  ASSERT_EQ(dup2(leaked, 57), 57);
  close(leaked);
  struct sigaction ignore = {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction previous_usr1;
  ASSERT_EQ(sigaction(SIGUSR1, &ignore, &previous_usr1), 0);  // ignored here, as inherited
  Spawner spawner;
  const char* environment[] = {nullptr};
  ASSERT_TRUE(spawner.Init(environment).ok());
  std::string out = dir_ + "/child";
  files_.push_back(out);
  // The shell's descriptors first, then cat exec'd in its place reads its own status: what a
  // hook inherits (not the shell's own mask, which it blocks around each fork).
  std::string script =
      "for fd in 3 4 5 57; do [ -e /proc/$$/fd/$fd ] && echo \"open $fd\"; "
      "done > " +
      out + "; exec cat /proc/self/status >> " + out;
  const char* argv[] = {"/bin/sh", "-c", script.c_str(), nullptr};
  pid_t pid = 0;
  Status spawned = spawner.Spawn(argv, &pid);
  sigaction(SIGUSR1, &previous_usr1, nullptr);
  close(57);
  ASSERT_TRUE(spawned.ok()) << spawned.message();
  WaitUntilExited(pid);
  EXPECT_EQ(ReapOnly(spawner, pid).code, 0);
  std::string status = ReadFile(out);
  EXPECT_NE(status.find("SigIgn:\t0000000000000000"), std::string::npos) << status;
  EXPECT_NE(status.find("SigBlk:\t0000000000000000"), std::string::npos) << status;
  EXPECT_EQ(status.find("open "), std::string::npos) << status;
}

TEST_F(SpawnerTest, EnvironmentDropsTheDaemonsOwnVariablesAndAddsAPath) {
  Spawner spawner;
  const char* environment[] = {"HOME=/root",
                               "NOTIFY_SOCKET=/run/systemd/notify",
                               "WATCHDOG_USEC=1",
                               "WATCHDOG_PID=1",
                               "LISTEN_FDS=1",
                               "LISTEN_PID=1",
                               "LISTEN_FDNAMES=x",
                               "INVOCATION_ID=0123456789abcdef0123456789abcdef",
                               "SYSTEMD_EXEC_PID=1",
                               "MEMORY_PRESSURE_WATCH=/sys/fs/cgroup/x/memory.pressure",
                               "MEMORY_PRESSURE_WRITE=c29tZQ==",
                               "JOURNAL_STREAM=8:12345",
                               "JUJU_X=y",
                               nullptr};
  ASSERT_TRUE(spawner.Init(environment).ok());
  std::vector<std::string> seen(spawner.environment(),
                                spawner.environment() + spawner.environment_size());
  EXPECT_EQ(seen, (std::vector<std::string>{std::string("PATH=") + kDefaultPath, "HOME=/root",
                                            "JOURNAL_STREAM=8:12345", "JUJU_X=y"}));
  EXPECT_EQ(spawner.environment()[spawner.environment_size()], nullptr);

  const char* with_path[] = {"PATH=/custom", "PATH=/second", nullptr};
  ASSERT_TRUE(spawner.Init(with_path).ok());
  ASSERT_EQ(spawner.environment_size(), 1u);
  EXPECT_STREQ(spawner.environment()[0], "PATH=/custom");
}

// However many entries come before it, PATH is passed on (first), and the entries past the
// limit are the ones dropped.
TEST_F(SpawnerTest, PathSurvivesAnEnvironmentOfMoreEntriesThanTheLimit) {
  for (size_t count : {Spawner::kMaxEnvironment - 1, Spawner::kMaxEnvironment,
                       Spawner::kMaxEnvironment + 1, 3 * Spawner::kMaxEnvironment}) {
    std::vector<std::string> entries;
    for (size_t i = 0; i < count; ++i) entries.push_back("V" + std::to_string(i) + "=x");
    entries.push_back("PATH=/daemons/own");
    std::vector<const char*> environment;
    for (const std::string& entry : entries) environment.push_back(entry.c_str());
    environment.push_back(nullptr);
    Spawner spawner;
    ASSERT_TRUE(spawner.Init(environment.data()).ok());
    size_t expected = count + 1 < Spawner::kMaxEnvironment ? count + 1 : Spawner::kMaxEnvironment;
    ASSERT_EQ(spawner.environment_size(), expected) << count;
    EXPECT_STREQ(spawner.environment()[0], "PATH=/daemons/own") << count;
    EXPECT_STREQ(spawner.environment()[1], "V0=x") << count;
    EXPECT_EQ(spawner.environment()[expected - 1], "V" + std::to_string(expected - 2) + "=x");
    EXPECT_EQ(spawner.environment()[expected], nullptr);
  }
}

TEST_F(SpawnerTest, ChildSeesTheCapturedEnvironment) {
  std::string out = dir_ + "/env.out";
  files_.push_back(out);
  std::string script = WriteScript("print-env", "#!/bin/sh\nenv > \"$1\"\n", 0755);
  Spawner spawner;
  // More entries than the limit, PATH last, and systemd's variables for the daemon's process.
  std::vector<std::string> entries = {"NOTIFY_SOCKET=@x", "INVOCATION_ID=ab", "SYSTEMD_EXEC_PID=7",
                                      "MEMORY_PRESSURE_WATCH=/x", "KEEP=1"};
  for (size_t i = 0; i < Spawner::kMaxEnvironment; ++i) {
    entries.push_back("FILL" + std::to_string(i) + "=x");
  }
  entries.push_back("PATH=/usr/bin:/bin");  // not the default: the daemon's own reaches the hook
  std::vector<const char*> environment;
  for (const std::string& entry : entries) environment.push_back(entry.c_str());
  environment.push_back(nullptr);
  ASSERT_TRUE(spawner.Init(environment.data()).ok());
  const char* argv[] = {script.c_str(), out.c_str(), nullptr};
  pid_t pid = 0;
  ASSERT_TRUE(spawner.Spawn(argv, &pid).ok());
  WaitUntilExited(pid);
  EXPECT_TRUE(ReapOnly(spawner, pid).ok());
  std::string env = ReadFile(out);
  EXPECT_NE(env.find("KEEP=1\n"), std::string::npos) << env;
  EXPECT_NE(("\n" + env).find("\nPATH=/usr/bin:/bin\n"), std::string::npos) << env;
  EXPECT_EQ(env.find("NOTIFY_SOCKET"), std::string::npos) << env;
  EXPECT_EQ(env.find("INVOCATION_ID"), std::string::npos) << env;
  EXPECT_EQ(env.find("SYSTEMD_EXEC_PID"), std::string::npos) << env;
  EXPECT_EQ(env.find("MEMORY_PRESSURE_"), std::string::npos) << env;
}

TEST_F(SpawnerTest, MissingProgramIsReportedClearly) {
  Spawner spawner;
  const char* environment[] = {nullptr};
  ASSERT_TRUE(spawner.Init(environment).ok());
  std::string missing = dir_ + "/juju-exec";
  const char* argv[] = {missing.c_str(), "app/0", "hooks/service-x-started", nullptr};
  pid_t pid = 0;
  Status status = spawner.Spawn(argv, &pid);
  EXPECT_STREQ(status.rule(), "program-missing");
  EXPECT_NE(strstr(status.message(), missing.c_str()), nullptr) << status.message();
  ExitStatus exit;
  EXPECT_FALSE(spawner.ReapExited(&pid, &exit));  // no zombie left behind
}

TEST_F(SpawnerTest, NonExecutableProgramIsReportedClearly) {
  std::string script = WriteScript("juju-exec", "#!/bin/sh\nexit 0\n", 0644);
  Spawner spawner;
  const char* environment[] = {nullptr};
  ASSERT_TRUE(spawner.Init(environment).ok());
  const char* argv[] = {script.c_str(), nullptr};
  pid_t pid = 0;
  Status status = spawner.Spawn(argv, &pid);
  // Root may execute a file with no x bit only when some x bit is set; none is here.
  EXPECT_STREQ(status.rule(), "program-not-executable") << status.message();
  EXPECT_NE(strstr(status.message(), "juju-exec"), nullptr) << status.message();
}

// Init builds the attributes and file actions once; every Spawn reuses them, so a daemon that
// runs many hooks gets the same child set-up each time.
TEST_F(SpawnerTest, EverySpawnGetsTheSameSetUpFromOneInit) {
  Spawner spawner;
  const char* environment[] = {nullptr};
  ASSERT_TRUE(spawner.Init(environment).ok());
  for (int i = 0; i < 3; ++i) {
    const char* argv[] = {
        "/bin/sh", "-c",
        "[ \"$(pwd)\" = / ] && [ \"$(readlink /proc/self/fd/0)\" = /dev/null ] && "
        "[ \"$(cut -d' ' -f5 /proc/$$/stat)\" = $$ ]",
        nullptr};
    pid_t pid = 0;
    ASSERT_TRUE(spawner.Spawn(argv, &pid).ok());
    WaitUntilExited(pid);
    ExitStatus status = ReapOnly(spawner, pid);
    EXPECT_TRUE(status.ok()) << "spawn " << i << ": exit " << status.code;
  }
}

TEST_F(SpawnerTest, SpawnBeforeInitIsRefused) {
  Spawner spawner;
  const char* argv[] = {"/bin/true", nullptr};
  pid_t pid = 0;
  Status status = spawner.Spawn(argv, &pid);
  EXPECT_EQ(status.rule(), std::string_view("spawner-not-ready"));
  EXPECT_EQ(pid, 0);
}

}  // namespace
}  // namespace jsn
