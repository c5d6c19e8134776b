// Connection behaviour that needs no bus: a closed connection refuses politely, serials; and
// its reply table over a fake bus (support/fake_bus.h), which plays a stranger answering our
// call: refused, and the call stays open for the real reply. Everything else that talks to a
// bus is in tests/integration/connection_private_bus_test.cc (a real dbus-daemon),
// connection_fake_bus_test.cc and peer_interface_test.cc (a fake bus).
#include "jsn/bus/connection.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "jsn/wire/calls.h"
#include "jsn/wire/writer.h"
#include "support/fake_bus.h"
#include "support/receive_until.h"

namespace jsn {
namespace {

using ::jsn::testing::FakeBus;
using ::jsn::testing::ReceiveUntil;

TEST(Connection, ClosedConnectionReportsConnectionClosedEverywhere) {
  Connection connection;
  EXPECT_FALSE(connection.is_open());
  EXPECT_EQ(connection.fd(), -1);
  EXPECT_TRUE(connection.unique_name().empty());
  const uint8_t bytes[16] = {'l', 1, 0, 1};
  EXPECT_STREQ(connection.Send(bytes).rule(), "connection-closed");
  EXPECT_STREQ(connection.Call(bytes, 1, Answerer::kBus).rule(), "connection-closed");
  EXPECT_STREQ(connection.Flush().rule(), "connection-closed");
  Incoming incoming;
  bool have = true;
  EXPECT_STREQ(connection.Receive(&incoming, &have).rule(), "connection-closed");
  EXPECT_FALSE(have);
  EXPECT_FALSE(connection.wants_write());
  EXPECT_EQ(connection.pending_calls(), 0u);
}

TEST(Connection, SerialsStartAtOneAndIncrease) {
  Connection connection;
  EXPECT_EQ(connection.NextSerial(), 1u);
  EXPECT_EQ(connection.NextSerial(), 2u);
  EXPECT_EQ(connection.NextSerial(), 3u);
}

TEST(Connection, BadAddressFailsBeforeAnySocket) {
  Connection connection;
  EXPECT_STREQ(connection.Open("tcp:host=localhost,port=1").rule(), "no-usable-address");
  EXPECT_STREQ(connection.Open("unix:path=/a b").rule(), "address-unescaped-byte");
  EXPECT_FALSE(connection.is_open());
}

// A reply to `reply_serial` from `sender`, as the fake bus writes it: a METHOD_RETURN holding
// `text`, or an ERROR when `error_name` is given.
std::vector<uint8_t> ReplyFrom(const char* sender, uint32_t reply_serial, const char* text,
                               const char* error_name = nullptr) {
  HeaderFields fields;
  fields.type = error_name != nullptr ? MessageType::kError : MessageType::kMethodReturn;
  fields.serial = 100 + reply_serial;
  fields.reply_serial = reply_serial;
  fields.sender = sender;
  fields.destination = ":1.99";
  if (error_name != nullptr) fields.error_name = error_name;
  fields.signature = "s";
  std::vector<uint8_t> buffer(512);
  Writer writer(buffer);
  writer.Begin(fields);
  writer.AppendString(text);
  std::span<const uint8_t> message;
  EXPECT_TRUE(writer.Finish(&message).ok());
  return {message.begin(), message.end()};
}

// What the connection hands on next: "reply TAG TEXT", "refused TAG TEXT" or "other".
std::string NextReceived(Connection* connection) {
  std::string seen;
  EXPECT_TRUE(ReceiveUntil(connection, [&](const Incoming& in) {
    Iterator body = in.message.body();
    Value text;
    std::string word = body.Next(&text) && text.type() == 's' ? std::string(text.as_string()) : "";
    seen = in.is_reply  ? "reply " + std::to_string(in.tag) + " " + word
           : in.refused ? "refused " + std::to_string(in.tag) + " " + word
                        : "other";
    return true;
  }));
  return seen;
}

class ConnectionReplies : public ::testing::Test {
 protected:
  void SetUp() override {
    std::thread server([&] { fake_.Handshake(); });
    ASSERT_TRUE(connection_.Open(fake_.address()).ok());
    server.join();
  }

