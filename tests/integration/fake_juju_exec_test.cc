// Proves the fake juju-exec (tests/support/fake-juju-exec and FakeJujuExec) records what the
// daemon's delivery tests will compare against, fails, sleeps and waits as told, and behaves as
// Juju 3.6's: a queue behind the unit's hook and the machine lock, commands that outlive their
// killed client, and Juju's statuses and messages for a hook context, an agent down and a unit
// gone.
#include "support/fake_juju_exec.h"

#include <signal.h>
#include <sys/wait.h>

#include "jsn/base/monotonic_time.h"
#include "support/child_process.h"

namespace jsn::testing {
namespace {

// CLOCK_MONOTONIC in nanoseconds, as the fake records its calls' start and end.
int64_t MonotonicNanoseconds() { return MonotonicNow().count(); }

// Runs the fake in `cwd` with an environment that holds none of its JSN_ variables, as a daemon
// that cleans its children's environment would.
CommandResult RunIn(const FakeJujuExec& fake, const std::string& cwd,
                    const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"env", "-i", "PATH=/usr/bin:/bin",
                                   "sh",  "-c", "cd \"$1\" && shift && exec \"$@\"",
                                   "sh",  cwd,  fake.path()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv);
}

TEST(FakeJujuExec, RecordsArgvCwdAndMonotonicStartAndEndOfEachCall) {
  FakeJujuExec fake;
  TempDir cwd;
  int64_t before = MonotonicNanoseconds();
  CommandResult result = RunIn(fake, cwd.path(), {"app/0", "hooks/service-foo-started"});
  int64_t after = MonotonicNanoseconds();
  ASSERT_TRUE(result.succeeded()) << result.Describe() << ": " << result.output;

  std::vector<JujuExecCall> calls = fake.Calls();
  ASSERT_EQ(calls.size(), 1u) << FakeJujuExec::Describe(calls);
  const JujuExecCall& call = calls[0];
  EXPECT_EQ(call.argv,
            (std::vector<std::string>{fake.path(), "app/0", "hooks/service-foo-started"}));
  EXPECT_EQ(call.unit(), "app/0");
  EXPECT_EQ(call.hook(), "hooks/service-foo-started");
  EXPECT_EQ(call.cwd, cwd.path());
  ASSERT_TRUE(call.ended());
  EXPECT_EQ(call.exit_code, 0);
  EXPECT_EQ(call.signal, 0);
  EXPECT_LE(before, call.start_ns);
  EXPECT_LE(call.start_ns, call.end_ns);
  EXPECT_LE(call.end_ns, after);
}

TEST(FakeJujuExec, RecordsTheEnvironmentItWasGivenAndNothingMore) {
  FakeJujuExec fake;
  std::vector<std::string> environment = {"PATH=/usr/bin:/bin", "A=1", "TABBED=x\ty"};
  ASSERT_TRUE(
      RunCommand({fake.path(), "app/0", "hooks/service-foo-started"}, environment).succeeded());
  std::vector<JujuExecCall> calls = fake.Calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].environment, environment);
}

TEST(FakeJujuExec, KeepsArgumentsWithTabsNewlinesAndBackslashesIntact) {
  FakeJujuExec fake;
  TempDir cwd;
  std::string odd = "a\tb\nc\\d \xc3\xa9";
  ASSERT_TRUE(RunIn(fake, cwd.path(), {odd, ""}).succeeded());
  std::vector<JujuExecCall> calls = fake.Calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].argv, (std::vector<std::string>{fake.path(), odd, ""}));
}

