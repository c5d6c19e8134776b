// Hooks by kind: their names read back as the kinds they name, their paths
// hooks/service-ALIAS-KIND, and the juju-exec command line that runs one.
#include "jsn/hook.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

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
  ASSERT_TRUE(
      BuildHookCommand("/usr/bin/juju-exec", "slurmd/0", "slurmd", Hook::kStarted, &command).ok());
  EXPECT_STREQ(command.argv[0], "/usr/bin/juju-exec");
  EXPECT_STREQ(command.argv[1], "slurmd/0");
  EXPECT_STREQ(command.argv[2], "hooks/service-slurmd-started");
  EXPECT_EQ(command.argv[3], nullptr);
  ASSERT_TRUE(BuildHookCommand("/j", "a/1", "x.timer", Hook::kStopped, &command).ok());
  EXPECT_STREQ(command.argv[2], "hooks/service-x.timer-stopped");
  EXPECT_STREQ(BuildHookCommand("/j", "a/1", "x", Hook::kNone, &command).rule(), "no-hook");
  std::string long_alias(HookPath::kMaxLength, 'a');
  EXPECT_STREQ(BuildHookCommand("/j", "a/1", long_alias.c_str(), Hook::kStopped, &command).rule(),
               "hook-path-too-long");
}

}  // namespace
}  // namespace jsn
