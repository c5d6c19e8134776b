// Hook links: service-ALIAS-started and -stopped point at DIR/dispatch, hooks/ is made when
// missing, and a hook already there (a file, a symlink, a dangling symlink) is left alone.
#include "jsn/cli/hook_links.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "support/child_process.h"

namespace jsn {
namespace {

WatchedUnit Watch(const char* unit, const char* alias) {
  WatchedUnit watch;
  snprintf(watch.unit, sizeof watch.unit, "%s", unit);
  snprintf(watch.alias, sizeof watch.alias, "%s", alias);
  return watch;
}

std::string LinkTarget(const std::string& path) {
  char buffer[4096];
  ssize_t length = readlink(path.c_str(), buffer, sizeof buffer);
  return length > 0 ? std::string(buffer, static_cast<size_t>(length)) : "";
}

TEST(CreateHookLinks, MakesHooksDirectoryAndTwoLinksPerUnitToDispatch) {
  jsn::testing::TempDir charm;
  WatchedUnit watches[] = {Watch("slurmd.service", "slurmd"), Watch("foo@bar.service", "fb")};
  int created = 0;
  ASSERT_TRUE(CreateHookLinks(charm.path().c_str(), watches, &created).ok());
  EXPECT_EQ(created, 4);
  for (const char* hook : {"service-slurmd-started", "service-slurmd-stopped", "service-fb-started",
                           "service-fb-stopped"}) {
    EXPECT_EQ(LinkTarget(charm.Join("hooks/") + hook), charm.Join("dispatch")) << hook;
  }
}

TEST(CreateHookLinks, LeavesExistingHooksAloneAndCountsOnlyNewLinks) {
  jsn::testing::TempDir charm;
  ASSERT_EQ(mkdir(charm.Join("hooks").c_str(), 0755), 0);
  ASSERT_TRUE(jsn::testing::WriteFile(charm.Join("hooks/service-a-started"), "mine\n", 0755));
  ASSERT_EQ(symlink("/nowhere", charm.Join("hooks/service-a-stopped").c_str()), 0);
  WatchedUnit watches[] = {Watch("a.service", "a")};
  int created = -1;
  ASSERT_TRUE(CreateHookLinks(charm.path().c_str(), watches, &created).ok());
  EXPECT_EQ(created, 0);
  EXPECT_EQ(jsn::testing::ReadFile(charm.Join("hooks/service-a-started")), "mine\n");
  EXPECT_EQ(LinkTarget(charm.Join("hooks/service-a-stopped")), "/nowhere");
}

TEST(CreateHookLinks, ReportsAHooksPathThatIsAFile) {
  jsn::testing::TempDir charm;
  ASSERT_TRUE(jsn::testing::WriteFile(charm.Join("hooks"), "not a directory\n"));
  WatchedUnit watches[] = {Watch("a.service", "a")};
  int created = 0;
  EXPECT_STREQ(CreateHookLinks(charm.path().c_str(), watches, &created).rule(), "hooks-dir-failed");
}

// subscribe runs as root: a hooks/ that is a symlink (to /etc/cron.d, say) would have our links
// made wherever it points. It is refused, and nothing is made there.
TEST(CreateHookLinks, RefusesAHooksDirectoryThatIsASymlinkAndMakesNothingWhereItPoints) {
  jsn::testing::TempDir charm;
  jsn::testing::TempDir elsewhere;
  ASSERT_EQ(symlink(elsewhere.path().c_str(), charm.Join("hooks").c_str()), 0);
  WatchedUnit watches[] = {Watch("a.service", "a")};
  int created = 0;
  Status status = CreateHookLinks(charm.path().c_str(), watches, &created);
  EXPECT_STREQ(status.rule(), "hooks-dir-failed");
  EXPECT_NE(std::string(status.message()).find("to be a directory (not a symlink)"),
            std::string::npos)
      << status.message();
  EXPECT_EQ(created, 0);
  EXPECT_EQ(jsn::testing::RunCommand({"ls", "-A", elsewhere.path()}).output, "");
}

}  // namespace
}  // namespace jsn
