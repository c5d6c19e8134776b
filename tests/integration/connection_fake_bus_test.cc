// The bus connection against a fake bus (support/fake_bus.h) driven step by step, for what a
// real bus will not do on demand: refuse authentication, hang up or stay silent during start-up,
// listen at an abstract or escaped address, send invalid, oversized or corrupt messages, or read
// nothing while calls pile up.
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "jsn/bus/connection.h"
#include "jsn/wire/calls.h"
#include "jsn/wire/writer.h"
#include "support/fake_bus.h"
#include "support/fixtures.h"
#include "support/receive_until.h"

namespace jsn {
namespace {

using ::jsn::testing::FakeBus;
using ::jsn::testing::Fixture;
using ::jsn::testing::kFakeGuid;
using ::jsn::testing::ReadFixtures;
using ::jsn::testing::ReceiveUntil;
using ::jsn::testing::RuleOfInvalidFixture;

// A signal from the fake bus: member `member`, body one boolean (so a test can corrupt it).
std::string FakeSignal(const char* member, uint32_t serial, size_t padding_bytes = 0) {
  HeaderFields fields;
  fields.type = MessageType::kSignal;
  fields.serial = serial;
  fields.path = "/com/example/Fake";
  fields.interface = "com.example.Fake";
  fields.member = member;
  fields.sender = kBusName;
  fields.signature = padding_bytes > 0 ? "bs" : "b";
  std::vector<uint8_t> buffer(padding_bytes + 512);
  Writer writer(buffer);
  writer.Begin(fields);
  writer.AppendBool(true);
  if (padding_bytes > 0) writer.AppendString(std::string(padding_bytes, 'x'));
  std::span<const uint8_t> message;
  EXPECT_TRUE(writer.Finish(&message).ok());
  return std::string(reinterpret_cast<const char*>(message.data()), message.size());
}

TEST(ConnectionFakeBus, RejectedAuthenticationIsAnErrorNamingTheOfferedMechanisms) {
  FakeBus fake;
  std::thread server([&] {
    fake.Accept();
    fake.ReadLine();
    fake.Write("REJECTED DBUS_COOKIE_SHA1\r\n");
    fake.ReadLine();  // until the client hangs up
  });
  Connection connection;
  Status status = connection.Open(fake.address());
  server.join();
  EXPECT_STREQ(status.rule(), "auth-rejected");
  EXPECT_NE(std::string(status.message()).find("DBUS_COOKIE_SHA1"), std::string::npos);
  EXPECT_FALSE(connection.is_open());
}

TEST(ConnectionFakeBus, ServerHangingUpDuringStartUpIsConnectionClosed) {
  FakeBus fake;
  std::thread server([&] {
    fake.Accept();
    fake.ReadLine();
    fake.Hangup();
  });
  Connection connection;
  Status status = connection.Open(fake.address());
  server.join();
  EXPECT_STREQ(status.rule(), "connection-closed");
}

TEST(ConnectionFakeBus, ClientSendsNulAuthThenAnswersDataThenBegin) {
  FakeBus fake;
  std::string auth, data, begin;
  std::thread server([&] {
    fake.Accept();
    auth = fake.ReadLine();
    fake.Write("DATA\r\n");
    data = fake.ReadLine();
    fake.Write("ERROR \"stop here\"\r\n");
    begin = fake.ReadLine();  // "" once the client hangs up
  });
  Connection connection;
  Status status = connection.Open(fake.address());
  server.join();
  EXPECT_STREQ(status.rule(), "auth-error");
  EXPECT_EQ(
      auth, std::string("\0AUTH EXTERNAL ", 15) + [] {
        std::string hex;
        for (char c : std::to_string(geteuid())) hex += "3" + std::string(1, c);
        return hex;
      }());
  EXPECT_EQ(data, "DATA");
  EXPECT_EQ(begin, "");
}

TEST(ConnectionFakeBus, OverLongAuthLineIsAnError) {
  FakeBus fake;
  std::thread server([&] {
    fake.Accept();
    fake.ReadLine();
    fake.Write(std::string(kMaxAuthLineLength + 10, 'E'));
    fake.ReadLine();  // until the client hangs up
  });
  Connection connection;
  Status status = connection.Open(fake.address());
  server.join();
  EXPECT_STREQ(status.rule(), "auth-line-too-long");
}

TEST(ConnectionFakeBus, BytesAfterOkBeforeBeginAreRefused) {
  FakeBus fake;
  std::thread server([&] {
    fake.Accept();
    fake.ReadLine();
    fake.Write(std::string("OK ") + kFakeGuid + std::string("\r\nl\1\0\1", 8));
    fake.ReadLine();  // until the client hangs up
  });
  Connection connection;
  Status status = connection.Open(fake.address());
  server.join();
  EXPECT_STREQ(status.rule(), "auth-unexpected-bytes");
}

// Opening in steps, as the daemon's loop does: nothing waits; each Advance takes what came.
TEST(ConnectionFakeBus, BeginAndAdvanceOpenWithoutBlocking) {
  FakeBus fake;
  AddressList addresses;
  ASSERT_TRUE(ParseAddressList(fake.address(), &addresses).ok());
  Connection connection;
  ASSERT_TRUE(connection.Begin(addresses.entries[0]).ok());
  EXPECT_TRUE(connection.opening());
  // Nobody has answered yet: a step finds nothing and returns at once.
  ASSERT_TRUE(connection.Advance().ok());
  EXPECT_TRUE(connection.opening());
  std::thread server([&] { fake.Handshake(); });
  while (connection.opening()) {
    pollfd entry{connection.fd(), POLLIN, 0};
    ASSERT_EQ(poll(&entry, 1, 30000), 1);
    Status status = connection.Advance();
    ASSERT_TRUE(status.ok()) << status.message();
  }
  server.join();
  EXPECT_TRUE(connection.is_open());
  EXPECT_EQ(connection.unique_name(), ":1.99");
}

TEST(ConnectionFakeBus, ConnectsToAnAbstractSocket) {
  FakeBus fake("abstract", true);
  std::thread server([&] { fake.Handshake(); });
  Connection connection;
  Status status = connection.Open(fake.address());
  server.join();
  ASSERT_TRUE(status.ok()) << status.rule() << ": " << status.message();
  EXPECT_EQ(connection.unique_name(), ":1.99");
}

TEST(ConnectionFakeBus, ConnectsToASocketPathThatNeedsEscaping) {
  FakeBus fake("a b,c;d=e", false, "a%20b%2cc%3bd%3de");
  std::thread server([&] { fake.Handshake(); });
  Connection connection;
  Status status = connection.Open(fake.address());
  server.join();
  ASSERT_TRUE(status.ok()) << status.rule() << ": " << status.message();
}

TEST(ConnectionFakeBus, SilentServerIsAnAuthTimeout) {
  FakeBus fake;
  ConnectionOptions options;
  options.startup_timeout_ms = 100;
  Connection connection(options);
  // The kernel completes the connection from the backlog; nobody ever answers.
  Status status = connection.Open(fake.address());
  EXPECT_STREQ(status.rule(), "auth-timeout");
  EXPECT_FALSE(connection.is_open());
}

TEST(ConnectionFakeBus, InvalidMessageIsReportedAndSkippedAndTheConnectionStaysUsable) {
  FakeBus fake;
  std::thread server([&] { fake.Handshake(); });
  Connection connection;
  Status status = connection.Open(fake.address());
  server.join();
  ASSERT_TRUE(status.ok()) << status.rule() << ": " << status.message();
  EXPECT_EQ(connection.unique_name(), ":1.99");
  EXPECT_EQ(connection.server_guid(), kFakeGuid);

  std::string bad = FakeSignal("Bad", 2);
  bad[bad.size() - 4] = 2;  // the boolean: only 0 and 1 are valid
  fake.Write(bad + FakeSignal("Good", 3));
  std::vector<std::string> errors;
  std::string member;
  ASSERT_TRUE(ReceiveUntil(
      &connection,
      [&](const Incoming& in) {
        member = std::string(in.message.header().member);
        return true;
      },
      &errors));
  EXPECT_EQ(member, "Good");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0], "connection-closed");
  EXPECT_TRUE(connection.is_open());
}

