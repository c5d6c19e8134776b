// The bus connection against a real dbus-daemon (private, per test) and real peers (gdbus,
// busctl), and against tiny fake servers for what a real bus will not do on demand.
#include "jsn/connection.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "jsn/blocking_io.h"
#include "jsn/calls.h"
#include "jsn/writer.h"
#include "support/child_process.h"
#include "support/private_bus.h"

namespace jsn {
namespace {

using ::jsn::testing::ChildProcess;
using ::jsn::testing::CommandResult;
using ::jsn::testing::EnvironmentWith;
using ::jsn::testing::PrivateBus;
using ::jsn::testing::ReadFile;
using ::jsn::testing::TempDir;
using ::jsn::testing::WriteFile;

// Receives until `match` accepts a message, the connection closes, or 10 s pass (a hang
// guard, not a timing assertion). Rules of messages reported and skipped go to `errors`.
template <typename Match>
bool ReceiveUntil(Connection* bus, Match match, std::vector<std::string>* errors = nullptr) {
  int64_t deadline = MonotonicMilliseconds() + 10000;
  while (true) {
    Incoming incoming;
    bool have = false;
    Status status = bus->Receive(&incoming, &have);
    if (!status.ok()) {
      if (errors != nullptr) errors->push_back(status.rule());
      if (!bus->is_open()) return false;
      continue;
    }
    if (have) {
      if (match(incoming)) return true;
      continue;
    }
    int64_t left = deadline - MonotonicMilliseconds();
    if (left <= 0) return false;
    pollfd entry{bus->fd(), POLLIN, 0};
    poll(&entry, 1, static_cast<int>(left));
  }
}

// The body's top-level values rendered simply: strings as they are, unsigned as decimal.
std::vector<std::string> BodyValues(const Message& message) {
  std::vector<std::string> values;
  Iterator body = message.body();
  Value value;
  while (body.Next(&value)) {
    switch (value.type()) {
      case 's':
      case 'o':
      case 'g':
        values.emplace_back(value.as_string());
        break;
      case 'u':
        values.push_back(std::to_string(value.as_uint32()));
        break;
      default:
        values.push_back(std::string("<") + value.type() + ">");
    }
  }
  return values;
}

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
  status = bus->Call(call, tag);
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
    ASSERT_TRUE(connection.Call(call, 100 + tag).ok());
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
  int64_t deadline = MonotonicMilliseconds() + 20000;  // a hang guard, not a timing assertion
  while (!peer.WaitForExit(std::chrono::milliseconds(0)) && MonotonicMilliseconds() < deadline) {
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
  EXPECT_STREQ(connection.Call(call, 1).rule(), "connection-closed");

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

// ---- A fake bus: a listening socket in a temp dir, driven step by step by the test. ----

constexpr const char* kFakeGuid = "0123456789abcdef0123456789abcdef";

class FakeBus {
 public:
  // Listens at `socket_name` in a fresh temp dir, or in the abstract namespace (a name made
  // unique by our PID) when `abstract`. `escaped_name` is how the name appears in the address.
  explicit FakeBus(const std::string& socket_name = "bus", bool abstract = false,
                   const std::string& escaped_name = "")
      : directory_("jsn-fake-bus") {
    std::string escaped = escaped_name.empty() ? socket_name : escaped_name;
    if (abstract) {
      path_ = "jsn-test-" + std::to_string(getpid()) + "-" + socket_name;
      address_ = "unix:abstract=jsn-test-" + std::to_string(getpid()) + "-" + escaped;
    } else {
      path_ = directory_.Join(socket_name);
      address_ = "unix:path=" + directory_.Join(escaped);
    }
    listener_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    size_t start = abstract ? 1 : 0;
    memcpy(address.sun_path + start, path_.data(), path_.size());
    socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + start +
                                              path_.size() + (abstract ? 0 : 1));
    EXPECT_EQ(bind(listener_, reinterpret_cast<sockaddr*>(&address), length), 0);
    EXPECT_EQ(listen(listener_, 4), 0);
  }
  ~FakeBus() {
    if (peer_ >= 0) close(peer_);
    close(listener_);
  }
  std::string address() const { return address_; }

  void Accept() { peer_ = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC); }
  void Hangup() {
    close(peer_);
    peer_ = -1;
  }
  // One line from the client, without "\r\n" (the leading NUL byte kept if present).
  std::string ReadLine() {
    std::string line;
    char c;
    while (read(peer_, &c, 1) == 1) {
      line.push_back(c);
      if (line.size() >= 2 && line.substr(line.size() - 2) == "\r\n") {
        return line.substr(0, line.size() - 2);
      }
    }
    return line;
  }
  void Write(const std::string& bytes) { WriteBytes(bytes.data(), bytes.size()); }
  void Write(std::span<const uint8_t> bytes) { WriteBytes(bytes.data(), bytes.size()); }
  void WriteBytes(const void* data, size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
      ssize_t n = write(peer_, p, size);
      if (n <= 0) return;
      p += n;
      size -= static_cast<size_t>(n);
    }
  }
  // One whole message from the client, or "" at end of stream.
  std::string ReadMessage() {
    std::string message(16, '\0');
    if (!ReadExactly(message.data(), 16)) return "";
    size_t length = 0;
    if (!MessageLength({reinterpret_cast<const uint8_t*>(message.data()), 16}, &length).ok()) {
      return "";
    }
    message.resize(length);
    if (!ReadExactly(message.data() + 16, length - 16)) return "";
    return message;
  }
  bool ReadExactly(char* out, size_t size) {
    while (size > 0) {
      ssize_t n = read(peer_, out, size);
      if (n <= 0) return false;
      out += n;
      size -= static_cast<size_t>(n);
    }
    return true;
  }
  // Plays the bus's part of start-up: AUTH -> OK, BEGIN, Hello -> ":1.99".
  void Handshake() {
    Accept();
    ReadLine();  // \0AUTH EXTERNAL ...
    Write(std::string("OK ") + kFakeGuid + "\r\n");
    ReadLine();  // BEGIN
    std::string hello = ReadMessage();
    Message parsed;
    ASSERT_TRUE(
        Message::Parse({reinterpret_cast<const uint8_t*>(hello.data()), hello.size()}, &parsed)
            .ok());
    HeaderFields fields;
    fields.type = MessageType::kMethodReturn;
    fields.serial = 1;
    fields.reply_serial = parsed.header().serial;
    fields.sender = kBusName;
    fields.signature = "s";
    uint8_t buffer[256];
    Writer writer(buffer);
    writer.Begin(fields);
    writer.AppendString(":1.99");
    std::span<const uint8_t> reply;
    ASSERT_TRUE(writer.Finish(&reply).ok());
    Write(reply);
  }
  int peer() const { return peer_; }

