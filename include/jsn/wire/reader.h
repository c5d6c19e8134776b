// Reader: a zero-copy, allocation-free view over one complete D-Bus message held in a buffer
// the caller owns (the Message and its Header are declared in jsn/wire/message.h; the values of its
// body, Value and Iterator, here). Message::Parse validates the whole message in one walk (fixed
// header, header fields, body against its signature, alignment, zero padding, limits, UTF-8, names,
// booleans, variants, dict entries, unix-fd counts), in either byte order. After a successful
// Parse every accessor is infallible: strings come back as views into the caller's buffer,
// numbers decoded to host order. The buffer must outlive the Message and every view from it.
//
// Rules a rejection can name (Status::rule(); the offset is where in the message it was found):
//   framing: short-read, bad-byte-order, bad-protocol-version, message-too-long,
//     message-truncated (buffer shorter than declared), trailing-bytes (buffer or body longer
//     than its contents), truncated (a value runs past the end of its array, header field
//     array or body), array-too-long
//   header: bad-message-type (0), serial-zero, reply-serial-zero, header-field-invalid (code 0),
//     header-field-type, header-field-repeated, missing-header-field, bad-object-path,
//     bad-interface-name, bad-member-name, bad-error-name, bad-bus-name
//   values: padding-not-zero, bad-boolean, string-not-utf8, string-contains-nul,
//     string-missing-nul, unix-fd-out-of-range, variant-not-single-type, nesting-too-deep
//   signatures (jsn/wire/signature.h): bad-signature, empty-struct, dict-entry-outside-array,
//     dict-key-not-basic, dict-entry-field-count, array-nesting-too-deep,
//     struct-nesting-too-deep, nesting-too-deep, signature-too-long
// Messages of an unknown type (above 4) parse, with no required fields: the spec says to
// ignore them, and the caller does. Unknown header fields are validated and skipped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "jsn/base/status.h"
#include "jsn/wire/message.h"

namespace jsn {

// How many bytes the message that starts with `bytes` takes, header and body. Needs at least
// kFixedHeaderLength bytes; checks the byte order, the protocol version and the length limits
// so that a framer can trust the answer (or discard a stream of `length` bytes it will not
// buffer). Fails with rule "short-read" when fewer than 16 bytes are given.
Status MessageLength(std::span<const uint8_t> bytes, size_t* length);

class Iterator;
class Value;
bool FindInStringVariantDict(const Value& dict, std::string_view key, Value* variant_content);

// One value of the body. Its type is its complete single type (signature()); the accessor
// matching type() returns its contents; containers are walked with children().
class Value {
 public:
  Value() = default;
  char type() const { return signature_.empty() ? '\0' : signature_[0]; }
  std::string_view signature() const { return signature_; }

  uint8_t as_byte() const;             // y
  bool as_bool() const;                // b
  int16_t as_int16() const;            // n
  uint16_t as_uint16() const;          // q
  int32_t as_int32() const;            // i
  uint32_t as_uint32() const;          // u
  int64_t as_int64() const;            // x
  uint64_t as_uint64() const;          // t
  double as_double() const;            // d
  uint32_t as_unix_fd() const;         // h: the index into the message's file descriptors
  std::string_view as_string() const;  // s, o, g (without the terminating NUL)

  // The elements of an array (dict entries for a{..}), the fields of a struct or dict entry,
  // or the single value inside a variant.
  Iterator children() const;

 private:
  friend class Iterator;
  friend class Message;
  friend bool FindInStringVariantDict(const Value&, std::string_view, Value*);
  const uint8_t* base_ = nullptr;  // start of the message: alignment is relative to it
  size_t offset_ = 0;              // where this value's bytes start
  size_t end_ = 0;                 // one past its last byte
  std::string_view signature_;
  ByteOrder byte_order_ = ByteOrder::kLittle;
};

// Walks a sequence of values (the body, or a container's children) in order.
class Iterator {
 public:
  Iterator() = default;
  // Fills `value` with the next value and returns true; false at the end.
  bool Next(Value* value);
  bool at_end() const;

 private:
  friend class Value;
  friend class Message;
  const uint8_t* base_ = nullptr;
  size_t offset_ = 0;
  size_t end_ = 0;
  std::string_view signature_;  // the types still to walk (for an array: the element type)
  size_t signature_pos_ = 0;
  bool is_array_ = false;
  ByteOrder byte_order_ = ByteOrder::kLittle;
};

// In an a{sv} (`dict` must be such an array), finds the entry whose key is `key` and sets
// `variant_content` to the value inside its variant. Returns false when the key is absent.
bool FindInStringVariantDict(const Value& dict, std::string_view key, Value* variant_content);

}  // namespace jsn
