// LogCapture: what the daemon's code logs (jsn/base/log.h) while it lives, read through a
// non-blocking pipe, debug lines included; the log goes back to stderr, without debug lines,
// when it ends. For tests that check a log line. The capture owns the pipe; a test logs little,
// so the pipe's buffer holds it all.
#pragma once

#include <string>

namespace jsn::testing {

class LogCapture {
 public:
  LogCapture();
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // Whether the pipe could be made (a test asserts it first).
  bool ok() const { return ok_; }
  // What was logged since the last call.
  std::string Take();

 private:
  int fds_[2] = {-1, -1};
  bool ok_ = false;
};

}  // namespace jsn::testing
