// The reader never reads outside the message, whatever the bytes: every single-byte change
// and every truncation of real messages is either rejected with a rule and an offset inside
// the message, or accepted and then fully walkable. Run under AddressSanitizer by `make check`,
// which is what turns a stray read into a failure.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "jsn/wire/reader.h"
#include "support/fixtures.h"
#include "support/glib_messages.h"
#include "support/hex.h"

namespace jsn {
namespace {

// Parses `bytes` from a heap block of exactly their size, so any read past the end is caught.
void ParseExactly(const std::vector<uint8_t>& bytes, size_t* accepted) {
  auto* copy = new uint8_t[bytes.size() == 0 ? 1 : bytes.size()];
  if (!bytes.empty()) memcpy(copy, bytes.data(), bytes.size());
  std::span<const uint8_t> span(copy, bytes.size());
  Message message;
  Status status = Message::Parse(span, &message);
  if (status.ok()) {
    ++*accepted;
    // Walk everything and look a key up: the accessors trust what Parse accepted.
    const std::string rendered = wire_test::RenderBody(message);
    EXPECT_FALSE(rendered.empty());
    Iterator body = message.body();
    Value value, content;
    while (body.Next(&value)) FindInStringVariantDict(value, "ActiveState", &content);
  } else {
    EXPECT_NE(std::string(status.rule()), "ok");
    EXPECT_LE(status.offset(), bytes.size()) << status.rule() << ": " << status.message();
  }
  delete[] copy;
}

class ReaderRobustness : public ::testing::TestWithParam<std::string_view> {};

TEST_P(ReaderRobustness, EveryByteChangedAndEveryTruncationIsSafe) {
  const std::vector<uint8_t> original = wire_test::FromHex(GetParam());
  size_t accepted = 0;
  ParseExactly(original, &accepted);
  ASSERT_EQ(accepted, 1u);
  for (size_t length = 0; length < original.size(); ++length) {
    ParseExactly(std::vector<uint8_t>(original.begin(), original.begin() + length), &accepted);
  }
  ASSERT_EQ(accepted, 1u) << "a truncated message was accepted";
  for (size_t i = 0; i < original.size(); ++i) {
    for (uint8_t delta : {0x01, 0x80, 0xff}) {
      std::vector<uint8_t> changed = original;
      changed[i] = static_cast<uint8_t>(changed[i] ^ delta);
      ParseExactly(changed, &accepted);
    }
    std::vector<uint8_t> zeroed = original;
    zeroed[i] = 0;
    ParseExactly(zeroed, &accepted);
  }
  // Some changes keep a message valid (a different serial, another character in a string);
  // most must not.
  EXPECT_GT(accepted, 1u);
  EXPECT_LT(accepted, original.size() * 2);
}

TEST_P(ReaderRobustness, ManyBytesChangedAtOnceIsSafe) {
  const std::vector<uint8_t> original = wire_test::FromHex(GetParam());
  // A fixed-seed generator: the same messages every run, so a failure reproduces.
  uint64_t state = 0x9e3779b97f4a7c15ull;
  const auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(state >> 33);
  };
  size_t accepted = 0;
  for (int round = 0; round < 3000; ++round) {
    std::vector<uint8_t> changed = original;
    const int changes = 1 + static_cast<int>(next() % 6);
    for (int k = 0; k < changes; ++k) {
      changed[next() % changed.size()] = static_cast<uint8_t>(next());
    }
    ParseExactly(changed, &accepted);
  }
  EXPECT_LT(accepted, 3000u);
}

INSTANTIATE_TEST_SUITE_P(GlibMessages, ReaderRobustness,
                         ::testing::Values(wire_test::kGlibPropertiesChangedLittle,
                                           wire_test::kGlibPropertiesChangedBig,
                                           wire_test::kGlibEverythingLittle,
                                           wire_test::kGlibEverythingBig));

// The recorded fixtures (three marshallers, edge cases such as 64 nested containers and a
// 255-byte signature): every byte flipped, and every truncation, is safe too.
TEST(ReaderRobustness, EveryRecordedFixtureSurvivesFlippedBytesAndTruncation) {
  std::vector<testing::Fixture> fixtures;
  ASSERT_TRUE(testing::ReadFixtures("fixtures/valid", &fixtures));
  size_t files = 0;
  for (const testing::Fixture& fixture : fixtures) {
    SCOPED_TRACE(fixture.path);
    ++files;
    const std::vector<uint8_t>& original = fixture.bytes;
    size_t accepted = 0;
    ParseExactly(original, &accepted);
    ASSERT_EQ(accepted, 1u);
    for (size_t i = 0; i < original.size(); ++i) {
      std::vector<uint8_t> changed = original;
      changed[i] ^= 0xff;
      ParseExactly(changed, &accepted);
      ParseExactly(std::vector<uint8_t>(original.begin(), original.begin() + i), &accepted);
    }
  }
  EXPECT_GE(files, 10u);
}

}  // namespace
}  // namespace jsn
