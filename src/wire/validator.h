// Validator: the reader's single walk over a message's bytes and signatures together, checking
// alignment, zero padding, bounds, strings, names, booleans, unix fd indexes and variant
// nesting as it goes. Private to src/ (reader.cc drives it over the header fields and the
// body). It only reads the caller's buffer; the first failure goes to the caller's Status.
#pragma once

#include <bit>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <string_view>

#include "jsn/base/status.h"
#include "jsn/wire/byte_order.h"
#include "jsn/wire/message.h"
#include "jsn/wire/names.h"
#include "jsn/wire/signature.h"

namespace jsn::internal {

// Past the complete type that starts at `code` in a validated, NUL-terminated signature.
inline const char* SkipCompleteType(const char* code) {
  while (*code == 'a') ++code;
  if (*code != '(' && *code != '{') return code + 1;
  int open = 0;
  for (;; ++code) {
    if (*code == '(' || *code == '{') {
      ++open;
    } else if ((*code == ')' || *code == '}') && --open == 0) {
      return code + 1;
    }
  }
}

// What the walk asks of every type code it meets, by one table load: is it a container (v a
// ( {), or a plain fixed-size number (y n q i u x t d), checked by alignment and bounds alone?
// For those the table holds the size, which is also the alignment.
constexpr uint8_t kContainerCode = 0x10;
constexpr uint8_t kPlainSizeMask = 0x0f;
constexpr auto kCodeTraits = [] {
  struct Table {
    uint8_t traits[256] = {};
  } table;
  auto set = [&table](char code, uint8_t traits) {
    table.traits[static_cast<unsigned char>(code)] = traits;
  };
  for (char c : {'v', 'a', '(', '{'}) set(c, kContainerCode);
  set('y', 1);
  for (char c : {'n', 'q'}) set(c, 2);
  for (char c : {'i', 'u'}) set(c, 4);
  for (char c : {'x', 't', 'd'}) set(c, 8);
  return table;
}();

inline bool IsContainerCode(char code) {
  return (kCodeTraits.traits[static_cast<unsigned char>(code)] & kContainerCode) != 0;
}

// The size of a value of a plain fixed-size type, or 0 for any other code.
inline size_t PlainSize(char code) {
  return kCodeTraits.traits[static_cast<unsigned char>(code)] & kPlainSizeMask;
}

// Most variants (and every well-formed header field) hold one basic type or a variant, which
// needs no signature walk; checking that here also spares building a NestingDepth argument.
inline bool IsOneCodeType(std::string_view type) {
  return type.size() == 1 && (IsBasicType(type[0]) || type[0] == 'v');
}

// `a` and one basic type: `as`, `ay`, `au`...
inline bool IsArrayOfBasicType(std::string_view type) {
  return type.size() == 2 && type[0] == 'a' && IsBasicType(type[1]);
}

// Validation: one walk over the signature and the bytes together. The cursor offset_ moves
// through the message; every read is bounded by `end`, the end of the innermost region (header
// field array, array, body) being read. Signatures are walked as NUL-terminated code pointers:
// every signature in a message is followed by its NUL (checked before it is walked).
class Validator {
 public:
  // Failures are written to *error; every check returns false once one is found.
  Validator(std::span<const uint8_t> bytes, ByteOrder order, Status* error)
      : base_(bytes.data()), size_(bytes.size()), order_(order), error_(error) {}

  // Records a failure and returns false, so a check can `return Fail(...)`. Only failures
  // build a Status; kept out of line so the hot path's frames stay small.
  [[gnu::cold, gnu::noinline]] bool Fail(const char* rule, size_t offset, const char* format,
                                         ...) const __attribute__((format(printf, 4, 5))) {
    char message[Status::kMessageCapacity];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    *error_ = Status::Error(rule, offset, "%s", message);
    return false;
  }
  bool Fail(const Status& status) const {
    *error_ = status;
    return false;
  }

  size_t offset() const { return offset_; }
  void set_offset(size_t offset) { offset_ = offset; }
  void set_depth(NestingDepth depth) {
    array_depth_ = depth.arrays;
    struct_depth_ = depth.structs;
    variant_depth_ = static_cast<uint32_t>(depth.total - depth.arrays - depth.structs);
  }
  uint32_t total_depth() const { return array_depth_ + struct_depth_ + variant_depth_; }
  NestingDepth depth() const {
    return NestingDepth{static_cast<uint8_t>(array_depth_), static_cast<uint8_t>(struct_depth_),
                        static_cast<uint8_t>(total_depth())};
  }
  void set_unix_fds(uint32_t unix_fds) { unix_fds_ = unix_fds; }
  Status* error() const { return error_; }