TEST(FakeJujuExec, ExitsWithTheCodeOfTheFirstMatchingRuleForItsFirstTimesCalls) {
  FakeJujuExec fake;
  TempDir cwd;
  ASSERT_TRUE(
      fake.SetRules("# the first two starts of foo fail\n"
                    "service-foo-started exit=3 times=2\n"
                    "service-*-stopped exit=4\n"));
  EXPECT_EQ(RunIn(fake, cwd.path(), {"app/0", "hooks/service-foo-started"}).exit_code(), 3);
  EXPECT_EQ(RunIn(fake, cwd.path(), {"app/0", "hooks/service-bar-started"}).exit_code(), 0);
  EXPECT_EQ(RunIn(fake, cwd.path(), {"app/0", "hooks/service-foo-started"}).exit_code(), 3);
  EXPECT_EQ(RunIn(fake, cwd.path(), {"app/0", "hooks/service-foo-started"}).exit_code(), 0);
  EXPECT_EQ(RunIn(fake, cwd.path(), {"app/0", "hooks/service-foo-stopped"}).exit_code(), 4);

  std::vector<JujuExecCall> calls = fake.Calls();
  ASSERT_EQ(calls.size(), 5u);
  std::vector<int> codes;
  for (const JujuExecCall& call : calls) codes.push_back(call.exit_code);
  EXPECT_EQ(codes, (std::vector<int>{3, 0, 3, 0, 4}));
}

TEST(FakeJujuExec, SleepsAtLeastAsLongAsItsRuleSays) {
  FakeJujuExec fake;
  TempDir cwd;
  ASSERT_TRUE(fake.SetRules("* sleep=0.3\n"));
  ASSERT_TRUE(RunIn(fake, cwd.path(), {"app/0", "hooks/service-foo-started"}).succeeded());
  std::vector<JujuExecCall> calls = fake.Calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_GE(calls[0].end_ns - calls[0].start_ns, 300000000);
}

TEST(FakeJujuExec, WaitsOnItsGateUntilTheTestOpensIt) {
  FakeJujuExec fake;
  ASSERT_TRUE(fake.SetRules("service-foo-started wait=" + fake.GatePath("foo") + "\n"));
  ChildProcess hook;
  std::string error;
  ASSERT_TRUE(hook.Start({fake.path(), "app/0", "hooks/service-foo-started"}, {}, &error)) << error;
  ASSERT_TRUE(fake.WaitForBegun(1));
  // Begun and held: no end line while the gate is closed, and the process still runs.
  EXPECT_FALSE(fake.Calls()[0].ended());
  EXPECT_EQ(fake.Calls()[0].pid, hook.pid());
  EXPECT_FALSE(hook.WaitForExit(std::chrono::milliseconds(0)));

  ASSERT_TRUE(fake.OpenGate("foo"));
  ASSERT_TRUE(hook.WaitForExit(std::chrono::seconds(30)));
  EXPECT_TRUE(WIFEXITED(hook.wait_status()) && WEXITSTATUS(hook.wait_status()) == 0);
  ASSERT_TRUE(fake.WaitForEnded(1));
  EXPECT_EQ(fake.Calls()[0].exit_code, 0);
}

TEST(FakeJujuExec, RecordsTheSignalThatEndedARunningCall) {
  FakeJujuExec fake;
  ASSERT_TRUE(fake.SetRules("* wait=" + fake.GatePath("never") + "\n"));
  ChildProcess hook;
  std::string error;
  ASSERT_TRUE(hook.Start({fake.path(), "app/0", "hooks/service-foo-stopped"}, {}, &error)) << error;
  ASSERT_TRUE(fake.WaitForBegun(1));
  int status = hook.Stop(SIGTERM, std::chrono::seconds(30));
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << status;
  std::vector<JujuExecCall> calls = fake.Calls();
  ASSERT_EQ(calls.size(), 1u);
  ASSERT_TRUE(calls[0].ended());
  EXPECT_EQ(calls[0].signal, SIGTERM);
  EXPECT_EQ(calls[0].exit_code, -1);
}

// Starts a client in the background; the test waits on the fake's log for what it does.
void StartCall(const FakeJujuExec& fake, ChildProcess* client, const std::string& unit,
               const std::string& hook) {
  std::string error;
  ASSERT_TRUE(client->Start({fake.path(), unit, hook}, {}, &error)) << error;
}