// fixtures/invalid/RULE[--what].bin: each breaks one rule (tools/make-invalid-fixtures),
// as the stream bytes a fake bus writes.
struct InvalidFixture {
  std::string name;
  std::string rule;
  std::string bytes;
};
::testing::AssertionResult ReadInvalidFixtures(std::vector<InvalidFixture>* invalid) {
  std::vector<Fixture> fixtures;
  ::testing::AssertionResult read = ReadFixtures("fixtures/invalid", &fixtures);
  for (const Fixture& fixture : fixtures) {
    invalid->push_back({fixture.name + ".bin", RuleOfInvalidFixture(fixture.name),
                        std::string(fixture.bytes.begin(), fixture.bytes.end())});
  }
  return read;
}

// The fixed header's length, or false when MessageLength refuses it.
bool FramedLength(const std::string& bytes, size_t* length) {
  return bytes.size() >= 16 &&
         MessageLength({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, length).ok();
}

// Every invalid fixture whose fixed header frames it exactly, sent by the bus between good
// messages: each is reported with its rule and skipped, and the next message still arrives.
// (Fixtures whose length disagrees with their header, truncated or with trailing bytes, only
// make sense to a reader given one buffer: on a stream they would merge with the next.)
TEST(ConnectionFakeBus, EveryInvalidFixtureIsReportedWithItsRuleAndSkipped) {
  std::vector<InvalidFixture> fixtures;
  ASSERT_TRUE(ReadInvalidFixtures(&fixtures));
  FakeBus fake;
  std::thread server([&] { fake.Handshake(); });
  Connection connection;
  ASSERT_TRUE(connection.Open(fake.address()).ok());
  server.join();
  size_t tried = 0;
  uint32_t serial = 2;
  for (const InvalidFixture& fixture : fixtures) {
    size_t length = 0;
    if (!FramedLength(fixture.bytes, &length) || length != fixture.bytes.size()) continue;
    ++tried;
    std::thread writer([&] { fake.Write(fixture.bytes + FakeSignal("Good", serial++)); });
    std::vector<std::string> errors;
    std::string member;
    bool arrived = ReceiveUntil(
        &connection,
        [&](const Incoming& in) {
          member = std::string(in.message.header().member);
          return true;
        },
        &errors);
    writer.join();
    EXPECT_TRUE(arrived) << fixture.name;
    EXPECT_EQ(member, "Good") << fixture.name;
    EXPECT_EQ(errors, std::vector<std::string>{fixture.rule}) << fixture.name;
    ASSERT_TRUE(connection.is_open()) << fixture.name;
  }
  EXPECT_GT(tried, 50u);
}

// Invalid fixtures whose fixed header itself is refused: the stream cannot go on, so the
// connection closes with that rule.
TEST(ConnectionFakeBus, InvalidFixturesWithABrokenFixedHeaderCloseTheConnection) {
  std::vector<InvalidFixture> fixtures;
  ASSERT_TRUE(ReadInvalidFixtures(&fixtures));
  size_t tried = 0;
  for (const InvalidFixture& fixture : fixtures) {
    size_t length = 0;
    if (fixture.bytes.size() < 16 || FramedLength(fixture.bytes, &length)) continue;
    ++tried;
    FakeBus fake;
    std::thread server([&] { fake.Handshake(); });
    Connection connection;
    ASSERT_TRUE(connection.Open(fake.address()).ok());
    server.join();
    fake.Write(fixture.bytes);
    std::vector<std::string> errors;
    EXPECT_FALSE(ReceiveUntil(
        &connection, [](const Incoming&) { return true; }, &errors));
    EXPECT_EQ(errors, std::vector<std::string>{fixture.rule}) << fixture.name;
    EXPECT_FALSE(connection.is_open()) << fixture.name;
  }
  EXPECT_GE(tried, 2u);
}

TEST(ConnectionFakeBus, MessageOverTheCapIsDroppedAndTheNextOneArrives) {
  FakeBus fake;
  std::thread server([&] { fake.Handshake(); });
  ConnectionOptions options;
  options.receive_buffer_bytes = 1024;
  options.max_message_length = 4096;
  Connection connection(options);
  Status status = connection.Open(fake.address());
  server.join();
  ASSERT_TRUE(status.ok()) << status.message();
  std::thread writer([&] {
    fake.Write(FakeSignal("Grown", 2, 3000) + FakeSignal("Huge", 3, 100000) +
               FakeSignal("After", 4));
  });
  std::vector<std::string> members;
  std::vector<std::string> errors;
  ReceiveUntil(
      &connection,
      [&](const Incoming& in) {
        members.emplace_back(in.message.header().member);
        return members.size() == 2;
      },
      &errors);
  writer.join();
  EXPECT_EQ(members, (std::vector<std::string>{"Grown", "After"}));
  EXPECT_EQ(errors, std::vector<std::string>{"message-too-large"});
  EXPECT_TRUE(connection.is_open());
}

TEST(ConnectionFakeBus, CorruptStreamClosesTheConnection) {
  FakeBus fake;
  std::thread server([&] { fake.Handshake(); });
  Connection connection;
  ASSERT_TRUE(connection.Open(fake.address()).ok());
  server.join();
  fake.Write(std::string("X\1\0\1garbage-garbage-garbage", 27));
  std::vector<std::string> errors;
  EXPECT_FALSE(ReceiveUntil(
      &connection, [](const Incoming&) { return true; }, &errors));
  EXPECT_EQ(errors, std::vector<std::string>{"bad-byte-order"});
  EXPECT_FALSE(connection.is_open());
}

TEST(ConnectionFakeBus, UnwrittenBytesStayQueuedUntilTheSocketTakesThem) {
  FakeBus fake;
  std::thread server([&] { fake.Handshake(); });
  Connection connection;
  ASSERT_TRUE(connection.Open(fake.address()).ok());
  server.join();
  // The fake bus reads nothing yet: calls pile up in the socket, then in our queue.
  std::string rule(700, 'r');
  uint8_t buffer[1024];
  int sent = 0;
  while (!connection.wants_write() && sent < 100000) {
    std::span<const uint8_t> message;
    ASSERT_TRUE(BuildAddMatch(buffer, connection.NextSerial(), rule, &message).ok());
    ASSERT_TRUE(connection.Send(message).ok());
    ++sent;
  }
  ASSERT_TRUE(connection.wants_write());
  int received = 0;
  uint32_t last_serial = 1;  // Hello's
  std::thread reader([&] {
    for (int i = 0; i < sent; ++i) {
      std::string message = fake.ReadMessage();
      Message parsed;
      if (!Message::Parse({reinterpret_cast<const uint8_t*>(message.data()), message.size()},
                          &parsed)
               .ok()) {
        break;
      }
      if (parsed.header().serial != last_serial + 1) break;
      last_serial = parsed.header().serial;
      ++received;
    }
  });
  while (connection.wants_write()) {
    pollfd entry{connection.fd(), POLLOUT, 0};
    poll(&entry, 1, 10000);
    ASSERT_TRUE(connection.Flush().ok());
  }
  reader.join();
  EXPECT_EQ(received, sent) << "every queued message arrives whole and in order";
}

TEST(ConnectionFakeBus, FullSendQueueRefusesAWholeMessageAndKeepsTheRest) {
  FakeBus fake;
  std::thread server([&] { fake.Handshake(); });
  ConnectionOptions options;
  options.send_queue_bytes = 4096;
  Connection connection(options);
  ASSERT_TRUE(connection.Open(fake.address()).ok());
  server.join();
  std::string rule(700, 'r');
  uint8_t buffer[1024];
  Status status;
  int sent = 0;
  while (status.ok() && sent < 100000) {
    std::span<const uint8_t> message;
    ASSERT_TRUE(BuildAddMatch(buffer, connection.NextSerial(), rule, &message).ok());
    status = connection.Send(message);
    if (status.ok()) ++sent;
  }
  EXPECT_STREQ(status.rule(), "send-queue-full");
  EXPECT_TRUE(connection.is_open());
  EXPECT_TRUE(connection.wants_write());
}

TEST(ConnectionFakeBus, PendingCallTableRefusesACallWhenFull) {
  FakeBus fake;
  std::thread server([&] { fake.Handshake(); });
  Connection connection;
  ASSERT_TRUE(connection.Open(fake.address()).ok());
  server.join();
  uint8_t buffer[512];
  std::span<const uint8_t> call;
  for (size_t i = 0; i < Connection::kMaxPendingCalls; ++i) {
    ASSERT_TRUE(BuildGetNameOwner(buffer, connection.NextSerial(), kBusName, &call).ok());
    ASSERT_TRUE(connection.Call(call, i, Answerer::kBus).ok()) << i;
  }
  EXPECT_EQ(connection.pending_calls(), Connection::kMaxPendingCalls);
  ASSERT_TRUE(BuildGetNameOwner(buffer, connection.NextSerial(), kBusName, &call).ok());
  EXPECT_STREQ(connection.Call(call, 999, Answerer::kBus).rule(), "too-many-pending-calls");
  EXPECT_EQ(connection.pending_calls(), Connection::kMaxPendingCalls);
}

}  // namespace
}  // namespace jsn