  // Moves the cursor up to `alignment`, requiring the skipped bytes to exist and be zero.
  bool Align(size_t alignment, size_t end) {
    const size_t aligned = AlignUp(offset_, alignment);
    if (aligned == offset_) return true;
    if (aligned > end) {
      return Fail("truncated", offset_,
                  "expected %zu bytes of padding to %zu-byte alignment, found %zu",
                  aligned - offset_, alignment, end - offset_);
    }
    // At most 7 padding bytes: test them with one 8-byte load when the buffer has 8 bytes
    // from here, masking off the bytes after the padding.
    const size_t padding = aligned - offset_;
    if constexpr (std::endian::native == std::endian::little) {
      if (size_ - offset_ >= 8) {
        uint64_t word;
        memcpy(&word, base_ + offset_, sizeof word);
        if ((word & ((uint64_t{1} << (8 * padding)) - 1)) == 0) {
          offset_ = aligned;
          return true;
        }
      }
    }
    for (size_t i = offset_; i < aligned; ++i) {
      if (base_[i] != 0) {
        return Fail("padding-not-zero", i, "expected a zero padding byte, found 0x%02x", base_[i]);
      }
    }
    offset_ = aligned;
    return true;
  }

  bool Need(size_t count, size_t end, const char* what) const {
    if (count > end - offset_) {
      return Fail("truncated", offset_, "expected %zu bytes for %s, found %zu", count, what,
                  end - offset_);
    }
    return true;
  }

  bool ReadUint32(size_t end, const char* what, uint32_t* value) {
    if (!Align(4, end) || !Need(4, end, what)) return false;
    *value = LoadUint32(base_ + offset_, order_);
    offset_ += 4;
    return true;
  }

  // A plain fixed-size number (y n q i u x t d) of `size` bytes, aligned to its size.
  bool SkipPlain(size_t size, size_t end) {
    if (!Align(size, end)) return false;
    if (size > end - offset_) return Need(size, end, PlainTypeName(size));
    offset_ += size;
    return true;
  }

  static const char* PlainTypeName(size_t size) {
    switch (size) {
      case 1:
        return "a byte";
      case 2:
        return "a 16-bit integer";
      case 4:
        return "a 32-bit integer";
      default:
        return "a 64-bit value";
    }
  }

  // A string's bytes after its length: UTF-8 and no NUL inside (the NUL after is checked).
  bool CheckStringBytes(size_t start, size_t length) const {
    if (IsPlainAscii(start, length)) return true;
    const auto* text = reinterpret_cast<const char*>(base_ + start);
    const size_t bad = FindNulOrInvalidUtf8(std::string_view(text, length));
    if (bad == length) return true;
    if (text[bad] == '\0') {
      return Fail("string-contains-nul", start + bad,
                  "expected no NUL inside a string of %zu bytes, found one", length);
    }
    return Fail("string-not-utf8", start + bad,
                "expected UTF-8, found byte 0x%02x starting a bad sequence", base_[start + bad]);
  }

  // Whether every byte of the `length` bytes at `start` is in 0x01..0x7f, eight at a time:
  // almost every string D-Bus carries is, and then it is UTF-8 without NUL with no further
  // look. False only sends the string to the full scan, which finds what is wrong (if
  // anything: a string with a non-ASCII letter is fine).
  bool IsPlainAscii(size_t start, size_t length) const {
    const uint8_t* text = base_ + start;
    if (length < 8) {
      // Short strings (keys, states) in one load when the buffer has 8 bytes from here: the
      // bytes past the string are replaced by spaces before the test.
      if (size_ - start < 8) return false;
      const uint64_t keep = FirstBytes(length);
      const uint64_t word = LoadWord(text);
      return IsAsciiWord((word & keep) | (kSpaces & ~keep));
    }
    // The first and the last word (overlapping when shorter than 16 bytes), then, for longer
    // strings, the whole words between: no byte is looked at alone.
    uint64_t bad = NonAsciiBits(LoadWord(text)) | NonAsciiBits(LoadWord(text + length - 8));
    for (size_t i = 8; i + 8 < length; i += 8) bad |= NonAsciiBits(LoadWord(text + i));
    return bad == 0;
  }

