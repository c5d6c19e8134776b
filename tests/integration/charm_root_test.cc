// `subscribe --root DIR` for image builds: the unit file goes under DIR/etc/systemd/system and
// is enabled offline (the multi-user.target.wants link), and no bus is contacted: --bus points
// at a socket that does not exist, which would fail a connection.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "support/child_process.h"

namespace jsn::testing {
namespace {

TEST(SubscribeWithRoot, WritesAndEnablesUnderTheRootWithoutTouchingABus) {
  TempDir directory;
  ASSERT_EQ(mkdir(directory.Join("charm").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(directory.Join("root").c_str(), 0755), 0);
  CommandResult result =
      RunCommand({"build/juju-systemd-notices", "subscribe", "--unit", "app/0", "--charm-dir",
                  directory.Join("charm"), "--root", directory.Join("root"), "--bus",
                  "unix:path=" + directory.Join("no-bus"), "slurmd"});
  ASSERT_TRUE(result.succeeded()) << result.Describe() << "\n" << result.output;
  std::string unit =
      ReadFile(directory.Join("root/etc/systemd/system/juju-app-0-systemd-notices.service"));
  EXPECT_NE(unit.find("\nWantedBy=multi-user.target\n"), std::string::npos) << unit;
  EXPECT_EQ(unit.find("--bus"), std::string::npos) << "a build-time bus leaked into the unit";
  char target[4096];
  ssize_t length = readlink(directory
                                .Join("root/etc/systemd/system/multi-user.target.wants/"
                                      "juju-app-0-systemd-notices.service")
                                .c_str(),
                            target, sizeof target);
  ASSERT_GT(length, 0);
  EXPECT_EQ(std::string(target, static_cast<size_t>(length)),
            "/etc/systemd/system/juju-app-0-systemd-notices.service");
}

}  // namespace
}  // namespace jsn::testing
