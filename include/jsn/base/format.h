// Format: the printf conversions the daemon's messages use, with no libc printf behind them.
// Status and Log format with it; in the musl build (`make static-musl`) vsnprintf and vfprintf,
// and with them every printf-family function, are it too (src/base/musl/runtime.cc), so libc's
// printf machinery and its floating-point formatting stay out of the static binary.
//
// Supported, with glibc's output byte for byte (tests/base/format_test.cc compares them):
// conversions %d %i %u %x %X %c %s %%, flags '-' and '0', a width and a precision (digits or
// '*'), and the length modifiers hh h l ll z j t. Nothing else: at any other conversion
// (%f, %p, %n, the flags '+' ' ' '#', ...) the rest of the format is copied as it is and no
// further argument is read, so a mistake shows in the text and never misreads an argument.
// The format and the arguments are the caller's; output goes to a sink the caller owns.
#pragma once

#include <cstdarg>
#include <cstddef>

namespace jsn {

// Receives the output in pieces, in order.
struct FormatSink {
  void (*write)(FormatSink* sink, const char* bytes, size_t length);
};

// Formats into `sink`; returns the number of bytes written to it.
size_t FormatTo(FormatSink* sink, const char* format, va_list args);

// As vsnprintf: writes at most capacity - 1 bytes and a NUL (nothing when capacity is 0) and
// returns the length of the whole text, so a result >= capacity means it was cut.
size_t FormatV(char* buffer, size_t capacity, const char* format, va_list args);
size_t Format(char* buffer, size_t capacity, const char* format, ...)
    __attribute__((format(printf, 3, 4)));

}  // namespace jsn
