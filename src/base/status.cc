#include "jsn/base/status.h"

#include <cstring>

#include "jsn/base/format.h"

namespace jsn {

Status Status::Formatted(const char* rule, size_t offset, const char* prefix, const char* format,
                         va_list args) {
  Status status;
  status.rule_ = rule;
  status.offset_ = offset;
  size_t length = strlen(prefix);
  memcpy(status.message_, prefix, length);
  FormatV(status.message_ + length, sizeof status.message_ - length, format, args);
  return status;
}

Status Status::Error(const char* rule, size_t offset, const char* format, ...) {
  va_list args;
  va_start(args, format);
  Status status = Formatted(rule, offset, "", format, args);
  va_end(args);
  return status;
}

Status Status::Failure(const char* rule, const char* format, ...) {
  va_list args;
  va_start(args, format);
  Status status = Formatted(rule, kNoOffset, "", format, args);
  va_end(args);
  return status;
}

Status Status::ExpectedAt(const char* rule, size_t offset, const char* format, ...) {
  va_list args;
  va_start(args, format);
  Status status = Formatted(rule, offset, "expected ", format, args);
  va_end(args);
  return status;
}

Status Status::Expected(const char* rule, const char* format, ...) {
  va_list args;
  va_start(args, format);
  Status status = Formatted(rule, kNoOffset, "expected ", format, args);
  va_end(args);
  return status;
}

}  // namespace jsn