  static uint64_t LoadWord(const uint8_t* at) {
    uint64_t word;
    memcpy(&word, at, sizeof word);
    return word;
  }
  // A mask of the first `count` (0 to 7) bytes in memory of a word loaded with LoadWord.
  static uint64_t FirstBytes(size_t count) {
    return std::endian::native == std::endian::little ? (uint64_t{1} << (8 * count)) - 1
                                                      : ~(~uint64_t{0} >> (8 * count));
  }
  static constexpr uint64_t kSpaces = 0x2020202020202020ull;
  // The top bit of any byte of `word` that is 0 or above 0x7f is set (others may be too, then
  // only after one such byte: a zero borrows); for bytes 0x01..0x7f alone, none is.
  static uint64_t NonAsciiBits(uint64_t word) {
    return (word | (word - 0x0101010101010101ull)) & 0x8080808080808080ull;
  }
  static bool IsAsciiWord(uint64_t word) { return NonAsciiBits(word) == 0; }

  // s and o: a 32-bit length, the bytes, a NUL. Leaves the cursor on the bytes.
  bool ReadStringFrame(size_t end, std::string_view* out) {
    uint32_t length;
    if (!ReadUint32(end, "a string length", &length)) return false;
    if (!Need(size_t{length} + 1, end, "a string and its NUL")) return false;
    if (base_[offset_ + length] != 0) {
      return Fail("string-missing-nul", offset_ + length,
                  "expected a NUL after the string, found 0x%02x", base_[offset_ + length]);
    }
    *out = std::string_view(reinterpret_cast<const char*>(base_ + offset_), length);
    return true;
  }

  // s: checks the string at the cursor and moves past it. One out-of-line copy for the
  // places that meet a string now and then.
  [[gnu::noinline]] bool SkipString(size_t end) { return SkipStringInPlace(end); }

  // SkipString, inlined into the loops over `as` elements and a{sv} keys, where most strings
  // are: there the cursor stays in a register from one string to the next instead of going
  // through memory at every call, which was on the critical path. The common string (zero
  // padding if any; length, bytes and NUL inside `end`; plain ASCII) is checked without a
  // call; anything else, valid or not, goes to SkipStringSlowly, which checks it again step
  // by step and names what is wrong, so every rejection keeps its rule and offset.
  __attribute__((always_inline)) bool SkipStringInPlace(size_t end) {
    const size_t at = AlignUp(offset_, 4);
    if (at > end || end - at < 4 || size_ - offset_ < 8) return SkipStringSlowly(end);
    if ((LoadWord(base_ + offset_) & FirstBytes(at - offset_)) != 0) return SkipStringSlowly(end);
    const size_t length = LoadUint32(base_ + at, order_);
    const size_t text = at + 4;
    if (length >= end - text || base_[text + length] != 0 || !IsPlainAscii(text, length)) {
      return SkipStringSlowly(end);
    }
    offset_ = text + length + 1;
    return true;
  }

  [[gnu::noinline]] bool SkipStringSlowly(size_t end) {
    std::string_view text;
    if (!ReadStringFrame(end, &text) || !CheckStringBytes(offset_, text.size())) return false;
    offset_ += text.size() + 1;
    return true;
  }

  // A string that must also be a name (object path, interface, member, error or bus name).
  // Every valid name is ASCII without NUL, so a name that passes needs no UTF-8 scan; one
  // that fails is scanned, so a bad UTF-8 byte or a NUL is still the rule reported.
  bool ReadName(size_t end, bool (*is_valid)(std::string_view), const char* rule, const char* what,
                std::string_view* out) {
    if (!ReadStringFrame(end, out)) return false;
    if (!is_valid(*out)) {
      if (!CheckStringBytes(offset_, out->size())) return false;
      return Fail(rule, offset_, "expected %s, found \"%.*s\"", what, Clip(*out), out->data());
    }
    offset_ += out->size() + 1;
    return true;
  }

  bool ReadObjectPath(size_t end, std::string_view* out) {
    return ReadName(end, IsValidObjectPath, "bad-object-path", "an object path", out);
  }

  // g (and a variant's type): an 8-bit length, the codes, a NUL. Not yet validated as types.
  bool ReadSignatureBytes(size_t end, std::string_view* out) {
    if (!Need(1, end, "a signature length")) return false;
    const size_t length = base_[offset_];
    ++offset_;
    if (!Need(length + 1, end, "a signature and its NUL")) return false;
    if (base_[offset_ + length] != 0) {
      return Fail("string-missing-nul", offset_ + length,
                  "expected a NUL after the signature, found 0x%02x", base_[offset_ + length]);
    }
    *out = std::string_view(reinterpret_cast<const char*>(base_ + offset_), length);
    offset_ += length + 1;
    return true;
  }

  bool ReadSignature(size_t end, std::string_view* out) {
    if (!ReadSignatureBytes(end, out)) return false;
    return CheckSignature(*out, offset_ - out->size() - 1, NestingDepth{},
                          /*single_complete_type=*/false, error_);
  }

