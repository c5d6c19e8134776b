// Test support: the one reader of the message fixtures: fixtures/valid/ (recorded by
// tools/record-fixtures, fixtures/README.md) and fixtures/invalid/ (written by
// tools/make-invalid-fixtures, docs/wire.md). A fixture is NAME.bin, one message's bytes, with
// companions beside it that say what to expect of it (NAME.expect, NAME.offset). Directories
// are named relative to the source tree ("fixtures/valid") and found through SourcePath
// (source_tree.h), so $JSN_SOURCE_DIR is honoured. Listings are in byte order of NAME, so a
// parameterised suite's test names and a concatenation of fixtures are the same on every run.
// Everything returned is the caller's own copy.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace jsn::testing {

struct Fixture {
  std::string name;            // NAME, the file's stem: "glib-error-le", "bad-padding--body"
  std::string path;            // the absolute path of NAME.bin, for failure messages
  std::vector<uint8_t> bytes;  // NAME.bin's whole content
};

// NAME of every NAME.bin in `directory`, sorted. Empty when the directory is missing or holds
// none: for INSTANTIATE_TEST_SUITE_P, which cannot fail; a test that needs the fixtures to be
// there says so with ReadFixtures or FixturesPresent.
std::vector<std::string> FixtureNames(const std::string& directory);

// Success when `directory` can be listed and holds at least `minimum` NAME.bin; otherwise a
// failure naming the absolute path, what it held and what was expected.
::testing::AssertionResult FixturesPresent(const std::string& directory, size_t minimum = 1);

// Every NAME.bin in `directory`, sorted by NAME, read whole into `fixtures`. Fails as
// FixturesPresent does, or naming the first file that cannot be read.
::testing::AssertionResult ReadFixtures(const std::string& directory,
                                        std::vector<Fixture>* fixtures, size_t minimum = 1);

// One fixture, `directory`/`name`.bin, read whole; fails naming the path when it cannot be.
::testing::AssertionResult ReadFixture(const std::string& directory, const std::string& name,
                                       Fixture* fixture);

// The text of the companion `directory`/`name``extension` (extension ".expect", ".offset");
// fails naming the path when it is missing or unreadable.
::testing::AssertionResult ReadCompanion(const std::string& directory, const std::string& name,
                                         const std::string& extension, std::string* text);

// The rule an invalid fixture breaks: its NAME is "RULE" or "RULE--CASE" (docs/wire.md).
std::string RuleOfInvalidFixture(const std::string& name);

}  // namespace jsn::testing
