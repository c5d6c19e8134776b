#include "jsn/bus/auth.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace jsn {
namespace {

constexpr const char* kGuid = "0123456789abcdef0123456789ABCDEF";

TEST(AuthReplyParser, OkCarriesTheGuid) {
  AuthReply reply;
  std::string line = std::string("OK ") + kGuid;
  ASSERT_TRUE(ParseAuthReply(line, &reply).ok());
  EXPECT_EQ(reply.command, AuthCommand::kOk);
  EXPECT_EQ(reply.argument, kGuid);
}

TEST(AuthReplyParser, OkWithoutAValidGuidIsRejected) {
  AuthReply reply;
  Status bare = ParseAuthReply("OK", &reply);
  EXPECT_STREQ(bare.rule(), "auth-bad-guid");
  EXPECT_EQ(bare.offset(), 2u) << "the end of the line, not past it";
  EXPECT_STREQ(ParseAuthReply("OK 0123", &reply).rule(), "auth-bad-guid");
  Status status = ParseAuthReply("OK 0123456789abcdef0123456789abcdeg", &reply);
  EXPECT_STREQ(status.rule(), "auth-bad-guid");
  EXPECT_EQ(status.offset(), 34u);
}

TEST(AuthReplyParser, RejectedListsMechanisms) {
  AuthReply reply;
  ASSERT_TRUE(ParseAuthReply("REJECTED EXTERNAL DBUS_COOKIE_SHA1", &reply).ok());
  EXPECT_EQ(reply.command, AuthCommand::kRejected);
  EXPECT_EQ(reply.argument, "EXTERNAL DBUS_COOKIE_SHA1");
  ASSERT_TRUE(ParseAuthReply("REJECTED", &reply).ok());
  EXPECT_EQ(reply.argument, "");
}

TEST(AuthReplyParser, ErrorWithOrWithoutText) {
  AuthReply reply;
  ASSERT_TRUE(ParseAuthReply("ERROR", &reply).ok());
  EXPECT_EQ(reply.command, AuthCommand::kError);
  ASSERT_TRUE(ParseAuthReply("ERROR \"no\"", &reply).ok());
  EXPECT_EQ(reply.argument, "\"no\"");
}

TEST(AuthReplyParser, DataMustBeHex) {
  AuthReply reply;
  ASSERT_TRUE(ParseAuthReply("DATA", &reply).ok());
  EXPECT_EQ(reply.command, AuthCommand::kData);
  ASSERT_TRUE(ParseAuthReply("DATA 3031", &reply).ok());
  EXPECT_EQ(reply.argument, "3031");
  EXPECT_STREQ(ParseAuthReply("DATA 303", &reply).rule(), "auth-bad-data");
  EXPECT_STREQ(ParseAuthReply("DATA 30zz", &reply).rule(), "auth-bad-data");
}

TEST(AuthReplyParser, UnknownCommandsAndControlBytesAreRejected) {
  AuthReply reply;
  EXPECT_STREQ(ParseAuthReply("", &reply).rule(), "auth-unknown-command");
  EXPECT_STREQ(ParseAuthReply("BEGIN", &reply).rule(), "auth-unknown-command");
  EXPECT_STREQ(ParseAuthReply("ok 0123456789abcdef0123456789abcdef", &reply).rule(),
               "auth-unknown-command");
  Status status = ParseAuthReply(std::string("ERROR a\0b", 9), &reply);
  EXPECT_STREQ(status.rule(), "auth-bad-line");
  EXPECT_EQ(status.offset(), 7u);
  EXPECT_STREQ(ParseAuthReply("AGREE_UNIX_FD x", &reply).rule(), "auth-bad-line");
}

// The parser must never read outside its line, whatever the server sends: random lines built
// from the bytes that matter (commands, spaces, hex, control bytes) parse or fail cleanly, and
// an accepted argument is always a view inside the line.
TEST(AuthReplyParser, RandomLinesParseOrFailWithoutLeavingTheLine) {
  const std::string pieces[] = {
      "OK", "REJECTED",           "ERROR", "DATA", "AGREE_UNIX_FD",   " ", "0", "f", "A",
      "g",  std::string(1, '\0'), "\x7f",  "\xff", "0123456789abcdef"};
  std::mt19937 random(2026);
  int accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string line;
    int count = static_cast<int>(random() % 8);
    for (int i = 0; i < count; ++i) line += pieces[random() % (sizeof pieces / sizeof pieces[0])];
    AuthReply reply;
    Status status = ParseAuthReply(line, &reply);
    if (status.ok()) {
      ++accepted;
      if (!reply.argument.empty()) {
        EXPECT_GE(reply.argument.data(), line.data());
        EXPECT_LE(reply.argument.data() + reply.argument.size(), line.data() + line.size());
      }
    } else {
      EXPECT_TRUE(status.offset() == Status::kNoOffset || status.offset() <= line.size()) << line;
    }
  }
  EXPECT_GT(accepted, 0);
}

