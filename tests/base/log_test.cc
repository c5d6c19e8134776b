#include "jsn/base/log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdarg>
#include <string>

namespace jsn {
namespace {

std::string Format(size_t capacity, LogLevel level, const char* format, ...) {
  std::string buffer(capacity, '\0');
  va_list args;
  va_start(args, format);
  size_t length = FormatLogLine(buffer.data(), capacity, level, format, args);
  va_end(args);
  return buffer.substr(0, length);
}

TEST(Log, EachLevelHasItsPrefixAndEveryLineEndsInANewline) {
  EXPECT_EQ(Format(100, LogLevel::kError, "x %d", 1), "error: x 1\n");
  EXPECT_EQ(Format(100, LogLevel::kWarning, "x"), "warning: x\n");
  EXPECT_EQ(Format(100, LogLevel::kInfo, "x"), "x\n");
  EXPECT_EQ(Format(100, LogLevel::kDebug, "x"), "debug: x\n");
}

TEST(Log, LevelsAreSyslogPriorities) {
  EXPECT_EQ(static_cast<int>(LogLevel::kError), 3);
  EXPECT_EQ(static_cast<int>(LogLevel::kWarning), 4);
  EXPECT_EQ(static_cast<int>(LogLevel::kInfo), 6);
  EXPECT_EQ(static_cast<int>(LogLevel::kDebug), 7);
}

TEST(Log, ALongLineIsCutAndMarked) {
  std::string long_text(100, 'a');
  std::string line = Format(20, LogLevel::kInfo, "%s", long_text.c_str());
  EXPECT_EQ(line.size(), 19u);
  EXPECT_EQ(line, std::string(15, 'a') + "...\n");
  // A line that exactly fits is not cut.
  EXPECT_EQ(Format(20, LogLevel::kInfo, "%s", std::string(18, 'b').c_str()),
            std::string(18, 'b') + "\n");
  EXPECT_EQ(Format(20, LogLevel::kInfo, "%s", std::string(19, 'b').c_str()),
            std::string(15, 'b') + "...\n");
}

std::string Capture(bool debug, void (*emit)()) {
  int fds[2];
  EXPECT_EQ(pipe2(fds, O_NONBLOCK), 0);
  SetLogFd(fds[1]);
  SetDebugLogging(debug);
  emit();
  SetLogFd(2);
  SetDebugLogging(false);
  close(fds[1]);
  std::string out;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fds[0], buffer, sizeof buffer)) > 0) out.append(buffer, static_cast<size_t>(n));
  close(fds[0]);
  return out;
}

void EmitOneOfEach() {
  JSN_LOG_ERROR("e");
  JSN_LOG_INFO("i");
  JSN_LOG_DEBUG("d");
}

TEST(Log, DebugLinesAppearOnlyWhenEnabled) {
  EXPECT_EQ(Capture(false, EmitOneOfEach), "error: e\ni\n");
  EXPECT_EQ(Capture(true, EmitOneOfEach), "error: e\ni\ndebug: d\n");
}

int evaluated = 0;
int Count() { return ++evaluated; }
void EmitDebugWithSideEffect() { JSN_LOG_DEBUG("%d", Count()); }

TEST(Log, DebugArgumentsAreNotEvaluatedWhenDisabled) {
  evaluated = 0;
  Capture(false, EmitDebugWithSideEffect);
  EXPECT_EQ(evaluated, 0);
  Capture(true, EmitDebugWithSideEffect);
  EXPECT_EQ(evaluated, 1);
}

void EmitWarning() { JSN_LOG_WARNING("w"); }

TEST(Log, JournalLinesStartWithTheirSyslogPriority) {
  SetJournalPriorityPrefix(true);
  std::string out = Capture(true, EmitOneOfEach) + Capture(true, EmitWarning);
  SetJournalPriorityPrefix(false);
  EXPECT_EQ(out, "<3>error: e\n<6>i\n<7>debug: d\n<4>warning: w\n");
}

TEST(Log, JournalStreamMustNameTheFileOnTheDescriptor) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  struct stat info;
  ASSERT_EQ(fstat(fds[1], &info), 0);
  std::string mine = std::to_string(info.st_dev) + ":" + std::to_string(info.st_ino);
  std::string other = std::to_string(info.st_dev) + ":" + std::to_string(info.st_ino + 1);
  EXPECT_TRUE(IsJournalStream(mine.c_str(), fds[1]));
  EXPECT_FALSE(IsJournalStream(other.c_str(), fds[1]));  // stderr redirected elsewhere
  EXPECT_FALSE(IsJournalStream(nullptr, fds[1]));
  EXPECT_FALSE(IsJournalStream("", fds[1]));
  EXPECT_FALSE(IsJournalStream((mine + "x").c_str(), fds[1]));
  close(fds[0]);
  close(fds[1]);
}

// Decimal sum of two digit strings, for numbers past 64 bits.
std::string AddDecimal(const std::string& a, const std::string& b) {
  std::string sum;
  int carry = 0;
  for (size_t i = 0; i < a.size() || i < b.size() || carry != 0; ++i) {
    int digit = carry;
    if (i < a.size()) digit += a[a.size() - 1 - i] - '0';
    if (i < b.size()) digit += b[b.size() - 1 - i] - '0';
    sum.insert(sum.begin(), static_cast<char>('0' + digit % 10));
    carry = digit / 10;
  }
  return sum;
}

// Each malformed value below holds the descriptor's true device and inode, so only the parsing
// can refuse it.
TEST(Log, JournalStreamMustBeExactlyTwoDecimalsAroundAColon) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  struct stat info;
  ASSERT_EQ(fstat(fds[1], &info), 0);
  std::string device = std::to_string(info.st_dev);
  std::string inode = std::to_string(info.st_ino);
  ASSERT_TRUE(IsJournalStream((device + ":" + inode).c_str(), fds[1]));
  EXPECT_FALSE(IsJournalStream((device + ":").c_str(), fds[1]));
  EXPECT_FALSE(IsJournalStream((":" + inode).c_str(), fds[1]));
  EXPECT_FALSE(IsJournalStream(":", fds[1]));
  EXPECT_FALSE(IsJournalStream(device.c_str(), fds[1]));
  EXPECT_FALSE(IsJournalStream((device + ":" + inode + ":").c_str(), fds[1]));
  EXPECT_FALSE(IsJournalStream((device + ":" + inode + ":" + inode).c_str(), fds[1]));
  EXPECT_FALSE(IsJournalStream((device + ":" + inode + " ").c_str(), fds[1]));
  EXPECT_FALSE(IsJournalStream((device + ": " + inode).c_str(), fds[1]));
  EXPECT_FALSE(IsJournalStream(("-" + device + ":" + inode).c_str(), fds[1]));
  EXPECT_FALSE(IsJournalStream((device + ":+" + inode).c_str(), fds[1]));
  // 2^64 more than the inode: a parser that wrapped around would accept it.
  std::string wrapped = AddDecimal(inode, "18446744073709551616");
  EXPECT_FALSE(IsJournalStream((device + ":" + wrapped).c_str(), fds[1]));
  EXPECT_FALSE(
      IsJournalStream((AddDecimal(device, "18446744073709551616") + ":" + inode).c_str(), fds[1]));
  close(fds[0]);
  close(fds[1]);
}

}  // namespace
}  // namespace jsn
