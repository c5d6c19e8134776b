// The HookRunner's deadlines: a hook running past --hook-timeout is warned of once, by
// HandleDeadlines (the loop's pass), and left to run; NextDeadline only says when the next one
// is due. The hook is a real process (a script that sleeps), started by the runner's Spawner.
#include "jsn/daemon/hook_runner.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "jsn/base/log.h"
#include "jsn/systemd/transition.h"
#include "support/log_capture.h"

namespace jsn {
namespace {

using ::jsn::testing::LogCapture;

size_t Count(const std::string& text, const std::string& part) {
  size_t count = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
    ++count;
  }
  return count;
}

TEST(HookRunner, WarnsOfAHookPastItsTimeoutOnceInHandleDeadlinesAndLeavesItRunning) {
  const char* tmpdir = getenv("TMPDIR");
  std::string directory = std::string(tmpdir != nullptr ? tmpdir : "/tmp") + "/jsn-hooks-XXXXXX";
  ASSERT_NE(mkdtemp(directory.data()), nullptr);
  // A juju-exec whose hook outlives the test's deadlines (the test kills it).
  std::string juju_exec = directory + "/juju-exec";
  FILE* script = fopen(juju_exec.c_str(), "w");
  ASSERT_NE(script, nullptr);
  fputs("#!/bin/sh\nexec sleep 1000\n", script);
  ASSERT_EQ(fclose(script), 0);
  ASSERT_EQ(chmod(juju_exec.c_str(), 0755), 0);

  static Options options;  // large: off the stack
  options = Options();
  options.juju_unit = "app/0";
  options.juju_exec = juju_exec.c_str();
  options.hook_timeout_seconds = 2;
  options.watch_count = 1;
  strcpy(options.watches[0].unit, "slurmd.service");
  strcpy(options.watches[0].alias, "slurmd");
  Tracker tracker(1);
  Transition records[kMaxWatchedUnits] = {};
  HookRunner runner(options, tracker, records);
  const char* environment[] = {"PATH=/usr/bin:/bin", nullptr};
  ASSERT_TRUE(runner.Init(environment).ok());
  tracker.RecordInitialState(0, "inactive");
  tracker.ObserveState(0, "active");

  LogCapture log;
  ASSERT_TRUE(log.ok());
  const MonotonicTime start = std::chrono::seconds(100);
  EXPECT_EQ(runner.NextDeadline(), kNever);  // nothing runs
  runner.StartDue(start);
  ASSERT_TRUE(tracker.AnyRunning());
  std::string started = log.Take();
  size_t pid_at = started.find("(pid ");
  ASSERT_NE(pid_at, std::string::npos) << started;
  pid_t pid = static_cast<pid_t>(atoi(started.c_str() + pid_at + 5));
  ASSERT_GT(pid, 0);

  const std::string warning =
      "slurmd.service: hooks/service-slurmd-started still running after 2 s (queued behind the "
      "machine lock?): waiting";
  EXPECT_EQ(runner.NextDeadline(), start + std::chrono::seconds(2));
  runner.HandleDeadlines(start + std::chrono::milliseconds(1999));
  EXPECT_EQ(log.Take(), "");
  EXPECT_EQ(runner.NextDeadline(), start + std::chrono::seconds(2));

  runner.HandleDeadlines(start + std::chrono::seconds(2));
  EXPECT_EQ(Count(log.Take(), warning), 1u);
  EXPECT_EQ(runner.NextDeadline(), kNever);  // warned once: no more wake-ups for it
  runner.HandleDeadlines(start + std::chrono::seconds(60));
  EXPECT_EQ(log.Take(), "");

  // Warned of, not killed: the process and the tracker's run go on.
  EXPECT_EQ(kill(pid, 0), 0);
  EXPECT_TRUE(tracker.AnyRunning());

  ASSERT_EQ(kill(pid, SIGKILL), 0);
  siginfo_t info = {};
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT), 0);
  EXPECT_TRUE(runner.ReapExited());
  EXPECT_FALSE(tracker.AnyRunning());
  EXPECT_EQ(runner.NextDeadline(), kNever);
  log.Take();
  unlink(juju_exec.c_str());
  rmdir(directory.c_str());
}

}  // namespace
}  // namespace jsn
