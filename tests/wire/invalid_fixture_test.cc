// Every message in fixtures/invalid/ (written by tools/make-invalid-fixtures) breaks one rule;
// the reader must reject each with exactly that rule at exactly the recorded byte offset.
// NAME.bin is named "<rule>" or "<rule>--<case>"; NAME.offset holds the offset in decimal.
#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "jsn/wire/reader.h"
#include "support/fixtures.h"

namespace jsn {
namespace {

using ::jsn::testing::Fixture;
using ::jsn::testing::ReadCompanion;
using ::jsn::testing::ReadFixtures;
using ::jsn::testing::RuleOfInvalidFixture;

constexpr const char* kInvalid = "fixtures/invalid";

// Enough to show the fixtures cover the wire rules broadly, not a handful of them.
constexpr size_t kMinimumFixtures = 60;
constexpr size_t kMinimumDistinctRules = 30;

TEST(InvalidFixtures, ThereAreDozensCoveringManyRules) {
  EXPECT_TRUE(testing::FixturesPresent(kInvalid, kMinimumFixtures));
  std::set<std::string> rules;
  for (const std::string& name : testing::FixtureNames(kInvalid)) {
    rules.insert(RuleOfInvalidFixture(name));
  }
  EXPECT_GE(rules.size(), kMinimumDistinctRules);
}

TEST(InvalidFixtures, EachIsRejectedWithItsRuleAtItsOffset) {
  std::vector<Fixture> fixtures;
  ASSERT_TRUE(ReadFixtures(kInvalid, &fixtures));
  for (const Fixture& fixture : fixtures) {
    SCOPED_TRACE(fixture.path);
    std::string offset_text;
    ASSERT_TRUE(ReadCompanion(kInvalid, fixture.name, ".offset", &offset_text));
    std::istringstream offset_stream(offset_text);
    size_t offset = 0;
    ASSERT_TRUE(offset_stream >> offset) << "no decimal offset in " << fixture.name << ".offset";

    Message message;
    Status status = Message::Parse(fixture.bytes, &message);
    EXPECT_STREQ(status.rule(), RuleOfInvalidFixture(fixture.name).c_str()) << status.message();
    EXPECT_EQ(status.offset(), offset) << status.rule() << ": " << status.message();
    EXPECT_STRNE(status.message(), "");
  }
}

}  // namespace
}  // namespace jsn
