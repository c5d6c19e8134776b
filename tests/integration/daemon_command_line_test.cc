// The daemon binary's command line, run as a process: a bad command line is rejected with a
// message that says what was expected and what was found, and exit 2, before anything
// connects (the --bus address given points nowhere, so connecting would fail differently).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace {

constexpr const char* kDaemon = "build/juju-systemd-notices";

struct DaemonRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadAll(int fd) {
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
  return text;
}

// Runs the daemon with `args`; its output is small, so reading stdout then stderr to the end
// cannot deadlock on a full pipe.
DaemonRun RunDaemon(const std::vector<std::string>& args) {
  int out[2], err[2];
  EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
  EXPECT_EQ(pipe2(err, O_CLOEXEC), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  std::vector<char*> argv = {const_cast<char*>(kDaemon)};
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  int spawned = posix_spawn(&pid, kDaemon, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  close(err[1]);
  DaemonRun run;
  if (spawned == 0) {
    run.out = ReadAll(out[0]);
    run.err = ReadAll(err[0]);
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  close(out[0]);
  close(err[0]);
  EXPECT_EQ(spawned, 0) << "cannot run " << kDaemon << " (run the tests from the repository root)";
  return run;
}

struct BadLine {
  std::vector<std::string> args;
  std::string expected_in_message;
};

TEST(DaemonCommandLine, EachBadCommandLineExits2WithWhatWasExpectedAndFound) {
  const std::string nowhere = "--bus=unix:path=/nonexistent/jsn-test-bus";
  std::vector<BadLine> lines = {
      {{nowhere, "slurmd"}, "expected --unit UNIT (the Juju unit, e.g. app/0), found none"},
      {{nowhere, "--unit", "slurmd/0"}, "expected at least one NAME[=ALIAS] to watch, found none"},
      {{nowhere, "--unit"}, "expected a value after --unit"},
      {{nowhere, "--unit", "Slurmd/0", "slurmd"},
       "expected --unit to name a Juju unit such as app/0, found 'Slurmd/0'"},
      {{nowhere, "--unit", "slurmd/0", "--verbose", "slurmd"}, "found '--verbose'"},
      {{nowhere, "--unit", "slurmd/0", "bad name=x"}, "expected a systemd unit name"},
      {{nowhere, "--unit", "slurmd/0", "slurmd=../x"}, "found '../x'"},
      {{nowhere, "--unit", "slurmd/0", "a=x", "b=x"}, "expected a different ALIAS for each unit"},
      {{nowhere, "--unit", "slurmd/0", "a", "a.service"},
       "expected each unit once, found a.service twice"},
      {{nowhere, "--unit", "slurmd/0", "--juju-exec", "juju-exec", "a"},
       "absolute path, found 'juju-exec'"},
  };
  for (const BadLine& line : lines) {
    DaemonRun run = RunDaemon(line.args);
    std::string joined;
    for (const std::string& arg : line.args) joined += arg + " ";
    EXPECT_EQ(run.exit_code, 2) << joined << "\n" << run.err;
    EXPECT_NE(run.err.find(line.expected_in_message), std::string::npos) << joined << "\n"
                                                                         << run.err;
    EXPECT_NE(run.err.find("usage: juju-systemd-notices --unit UNIT"), std::string::npos)
        << run.err;
    EXPECT_EQ(run.err.find("connect"), std::string::npos) << "nothing may connect: " << run.err;
    EXPECT_EQ(run.out, "");
  }
}

TEST(DaemonCommandLine, HelpAndVersionPrintToStdoutAndExit0) {
  DaemonRun help = RunDaemon({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_EQ(help.out.rfind("usage: juju-systemd-notices --unit UNIT", 0), 0u) << help.out;
  EXPECT_NE(help.out.find("--juju-exec PATH"), std::string::npos);
  EXPECT_NE(help.out.find("at most 64 units"), std::string::npos);
  EXPECT_EQ(help.err, "");
  DaemonRun version = RunDaemon({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("juju-systemd-notices ", 0), 0u) << version.out;
}

}  // namespace
