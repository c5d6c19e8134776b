// The bus connection against a real dbus-daemon (private, per test) and real peers (gdbus,
// busctl, dbus-send): start-up, calls and their replies, signals, the Peer interface, addresses,
// and the bus going away. What a real bus will not do on demand is in connection_fake_bus_test.cc.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "jsn/bus/connection.h"
#include "jsn/wire/calls.h"
#include "support/child_process.h"
#include "support/private_bus.h"
#include "support/receive_until.h"

namespace jsn {
namespace {

using ::jsn::testing::BodyValues;
using ::jsn::testing::ChildProcess;
using ::jsn::testing::CommandResult;
using ::jsn::testing::EnvironmentWith;
using ::jsn::testing::PrivateBus;
using ::jsn::testing::ReadFile;
using ::jsn::testing::ReceiveUntil;
using ::jsn::testing::TempDir;
using ::jsn::testing::WriteFile;

// Calls with `build` (one of calls.h's Build* with the serial filled in) and waits for the
// reply; returns it as (is_error, error_name or first body value).
struct Reply {
  bool arrived = false;
  bool is_error = false;
  uint64_t tag = 0;
  std::string error_name;
  std::vector<std::string> body;
};
template <typename Build>
Reply CallAndWait(Connection* bus, uint64_t tag, Build build) {
  uint8_t buffer[1024];
  std::span<const uint8_t> call;
  Reply reply;
  Status status = build(std::span<uint8_t>(buffer), bus->NextSerial(), &call);
  EXPECT_TRUE(status.ok()) << status.message();
  status = bus->Call(call, tag, Answerer::kBus);
  EXPECT_TRUE(status.ok()) << status.message();
  reply.arrived = ReceiveUntil(bus, [&](const Incoming& in) {
    if (!in.is_reply) return false;
    reply.is_error = in.is_error();
    reply.tag = in.tag;
    reply.error_name = std::string(in.error_name());
    reply.body = BodyValues(in.message);
    return true;
  });
  return reply;
}

Reply AddMatch(Connection* bus, const std::string& rule) {
  return CallAndWait(bus, 1, [&](std::span<uint8_t> buffer, uint32_t serial, MessageOut out) {
    return BuildAddMatch(buffer, serial, rule, out);
  });
}

class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(bus_.Start()); }
  PrivateBus bus_;
};

TEST_F(ConnectionTest, ConnectsAuthenticatesAndHelloGivesAUniqueName) {
  Connection connection;
  Status status = connection.Open(bus_.address());
  ASSERT_TRUE(status.ok()) << status.rule() << ": " << status.message();
  EXPECT_TRUE(connection.is_open());
  EXPECT_EQ(connection.unique_name().substr(0, 3), ":1.");
  EXPECT_EQ(connection.server_guid().size(), 32u);
  // The bus tells us the name it gave us, in a NameAcquired signal addressed to us.
  std::string acquired;
  ASSERT_TRUE(ReceiveUntil(&connection, [&](const Incoming& in) {
    if (in.message.header().member != "NameAcquired") return false;
    acquired = BodyValues(in.message).at(0);
    return true;
  }));
  EXPECT_EQ(acquired, connection.unique_name());
}

TEST_F(ConnectionTest, GetNameOwnerOfTheBusIsAnsweredWithTheCallersTag) {
  Connection connection;
  ASSERT_TRUE(connection.Open(bus_.address()).ok());
  Reply reply =
      CallAndWait(&connection, 77, [](std::span<uint8_t> buffer, uint32_t serial, MessageOut out) {
        return BuildGetNameOwner(buffer, serial, kBusName, out);
      });
  ASSERT_TRUE(reply.arrived);
  EXPECT_FALSE(reply.is_error) << reply.error_name;
  EXPECT_EQ(reply.tag, 77u);
  EXPECT_EQ(reply.body, std::vector<std::string>{"org.freedesktop.DBus"});
  EXPECT_EQ(connection.pending_calls(), 0u);
}

TEST_F(ConnectionTest, ErrorRepliesCarryTheirErrorName) {
  Connection connection;
  ASSERT_TRUE(connection.Open(bus_.address()).ok());
  Reply reply =
      CallAndWait(&connection, 5, [](std::span<uint8_t> buffer, uint32_t serial, MessageOut out) {
        return BuildMethodCall(buffer, serial, kBusName, kBusPath, kBusInterface, "NoSuchMethod",
                               out);
      });
  ASSERT_TRUE(reply.arrived);
  EXPECT_TRUE(reply.is_error);
  EXPECT_EQ(reply.tag, 5u);
  EXPECT_EQ(reply.error_name, "org.freedesktop.DBus.Error.UnknownMethod");

  reply =
      CallAndWait(&connection, 6, [](std::span<uint8_t> buffer, uint32_t serial, MessageOut out) {
        return BuildGetNameOwner(buffer, serial, "com.example.Nobody", out);
      });
  ASSERT_TRUE(reply.arrived);
  EXPECT_TRUE(reply.is_error);
  EXPECT_EQ(reply.tag, 6u);
  EXPECT_EQ(reply.error_name, "org.freedesktop.DBus.Error.NameHasNoOwner");
}

