// Log: one line per event on stderr (fd 2), written with a single write(2) so lines from the
// daemon and from the hooks it runs (which inherit stderr) never interleave mid-line. Debug
// lines appear only after SetDebugLogging(true) (-d). Each level carries its syslog priority so
// that a line can start with "<N>" when $JOURNAL_STREAM says stderr is the journal. Nothing is
// allocated: a line is formatted into a fixed buffer on the stack and truncated when too long.
#pragma once

#include <cstdarg>
#include <cstddef>

namespace jsn {

// The values are the syslog priorities (RFC 5424 section 6.2.1), so a "<N>" prefix is the value.
enum class LogLevel : int { kError = 3, kWarning = 4, kInfo = 6, kDebug = 7 };

// Longer lines are cut and end in "...".
constexpr size_t kMaxLogLineLength = 1024;

void SetDebugLogging(bool enabled);
bool DebugLoggingEnabled();
// Where lines go; 2 (stderr) unless a test redirects them.
void SetLogFd(int fd);
// Whether $JOURNAL_STREAM ("DEVICE:INODE", set by systemd for a service whose stderr goes to the
// journal) names the file open on `fd`: a stderr redirected elsewhere has another device:inode.
bool IsJournalStream(const char* journal_stream, int fd);
// With it on, each line starts with "<N>", its syslog priority, which journald strips and
// files the line under.
void SetJournalPriorityPrefix(bool enabled);

// Formats one line ("error: ...", "warning: ...", "...", "debug: ...", always ending in
// "\n") into `buffer`; returns its length. Pure, so tests check the format directly.
size_t FormatLogLine(char* buffer, size_t capacity, LogLevel level, const char* format,
                     va_list args);

void Log(LogLevel level, const char* format, ...) __attribute__((format(printf, 2, 3)));

}  // namespace jsn

#define JSN_LOG_ERROR(...) ::jsn::Log(::jsn::LogLevel::kError, __VA_ARGS__)
#define JSN_LOG_WARNING(...) ::jsn::Log(::jsn::LogLevel::kWarning, __VA_ARGS__)
#define JSN_LOG_INFO(...) ::jsn::Log(::jsn::LogLevel::kInfo, __VA_ARGS__)
// Arguments are not evaluated unless debug logging is on.
#define JSN_LOG_DEBUG(...)                                                              \
  do {                                                                                  \
    if (::jsn::DebugLoggingEnabled()) ::jsn::Log(::jsn::LogLevel::kDebug, __VA_ARGS__); \
  } while (0)