  // Sends GetNameOwner as a call with `tag`, answered by `answerer`; returns its serial.
  uint32_t SendCall(uint64_t tag, Answerer answerer) {
    uint8_t buffer[512];
    std::span<const uint8_t> call;
    uint32_t serial = connection_.NextSerial();
    EXPECT_TRUE(BuildGetNameOwner(buffer, serial, kSystemdDestination, &call).ok());
    EXPECT_TRUE(connection_.Call(call, tag, answerer).ok());
    EXPECT_FALSE(fake_.ReadMessage().empty());
    return serial;
  }

  static constexpr const char* kSystemdDestination = "org.freedesktop.systemd1";
  FakeBus fake_;
  Connection connection_;
};

TEST_F(ConnectionReplies, AReplyFromAnotherSenderIsRefusedAndTheCallStaysOpenForTheRealOne) {
  uint32_t serial = SendCall(7, Answerer::kBus);
  fake_.Write(ReplyFrom(":1.666", serial, "forged"));
  fake_.Write(ReplyFrom(":1.666", serial, "forged error", "org.freedesktop.DBus.Error.Failed"));
  fake_.Write(ReplyFrom("", serial, "no sender"));
  fake_.Write(ReplyFrom("org.freedesktop.DBus", serial, ":1.7"));
  EXPECT_EQ(NextReceived(&connection_), "refused 7 forged");
  EXPECT_EQ(connection_.pending_calls(), 1u);
  EXPECT_EQ(NextReceived(&connection_), "refused 7 forged error");
  EXPECT_EQ(NextReceived(&connection_), "refused 7 no sender");
  EXPECT_EQ(connection_.pending_calls(), 1u);
  EXPECT_EQ(NextReceived(&connection_), "reply 7 :1.7");
  EXPECT_EQ(connection_.pending_calls(), 0u);
  fake_.Write(ReplyFrom("org.freedesktop.DBus", serial, "again"));
  EXPECT_EQ(NextReceived(&connection_), "other");  // answered once
}

TEST_F(ConnectionReplies, AServiceCallIsAnsweredByTheOwnerItWasToldOfOrAnErrorFromTheBus) {
  uint32_t first = SendCall(1, Answerer::kService);  // before the owner is known
  uint32_t second = SendCall(2, Answerer::kService);
  connection_.TrustServiceOwner(":1.7");
  EXPECT_EQ(connection_.service_owner(), ":1.7");
  fake_.Write(ReplyFrom(":1.8", first, "stranger"));
  fake_.Write(ReplyFrom("org.freedesktop.DBus", first, "the bus's return"));
  fake_.Write(ReplyFrom(":1.7", first, "systemd"));
  fake_.Write(ReplyFrom("org.freedesktop.DBus", second, "gone",
                        "org.freedesktop.DBus.Error.ServiceUnknown"));
  EXPECT_EQ(NextReceived(&connection_), "refused 1 stranger");
  EXPECT_EQ(NextReceived(&connection_), "refused 1 the bus's return");
  EXPECT_EQ(NextReceived(&connection_), "reply 1 systemd");
  EXPECT_EQ(NextReceived(&connection_), "reply 2 gone");
  EXPECT_EQ(connection_.pending_calls(), 0u);
}

TEST_F(ConnectionReplies, CloseForgetsTheCallsAndTheOwner) {
  SendCall(1, Answerer::kService);
  connection_.TrustServiceOwner(":1.7");
  connection_.Close();
  EXPECT_EQ(connection_.pending_calls(), 0u);
  EXPECT_EQ(connection_.service_owner(), "");
}

}  // namespace
}  // namespace jsn
