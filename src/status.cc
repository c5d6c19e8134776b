#include "jsn/status.h"

#include <cstdarg>

#include "jsn/format.h"

namespace jsn {

Status Status::Error(const char* rule, size_t offset, const char* format, ...) {
  Status status;
  status.rule_ = rule;
  status.offset_ = offset;
  va_list args;
  va_start(args, format);
  FormatV(status.message_, sizeof status.message_, format, args);
  va_end(args);
  return status;
}

Status Status::Failure(const char* rule, const char* format, ...) {
  Status status;
  status.rule_ = rule;
  va_list args;
  va_start(args, format);
  FormatV(status.message_, sizeof status.message_, format, args);
  va_end(args);
  return status;
}

}  // namespace jsn
