// Writer: what it marshals reads back through Message::Parse to the same values, in both byte
// orders, with the body bytes GLib produces for the same values; mistakes are kept, first one
// wins.
#include "jsn/wire/writer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "jsn/wire/reader.h"
#include "support/glib_messages.h"
#include "support/hex.h"

namespace jsn {
namespace {

using wire_test::FromHex;
using wire_test::RenderBody;

HeaderFields Call(std::string_view signature) {
  HeaderFields fields;
  fields.type = MessageType::kMethodCall;
  fields.serial = 0x01020304;
  fields.destination = "org.example.Peer";
  fields.path = "/org/example";
  fields.interface = "org.example.Iface";
  fields.member = "Everything";
  fields.signature = signature;
  return fields;
}

// Parses what a writer produced, failing the test with the rule when it does not parse.
std::string ParseAndRender(std::span<const uint8_t> bytes, Message* message) {
  Status status = Message::Parse(bytes, message);
  EXPECT_TRUE(status.ok()) << status.rule() << " at " << status.offset() << ": "
                           << status.message();
  return status.ok() ? RenderBody(*message) : std::string("<parse failed>");
}

class WriterRoundTrip : public ::testing::TestWithParam<ByteOrder> {
 protected:
  std::vector<uint8_t> buffer_ = std::vector<uint8_t>(4096, 0xee);
};

TEST_P(WriterRoundTrip, EveryTypeReadsBackAndMatchesGlibBodyBytes) {
  Writer w(buffer_, GetParam());
  w.Begin(Call("ybnqiuxtdsogvaya{sv}a(is)aad"));
  w.AppendByte(255);
  w.AppendBool(true);
  w.AppendInt16(-2);
  w.AppendUint16(65535);
  w.AppendInt32(-100000);
  w.AppendUint32(4000000000u);
  w.AppendInt64(-(int64_t{1} << 62));
  w.AppendUint64(~uint64_t{0});
  w.AppendDouble(3.25);
  w.AppendString("h\xc3\xa9");
  w.AppendObjectPath("/a/b");
  w.AppendSignature("a{sv}");
  w.OpenVariant("ai");
  w.OpenArray();
  w.AppendInt32(1);
  w.AppendInt32(2);
  w.CloseArray();
  w.CloseVariant();
  w.OpenArray();
  for (char c : std::string_view("xyz")) w.AppendByte(static_cast<uint8_t>(c));
  w.CloseArray();
  w.OpenArray();
  w.OpenDictEntry();
  w.AppendString("k");
  w.OpenVariant("b");
  w.AppendBool(false);
  w.CloseVariant();
  w.CloseDictEntry();
  w.CloseArray();
  w.OpenArray();
  w.OpenStruct();
  w.AppendInt32(1);
  w.AppendString("one");
  w.CloseStruct();
  w.OpenStruct();
  w.AppendInt32(2);
  w.AppendString("two");
  w.CloseStruct();
  w.CloseArray();
  w.OpenArray();
  w.OpenArray();
  w.CloseArray();
  w.OpenArray();
  w.AppendDouble(0.5);
  w.CloseArray();
  w.CloseArray();
  std::span<const uint8_t> bytes;
  Status status = w.Finish(&bytes);
  ASSERT_TRUE(status.ok()) << status.rule() << ": " << status.message();
  Message message;
  EXPECT_EQ(ParseAndRender(bytes, &message), wire_test::kEverythingBody);
  EXPECT_EQ(message.header().byte_order, GetParam());
  EXPECT_EQ(message.header().serial, 0x01020304u);
  EXPECT_EQ(message.header().member, "Everything");

  // GLib orders header fields differently, but the body has one canonical encoding.
  const auto glib = FromHex(GetParam() == ByteOrder::kLittle ? wire_test::kGlibEverythingLittle
                                                             : wire_test::kGlibEverythingBig);
  Message glib_message;
  ASSERT_TRUE(Message::Parse(glib, &glib_message).ok());
  const size_t body = message.header().body_length;
  ASSERT_EQ(body, glib_message.header().body_length);
  EXPECT_EQ(0, memcmp(bytes.data() + bytes.size() - body, glib.data() + glib.size() - body, body));
}

TEST_P(WriterRoundTrip, ThirtyTwoNestedArraysAndStructsAndNestedVariants) {
  const std::string arrays = std::string(32, 'a') + "y";
  const std::string structs = std::string(32, '(') + "t" + std::string(32, ')');
  const std::string signature = arrays + structs + "v";
  Writer w(buffer_, GetParam());
  w.Begin(Call(signature));
  for (int i = 0; i < 32; ++i) w.OpenArray();
  w.AppendByte(7);
  for (int i = 0; i < 32; ++i) w.CloseArray();
  for (int i = 0; i < 32; ++i) w.OpenStruct();
  w.AppendUint64(9);
  for (int i = 0; i < 32; ++i) w.CloseStruct();
  for (int i = 0; i < 10; ++i) w.OpenVariant("v");
  w.OpenVariant("(sx)");
  w.OpenStruct();
  w.AppendString("deep");
  w.AppendInt64(-1);
  w.CloseStruct();
  w.CloseVariant();
  for (int i = 0; i < 10; ++i) w.CloseVariant();
  std::span<const uint8_t> bytes;
  Status status = w.Finish(&bytes);
  ASSERT_TRUE(status.ok()) << status.rule() << ": " << status.message();
  Message message;
  std::string expected = "(" + std::string(32, '[') + "7" + std::string(32, ']') + ", " +
                         std::string(32, '(') + "9" + std::string(32, ')') + ", ";
  for (int i = 0; i < 10; ++i) expected += "<v ";
  expected += "<(sx) (\"deep\", -1)>" + std::string(10, '>') + ")";
  EXPECT_EQ(ParseAndRender(bytes, &message), expected);
}

TEST_P(WriterRoundTrip, EmptyArraysKeepThePaddingToTheirElementAlignment) {
  Writer w(buffer_, GetParam());
  w.Begin(Call("ya(t)yata{sv}"));
  w.AppendByte(1);
  w.OpenArray();
  w.CloseArray();
  w.AppendByte(2);
  w.OpenArray();
  w.CloseArray();
  w.OpenArray();
  w.CloseArray();
  std::span<const uint8_t> bytes;
  ASSERT_TRUE(w.Finish(&bytes).ok());
  Message message;
  EXPECT_EQ(ParseAndRender(bytes, &message), "(1, [], 2, [], {})");
  // y, pad, length of a(t) (already 8-aligned at 8); y, pad, length of at at 12, padded to
  // 16; length of a{sv} at 16, padded to 24 although the array is empty.
  EXPECT_EQ(message.header().body_length, 24u);
}

TEST_P(WriterRoundTrip, UnixFdIndexesBelowTheHeaderCount) {
  HeaderFields fields = Call("hah");
  fields.unix_fds = 3;
  Writer w(buffer_, GetParam());
  w.Begin(fields);
  w.AppendUnixFd(2);
  w.OpenArray();
  w.AppendUnixFd(0);
  w.AppendUnixFd(1);
  w.CloseArray();
  std::span<const uint8_t> bytes;
  ASSERT_TRUE(w.Finish(&bytes).ok());
  Message message;
  EXPECT_EQ(ParseAndRender(bytes, &message), "(2, [0, 1])");
  EXPECT_EQ(message.header().unix_fds, 3u);
  EXPECT_TRUE(message.header().has_unix_fds);
}

TEST_P(WriterRoundTrip, SignalErrorAndReturnCarryTheirHeaderFields) {
  HeaderFields signal;
  signal.type = MessageType::kSignal;
  signal.serial = 5;
  signal.path = "/org/freedesktop/systemd1";
  signal.interface = "org.freedesktop.systemd1.Manager";
  signal.member = "JobRemoved";
  signal.sender = ":1.0";
  signal.signature = "uoss";
  Writer w(buffer_, GetParam());
  w.Begin(signal);
  w.AppendUint32(12);
  w.AppendObjectPath("/org/freedesktop/systemd1/job/12");
  w.AppendString("ssh.service");
  w.AppendString("done");
  std::span<const uint8_t> bytes;
  ASSERT_TRUE(w.Finish(&bytes).ok());
  Message message;
  EXPECT_EQ(ParseAndRender(bytes, &message),
            "(12, \"/org/freedesktop/systemd1/job/12\", \"ssh.service\", \"done\")");
  EXPECT_EQ(message.header().type, MessageType::kSignal);
  EXPECT_EQ(message.header().sender, ":1.0");

  HeaderFields error;
  error.type = MessageType::kError;
  error.serial = 6;
  error.reply_serial = 4;
  error.error_name = "org.freedesktop.DBus.Error.UnknownMethod";
  error.destination = ":1.7";
  error.signature = "s";
  Writer e(buffer_, GetParam());
  e.Begin(error);
  e.AppendString("no such method");
  ASSERT_TRUE(e.Finish(&bytes).ok());
  EXPECT_EQ(ParseAndRender(bytes, &message), "(\"no such method\")");
  EXPECT_EQ(message.header().error_name, "org.freedesktop.DBus.Error.UnknownMethod");
  EXPECT_EQ(message.header().reply_serial, 4u);

  HeaderFields reply;
  reply.type = MessageType::kMethodReturn;
  reply.serial = 7;
  reply.reply_serial = 3;
  reply.flags = kFlagNoReplyExpected;
  Writer r(buffer_, GetParam());
  r.Begin(reply);
  ASSERT_TRUE(r.Finish(&bytes).ok());
  EXPECT_EQ(ParseAndRender(bytes, &message), "()");
  EXPECT_EQ(message.header().flags, kFlagNoReplyExpected);
  EXPECT_FALSE(message.header().has_signature);
}

INSTANTIATE_TEST_SUITE_P(BothByteOrders, WriterRoundTrip,
                         ::testing::Values(ByteOrder::kLittle, ByteOrder::kBig));

TEST(Writer, KeepsTheFirstMistakeAndIgnoresWhatFollows) {
  std::vector<uint8_t> buffer(256);
  Writer w(buffer);
  w.Begin(Call("su"));
  w.AppendUint32(1);  // wrong: a string comes first
  w.AppendString("x");
  w.AppendBool(true);
  std::span<const uint8_t> bytes;
  Status s = w.Finish(&bytes);
  EXPECT_STREQ(s.rule(), "writer-type-mismatch");
  EXPECT_NE(std::string(s.message()).find("expected 's'"), std::string::npos) << s.message();
  EXPECT_STREQ(w.status().rule(), "writer-type-mismatch");
}

TEST(Writer, RejectsValuesBeyondTheSignature) {
  std::vector<uint8_t> buffer(256);
  Writer w(buffer);
  w.Begin(Call("s"));
  w.AppendString("x");
  w.AppendString("y");
  std::span<const uint8_t> bytes;
  EXPECT_STREQ(w.Finish(&bytes).rule(), "writer-type-mismatch");
}

TEST(Writer, RejectsABodyOrContainerLeftIncomplete) {
  std::vector<uint8_t> buffer(256);
  std::span<const uint8_t> bytes;
  Writer missing(buffer);
  missing.Begin(Call("su"));
  missing.AppendString("x");
  EXPECT_STREQ(missing.Finish(&bytes).rule(), "writer-container-incomplete");
  Writer open(buffer);
  open.Begin(Call("as"));
  open.OpenArray();
  EXPECT_STREQ(open.Finish(&bytes).rule(), "writer-container-incomplete");
  Writer half(buffer);
  half.Begin(Call("(ss)"));
  half.OpenStruct();
  half.AppendString("x");
  half.CloseStruct();
  EXPECT_STREQ(half.Finish(&bytes).rule(), "writer-container-incomplete");
  Writer wrong(buffer);
  wrong.Begin(Call("as"));
  wrong.OpenArray();
  wrong.CloseStruct();
  EXPECT_STREQ(wrong.Finish(&bytes).rule(), "writer-misuse");
}

TEST(Writer, ReportsAFullBufferInsteadOfOverrunningIt) {
  std::vector<uint8_t> buffer(200, 0xaa);
  std::span<uint8_t> small(buffer.data(), 120);
  Writer w(small);
  w.Begin(Call("s"));
  w.AppendString(std::string(100, 'x'));
  std::span<const uint8_t> bytes;
  Status s = w.Finish(&bytes);
  EXPECT_STREQ(s.rule(), "buffer-full");
  for (size_t i = 120; i < buffer.size(); ++i) ASSERT_EQ(buffer[i], 0xaa) << i;
}

TEST(Writer, ChecksHeaderFieldsEachTypeRequiresAndTheirNames) {
  std::vector<uint8_t> buffer(256);
  std::span<const uint8_t> bytes;
  const auto rule_of = [&](const HeaderFields& fields) {
    Writer w(buffer);
    w.Begin(fields);
    return std::string(w.Finish(&bytes).rule());
  };
  HeaderFields f = Call("");
  f.serial = 0;
  EXPECT_EQ(rule_of(f), "serial-zero");
  f = Call("");
  f.member = "";
  EXPECT_EQ(rule_of(f), "missing-header-field");
  f = Call("");
  f.type = MessageType::kSignal;
  f.interface = "";
  EXPECT_EQ(rule_of(f), "missing-header-field");
  f = Call("");
  f.type = MessageType::kError;
  f.error_name = "org.x.Failed";
  EXPECT_EQ(rule_of(f), "missing-header-field");  // no reply serial
  f = Call("");
  f.path = "/bad/";
  EXPECT_EQ(rule_of(f), "bad-object-path");
  f = Call("");
  f.interface = "nodots";
  EXPECT_EQ(rule_of(f), "bad-interface-name");
  f = Call("");
  f.member = "Has.Dot";
  EXPECT_EQ(rule_of(f), "bad-member-name");
  f = Call("");
  f.destination = "1.bad";
  EXPECT_EQ(rule_of(f), "bad-bus-name");
  f = Call("a{vs}");
  EXPECT_EQ(rule_of(f), "dict-key-not-basic");
  f = Call("");
  f.type = MessageType::kInvalid;
  EXPECT_EQ(rule_of(f), "bad-message-type");
}

TEST(Writer, RejectsInvalidStringsPathsSignaturesAndVariants) {
  std::vector<uint8_t> buffer(256);
  std::span<const uint8_t> bytes;
  {
    Writer w(buffer);
    w.Begin(Call("s"));
    w.AppendString(std::string_view("a\0b", 3));
    EXPECT_STREQ(w.Finish(&bytes).rule(), "string-contains-nul");
  }
  {
    Writer w(buffer);
    w.Begin(Call("s"));
    w.AppendString("\xed\xa0\x80");
    EXPECT_STREQ(w.Finish(&bytes).rule(), "string-not-utf8");
  }
  {
    Writer w(buffer);
    w.Begin(Call("o"));
    w.AppendObjectPath("relative");
    EXPECT_STREQ(w.Finish(&bytes).rule(), "bad-object-path");
  }
  {
    Writer w(buffer);
    w.Begin(Call("g"));
    w.AppendSignature("a");
    EXPECT_STREQ(w.Finish(&bytes).rule(), "bad-signature");
  }
  {
    Writer w(buffer);
    w.Begin(Call("v"));
    w.OpenVariant("ss");
    EXPECT_STREQ(w.Finish(&bytes).rule(), "variant-not-single-type");
  }
  {
    Writer w(buffer);
    w.Begin(Call("h"));
    w.AppendUnixFd(0);  // no UNIX_FDS header: no index is valid
    EXPECT_STREQ(w.Finish(&bytes).rule(), "unix-fd-out-of-range");
  }
}

TEST(Writer, VariantsCountTowardTheTotalNestingLimit) {
  std::vector<uint8_t> buffer(4096);
  std::span<const uint8_t> bytes;
  Writer deepest(buffer);
  deepest.Begin(Call("v"));
  for (int i = 0; i < 63; ++i) deepest.OpenVariant("v");
  deepest.OpenVariant("y");
  deepest.AppendByte(1);
  for (int i = 0; i < 64; ++i) deepest.CloseVariant();
  ASSERT_TRUE(deepest.Finish(&bytes).ok());
  Message message;
  EXPECT_TRUE(Message::Parse(bytes, &message).ok());

  Writer w(buffer);
  w.Begin(Call("v"));
  for (int i = 0; i < 65; ++i) w.OpenVariant("v");
  EXPECT_STREQ(w.Finish(&bytes).rule(), "nesting-too-deep");
}

TEST(Writer, CallerStringsNeedNotOutliveBegin) {
  std::vector<uint8_t> buffer(256);
  Writer w(buffer);
  {
    std::string signature = "su";
    HeaderFields fields = Call(signature);
    w.Begin(fields);
    signature.assign("XX");
  }
  w.AppendString("still");
  w.AppendUint32(1);
  std::span<const uint8_t> bytes;
  ASSERT_TRUE(w.Finish(&bytes).ok());
  Message message;
  EXPECT_EQ(ParseAndRender(bytes, &message), "(\"still\", 1)");
}

}  // namespace
}  // namespace jsn
