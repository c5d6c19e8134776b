// MessageLength: what a framer relies on to cut a stream into messages.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "jsn/wire/reader.h"

namespace jsn {
namespace {

std::vector<uint8_t> FixedHeader(char order, uint32_t body_length, uint32_t fields_length,
                                 uint8_t version = 1) {
  std::vector<uint8_t> h(16, 0);
  h[0] = static_cast<uint8_t>(order);
  h[1] = 1;
  h[3] = version;
  for (int i = 0; i < 4; ++i) {
    int shift = order == 'l' ? 8 * i : 8 * (3 - i);
    h[4 + i] = static_cast<uint8_t>(body_length >> shift);
    h[8 + i] = static_cast<uint8_t>(1u >> shift);
    h[12 + i] = static_cast<uint8_t>(fields_length >> shift);
  }
  return h;
}

TEST(MessageLength, AddsPaddedFieldArrayAndBodyLittleEndian) {
  size_t length = 0;
  auto h = FixedHeader('l', 10, 0x6d);
  ASSERT_TRUE(MessageLength(h, &length).ok());
  // 16 + 0x6d = 125, padded to 128, plus 10 bytes of body.
  EXPECT_EQ(length, 138u);
}

TEST(MessageLength, ReadsBigEndianLengths) {
  size_t length = 0;
  auto h = FixedHeader('B', 0x01020304 & 0xffff, 8);
  ASSERT_TRUE(MessageLength(h, &length).ok());
  EXPECT_EQ(length, 24u + 0x0304);
}

TEST(MessageLength, AlreadyAlignedFieldArrayGetsNoPadding) {
  size_t length = 0;
  auto h = FixedHeader('l', 0, 16);
  ASSERT_TRUE(MessageLength(h, &length).ok());
  EXPECT_EQ(length, 32u);
}

TEST(MessageLength, FewerThanSixteenBytesIsShortRead) {
  size_t length = 0;
  auto h = FixedHeader('l', 0, 0);
  h.resize(15);
  Status s = MessageLength(h, &length);
  EXPECT_STREQ(s.rule(), "short-read");
  EXPECT_EQ(s.offset(), 15u);
}

TEST(MessageLength, RejectsUnknownByteOrder) {
  size_t length = 0;
  auto h = FixedHeader('l', 0, 0);
  h[0] = 'x';
  Status s = MessageLength(h, &length);
  EXPECT_STREQ(s.rule(), "bad-byte-order");
  EXPECT_EQ(s.offset(), 0u);
}

TEST(MessageLength, RejectsOtherProtocolVersions) {
  size_t length = 0;
  auto h = FixedHeader('l', 0, 0, 2);
  Status s = MessageLength(h, &length);
  EXPECT_STREQ(s.rule(), "bad-protocol-version");
  EXPECT_EQ(s.offset(), 3u);
}

TEST(MessageLength, RejectsMessagesOver128MiB) {
  size_t length = 0;
  auto h = FixedHeader('l', (1u << 27) - 16, 8);
  Status s = MessageLength(h, &length);
  EXPECT_STREQ(s.rule(), "message-too-long");
  auto ok = FixedHeader('l', (1u << 27) - 24, 8);
  EXPECT_TRUE(MessageLength(ok, &length).ok());
  EXPECT_EQ(length, size_t{1} << 27);
}

TEST(MessageLength, RejectsHeaderFieldArrayOver64MiB) {
  size_t length = 0;
  auto h = FixedHeader('l', 0, (1u << 26) + 1);
  Status s = MessageLength(h, &length);
  EXPECT_STREQ(s.rule(), "array-too-long");
  EXPECT_EQ(s.offset(), 12u);
}

TEST(MessageLength, HugeLengthsDoNotWrapAround) {
  size_t length = 0;
  auto h = FixedHeader('l', 0xffffffffu, 8);
  EXPECT_STREQ(MessageLength(h, &length).rule(), "message-too-long");
}

}  // namespace
}  // namespace jsn
