#include "jsn/base/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "jsn/base/decimal.h"
#include "jsn/base/format.h"

namespace jsn {
namespace {

bool debug_enabled = false;
int log_fd = 2;
bool journal_prefix = false;

const char* LevelPrefix(LogLevel level) {
  switch (level) {
    case LogLevel::kError:
      return "error: ";
    case LogLevel::kWarning:
      return "warning: ";
    case LogLevel::kInfo:
      return "";
    case LogLevel::kDebug:
      return "debug: ";
  }
  return "";
}

}  // namespace

void SetDebugLogging(bool enabled) { debug_enabled = enabled; }
bool DebugLoggingEnabled() { return debug_enabled; }
void SetLogFd(int fd) { log_fd = fd; }
void SetJournalPriorityPrefix(bool enabled) { journal_prefix = enabled; }

bool IsJournalStream(const char* journal_stream, int fd) {
  if (journal_stream == nullptr) return false;
  std::string_view text = journal_stream;
  size_t colon = text.find(':');
  uint64_t device = 0, inode = 0;
  if (colon == std::string_view::npos || !ParseDecimal(text.substr(0, colon), &device) ||
      !ParseDecimal(text.substr(colon + 1), &inode)) {
    return false;
  }
  struct stat info;
  if (fstat(fd, &info) != 0) return false;
  return static_cast<uint64_t>(info.st_dev) == device &&
         static_cast<uint64_t>(info.st_ino) == inode;
}

size_t FormatLogLine(char* buffer, size_t capacity, LogLevel level, const char* format,
                     va_list args) {
  static constexpr char kEllipsis[] = "...\n";
  if (capacity < 16) return 0;  // room for the longest prefix and "...\n"
  const char* prefix = LevelPrefix(level);
  size_t prefix_length = strlen(prefix);
  memcpy(buffer, prefix, prefix_length);
  // Room for the text and its newline; FormatV writes a NUL we then overwrite.
  size_t room = capacity - prefix_length;
  size_t length = prefix_length + FormatV(buffer + prefix_length, room, format, args);
  if (length + 1 >= capacity) {  // cut: no room for all of it and the newline
    memcpy(buffer + capacity - sizeof kEllipsis, kEllipsis, sizeof kEllipsis - 1);
    return capacity - 1;
  }
  buffer[length] = '\n';
  return length + 1;
}

void Log(LogLevel level, const char* format, ...) {
  if (level == LogLevel::kDebug && !debug_enabled) return;
  char line[kMaxLogLineLength + 1];
  va_list args;
  va_start(args, format);
  size_t start = 0;
  if (journal_prefix) {
    line[0] = '<';
    line[1] = static_cast<char>('0' + static_cast<int>(level));  // priorities are 0..7
    line[2] = '>';
    start = 3;
  }
  size_t length = start + FormatLogLine(line + start, sizeof line - start, level, format, args);
  va_end(args);
  size_t done = 0;
  while (done < length) {
    ssize_t n = write(log_fd, line + done, length - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to report a broken stderr; the daemon goes on
    done += static_cast<size_t>(n);
  }
}

}  // namespace jsn
