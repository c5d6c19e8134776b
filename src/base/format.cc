#include "jsn/base/format.h"

#include <sys/types.h>

#include <cstdint>
#include <cstring>

namespace jsn {
namespace {

class Output {
 public:
  explicit Output(FormatSink* sink) : sink_(sink) {}

  void Put(const char* bytes, size_t length) {
    if (length == 0) return;
    sink_->write(sink_, bytes, length);
    count_ += length;
  }
  void Repeat(char byte, size_t times) {
    char run[16];
    memset(run, byte, sizeof run);
    for (; times > sizeof run; times -= sizeof run) Put(run, sizeof run);
    Put(run, times);
  }
  size_t count() const { return count_; }

 private:
  FormatSink* sink_;
  size_t count_ = 0;
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A width or precision written as digits; large values saturate (glibc fails on them instead,
// and no message of ours comes near).
size_t ReadNumber(const char** p) {
  size_t value = 0;
  for (; IsDigit(**p); ++*p) {
    if (value < 1000000) value = value * 10 + static_cast<size_t>(**p - '0');
  }
  return value;
}

enum class Length { kInt, kChar, kShort, kLong, kLongLong, kSize, kMax, kPtrdiff };

Length ReadLength(const char** p) {
  const char* s = *p;
  Length length = Length::kInt;
  size_t used = 1;
  if (s[0] == 'h') {
    length = s[1] == 'h' ? Length::kChar : Length::kShort;
    used = s[1] == 'h' ? 2 : 1;
  } else if (s[0] == 'l') {
    length = s[1] == 'l' ? Length::kLongLong : Length::kLong;
    used = s[1] == 'l' ? 2 : 1;
  } else if (s[0] == 'z') {
    length = Length::kSize;
  } else if (s[0] == 'j') {
    length = Length::kMax;
  } else if (s[0] == 't') {
    length = Length::kPtrdiff;
  } else {
    used = 0;
  }
  *p += used;
  return length;
}

// Field layout shared by every conversion: `sign` (maybe empty), `zeros` leading zeros, then
// `body`, padded to `width` on the left with spaces or zeros, or on the right with spaces.
struct Field {
  bool left = false;
  bool zero_pad = false;
  size_t width = 0;
};

void PutField(Output* out, const Field& field, const char* sign, size_t zeros, const char* body,
              size_t body_length) {
  size_t sign_length = strlen(sign);
  size_t length = sign_length + zeros + body_length;
  size_t padding = field.width > length ? field.width - length : 0;
  if (!field.left && !field.zero_pad) out->Repeat(' ', padding);
  out->Put(sign, sign_length);
  if (!field.left && field.zero_pad) out->Repeat('0', padding);
  out->Repeat('0', zeros);
  out->Put(body, body_length);
  if (field.left) out->Repeat(' ', padding);
}

void PutInteger(Output* out, Field field, long precision, bool negative, uint64_t magnitude,
                unsigned base, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char text[24];
  size_t start = sizeof text;
  // A precision of 0 prints no digits for 0; otherwise there is always at least one.
  if (magnitude != 0 || precision != 0) {
    do {
      text[--start] = digits[magnitude % base];
      magnitude /= base;
    } while (magnitude != 0);
  }
  size_t length = sizeof text - start;
  size_t zeros = precision > 0 && static_cast<size_t>(precision) > length
                     ? static_cast<size_t>(precision) - length
                     : 0;
  if (precision >= 0) field.zero_pad = false;  // C: the 0 flag is ignored with a precision
  PutField(out, field, negative ? "-" : "", zeros, text + start, length);
}

}  // namespace

size_t FormatTo(FormatSink* sink, const char* format, va_list args) {
  Output out(sink);
  const char* p = format;
  while (*p != '\0') {
    const char* literal = p;
    while (*p != '\0' && *p != '%') ++p;
    out.Put(literal, static_cast<size_t>(p - literal));
    if (*p == '\0') break;
    const char* conversion_start = p++;
    Field field;
    for (;; ++p) {
      if (*p == '-') {
        field.left = true;
      } else if (*p == '0') {
        field.zero_pad = true;
      } else {
        break;
      }
    }
    if (*p == '*') {
      ++p;
      int width = va_arg(args, int);
      if (width < 0) field.left = true;  // C: a negative '*' width is the '-' flag
      field.width = width < 0 ? 0 - static_cast<size_t>(width) : static_cast<size_t>(width);
    } else {
      field.width = ReadNumber(&p);
    }
    if (field.left) field.zero_pad = false;
    long precision = -1;
    if (*p == '.') {
      ++p;
      if (*p == '*') {
        ++p;
        int given = va_arg(args, int);
        precision = given < 0 ? -1 : given;  // C: a negative '*' precision is none
      } else {
        precision = static_cast<long>(ReadNumber(&p));
      }
    }
    Length length = ReadLength(&p);
    switch (*p) {
      case 'd':
      case 'i': {
        int64_t value = 0;
        switch (length) {
          case Length::kInt:
            value = va_arg(args, int);
            break;
          case Length::kChar:
            value = static_cast<signed char>(va_arg(args, int));
            break;
          case Length::kShort:
            value = static_cast<short>(va_arg(args, int));
            break;
          case Length::kLong:
            value = va_arg(args, long);
            break;
          case Length::kLongLong:
            value = va_arg(args, long long);
            break;
          case Length::kSize:
            value = va_arg(args, ssize_t);
            break;
          case Length::kMax:
            value = va_arg(args, intmax_t);
            break;
          case Length::kPtrdiff:
            value = va_arg(args, ptrdiff_t);
            break;
        }
        uint64_t magnitude =
            value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
        PutInteger(&out, field, precision, value < 0, magnitude, 10, false);
        break;
      }
      case 'u':
      case 'x':
      case 'X': {
        uint64_t value = 0;
        switch (length) {
          case Length::kInt:
            value = va_arg(args, unsigned);
            break;
          case Length::kChar:
            value = static_cast<unsigned char>(va_arg(args, unsigned));
            break;
          case Length::kShort:
            value = static_cast<unsigned short>(va_arg(args, unsigned));
            break;
          case Length::kLong:
            value = va_arg(args, unsigned long);
            break;
          case Length::kLongLong:
            value = va_arg(args, unsigned long long);
            break;
          case Length::kSize:
            value = va_arg(args, size_t);
            break;
          case Length::kMax:
            value = va_arg(args, uintmax_t);
            break;
          case Length::kPtrdiff:
            value = static_cast<uint64_t>(va_arg(args, ptrdiff_t));
            break;
        }
        PutInteger(&out, field, precision, false, value, *p == 'u' ? 10 : 16, *p == 'X');
        break;
      }
      case 'c': {
        char byte = static_cast<char>(va_arg(args, int));
        field.zero_pad = false;
        PutField(&out, field, "", 0, &byte, 1);
        break;
      }
      case 's': {
        const char* text = va_arg(args, const char*);
        // glibc prints a null string as "(null)" when the precision leaves room for all of it.
        if (text == nullptr) text = precision < 0 || precision >= 6 ? "(null)" : "";
        // With a precision, bytes past it are never read: the text need not end in a NUL.
        size_t text_length =
            precision < 0 ? strlen(text) : strnlen(text, static_cast<size_t>(precision));
        field.zero_pad = false;
        PutField(&out, field, "", 0, text, text_length);
        break;
      }
      case '%':
        if (p == conversion_start + 1) {
          out.Put("%", 1);
          break;
        }
        [[fallthrough]];
      default:
        out.Put(conversion_start, strlen(conversion_start));
        return out.count();
    }
    ++p;
  }
  return out.count();
}

namespace {

struct BufferSink : FormatSink {
  char* buffer;
  size_t capacity;
  size_t used;
};

void WriteToBuffer(FormatSink* sink, const char* bytes, size_t length) {
  BufferSink* to = static_cast<BufferSink*>(sink);
  size_t room = to->capacity - 1 - to->used;  // only called with capacity > 0
  size_t copied = length < room ? length : room;
  memcpy(to->buffer + to->used, bytes, copied);
  to->used += copied;
}

void Discard(FormatSink*, const char*, size_t) {}

}  // namespace

size_t FormatV(char* buffer, size_t capacity, const char* format, va_list args) {
  BufferSink sink;
  sink.write = capacity == 0 ? Discard : WriteToBuffer;
  sink.buffer = buffer;
  sink.capacity = capacity;
  sink.used = 0;
  size_t length = FormatTo(&sink, format, args);
  if (capacity > 0) buffer[sink.used] = '\0';
  return length;
}

size_t Format(char* buffer, size_t capacity, const char* format, ...) {
  va_list args;
  va_start(args, format);
  size_t length = FormatV(buffer, capacity, format, args);
  va_end(args);
  return length;
}

}  // namespace jsn