  // One value of the complete type at *code; moves *code past the type and the cursor past
  // the value. The *_depth_ members count the containers around the value; the signatures
  // were checked against the array and struct limits already, so only variants (whose depth no
  // signature knows) need the counts. They are members, not arguments, because passing a small
  // struct down the recursion made compilers store and reload it piecewise, which stalled.
  bool Value(const char** code, size_t end) {
    const char type = **code;
    ++*code;
    switch (type) {
      case 'v':
        return Variant(end);
      case 'a':
        return Array(code, end);
      case '(':
      case '{':
        return Struct(code, end);
      default:
        return BasicValue(type, end);
    }
  }

  // As Value, with basic values handled in place: only containers cost a (recursive) call.
  __attribute__((always_inline)) bool NextValue(const char** code, size_t end) {
    const char type = **code;
    if (IsContainerCode(type)) return Value(code, end);
    ++*code;
    return BasicValue(type, end);
  }

  bool Boolean(size_t end) {
    uint32_t value;
    if (!ReadUint32(end, "a boolean", &value)) return false;
    if (value > 1) {
      return Fail("bad-boolean", offset_ - 4, "expected a boolean 0 or 1, found %u", value);
    }
    return true;
  }

  // A value of a basic type: every code but v, a, ( and {.
  __attribute__((always_inline)) bool BasicValue(char type, size_t end) {
    if (const size_t size = PlainSize(type)) return SkipPlain(size, end);
    switch (type) {
      case 'b':
        return Boolean(end);
      case 'h': {
        uint32_t index;
        if (!ReadUint32(end, "a unix fd index", &index)) return false;
        if (index >= unix_fds_) {
          return Fail("unix-fd-out-of-range", offset_ - 4,
                      "expected a unix fd index below %u (the UNIX_FDS header), found %u",
                      unix_fds_, index);
        }
        return true;
      }
      case 's':
        return SkipString(end);
      case 'o': {
        std::string_view ignored;
        return ReadObjectPath(end, &ignored);
      }
      default: {  // 'g': the signature was validated, so nothing else is left
        std::string_view ignored;
        return ReadSignature(end, &ignored);
      }
    }
  }

  bool Variant(size_t end) {
    ++variant_depth_;
    if (total_depth() > kMaxTotalNesting) {
      return Fail("nesting-too-deep", offset_,
                  "expected at most %zu nested containers, found a variant at depth %u",
                  kMaxTotalNesting, total_depth());
    }
    if (!VariantContents(end)) return false;
    --variant_depth_;
    return true;
  }

  // An a{sv} entry's variant, its depth counted: values of type s and of the plain numbers
  // (most of systemd's properties) are checked in the loop itself, and `as` goes straight to
  // StringArray (once the nesting allows an array); others, and anything unusual, go to
  // VariantContents.
  __attribute__((always_inline)) bool PropertyValue(size_t end) {
    if (end - offset_ >= 3 && base_[offset_] == 1 && base_[offset_ + 2] == 0) {
      const char code = static_cast<char>(base_[offset_ + 1]);
      if (code == 's') {
        offset_ += 3;
        return SkipStringInPlace(end);
      }
      if (const size_t size = PlainSize(code)) {
        offset_ += 3;
        return SkipPlain(size, end);
      }
    } else if (end - offset_ >= 4 && base_[offset_] == 2 && base_[offset_ + 1] == 'a' &&
               base_[offset_ + 2] == 's' && base_[offset_ + 3] == 0 &&
               array_depth_ < kMaxArrayNesting && total_depth() < kMaxTotalNesting) {
      offset_ += 4;
      return StringArray(end);
    }
    return VariantContents(end);
  }

  // A variant's signature and value; the caller has counted the variant in variant_depth_
  // and checked the limit.
  bool VariantContents(size_t end) {
    const size_t start = offset_;
    char basic;
    if (end - offset_ >= 3 && base_[offset_] == 1 && base_[offset_ + 2] == 0 &&
        IsBasicType(static_cast<char>(base_[offset_ + 1]))) {
      // One basic type, the most common variant: its signature is valid as it stands, read
      // here in place of ReadSignatureBytes, which would accept the same 3 bytes.
      basic = static_cast<char>(base_[offset_ + 1]);
      offset_ += 3;
    } else {
      std::string_view contents;
      if (!ReadSignatureBytes(end, &contents)) return false;
      const char* code = contents.data();
      if (IsArrayOfBasicType(contents) && array_depth_ < kMaxArrayNesting &&
          total_depth() < kMaxTotalNesting) {
        // Arrays of one basic type (systemd's many `as` properties) are valid once the
        // nesting allows one more array: straight to the array, no signature walk.
        ++code;
        return Array(&code, end);
      }
      if (!IsOneCodeType(contents) && !CheckSignature(contents, start + 1, depth(),
                                                      /*single_complete_type=*/true, error_)) {
        return false;
      }
      if (IsContainerCode(*code)) return Value(&code, end);
      basic = *code;
    }
    return BasicValue(basic, end);
  }

