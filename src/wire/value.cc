// The reader's accessors: after Message::Parse has validated the message, values are found
// by skipping over their neighbours without any check (arrays in O(1) thanks to their length).
#include <cstring>

#include "jsn/wire/byte_order.h"
#include "jsn/wire/reader.h"
#include "jsn/wire/signature.h"

namespace jsn {
namespace {

// After validation: where the value of the complete type at signature[*position], starting at
// the aligned `offset`, ends. Advances *position past the type.
size_t SkipValue(const uint8_t* base, ByteOrder order, std::string_view signature, size_t* position,
                 size_t offset) {
  const char code = signature[*position];
  ++*position;
  switch (code) {
    case 'y':
      return offset + 1;
    case 'n':
    case 'q':
      return offset + 2;
    case 'b':
    case 'i':
    case 'u':
    case 'h':
      return offset + 4;
    case 'x':
    case 't':
    case 'd':
      return offset + 8;
    case 's':
    case 'o':
      return offset + 4 + LoadUint32(base + offset, order) + 1;
    case 'g':
      return offset + 1 + base[offset] + 1;
    case 'v': {
      const size_t length = base[offset];
      const std::string_view contents(reinterpret_cast<const char*>(base + offset + 1), length);
      size_t inner = 0;
      return SkipValue(base, order, contents, &inner,
                       AlignUp(offset + length + 2, AlignmentOf(contents[0])));
    }
    case 'a': {
      const size_t element = *position;
      *position += CompleteTypeLength(signature, element);
      return AlignUp(offset + 4, AlignmentOf(signature[element])) +
             LoadUint32(base + offset, order);
    }
    default: {  // '(' or '{'
      while (signature[*position] != ')' && signature[*position] != '}') {
        offset = SkipValue(base, order, signature, position,
                           AlignUp(offset, AlignmentOf(signature[*position])));
      }
      ++*position;
      return offset;
    }
  }
}

}  // namespace

Iterator Message::body() const {
  Iterator iterator;
  iterator.base_ = bytes_.data();
  iterator.offset_ = body_offset_;
  iterator.end_ = bytes_.size();
  iterator.signature_ = header_.signature;
  iterator.byte_order_ = header_.byte_order;
  return iterator;
}

bool Iterator::at_end() const {
  return is_array_ ? offset_ >= end_ : signature_pos_ >= signature_.size();
}

bool Iterator::Next(Value* value) {
  if (at_end()) return false;
  const size_t start = AlignUp(offset_, AlignmentOf(signature_[signature_pos_]));
  size_t position = signature_pos_;
  const size_t end = SkipValue(base_, byte_order_, signature_, &position, start);
  value->base_ = base_;
  value->offset_ = start;
  value->end_ = end;
  value->byte_order_ = byte_order_;
  value->signature_ = signature_.substr(signature_pos_, position - signature_pos_);
  offset_ = end;
  // An array iterator walks the same element type again; a sequence moves on.
  if (!is_array_) signature_pos_ = position;
  return true;
}

Iterator Value::children() const {
  Iterator iterator;
  iterator.base_ = base_;
  iterator.byte_order_ = byte_order_;
  switch (type()) {
    case 'a': {
      const std::string_view element = signature_.substr(1);
      const size_t start = AlignUp(offset_ + 4, AlignmentOf(element[0]));
      iterator.offset_ = start;
      iterator.end_ = start + LoadUint32(base_ + offset_, byte_order_);
      iterator.signature_ = element;
      iterator.is_array_ = true;
      break;
    }
    case '(':
    case '{':
      iterator.offset_ = offset_;
      iterator.end_ = end_;
      iterator.signature_ = signature_.substr(1, signature_.size() - 2);
      break;
    case 'v': {
      const size_t length = base_[offset_];
      iterator.signature_ =
          std::string_view(reinterpret_cast<const char*>(base_ + offset_ + 1), length);
      iterator.offset_ = offset_ + length + 2;
      iterator.end_ = end_;
      break;
    }
    default:
      break;  // a basic value has no children: the iterator starts at its end
  }
  return iterator;
}

uint8_t Value::as_byte() const { return base_[offset_]; }
bool Value::as_bool() const { return LoadUint32(base_ + offset_, byte_order_) != 0; }
int16_t Value::as_int16() const {
  return static_cast<int16_t>(LoadUint16(base_ + offset_, byte_order_));
}
uint16_t Value::as_uint16() const { return LoadUint16(base_ + offset_, byte_order_); }
int32_t Value::as_int32() const {
  return static_cast<int32_t>(LoadUint32(base_ + offset_, byte_order_));
}
uint32_t Value::as_uint32() const { return LoadUint32(base_ + offset_, byte_order_); }
int64_t Value::as_int64() const {
  return static_cast<int64_t>(LoadUint64(base_ + offset_, byte_order_));
}
uint64_t Value::as_uint64() const { return LoadUint64(base_ + offset_, byte_order_); }
double Value::as_double() const {
  const uint64_t bits = LoadUint64(base_ + offset_, byte_order_);
  double value;
  memcpy(&value, &bits, sizeof value);
  return value;
}
uint32_t Value::as_unix_fd() const { return LoadUint32(base_ + offset_, byte_order_); }

std::string_view Value::as_string() const {
  const auto* text = reinterpret_cast<const char*>(base_ + offset_);
  if (type() == 'g') return std::string_view(text + 1, base_[offset_]);
  return std::string_view(text + 4, LoadUint32(base_ + offset_, byte_order_));
}

namespace {

// After validation: where the value inside the variant at `variant` starts and ends. A
// property's variant nearly always holds one basic value or an array: those are measured here
// from their length or size alone; only structs and nested variants take the general walk.
size_t SkipVariant(const uint8_t* base, ByteOrder order, size_t variant, size_t* start) {
  const size_t type_length = base[variant];
  const std::string_view type(reinterpret_cast<const char*>(base + variant + 1), type_length);
  const size_t after_type = variant + type_length + 2;
  // Each case knows its own alignment: AlignmentOf's switch per property cost as much again.
  switch (type[0]) {
    case 's':
    case 'o':
      *start = AlignUp(after_type, 4);
      return *start + 4 + LoadUint32(base + *start, order) + 1;
    case 'b':
    case 'i':
    case 'u':
    case 'h':
      *start = AlignUp(after_type, 4);
      return *start + 4;
    case 'x':
    case 't':
    case 'd':
      *start = AlignUp(after_type, 8);
      return *start + 8;
    case 'a':
      *start = AlignUp(after_type, 4);
      return AlignUp(*start + 4, AlignmentOf(type[1])) + LoadUint32(base + *start, order);
    default: {
      *start = AlignUp(after_type, AlignmentOf(type[0]));
      size_t position = 0;
      return SkipValue(base, order, type, &position, *start);
    }
  }
}

}  // namespace

bool FindInStringVariantDict(const Value& dict, std::string_view key, Value* variant_content) {
  if (dict.signature() != "a{sv}") return false;
  const uint8_t* base = dict.base_;
  const ByteOrder order = dict.byte_order_;
  size_t offset = AlignUp(dict.offset_ + 4, 8);
  const size_t end = offset + LoadUint32(base + dict.offset_, order);
  while (offset < end) {
    offset = AlignUp(offset, 8);
    const size_t key_length = LoadUint32(base + offset, order);
    const auto* key_text = reinterpret_cast<const char*>(base + offset + 4);
    const size_t variant = offset + 4 + key_length + 1;
    size_t start;
    const size_t value_end = SkipVariant(base, order, variant, &start);
    if (key_length == key.size() && memcmp(key_text, key.data(), key_length) == 0) {
      variant_content->base_ = base;
      variant_content->offset_ = start;
      variant_content->end_ = value_end;
      variant_content->signature_ =
          std::string_view(reinterpret_cast<const char*>(base + variant + 1), base[variant]);
      variant_content->byte_order_ = order;
      return true;
    }
    offset = value_end;
  }
  return false;
}

}  // namespace jsn
