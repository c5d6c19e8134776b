#include "support/fixtures.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "support/source_tree.h"

namespace jsn::testing {

namespace {

constexpr const char* kBinary = ".bin";

// NAME of every NAME.bin in the absolute `path`, sorted; false (and why in `error`) when the
// directory cannot be listed.
bool ListNames(const std::string& path, std::vector<std::string>* names, std::string* error) {
  std::error_code code;
  std::filesystem::directory_iterator entries(path, code);
  const std::filesystem::directory_iterator end;
  for (; !code && entries != end; entries.increment(code)) {
    if (entries->path().extension() == kBinary) names->push_back(entries->path().stem().string());
  }
  if (code) {
    *error = code.message();
    return false;
  }
  std::sort(names->begin(), names->end());
  return true;
}

::testing::AssertionResult Listed(const std::string& directory, size_t minimum,
                                  std::vector<std::string>* names) {
  const std::string path = SourcePath(directory);
  std::string error;
  if (!ListNames(path, names, &error)) {
    return ::testing::AssertionFailure()
           << "cannot list " << path << " (" << error << "); expected at least " << minimum << " "
           << directory << "/NAME.bin (run from the source tree, or set $JSN_SOURCE_DIR)";
  }
  if (names->size() < minimum) {
    return ::testing::AssertionFailure()
           << path << " holds " << names->size() << " NAME.bin; expected at least " << minimum;
  }
  return ::testing::AssertionSuccess();
}

// The whole content of `path`; false when it cannot be opened or read.
bool ReadWhole(const std::string& path, std::string* content) {
  std::ifstream file(path, std::ios::binary);
  if (!file.is_open()) return false;
  content->assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  return !file.bad();
}

}  // namespace

std::vector<std::string> FixtureNames(const std::string& directory) {
  std::vector<std::string> names;
  std::string error;
  if (!ListNames(SourcePath(directory), &names, &error)) names.clear();
  return names;
}

::testing::AssertionResult FixturesPresent(const std::string& directory, size_t minimum) {
  std::vector<std::string> names;
  return Listed(directory, minimum, &names);
}

::testing::AssertionResult ReadFixtures(const std::string& directory,
                                        std::vector<Fixture>* fixtures, size_t minimum) {
  fixtures->clear();
  std::vector<std::string> names;
  ::testing::AssertionResult listed = Listed(directory, minimum, &names);
  if (!listed) return listed;
  for (const std::string& name : names) {
    Fixture fixture;
    ::testing::AssertionResult read = ReadFixture(directory, name, &fixture);
    if (!read) return read;
    fixtures->push_back(std::move(fixture));
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult ReadFixture(const std::string& directory, const std::string& name,
                                       Fixture* fixture) {
  fixture->name = name;
  fixture->path = SourcePath(directory + "/" + name + kBinary);
  std::string content;
  if (!ReadWhole(fixture->path, &content)) {
    return ::testing::AssertionFailure()
           << "cannot read " << fixture->path << "; expected the fixture's message there";
  }
  fixture->bytes.assign(content.begin(), content.end());
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult ReadCompanion(const std::string& directory, const std::string& name,
                                         const std::string& extension, std::string* text) {
  const std::string path = SourcePath(directory + "/" + name + extension);
  if (!ReadWhole(path, text)) {
    return ::testing::AssertionFailure()
           << "missing or unreadable " << path << "; every " << directory << "/" << name << kBinary
           << " has its " << extension << " beside it";
  }
  return ::testing::AssertionSuccess();
}

std::string RuleOfInvalidFixture(const std::string& name) {
  return name.substr(0, name.find("--"));
}

}  // namespace jsn::testing