 private:
  TempDir directory_;  // removed after the destructor has closed the sockets
  std::string path_;
  std::string address_;
  int listener_ = -1;
  int peer_ = -1;
};

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

// fixtures/invalid/RULE[--what].bin: each breaks one rule (the fixtures helper's recordings).
struct InvalidFixture {
  std::string name;
  std::string rule;
  std::string bytes;
};
std::vector<InvalidFixture> InvalidFixtures() {
  const char* source_dir = getenv("JSN_SOURCE_DIR");
  std::string directory =
      std::string(source_dir != nullptr && source_dir[0] != '\0' ? source_dir : ".") +
      "/fixtures/invalid";
  std::vector<InvalidFixture> fixtures;
  DIR* dir = opendir(directory.c_str());
  if (dir == nullptr) return fixtures;
  while (dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name.size() <= 4 || name.substr(name.size() - 4) != ".bin") continue;
    std::string stem = name.substr(0, name.size() - 4);
    std::ifstream in(directory + "/" + name, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    fixtures.push_back({name, stem.substr(0, stem.find("--")), bytes.str()});
  }
  closedir(dir);
  std::sort(fixtures.begin(), fixtures.end(),
            [](const InvalidFixture& a, const InvalidFixture& b) { return a.name < b.name; });
  return fixtures;
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
  std::vector<InvalidFixture> fixtures = InvalidFixtures();
  ASSERT_FALSE(fixtures.empty()) << "no fixtures/invalid/*.bin (run from the source tree)";
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
  size_t tried = 0;
  for (const InvalidFixture& fixture : InvalidFixtures()) {
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
    ASSERT_TRUE(connection.Call(call, i).ok()) << i;
  }
  EXPECT_EQ(connection.pending_calls(), Connection::kMaxPendingCalls);
  ASSERT_TRUE(BuildGetNameOwner(buffer, connection.NextSerial(), kBusName, &call).ok());
  EXPECT_STREQ(connection.Call(call, 999).rule(), "too-many-pending-calls");
  EXPECT_EQ(connection.pending_calls(), Connection::kMaxPendingCalls);
}

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
