// The connection's answers to org.freedesktop.DBus.Peer (Ping, GetMachineId) and to any other
// call made to it, on the wire: a fake bus (support/fake_bus.h) hands the connection method calls
// and reads back exactly what AnswerCall wrote (or that it wrote nothing). The same answers to
// real peers (busctl, gdbus, dbus-send) are in connection_private_bus_test.cc.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "jsn/bus/connection.h"
#include "jsn/wire/writer.h"
#include "support/child_process.h"
#include "support/fake_bus.h"
#include "support/receive_until.h"

namespace jsn {
namespace {

using ::jsn::testing::BodyValues;
using ::jsn::testing::FakeBus;
using ::jsn::testing::ReceiveUntil;
using ::jsn::testing::TempDir;
using ::jsn::testing::WriteFile;

// org.freedesktop.DBus.Peer on the wire: the fake bus hands the connection method calls and
// reads back exactly what AnswerCall wrote (or that it wrote nothing), with the machine id in
// files of the test's own.
constexpr const char* kTestMachineId = "00112233445566778899aabbccddeeff";

// A method call from ":1.5" to our ":1.99" at "/some/object", as the bus would deliver it;
// `interface` "" leaves the field out.
std::string FakeCall(uint32_t serial, const char* interface, const char* member,
                     uint8_t flags = 0) {
  HeaderFields fields;
  fields.type = MessageType::kMethodCall;
  fields.flags = flags;
  fields.serial = serial;
  fields.sender = ":1.5";
  fields.destination = ":1.99";
  fields.path = "/some/object";
  fields.interface = interface;
  fields.member = member;
  uint8_t bytes[512];
  Writer writer(bytes);
  writer.Begin(fields);
  std::span<const uint8_t> message;
  EXPECT_TRUE(writer.Finish(&message).ok());
  return std::string(reinterpret_cast<const char*>(message.data()), message.size());
}

// What the connection wrote back, as the bus would read it.
struct Answer {
  MessageType type = MessageType::kInvalid;
  uint32_t reply_serial = 0;
  std::string destination, error_name, signature;
  std::vector<std::string> body;
};

class PeerOnFakeBus : public ::testing::Test {
 protected:
  void OpenWithMachineIdFiles(const std::string& first, const std::string& second) {
    first_ = first;
    second_ = second;
    ConnectionOptions options;
    options.machine_id_path = first_.c_str();
    options.fallback_machine_id_path = second_.c_str();
    connection_ = std::make_unique<Connection>(options);
    std::thread server([&] { fake_.Handshake(); });
    Status status = connection_->Open(fake_.address());
    server.join();
    ASSERT_TRUE(status.ok()) << status.message();
  }
  void SetUp() override {
    ASSERT_TRUE(WriteFile(directory_.Join("machine-id"), std::string(kTestMachineId) + "\n"));
  }

