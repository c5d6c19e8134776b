// The state file: written atomically, read back, and anything not ours treated as absent.
#include "jsn/state_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "support/child_process.h"

namespace jsn {
namespace {

using jsn::testing::ReadFile;
using jsn::testing::TempDir;
using jsn::testing::WriteFile;

const char* const kUnits[] = {"a.service", "b.service", "c.service"};

TEST(StateStoreTest, NoFileYetIsNotFoundAndNoHooks) {
  TempDir directory;
  StateStore store;
  ASSERT_TRUE(store.Init(directory.path().c_str(), "app/0").ok());
  Hook hooks[3] = {Hook::kStarted, Hook::kStarted, Hook::kStarted};
  bool found = true;
  ASSERT_TRUE(store.Load(kUnits, hooks, &found).ok());
  EXPECT_FALSE(found);
  EXPECT_EQ(hooks[0], Hook::kNone);
  EXPECT_EQ(hooks[2], Hook::kNone);
}

TEST(StateStoreTest, SavedHooksAreReadBackPerUnitAndFileIsNamedForTheJujuUnit) {
  TempDir directory;
  StateStore store;
  ASSERT_TRUE(store.Init((directory.path() + "/").c_str(), "my-app/12").ok());
  EXPECT_EQ(std::string(store.path()), directory.path() + "/my-app-12.state");
  const Hook saved[3] = {Hook::kStarted, Hook::kNone, Hook::kStopped};
  ASSERT_TRUE(store.Save(kUnits, saved).ok());
  EXPECT_EQ(ReadFile(store.path()),
            "juju-systemd-notices-state 1 my-app/12\na.service started\nc.service stopped\n");
  struct stat info;
  EXPECT_NE(stat((std::string(store.path()) + ".tmp").c_str(), &info), 0);  // renamed away
  // Read back with the units in another order and one no longer watched.
  const char* const units[] = {"c.service", "a.service", "new.service"};
  Hook hooks[3];
  bool found = false;
  ASSERT_TRUE(store.Load(units, hooks, &found).ok());
  EXPECT_TRUE(found);
  EXPECT_EQ(hooks[0], Hook::kStopped);
  EXPECT_EQ(hooks[1], Hook::kStarted);
  EXPECT_EQ(hooks[2], Hook::kNone);
}

TEST(StateStoreTest, SaveCreatesAMissingDirectoryAndReplacesTheOldFile) {
  TempDir directory;
  StateStore store;
  std::string state_dir = directory.Join("state");
  ASSERT_TRUE(store.Init(state_dir.c_str(), "app/0").ok());
  const Hook first[3] = {Hook::kStarted, Hook::kStarted, Hook::kStarted};
  ASSERT_TRUE(store.Save(kUnits, first).ok());
  const Hook second[3] = {Hook::kStopped, Hook::kNone, Hook::kNone};
  ASSERT_TRUE(store.Save(kUnits, second).ok());
  EXPECT_EQ(ReadFile(store.path()), "juju-systemd-notices-state 1 app/0\na.service stopped\n");
}

TEST(StateStoreTest, DeliveryStatesAreWrittenAsLinesOfTheirOwnAndReadBack) {
  TempDir directory;
  StateStore store;
  ASSERT_TRUE(store.Init(directory.path().c_str(), "app/0").ok());
  const Hook saved[3] = {Hook::kStarted, Hook::kNone, Hook::kStopped};
  const DeliveryState states[3] = {{Progress::kFailing, Hook::kStopped},
                                   {Progress::kPending, Hook::kStarted},
                                   {Progress::kIdle, Hook::kNone}};
  ASSERT_TRUE(store.Save(kUnits, saved, states).ok());
  EXPECT_EQ(ReadFile(store.path()),
            "juju-systemd-notices-state 1 app/0\na.service started\nc.service stopped\n"
            "failing a.service stopped\npending b.service started\n");
  Hook hooks[3];
  DeliveryState loaded[3] = {{Progress::kFailing, Hook::kStarted},
                             {Progress::kFailing, Hook::kStarted},
                             {Progress::kFailing, Hook::kStarted}};
  bool found = false;
  ASSERT_TRUE(store.Load(kUnits, hooks, &found, loaded).ok());
  EXPECT_TRUE(found);
  EXPECT_EQ(hooks[0], Hook::kStarted);
  EXPECT_EQ(hooks[1], Hook::kNone);  // a pending line is not a delivered hook
  EXPECT_EQ(hooks[2], Hook::kStopped);
  EXPECT_EQ(loaded[0], (DeliveryState{Progress::kFailing, Hook::kStopped}));
  EXPECT_EQ(loaded[1], (DeliveryState{Progress::kPending, Hook::kStarted}));
  EXPECT_EQ(loaded[2], (DeliveryState{Progress::kIdle, Hook::kNone}));
  // Without the deliveries the hooks read back the same: the extra lines change nothing.
  Hook plain[3];
  ASSERT_TRUE(store.Load(kUnits, plain, &found).ok());
  EXPECT_EQ(plain[0], Hook::kStarted);
  EXPECT_EQ(plain[1], Hook::kNone);
  EXPECT_EQ(plain[2], Hook::kStopped);
}

TEST(StateStoreTest, AFileWithoutDeliveryLinesLoadsWithEveryUnitIdle) {
  TempDir directory;
  StateStore store;
  ASSERT_TRUE(store.Init(directory.path().c_str(), "app/0").ok());
  ASSERT_TRUE(WriteFile(
      store.path(), "juju-systemd-notices-state 1 app/0\na.service stopped\nb.service started\n"));
  Hook hooks[3];
  DeliveryState loaded[3] = {{Progress::kPending, Hook::kStarted},
                             {Progress::kPending, Hook::kStarted},
                             {Progress::kPending, Hook::kStarted}};
  bool found = false;
  ASSERT_TRUE(store.Load(kUnits, hooks, &found, loaded).ok());
  EXPECT_TRUE(found);
  EXPECT_EQ(hooks[0], Hook::kStopped);
  EXPECT_EQ(hooks[1], Hook::kStarted);
  EXPECT_EQ(hooks[2], Hook::kNone);
  for (const DeliveryState& state : loaded) {
    EXPECT_EQ(state, (DeliveryState{Progress::kIdle, Hook::kNone}));
  }
}

// The first reader of this format split each line at its last space and ignored units it did
// not watch; a delivery line must read as such a unit to it, so an older daemon keeps its hooks.
TEST(StateStoreTest, DeliveryLinesReadAsUnwatchedUnitsWhenSplitAtTheLastSpace) {
  TempDir directory;
  StateStore store;
  ASSERT_TRUE(store.Init(directory.path().c_str(), "app/0").ok());
  const Hook saved[3] = {Hook::kStopped, Hook::kNone, Hook::kNone};
  const DeliveryState states[3] = {{Progress::kPending, Hook::kStarted}, {}, {}};
  ASSERT_TRUE(store.Save(kUnits, saved, states).ok());
  std::string text = ReadFile(store.path());
  size_t last_line = text.rfind('\n', text.size() - 2) + 1;
  std::string line = text.substr(last_line, text.size() - 1 - last_line);
  ASSERT_EQ(line, "pending a.service started");
  std::string unit = line.substr(0, line.rfind(' '));
  for (const char* watched : kUnits) EXPECT_NE(unit, watched);
}

void ExpectCorrupt(const std::string& text) {
  TempDir directory;
  StateStore store;
  ASSERT_TRUE(store.Init(directory.path().c_str(), "app/0").ok());
  ASSERT_TRUE(WriteFile(store.path(), text));
  Hook hooks[3] = {Hook::kStarted, Hook::kStarted, Hook::kStarted};
  bool found = false;
  Status status = store.Load(kUnits, hooks, &found);
  EXPECT_EQ(std::string(status.rule()), "corrupt-state-file") << text;
  EXPECT_EQ(hooks[0], Hook::kNone) << text;
  EXPECT_EQ(hooks[1], Hook::kNone) << text;
}

TEST(StateStoreTest, CorruptOrForeignFilesAreReportedAndGiveNoHooks) {
  ExpectCorrupt("");
  ExpectCorrupt(
      "\x7f"
      "ELF\x02\x01\x01");
  ExpectCorrupt("{\"a.service\": \"started\"}\n");
  ExpectCorrupt("juju-systemd-notices-state 1 other/3\na.service started\n");  // another unit's
  ExpectCorrupt("juju-systemd-notices-state 2 app/0\na.service started\n");    // newer format
  ExpectCorrupt("juju-systemd-notices-state 1 app/0\na.service running\n");
  ExpectCorrupt("juju-systemd-notices-state 1 app/0\na.service started\nb.service stopped");
  ExpectCorrupt("juju-systemd-notices-state 1 app/0\nstarted\n");
  ExpectCorrupt("juju-systemd-notices-state 1 app/0\nfailing a.service\n");  // no hook
  ExpectCorrupt("juju-systemd-notices-state 1 app/0\npending a.service running\n");
}

}  // namespace
}  // namespace jsn
