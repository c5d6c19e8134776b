// Calls: each ready-made message parses back with the fields the bus expects, and GLib (an
// independent marshaller, run as Debian's /usr/bin/python3 with gi) reads the same bytes.
#include "jsn/wire/calls.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "jsn/wire/reader.h"
#include "jsn/wire/writer.h"
#include "support/child_process.h"
#include "support/hex.h"

namespace jsn {
namespace {

struct Built {
  std::vector<uint8_t> storage = std::vector<uint8_t>(1024);
  std::span<const uint8_t> bytes;
  Message message;
};

void ExpectParses(Built* built) {
  Status s = Message::Parse(built->bytes, &built->message);
  ASSERT_TRUE(s.ok()) << s.rule() << " at " << s.offset() << ": " << s.message();
}

TEST(Calls, HelloIsABusMethodCallWithNoBody) {
  Built b;
  ASSERT_TRUE(BuildHello(b.storage, 1, &b.bytes).ok());
  ExpectParses(&b);
  const Header& h = b.message.header();
  EXPECT_EQ(h.type, MessageType::kMethodCall);
  EXPECT_EQ(h.serial, 1u);
  EXPECT_EQ(h.destination, kBusName);
  EXPECT_EQ(h.path, kBusPath);
  EXPECT_EQ(h.interface, kBusInterface);
  EXPECT_EQ(h.member, "Hello");
  EXPECT_EQ(h.body_length, 0u);
  EXPECT_FALSE(h.has_signature);
}

TEST(Calls, MatchAndOwnerCallsCarryOneString) {
  Built add, owner;
  const std::string_view rule = "type='signal',sender='org.freedesktop.systemd1'";
  ASSERT_TRUE(BuildAddMatch(add.storage, 2, rule, &add.bytes).ok());
  ASSERT_TRUE(BuildGetNameOwner(owner.storage, 4, "org.freedesktop.systemd1", &owner.bytes).ok());
  ExpectParses(&add);
  ExpectParses(&owner);
  EXPECT_EQ(add.message.header().member, "AddMatch");
  EXPECT_EQ(owner.message.header().member, "GetNameOwner");
  EXPECT_EQ(owner.message.header().serial, 4u);
  EXPECT_EQ(wire_test::RenderBody(add.message),
            "(\"type='signal',sender='org.freedesktop.systemd1'\")");
  EXPECT_EQ(wire_test::RenderBody(owner.message), "(\"org.freedesktop.systemd1\")");
}

TEST(Calls, PropertiesGetAndGetAllAddressTheObject) {
  Built get, all;
  ASSERT_TRUE(BuildPropertiesGet(get.storage, 5, "org.freedesktop.systemd1",
                                 "/org/freedesktop/systemd1/unit/ssh_2eservice",
                                 "org.freedesktop.systemd1.Unit", "ActiveState", &get.bytes)
                  .ok());
  ASSERT_TRUE(BuildPropertiesGetAll(all.storage, 6, "org.freedesktop.systemd1",
                                    "/org/freedesktop/systemd1/unit/ssh_2eservice",
                                    "org.freedesktop.systemd1.Unit", &all.bytes)
                  .ok());
  ExpectParses(&get);
  ExpectParses(&all);
  EXPECT_EQ(get.message.header().interface, kPropertiesInterface);
  EXPECT_EQ(get.message.header().member, "Get");
  EXPECT_EQ(get.message.header().path, "/org/freedesktop/systemd1/unit/ssh_2eservice");
  EXPECT_EQ(get.message.header().destination, "org.freedesktop.systemd1");
  EXPECT_EQ(wire_test::RenderBody(get.message),
            "(\"org.freedesktop.systemd1.Unit\", \"ActiveState\")");
  EXPECT_EQ(all.message.header().member, "GetAll");
  EXPECT_EQ(wire_test::RenderBody(all.message), "(\"org.freedesktop.systemd1.Unit\")");
}

TEST(Calls, MethodCallWithoutArguments) {
  Built b;
  ASSERT_TRUE(BuildMethodCall(b.storage, 9, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                              "org.freedesktop.systemd1.Manager", "Subscribe", &b.bytes)
                  .ok());
  ExpectParses(&b);
  EXPECT_EQ(b.message.header().member, "Subscribe");
  EXPECT_EQ(b.message.header().interface, "org.freedesktop.systemd1.Manager");
  EXPECT_EQ(b.message.header().body_length, 0u);
}

// A reply from :1.1 whose body is `signature`, written by `append`.
template <typename Append>
void BuildReply(Built* built, std::string_view signature, Append append) {
  HeaderFields fields;
  fields.type = MessageType::kMethodReturn;
  fields.serial = 2;
  fields.reply_serial = 1;
  fields.sender = ":1.1";
  fields.signature = signature;
  Writer writer(built->storage);
  writer.Begin(fields);
  append(&writer);
  ASSERT_TRUE(writer.Finish(&built->bytes).ok());
  ExpectParses(built);
}

TEST(Calls, PropertiesGetValueReadsTheVariantOfTheTypeAskedFor) {
  Built text, number, bare;
  BuildReply(&text, "v", [](Writer* w) {
    w->OpenVariant("s");
    w->AppendString("active");
    w->CloseVariant();
  });
  BuildReply(&number, "v", [](Writer* w) {
    w->OpenVariant("u");
    w->AppendUint32(42);
    w->CloseVariant();
  });
  BuildReply(&bare, "s", [](Writer* w) { w->AppendString("active"); });
  Value value;
  ASSERT_TRUE(PropertiesGetValue(text.message, 's', &value));
  EXPECT_EQ(value.as_string(), "active");
  ASSERT_TRUE(PropertiesGetValue(number.message, 'u', &value));
  EXPECT_EQ(value.as_uint32(), 42u);
  EXPECT_FALSE(PropertiesGetValue(number.message, 's', &value));  // another type
  EXPECT_FALSE(PropertiesGetValue(bare.message, 's', &value));    // no variant
}

TEST(Calls, InvalidArgumentsAndSmallBuffersFailWithTheirRule) {
  Built b;
  EXPECT_STREQ(BuildGetNameOwner(b.storage, 0, "org.x.y", &b.bytes).rule(), "serial-zero");
  EXPECT_STREQ(
      BuildMethodCall(b.storage, 1, "org.x.y", "no-slash", "org.x.Y", "M", &b.bytes).rule(),
      "bad-object-path");
  EXPECT_STREQ(BuildPropertiesGet(b.storage, 1, "bad", "/", "org.x.Y", "P", &b.bytes).rule(),
               "bad-bus-name");
  std::vector<uint8_t> tiny(40);
  EXPECT_STREQ(BuildHello(tiny, 1, &b.bytes).rule(), "buffer-full");
}

// Runs /usr/bin/python3 with GLib over the files in `dir`, returning its standard output.
std::string GlibReads(const std::string& dir, const std::vector<std::string>& names) {
  static const char kScript[] =
      "import sys\n"
      "from gi.repository import Gio\n"
      "for path in sys.argv[1:]:\n"
      "    m = Gio.DBusMessage.new_from_blob(open(path, 'rb').read(), "
      "Gio.DBusCapabilityFlags.NONE)\n"
      "    body = m.get_body()\n"
      "    print(m.get_serial(), m.get_path(), m.get_interface(), m.get_member(),\n"
      "          m.get_destination(), body.print_(False) if body else '()')\n";
  std::vector<std::string> args = {"/usr/bin/python3", "-c", kScript};
  for (const auto& name : names) args.push_back(dir + "/" + name);
  testing::CommandResult result = testing::RunCommandStderrApart(args);
  EXPECT_TRUE(result.succeeded()) << "python3 " << result.Describe() << ": " << result.error_output;
  return result.output;
}

TEST(Calls, GlibReadsEveryBuiltMessage) {
  testing::TempDir dir("jsn-calls");
  Built hello, add, get, subscribe;
  ASSERT_TRUE(BuildHello(hello.storage, 1, &hello.bytes).ok());
  ASSERT_TRUE(BuildAddMatch(add.storage, 2, "type='signal'", &add.bytes).ok());
  ASSERT_TRUE(BuildPropertiesGet(get.storage, 3, "org.freedesktop.systemd1", "/a/b",
                                 "org.freedesktop.systemd1.Unit", "ActiveState", &get.bytes)
                  .ok());
  ASSERT_TRUE(BuildMethodCall(subscribe.storage, 4, "org.freedesktop.systemd1",
                              "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                              "Subscribe", &subscribe.bytes)
                  .ok());
  std::vector<std::string> names;
  int index = 0;
  for (Built* b : {&hello, &add, &get, &subscribe}) {
    names.push_back("m" + std::to_string(index++));
    ASSERT_TRUE(testing::WriteFile(
        dir.Join(names.back()),
        std::string(reinterpret_cast<const char*>(b->bytes.data()), b->bytes.size())));
  }
  const std::string out = GlibReads(dir.path(), names);
  EXPECT_EQ(out,
            "1 /org/freedesktop/DBus org.freedesktop.DBus Hello org.freedesktop.DBus ()\n"
            "2 /org/freedesktop/DBus org.freedesktop.DBus AddMatch org.freedesktop.DBus "
            "(\"type='signal'\",)\n"
            "3 /a/b org.freedesktop.DBus.Properties Get org.freedesktop.systemd1 "
            "('org.freedesktop.systemd1.Unit', 'ActiveState')\n"
            "4 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager Subscribe "
            "org.freedesktop.systemd1 ()\n");
}

}  // namespace
}  // namespace jsn
