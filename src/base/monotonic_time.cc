#include "jsn/base/monotonic_time.h"

#include <time.h>

#include <cstdint>
#include <cstdio>

namespace jsn {

MonotonicTime MonotonicNow() {
  timespec now{};
  // CLOCK_MONOTONIC cannot fail with a valid pointer on Linux; a zero time would only make
  // deadlines expire early, never hang.
  if (clock_gettime(CLOCK_MONOTONIC, &now) != 0) return MonotonicTime(0);
  return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
}

SecondsText FormatSeconds(MonotonicTime duration, int decimals) {
  int64_t nanoseconds = std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count();
  uint64_t magnitude =
      nanoseconds < 0 ? 0 - static_cast<uint64_t>(nanoseconds) : static_cast<uint64_t>(nanoseconds);
  uint64_t unit = decimals == 3 ? 1000000 : 1000000000;
  uint64_t rounded = magnitude / unit + (magnitude % unit >= unit / 2 ? 1 : 0);
  SecondsText seconds;
  const char* sign = nanoseconds < 0 ? "-" : "";
  if (decimals == 3) {
    snprintf(seconds.text, sizeof seconds.text, "%s%llu.%03u", sign,
             static_cast<unsigned long long>(rounded / 1000),
             static_cast<unsigned>(rounded % 1000));
  } else {
    snprintf(seconds.text, sizeof seconds.text, "%s%llu", sign,
             static_cast<unsigned long long>(rounded));
  }
  return seconds;
}

}  // namespace jsn