TEST_F(ConnectionTest, SeveralCallsInFlightAreMatchedByReplySerial) {
  Connection connection;
  ASSERT_TRUE(connection.Open(bus_.address()).ok());
  uint8_t buffer[3][512];
  const char* names[3] = {"org.freedesktop.DBus", "com.example.Absent", "org.freedesktop.DBus"};
  for (uint64_t tag = 0; tag < 3; ++tag) {
    std::span<const uint8_t> call;
    ASSERT_TRUE(BuildGetNameOwner(buffer[tag], connection.NextSerial(), names[tag], &call).ok());
    ASSERT_TRUE(connection.Call(call, 100 + tag, Answerer::kBus).ok());
  }
  EXPECT_EQ(connection.pending_calls(), 3u);
  std::vector<std::pair<uint64_t, bool>> replies;
  ASSERT_TRUE(ReceiveUntil(&connection, [&](const Incoming& in) {
    if (in.is_reply) replies.emplace_back(in.tag, in.is_error());
    return replies.size() == 3;
  }));
  std::sort(replies.begin(), replies.end());
  EXPECT_EQ(replies,
            (std::vector<std::pair<uint64_t, bool>>{{100, false}, {101, true}, {102, false}}));
  EXPECT_EQ(connection.pending_calls(), 0u);
}

// What a peer's signal looked like when it arrived, and who the bus said had just connected.
struct SeenSignal {
  std::string sender, path, interface, member, signature, latest_new_peer;
  std::vector<std::string> body;
};

// With matches on NameOwnerChanged and on com.example.Test, runs `peer` and waits for its
// signal. The bus announces each new connection before delivering anything from it, so the
// latest unique name to appear before the signal is the peer's: the sender must equal it.
SeenSignal ReceivePeerSignal(PrivateBus* bus, Connection* connection,
                             const std::vector<std::string>& peer) {
  EXPECT_FALSE(AddMatch(connection,
                        "type='signal',sender='org.freedesktop.DBus',"
                        "member='NameOwnerChanged'")
                   .is_error);
  EXPECT_FALSE(AddMatch(connection, "type='signal',interface='com.example.Test'").is_error);
  CommandResult result = bus->RunPeer(peer);
  EXPECT_TRUE(result.succeeded()) << result.Describe() << ": " << result.output;
  SeenSignal seen;
  std::string latest;
  bool arrived = ReceiveUntil(connection, [&](const Incoming& in) {
    const Header& header = in.message.header();
    if (header.member == "NameOwnerChanged") {
      std::vector<std::string> args = BodyValues(in.message);
      if (args.size() == 3 && args[0] == args[2] && args[1].empty()) latest = args[0];
      return false;
    }
    if (header.type != MessageType::kSignal || header.interface != "com.example.Test") {
      return false;
    }
    seen = {std::string(header.sender),    std::string(header.path),
            std::string(header.interface), std::string(header.member),
            std::string(header.signature), latest,
            BodyValues(in.message)};
    return true;
  });
  EXPECT_TRUE(arrived) << "no signal from " << peer[0];
  return seen;
}

TEST_F(ConnectionTest, ReceivesASignalEmittedByGdbus) {
  Connection connection;
  ASSERT_TRUE(connection.Open(bus_.address()).ok());
  SeenSignal seen = ReceivePeerSignal(
      &bus_, &connection,
      // --session (the bus from PeerEnvironment), not --address: with --address gdbus opens a
      // peer-to-peer connection, never says Hello, and the bus does not route its signals.
      {"gdbus", "emit", "--session", "--object-path", "/com/example/Glib", "--signal",
       "com.example.Test.FromGlib", "'hello from glib'", "uint32 42"});
  EXPECT_EQ(seen.path, "/com/example/Glib");
  EXPECT_EQ(seen.interface, "com.example.Test");
  EXPECT_EQ(seen.member, "FromGlib");
  EXPECT_EQ(seen.signature, "su");
  EXPECT_EQ(seen.body, (std::vector<std::string>{"hello from glib", "42"}));
  EXPECT_EQ(seen.sender.substr(0, 3), ":1.");
  EXPECT_NE(seen.sender, connection.unique_name());
  EXPECT_EQ(seen.sender, seen.latest_new_peer);
}

