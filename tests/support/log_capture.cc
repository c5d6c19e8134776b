#include "support/log_capture.h"

#include <fcntl.h>
#include <unistd.h>

#include "jsn/base/log.h"

namespace jsn::testing {

LogCapture::LogCapture() {
  ok_ = pipe2(fds_, O_NONBLOCK | O_CLOEXEC) == 0;
  if (ok_) SetLogFd(fds_[1]);
  SetDebugLogging(true);
}

LogCapture::~LogCapture() {
  SetLogFd(2);
  SetDebugLogging(false);
  if (ok_) {
    close(fds_[0]);
    close(fds_[1]);
  }
}

std::string LogCapture::Take() {
  std::string out;
  char buffer[4096];
  ssize_t got;
  while ((got = read(fds_[0], buffer, sizeof buffer)) > 0) {
    out.append(buffer, static_cast<size_t>(got));
  }
  return out;
}

}  // namespace jsn::testing
