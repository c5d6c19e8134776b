// Message::Parse, Value and Iterator over messages marshalled by GLib (recorded here as hex so
// the test does not depend on the fixture files), in both byte orders.
#include "jsn/reader.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace jsn {
namespace {

std::vector<uint8_t> FromHex(std::string_view hex) {
  std::vector<uint8_t> bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return bytes;
}

// The canonical rendering of COMMON.md ("Fixture files").
std::string Render(const Value& value);

std::string RenderSequence(Iterator it, const char* open, const char* close) {
  std::string out = open;
  Value v;
  bool first = true;
  while (it.Next(&v)) {
    if (!first) out += ", ";
    first = false;
    out += Render(v);
  }
  return out + close;
}

std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char buffer[8];
      snprintf(buffer, sizeof buffer, "\\x%02x", u);
      out += buffer;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string Render(const Value& value) {
  char buffer[64];
  switch (value.type()) {
    case 'y': return std::to_string(value.as_byte());
    case 'b': return value.as_bool() ? "true" : "false";
    case 'n': return std::to_string(value.as_int16());
    case 'q': return std::to_string(value.as_uint16());
    case 'i': return std::to_string(value.as_int32());
    case 'u': return std::to_string(value.as_uint32());
    case 'x': return std::to_string(value.as_int64());
    case 't': return std::to_string(value.as_uint64());
    case 'h': return std::to_string(value.as_unix_fd());
    case 'd':
      snprintf(buffer, sizeof buffer, "%.17g", value.as_double());
      return buffer;
    case 's': case 'o': case 'g': return Quote(value.as_string());
    case 'v': {
      Iterator it = value.children();
      Value inner;
      it.Next(&inner);
      return "<" + std::string(inner.signature()) + " " + Render(inner) + ">";
    }
    case 'a':
      if (value.signature()[1] == '{') return RenderSequence(value.children(), "{", "}");
      return RenderSequence(value.children(), "[", "]");
    case '{': {
      Iterator it = value.children();
      Value key, item;
      it.Next(&key);
      it.Next(&item);
      return Render(key) + ": " + Render(item);
    }
    case '(': return RenderSequence(value.children(), "(", ")");
  }
  return "?";
}

std::string RenderBody(const Message& message) { return RenderSequence(message.body(), "(", ")"); }

// Gio.DBusMessage.new_signal(unit path, Properties, PropertiesChanged), sender :1.5, serial 7,
// body ("org.freedesktop.systemd1.Unit", {ActiveState: "active", SubState: "running",
// ActiveEnterTimestamp: t 1700000000000000}, ["Names"]).
constexpr std::string_view kGlibPropertiesChangedLittle =
    "6c0401019e000000070000009a00000007017300040000003a312e350000000001016f002c0000002f6f72672f"
    "667265656465736b746f702f73797374656d64312f756e69742f7373685f326573657276696365000000000201"
    "73001f0000006f72672e667265656465736b746f702e444275732e50726f706572746965730008016700087361"
    "7b73767d6173000000030173001100000050726f706572746965734368616e676564000000000000001d000000"
    "6f72672e667265656465736b746f702e73797374656d64312e556e6974000000680000000b0000004163746976"
    "655374617465000173000006000000616374697665000008000000537562537461746500017300070000007275"
    "6e6e696e67000000000014000000416374697665456e74657254696d657374616d70000174000000000000401e"
    "18240a06000a000000050000004e616d657300";
constexpr std::string_view kGlibPropertiesChangedBig =
    "420401010000009e000000070000009a07017300000000043a312e350000000001016f000000002c2f6f72672f"
    "667265656465736b746f702f73797374656d64312f756e69742f7373685f326573657276696365000000000201"
    "73000000001f6f72672e667265656465736b746f702e444275732e50726f706572746965730008016700087361"
    "7b73767d6173000000030173000000001150726f706572746965734368616e676564000000000000000000001d"
    "6f72672e667265656465736b746f702e73797374656d64312e556e6974000000000000680000000b4163746976"
    "655374617465000173000000000006616374697665000000000008537562537461746500017300000000077275"
    "6e6e696e67000000000000000014416374697665456e74657254696d657374616d70000174000000000000060a"
    "24181e40000000000a000000054e616d657300";

// Gio.DBusMessage.new_method_call to org.example.Peer /org/example org.example.Iface.Everything,
// serial 0x01020304, one value of nearly every type (h needs a descriptor; the writer tests
// cover it).
constexpr std::string_view kGlibEverythingLittle =
    "6c010001b8000000040302019300000001016f000c0000002f6f72672f6578616d706c65000000000201730011"
    "0000006f72672e6578616d706c652e49666163650000000000000006017300100000006f72672e6578616d706c"
    "652e506565720000000000000000080167001c79626e716975787464736f67766179617b73767d612869732961"
    "616400000000000000030173000a00000045766572797468696e67000000000000ff00000001000000feffffff"
    "6079feff00286bee0000000000000000000000c0ffffffffffffffff0000000000000a400300000068c3a90004"
    "0000002f612f620005617b73767d00026169000800000001000000020000000300000078797a00100000000000"
    "0000010000006b00016200000000000000001c0000000000000001000000030000006f6e650000000000020000"
    "000300000074776f001800000000000000000000000800000000000000000000000000e03f";
constexpr std::string_view kGlibEverythingBig =
    "42010001000000b8010203040000009301016f000000000c2f6f72672f6578616d706c65000000000201730000"
    "0000116f72672e6578616d706c652e49666163650000000000000006017300000000106f72672e6578616d706c"
    "652e506565720000000000000000080167001c79626e716975787464736f67766179617b73767d612869732961"
    "616400000000000000030173000000000a45766572797468696e67000000000000ff00000000000001fffeffff"
    "fffe7960ee6b280000000000c000000000000000ffffffffffffffff400a0000000000000000000368c3a90000"
    "0000042f612f620005617b73767d00026169000000000800000001000000020000000378797a00000000100000"
    "0000000000016b00016200000000000000000000001c0000000000000001000000036f6e650000000000000000"
    "020000000374776f0000000018000000000000000000000008000000003fe0000000000000";

constexpr std::string_view kEverythingBody =
    "(255, true, -2, 65535, -100000, 4000000000, -4611686018427387904, 18446744073709551615, "
    "3.25, \"h\xc3\xa9\", \"/a/b\", \"a{sv}\", <ai [1, 2]>, [120, 121, 122], {\"k\": <b false>}, "
    "[(1, \"one\"), (2, \"two\")], [[], [0.5]])";

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
                         ::testing::Values(kGlibPropertiesChangedLittle, kGlibPropertiesChangedBig));

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

}  // namespace
}  // namespace jsn
