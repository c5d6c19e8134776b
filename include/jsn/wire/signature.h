// Signature: validation and walking of D-Bus type signatures ("Type System", "Valid
// Signatures"). Signatures are views into memory the caller owns (usually the message buffer);
// nothing is copied. Validation reports the byte offset of the offending type code, given the
// offset at which the signature starts in its message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "jsn/base/status.h"
#include "jsn/wire/message.h"

namespace jsn {

// How deep the enclosing containers already are when a signature is met (a variant's contents
// sit inside whatever holds the variant, and the variant itself counts toward the total).
// Byte-sized counts suffice (the limits are 32 and 64) and keep the struct in one register.
struct NestingDepth {
  uint8_t arrays = 0;
  uint8_t structs = 0;  // dict entries count as structs, as in libdbus and sd-bus
  uint8_t total = 0;    // arrays, structs, dict entries and variants
};

// "Type System": the basic types, which alone may be dict keys.
constexpr bool IsBasicType(char code) {
  switch (code) {
    case 'y':
    case 'b':
    case 'n':
    case 'q':
    case 'i':
    case 'u':
    case 'x':
    case 't':
    case 'd':
    case 'h':
    case 's':
    case 'o':
    case 'g':
      return true;
    default:
      return false;
  }
}

// "Marshaling (Wire Format)": the alignment of a value of type `code` (the first code of a
// complete type). Meaningful only for codes of a valid signature.
constexpr size_t AlignmentOf(char code) {
  switch (code) {
    case 'y':
    case 'g':
    case 'v':
      return 1;
    case 'n':
    case 'q':
      return 2;
    case 'b':
    case 'i':
    case 'u':
    case 'h':
    case 's':
    case 'o':
    case 'a':
      return 4;
    default:  // x t d ( {
      return 8;
  }
}

// Checks that `signature` is a sequence of zero or more complete types: known codes, balanced
// parentheses and braces, arrays with an element type, non-empty structs, dict entries only as
// array elements with a basic key and exactly one value, at most 255 bytes, and the nesting
// limits counted from `outer`. `offset` is where signature[0] sits in the message.
// Rules: signature-too-long, bad-signature, empty-struct, dict-entry-outside-array,
// dict-key-not-basic, dict-entry-field-count, array-nesting-too-deep, struct-nesting-too-deep,
// nesting-too-deep.
Status ValidateSignature(std::string_view signature, size_t offset, NestingDepth outer = {});

// As ValidateSignature, and also requires exactly one complete type (a variant's contents, a
// header field's type). Extra rule: variant-not-single-type.
Status ValidateSingleCompleteType(std::string_view signature, size_t offset,
                                  NestingDepth outer = {});

// Both checks above for hot paths: returns whether `signature` is valid and only on failure
// fills *error (a Status carries a message buffer; building one per call would dominate).
bool CheckSignature(std::string_view signature, size_t offset, NestingDepth outer,
                    bool single_complete_type, Status* error);

// The length of the complete type starting at signature[position]; `signature` must be valid.
size_t CompleteTypeLength(std::string_view signature, size_t position);

}  // namespace jsn
