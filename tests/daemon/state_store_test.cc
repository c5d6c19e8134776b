// The state file: written atomically, read back, and anything not ours treated as absent.
#include "jsn/daemon/state_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "support/child_process.h"

namespace jsn {
namespace {

using jsn::testing::ReadFile;
using jsn::testing::RunCommand;
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

Transition Record(const char* state, const char* result, uint64_t timestamp) {
  Transition t;
  CopyWord(state, t.state);
  CopyWord(result, t.result);
  t.timestamp = timestamp;
  return t;
}

TEST(StateStoreTest, RecordsAreWrittenAsLinesOfTheirOwnAndReadBack) {
  TempDir directory;
  StateStore store;
  ASSERT_TRUE(store.Init(directory.path().c_str(), "app/0").ok());
  const Hook saved[3] = {Hook::kStopped, Hook::kStarted, Hook::kNone};
  Transition records[3] = {Record("failed", "exit-code", 10), Record("active", "success", 11), {}};
  records[0].exit_code = ExitCode::kExited;
  records[0].exit_status = 1;
  records[0].has_restarts = true;
  records[0].n_restarts = 3;
  ASSERT_TRUE(store.Save(kUnits, saved, {}, records).ok());
  EXPECT_EQ(ReadFile(store.path()),
            "juju-systemd-notices-state 1 app/0\n"
            "a.service stopped\n"
            "b.service started\n"
            "record state=failed result=exit-code exit_code=exited exit_status=1 n_restarts=3 "
            "timestamp=10 "
            "a.service stopped\n"
            "record state=active result=success timestamp=11 b.service started\n");
  Hook hooks[3];
  Transition loaded[3] = {Record("active", "x", 1), Record("active", "x", 1),
                          Record("active", "x", 1)};
  bool found = false;
  ASSERT_TRUE(store.Load(kUnits, hooks, &found, {}, loaded).ok());
  EXPECT_EQ(hooks[0], Hook::kStopped);
  EXPECT_EQ(hooks[1], Hook::kStarted);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(loaded[i], records[i]) << i;

  // A file from before records (or from a daemon that never saw a state) loads with none.
  ASSERT_TRUE(WriteFile(store.path(), "juju-systemd-notices-state 1 app/0\na.service stopped\n"));
  loaded[0] = Record("active", "x", 1);
  ASSERT_TRUE(store.Load(kUnits, hooks, &found, {}, loaded).ok());
  EXPECT_FALSE(loaded[0].recorded());
  EXPECT_EQ(hooks[0], Hook::kStopped);
}

// As the delivery lines: the first reader takes "record FIELDS UNIT" for a unit it does not
// watch, so a downgraded daemon keeps its hooks.
TEST(StateStoreTest, RecordLinesReadAsUnwatchedUnitsWhenSplitAtTheLastSpace) {
  TempDir directory;
  StateStore store;
  ASSERT_TRUE(store.Init(directory.path().c_str(), "app/0").ok());
  const Hook saved[3] = {Hook::kNone, Hook::kNone, Hook::kNone};
  Transition records[3] = {Record("inactive", "success", 5), {}, {}};
  ASSERT_TRUE(store.Save(kUnits, saved, {}, records).ok());
  std::string text = ReadFile(store.path());
  size_t last_line = text.rfind('\n', text.size() - 2) + 1;
  std::string line = text.substr(last_line, text.size() - 1 - last_line);
  ASSERT_EQ(line, "record state=inactive result=success timestamp=5 a.service stopped");
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
  ExpectCorrupt("juju-systemd-notices-state 1 app/0\nrecord state=Failed a.service stopped\n");
  ExpectCorrupt("juju-systemd-notices-state 1 app/0\nrecord exit_status=x a.service stopped\n");
  ExpectCorrupt("juju-systemd-notices-state 1 app/0\nrecord garbage a.service stopped\n");
}

TEST(StateStoreTest, LoadOfAMissingDirectoryFindsNothingAndMakesNothing) {
  TempDir directory;
  StateStore store;
  std::string state_dir = directory.Join("state");
  ASSERT_TRUE(store.Init(state_dir.c_str(), "app/0").ok());
  Hook hooks[3];
  bool found = true;
  ASSERT_TRUE(store.Load(kUnits, hooks, &found).ok());
  EXPECT_FALSE(found);
  struct stat st;
  EXPECT_NE(lstat(state_dir.c_str(), &st), 0) << "the directory was made";
}

// The directory is checked once through its descriptor, and used through it after that: a
// directory renamed away and replaced by a symlink after the check is not followed.
TEST(StateStoreTest, ADirectorySwappedForASymlinkAfterTheCheckIsNotFollowed) {
  TempDir directory;
  std::string state_dir = directory.Join("state");
  std::string elsewhere = directory.Join("elsewhere");
  ASSERT_EQ(mkdir(state_dir.c_str(), 0755), 0);
  ASSERT_EQ(mkdir(elsewhere.c_str(), 0755), 0);
  StateStore store;
  ASSERT_TRUE(store.Init(state_dir.c_str(), "app/0").ok());
  ASSERT_TRUE(store.OpenDirectory().ok());
  const Hook first[3] = {Hook::kStarted, Hook::kNone, Hook::kNone};
  ASSERT_TRUE(store.Save(kUnits, first).ok());
  ASSERT_EQ(rename(state_dir.c_str(), directory.Join("checked").c_str()), 0);
  ASSERT_EQ(symlink(elsewhere.c_str(), state_dir.c_str()), 0);
  const Hook second[3] = {Hook::kStopped, Hook::kNone, Hook::kNone};
  ASSERT_TRUE(store.Save(kUnits, second).ok());
  EXPECT_EQ(ReadFile(directory.Join("checked/app-0.state")),
            "juju-systemd-notices-state 1 app/0\na.service stopped\n");
  EXPECT_EQ(RunCommand({"ls", "-A", elsewhere}).output, "");
  Hook hooks[3];
  bool found = false;
  ASSERT_TRUE(store.Load(kUnits, hooks, &found).ok());  // read back from the checked one
  EXPECT_TRUE(found);
  EXPECT_EQ(hooks[0], Hook::kStopped);
  // A new store is checked anew: the symlink is refused, for reading as for writing.
  StateStore fresh;
  ASSERT_TRUE(fresh.Init(state_dir.c_str(), "app/0").ok());
  EXPECT_STREQ(fresh.Load(kUnits, hooks, &found).rule(), "unsafe-state-dir");
  EXPECT_STREQ(fresh.Save(kUnits, second).rule(), "unsafe-state-dir");
  Status status = fresh.OpenDirectory();
  EXPECT_STREQ(status.rule(), "unsafe-state-dir");
  EXPECT_NE(std::string(status.message()).find("not a directory (a symlink?)"), std::string::npos)
      << status.message();
  EXPECT_EQ(RunCommand({"ls", "-A", elsewhere}).output, "");
}

TEST(StateStoreTest, ADirectoryOthersCanWriteIsRefused) {
  TempDir directory;
  std::string state_dir = directory.Join("state");
  ASSERT_EQ(mkdir(state_dir.c_str(), 0755), 0);
  ASSERT_EQ(chmod(state_dir.c_str(), 0775), 0);
  StateStore store;
  ASSERT_TRUE(store.Init(state_dir.c_str(), "app/0").ok());
  Status status = store.OpenDirectory();
  EXPECT_STREQ(status.rule(), "unsafe-state-dir");
  EXPECT_NE(std::string(status.message()).find("writable by its group or by others"),
            std::string::npos)
      << status.message();
}

TEST(StateStoreTest, ADirectoryDeletedAfterItWasOpenedIsMadeAgainBySave) {
  TempDir directory;
  std::string state_dir = directory.Join("state");
  StateStore store;
  ASSERT_TRUE(store.Init(state_dir.c_str(), "app/0").ok());
  ASSERT_TRUE(store.OpenDirectory().ok());  // made
  ASSERT_EQ(rmdir(state_dir.c_str()), 0);
  const Hook saved[3] = {Hook::kStarted, Hook::kNone, Hook::kNone};
  ASSERT_TRUE(store.Save(kUnits, saved).ok());
  EXPECT_EQ(ReadFile(state_dir + "/app-0.state"),
            "juju-systemd-notices-state 1 app/0\na.service started\n");
}

// A save killed between creating its temp file and renaming it leaves the temp file; the next
// start deletes it, and only what has that exact name and is a regular file.
TEST(StateStoreTest, StaleTemporariesOfThisUnitAreDeletedAndNothingElse) {
  TempDir directory;
  std::string victim = directory.Join("victim");
  ASSERT_TRUE(WriteFile(victim, "keep\n"));
  std::string state_dir = directory.Join("state");
  ASSERT_EQ(mkdir(state_dir.c_str(), 0755), 0);
  std::string base = state_dir + "/app-0.state";
  ASSERT_TRUE(WriteFile(base, "juju-systemd-notices-state 1 app/0\na.service started\n"));
  ASSERT_TRUE(WriteFile(base + ".tmp-0123456789abcdef", "half a save"));
  ASSERT_TRUE(WriteFile(base + ".tmp-fedcba9876543210", ""));
  const char* const kept[] = {
      "app-0.state.tmp-0123456789ABCDEF",   // not a name CreateTemporary gives
      "app-0.state.tmp-0123456789abcde",    // 15 digits
      "app-0.state.tmp-0123456789abcdef0",  // 17
      "app-0.state.tmp-0123456789abcdeg",  "app-0.state.tmp",
      "app-1.state.tmp-0123456789abcdef",  // another Juju unit's
      "xapp-0.state.tmp-0123456789abcdef",
  };
  for (const char* name : kept) ASSERT_TRUE(WriteFile(state_dir + "/" + name, "other\n"));
  ASSERT_EQ(symlink(victim.c_str(), (base + ".tmp-1111111111111111").c_str()), 0);
  ASSERT_EQ(mkdir((base + ".tmp-2222222222222222").c_str(), 0755), 0);
  ASSERT_EQ(mkfifo((base + ".tmp-3333333333333333").c_str(), 0644), 0);

  StateStore store;
  ASSERT_TRUE(store.Init(state_dir.c_str(), "app/0").ok());
  ASSERT_TRUE(store.OpenDirectory().ok());
  int removed = -1;
  ASSERT_TRUE(store.RemoveStaleTemporaries(&removed).ok());
  EXPECT_EQ(removed, 2);
  struct stat st;
  EXPECT_NE(lstat((base + ".tmp-0123456789abcdef").c_str(), &st), 0);
  EXPECT_NE(lstat((base + ".tmp-fedcba9876543210").c_str(), &st), 0);
  EXPECT_EQ(ReadFile(base), "juju-systemd-notices-state 1 app/0\na.service started\n");
  for (const char* name : kept) EXPECT_EQ(ReadFile(state_dir + "/" + name), "other\n") << name;
  for (const char* suffix :
       {".tmp-1111111111111111", ".tmp-2222222222222222", ".tmp-3333333333333333"}) {
    EXPECT_EQ(lstat((base + suffix).c_str(), &st), 0) << suffix;
  }
  EXPECT_EQ(ReadFile(victim), "keep\n");
  ASSERT_TRUE(store.RemoveStaleTemporaries(&removed).ok());  // none left
  EXPECT_EQ(removed, 0);
}

}  // namespace
}  // namespace jsn
