#include "jsn/wire/signature.h"

namespace jsn {
namespace {

// Recursive descent over one complete type; recursion is bounded by the nesting limits, which
// are checked before descending.
class SignatureChecker {
 public:
  SignatureChecker(std::string_view signature, size_t offset, Status* error)
      : signature_(signature), offset_(offset), error_(error) {}

  bool CompleteType(size_t* position, NestingDepth depth) {
    if (*position >= signature_.size()) {
      return Fail(Status::ExpectedAt("bad-signature", offset_ + *position,
                                     "a type code, found the end of the signature"));
    }
    const char code = signature_[*position];
    if (IsBasicType(code) || code == 'v') {
      ++*position;
      return true;
    }
    switch (code) {
      case 'a':
        return Array(position, depth);
      case '(':
        return Struct(position, depth);
      case '{':
        return Fail(Status::ExpectedAt("dict-entry-outside-array", offset_ + *position,
                                       "a dict entry only as an array element, found '{' alone"));
      default:
        return Fail(Status::ExpectedAt("bad-signature", offset_ + *position,
                                       "a type code, found '%c' (0x%02x)", Printable(code),
                                       static_cast<unsigned char>(code)));
    }
  }

 private:
  static char Printable(char c) { return (c >= 0x20 && c < 0x7f) ? c : '?'; }

  bool Enter(size_t at, NestingDepth* depth, bool is_array) {
    if (is_array) {
      if (++depth->arrays > kMaxArrayNesting) {
        return Fail(Status::ExpectedAt("array-nesting-too-deep", offset_ + at,
                                       "at most %zu nested arrays, found %zu", kMaxArrayNesting,
                                       size_t{depth->arrays}));
      }
    } else if (++depth->structs > kMaxStructNesting) {
      return Fail(Status::ExpectedAt("struct-nesting-too-deep", offset_ + at,
                                     "at most %zu nested structs, found %zu", kMaxStructNesting,
                                     size_t{depth->structs}));
    }
    if (++depth->total > kMaxTotalNesting) {
      return Fail(Status::ExpectedAt("nesting-too-deep", offset_ + at,
                                     "at most %zu nested containers, found %zu", kMaxTotalNesting,
                                     size_t{depth->total}));
    }
    return true;
  }

  bool Array(size_t* position, NestingDepth depth) {
    if (!Enter(*position, &depth, /*is_array=*/true)) return false;
    ++*position;
    if (*position < signature_.size() && signature_[*position] == '{') {
      return DictEntry(position, depth);
    }
    return CompleteType(position, depth);
  }

  bool DictEntry(size_t* position, NestingDepth depth) {
    if (!Enter(*position, &depth, /*is_array=*/false)) return false;
    ++*position;
    if (*position >= signature_.size() || !IsBasicType(signature_[*position])) {
      return Fail(Status::ExpectedAt(
          "dict-key-not-basic", offset_ + *position, "a basic type as dict key, found %s",
          *position >= signature_.size() ? "the end of the signature" : "a container or '}'"));
    }
    ++*position;
    if (*position < signature_.size() && signature_[*position] == '}') {
      return Fail(Status::ExpectedAt("dict-entry-field-count", offset_ + *position,
                                     "a key and a value in a dict entry, found only a key"));
    }
    if (!CompleteType(position, depth)) return false;
    if (*position >= signature_.size()) {
      return Fail(Status::ExpectedAt("bad-signature", offset_ + *position,
                                     "'}', found the end of the signature"));
    }
    if (signature_[*position] != '}') {
      return Fail(Status::ExpectedAt("dict-entry-field-count", offset_ + *position,
                                     "'}' after a key and a value, found '%c'",
                                     Printable(signature_[*position])));
    }
    ++*position;
    return true;
  }

