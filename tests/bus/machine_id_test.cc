// The machine id GetMachineId answers with: what a machine-id file may hold, the fallback to
// libdbus's file, and that it is read once. Every file is in a temp dir of the test's own; the
// host's /etc/machine-id is only read, by the last test.
#include "jsn/bus/machine_id.h"

#include <gtest/gtest.h>

#include <string>

#include "support/child_process.h"

namespace jsn {
namespace {

using jsn::testing::ReadFile;
using jsn::testing::TempDir;
using jsn::testing::WriteFile;

constexpr const char* kId = "0123456789abcdef0123456789abcdef";

// What ReadMachineIdFile makes of a file holding `text`: the id, or "rule: message".
std::string ReadText(const TempDir& directory, const std::string& text) {
  std::string path = directory.Join("machine-id");
  EXPECT_TRUE(WriteFile(path, text));
  char id[kMachineIdLength + 1];
  Status status = ReadMachineIdFile(path.c_str(), id);
  if (!status.ok()) return std::string(status.rule()) + ": " + status.message();
  return id;
}

TEST(MachineIdTest, ThirtyTwoLowercaseHexDigitsWithOrWithoutANewlineAreAnId) {
  TempDir directory;
  EXPECT_EQ(ReadText(directory, std::string(kId) + "\n"), kId);
  EXPECT_EQ(ReadText(directory, kId), kId);
}

TEST(MachineIdTest, AnythingElseIsInvalid) {
  TempDir directory;
  for (const std::string& text :
       {std::string("uninitialized\n"), std::string(""), std::string("\n"),
        std::string("0123456789ABCDEF0123456789ABCDEF\n"),  // uppercase
        std::string(kId).substr(0, 31) + "\n", std::string(kId) + "0\n", std::string(kId) + "\n\n",
        std::string(kId) + " ", std::string(kId) + "\nmore",
        std::string("0123456789abcdef-0123456789abcde\n")}) {
    std::string result = ReadText(directory, text);
    EXPECT_EQ(result.rfind("machine-id-invalid: ", 0), 0u) << "'" << text << "': " << result;
  }
}

TEST(MachineIdTest, AMissingFileIsMissingAndNamesThePath) {
  TempDir directory;
  std::string path = directory.Join("absent");
  char id[kMachineIdLength + 1];
  Status status = ReadMachineIdFile(path.c_str(), id);
  EXPECT_STREQ(status.rule(), "machine-id-missing");
  EXPECT_NE(std::string(status.message()).find(path), std::string::npos) << status.message();
}

TEST(MachineIdTest, ADirectoryIsUnreadable) {
  TempDir directory;
  char id[kMachineIdLength + 1];
  EXPECT_STREQ(ReadMachineIdFile(directory.path().c_str(), id).rule(), "machine-id-unreadable");
}

TEST(MachineIdTest, TheFirstFileWinsAndTheSecondIsTheFallback) {
  TempDir directory;
  std::string first = directory.Join("first"), second = directory.Join("second");
  ASSERT_TRUE(WriteFile(second, "ffffffffffffffffffffffffffffffff\n"));
  std::string_view id;
  {
    MachineId machine_id(first.c_str(), second.c_str());
    ASSERT_TRUE(machine_id.Get(&id).ok());
    EXPECT_EQ(id, "ffffffffffffffffffffffffffffffff");
  }
  ASSERT_TRUE(WriteFile(first, std::string(kId) + "\n"));
  {
    MachineId machine_id(first.c_str(), second.c_str());
    ASSERT_TRUE(machine_id.Get(&id).ok());
    EXPECT_EQ(id, kId);
  }
  ASSERT_TRUE(WriteFile(first, "uninitialized\n"));  // systemd's first boot: not an id yet
  {
    MachineId machine_id(first.c_str(), second.c_str());
    ASSERT_TRUE(machine_id.Get(&id).ok());
    EXPECT_EQ(id, "ffffffffffffffffffffffffffffffff");
  }
}

TEST(MachineIdTest, NeitherFileIsMissingAndTheMessageNamesBoth) {
  TempDir directory;
  std::string first = directory.Join("first"), second = directory.Join("second");
  MachineId machine_id(first.c_str(), second.c_str());
  std::string_view id = "unchanged";
  Status status = machine_id.Get(&id);
  EXPECT_STREQ(status.rule(), "machine-id-missing");
  EXPECT_NE(std::string(status.message()).find(first), std::string::npos) << status.message();
  EXPECT_NE(std::string(status.message()).find(second), std::string::npos) << status.message();
  EXPECT_EQ(id, "unchanged");
}

TEST(MachineIdTest, AnInvalidFileIsReportedAsSuchWhenTheOtherIsMissing) {
  TempDir directory;
  std::string first = directory.Join("first"), second = directory.Join("second");
  ASSERT_TRUE(WriteFile(second, "uninitialized\n"));
  MachineId machine_id(first.c_str(), second.c_str());
  std::string_view id;
  EXPECT_STREQ(machine_id.Get(&id).rule(), "machine-id-invalid");
}

TEST(MachineIdTest, TheIdIsReadOnceAndKeptAFailureToo) {
  TempDir directory;
  std::string first = directory.Join("first"), second = directory.Join("second");
  MachineId machine_id(first.c_str(), second.c_str());
  std::string_view id;
  EXPECT_STREQ(machine_id.Get(&id).rule(), "machine-id-missing");
  ASSERT_TRUE(WriteFile(first, std::string(kId) + "\n"));
  EXPECT_STREQ(machine_id.Get(&id).rule(), "machine-id-missing");  // not read again

  MachineId other(first.c_str(), second.c_str());
  ASSERT_TRUE(other.Get(&id).ok());
  ASSERT_TRUE(WriteFile(first, "ffffffffffffffffffffffffffffffff\n"));
  ASSERT_TRUE(other.Get(&id).ok());
  EXPECT_EQ(id, kId);
}

TEST(MachineIdTest, TheDefaultPathsReadThisMachinesId) {
  std::string expected = ReadFile(kMachineIdPath);
  if (expected.empty()) expected = ReadFile(kDbusMachineIdPath);
  MachineId machine_id;
  std::string_view id;
  Status status = machine_id.Get(&id);
  if (expected.empty()) {
    // Neither file on this machine: the failure is what there is to check.
    EXPECT_FALSE(status.ok());
    return;
  }
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(std::string(id) + "\n", expected);
}

}  // namespace
}  // namespace jsn
