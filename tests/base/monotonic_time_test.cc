// Durations as the daemon's log lines write them: printf's %.3f and %.0f of the seconds, with a
// tie rounding up, made without floating point.
#include "jsn/base/monotonic_time.h"

#include <gtest/gtest.h>

namespace jsn {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

TEST(FormatSeconds, ThreeDecimalsAreMilliseconds) {
  EXPECT_STREQ(FormatSeconds(nanoseconds(0), 3).text, "0.000");
  EXPECT_STREQ(FormatSeconds(milliseconds(1), 3).text, "0.001");
  EXPECT_STREQ(FormatSeconds(milliseconds(1500), 3).text, "1.500");
  EXPECT_STREQ(FormatSeconds(seconds(600), 3).text, "600.000");
  EXPECT_STREQ(FormatSeconds(nanoseconds(1499999), 3).text, "0.001");  // rounds down
  EXPECT_STREQ(FormatSeconds(nanoseconds(1500000), 3).text, "0.002");  // a tie rounds up
  EXPECT_STREQ(FormatSeconds(-milliseconds(250), 3).text, "-0.250");
}

TEST(FormatSeconds, NoDecimalsAreWholeSeconds) {
  EXPECT_STREQ(FormatSeconds(seconds(10), 0).text, "10");
  EXPECT_STREQ(FormatSeconds(milliseconds(499), 0).text, "0");
  EXPECT_STREQ(FormatSeconds(milliseconds(500), 0).text, "1");  // a tie rounds up
  EXPECT_STREQ(FormatSeconds(milliseconds(2600), 0).text, "3");
  EXPECT_STREQ(FormatSeconds(-seconds(2), 0).text, "-2");
}

}  // namespace
}  // namespace jsn