TEST(AuthStart, UidIsSentAsHexOfItsDecimalDigitsAfterANulByte) {
  char out[64];
  size_t length = FormatAuthStart(1000, out, sizeof out);
  EXPECT_EQ(std::string(out, length), std::string("\0AUTH EXTERNAL 31303030\r\n", 25));
  length = FormatAuthStart(0, out, sizeof out);
  EXPECT_EQ(std::string(out, length), std::string("\0AUTH EXTERNAL 30\r\n", 19));
  EXPECT_EQ(FormatAuthStart(1000, out, 10), 0u);
}

// AuthStep: the client's answer to each server line (the I/O is the Connection's, tested in
// tests/integration/connection_fake_bus_test.cc).
class AuthSteps : public ::testing::Test {
 protected:
  Status Step(const std::string& line) {
    answer_ = {};
    done_ = false;
    return AuthStep(line, 1000, &data_rounds_, &result_, &answer_, &done_);
  }
  int data_rounds_ = 0;
  AuthResult result_;
  std::string_view answer_;
  bool done_ = false;
};

TEST_F(AuthSteps, OkIsAnsweredWithBeginAndRecordsTheGuid) {
  ASSERT_TRUE(Step(std::string("OK ") + kGuid).ok());
  EXPECT_TRUE(done_);
  EXPECT_EQ(answer_, "BEGIN\r\n");
  EXPECT_STREQ(result_.guid, kGuid);
}

TEST_F(AuthSteps, DataIsAnsweredWithEmptyDataAFewTimesAtMost) {
  for (int round = 0; round < 4; ++round) {
    ASSERT_TRUE(Step("DATA").ok());
    EXPECT_FALSE(done_);
    EXPECT_EQ(answer_, "DATA\r\n");
  }
  EXPECT_STREQ(Step("DATA").rule(), "auth-unexpected-reply");
}

TEST_F(AuthSteps, RejectedIsAnErrorNamingWhatTheServerOffers) {
  Status status = Step("REJECTED DBUS_COOKIE_SHA1 ANONYMOUS");
  EXPECT_STREQ(status.rule(), "auth-rejected");
  EXPECT_NE(std::string(status.message()).find("DBUS_COOKIE_SHA1 ANONYMOUS"), std::string::npos);
}

TEST_F(AuthSteps, ErrorIsAnError) {
  EXPECT_STREQ(Step("ERROR \"who are you\"").rule(), "auth-error");
}

TEST_F(AuthSteps, AgreeUnixFdNeverAskedForIsAnError) {
  EXPECT_STREQ(Step("AGREE_UNIX_FD").rule(), "auth-unexpected-reply");
}

TEST_F(AuthSteps, GarbageLineIsAParseError) {
  EXPECT_STREQ(Step("HELLO").rule(), "auth-unknown-command");
}

}  // namespace
}  // namespace jsn