  // An array's length, the padding to its first element (there even when it is empty) and
  // its bounds: sets *array_end and leaves the cursor on the first element.
  bool ArrayBounds(size_t element_alignment, size_t end, size_t* array_end) {
    if (!Align(4, end) || !Need(4, end, "an array length")) return false;
    const uint32_t length = LoadUint32(base_ + offset_, order_);
    if (length > kMaxArrayLength) {
      return Fail("array-too-long", offset_, "expected an array of at most %zu bytes, found %u",
                  kMaxArrayLength, length);
    }
    offset_ += 4;
    if (!Align(element_alignment, end)) return false;
    if (!Need(length, end, "the array's contents")) return false;
    *array_end = offset_ + length;
    return true;
  }

  // as: common enough in systemd's properties (35 of ~100) for its own function and loop.
  [[gnu::noinline]] bool StringArray(size_t end) {
    size_t array_end = 0;
    if (!ArrayBounds(4, end, &array_end)) return false;
    while (offset_ < array_end) {
      if (!SkipStringInPlace(array_end)) return false;
    }
    return true;
  }

  bool Array(const char** code, size_t end) {
    const char* element = *code;
    *code = SkipCompleteType(element);
    if (*element == 's') return StringArray(end);
    size_t array_end = 0;
    if (!ArrayBounds(AlignmentOf(*element), end, &array_end)) return false;
    // Arrays of fixed-size numbers need no per-element checks, only whole elements.
    if (const size_t fixed_size = PlainSize(*element)) {
      const size_t partial = (array_end - offset_) % fixed_size;
      if (partial != 0) {
        return Fail("truncated", array_end - partial,
                    "expected %zu bytes for an array element, found %zu", fixed_size, partial);
      }
      offset_ = array_end;
      return true;
    }
    if (*element == 'b') {  // ab: each element 0 or 1, checked without the dispatch per element
      while (offset_ < array_end) {
        if (!Boolean(array_end)) return false;
      }
      return true;
    }
    if (element[0] == '{' && element[1] == 's' && element[2] == 'v') {
      // a{sv}, every property dictionary: the entries' shape is known, so no per-entry walk
      // of the signature. The same checks as the general path, in the same order.
      ++array_depth_;
      ++struct_depth_;
      if (total_depth() >= kMaxTotalNesting && offset_ < array_end) {
        // The first entry's variant is one container too many: Variant reports it.
        return Align(8, array_end) && SkipString(array_end) && Variant(array_end);
      }
      // Every entry's variant sits at the same depth, within the limit: counted once here.
      ++variant_depth_;
      while (offset_ < array_end) {
        if (!Align(8, array_end) || !SkipStringInPlace(array_end) || !PropertyValue(array_end)) {
          return false;
        }
      }
      --variant_depth_;
      --array_depth_;
      --struct_depth_;
      return true;
    }
    ++array_depth_;
    while (offset_ < array_end) {
      const char* element_code = element;
      if (!NextValue(&element_code, array_end)) return false;
    }
    --array_depth_;
    return true;
  }

  // Structs and dict entries: *code is just past the opening '(' or '{'.
  bool Struct(const char** code, size_t end) {
    if (!Align(8, end)) return false;
    ++struct_depth_;
    while (**code != ')' && **code != '}') {
      if (!NextValue(code, end)) return false;
    }
    ++*code;
    --struct_depth_;
    return true;
  }

  static int Clip(std::string_view text) {
    return static_cast<int>(text.size() > 64 ? 64 : text.size());
  }

 private:
  const uint8_t* base_;
  size_t size_;
  ByteOrder order_;
  Status* error_;
  size_t offset_ = 0;
  // The containers around the cursor, each kind counted apart (the total is their sum) so
  // each container touches one full-width member. A NestingDepth here, or counting the total
  // alongside, led compilers to update neighbouring fields with one wide store or vector op
  // and then reload them piecewise, which stalled store forwarding in the recursion.
  uint32_t array_depth_ = 0;
  uint32_t struct_depth_ = 0;
  uint32_t variant_depth_ = 0;
  uint32_t unix_fds_ = 0;
};

}  // namespace jsn::internal
