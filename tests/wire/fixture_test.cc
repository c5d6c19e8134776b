// Every recorded valid fixture (fixtures/valid/NAME.bin, recorded by tools/record-fixtures from
// sd-bus, GLib and libdbus) must parse, and our rendering of it must equal NAME.expect, which is
// GLib's reading of the same bytes. Tests run from the repository root.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "jsn/wire/reader.h"
#include "support/render.h"
#include "support/source_tree.h"

namespace jsn {
namespace {

// A file in fixtures/valid/.
std::string ValidFixturePath(const std::string& file) {
  return testing::SourcePath("fixtures/valid/" + file);
}
// tools/record-fixtures records this many; fewer means fixtures went missing.
constexpr size_t kRecordedFixtures = 43;

std::vector<std::string> ValidFixtureNames() {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(ValidFixturePath(""), error)) {
    if (entry.path().extension() == ".bin") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::string text = ReadFile(path);
  return std::vector<uint8_t>(text.begin(), text.end());
}

class ValidFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(ValidFixture, MessageLengthIsTheWholeFile) {
  const std::vector<uint8_t> bytes = ReadBytes(ValidFixturePath(GetParam() + ".bin"));
  ASSERT_GE(bytes.size(), kFixedHeaderLength);
  size_t length = 0;
  Status status = MessageLength(bytes, &length);
  ASSERT_TRUE(status.ok()) << status.rule() << " at " << status.offset() << ": "
                           << status.message();
  EXPECT_EQ(length, bytes.size());
}

TEST_P(ValidFixture, ParsesAndRendersAsGLibReadsIt) {
  const std::vector<uint8_t> bytes = ReadBytes(ValidFixturePath(GetParam() + ".bin"));
  const std::string expected = ReadFile(ValidFixturePath(GetParam() + ".expect"));
  ASSERT_FALSE(expected.empty()) << "missing " << GetParam() << ".expect";
  Message message;
  Status status = Message::Parse(bytes, &message);
  ASSERT_TRUE(status.ok()) << status.rule() << " at " << status.offset() << ": "
                           << status.message();
  EXPECT_EQ(RenderExpect(message), expected);
}

// "exactly one whole message": one byte short or one byte over is not this message.
TEST_P(ValidFixture, IsRejectedOneByteShortOrOneByteOver) {
  std::vector<uint8_t> bytes = ReadBytes(ValidFixturePath(GetParam() + ".bin"));
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

INSTANTIATE_TEST_SUITE_P(Recorded, ValidFixture, ::testing::ValuesIn(ValidFixtureNames()),
                         TestNameOf);

TEST(ValidFixtures, AllRecordedFixturesArePresent) {
  EXPECT_GE(ValidFixtureNames().size(), kRecordedFixtures);
}

// Each marshaller contributes at least a signal and a method call, and both byte orders occur:
// otherwise the reader would only be proven against one implementation's habits.
TEST(ValidFixtures, EveryMarshallerContributesASignalAndAMethodCallInBothByteOrdersOverall) {
  std::set<std::string> kinds;  // "<marshaller> <type>"
  std::set<std::string> byte_orders;
  for (const std::string& name : ValidFixtureNames()) {
    const std::string marshaller = name.substr(0, name.find('-'));
    const std::string expect = ReadFile(ValidFixturePath(name + ".expect"));
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
    const std::vector<uint8_t> bytes =
        ReadBytes(ValidFixturePath(std::string(test_case.fixture) + ".bin"));
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
