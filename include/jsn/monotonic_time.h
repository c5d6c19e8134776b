// MonotonicTime: a time on CLOCK_MONOTONIC, as the loop reads it and hands it to whatever
// decides by the clock (the tracker's retries, the watchdog's interval, the reconnect backoff).
// Its own header so that a part below the daemon (sd_notify's watchdog) can speak of time
// without including the tracker. A value; nothing to own.
#pragma once

#include <chrono>

namespace jsn {

// Nanoseconds since CLOCK_MONOTONIC's origin, as the loop reads it.
using MonotonicTime = std::chrono::nanoseconds;
constexpr MonotonicTime kNever = MonotonicTime::max();

}  // namespace jsn
