// Decimal: the unsigned numbers the daemon reads from its environment and command line
// ($JOURNAL_STREAM's "DEVICE:INODE", $WATCHDOG_USEC, $WATCHDOG_PID, --hook-timeout). The text is
// what systemd and people write: ASCII digits only, no sign, no spaces, no base prefix. Parsed
// here rather than with sscanf/strtoull so the static build links none of libc's scanf machinery.
// Reads the caller's bytes; keeps nothing.
#pragma once

#include <cstdint>
#include <string_view>

namespace jsn {

// Whether `text` is one or more digits whose value fits in 64 bits; if so, stores it in *value.
bool ParseDecimal(std::string_view text, uint64_t* value);

}  // namespace jsn
