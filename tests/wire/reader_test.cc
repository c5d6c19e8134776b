// Message::Parse, Value and Iterator over messages marshalled by GLib (recorded here as hex so
// the test does not depend on the fixture files), in both byte orders.
#include "jsn/wire/reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/glib_messages.h"
#include "support/hex.h"

namespace jsn {
namespace {

using wire_test::FromHex;
using wire_test::kEverythingBody;
using wire_test::kGlibEverythingBig;
using wire_test::kGlibEverythingLittle;
using wire_test::kGlibPropertiesChangedBig;
using wire_test::kGlibPropertiesChangedLittle;
using wire_test::RenderBody;

class GlibMessage : public ::testing::TestWithParam<std::string_view> {};

TEST_P(GlibMessage, PropertiesChangedHeaderIsReadInEitherByteOrder) {
  const auto bytes = FromHex(GetParam());
  Message message;
  Status status = Message::Parse(bytes, &message);
  ASSERT_TRUE(status.ok()) << status.rule() << " at " << status.offset() << ": "
                           << status.message();
  const Header& h = message.header();
  EXPECT_EQ(h.type, MessageType::kSignal);
  EXPECT_EQ(h.flags, 1);
  EXPECT_EQ(h.serial, 7u);
  EXPECT_EQ(h.body_length, 0x9eu);
  EXPECT_EQ(h.path, "/org/freedesktop/systemd1/unit/ssh_2eservice");
  EXPECT_EQ(h.interface, "org.freedesktop.DBus.Properties");
  EXPECT_EQ(h.member, "PropertiesChanged");
  EXPECT_EQ(h.sender, ":1.5");
  EXPECT_EQ(h.signature, "sa{sv}as");
  EXPECT_TRUE(h.has_signature);
  EXPECT_FALSE(h.has_unix_fds);
  EXPECT_EQ(h.destination, "");
  EXPECT_EQ(h.reply_serial, 0u);
  EXPECT_EQ(RenderBody(message),
            "(\"org.freedesktop.systemd1.Unit\", {\"ActiveState\": <s \"active\">, "
            "\"SubState\": <s \"running\">, \"ActiveEnterTimestamp\": <t 1700000000000000>}, "
            "[\"Names\"])");
}

TEST_P(GlibMessage, FindsActiveStateInTheChangedDictionary) {
  const auto bytes = FromHex(GetParam());
  Message message;
  ASSERT_TRUE(Message::Parse(bytes, &message).ok());
  Iterator body = message.body();
  Value interface, changed, invalidated, content;
  ASSERT_TRUE(body.Next(&interface));
  ASSERT_TRUE(body.Next(&changed));
  ASSERT_TRUE(body.Next(&invalidated));
  EXPECT_FALSE(body.Next(&content));
  EXPECT_TRUE(body.at_end());
  EXPECT_EQ(interface.as_string(), "org.freedesktop.systemd1.Unit");
  ASSERT_TRUE(FindInStringVariantDict(changed, "ActiveState", &content));
  EXPECT_EQ(content.signature(), "s");
  EXPECT_EQ(content.as_string(), "active");
  ASSERT_TRUE(FindInStringVariantDict(changed, "ActiveEnterTimestamp", &content));
  EXPECT_EQ(content.as_uint64(), 1700000000000000u);
  EXPECT_FALSE(FindInStringVariantDict(changed, "Active", &content));
  EXPECT_FALSE(FindInStringVariantDict(changed, "LoadState", &content));
  // Not an a{sv}: the lookup says no rather than misreading.
  EXPECT_FALSE(FindInStringVariantDict(invalidated, "Names", &content));
}

INSTANTIATE_TEST_SUITE_P(BothByteOrders, GlibMessage,
                         ::testing::Values(kGlibPropertiesChangedLittle,
                                           kGlibPropertiesChangedBig));

class GlibEverything : public ::testing::TestWithParam<std::string_view> {};

TEST_P(GlibEverything, EveryTypeDecodesToTheValuesGlibMarshalled) {
  const auto bytes = FromHex(GetParam());
  Message message;
  Status status = Message::Parse(bytes, &message);
  ASSERT_TRUE(status.ok()) << status.rule() << " at " << status.offset() << ": "
                           << status.message();
  EXPECT_EQ(message.header().type, MessageType::kMethodCall);
  EXPECT_EQ(message.header().serial, 0x01020304u);
  EXPECT_EQ(message.header().destination, "org.example.Peer");
  EXPECT_EQ(RenderBody(message), kEverythingBody);
}

INSTANTIATE_TEST_SUITE_P(BothByteOrders, GlibEverything,
                         ::testing::Values(kGlibEverythingLittle, kGlibEverythingBig));

TEST(Reader, StringViewsPointIntoTheCallersBuffer) {
  const auto bytes = FromHex(kGlibPropertiesChangedLittle);
  Message message;
  ASSERT_TRUE(Message::Parse(bytes, &message).ok());
  const auto inside = [&](std::string_view view) {
    const auto* p = reinterpret_cast<const uint8_t*>(view.data());
    return p >= bytes.data() && p + view.size() <= bytes.data() + bytes.size();
  };
  EXPECT_TRUE(inside(message.header().path));
  EXPECT_TRUE(inside(message.header().member));
  EXPECT_TRUE(inside(message.header().signature));
  Iterator body = message.body();
  Value interface, changed, content;
  body.Next(&interface);
  body.Next(&changed);
  EXPECT_TRUE(inside(interface.as_string()));
  ASSERT_TRUE(FindInStringVariantDict(changed, "SubState", &content));
  EXPECT_TRUE(inside(content.as_string()));
  EXPECT_TRUE(inside(content.signature()));
}

TEST(Reader, RejectsBufferShorterOrLongerThanDeclared) {
  auto bytes = FromHex(kGlibPropertiesChangedLittle);
  Message message;
  const size_t size = bytes.size();
  Status shorter = Message::Parse(std::span(bytes).first(size - 1), &message);
  EXPECT_STREQ(shorter.rule(), "message-truncated");
  EXPECT_EQ(shorter.offset(), size - 1);
  bytes.push_back(0);
  Status longer = Message::Parse(bytes, &message);
  EXPECT_STREQ(longer.rule(), "trailing-bytes");
  EXPECT_EQ(longer.offset(), size);
}

TEST(Reader, ARejectedMessageLeavesTheMessageEmpty) {
  const auto good = FromHex(kGlibPropertiesChangedLittle);
  Message message;
  ASSERT_TRUE(Message::Parse(good, &message).ok());
  auto bad = good;
  bad[bad.size() - 3] = 0xff;  // in the body, after the header was read
  EXPECT_STREQ(Message::Parse(bad, &message).rule(), "string-not-utf8");
  EXPECT_EQ(message.header().member, "");
  EXPECT_EQ(message.header().serial, 0u);
  EXPECT_TRUE(message.bytes().empty());
  EXPECT_TRUE(message.body().at_end());
  ASSERT_TRUE(Message::Parse(good, &message).ok());
  EXPECT_STREQ(Message::Parse(std::span(good).first(10), &message).rule(), "short-read");
  EXPECT_EQ(message.header().member, "");
}

TEST(Reader, RejectsSerialZero) {
  auto bytes = FromHex(kGlibPropertiesChangedLittle);
  bytes[8] = 0;
  Message message;
  Status s = Message::Parse(bytes, &message);
  EXPECT_STREQ(s.rule(), "serial-zero");
  EXPECT_EQ(s.offset(), 8u);
}

TEST(Reader, RejectsNonZeroPaddingAfterTheSenderField) {
  auto bytes = FromHex(kGlibPropertiesChangedLittle);
  // The SENDER field ends at 16 + 4 + 4 + 5 = 29; bytes 29..31 pad to the next field.
  ASSERT_EQ(bytes[30], 0);
  bytes[30] = 0x20;
  Message message;
  Status s = Message::Parse(bytes, &message);
  EXPECT_STREQ(s.rule(), "padding-not-zero");
  EXPECT_EQ(s.offset(), 30u);
}

TEST(Reader, RejectsABooleanOtherThanZeroOrOne) {
  auto bytes = FromHex(kGlibEverythingLittle);
  Message message;
  ASSERT_TRUE(Message::Parse(bytes, &message).ok());
  Iterator body = message.body();
  Value v;
  body.Next(&v);
  body.Next(&v);
  ASSERT_EQ(v.type(), 'b');
  // The boolean follows the byte 0xff at the body start, padded to 4.
  const size_t body_start = bytes.size() - 0xb8;
  ASSERT_EQ(bytes[body_start], 0xff);
  bytes[body_start + 4] = 2;
  Status s = Message::Parse(bytes, &message);
  EXPECT_STREQ(s.rule(), "bad-boolean");
  EXPECT_EQ(s.offset(), body_start + 4);
}

TEST(Reader, BodyValuesOfAnyTypeAreReadUnderNestedIteration) {
  const auto bytes = FromHex(kGlibEverythingBig);
  Message message;
  ASSERT_TRUE(Message::Parse(bytes, &message).ok());
  Iterator body = message.body();
  Value v;
  for (int i = 0; i < 16; ++i) ASSERT_TRUE(body.Next(&v));
  ASSERT_EQ(v.signature(), "a(is)");
  Iterator structs = v.children();
  Value s, field;
  ASSERT_TRUE(structs.Next(&s));
  ASSERT_TRUE(structs.Next(&s));
  EXPECT_FALSE(structs.Next(&field));
  Iterator fields = s.children();
  ASSERT_TRUE(fields.Next(&field));
  EXPECT_EQ(field.as_int32(), 2);
  ASSERT_TRUE(fields.Next(&field));
  EXPECT_EQ(field.as_string(), "two");
  EXPECT_TRUE(fields.at_end());
  // A basic value has no children.
  EXPECT_TRUE(field.children().at_end());
}

// Built by tools/make-invalid-fixtures' marshaller: a method return whose header carries unknown
// field codes 42 (a{sv}) and 200 ((yt)) between the known ones.
constexpr std::string_view kUnknownHeaderFields =
    "6c02000107000000070000006700000005017500090000002a05617b73767d001e0000000000000001000000"
    "78000261730000000e0000000100000061000000010000006200000006017300040000003a312e3300000000"
    "c804287974290000010000000000000002000000000000000801670001730000020000006f6b00";

TEST(Reader, UnknownHeaderFieldsAreValidatedAndSkipped) {
  auto bytes = FromHex(kUnknownHeaderFields);
  Message message;
  Status status = Message::Parse(bytes, &message);
  ASSERT_TRUE(status.ok()) << status.rule() << " at " << status.offset() << ": "
                           << status.message();
  EXPECT_EQ(message.header().type, MessageType::kMethodReturn);
  EXPECT_EQ(message.header().reply_serial, 9u);
  EXPECT_EQ(message.header().destination, ":1.3");
  EXPECT_EQ(RenderBody(message), "(\"ok\")");
  // Skipped is not unchecked: a bad string inside the unknown a{sv} is still found.
  const size_t key = 16 + 8 + 8 + 8 + 4;  // REPLY_SERIAL, code+"a{sv}", length+pad, key length
  ASSERT_EQ(bytes[key], 'x');
  bytes[key] = 0xff;
  status = Message::Parse(bytes, &message);
  EXPECT_STREQ(status.rule(), "string-not-utf8");
  EXPECT_EQ(status.offset(), key);
}

// A little-endian signal (path "/", interface "a.b", member "M") carrying `body`, whose
// values are of `signature`; built by hand so it can break limits a writer refuses to.
std::vector<uint8_t> Signal(std::string_view signature, const std::vector<uint8_t>& body) {
  std::vector<uint8_t> m = {'l', 4, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
  auto pad = [&m](size_t alignment) {
    while (m.size() % alignment != 0) m.push_back(0);
  };
  auto put_uint32 = [](std::vector<uint8_t>& to, size_t at, size_t value) {
    for (int i = 0; i < 4; ++i) to[at + i] = static_cast<uint8_t>(value >> (8 * i));
  };
  auto field = [&](uint8_t code, char type, std::string_view text) {
    pad(8);
    m.insert(m.end(), {code, 1, static_cast<uint8_t>(type), 0});
    if (type == 'g') {
      m.push_back(static_cast<uint8_t>(text.size()));
    } else {
      m.resize(m.size() + 4);
      put_uint32(m, m.size() - 4, text.size());
    }
    m.insert(m.end(), text.begin(), text.end());
    m.push_back(0);
  };
  field(1, 'o', "/");
  field(2, 's', "a.b");
  field(3, 's', "M");
  field(8, 'g', signature);
  put_uint32(m, 12, m.size() - 16);
  pad(8);
  put_uint32(m, 4, body.size());
  m.insert(m.end(), body.begin(), body.end());
  return m;
}

// A body of signature "v": `variants` variants, each holding the next, then one holding an
// a{sv} of one entry "k" whose variant is <y 7>, or with `empty_strings` <as []>.
// *entry_variant is where the entry's variant starts in the body.
std::vector<uint8_t> DictInsideVariants(size_t variants, size_t* entry_variant,
                                        bool empty_strings = false) {
  std::vector<uint8_t> body;
  for (size_t i = 0; i < variants; ++i) body.insert(body.end(), {1, 'v', 0});
  body.insert(body.end(), {5, 'a', '{', 's', 'v', '}', 0});
  while (body.size() % 4 != 0) body.push_back(0);
  const uint8_t entry_length = empty_strings ? 16 : 10;
  body.insert(body.end(), {entry_length, 0, 0, 0});
  while (body.size() % 8 != 0) body.push_back(0);
  body.insert(body.end(), {1, 0, 0, 0, 'k', 0});
  *entry_variant = body.size();
  if (empty_strings) {
    body.insert(body.end(), {2, 'a', 's', 0, 0, 0, 0, 0, 0, 0});  // padding, then length 0
  } else {
    body.insert(body.end(), {1, 'y', 0, 7});
  }
  return body;
}

TEST(Reader, APropertyVariantAsTheSixtyFifthContainerIsRejectedWhereItStarts) {
  // 61 variants, the array and the dict entry make 63: each entry's variant is the 64th,
  // which the limit allows; one variant more around them and it is the 65th.
  size_t entry_variant = 0;
  Message message;
  Status status = Message::Parse(Signal("v", DictInsideVariants(60, &entry_variant)), &message);
  EXPECT_TRUE(status.ok()) << status.rule() << " at " << status.offset();

  const auto body = DictInsideVariants(61, &entry_variant);
  const auto bytes = Signal("v", body);
  status = Message::Parse(bytes, &message);
  EXPECT_STREQ(status.rule(), "nesting-too-deep");
  EXPECT_EQ(status.offset(), bytes.size() - body.size() + entry_variant);
}

TEST(Reader, AnArrayPropertyAsTheSixtyFifthContainerIsRejectedInItsSignature) {
  // An `as` property adds one container inside the entry's variant: with 60 variants around
  // the dictionary it is the 64th, with 61 the 65th, which its signature already shows.
  size_t entry_variant = 0;
  Message message;
  Status status =
      Message::Parse(Signal("v", DictInsideVariants(59, &entry_variant, true)), &message);
  EXPECT_TRUE(status.ok()) << status.rule() << " at " << status.offset();

  const auto body = DictInsideVariants(60, &entry_variant, true);
  const auto bytes = Signal("v", body);
  status = Message::Parse(bytes, &message);
  EXPECT_STREQ(status.rule(), "nesting-too-deep");
  EXPECT_EQ(status.offset(), bytes.size() - body.size() + entry_variant + 1);  // the 'a'
}

TEST(Reader, ABooleanArrayIsCheckedElementByElement) {
  const std::vector<uint8_t> good = {12, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0};
  const auto good_bytes = Signal("ab", good);  // outlives the views into it
  Message message;
  ASSERT_TRUE(Message::Parse(good_bytes, &message).ok());
  Value array;
  Iterator body = message.body();
  ASSERT_TRUE(body.Next(&array));
  Iterator elements = array.children();
  Value element;
  std::vector<bool> read;
  while (elements.Next(&element)) read.push_back(element.as_bool());
  EXPECT_EQ(read, (std::vector<bool>{true, false, true}));

  // The third element is 2: named at its own offset.
  std::vector<uint8_t> body_bytes = good;
  body_bytes[12] = 2;
  auto bytes = Signal("ab", body_bytes);
  Status status = Message::Parse(bytes, &message);
  EXPECT_STREQ(status.rule(), "bad-boolean");
  EXPECT_EQ(status.offset(), bytes.size() - body_bytes.size() + 12);

  // Two whole elements and two bytes of a third.
  body_bytes = {10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0};
  bytes = Signal("ab", body_bytes);
  status = Message::Parse(bytes, &message);
  EXPECT_STREQ(status.rule(), "truncated");
  EXPECT_EQ(status.offset(), bytes.size() - body_bytes.size() + 12);
}

TEST(Reader, StringsEndingTheMessageAreReadWhateverTheirLength) {
  // The last bytes of a message leave no room for a whole-word look past the string; those
  // strings take the byte-by-byte path and must read the same.
  for (std::string_view text :
       {"", "a", "active", "seven!!", "exactly8", "nine bytes", "h\xc3\xa9"}) {
    std::vector<uint8_t> body(4 + text.size() + 1, 0);
    body[0] = static_cast<uint8_t>(text.size());
    std::copy(text.begin(), text.end(), body.begin() + 4);
    const auto bytes = Signal("s", body);
    Message message;
    Status status = Message::Parse(bytes, &message);
    ASSERT_TRUE(status.ok()) << text << ": " << status.rule() << " at " << status.offset();
    Value value;
    Iterator values = message.body();
    ASSERT_TRUE(values.Next(&value));
    EXPECT_EQ(value.as_string(), text);
  }
}

// A body "st": a string of `length` bytes 'x' (or `text` when given), then a uint64.
std::vector<uint8_t> StringThenUint64(size_t length) {
  std::vector<uint8_t> body(4 + length + 1, 'x');
  body[0] = static_cast<uint8_t>(length);
  body[1] = body[2] = body[3] = 0;
  body[4 + length] = 0;
  body.resize((body.size() + 7) / 8 * 8 + 8, 0);
  return body;
}

TEST(Reader, NonAsciiStringsAreCheckedForUtf8AndNulWhereverTheBadByteIs) {
  // Strings of 1 to 40 bytes, read a word at a time, with one bad byte at each position: a
  // NUL or a stray continuation byte, each named at its offset; a 2-byte letter is accepted.
  for (size_t length = 1; length <= 40; ++length) {
    for (size_t bad = 0; bad < length; ++bad) {
      for (uint8_t byte : {uint8_t{0x00}, uint8_t{0x80}}) {
        auto body = StringThenUint64(length);
        body[4 + bad] = byte;
        const auto bytes = Signal("st", body);
        Message message;
        Status status = Message::Parse(bytes, &message);
        EXPECT_STREQ(status.rule(), byte == 0 ? "string-contains-nul" : "string-not-utf8")
            << "length " << length << ", bad byte at " << bad;
        EXPECT_EQ(status.offset(), bytes.size() - body.size() + 4 + bad)
            << "length " << length << ", bad byte at " << bad;
      }
    }
    if (length >= 2) {
      auto body = StringThenUint64(length);
      body[4 + length - 2] = 0xc3;
      body[4 + length - 1] = 0xa9;
      Message message;
      Status status = Message::Parse(Signal("st", body), &message);
      EXPECT_TRUE(status.ok()) << "length " << length << ": " << status.rule();
    }
  }
}

TEST(Reader, UnknownMessageTypesParseWithoutRequiredFields) {
  // "Message Types": a message of an unknown type must be ignored, not treated as an error;
  // the caller sees the raw type and decides.
  const auto bytes = FromHex("6c0900010000000007000000080000000501750009000000");
  Message message;
  ASSERT_TRUE(Message::Parse(bytes, &message).ok());
  EXPECT_EQ(static_cast<int>(message.header().type), 9);
  EXPECT_STREQ(MessageTypeName(message.header().type), "invalid");
}

}  // namespace
}  // namespace jsn