TEST_F(ConnectionTest, ReceivesASignalEmittedByBusctl) {
  Connection connection;
  ASSERT_TRUE(connection.Open(bus_.address()).ok());
  SeenSignal seen = ReceivePeerSignal(
      &bus_, &connection,
      {"busctl", "--address=" + bus_.address(), "emit", "/com/example/SdBus", "com.example.Test",
       "FromSdBus", "sou", "hello from sd-bus", "/a/path", "7"});
  EXPECT_EQ(seen.path, "/com/example/SdBus");
  EXPECT_EQ(seen.interface, "com.example.Test");
  EXPECT_EQ(seen.member, "FromSdBus");
  EXPECT_EQ(seen.signature, "sou");
  EXPECT_EQ(seen.body, (std::vector<std::string>{"hello from sd-bus", "/a/path", "7"}));
  EXPECT_EQ(seen.sender.substr(0, 3), ":1.");
  EXPECT_NE(seen.sender, connection.unique_name());
  EXPECT_EQ(seen.sender, seen.latest_new_peer);
}

TEST_F(ConnectionTest, MethodCallsToUsAreRefusedWithUnknownMethod) {
  Connection connection;
  ASSERT_TRUE(connection.Open(bus_.address()).ok());
  std::string output = bus_.directory() + "/dbus-send.out";
  ChildProcess caller;
  std::string error;
  ASSERT_TRUE(caller.Start(
      {"dbus-send", "--session", "--print-reply", "--dest=" + std::string(connection.unique_name()),
       "/com/example/X", "com.example.Iface.Poke", "string:hi"},
      EnvironmentWith(bus_.PeerEnvironment()), &error, output))
      << error;
  std::string member;
  ASSERT_TRUE(ReceiveUntil(&connection, [&](const Incoming& in) {
    if (in.message.header().type != MessageType::kMethodCall) return false;
    member = std::string(in.message.header().member);
    Status status = connection.AnswerCall(in.message);
    EXPECT_TRUE(status.ok()) << status.message();
    return true;
  }));
  EXPECT_EQ(member, "Poke");
  ASSERT_TRUE(caller.WaitForExit(std::chrono::seconds(10)));
  CommandResult ended;
  ended.wait_status = caller.wait_status();
  std::ifstream in(output);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(ended.exit_code(), 1);
  EXPECT_NE(text.str().find("org.freedesktop.DBus.Error.UnknownMethod"), std::string::npos)
      << text.str();
  EXPECT_NE(text.str().find("no method com.example.Iface.Poke here"), std::string::npos)
      << text.str();
}

// Runs `argv` as a peer on `bus` while `connection` answers every call made to it (gdbus, for
// one, introspects before it calls); returns how the peer ended, its stdout and stderr in
// `output`.
CommandResult ServePeer(const PrivateBus& bus, Connection* connection,
                        const std::vector<std::string>& argv) {
  std::string output = bus.directory() + "/peer.out";
  unlink(output.c_str());
  ChildProcess peer;
  std::string error;
  EXPECT_TRUE(peer.Start(argv, EnvironmentWith(bus.PeerEnvironment()), &error, output)) << error;
  const MonotonicTime deadline =
      MonotonicNow() + std::chrono::seconds(20);  // a hang guard, not a timing assertion
  while (!peer.WaitForExit(std::chrono::milliseconds(0)) && MonotonicNow() < deadline) {
    pollfd entry{connection->fd(), POLLIN, 0};
    poll(&entry, 1, 50);
    Incoming in;
    bool have = false;
    while (connection->Receive(&in, &have).ok() && have) {
      if (in.message.header().type != MessageType::kMethodCall) continue;
      Status status = connection->AnswerCall(in.message);
      EXPECT_TRUE(status.ok()) << status.message();
    }
  }
  CommandResult ended;
  ended.wait_status = peer.Stop(SIGKILL, std::chrono::seconds(5));
  ended.output = ReadFile(output);
  return ended;
}

