// Fuzz target: differential against libdbus, the reference implementation. The same bytes go
// to dbus_message_demarshal (and its iterators) and to our Message::Parse; the target fails
// when one accepts what the other rejects, or when both accept and disagree on the message
// length, any header field or any body value (both rendered in the canonical text of
// fixtures/README.md). libdbus is a test-only dependency (libdbus-1-dev).
//
// Where we differ from libdbus on purpose, the case is recognised below (Explained*) and
// skipped, each with the clause of the D-Bus Specification that justifies our side. Any other
// difference aborts: it is a bug in one of the two readers, and gets a reproducer in
// tests/fuzz/reproducers/libdbus_differential/ and a unit test.
#include <dbus/dbus.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/check_values.h"
#include "jsn/wire/byte_order.h"
#include "jsn/wire/reader.h"
#include "support/render.h"

namespace {

using jsn::fuzz::Fail;

std::string Quote(const char* text) {
  std::string out = "\"";
  for (const char* p = text; *p != '\0'; ++p) {
    const unsigned char u = static_cast<unsigned char>(*p);
    if (*p == '"' || *p == '\\') {
      out += '\\';
      out += *p;
    } else if (u < 0x20 || u == 0x7f) {
      char buffer[8];
      snprintf(buffer, sizeof buffer, "\\x%02x", u);
      out += buffer;
    } else {
      out += *p;
    }
  }
  return out + "\"";
}

std::string RenderLibdbusValue(DBusMessageIter* it);

std::string RenderLibdbusSequence(DBusMessageIter* it, const char* open, const char* close) {
  std::string out = open;
  bool first = true;
  while (dbus_message_iter_get_arg_type(it) != DBUS_TYPE_INVALID) {
    if (!first) out += ", ";
    first = false;
    out += RenderLibdbusValue(it);
    dbus_message_iter_next(it);
  }
  return out + close;
}

// The canonical rendering of fixtures/README.md, as tests/support/render.cc gives ours.
std::string RenderLibdbusValue(DBusMessageIter* it) {
  DBusBasicValue v;
  char buffer[64];
  const int type = dbus_message_iter_get_arg_type(it);
  switch (type) {
    case DBUS_TYPE_BYTE:
      dbus_message_iter_get_basic(it, &v);
      return std::to_string(v.byt);
    case DBUS_TYPE_BOOLEAN:
      dbus_message_iter_get_basic(it, &v);
      return v.bool_val ? "true" : "false";
    case DBUS_TYPE_INT16:
      dbus_message_iter_get_basic(it, &v);
      return std::to_string(v.i16);
    case DBUS_TYPE_UINT16:
      dbus_message_iter_get_basic(it, &v);
      return std::to_string(v.u16);
    case DBUS_TYPE_INT32:
      dbus_message_iter_get_basic(it, &v);
      return std::to_string(v.i32);
    case DBUS_TYPE_UINT32:
      dbus_message_iter_get_basic(it, &v);
      return std::to_string(v.u32);
    case DBUS_TYPE_INT64:
      dbus_message_iter_get_basic(it, &v);
      return std::to_string(static_cast<long long>(v.i64));
    case DBUS_TYPE_UINT64:
      dbus_message_iter_get_basic(it, &v);
      return std::to_string(static_cast<unsigned long long>(v.u64));
    case DBUS_TYPE_DOUBLE:
      dbus_message_iter_get_basic(it, &v);
      snprintf(buffer, sizeof buffer, "%.17g", v.dbl);
      return buffer;
    case DBUS_TYPE_UNIX_FD:
      // dbus_message_iter_get_basic would dup() a descriptor; demarshalled messages carry none
      // (see ExplainedUnixFds), so no accepted message reaches here.
      return "<unix fd>";
    case DBUS_TYPE_STRING:
    case DBUS_TYPE_OBJECT_PATH:
    case DBUS_TYPE_SIGNATURE:
      dbus_message_iter_get_basic(it, &v);
      return Quote(v.str);
    case DBUS_TYPE_VARIANT: {
      DBusMessageIter inner;
      dbus_message_iter_recurse(it, &inner);
      char* signature = dbus_message_iter_get_signature(&inner);
      std::string out = std::string("<") + signature + " " + RenderLibdbusValue(&inner) + ">";
      dbus_free(signature);
      return out;
    }
    case DBUS_TYPE_ARRAY: {
      const bool dict = dbus_message_iter_get_element_type(it) == DBUS_TYPE_DICT_ENTRY;
      DBusMessageIter inner;
      dbus_message_iter_recurse(it, &inner);
      return dict ? RenderLibdbusSequence(&inner, "{", "}")
                  : RenderLibdbusSequence(&inner, "[", "]");
    }
    case DBUS_TYPE_DICT_ENTRY: {
      DBusMessageIter inner;
      dbus_message_iter_recurse(it, &inner);
      std::string out = RenderLibdbusValue(&inner);
      dbus_message_iter_next(&inner);
      return out + ": " + RenderLibdbusValue(&inner);
    }
    case DBUS_TYPE_STRUCT: {
      DBusMessageIter inner;
      dbus_message_iter_recurse(it, &inner);
      return RenderLibdbusSequence(&inner, "(", ")");
    }
    default:
      Fail("libdbus returned a value of unknown type");
  }
}

std::string Text(const char* text) { return text == nullptr ? "" : text; }

[[noreturn]] void Diverge(const char* what, const std::string& ours, const std::string& theirs) {
  fprintf(stderr, "libdbus differential: %s\n  ours:   %s\n  libdbus: %s\n", what, ours.c_str(),
          theirs.c_str());
  Fail("unexplained divergence from libdbus");
}

// ---- Explained divergences ------------------------------------------------------------------
// Each returns true when the case is one where we differ from libdbus on purpose.

// 1. A header field array longer than 64 MiB is refused from the fixed header alone. The
//    specification, "Marshaling (Wire Format)", ARRAY: "Arrays have a maximum length defined
//    to be 2 to the 26th power or 67108864 (64 MiB)", and the header fields are an ARRAY of
//    STRUCT ("Message Format": the header is "BYTE, BYTE, BYTE, BYTE, UINT32, UINT32,
//    ARRAY of STRUCT of (BYTE,VARIANT)"). libdbus's dbus_message_demarshal_bytes_needed only
//    bounds it by the 128 MiB message limit. We fail earlier; libdbus accepts the length and
//    would still have to read 64 MiB before rejecting or accepting the header.
bool ExplainedHeaderFieldsTooLong(const jsn::Status& ours) {
  return std::string_view(ours.rule()) == "array-too-long" && ours.offset() == 12;
}

// 2. A unique bus name (SENDER, DESTINATION) must have two or more non-empty elements.
//    "Valid Names", bus names: "Bus names are composed of 1 or more elements separated by a
//    period ('.') character. All elements must contain at least one character." and "Bus
//    names must contain at least one '.' (period) character (and thus at least two
//    elements)"; the rules apply to unique names too (only the leading ':' and digits at the
//    start of an element are theirs). libdbus's _dbus_validate_bus_name_full checks only the
//    characters of a unique name, so it takes ":1", ":" and ":.a". Ours refuses them; the
//    daemon compares senders with the unique name the bus gave systemd, which always has them.
bool ExplainedLaxUniqueName(const jsn::Status& ours, std::span<const uint8_t> bytes) {
  if (std::string_view(ours.rule()) != "bad-bus-name" || ours.offset() >= bytes.size()) {
    return false;
  }
  const char* name = reinterpret_cast<const char*>(bytes.data() + ours.offset());
  const size_t length = strnlen(name, bytes.size() - ours.offset());
  const std::string_view text(name, length);
  if (text.empty() || text[0] != ':') return false;
  // What libdbus checks of a unique name: [A-Za-z0-9_-] and '.', no '.' at the end or
  // followed by another '.'.
  for (size_t i = 1; i < text.size(); ++i) {
    const char c = text[i];
    const bool name_char = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                           (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (c == '.' && (i + 1 == text.size() || text[i + 1] == '.')) return false;
    if (c != '.' && !name_char) return false;
  }
  return text.size() <= jsn::kMaxNameLength;
}

// 3. libdbus refuses the path /org/freedesktop/DBus/Local and the interface
//    org.freedesktop.DBus.Local in any message it reads (DBUS_INVALID_USES_LOCAL_PATH,
//    _INTERFACE): it reserves them for the Disconnected signal it synthesises itself, so a
//    peer cannot forge one. That is libdbus's own rule, not the specification's ("Valid
//    Names" and "Basic Types" make both valid), and our reader has no local messages to
//    protect: the daemon acts only on systemd's unit paths and interfaces. libdbus compares
//    only as many bytes as the reserved name has (dbus-marshal-header.c compares a substring
//    of that length), so it refuses every path and interface that begins with one of them,
//    e.g. org.freedesktop.DBus.Localrties (found by this fuzzer).
bool ExplainedLocalPathOrInterface(const jsn::Message& ours) {
  return ours.header().path.starts_with("/org/freedesktop/DBus/Local") ||
         ours.header().interface.starts_with("org.freedesktop.DBus.Local");
}

// 4. A UNIX_FD value must index one of the descriptors the UNIX_FDS header announces.
//    "Basic Types": UNIX_FD is an "index into the out-of-band array of file descriptors";
//    "Message Format", UNIX_FDS: "The number of Unix file descriptors that accompany the
//    message. If omitted, it is assumed that there are no Unix file descriptors accompanying
//    the message." An index at or past the count points at nothing. libdbus does not check
//    the index when it reads the body (dbus_message_iter_get_basic returns -1 for it later).
bool ExplainedUnixFdIndex(const jsn::Status& ours) {
  return std::string_view(ours.rule()) == "unix-fd-out-of-range";
}

// 5. A message whose UNIX_FDS header is not zero: dbus_message_demarshal has no descriptors
//    to go with it and refuses it (DBUS_INVALID_MISSING_UNIX_FDS). The count is part of the
//    message ("Message Format", UNIX_FDS) and the descriptors travel beside it on the socket,
//    so our reader, which only sees the bytes, checks the count against the body's UNIX_FD
//    indexes (see 4) and leaves the descriptors to the transport.
bool ExplainedUnixFdsWithoutDescriptors(const jsn::Message& ours) {
  return ours.header().unix_fds != 0;
}

// 6. The 64-container limit counts types, not the values present. "Marshaling (Wire
//    Format)", VARIANT: "Use of variants may not cause a total message depth to be larger than
//    64, including other container types such as structures." We count every variant, array,
//    struct and dict entry around a value by its type. libdbus (validate_body_helper) counts
//    only the levels it recurses into for values that are there: an array of fixed-size
//    elements (the "y" in "ay") and an empty array add nothing, so 40 variants around
//    "aaaaaaaaaaaaaaaaaaaaaaaaay" (65 containers) pass it. Only our side can be the stricter
//    one here; libdbus refusing a depth we accept is still a divergence.
bool ExplainedNestingCountedByType(const jsn::Status& ours) {
  return std::string_view(ours.rule()) == "nesting-too-deep";
}

// 7. libdbus 1.14 knows a header field 10, CONTAINER_INSTANCE, of type OBJECT_PATH (from its
//    experimental "containers" work; dbus-protocol.h) and refuses the message when field 10
//    has another type. The specification defines fields 1 to 9 and says, "Message Format":
//    "Header fields with an unknown or unexpected field code must be ignored, although all
//    fields must have a valid type." We ignore field 10 whatever its (valid) type.
bool HasHeaderField10NotObjectPath(const jsn::Message& ours) {
  // Read the header field array a(yv) with our own reader: copy its length and elements into
  // the body of a message of signature "a(yv)" (the elements keep their 8-byte alignment).
  const std::span<const uint8_t> bytes = ours.bytes();
  const bool big = ours.header().byte_order == jsn::ByteOrder::kBig;
  const uint32_t fields_length = jsn::LoadUint32(bytes.data() + 12, ours.header().byte_order);
  std::vector<uint8_t> copy = {static_cast<uint8_t>(big ? 'B' : 'l'), 2, 0, 1};
  const auto put32 = [&](uint32_t value) {
    for (int i = 0; i < 4; ++i) {
      copy.push_back(static_cast<uint8_t>(value >> (big ? 24 - 8 * i : 8 * i)));
    }
  };
  put32(8 + fields_length);  // body: length, padding, elements
  put32(1);                  // serial
  put32(19);                 // REPLY_SERIAL 1, SIGNATURE "a(yv)", then 5 bytes of padding
  const uint8_t fields[] = {5, 1, 'u', 0};
  copy.insert(copy.end(), fields, fields + 4);
  put32(1);
  const uint8_t signature[] = {8, 1, 'g', 0, 5, 'a', '(', 'y', 'v', ')', 0, 0, 0, 0, 0, 0};
  copy.insert(copy.end(), signature, signature + sizeof signature);
  put32(fields_length);
  put32(0);
  copy.insert(copy.end(), bytes.begin() + 16, bytes.begin() + 16 + fields_length);
  jsn::Message header_fields;
  if (!jsn::Message::Parse(copy, &header_fields).ok()) Fail("header fields do not re-parse");
  jsn::Iterator body = header_fields.body();
  jsn::Value array, field, code, variant, value;
  body.Next(&array);
  for (jsn::Iterator fields_it = array.children(); fields_it.Next(&field);) {
    jsn::Iterator parts = field.children();
    parts.Next(&code);
    parts.Next(&variant);
    jsn::Iterator inner = variant.children();
    inner.Next(&value);
    if (code.as_byte() == 10 && value.signature() != "o") return true;
  }
  return false;
}

// ---- The comparison --------------------------------------------------------------------------

void CompareHeaders(const jsn::Message& ours, DBusMessage* theirs) {
  const jsn::Header& h = ours.header();
  const auto check_text = [](const char* what, std::string_view mine, const char* libdbus) {
    if (mine != Text(libdbus)) Diverge(what, std::string(mine), Text(libdbus));
  };
  const auto check_number = [](const char* what, uint64_t mine, uint64_t libdbus) {
    if (mine != libdbus) Diverge(what, std::to_string(mine), std::to_string(libdbus));
  };
  check_number("type", static_cast<uint8_t>(h.type),
               static_cast<uint64_t>(dbus_message_get_type(theirs)));
  check_number("serial", h.serial, dbus_message_get_serial(theirs));
  check_number("reply serial", h.reply_serial, dbus_message_get_reply_serial(theirs));
  check_number("NO_REPLY_EXPECTED", (h.flags & jsn::kFlagNoReplyExpected) != 0,
               dbus_message_get_no_reply(theirs) != 0);
  check_number("NO_AUTO_START", (h.flags & jsn::kFlagNoAutoStart) != 0,
               dbus_message_get_auto_start(theirs) == 0);
  check_number("ALLOW_INTERACTIVE_AUTHORIZATION",
               (h.flags & jsn::kFlagAllowInteractiveAuthorization) != 0,
               dbus_message_get_allow_interactive_authorization(theirs) != 0);
  check_text("path", h.path, dbus_message_get_path(theirs));
  check_text("interface", h.interface, dbus_message_get_interface(theirs));
  check_text("member", h.member, dbus_message_get_member(theirs));
  check_text("error name", h.error_name, dbus_message_get_error_name(theirs));
  check_text("destination", h.destination, dbus_message_get_destination(theirs));
  check_text("sender", h.sender, dbus_message_get_sender(theirs));
  check_text("signature", h.signature, dbus_message_get_signature(theirs));
  check_number("unix fds", h.unix_fds != 0, dbus_message_contains_unix_fds(theirs) != 0);
  // The byte order is not in libdbus's API; a marshalled copy starts with it.
  char* copy = nullptr;
  int copy_length = 0;
  if (!dbus_message_marshal(theirs, &copy, &copy_length)) Fail("dbus_message_marshal failed");
  check_number("byte order", static_cast<uint8_t>(h.byte_order),
               static_cast<unsigned char>(copy[0]));
  dbus_free(copy);
}

void CompareBodies(const jsn::Message& ours, DBusMessage* theirs) {
  const std::string mine = jsn::RenderBody(ours);
  DBusMessageIter it;
  std::string libdbus = "()";
  if (dbus_message_iter_init(theirs, &it)) libdbus = RenderLibdbusSequence(&it, "(", ")");
  if (mine != libdbus) Diverge("body", mine, libdbus);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // libdbus must not treat its own warnings as fatal in here: they are compared, not obeyed.
  setenv("DBUS_FATAL_WARNINGS", "0", 1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < jsn::kFixedHeaderLength) return 0;  // libdbus says "need more", we "short-read"
  const char* chars = reinterpret_cast<const char*>(data);
  const int size_int = static_cast<int>(size > (1u << 30) ? (1u << 30) : size);

  // The length from the fixed header: what a framer trusts.
  size_t our_length = 0;
  const jsn::Status length_status = jsn::MessageLength({data, size}, &our_length);
  const int their_length = dbus_message_demarshal_bytes_needed(chars, size_int);
  if (!length_status.ok()) {
    // libdbus's length check looks at less than ours (not the protocol version, say); its
    // full read of the message must then refuse it.
    if (their_length < 0 || ExplainedHeaderFieldsTooLong(length_status)) return 0;
    if (size < static_cast<size_t>(their_length)) return 0;  // incomplete for libdbus
    DBusError error;
    dbus_error_init(&error);
    DBusMessage* theirs = dbus_message_demarshal(chars, their_length, &error);
    if (theirs != nullptr) {
      Diverge("accepted by one only (fixed header)", length_status.message(), "accepted");
    }
    dbus_error_free(&error);
    return 0;
  }
  if (their_length < 0 || static_cast<size_t>(their_length) != our_length) {
    Diverge("message length", std::to_string(our_length), std::to_string(their_length));
  }
  // Both read exactly one message: compare on the bytes it spans. A shorter input is
  // incomplete for both (libdbus waits for more, we say message-truncated).
  if (size < our_length) return 0;
  const std::span<const uint8_t> bytes(data, our_length);

  jsn::Message ours;
  const jsn::Status status = jsn::Message::Parse(bytes, &ours);
  DBusError error;
  dbus_error_init(&error);
  DBusMessage* theirs = dbus_message_demarshal(chars, static_cast<int>(our_length), &error);

  if (status.ok() && theirs != nullptr) {
    CompareHeaders(ours, theirs);
    CompareBodies(ours, theirs);
    jsn::fuzz::CheckMessage(ours);
  } else if (!status.ok() && ExplainedLaxUniqueName(status, bytes)) {
  } else if (status.ok() && ExplainedLocalPathOrInterface(ours)) {
  } else if (!status.ok() && ExplainedUnixFdIndex(status)) {
  } else if (!status.ok() && ExplainedNestingCountedByType(status)) {
  } else if (status.ok() && theirs == nullptr && HasHeaderField10NotObjectPath(ours)) {
  } else if (status.ok() && theirs == nullptr && ExplainedUnixFdsWithoutDescriptors(ours)) {
  } else if (status.ok() != (theirs != nullptr)) {
    const std::string mine = status.ok()
                                 ? "accepted"
                                 : std::string("rejected: ") + status.rule() + " at " +
                                       std::to_string(status.offset()) + ": " + status.message();
    const std::string libdbus =
        theirs != nullptr ? "accepted" : std::string("rejected: ") + Text(error.message);
    Diverge("accepted by one only", mine, libdbus);
  }
  if (theirs != nullptr) dbus_message_unref(theirs);
  dbus_error_free(&error);
  return 0;
}
