// Fuzz support (not a target): walks every value of a parsed message through the reader's
// public accessors and aborts when an accessor breaks the reader's promises (a view outside the
// message, a string the reader should have refused, an iterator that overruns its container).
// Shared by the message-reader and body-iterator targets; the message buffer is the caller's.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "jsn/wire/names.h"
#include "jsn/wire/reader.h"
#include "jsn/wire/signature.h"

namespace jsn::fuzz {

// Aborts with a message: libFuzzer and AFL++ record the input as a crash.
[[noreturn]] inline void Fail(const char* what) {
  fprintf(stderr, "fuzz invariant broken: %s\n", what);
  abort();
}

#define JSN_FUZZ_CHECK(condition)                    \
  do {                                               \
    if (!(condition)) ::jsn::fuzz::Fail(#condition); \
  } while (0)

inline bool Inside(std::string_view view, const Message& message) {
  const auto* first = reinterpret_cast<const char*>(message.bytes().data());
  return view.data() >= first && view.data() + view.size() <= first + message.bytes().size();
}

// Visits `value` and everything inside it; returns how many values were seen (so the work
// cannot be optimised away).
inline size_t CheckValue(const Value& value, const Message& message, size_t depth) {
  JSN_FUZZ_CHECK(depth <= kMaxTotalNesting + 1);
  // A dict entry's own signature ("{sv}") is complete only inside its array's.
  if (value.type() != '{') JSN_FUZZ_CHECK(ValidateSingleCompleteType(value.signature(), 0).ok());
  size_t seen = 1;
  switch (value.type()) {
    case 'y':
      seen += value.as_byte() & 1;
      break;
    case 'b':
      seen += value.as_bool() ? 1 : 0;
      break;
    case 'n':
      seen += static_cast<size_t>(value.as_int16() & 1);
      break;
    case 'q':
      seen += value.as_uint16() & 1;
      break;
    case 'i':
      seen += static_cast<size_t>(value.as_int32() & 1);
      break;
    case 'u':
      seen += value.as_uint32() & 1;
      break;
    case 'x':
      seen += static_cast<size_t>(value.as_int64() & 1);
      break;
    case 't':
      seen += value.as_uint64() & 1;
      break;
    case 'd':
      seen += value.as_double() > 0 ? 1 : 0;
      break;
    case 'h':
      JSN_FUZZ_CHECK(value.as_unix_fd() < message.header().unix_fds);
      break;
    case 's':
    case 'o':
    case 'g': {
      const std::string_view text = value.as_string();
      JSN_FUZZ_CHECK(Inside(text, message));
      JSN_FUZZ_CHECK(text.data()[text.size()] == '\0');
      JSN_FUZZ_CHECK(text.find('\0') == std::string_view::npos);
      JSN_FUZZ_CHECK(IsValidUtf8(text));
      if (value.type() == 'o') JSN_FUZZ_CHECK(IsValidObjectPath(text));
      if (value.type() == 'g') JSN_FUZZ_CHECK(ValidateSignature(text, 0).ok());
      break;
    }
    case 'v': {
      Iterator children = value.children();
      Value inner;
      JSN_FUZZ_CHECK(children.Next(&inner));
      seen += CheckValue(inner, message, depth + 1);
      JSN_FUZZ_CHECK(!children.Next(&inner));
      break;
    }
    case 'a': {
      Iterator children = value.children();
      Value element;
      const std::string_view element_type = value.signature().substr(1);
      size_t count = 0;
      while (children.Next(&element)) {
        JSN_FUZZ_CHECK(element.signature() == element_type);
        seen += CheckValue(element, message, depth + 1);
        // Every element takes at least one byte, so a message cannot hold more.
        JSN_FUZZ_CHECK(++count <= message.bytes().size());
      }
      if (value.signature() == "a{sv}") {
        Value found;
        if (FindInStringVariantDict(value, "ActiveState", &found)) {
          JSN_FUZZ_CHECK(ValidateSingleCompleteType(found.signature(), 0).ok());
          seen += CheckValue(found, message, depth + 2);
        }
      }
      break;
    }
    case '(':
    case '{': {
      Iterator children = value.children();
      Value field;
      size_t count = 0;
      while (children.Next(&field)) {
        seen += CheckValue(field, message, depth + 1);
        JSN_FUZZ_CHECK(++count <= kMaxSignatureLength);
      }
      if (value.type() == '{') JSN_FUZZ_CHECK(count == 2);
      break;
    }
    default:
      Fail("a value of unknown type");
  }
  return seen;
}

// The header promises of a parsed message, then every body value.
inline size_t CheckMessage(const Message& message) {
  const Header& header = message.header();
  JSN_FUZZ_CHECK(header.serial != 0);
  JSN_FUZZ_CHECK(header.path.empty() || IsValidObjectPath(header.path));
  JSN_FUZZ_CHECK(header.interface.empty() || IsValidInterfaceName(header.interface));
  JSN_FUZZ_CHECK(header.member.empty() || IsValidMemberName(header.member));
  JSN_FUZZ_CHECK(header.error_name.empty() || IsValidErrorName(header.error_name));
  JSN_FUZZ_CHECK(header.destination.empty() || IsValidBusName(header.destination));
  JSN_FUZZ_CHECK(header.sender.empty() || IsValidBusName(header.sender));
  JSN_FUZZ_CHECK(ValidateSignature(header.signature, 0).ok());
  for (std::string_view field : {header.path, header.interface, header.member, header.error_name,
                                 header.destination, header.sender, header.signature}) {
    JSN_FUZZ_CHECK(field.empty() || Inside(field, message));
  }
  size_t length = 0;
  JSN_FUZZ_CHECK(MessageLength(message.bytes(), &length).ok());
  JSN_FUZZ_CHECK(length == message.bytes().size());
  size_t seen = 0;
  Iterator body = message.body();
  Value value;
  size_t top_level = 0;
  std::string_view rest = header.signature;
  while (body.Next(&value)) {
    JSN_FUZZ_CHECK(rest.substr(0, value.signature().size()) == value.signature());
    rest.remove_prefix(value.signature().size());
    seen += CheckValue(value, message, 1);
    JSN_FUZZ_CHECK(++top_level <= kMaxSignatureLength);
  }
  JSN_FUZZ_CHECK(rest.empty());
  return seen;
}

}  // namespace jsn::fuzz