  // Delivers `call` and lets the connection answer it as the daemon does.
  void Deliver(const std::string& call) {
    fake_.Write(call);
    ASSERT_TRUE(ReceiveUntil(connection_.get(), [&](const Incoming& in) {
      if (in.message.header().type != MessageType::kMethodCall) return false;
      Status status = connection_->AnswerCall(in.message);
      EXPECT_TRUE(status.ok()) << status.message();
      return true;
    }));
  }
  // The next message the connection wrote (blocking; the connection writes before returning).
  Answer ReadAnswer() {
    std::string bytes = fake_.ReadMessage();
    Answer answer;
    Message message;
    Status status =
        Message::Parse({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, &message);
    EXPECT_TRUE(status.ok()) << status.message();
    if (!status.ok()) return answer;
    const Header& header = message.header();
    answer.type = header.type;
    answer.reply_serial = header.reply_serial;
    answer.destination = std::string(header.destination);
    answer.error_name = std::string(header.error_name);
    answer.signature = std::string(header.signature);
    answer.body = BodyValues(message);
    return answer;
  }

  TempDir directory_;
  std::string first_, second_;
  FakeBus fake_;
  std::unique_ptr<Connection> connection_;
};

TEST_F(PeerOnFakeBus, PingOnAnyPathGetsAnEmptyReturnAddressedToTheCaller) {
  OpenWithMachineIdFiles(directory_.Join("machine-id"), directory_.Join("absent"));
  Deliver(FakeCall(40, "org.freedesktop.DBus.Peer", "Ping"));
  Answer answer = ReadAnswer();
  EXPECT_EQ(answer.type, MessageType::kMethodReturn);
  EXPECT_EQ(answer.reply_serial, 40u);
  EXPECT_EQ(answer.destination, ":1.5");
  EXPECT_EQ(answer.signature, "");
  EXPECT_TRUE(answer.body.empty());
}

TEST_F(PeerOnFakeBus, GetMachineIdReturnsTheIdAsOneString) {
  OpenWithMachineIdFiles(directory_.Join("machine-id"), directory_.Join("absent"));
  Deliver(FakeCall(41, "org.freedesktop.DBus.Peer", "GetMachineId"));
  Answer answer = ReadAnswer();
  EXPECT_EQ(answer.type, MessageType::kMethodReturn);
  EXPECT_EQ(answer.reply_serial, 41u);
  EXPECT_EQ(answer.destination, ":1.5");
  EXPECT_EQ(answer.signature, "s");
  EXPECT_EQ(answer.body, std::vector<std::string>{kTestMachineId});
}

TEST_F(PeerOnFakeBus, GetMachineIdFallsBackToTheSecondFile) {
  OpenWithMachineIdFiles(directory_.Join("absent"), directory_.Join("machine-id"));
  Deliver(FakeCall(42, "org.freedesktop.DBus.Peer", "GetMachineId"));
  EXPECT_EQ(ReadAnswer().body, std::vector<std::string>{kTestMachineId});
}

TEST_F(PeerOnFakeBus, CallsWithoutAnInterfaceAreMatchedByMember) {
  OpenWithMachineIdFiles(directory_.Join("machine-id"), directory_.Join("absent"));
  Deliver(FakeCall(43, "", "Ping"));
  Deliver(FakeCall(44, "", "GetMachineId"));
  Deliver(FakeCall(45, "", "Poke"));
  Answer ping = ReadAnswer(), id = ReadAnswer(), poke = ReadAnswer();
  EXPECT_EQ(ping.type, MessageType::kMethodReturn);
  EXPECT_EQ(ping.reply_serial, 43u);
  EXPECT_EQ(id.type, MessageType::kMethodReturn);
  EXPECT_EQ(id.body, std::vector<std::string>{kTestMachineId});
  EXPECT_EQ(poke.type, MessageType::kError);
  EXPECT_EQ(poke.reply_serial, 45u);
  EXPECT_EQ(poke.error_name, "org.freedesktop.DBus.Error.UnknownMethod");
}

TEST_F(PeerOnFakeBus, PingOnAnotherInterfaceOrAnotherPeerMethodIsUnknown) {
  OpenWithMachineIdFiles(directory_.Join("machine-id"), directory_.Join("absent"));
  Deliver(FakeCall(46, "com.example.Peer", "Ping"));
  Deliver(FakeCall(47, "org.freedesktop.DBus.Peer", "Pong"));
  Answer other = ReadAnswer(), pong = ReadAnswer();
  EXPECT_EQ(other.error_name, "org.freedesktop.DBus.Error.UnknownMethod");
  EXPECT_EQ(other.body, std::vector<std::string>{"no method com.example.Peer.Ping here"});
  EXPECT_EQ(pong.reply_serial, 47u);
  EXPECT_EQ(pong.error_name, "org.freedesktop.DBus.Error.UnknownMethod");
}

TEST_F(PeerOnFakeBus, NoReplyExpectedGetsNoAnswerOfAnyKind) {
  OpenWithMachineIdFiles(directory_.Join("absent"), directory_.Join("absent-too"));
  Deliver(FakeCall(50, "org.freedesktop.DBus.Peer", "Ping", kFlagNoReplyExpected));
  Deliver(FakeCall(51, "org.freedesktop.DBus.Peer", "GetMachineId", kFlagNoReplyExpected));
  Deliver(FakeCall(52, "com.example.X", "Poke", kFlagNoReplyExpected));
  Deliver(FakeCall(53, "org.freedesktop.DBus.Peer", "Ping"));
  // The first thing written answers the last call: nothing came before it.
  EXPECT_EQ(ReadAnswer().reply_serial, 53u);
}

TEST_F(PeerOnFakeBus, NoMachineIdIsAFileNotFoundErrorNamingBothFiles) {
  OpenWithMachineIdFiles(directory_.Join("absent"), directory_.Join("absent-too"));
  Deliver(FakeCall(60, "org.freedesktop.DBus.Peer", "GetMachineId"));
  Answer answer = ReadAnswer();
  EXPECT_EQ(answer.type, MessageType::kError);
  EXPECT_EQ(answer.reply_serial, 60u);
  EXPECT_EQ(answer.destination, ":1.5");
  EXPECT_EQ(answer.error_name, "org.freedesktop.DBus.Error.FileNotFound");
  ASSERT_EQ(answer.body.size(), 1u);
  EXPECT_NE(answer.body[0].find(first_), std::string::npos) << answer.body[0];
  EXPECT_NE(answer.body[0].find(second_), std::string::npos) << answer.body[0];
  // Ping does not need the id.
  Deliver(FakeCall(61, "org.freedesktop.DBus.Peer", "Ping"));
  EXPECT_EQ(ReadAnswer().type, MessageType::kMethodReturn);
}

TEST_F(PeerOnFakeBus, AnInvalidMachineIdIsAFailedError) {
  ASSERT_TRUE(WriteFile(directory_.Join("uninitialized"), "uninitialized\n"));
  OpenWithMachineIdFiles(directory_.Join("uninitialized"), directory_.Join("absent"));
  Deliver(FakeCall(62, "org.freedesktop.DBus.Peer", "GetMachineId"));
  Answer answer = ReadAnswer();
  EXPECT_EQ(answer.error_name, "org.freedesktop.DBus.Error.Failed");
  ASSERT_EQ(answer.body.size(), 1u);
  EXPECT_NE(answer.body[0].find("32 lowercase hex digits"), std::string::npos) << answer.body[0];
}

}  // namespace
}  // namespace jsn
