// The daemon binary's command line, run as a process: a bad command line is rejected with a
// message that says what was expected and what was found, and exit 2, before anything
// connects (the --bus address given points nowhere, so connecting would fail differently).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/source_tree.h"

namespace {

using ::jsn::testing::CommandResult;
using ::jsn::testing::DaemonPath;
using ::jsn::testing::RunCommandStderrApart;

struct DaemonRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs the daemon with `args` to its exit, its stdout and stderr apart.
DaemonRun RunDaemon(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {DaemonPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult result = RunCommandStderrApart(argv);
  EXPECT_TRUE(result.exited()) << "cannot run " << argv[0] << ": " << result.Describe() << ": "
                               << result.output;
  return {result.exit_code(), result.output, result.error_output};
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
