// MonotonicTime: a time on CLOCK_MONOTONIC, as the loop reads it and hands it to whatever
// decides by the clock (the tracker's retries, the watchdog's interval, the reconnect backoff).
// Its own header so that a part below the daemon (sd_notify's watchdog) can speak of time
// without including the tracker. A value; nothing to own (SecondsText is its own storage).
#pragma once

#include <chrono>

namespace jsn {

// Nanoseconds since CLOCK_MONOTONIC's origin, as the loop reads it.
using MonotonicTime = std::chrono::nanoseconds;
constexpr MonotonicTime kNever = MonotonicTime::max();

// CLOCK_MONOTONIC now, the one clock every part reads: deadlines never move with the wall
// clock.
MonotonicTime MonotonicNow();

// A duration as decimal seconds for a log line, with `decimals` places, 3 ("0.001") or 0
// ("10"): the text printf's %.3f and %.0f gave (a tie rounds up), made from integers, so no
// floating-point formatting is linked (the musl build's printf has none, jsn/base/format.h).
struct SecondsText {
  char text[32];
};
SecondsText FormatSeconds(MonotonicTime duration, int decimals);

}  // namespace jsn
