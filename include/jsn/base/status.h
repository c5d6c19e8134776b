// Status: the result of anything that can fail. Success, or the name of the rule that was
// broken, the byte offset where it was found (for parsers), and a message that says what was
// expected and what was found. Nothing throws and nothing allocates: the message lives in a
// fixed buffer inside the Status, and the rule is a string literal with static lifetime.
#pragma once

#include <cstdarg>
#include <cstddef>
#include <cstdint>

namespace jsn {

class [[nodiscard]] Status {
 public:
  // No byte offset applies (an I/O or a usage error rather than a parse error).
  static constexpr size_t kNoOffset = static_cast<size_t>(-1);
  static constexpr size_t kMessageCapacity = 200;

  constexpr Status() = default;  // success

  // A failure of `rule` (a short kebab-case name such as "padding-not-zero", which tests
  // compare against; must be a string literal) at byte `offset`, with a printf-style message.
  static Status Error(const char* rule, size_t offset, const char* format, ...)
      __attribute__((format(printf, 3, 4)));
  // A failure with no byte offset.
  static Status Failure(const char* rule, const char* format, ...)
      __attribute__((format(printf, 2, 3)));
  // Error and Failure with a message of "expected " and then the formatted text: most messages
  // say what was expected and what was found, and the musl build, held to 128 KiB, stores
  // those nine bytes once instead of in every such message.
  static Status ExpectedAt(const char* rule, size_t offset, const char* format, ...)
      __attribute__((format(printf, 3, 4)));
  static Status Expected(const char* rule, const char* format, ...)
      __attribute__((format(printf, 2, 3)));

  bool ok() const { return rule_ == nullptr; }
  // "ok" on success.
  const char* rule() const { return rule_ == nullptr ? "ok" : rule_; }
  size_t offset() const { return offset_; }
  // The message alone, "" on success.
  const char* message() const { return message_; }

 private:
  static Status Formatted(const char* rule, size_t offset, const char* prefix, const char* format,
                          va_list args);

  const char* rule_ = nullptr;
  size_t offset_ = kNoOffset;
  char message_[kMessageCapacity] = {};
};

// Propagates a failed Status to the caller.
#define JSN_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::jsn::Status jsn_status_ = (expr);        \
    if (!jsn_status_.ok()) return jsn_status_; \
  } while (0)

}  // namespace jsn
