// `subscribe --root DIR` for image builds: the unit file goes under DIR/etc/systemd/system and
// is enabled offline (the multi-user.target.wants link), and no bus is contacted: --bus points
// at a socket that does not exist, which would fail a connection.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/source_tree.h"

namespace jsn::testing {
namespace {

TEST(SubscribeWithRoot, WritesAndEnablesUnderTheRootWithoutTouchingABus) {
  TempDir directory;
  ASSERT_EQ(mkdir(directory.Join("charm").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(directory.Join("root").c_str(), 0755), 0);
  CommandResult result = RunCommand({DaemonPath(), "subscribe", "--unit", "app/0", "--charm-dir",
                                     directory.Join("charm"), "--root", directory.Join("root"),
                                     "--bus", "unix:path=" + directory.Join("no-bus"), "slurmd"});
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

// subscribe puts its own check on the unit it would write: the ExecStart= line, split as
// systemd splits it, goes through the daemon's parser, and the unit's name must fit systemd's.
// A unit the daemon would refuse (exit 2 at every start, restarted every second) is refused
// here, with exit 2 and nothing written: no unit file, no hook links.
TEST(SubscribeWithRoot, RefusesWhatTheDaemonOrSystemdWouldRefuseBeforeWritingAnything) {
  TempDir directory;
  std::string charm = directory.Join("charm");
  std::string root = directory.Join("root");
  ASSERT_EQ(mkdir(charm.c_str(), 0755), 0);
  ASSERT_EQ(mkdir(root.c_str(), 0755), 0);
  struct Case {
    std::vector<std::string> options;
    std::string said;
  };
  const Case cases[] = {
      {{"--unit", "app/0", "--juju-exec", "bin/juju-exec"}, "--juju-exec"},
      {{"--unit", "app/0", "--state-dir", "/" + std::string(3100, 's')}, "--state-dir"},
      {{"--unit", std::string(240, 'a') + "/0"}, "notices unit name fits systemd's 255 bytes"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = {DaemonPath(), "subscribe",   "--root",
                                     root,         "--charm-dir", charm};
    argv.insert(argv.end(), c.options.begin(), c.options.end());
    argv.push_back("slurmd");
    CommandResult result = RunCommand(argv);
    EXPECT_EQ(result.exit_code(), 2) << c.said << ": " << result.output;
    EXPECT_NE(result.output.find(c.said), std::string::npos) << result.output;
    struct stat st;
    EXPECT_NE(lstat((charm + "/hooks").c_str(), &st), 0) << c.said << ": hook links made";
    EXPECT_NE(lstat((root + "/etc").c_str(), &st), 0) << c.said << ": a unit file written";
  }
}

// stop --root DIR used to run StopUnit and DisableUnitFiles on the live bus: during an image
// build, that stops the host's daemon. Only subscribe works offline; the others refuse --root
// with exit 2 before any bus is contacted (the --bus here would fail a connection: exit 1).
TEST(SubscribeWithRoot, TheOtherSubcommandsRefuseRootBeforeTouchingABus) {
  TempDir directory;
  for (const char* subcommand : {"stop", "status", "remove"}) {
    CommandResult result =
        RunCommand({DaemonPath(), subcommand, "--unit", "app/0", "--root", directory.path(),
                    "--bus", "unix:path=" + directory.Join("no-bus")});
    EXPECT_EQ(result.exit_code(), 2) << subcommand << ": " << result.output;
    EXPECT_NE(result.output.find(std::string("expected no --root with ") + subcommand),
              std::string::npos)
        << result.output;
  }
}

}  // namespace
}  // namespace jsn::testing
