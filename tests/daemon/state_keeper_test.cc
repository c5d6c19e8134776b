// The state file kept in step with the tracker: baselines read at start-up, a write only when
// what the tracker delivered changed, and a failing save that leaves the daemon running.
#include "jsn/daemon/state_keeper.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "support/child_process.h"

namespace jsn {
namespace {

using jsn::testing::ReadFile;
using jsn::testing::TempDir;
using jsn::testing::WriteFile;

const char* const kUnits[] = {"a.service", "b.service"};

Options OptionsFor(const std::string& state_dir) {
  Options options;
  options.juju_unit = "app/0";
  options.state_dir = state_dir.c_str();
  options.watch_count = 2;
  return options;
}

ino_t InodeOf(const std::string& path) {
  struct stat info {};
  return stat(path.c_str(), &info) == 0 ? info.st_ino : 0;
}

TEST(StateKeeperTest, ReadsTheBaselinesThenWritesOnlyWhenTheDeliveriesChange) {
  TempDir directory;
  std::string path = directory.path() + "/app-0.state";
  ASSERT_TRUE(WriteFile(path, "juju-systemd-notices-state 1 app/0\na.service started\n", 0644));
  std::string state_dir = directory.path();
  Options options = OptionsFor(state_dir);
  StateKeeper keeper;
  keeper.Load(options, kUnits);
  EXPECT_EQ(keeper.saved(0), Hook::kStarted);
  EXPECT_EQ(keeper.saved(1), Hook::kNone);

  Tracker tracker(2);
  tracker.RecordInitialState(0, "active", keeper.saved(0));
  tracker.RecordInitialState(1, "inactive", keeper.saved(1));
  Transition records[2];
  keeper.Save(tracker, records);  // the first save always writes: the baselines
  ino_t first = InodeOf(path);
  EXPECT_EQ(ReadFile(path),
            "juju-systemd-notices-state 1 app/0\na.service started\nb.service stopped\n");
  keeper.Save(tracker, records);  // nothing changed: no write (an atomic write is a new inode)
  EXPECT_EQ(InodeOf(path), first);

  tracker.ObserveState(1, "active");  // a hook is now due: where the delivery stands changed
  keeper.Save(tracker, records);
  ino_t second = InodeOf(path);
  EXPECT_NE(second, first);
  EXPECT_NE(ReadFile(path).find("b.service"), std::string::npos) << ReadFile(path);

  // A new record (a repeat of the state, say, with another Result) is written too, and read
  // back by the next daemon.
  CopyWord("failed", records[0].state);
  CopyWord("timeout", records[0].result);
  records[0].timestamp = 42;
  keeper.Save(tracker, records);
  EXPECT_NE(InodeOf(path), second);
  EXPECT_NE(
      ReadFile(path).find("record state=failed result=timeout timestamp=42 a.service stopped\n"),
      std::string::npos)
      << ReadFile(path);
  StateKeeper next;
  next.Load(options, kUnits);
  EXPECT_EQ(next.saved_record(0), records[0]);
  EXPECT_FALSE(next.saved_record(1).recorded());
}

TEST(StateKeeperTest, AStateDirItMayNotKeepMeansNoStateAndNoWrite) {
  TempDir directory;
  std::string state_dir = directory.path() + "/world-writable";
  ASSERT_EQ(mkdir(state_dir.c_str(), 0777), 0);
  ASSERT_EQ(chmod(state_dir.c_str(), 0777), 0);
  Options options = OptionsFor(state_dir);
  StateKeeper keeper;
  keeper.Load(options, kUnits);
  Tracker tracker(2);
  tracker.RecordInitialState(0, "active");
  tracker.RecordInitialState(1, "active");
  Transition records[2];
  keeper.Save(tracker, records);
  EXPECT_EQ(InodeOf(state_dir + "/app-0.state"), 0u);
}

}  // namespace
}  // namespace jsn