TEST_F(ConnectionTest, PeerPingAndGetMachineIdAnswerBusctlGdbusAndDbusSend) {
  TempDir directory;
  std::string id_path = directory.Join("machine-id");
  ASSERT_TRUE(WriteFile(id_path, "00112233445566778899aabbccddeeff\n"));
  std::string absent = directory.Join("absent");
  ConnectionOptions options;
  options.machine_id_path = id_path.c_str();
  options.fallback_machine_id_path = absent.c_str();
  Connection connection(options);
  ASSERT_TRUE(connection.Open(bus_.address()).ok());
  std::string name(connection.unique_name());
  std::string address = bus_.address();

  CommandResult result = ServePeer(
      bus_, &connection,
      {"busctl", "--address=" + address, "call", name, "/", "org.freedesktop.DBus.Peer", "Ping"});
  EXPECT_TRUE(result.succeeded()) << result.Describe() << ": " << result.output;
  EXPECT_EQ(result.output, "");
  result = ServePeer(bus_, &connection,
                     {"busctl", "--address=" + address, "call", name, "/",
                      "org.freedesktop.DBus.Peer", "GetMachineId"});
  EXPECT_TRUE(result.succeeded()) << result.Describe() << ": " << result.output;
  EXPECT_EQ(result.output, "s \"00112233445566778899aabbccddeeff\"\n");

  result = ServePeer(bus_, &connection,
                     {"gdbus", "call", "--address", address, "--dest", name, "--object-path",
                      "/com/example/Anything", "--method", "org.freedesktop.DBus.Peer.Ping"});
  EXPECT_TRUE(result.succeeded()) << result.Describe() << ": " << result.output;
  EXPECT_EQ(result.output, "()\n");
  result = ServePeer(bus_, &connection,
                     {"gdbus", "call", "--address", address, "--dest", name, "--object-path", "/",
                      "--method", "org.freedesktop.DBus.Peer.GetMachineId"});
  EXPECT_TRUE(result.succeeded()) << result.Describe() << ": " << result.output;
  EXPECT_EQ(result.output, "('00112233445566778899aabbccddeeff',)\n");

  result = ServePeer(bus_, &connection,
                     {"dbus-send", "--bus=" + address, "--print-reply", "--dest=" + name, "/",
                      "org.freedesktop.DBus.Peer.Ping"});
  EXPECT_TRUE(result.succeeded()) << result.Describe() << ": " << result.output;
  EXPECT_EQ(result.output.rfind("method return ", 0), 0u) << result.output;
  result = ServePeer(bus_, &connection,
                     {"dbus-send", "--bus=" + address, "--print-reply", "--dest=" + name, "/",
                      "org.freedesktop.DBus.Peer.GetMachineId"});
  EXPECT_TRUE(result.succeeded()) << result.Describe() << ": " << result.output;
  EXPECT_NE(result.output.find("string \"00112233445566778899aabbccddeeff\""), std::string::npos)
      << result.output;

  // Anything else is still refused.
  result = ServePeer(
      bus_, &connection,
      {"busctl", "--address=" + address, "call", name, "/", "org.freedesktop.DBus.Peer", "Pong"});
  EXPECT_EQ(result.exit_code(), 1) << result.Describe() << ": " << result.output;
}

TEST_F(ConnectionTest, AddressesAreTriedInOrderUntilOneConnects) {
  Connection connection;
  std::string missing = bus_.directory() + "/no-such-socket";
  Status status = connection.Open("unix:path=" + missing + ";" + bus_.address());
  ASSERT_TRUE(status.ok()) << status.rule() << ": " << status.message();
  EXPECT_FALSE(connection.unique_name().empty());
}

TEST_F(ConnectionTest, NonexistentSocketPathIsAConnectErrorNamingThePath) {
  Connection connection;
  std::string missing = bus_.directory() + "/no-such-socket";
  Status status = connection.Open("unix:path=" + missing);
  EXPECT_STREQ(status.rule(), "connect-failed");
  EXPECT_NE(std::string(status.message()).find(missing), std::string::npos) << status.message();
  EXPECT_NE(std::string(status.message()).find("No such file"), std::string::npos);
  EXPECT_FALSE(connection.is_open());
}

TEST_F(ConnectionTest, BusGoingAwayIsConnectionClosedAndReopeningWorksAfterRestart) {
  Connection connection;
  ASSERT_TRUE(connection.Open(bus_.address()).ok());
  std::string first_name(connection.unique_name());
  bus_.Stop(SIGKILL);
  std::vector<std::string> errors;
  EXPECT_FALSE(ReceiveUntil(
      &connection, [](const Incoming&) { return false; }, &errors));
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors.back(), "connection-closed");
  EXPECT_FALSE(connection.is_open());
  uint8_t buffer[256];
  std::span<const uint8_t> call;
  ASSERT_TRUE(BuildGetNameOwner(buffer, connection.NextSerial(), kBusName, &call).ok());
  EXPECT_STREQ(connection.Call(call, 1, Answerer::kBus).rule(), "connection-closed");

  ASSERT_TRUE(bus_.Start());
  Status status = connection.Open(bus_.address());
  ASSERT_TRUE(status.ok()) << status.rule() << ": " << status.message();
  Reply reply =
      CallAndWait(&connection, 2, [](std::span<uint8_t> buffer2, uint32_t serial, MessageOut out) {
        return BuildGetNameOwner(buffer2, serial, kBusName, out);
      });
  EXPECT_TRUE(reply.arrived);
  EXPECT_FALSE(reply.is_error);
}

}  // namespace
}  // namespace jsn