  bool Struct(size_t* position, NestingDepth depth) {
    if (!Enter(*position, &depth, /*is_array=*/false)) return false;
    ++*position;
    if (*position < signature_.size() && signature_[*position] == ')') {
      return Fail(Status::ExpectedAt("empty-struct", offset_ + *position - 1,
                                     "at least one field in a struct, found '()'"));
    }
    while (true) {
      if (*position >= signature_.size()) {
        return Fail(Status::ExpectedAt("bad-signature", offset_ + *position,
                                       "')', found the end of the signature"));
      }
      if (signature_[*position] == ')') {
        ++*position;
        return true;
      }
      if (!CompleteType(position, depth)) return false;
    }
  }

  bool Fail(const Status& status) {
    *error_ = status;
    return false;
  }

  std::string_view signature_;
  size_t offset_;
  Status* error_;
};

// The signatures nearly every message carries (PropertiesChanged's "sa{sv}as", a reply's
// "v" or "a{sv}") are sequences of basic types, variants, arrays of them and dict entries of a
// basic key and a basic or variant value. They are recognised here in one flat pass, counting
// their complete types, whenever the enclosing nesting leaves room for an array and a dict
// entry. False means only "not this simple": the recursive checker then decides.
bool IsSimpleSignature(std::string_view signature, NestingDepth outer, size_t* types) {
  if (signature.size() > kMaxSignatureLength || outer.arrays >= kMaxArrayNesting ||
      outer.structs >= kMaxStructNesting || outer.total + 2u > kMaxTotalNesting) {
    return false;
  }
  auto is_value = [](char code) { return IsBasicType(code) || code == 'v'; };
  const size_t size = signature.size();
  size_t i = 0;
  *types = 0;
  while (i < size) {
    if (signature[i] == 'a') {
      ++i;
      if (i + 3 < size && signature[i] == '{' && IsBasicType(signature[i + 1]) &&
          is_value(signature[i + 2]) && signature[i + 3] == '}') {
        i += 4;
      } else if (i < size && is_value(signature[i])) {
        ++i;
      } else {
        return false;
      }
    } else if (is_value(signature[i])) {
      ++i;
    } else {
      return false;
    }
    ++*types;
  }
  return true;
}

}  // namespace

bool CheckSignature(std::string_view signature, size_t offset, NestingDepth outer,
                    bool single_complete_type, Status* error) {
  // The common cases, a variant holding one basic type or an array of one, need no walk.
  if (signature.size() == 1 && (IsBasicType(signature[0]) || signature[0] == 'v')) return true;
  if (signature.size() == 2 && signature[0] == 'a' && IsBasicType(signature[1]) &&
      outer.arrays < kMaxArrayNesting && outer.total < kMaxTotalNesting) {
    return true;
  }
  size_t types = 0;
  if (IsSimpleSignature(signature, outer, &types) && (types == 1 || !single_complete_type)) {
    return true;
  }
  if (signature.empty()) {
    if (!single_complete_type) return true;
    *error = Status::ExpectedAt("variant-not-single-type", offset,
                                "exactly one complete type, found an empty signature");
    return false;
  }
  if (signature.size() > kMaxSignatureLength) {
    *error = Status::ExpectedAt("signature-too-long", offset + kMaxSignatureLength,
                                "a signature of at most %zu bytes, found %zu", kMaxSignatureLength,
                                signature.size());
    return false;
  }
  SignatureChecker checker(signature, offset, error);
  size_t position = 0;
  if (single_complete_type) {
    if (!checker.CompleteType(&position, outer)) return false;
    if (position != signature.size()) {
      *error =
          Status::ExpectedAt("variant-not-single-type", offset + position,
                             "exactly one complete type, found more after %zu bytes", position);
      return false;
    }
    return true;
  }
  while (position < signature.size()) {
    if (!checker.CompleteType(&position, outer)) return false;
  }
  return true;
}

Status ValidateSignature(std::string_view signature, size_t offset, NestingDepth outer) {
  Status error;
  CheckSignature(signature, offset, outer, /*single_complete_type=*/false, &error);
  return error;
}

Status ValidateSingleCompleteType(std::string_view signature, size_t offset, NestingDepth outer) {
  Status error;
  CheckSignature(signature, offset, outer, /*single_complete_type=*/true, &error);
  return error;
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
