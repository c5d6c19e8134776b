#include "jsn/wire/names.h"

#include <gtest/gtest.h>

#include <string>

namespace jsn {
namespace {

using namespace std::string_view_literals;

TEST(Utf8, AcceptsAsciiMultibyteAndMaximumCodePoint) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("active (running) since today, long ascii text"));
  EXPECT_TRUE(IsValidUtf8("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
  EXPECT_TRUE(IsValidUtf8("\xed\x9f\xbf"));      // U+D7FF, just below the surrogates
  EXPECT_TRUE(IsValidUtf8("\xef\xbf\xbf"));      // U+FFFF is a noncharacter, still UTF-8
}

TEST(Utf8, ReportsOffsetOfFirstBadSequence) {
  EXPECT_EQ(FindInvalidUtf8("abc\x80"), 3u);              // stray continuation
  EXPECT_EQ(FindInvalidUtf8("abcdefghij\xc0\xaf"), 10u);  // overlong '/'
  EXPECT_EQ(FindInvalidUtf8("\xe0\x80\xaf"), 0u);         // overlong 3-byte
  EXPECT_EQ(FindInvalidUtf8("\xf0\x80\x80\xaf"), 0u);     // overlong 4-byte
  EXPECT_EQ(FindInvalidUtf8("ok\xed\xa0\x80"), 2u);       // U+D800 surrogate
  EXPECT_EQ(FindInvalidUtf8("\xed\xbf\xbf"), 0u);         // U+DFFF surrogate
  EXPECT_EQ(FindInvalidUtf8("\xf4\x90\x80\x80"), 0u);     // above U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("\xf5\x80\x80\x80"), 0u);     // lead f5
  EXPECT_EQ(FindInvalidUtf8("ab\xe2\x82"), 2u);           // truncated at end
  EXPECT_EQ(FindInvalidUtf8("ab\xe2\x41\x41"), 2u);       // bad continuation
  EXPECT_EQ(FindInvalidUtf8("\xff"), 0u);
}

TEST(Utf8, NulIsWellFormedUtf8) { EXPECT_TRUE(IsValidUtf8("a\0b"sv)); }

TEST(Utf8, NulOrInvalidStopsAtWhicheverComesFirst) {
  EXPECT_EQ(FindNulOrInvalidUtf8("plain ascii text, long enough for chunks"), 40u);
  EXPECT_EQ(FindNulOrInvalidUtf8("abcdefghij\0k"sv), 10u);
  EXPECT_EQ(FindNulOrInvalidUtf8("abc\0\xff"sv), 3u);
  EXPECT_EQ(FindNulOrInvalidUtf8("abc\xff\0"sv), 3u);
  EXPECT_EQ(FindNulOrInvalidUtf8("\0"sv), 0u);
  EXPECT_EQ(FindNulOrInvalidUtf8("h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac"), 17u);
  // A byte 0x01 next to a zero must not hide the zero (the borrow trick's edge).
  EXPECT_EQ(FindNulOrInvalidUtf8("\x01\x01\x01\x01\x01\x01\x01\0"sv), 7u);
  EXPECT_EQ(FindNulOrInvalidUtf8("\x01\x01\x01\x01\x01\x01\x01\x01"sv), 8u);
}

TEST(ObjectPath, AcceptsRootAndElements) {
  EXPECT_TRUE(IsValidObjectPath("/"));
  EXPECT_TRUE(IsValidObjectPath("/org/freedesktop/systemd1/unit/ssh_2eservice"));
  EXPECT_TRUE(IsValidObjectPath("/_/0a/Z"));
}

TEST(ObjectPath, RejectsEmptyRelativeTrailingDoubleSlashAndBadCharacters) {
  EXPECT_FALSE(IsValidObjectPath(""));
  EXPECT_FALSE(IsValidObjectPath("org/freedesktop"));
  EXPECT_FALSE(IsValidObjectPath("/org/"));
  EXPECT_FALSE(IsValidObjectPath("//org"));
  EXPECT_FALSE(IsValidObjectPath("/org//freedesktop"));
  EXPECT_FALSE(IsValidObjectPath("/org/free-desktop"));
  EXPECT_FALSE(IsValidObjectPath("/org/free.desktop"));
}

TEST(InterfaceName, NeedsTwoElementsNoLeadingDigitsNoHyphens) {
  EXPECT_TRUE(IsValidInterfaceName("org.freedesktop.DBus"));
  EXPECT_TRUE(IsValidInterfaceName("a._b1"));
  EXPECT_FALSE(IsValidInterfaceName("org"));
  EXPECT_FALSE(IsValidInterfaceName(""));
  EXPECT_FALSE(IsValidInterfaceName(".org.x"));
  EXPECT_FALSE(IsValidInterfaceName("org.x."));
  EXPECT_FALSE(IsValidInterfaceName("org..x"));
  EXPECT_FALSE(IsValidInterfaceName("org.1x"));
  EXPECT_FALSE(IsValidInterfaceName("org.free-desktop"));
  EXPECT_FALSE(IsValidInterfaceName("org.\xc3\xa9"));
}

TEST(InterfaceName, IsAtMost255Bytes) {
  std::string name = "a." + std::string(253, 'b');
  EXPECT_TRUE(IsValidInterfaceName(name));
  name += "c";
  EXPECT_FALSE(IsValidInterfaceName(name));
}

TEST(ErrorName, FollowsInterfaceRules) {
  EXPECT_TRUE(IsValidErrorName("org.freedesktop.DBus.Error.ServiceUnknown"));
  EXPECT_FALSE(IsValidErrorName("Failed"));
}

TEST(MemberName, OneElementNoDotNoLeadingDigit) {
  EXPECT_TRUE(IsValidMemberName("PropertiesChanged"));
  EXPECT_TRUE(IsValidMemberName("_x9"));
  EXPECT_FALSE(IsValidMemberName(""));
  EXPECT_FALSE(IsValidMemberName("9x"));
  EXPECT_FALSE(IsValidMemberName("Get.All"));
  EXPECT_FALSE(IsValidMemberName("Get-All"));
  EXPECT_TRUE(IsValidMemberName(std::string(255, 'm')));
  EXPECT_FALSE(IsValidMemberName(std::string(256, 'm')));
}

TEST(BusName, UniqueNamesMayStartElementsWithDigits) {
  EXPECT_TRUE(IsValidBusName(":1.42"));
  EXPECT_TRUE(IsValidBusName(":a-b.0"));
  EXPECT_FALSE(IsValidBusName(":1"));
  EXPECT_FALSE(IsValidBusName(":"));
  EXPECT_FALSE(IsValidBusName(":1..2"));
}

TEST(BusName, WellKnownNamesAllowHyphensButNotLeadingDigits) {
  EXPECT_TRUE(IsValidBusName("org.freedesktop.DBus"));
  EXPECT_TRUE(IsValidBusName("org.free-desktop.systemd1"));
  EXPECT_FALSE(IsValidBusName("org.1freedesktop"));
  EXPECT_FALSE(IsValidBusName("org"));
  EXPECT_FALSE(IsValidBusName(""));
  EXPECT_FALSE(IsValidBusName("org.free desktop"));
}

}  // namespace
}  // namespace jsn
