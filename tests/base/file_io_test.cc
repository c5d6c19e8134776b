#include "jsn/base/file_io.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>

#include "support/child_process.h"

namespace jsn {
namespace {

using ::jsn::testing::ReadFile;
using ::jsn::testing::RunCommand;
using ::jsn::testing::TempDir;
using ::jsn::testing::WriteFile;

TEST(ReadSmallFile, ReadsARegularFileWhole) {
  TempDir directory;
  ASSERT_TRUE(WriteFile(directory.Join("f"), "hello\n"));
  char buffer[16];
  size_t length = 99;
  Status status = ReadSmallFile(directory.Join("f").c_str(), buffer, &length);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(std::string(buffer, length), "hello\n");
}

TEST(ReadSmallFile, AFileOfExactlyTheBufferFitsAndOneByteMoreDoesNot) {
  TempDir directory;
  ASSERT_TRUE(WriteFile(directory.Join("eight"), "12345678"));
  ASSERT_TRUE(WriteFile(directory.Join("nine"), "123456789"));
  char buffer[8];
  size_t length = 0;
  EXPECT_TRUE(ReadSmallFile(directory.Join("eight").c_str(), buffer, &length).ok());
  EXPECT_EQ(length, 8u);
  Status status = ReadSmallFile(directory.Join("nine").c_str(), buffer, &length);
  EXPECT_STREQ(status.rule(), "file-too-large");
  EXPECT_NE(std::string(status.message()).find("at most 8 bytes"), std::string::npos);
}

TEST(ReadSmallFile, AMissingFileIsToldApartFromAnUnreadableOne) {
  TempDir directory;
  char buffer[8];
  size_t length = 0;
  EXPECT_STREQ(ReadSmallFile(directory.Join("absent").c_str(), buffer, &length).rule(),
               "file-missing");
  Status status = ReadSmallFile(directory.path().c_str(), buffer, &length);
  EXPECT_STREQ(status.rule(), "file-unreadable");
  EXPECT_NE(std::string(status.message()).find("found a directory"), std::string::npos);
}

// A FIFO planted where a file should be would block a plain open() for ever (no writer); a
// socket cannot be opened at all. Both are refused at once, saying what was found.
TEST(ReadSmallFile, AFifoOrASocketIsRefusedWithoutBlocking) {
  TempDir directory;
  std::string fifo = directory.Join("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
  char buffer[8];
  size_t length = 0;
  Status status = ReadSmallFile(fifo.c_str(), buffer, &length);
  EXPECT_STREQ(status.rule(), "file-unreadable");
  EXPECT_NE(std::string(status.message()).find("found a FIFO"), std::string::npos)
      << status.message();

  std::string socket_path = directory.Join("socket");
  int listener = socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  snprintf(address.sun_path, sizeof address.sun_path, "%s", socket_path.c_str());
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  status = ReadSmallFile(socket_path.c_str(), buffer, &length);
  close(listener);
  EXPECT_STREQ(status.rule(), "file-unreadable");
}

TEST(WriteFileAtomically, ReplacesTheFileAndLeavesNoTemporary) {
  TempDir directory;
  std::string path = directory.Join("unit.service");
  ASSERT_TRUE(WriteFileAtomically(path.c_str(), "one\n").ok());
  ASSERT_TRUE(WriteFileAtomically(path.c_str(), "two\n").ok());
  EXPECT_EQ(ReadFile(path), "two\n");
  std::string listing = RunCommand({"ls", "-A", directory.path()}).output;
  EXPECT_EQ(listing, "unit.service\n");
}

TEST(WriteFileAtomically, FailsInADirectoryThatIsNotThere) {
  TempDir directory;
  std::string path = directory.Join("absent/unit.service");
  EXPECT_STREQ(WriteFileAtomically(path.c_str(), "x").rule(), "open-failed");
}

// As root, in a directory someone else can write: the temporary file's name is not guessable
// and it is created exclusively, so a symlink planted at the names the old code used (PATH.tmp,
// PATH.tmp-PID) is neither followed nor overwritten, and its target keeps its contents.
TEST(WriteFileAtomically, FollowsNoPlantedSymlinkAndOverwritesNothingBesideIt) {
  TempDir directory;
  std::string victim = directory.Join("root-only");
  ASSERT_TRUE(WriteFile(victim, "secret\n", 0600));
  std::string path = directory.Join("app-0.state");
  for (const std::string& planted :
       {path + ".tmp", path + ".tmp-" + std::to_string(getpid()), path + ".tmp-0"}) {
    ASSERT_EQ(symlink(victim.c_str(), planted.c_str()), 0);
  }
  ASSERT_TRUE(WriteFileAtomically(path.c_str(), "state\n").ok());
  EXPECT_EQ(ReadFile(victim), "secret\n");
  EXPECT_EQ(ReadFile(path), "state\n");
  struct stat st;
  ASSERT_EQ(lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  // Nothing left but what was there and the file itself.
  std::string listing = RunCommand({"ls", "-A", directory.path()}).output;
  EXPECT_EQ(listing, "app-0.state\napp-0.state.tmp\napp-0.state.tmp-0\napp-0.state.tmp-" +
                         std::to_string(getpid()) + "\nroot-only\n");
}

// The unit file's way: PATH.tmp, so that a run killed before its rename leaves a file the next
// run replaces, whatever it is (a symlink planted there is unlinked, not followed).
TEST(WriteFileAtomically, AFixedTemporaryLeftByAKilledRunIsReplacedNotLeftBeside) {
  TempDir directory;
  std::string victim = directory.Join("root-only");
  ASSERT_TRUE(WriteFile(victim, "secret\n", 0600));
  std::string path = directory.Join("unit.service");
  ASSERT_TRUE(WriteFile(path + ".tmp", "half a unit fi", 0600));
  ASSERT_TRUE(WriteFileAtomically(path.c_str(), "one\n", /*fixed_temporary=*/true).ok());
  ASSERT_EQ(symlink(victim.c_str(), (path + ".tmp").c_str()), 0);
  ASSERT_TRUE(WriteFileAtomically(path.c_str(), "two\n", /*fixed_temporary=*/true).ok());
  EXPECT_EQ(ReadFile(path), "two\n");
  EXPECT_EQ(ReadFile(victim), "secret\n");
  std::string listing = RunCommand({"ls", "-A", directory.path()}).output;
  EXPECT_EQ(listing, "root-only\nunit.service\n");
}

}  // namespace
}  // namespace jsn
