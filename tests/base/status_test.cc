#include "jsn/base/status.h"

#include <gtest/gtest.h>

#include <cstring>

namespace jsn {
namespace {

TEST(Status, DefaultIsSuccessWithNoOffset) {
  Status status;
  EXPECT_TRUE(status.ok());
  EXPECT_STREQ(status.rule(), "ok");
  EXPECT_STREQ(status.message(), "");
  EXPECT_EQ(status.offset(), Status::kNoOffset);
}

TEST(Status, ErrorCarriesRuleOffsetAndFormattedMessage) {
  Status status = Status::Error("padding-not-zero", 13, "expected 0 padding, found 0x%02x", 0xab);
  EXPECT_FALSE(status.ok());
  EXPECT_STREQ(status.rule(), "padding-not-zero");
  EXPECT_EQ(status.offset(), 13u);
  EXPECT_STREQ(status.message(), "expected 0 padding, found 0xab");
}

TEST(Status, ExpectedAtSaysExpectedFirst) {
  Status status = Status::ExpectedAt("padding-not-zero", 13, "0 padding, found 0x%02x", 0xab);
  EXPECT_STREQ(status.rule(), "padding-not-zero");
  EXPECT_EQ(status.offset(), 13u);
  EXPECT_STREQ(status.message(), "expected 0 padding, found 0xab");
}

TEST(Status, ExpectedSaysExpectedFirstWithNoOffset) {
  Status status = Status::Expected("mkdir-failed", "to create %s, found %s", "/x", "EACCES");
  EXPECT_STREQ(status.rule(), "mkdir-failed");
  EXPECT_EQ(status.offset(), Status::kNoOffset);
  EXPECT_STREQ(status.message(), "expected to create /x, found EACCES");
}

// Cut where Failure would cut the whole message: "expected " counts towards the capacity.
TEST(Status, ExpectedTruncatesAsTheWholeMessage) {
  char big[1000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  Status expected = Status::Expected("io", "%s", big);
  Status whole = Status::Failure("io", "expected %s", big);
  EXPECT_EQ(strlen(expected.message()), Status::kMessageCapacity - 1);
  EXPECT_STREQ(expected.message(), whole.message());
}

TEST(Status, LongMessagesAreTruncatedNotOverflowed) {
  char big[1000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  Status status = Status::Failure("io", "%s", big);
  EXPECT_EQ(strlen(status.message()), Status::kMessageCapacity - 1);
  EXPECT_EQ(status.offset(), Status::kNoOffset);
}

Status FailsThenNeverReached(int* reached) {
  JSN_RETURN_IF_ERROR(Status::Failure("first", "stop here"));
  *reached = 1;
  return Status();
}

TEST(Status, ReturnIfErrorPropagatesTheFirstFailure) {
  int reached = 0;
  Status status = FailsThenNeverReached(&reached);
  EXPECT_STREQ(status.rule(), "first");
  EXPECT_EQ(reached, 0);
}

}  // namespace
}  // namespace jsn
