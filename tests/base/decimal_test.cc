#include "jsn/base/decimal.h"

#include <gtest/gtest.h>

namespace jsn {
namespace {

TEST(Decimal, DigitsGiveTheirValue) {
  uint64_t value = 1;
  EXPECT_TRUE(ParseDecimal("0", &value));
  EXPECT_EQ(value, 0u);
  EXPECT_TRUE(ParseDecimal("42", &value));
  EXPECT_EQ(value, 42u);
  EXPECT_TRUE(ParseDecimal("007", &value));
  EXPECT_EQ(value, 7u);
}

TEST(Decimal, TheLargest64BitValueFitsAndOneMoreDoesNot) {
  uint64_t value = 0;
  EXPECT_TRUE(ParseDecimal("18446744073709551615", &value));
  EXPECT_EQ(value, UINT64_MAX);
  value = 5;
  EXPECT_FALSE(ParseDecimal("18446744073709551616", &value));
  EXPECT_FALSE(ParseDecimal("18446744073709551620", &value));
  EXPECT_FALSE(ParseDecimal("99999999999999999999", &value));
  EXPECT_FALSE(ParseDecimal("184467440737095516150", &value));
  EXPECT_EQ(value, 5u);  // untouched on failure
}

TEST(Decimal, AnythingButDigitsIsRefused) {
  uint64_t value = 5;
  EXPECT_FALSE(ParseDecimal("", &value));
  EXPECT_FALSE(ParseDecimal("-1", &value));
  EXPECT_FALSE(ParseDecimal("+1", &value));
  EXPECT_FALSE(ParseDecimal(" 1", &value));
  EXPECT_FALSE(ParseDecimal("1 ", &value));
  EXPECT_FALSE(ParseDecimal("0x10", &value));
  EXPECT_FALSE(ParseDecimal("1:2", &value));
  EXPECT_FALSE(ParseDecimal("12abc", &value));
  EXPECT_EQ(value, 5u);
}

TEST(Decimal, OnlyTheViewIsRead) {
  uint64_t value = 0;
  EXPECT_TRUE(ParseDecimal(std::string_view("123456", 3), &value));
  EXPECT_EQ(value, 123u);
}

}  // namespace
}  // namespace jsn
