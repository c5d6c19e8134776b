// Hooks by kind: their names read back as the kinds they name, their paths
// hooks/service-ALIAS-KIND, and the juju-exec command line that runs one.
#include "jsn/daemon/hook.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "jsn/systemd/transition.h"

namespace jsn {
namespace {

TEST(Hook, EveryKindIsNamedAndItsNameParsesBackToIt) {
  EXPECT_STREQ(HookName(Hook::kStarted), "started");
  EXPECT_STREQ(HookName(Hook::kStopped), "stopped");
  EXPECT_STREQ(HookName(Hook::kNone), "none");
  for (Hook hook : kHookKinds) EXPECT_EQ(ParseHookName(HookName(hook)), hook) << HookName(hook);
}

TEST(Hook, AnyOtherNameParsesAsNone) {
  for (const char* name : {"", "none", "running", "Started", "started ", "start", "stoppedx"}) {
    EXPECT_EQ(ParseHookName(name), Hook::kNone) << '"' << name << '"';
  }
}

TEST(HookPath, IsServiceAliasKindInTheHooksDirectory) {
  HookPath path;
  ASSERT_TRUE(FormatHookPath("slurmd", Hook::kStarted, &path).ok());
  EXPECT_STREQ(path.text, "hooks/service-slurmd-started");
  EXPECT_STREQ(path.file_name(), "service-slurmd-started");
  ASSERT_TRUE(FormatHookPath("x.timer", Hook::kStopped, &path).ok());
  EXPECT_STREQ(path.text, "hooks/service-x.timer-stopped");
  EXPECT_STREQ(path.file_name(), "service-x.timer-stopped");
}

TEST(HookPath, NoHookOrAPathTooLongIsRefusedYetLeavesTextToLog) {
  HookPath path;
  EXPECT_STREQ(FormatHookPath("x", Hook::kNone, &path).rule(), "no-hook");
  EXPECT_STREQ(path.text, "hooks/service-x-none");
  std::string long_alias(HookPath::kMaxLength, 'a');
  EXPECT_STREQ(FormatHookPath(long_alias.c_str(), Hook::kStopped, &path).rule(),
               "hook-path-too-long");
  EXPECT_EQ(strlen(path.text), HookPath::kMaxLength);
  // The longest that fits: "hooks/service-" and "-started" around the alias.
  std::string fitting(HookPath::kMaxLength - strlen("hooks/service--started"), 'a');
  EXPECT_TRUE(FormatHookPath(fitting.c_str(), Hook::kStarted, &path).ok());
  EXPECT_EQ(strlen(path.text), HookPath::kMaxLength);
}

TEST(HookCommand, BuildsTheJujuExecCommandLine) {
  HookCommand command;
  ASSERT_TRUE(BuildHookCommand("/usr/bin/juju-exec", "slurmd/0", "slurmd", Hook::kStarted,
                               Transition(), &command)
                  .ok());
  EXPECT_STREQ(command.argv[0], "/usr/bin/juju-exec");
  EXPECT_STREQ(command.argv[1], "slurmd/0");
  EXPECT_STREQ(command.argv[2], "hooks/service-slurmd-started");
  EXPECT_EQ(command.argv[3], nullptr);
  ASSERT_TRUE(
      BuildHookCommand("/j", "a/1", "x.timer", Hook::kStopped, Transition(), &command).ok());
  EXPECT_STREQ(command.argv[2], "hooks/service-x.timer-stopped");
  EXPECT_STREQ(BuildHookCommand("/j", "a/1", "x", Hook::kNone, Transition(), &command).rule(),
               "no-hook");
  std::string long_alias(HookPath::kMaxLength, 'a');
  EXPECT_STREQ(
      BuildHookCommand("/j", "a/1", long_alias.c_str(), Hook::kStopped, Transition(), &command)
          .rule(),
      "hook-path-too-long");
}

// The record goes in front of the hook as assignments bash reads (juju-exec runs its command
// string with bash -s), so the hook's process gets them as its environment.
TEST(HookCommand, PutsTheRecordInFrontOfTheHook) {
  Transition record;
  ASSERT_TRUE(CopyWord("failed", record.state));
  ASSERT_TRUE(CopyWord("exit-code", record.result));
  record.exit_code = ExitCode::kExited;
  record.exit_status = 3;
  record.has_restarts = true;
  record.n_restarts = 2;
  record.timestamp = 1796696690117892;
  HookCommand command;
  ASSERT_TRUE(BuildHookCommand("/j", "a/1", "slurmd", Hook::kStopped, record, &command).ok());
  EXPECT_STREQ(command.argv[2],
               "JSN_STATE=failed JSN_RESULT=exit-code JSN_EXIT_CODE=exited JSN_EXIT_STATUS=3 "
               "JSN_N_RESTARTS=2 JSN_TIMESTAMP=1796696690117892 hooks/service-slurmd-stopped");
  EXPECT_STREQ(command.path.text, "hooks/service-slurmd-stopped");
}

// The longest record (every word at its longest, every number too) beside the longest path.
TEST(HookCommand, TheLongestRecordFitsBesideTheLongestPath) {
  Transition record;
  std::string word(Transition::kMaxWordLength, 'z');
  ASSERT_TRUE(CopyWord(word, record.state));
  ASSERT_TRUE(CopyWord(word, record.result));
  record.exit_code = ExitCode::kDumped;
  record.exit_status = INT32_MIN;
  record.has_restarts = true;
  record.n_restarts = UINT32_MAX;
  record.timestamp = UINT64_MAX;
  std::string alias(HookPath::kMaxLength - strlen("hooks/service--started"), 'a');
  HookCommand command;
  ASSERT_TRUE(BuildHookCommand("/j", "a/1", alias.c_str(), Hook::kStarted, record, &command).ok());
  std::string text = command.argv[2];
  EXPECT_TRUE(text.ends_with(" hooks/service-" + alias + "-started")) << text;
  EXPECT_TRUE(text.starts_with("JSN_STATE=" + word + " ")) << text;
  EXPECT_NE(text.find(" JSN_TIMESTAMP=18446744073709551615 "), std::string::npos) << text;
}

}  // namespace
}  // namespace jsn
