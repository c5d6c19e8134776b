#include "jsn/signature.h"

namespace jsn {
namespace {

// Recursive descent over one complete type; recursion is bounded by the nesting limits, which
// are checked before descending.
class SignatureChecker {
 public:
  SignatureChecker(std::string_view signature, size_t offset)
      : signature_(signature), offset_(offset) {}

  Status CompleteType(size_t* position, NestingDepth depth) {
    if (*position >= signature_.size()) {
      return Status::Error("bad-signature", offset_ + *position,
                           "expected a type code, found the end of the signature");
    }
    const char code = signature_[*position];
    if (IsBasicType(code) || code == 'v') {
      ++*position;
      return Status();
    }
    switch (code) {
      case 'a':
        return Array(position, depth);
      case '(':
        return Struct(position, depth);
      case '{':
        return Status::Error("dict-entry-outside-array", offset_ + *position,
                             "expected a dict entry only as an array element, found '{' alone");
      default:
        return Status::Error("bad-signature", offset_ + *position,
                             "expected a type code, found '%c' (0x%02x)", Printable(code),
                             static_cast<unsigned char>(code));
    }
  }

 private:
  static char Printable(char c) { return (c >= 0x20 && c < 0x7f) ? c : '?'; }

  Status Enter(size_t at, NestingDepth* depth, bool is_array) {
    if (is_array) {
      if (++depth->arrays > kMaxArrayNesting) {
        return Status::Error("array-nesting-too-deep", offset_ + at,
                             "expected at most %zu nested arrays, found %zu", kMaxArrayNesting,
                             depth->arrays);
      }
    } else if (++depth->structs > kMaxStructNesting) {
      return Status::Error("struct-nesting-too-deep", offset_ + at,
                           "expected at most %zu nested structs, found %zu", kMaxStructNesting,
                           depth->structs);
    }
    if (++depth->total > kMaxTotalNesting) {
      return Status::Error("nesting-too-deep", offset_ + at,
                           "expected at most %zu nested containers, found %zu",
                           kMaxTotalNesting, depth->total);
    }
    return Status();
  }

  Status Array(size_t* position, NestingDepth depth) {
    JSN_RETURN_IF_ERROR(Enter(*position, &depth, /*is_array=*/true));
    ++*position;
    if (*position < signature_.size() && signature_[*position] == '{') {
      return DictEntry(position, depth);
    }
    return CompleteType(position, depth);
  }

  Status DictEntry(size_t* position, NestingDepth depth) {
    JSN_RETURN_IF_ERROR(Enter(*position, &depth, /*is_array=*/false));
    ++*position;
    if (*position >= signature_.size() || !IsBasicType(signature_[*position])) {
      return Status::Error("dict-key-not-basic", offset_ + *position,
                           "expected a basic type as dict key, found %s",
                           *position >= signature_.size() ? "the end of the signature"
                                                          : "a container or '}'");
    }
    ++*position;
    if (*position < signature_.size() && signature_[*position] == '}') {
      return Status::Error("dict-entry-field-count", offset_ + *position,
                           "expected a key and a value in a dict entry, found only a key");
    }
    JSN_RETURN_IF_ERROR(CompleteType(position, depth));
    if (*position >= signature_.size()) {
      return Status::Error("bad-signature", offset_ + *position,
                           "expected '}', found the end of the signature");
    }
    if (signature_[*position] != '}') {
      return Status::Error("dict-entry-field-count", offset_ + *position,
                           "expected '}' after a key and a value, found '%c'",
                           Printable(signature_[*position]));
    }
    ++*position;
    return Status();
  }

  Status Struct(size_t* position, NestingDepth depth) {
    JSN_RETURN_IF_ERROR(Enter(*position, &depth, /*is_array=*/false));
    ++*position;
    if (*position < signature_.size() && signature_[*position] == ')') {
      return Status::Error("empty-struct", offset_ + *position - 1,
                           "expected at least one field in a struct, found '()'");
    }
    while (true) {
      if (*position >= signature_.size()) {
        return Status::Error("bad-signature", offset_ + *position,
                             "expected ')', found the end of the signature");
      }
      if (signature_[*position] == ')') {
        ++*position;
        return Status();
      }
      JSN_RETURN_IF_ERROR(CompleteType(position, depth));
    }
  }

  std::string_view signature_;
  size_t offset_;
};

}  // namespace

Status ValidateSignature(std::string_view signature, size_t offset, NestingDepth outer) {
  if (signature.size() > kMaxSignatureLength) {
    return Status::Error("signature-too-long", offset + kMaxSignatureLength,
                         "expected a signature of at most %zu bytes, found %zu",
                         kMaxSignatureLength, signature.size());
  }
  SignatureChecker checker(signature, offset);
  size_t position = 0;
  while (position < signature.size()) {
    JSN_RETURN_IF_ERROR(checker.CompleteType(&position, outer));
  }
  return Status();
}

Status ValidateSingleCompleteType(std::string_view signature, size_t offset,
                                  NestingDepth outer) {
  if (signature.empty()) {
    return Status::Error("variant-not-single-type", offset,
                         "expected exactly one complete type, found an empty signature");
  }
  if (signature.size() > kMaxSignatureLength) {
    return Status::Error("signature-too-long", offset + kMaxSignatureLength,
                         "expected a signature of at most %zu bytes, found %zu",
                         kMaxSignatureLength, signature.size());
  }
  SignatureChecker checker(signature, offset);
  size_t position = 0;
  JSN_RETURN_IF_ERROR(checker.CompleteType(&position, outer));
  if (position != signature.size()) {
    return Status::Error("variant-not-single-type", offset + position,
                         "expected exactly one complete type, found more after %zu bytes",
                         position);
  }
  return Status();
}

size_t CompleteTypeLength(std::string_view signature, size_t position) {
  size_t end = position;
  while (signature[end] == 'a') ++end;
  const char code = signature[end];
  if (code != '(' && code != '{') return end + 1 - position;
  int open = 0;
  for (;; ++end) {
    const char c = signature[end];
    if (c == '(' || c == '{') {
      ++open;
    } else if (c == ')' || c == '}') {
      if (--open == 0) return end + 1 - position;
    }
  }
}

}  // namespace jsn
