#include "jsn/auth.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <string>

#include "jsn/blocking_io.h"

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

// A socketpair stands in for the bus: the server's lines are written before the client runs
// (the socket buffers them), and what the client sent is read back afterwards.
class AuthExchange : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds_), 0);
    ASSERT_EQ(fcntl(fds_[0], F_SETFL, O_NONBLOCK), 0);
  }
  void TearDown() override {
    if (fds_[0] >= 0) close(fds_[0]);
    if (fds_[1] >= 0) close(fds_[1]);
  }
  void ServerSays(const std::string& text) {
    ASSERT_EQ(write(fds_[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }
  Status Run(int timeout_ms = 5000) {
    return Authenticate(fds_[0], 1000, MonotonicMilliseconds() + timeout_ms, &result_);
  }
  int fds_[2] = {-1, -1};
  AuthResult result_;
};

TEST_F(AuthExchange, OkIsAnsweredWithBeginAndRecordsTheGuid) {
  ServerSays(std::string("OK ") + kGuid + "\r\n");
  ASSERT_TRUE(Run().ok());
  EXPECT_STREQ(result_.guid, kGuid);
}

TEST_F(AuthExchange, ClientSendsNulAuthThenBegin) {
  ServerSays(std::string("OK ") + kGuid + "\r\n");
  ASSERT_TRUE(Run().ok());
  char buffer[256];
  ssize_t got = read(fds_[1], buffer, sizeof buffer);
  ASSERT_GT(got, 0);
  EXPECT_EQ(std::string(buffer, got), std::string("\0AUTH EXTERNAL 31303030\r\nBEGIN\r\n", 32));
}

TEST_F(AuthExchange, DataIsAnsweredWithEmptyData) {
  ServerSays(std::string("DATA\r\nOK ") + kGuid + "\r\n");
  ASSERT_TRUE(Run().ok());
  char buffer[256];
  ssize_t got = read(fds_[1], buffer, sizeof buffer);
  ASSERT_GT(got, 0);
  EXPECT_EQ(std::string(buffer, got),
            std::string("\0AUTH EXTERNAL 31303030\r\nDATA\r\nBEGIN\r\n", 38));
}

TEST_F(AuthExchange, RejectedIsAnErrorNamingWhatTheServerOffers) {
  ServerSays("REJECTED DBUS_COOKIE_SHA1 ANONYMOUS\r\n");
  Status status = Run();
  EXPECT_STREQ(status.rule(), "auth-rejected");
  EXPECT_NE(std::string(status.message()).find("DBUS_COOKIE_SHA1 ANONYMOUS"), std::string::npos);
}

TEST_F(AuthExchange, ErrorIsAnError) {
  ServerSays("ERROR \"who are you\"\r\n");
  EXPECT_STREQ(Run().rule(), "auth-error");
}

TEST_F(AuthExchange, ClosedSocketIsConnectionClosed) {
  close(fds_[1]);
  fds_[1] = -1;
  EXPECT_STREQ(Run().rule(), "connection-closed");
}

TEST_F(AuthExchange, ServerClosingBeforeItAnswersIsConnectionClosed) {
  ServerSays("REJEC");
  ASSERT_EQ(shutdown(fds_[1], SHUT_WR), 0);
  EXPECT_STREQ(Run().rule(), "connection-closed");
}

TEST_F(AuthExchange, SilentServerTimesOut) { EXPECT_STREQ(Run(50).rule(), "auth-timeout"); }

TEST_F(AuthExchange, OverLongLineIsAnError) {
  ServerSays(std::string(kMaxAuthLineLength + 10, 'E'));
  EXPECT_STREQ(Run().rule(), "auth-line-too-long");
}

TEST_F(AuthExchange, GarbageLineIsAParseError) {
  ServerSays("HELLO\r\n");
  EXPECT_STREQ(Run().rule(), "auth-unknown-command");
}

TEST_F(AuthExchange, BytesAfterOkBeforeBeginAreRefused) {
  ServerSays(std::string("OK ") + kGuid + "\r\nl\1\0\1");
  EXPECT_STREQ(Run().rule(), "auth-unexpected-bytes");
}

}  // namespace
}  // namespace jsn
