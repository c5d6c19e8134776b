// Every recorded valid fixture (fixtures/valid/NAME.bin, recorded by tools/record-fixtures from
// sd-bus, GLib and libdbus) must parse, and our rendering of it must equal NAME.expect, which is
// GLib's reading of the same bytes. The files are read through tests/support/fixtures.h.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "jsn/wire/reader.h"
#include "support/fixtures.h"
#include "support/render.h"

namespace jsn {
namespace {

using ::jsn::testing::Fixture;
using ::jsn::testing::FixtureNames;
using ::jsn::testing::ReadCompanion;
using ::jsn::testing::ReadFixture;

constexpr const char* kValid = "fixtures/valid";
// tools/record-fixtures records this many; fewer means fixtures went missing.
constexpr size_t kRecordedFixtures = 43;

class ValidFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(ValidFixture, MessageLengthIsTheWholeFile) {
  Fixture fixture;
  ASSERT_TRUE(ReadFixture(kValid, GetParam(), &fixture));
  const std::vector<uint8_t>& bytes = fixture.bytes;
  ASSERT_GE(bytes.size(), kFixedHeaderLength);
  size_t length = 0;
  Status status = MessageLength(bytes, &length);
  ASSERT_TRUE(status.ok()) << status.rule() << " at " << status.offset() << ": "
                           << status.message();
  EXPECT_EQ(length, bytes.size());
}

TEST_P(ValidFixture, ParsesAndRendersAsGLibReadsIt) {
  Fixture fixture;
  ASSERT_TRUE(ReadFixture(kValid, GetParam(), &fixture));
  const std::vector<uint8_t>& bytes = fixture.bytes;
  std::string expected;
  ASSERT_TRUE(ReadCompanion(kValid, GetParam(), ".expect", &expected));
  ASSERT_FALSE(expected.empty()) << "empty " << GetParam() << ".expect";
  Message message;
  Status status = Message::Parse(bytes, &message);
  ASSERT_TRUE(status.ok()) << status.rule() << " at " << status.offset() << ": "
                           << status.message();
  EXPECT_EQ(RenderExpect(message), expected);
}

// "exactly one whole message": one byte short or one byte over is not this message.
TEST_P(ValidFixture, IsRejectedOneByteShortOrOneByteOver) {
  Fixture fixture;
  ASSERT_TRUE(ReadFixture(kValid, GetParam(), &fixture));
  std::vector<uint8_t> bytes = fixture.bytes;
  ASSERT_GT(bytes.size(), kFixedHeaderLength);
  Message message;
  EXPECT_FALSE(
      Message::Parse(std::span<const uint8_t>(bytes).first(bytes.size() - 1), &message).ok());
  bytes.push_back(0);
  EXPECT_FALSE(Message::Parse(bytes, &message).ok());
}

// gtest names must be identifiers: "glib-error-le" runs as Recorded/ValidFixture.X/glib_error_le.
std::string TestNameOf(const ::testing::TestParamInfo<std::string>& fixture) {
  std::string name = fixture.param;
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(Recorded, ValidFixture, ::testing::ValuesIn(FixtureNames(kValid)),
                         TestNameOf);

TEST(ValidFixtures, AllRecordedFixturesArePresent) {
  EXPECT_TRUE(testing::FixturesPresent(kValid, kRecordedFixtures));
}

// Each marshaller contributes at least a signal and a method call, and both byte orders occur:
// otherwise the reader would only be proven against one implementation's habits.
TEST(ValidFixtures, EveryMarshallerContributesASignalAndAMethodCallInBothByteOrdersOverall) {
  std::set<std::string> kinds;  // "<marshaller> <type>"
  std::set<std::string> byte_orders;
  const std::vector<std::string> names = FixtureNames(kValid);
  ASSERT_TRUE(testing::FixturesPresent(kValid));
  for (const std::string& name : names) {
    const std::string marshaller = name.substr(0, name.find('-'));
    std::string expect;
    ASSERT_TRUE(ReadCompanion(kValid, name, ".expect", &expect));
    const size_t type_at = expect.find("type: ");
    ASSERT_NE(type_at, std::string::npos) << name;
    const size_t type_end = expect.find('\n', type_at);
    kinds.insert(marshaller + " " + expect.substr(type_at + 6, type_end - type_at - 6));
    byte_orders.insert(name.substr(name.size() - 2));
  }
  for (const char* marshaller : {"sdbus", "glib", "libdbus"}) {
    EXPECT_TRUE(kinds.count(std::string(marshaller) + " signal")) << marshaller;
    EXPECT_TRUE(kinds.count(std::string(marshaller) + " method_call")) << marshaller;
  }
  EXPECT_TRUE(byte_orders.count("le"));
  EXPECT_TRUE(byte_orders.count("be"));
}

// The daemon's question, asked of systemd-shaped signals from each marshaller: what ActiveState
// does this PropertiesChanged carry, or does it only say that ActiveState was invalidated?
struct PropertiesChangedCase {
  const char* fixture;
  const char* active_state;  // nullptr: ActiveState comes only in the invalidated list
};

const PropertiesChangedCase kPropertiesChanged[] = {
    {"sdbus-properties-changed-small-le", "active"},
    {"sdbus-properties-changed-large-le", "active"},
    {"sdbus-properties-changed-invalidated-le", nullptr},
    {"glib-properties-changed-small-le", "deactivating"},
    {"glib-properties-changed-small-be", "failed"},
    {"glib-properties-changed-large-be", "active"},
    {"glib-properties-changed-invalidated-be", nullptr},
    {"libdbus-properties-changed-small-le", "activating"},
    {"libdbus-properties-changed-invalidated-le", nullptr},
};

TEST(ValidFixtures, ActiveStateIsFoundInTheChangedDictOrTheInvalidatedList) {
  for (const PropertiesChangedCase& test_case : kPropertiesChanged) {
    SCOPED_TRACE(test_case.fixture);
    Fixture fixture;
    ASSERT_TRUE(ReadFixture(kValid, test_case.fixture, &fixture));
    const std::vector<uint8_t>& bytes = fixture.bytes;
    Message message;
    Status status = Message::Parse(bytes, &message);
    ASSERT_TRUE(status.ok()) << status.rule() << ": " << status.message();
    ASSERT_EQ(message.header().signature, "sa{sv}as");
    Iterator body = message.body();
    Value interface_name, changed, invalidated;
    ASSERT_TRUE(body.Next(&interface_name));
    ASSERT_TRUE(body.Next(&changed));
    ASSERT_TRUE(body.Next(&invalidated));
    EXPECT_EQ(interface_name.as_string(), "org.freedesktop.systemd1.Unit");

    Value active_state;
    bool invalidated_active_state = false;
    Iterator names = invalidated.children();
    Value name;
    while (names.Next(&name)) invalidated_active_state |= name.as_string() == "ActiveState";
    if (test_case.active_state == nullptr) {
      EXPECT_FALSE(FindInStringVariantDict(changed, "ActiveState", &active_state));
      EXPECT_TRUE(invalidated_active_state);
    } else {
      ASSERT_TRUE(FindInStringVariantDict(changed, "ActiveState", &active_state));
      EXPECT_EQ(active_state.signature(), "s");
      EXPECT_EQ(active_state.as_string(), test_case.active_state);
      EXPECT_FALSE(invalidated_active_state);
    }
  }
}

}  // namespace
}  // namespace jsn