TEST(FakeJujuExec, RunsTheCommandsOfAllUnitsOneAtATimeUnderTheMachineLock) {
  FakeJujuExec fake;
  ASSERT_TRUE(fake.SetRules("install wait=" + fake.GatePath("installed") + "\n"));
  ChildProcess install;
  ChildProcess hook;
  StartCall(fake, &install, "other/0", "hooks/install");
  ASSERT_TRUE(fake.WaitForRunsBegun(1));
  StartCall(fake, &hook, "app/0", "hooks/service-foo-started");
  ASSERT_TRUE(fake.WaitForBegun(2));
  ASSERT_TRUE(fake.OpenGate("installed"));
  ASSERT_TRUE(hook.WaitForExit(std::chrono::seconds(30)));
  EXPECT_TRUE(WIFEXITED(hook.wait_status()) && WEXITSTATUS(hook.wait_status()) == 0);
  std::vector<JujuExecCall> calls = fake.Calls();
  ASSERT_EQ(calls.size(), 2u);
  ASSERT_TRUE(calls[0].run_ended() && calls[1].run_ended()) << FakeJujuExec::Describe(calls);
  // Queued: the second command started only once the first had ended.
  EXPECT_GE(calls[1].run_start_ns, calls[0].run_end_ns) << FakeJujuExec::Describe(calls);
  EXPECT_EQ(calls[1].run_exit_code, 0);
}

TEST(FakeJujuExec, ACallWaitsWithoutTimeoutForAMachineLockHeldElsewhere) {
  FakeJujuExec fake;
  ASSERT_TRUE(fake.HoldMachineLock());
  ChildProcess hook;
  StartCall(fake, &hook, "app/0", "hooks/service-foo-started");
  ASSERT_TRUE(fake.WaitForBegun(1));
  EXPECT_FALSE(fake.Calls()[0].ran());
  int64_t released = MonotonicNanoseconds();
  fake.ReleaseMachineLock();
  ASSERT_TRUE(hook.WaitForExit(std::chrono::seconds(30)));
  std::vector<JujuExecCall> calls = fake.Calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_GE(calls[0].run_start_ns, released) << FakeJujuExec::Describe(calls);
  EXPECT_EQ(calls[0].exit_code, 0);
}

TEST(FakeJujuExec, ACallWaitsForItsUnitsRunningHook) {
  FakeJujuExec fake;
  ASSERT_TRUE(fake.HoldUnitLock("app/0"));
  ChildProcess other;
  ChildProcess hook;
  StartCall(fake, &hook, "app/0", "hooks/service-foo-started");
  StartCall(fake, &other, "other/0", "hooks/service-bar-started");
  // Another unit's call is not held by app/0's hook.
  ASSERT_TRUE(other.WaitForExit(std::chrono::seconds(30)));
  ASSERT_TRUE(fake.WaitForBegun(2));
  int64_t released = MonotonicNanoseconds();
  fake.ReleaseUnitLock();
  ASSERT_TRUE(hook.WaitForExit(std::chrono::seconds(30)));
  for (const JujuExecCall& call : fake.Calls()) {
    ASSERT_TRUE(call.run_ended());
    if (call.unit() == "app/0") {
      EXPECT_GE(call.run_start_ns, released);
    } else {
      EXPECT_LT(call.run_start_ns, released);
    }
  }
}

TEST(FakeJujuExec, AClientKilledAfterQueueingDoesNotCancelItsCommand) {
  FakeJujuExec fake;
  ASSERT_TRUE(fake.HoldMachineLock());
  ChildProcess hook;
  StartCall(fake, &hook, "app/0", "hooks/service-foo-started");
  ASSERT_TRUE(fake.WaitForBegun(1));
  int status = hook.Stop(SIGKILL, std::chrono::seconds(30));
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  fake.ReleaseMachineLock();
  ASSERT_TRUE(fake.WaitForRunsEnded(1));
  std::vector<JujuExecCall> calls = fake.Calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].run_exit_code, 0);
  EXPECT_FALSE(calls[0].ended());  // its answer was lost with it
}

TEST(FakeJujuExec, AClientEndedBySigtermIsRecordedAndItsCommandStillRuns) {
  FakeJujuExec fake;
  ASSERT_TRUE(fake.SetRules("* wait=" + fake.GatePath("go") + "\n"));
  ChildProcess hook;
  StartCall(fake, &hook, "app/0", "hooks/service-foo-started");
  ASSERT_TRUE(fake.WaitForRunsBegun(1));
  hook.Stop(SIGTERM, std::chrono::seconds(30));
  ASSERT_TRUE(fake.WaitForEnded(1));
  ASSERT_TRUE(fake.OpenGate("go"));
  ASSERT_TRUE(fake.WaitForRunsEnded(1));
  std::vector<JujuExecCall> calls = fake.Calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].signal, SIGTERM);
  EXPECT_EQ(calls[0].run_exit_code, 0);
}

