// systemd's names have one home: the daemon's Watch and the subcommands' Manager take them
// from jsn/systemd/systemd_names.h. Including both headers in one file compiles (it did not while
// each defined kSystemdName and kSystemdPath itself), and both see the same names.
#include "jsn/systemd/systemd_names.h"

#include <gtest/gtest.h>

#include "jsn/systemd/manager.h"
#include "jsn/systemd/watch.h"

namespace jsn {
namespace {

TEST(SystemdNamesTest, WatchAndManagerHeadersTogetherShareOneSetOfNames) {
  EXPECT_EQ(kSystemdName, "org.freedesktop.systemd1");
  EXPECT_EQ(kSystemdPath, "/org/freedesktop/systemd1");
  EXPECT_EQ(kSystemdManagerInterface, "org.freedesktop.systemd1.Manager");
  EXPECT_EQ(kSystemdUnitInterface, "org.freedesktop.systemd1.Unit");
  EXPECT_EQ(kAlreadySubscribedError, "org.freedesktop.systemd1.AlreadySubscribed");
  EXPECT_EQ(kNoSuchUnitError, "org.freedesktop.systemd1.NoSuchUnit");
}

TEST(SystemdNamesTest, UnitPathsLieUnderSystemdsObjectPath) {
  EXPECT_EQ(kUnitPathPrefix.substr(0, kSystemdPath.size()), kSystemdPath);
}

}  // namespace
}  // namespace jsn
