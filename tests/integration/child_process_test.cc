// The test fixtures' one process runner: commands captured, bounded and reaped; a process left
// running is stopped or reaped by its PID; temporary trees go away.
#include "support/child_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <string>

namespace jsn::testing {
namespace {

TEST(RunCommand, CapturesOutputErrorAndExitStatus) {
  CommandResult result = RunCommand({"sh", "-c", "echo out; echo err >&2; echo \"$JSN_X\"; exit 3"},
                                    EnvironmentWith({"JSN_X=from-the-test"}));
  EXPECT_TRUE(result.exited()) << result.Describe();
  EXPECT_EQ(result.exit_code(), 3);
  // stdout and stderr share one pipe: in the order written.
  EXPECT_EQ(result.output, "out\nerr\nfrom-the-test\n");
  EXPECT_FALSE(result.succeeded());
}

TEST(RunCommand, KillsAndReapsAProcessPastItsDeadline) {
  CommandResult result = RunCommand({"sleep", "30"}, {}, std::chrono::milliseconds(100));
  EXPECT_FALSE(result.exited());
  EXPECT_EQ(result.Describe(), "signal 9");
  EXPECT_FALSE(result.succeeded());
}

TEST(RunCommand, WaitsForAnExitAfterTheOutputCloses) {
  CommandResult result = RunCommand({"sh", "-c", "echo before; exec >&- 2>&-; sleep 0.2; exit 5"});
  EXPECT_EQ(result.output, "before\n");
  EXPECT_EQ(result.exit_code(), 5) << result.Describe();
}

TEST(RunCommand, MissingProgramIsReportedAsNotRun) {
  CommandResult result = RunCommand({"/nonexistent/program"});
  EXPECT_EQ(result.Describe(), "not run");
  EXPECT_NE(result.output.find("/nonexistent/program"), std::string::npos) << result.output;
  EXPECT_FALSE(result.succeeded());
}

TEST(ChildProcess, StopKillsAndReportsTheSignal) {
  ChildProcess process;
  std::string error;
  ASSERT_TRUE(process.Start({"sleep", "30"}, {}, &error)) << error;
  EXPECT_FALSE(process.WaitForExit(std::chrono::milliseconds(0)));
  int wait_status = process.Stop(SIGTERM, std::chrono::seconds(5));
  ASSERT_TRUE(WIFSIGNALED(wait_status));
  EXPECT_EQ(WTERMSIG(wait_status), SIGTERM);
  EXPECT_FALSE(process.running());
}

TEST(ChildProcess, WaitForExitReapsAFinishedProcess) {
  ChildProcess process;
  std::string error;
  ASSERT_TRUE(process.Start({"sh", "-c", "exit 4"}, {}, &error)) << error;
  ASSERT_TRUE(process.WaitForExit(std::chrono::seconds(10)));
  EXPECT_FALSE(process.running());
  ASSERT_TRUE(WIFEXITED(process.wait_status()));
  EXPECT_EQ(WEXITSTATUS(process.wait_status()), 4);
}

TEST(ChildProcess, StdoutToAPipeAndStderrToAFileOfItsOwn) {
  TempDir directory;
  std::string log = directory.Join("stderr.log");
  ChildProcess process;
  std::string error;
  ASSERT_TRUE(process.Start({"sh", "-c", "echo to-the-log >&2; echo ready"}, {}, &error, "",
                            /*with_stdin=*/false, log))
      << error;
  std::string line;
  ASSERT_TRUE(process.ReadLine(&line, std::chrono::seconds(10)));
  EXPECT_EQ(line, "ready");
  ASSERT_TRUE(process.WaitForExit(std::chrono::seconds(10)));
  EXPECT_EQ(ReadFile(log), "to-the-log\n");
}

TEST(TempDir, RemovesItsTreeWhenItGoesAway) {
  std::string path;
  {
    TempDir directory("jsn-runner-test");
    path = directory.path();
    ASSERT_FALSE(path.empty());
    ASSERT_EQ(mkdir(directory.Join("sub").c_str(), 0755), 0);
    ASSERT_TRUE(WriteFile(directory.Join("sub/file"), "x"));
  }
  struct stat info;
  EXPECT_EQ(stat(path.c_str(), &info), -1);
}

}  // namespace
}  // namespace jsn::testing