TEST(FakeJujuExec, AnAgentThatIsDownFailsTheCallWithStatus1AndJujusMessage) {
  FakeJujuExec fake;
  TempDir cwd;
  ASSERT_TRUE(fake.SetAgentDown(true));
  CommandResult down = RunIn(fake, cwd.path(), {"app/0", "hooks/service-foo-started"});
  EXPECT_EQ(down.exit_code(), 1);
  EXPECT_EQ(down.output.rfind("ERROR dialing juju run socket \"", 0), 0u) << down.output;
  ASSERT_TRUE(fake.SetAgentDown(false));
  EXPECT_EQ(RunIn(fake, cwd.path(), {"app/0", "hooks/service-foo-started"}).exit_code(), 0);
  std::vector<JujuExecCall> calls = fake.Calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].exit_code, 1);
  EXPECT_FALSE(calls[0].ran());
  EXPECT_TRUE(calls[1].ran());
}

TEST(FakeJujuExec, AUnitThatIsGoneFailsTheCallWithStatus1AndJujusMessage) {
  FakeJujuExec fake;
  TempDir cwd;
  ASSERT_TRUE(fake.SetUnitGone("app/0", true));
  CommandResult gone = RunIn(fake, cwd.path(), {"app/0", "hooks/service-foo-started"});
  EXPECT_EQ(gone.exit_code(), 1);
  EXPECT_EQ(gone.output, "ERROR unit \"app/0\" not found on this machine\n");
  EXPECT_EQ(RunIn(fake, cwd.path(), {"other/0", "hooks/service-foo-started"}).exit_code(), 0);
  std::vector<JujuExecCall> calls = fake.Calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_FALSE(calls[0].ran());
}

TEST(FakeJujuExec, ACallFromInsideAHookContextFailsWithStatus2) {
  FakeJujuExec fake;
  CommandResult result = RunCommand({"env", "JUJU_CONTEXT_ID=app/0-install-1", fake.path(), "app/0",
                                     "hooks/service-foo-started"});
  EXPECT_EQ(result.exit_code(), 2);
  EXPECT_EQ(result.output,
            "ERROR juju-exec cannot be called from within a hook, have context "
            "\"app/0-install-1\"\n");
  std::vector<JujuExecCall> calls = fake.Calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_FALSE(calls[0].ran());
}

TEST(FakeJujuExec, ParseLogPairsEndLinesWithTheLatestOpenCallOfThatPid) {
  std::vector<JujuExecCall> calls = FakeJujuExec::ParseLog(
      "begin\t7\t100\t/\tx\tu/0\thooks/a\n"
      "end\t7\t200\texit 1\n"
      "begin\t7\t300\t/\tx\tu/0\thooks/b\n"
      "begin\t8\t310\t/\tx\tu/0\thooks/c\n"
      "run\t7\t320\n"
      "end\t7\t400\tsignal 15\n"
      "done\t7\t450\texit 3\n"
      "begin\t9\t500\t/\tx\tu/0\thooks/d");  // no newline yet: still being written
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].hook(), "hooks/a");
  EXPECT_EQ(calls[0].end_ns, 200);
  EXPECT_EQ(calls[0].exit_code, 1);
  EXPECT_EQ(calls[1].hook(), "hooks/b");
  EXPECT_EQ(calls[1].end_ns, 400);
  EXPECT_EQ(calls[1].signal, 15);
  EXPECT_EQ(calls[1].run_start_ns, 320);
  EXPECT_EQ(calls[1].run_end_ns, 450);
  EXPECT_EQ(calls[1].run_exit_code, 3);
  EXPECT_FALSE(calls[0].ran());
  EXPECT_FALSE(calls[2].ended());
}

}  // namespace
}  // namespace jsn::testing
