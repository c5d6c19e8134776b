// Every message in fixtures/invalid/ (written by tools/make-invalid-fixtures) breaks one rule;
// the reader must reject each with exactly that rule at exactly the recorded byte offset.
// NAME.bin is named "<rule>" or "<rule>--<case>"; NAME.offset holds the offset in decimal.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "jsn/wire/reader.h"
#include "support/source_tree.h"

namespace jsn {
namespace {

namespace fs = std::filesystem;

fs::path InvalidDirectory() { return testing::SourcePath("fixtures/invalid"); }

// Enough to show the fixtures cover the wire rules broadly, not a handful of them.
constexpr size_t kMinimumFixtures = 60;
constexpr size_t kMinimumDistinctRules = 30;

std::vector<fs::path> Fixtures() {
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(InvalidDirectory())) {
    if (entry.path().extension() == ".bin") paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

std::string RuleOf(const fs::path& path) {
  const std::string stem = path.stem().string();
  return stem.substr(0, stem.find("--"));
}

TEST(InvalidFixtures, ThereAreDozensCoveringManyRules) {
  const auto paths = Fixtures();
  std::set<std::string> rules;
  for (const auto& p : paths) rules.insert(RuleOf(p));
  EXPECT_GE(paths.size(), kMinimumFixtures);
  EXPECT_GE(rules.size(), kMinimumDistinctRules);
}

TEST(InvalidFixtures, EachIsRejectedWithItsRuleAtItsOffset) {
  const auto paths = Fixtures();
  ASSERT_FALSE(paths.empty());
  for (const auto& path : paths) {
    SCOPED_TRACE(path.string());
    std::ifstream bin(path, std::ios::binary);
    ASSERT_TRUE(bin.good());
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(bin)),
                                     std::istreambuf_iterator<char>());
    fs::path offset_path = path;
    offset_path.replace_extension(".offset");
    std::ifstream offset_file(offset_path);
    size_t offset = 0;
    ASSERT_TRUE(offset_file >> offset) << "missing or unreadable " << offset_path;

    Message message;
    Status status = Message::Parse(bytes, &message);
    EXPECT_STREQ(status.rule(), RuleOf(path).c_str()) << status.message();
    EXPECT_EQ(status.offset(), offset) << status.rule() << ": " << status.message();
    EXPECT_STRNE(status.message(), "");
  }
}

}  // namespace
}  // namespace jsn
