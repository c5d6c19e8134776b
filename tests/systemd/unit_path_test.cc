#include "jsn/systemd/unit_path.h"

#include <gtest/gtest.h>

#include <string>

namespace jsn {
namespace {

std::string Escape(std::string_view name) {
  char buffer[3 * kMaxUnitNameLength + 1];
  std::string_view label;
  Status status = EscapeBusLabel(name, buffer, &label);
  EXPECT_TRUE(status.ok()) << status.message();
  return std::string(label);
}

Status Unescape(std::string_view label, std::string* name) {
  char buffer[kMaxUnitNameLength * 3];
  std::string_view view;
  Status status = UnescapeBusLabel(label, buffer, &view);
  if (status.ok()) *name = std::string(view);
  return status;
}

TEST(UnitPath, EscapesEveryByteOutsideLettersAndDigits) {
  EXPECT_EQ(Escape("a-b_c.service"), "a_2db_5fc_2eservice");
  EXPECT_EQ(Escape("foo@bar.service"), "foo_40bar_2eservice");
  EXPECT_EQ(Escape("snap.slurm.slurmd.service"), "snap_2eslurm_2eslurmd_2eservice");
  EXPECT_EQ(Escape("x:y\\z"), "x_3ay_5cz");
}

TEST(UnitPath, EscapesALeadingDigitButNotLaterOnes) {
  EXPECT_EQ(Escape("0lead.service"), "_30lead_2eservice");
  EXPECT_EQ(Escape("a0"), "a0");
  EXPECT_EQ(Escape("99"), "_399");
}

TEST(UnitPath, EmptyNameIsAnUnderscore) { EXPECT_EQ(Escape(""), "_"); }

TEST(UnitPath, HighBytesUseLowercaseHex) {
  EXPECT_EQ(Escape("\xff\x01"), "_ff_01");
  EXPECT_EQ(Escape(std::string_view("\0", 1)), "_00");
}

TEST(UnitPath, ObjectPathHasTheSystemdPrefix) {
  char buffer[kMaxUnitPathLength];
  std::string_view path;
  ASSERT_TRUE(UnitObjectPath("dbus.service", buffer, &path).ok());
  EXPECT_EQ(path, "/org/freedesktop/systemd1/unit/dbus_2eservice");
}

TEST(UnitPath, LongestUnitNameFitsTheDeclaredMaximum) {
  std::string name(kMaxUnitNameLength, '-');
  char buffer[kMaxUnitPathLength];
  std::string_view path;
  ASSERT_TRUE(UnitObjectPath(name, buffer, &path).ok());
  EXPECT_EQ(path.size(), kMaxUnitPathLength);
}

TEST(UnitPath, EscapeReportsASmallBuffer) {
  char buffer[4];
  std::string_view label;
  Status status = EscapeBusLabel("a.b", buffer, &label);  // needs 5
  EXPECT_STREQ(status.rule(), "buffer-too-small");
  EXPECT_TRUE(EscapeBusLabel("a.", buffer, &label).ok());
  EXPECT_EQ(label, "a_2e");
}

TEST(UnitPath, UnescapeInvertsEscape) {
  for (std::string name :
       {"", "a-b_c.service", "0lead.service", "foo@bar.service", "\xff", "Z9_", "1", "_"}) {
    std::string back;
    Status status = Unescape(Escape(name), &back);
    ASSERT_TRUE(status.ok()) << name << ": " << status.message();
    EXPECT_EQ(back, name);
  }
}

TEST(UnitPath, UnescapeInvertsEscapeForEveryByte) {
  for (int byte = 0; byte < 256; ++byte) {
    for (std::string name :
         {std::string(1, static_cast<char>(byte)), std::string("x") + static_cast<char>(byte)}) {
      std::string back;
      ASSERT_TRUE(Unescape(Escape(name), &back).ok()) << byte;
      EXPECT_EQ(back, name);
    }
  }
}

TEST(UnitPath, UnescapeRejectsWhatEscapeNeverProduces) {
  struct Case {
    const char* label;
    const char* rule;
    size_t offset;
  } cases[] = {
      {"", "empty-label", 0},
      {"a.b", "invalid-label-character", 1},
      {"ab_2", "truncated-escape", 2},
      {"ab_", "truncated-escape", 2},
      {"a_2E", "invalid-escape", 1},
      {"a_zz", "invalid-escape", 1},
      {"_61", "needless-escape", 0},
      {"a_31", "needless-escape", 1},
      {"0a", "unescaped-leading-digit", 0},
      {"__", "truncated-escape", 0},
  };
  for (const Case& c : cases) {
    std::string name;
    Status status = Unescape(c.label, &name);
    EXPECT_STREQ(status.rule(), c.rule) << c.label << ": " << status.message();
    EXPECT_EQ(status.offset(), c.offset) << c.label;
  }
}

TEST(UnitPath, UnescapeAcceptsAnEscapedLeadingDigit) {
  std::string name;
  ASSERT_TRUE(Unescape("_312", &name).ok());  // only the first digit needs it...
  EXPECT_EQ(name, "12");
  Status status = Unescape("_31_32", &name);  // ...so escaping the second is not canonical
  EXPECT_STREQ(status.rule(), "needless-escape");
  EXPECT_EQ(status.offset(), 3u);
}

TEST(UnitPath, UnescapeReportsASmallBuffer) {
  char buffer[2];
  std::string_view name;
  EXPECT_STREQ(UnescapeBusLabel("abc", buffer, &name).rule(), "buffer-too-small");
}

}  // namespace
}  // namespace jsn
