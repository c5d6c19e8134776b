// Watch: the calls it sends at start-up (in order, with the exact match rules), and what it
// makes of replies and signals: trusting only systemd's current unique name, accepting a reply
// only from whom the call may be answered by, asking for an invalidated ActiveState, following
// an owner change.
//
// Replies go through a ReplyTable, the one the daemon's Connection keeps, which says which call
// each answers or refuses it, as Connection::Receive does.
// Replies from strangers are fed here as bytes, so that every case of the rule is covered:
// through a real bus no reply can carry the sender of the bus or of systemd (the bus stamps
// each message with its sender's own name), and a stranger's reply gets through only where the
// bus lets unrequested replies pass (the test bus does, dbus-daemon's system.conf does not).
// One case goes through a real bus too: a forged Get reply to the running daemon
// (tests/integration/daemon_fake_systemd_test.cc). Messages are built with the Writer and
// parsed with the Reader, as they would come off the bus.
#include "jsn/systemd/watch.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "jsn/base/log.h"
#include "jsn/wire/calls.h"
#include "jsn/wire/writer.h"

namespace jsn {
namespace {

constexpr const char* kOwner = ":1.7";

struct SentCall {
  uint32_t serial;
  std::string destination, path, interface, member, body;  // body: its strings joined by '|'
};

std::string BodyStrings(const Message& message) {
  std::string text;
  Iterator body = message.body();
  Value value;
  while (body.Next(&value)) {
    if (!text.empty()) text += "|";
    if (value.type() == 's' || value.type() == 'o') text += std::string(value.as_string());
  }
  return text;
}

class RecordingSink : public MessageSink {
 public:
  uint32_t NextSerial() override { return ++serial_; }
  Status Send(std::span<const uint8_t> bytes) override {
    std::vector<uint8_t> copy(bytes.begin(), bytes.end());
    Message message;
    Status status = Message::Parse(copy, &message);
    EXPECT_TRUE(status.ok()) << status.message();
    if (!status.ok()) return status;
    const Header& h = message.header();
    sent.push_back({h.serial, std::string(h.destination), std::string(h.path),
                    std::string(h.interface), std::string(h.member), BodyStrings(message)});
    return Status();
  }
  Status Call(std::span<const uint8_t> bytes, uint64_t tag, Answerer answerer) override {
    if (replies.full()) return Status::Expected("too-many-pending-calls", "a free slot");
    JSN_RETURN_IF_ERROR(Send(bytes));
    replies.Add(sent.back().serial, tag, answerer);
    return Status();
  }
  void TrustServiceOwner(std::string_view owner) override { replies.TrustServiceOwner(owner); }
  // `message` as the connection hands it on: a reply with its call's tag, or refused.
  Incoming Receive(const Message& message) {
    Incoming incoming;
    incoming.message = message;
    replies.Take(&incoming);
    return incoming;
  }
  std::vector<SentCall> sent;
  ReplyTable replies;  // the connection's

 private:
  uint32_t serial_ = 100;
};

class RecordingListener : public WatchListener {
 public:
  void OnInitialState(size_t unit, std::string_view state, bool known) override {
    events.push_back("initial " + std::to_string(unit) + " " + (known ? std::string(state) : "?"));
  }
  void OnState(size_t unit, std::string_view state) override {
    events.push_back("state " + std::to_string(unit) + " " + std::string(state));
  }
  void OnReady() override { events.push_back("ready"); }
  std::vector<std::string> events;
};

// A message built with the Writer, kept alive with its bytes.
struct BuiltMessage {
  std::vector<uint8_t> bytes = std::vector<uint8_t>(4096);
  Message message;
};

std::unique_ptr<BuiltMessage> Finish(Writer* writer, std::unique_ptr<BuiltMessage> in) {
  std::span<const uint8_t> bytes;
  Status status = writer->Finish(&bytes);
  EXPECT_TRUE(status.ok()) << status.message();
  in->bytes.resize(bytes.size());
  EXPECT_TRUE(Message::Parse(in->bytes, &in->message).ok());
  return in;
}

std::unique_ptr<BuiltMessage> ReplyString(uint32_t reply_serial, const char* sender,
                                          const char* text, bool in_variant) {
  auto in = std::make_unique<BuiltMessage>();
  Writer w(in->bytes);
  HeaderFields f;
  f.type = MessageType::kMethodReturn;
  f.serial = 9000 + reply_serial;
  f.reply_serial = reply_serial;
  f.sender = sender;
  f.destination = ":1.99";
  f.signature = in_variant ? "v" : "s";
  w.Begin(f);
  if (in_variant) w.OpenVariant("s");
  w.AppendString(text);
  if (in_variant) w.CloseVariant();
  return Finish(&w, std::move(in));
}

std::unique_ptr<BuiltMessage> ReplyEmpty(uint32_t reply_serial, const char* sender) {
  auto in = std::make_unique<BuiltMessage>();
  Writer w(in->bytes);
  HeaderFields f;
  f.type = MessageType::kMethodReturn;
  f.serial = 9000 + reply_serial;
  f.reply_serial = reply_serial;
  f.sender = sender;
  w.Begin(f);
  return Finish(&w, std::move(in));
}

std::unique_ptr<BuiltMessage> ReplyError(uint32_t reply_serial, const char* sender,
                                         const char* name) {
  auto in = std::make_unique<BuiltMessage>();
  Writer w(in->bytes);
  HeaderFields f;
  f.type = MessageType::kError;
  f.serial = 9000 + reply_serial;
  f.reply_serial = reply_serial;
  f.sender = sender;
  f.error_name = name;
  f.signature = "s";
  w.Begin(f);
  w.AppendString("it failed");
  return Finish(&w, std::move(in));
}

std::unique_ptr<BuiltMessage> PropertiesChanged(
    const std::string& path, const char* sender, const char* state, bool invalidated_only = false,
    const char* interface = "org.freedesktop.systemd1.Unit") {
  auto in = std::make_unique<BuiltMessage>();
  Writer w(in->bytes);
  HeaderFields f;
  f.type = MessageType::kSignal;
  f.serial = 5;
  f.sender = sender;
  f.path = path;
  f.interface = "org.freedesktop.DBus.Properties";
  f.member = "PropertiesChanged";
  f.signature = "sa{sv}as";
  w.Begin(f);
  w.AppendString(interface);
  w.OpenArray();
  w.OpenDictEntry();
  w.AppendString("SubState");
  w.OpenVariant("s");
  w.AppendString("whatever");
  w.CloseVariant();
  w.CloseDictEntry();
  if (!invalidated_only) {
    w.OpenDictEntry();
    w.AppendString("ActiveState");
    w.OpenVariant("s");
    w.AppendString(state);
    w.CloseVariant();
    w.CloseDictEntry();
  }
  w.CloseArray();
  w.OpenArray();
  if (invalidated_only) w.AppendString("ActiveState");
  w.CloseArray();
  return Finish(&w, std::move(in));
}

std::unique_ptr<BuiltMessage> NameOwnerChanged(const char* sender, const char* name,
                                               const char* old_owner, const char* new_owner) {
  auto in = std::make_unique<BuiltMessage>();
  Writer w(in->bytes);
  HeaderFields f;
  f.type = MessageType::kSignal;
  f.serial = 6;
  f.sender = sender;
  f.path = "/org/freedesktop/DBus";
  f.interface = "org.freedesktop.DBus";
  f.member = "NameOwnerChanged";
  f.signature = "sss";
  w.Begin(f);
  w.AppendString(name);
  w.AppendString(old_owner);
  w.AppendString(new_owner);
  return Finish(&w, std::move(in));
}

std::unique_ptr<BuiltMessage> Reloading(const char* sender, bool active,
                                        const char* path = "/org/freedesktop/systemd1") {
  auto in = std::make_unique<BuiltMessage>();
  Writer w(in->bytes);
  HeaderFields f;
  f.type = MessageType::kSignal;
  f.serial = 7;
  f.sender = sender;
  f.path = path;
  f.interface = "org.freedesktop.systemd1.Manager";
  f.member = "Reloading";
  f.signature = "b";
  w.Begin(f);
  w.AppendBool(active);
  return Finish(&w, std::move(in));
}

const char* const kUnits[] = {"a-b_c.service", "0lead.service"};
const std::string kPath0 = "/org/freedesktop/systemd1/unit/a_2db_5fc_2eservice";
const std::string kPath1 = "/org/freedesktop/systemd1/unit/_30lead_2eservice";
const std::string kSshPath = "/org/freedesktop/systemd1/unit/ssh_2eservice";
constexpr const char* kBus = "org.freedesktop.DBus";

std::string UnitRule(const std::string& path,
                     const std::string& interface = "org.freedesktop.systemd1.Unit") {
  return "type='signal',sender='org.freedesktop.systemd1',interface='org.freedesktop.DBus."
         "Properties',member='PropertiesChanged',path='" +
         path + "',arg0='" + interface + "'";
}
constexpr const char* kServiceInterface = "org.freedesktop.systemd1.Service";

class WatchTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(watch_->Init(kUnits, &listener_).ok()); }

  Status Handle(const std::unique_ptr<BuiltMessage>& in) {
    return watch_->HandleMessage(sink_.Receive(in->message), &sink_);
  }

  // Answers the Get of Id sent as sink_.sent[i] with `id` from `sender`, and the AddMatch this
  // brings (from the bus); returns the Get of ActiveState that follows (serial 0 when none).
  SentCall AnswerId(size_t i, const char* id, const char* sender = kOwner) {
    size_t before = sink_.sent.size();
    EXPECT_EQ(sink_.sent[i].body, "org.freedesktop.systemd1.Unit|Id");
    EXPECT_TRUE(Handle(ReplyString(sink_.sent[i].serial, sender, id, true)).ok());
    SentCall get{};
    for (size_t k = before; k < sink_.sent.size(); ++k) {
      SentCall call = sink_.sent[k];
      if (call.member == "AddMatch") {
        EXPECT_TRUE(Handle(ReplyEmpty(call.serial, kBus)).ok());
      }
      if (call.member == "Get") get = call;
    }
    return get;
  }

  // Starts and answers every start-up call: owner kOwner, each name its own unit, states as
  // given.
  void StartAndAnswer(const char* state0, const char* state1) {
    ASSERT_TRUE(watch_->Start(&sink_).ok());
    ASSERT_EQ(sink_.sent.size(), 6u);
    for (size_t i = 0; i < 2; ++i) ASSERT_TRUE(Handle(ReplyEmpty(sink_.sent[i].serial, kBus)).ok());
    ASSERT_TRUE(Handle(ReplyString(sink_.sent[2].serial, kBus, kOwner, false)).ok());
    ASSERT_TRUE(Handle(ReplyEmpty(sink_.sent[3].serial, kOwner)).ok());
    ASSERT_TRUE(Handle(ReplyString(AnswerId(4, kUnits[0]).serial, kOwner, state0, true)).ok());
    ASSERT_TRUE(Handle(ReplyString(AnswerId(5, kUnits[1]).serial, kOwner, state1, true)).ok());
    ASSERT_TRUE(watch_->ready());
    sink_.sent.clear();
    listener_.events.clear();
  }

  RecordingSink sink_;
  RecordingListener listener_;
  std::unique_ptr<Watch> watch_ = std::make_unique<Watch>();
};

TEST_F(WatchTest, StartSendsMatchesThenOwnerThenSubscribeThenIdsInThatOrder) {
  ASSERT_TRUE(watch_->Start(&sink_).ok());
  const std::vector<SentCall>& s = sink_.sent;
  ASSERT_EQ(s.size(), 6u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(s[i].destination, "org.freedesktop.DBus");
    EXPECT_EQ(s[i].member, "AddMatch");
  }
  EXPECT_EQ(
      s[0].body,
      "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
      "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='org.freedesktop.systemd1'");
  EXPECT_EQ(s[1].body,
            "type='signal',sender='org.freedesktop.systemd1',path='/org/freedesktop/systemd1',"
            "member='Reloading'");
  EXPECT_EQ(s[2].member, "GetNameOwner");
  EXPECT_EQ(s[2].body, "org.freedesktop.systemd1");
  EXPECT_EQ(s[3].destination, "org.freedesktop.systemd1");
  EXPECT_EQ(s[3].path, "/org/freedesktop/systemd1");
  EXPECT_EQ(s[3].interface, "org.freedesktop.systemd1.Manager");
  EXPECT_EQ(s[3].member, "Subscribe");
  for (size_t i = 4; i < 6; ++i) {
    EXPECT_EQ(s[i].destination, "org.freedesktop.systemd1");
    EXPECT_EQ(s[i].interface, "org.freedesktop.DBus.Properties");
    EXPECT_EQ(s[i].member, "Get");
    EXPECT_EQ(s[i].body, "org.freedesktop.systemd1.Unit|Id");
  }
  EXPECT_EQ(s[4].path, kPath0);
  EXPECT_EQ(s[5].path, kPath1);
  EXPECT_FALSE(watch_->ready());
}

TEST_F(WatchTest, TheIdBringsTheMatchOnItsPathThenTheGetOfActiveState) {
  ASSERT_TRUE(watch_->Start(&sink_).ok());
  ASSERT_TRUE(Handle(ReplyString(sink_.sent[2].serial, kBus, kOwner, false)).ok());
  ASSERT_TRUE(Handle(ReplyString(sink_.sent[4].serial, kOwner, kUnits[0], true)).ok());
  const std::vector<SentCall>& s = sink_.sent;
  ASSERT_EQ(s.size(), 11u);
  EXPECT_EQ(s[6].destination, "org.freedesktop.DBus");
  EXPECT_EQ(s[6].member, "AddMatch");
  EXPECT_EQ(s[6].body, UnitRule(kPath0));
  // The service's own interface too, where systemd sends its Result and how it ended.
  EXPECT_EQ(s[7].member, "AddMatch");
  EXPECT_EQ(s[7].body, UnitRule(kPath0, kServiceInterface));
  // What comes with the state, asked before it (systemd answers in order).
  EXPECT_EQ(s[8].member, "GetAll");
  EXPECT_EQ(s[8].path, kPath0);
  EXPECT_EQ(s[8].body, kServiceInterface);
  EXPECT_EQ(s[9].member, "Get");
  EXPECT_EQ(s[9].body, "org.freedesktop.systemd1.Unit|StateChangeTimestamp");
  EXPECT_EQ(s[10].destination, "org.freedesktop.systemd1");
  EXPECT_EQ(s[10].member, "Get");
  EXPECT_EQ(s[10].path, kPath0);
  EXPECT_EQ(s[10].body, "org.freedesktop.systemd1.Unit|ActiveState");
}

TEST_F(WatchTest, ReadyOnlyOnceEveryStartupCallIsAnswered) {
  ASSERT_TRUE(watch_->Start(&sink_).ok());
  for (size_t i = 0; i < 2; ++i) ASSERT_TRUE(Handle(ReplyEmpty(sink_.sent[i].serial, kBus)).ok());
  ASSERT_TRUE(Handle(ReplyString(sink_.sent[2].serial, kBus, kOwner, false)).ok());
  EXPECT_EQ(watch_->systemd_owner(), kOwner);
  // AlreadySubscribed is as good as subscribed.
  ASSERT_TRUE(
      Handle(ReplyError(sink_.sent[3].serial, kOwner, "org.freedesktop.systemd1.AlreadySubscribed"))
          .ok());
  SentCall get0 = AnswerId(4, kUnits[0]);
  SentCall get1 = AnswerId(5, kUnits[1]);
  ASSERT_TRUE(Handle(ReplyString(get1.serial, kOwner, "inactive", true)).ok());
  EXPECT_FALSE(watch_->ready());
  ASSERT_TRUE(
      Handle(ReplyError(get0.serial, kOwner, "org.freedesktop.DBus.Error.UnknownObject")).ok());
  EXPECT_TRUE(watch_->ready());
  EXPECT_EQ(listener_.events,
            (std::vector<std::string>{"initial 1 inactive", "initial 0 ?", "ready"}));
}

TEST_F(WatchTest, AnIdSystemdCannotTellKeepsTheNamesOwnPath) {
  ASSERT_TRUE(watch_->Start(&sink_).ok());
  ASSERT_TRUE(Handle(ReplyString(sink_.sent[2].serial, kBus, kOwner, false)).ok());
  ASSERT_TRUE(
      Handle(ReplyError(sink_.sent[4].serial, kOwner, "org.freedesktop.DBus.Error.UnknownObject"))
          .ok());
  ASSERT_EQ(sink_.sent.size(), 11u);
  EXPECT_EQ(sink_.sent[6].body, UnitRule(kPath0));
  EXPECT_EQ(sink_.sent[10].path, kPath0);
  EXPECT_EQ(watch_->unit_path(0), kPath0);
}

TEST_F(WatchTest, ARefusedMatchIsFatal) {
  ASSERT_TRUE(watch_->Start(&sink_).ok());
  Status status =
      Handle(ReplyError(sink_.sent[1].serial, kBus, "org.freedesktop.DBus.Error.LimitsExceeded"));
  EXPECT_STREQ(status.rule(), "add-match-failed");
  EXPECT_NE(std::string(status.message()).find("LimitsExceeded"), std::string::npos);
}

TEST_F(WatchTest, ChangedActiveStateFromSystemdIsReported) {
  StartAndAnswer("inactive", "active");
  ASSERT_TRUE(Handle(PropertiesChanged(kPath0, kOwner, "active")).ok());
  ASSERT_TRUE(Handle(PropertiesChanged(kPath1, kOwner, "failed")).ok());
  EXPECT_EQ(listener_.events, (std::vector<std::string>{"state 0 active", "state 1 failed"}));
  EXPECT_TRUE(sink_.sent.empty());
}

TEST_F(WatchTest, ASpoofedSignalIsIgnored) {
  StartAndAnswer("inactive", "inactive");
  ASSERT_TRUE(Handle(PropertiesChanged(kPath0, ":1.666", "active")).ok());
  ASSERT_TRUE(Handle(PropertiesChanged(kPath0, "org.freedesktop.systemd1", "active")).ok());
  EXPECT_TRUE(listener_.events.empty());
}

TEST_F(WatchTest, OtherPathsAndInterfacesAreIgnored) {
  StartAndAnswer("inactive", "inactive");
  ASSERT_TRUE(
      Handle(PropertiesChanged("/org/freedesktop/systemd1/unit/other_2eservice", kOwner, "active"))
          .ok());
  ASSERT_TRUE(
      Handle(PropertiesChanged(kPath0, kOwner, "active", false, "org.freedesktop.systemd1.Service"))
          .ok());
  EXPECT_TRUE(listener_.events.empty());
}

TEST_F(WatchTest, NothingIsTrustedBeforeTheOwnerIsKnown) {
  ASSERT_TRUE(watch_->Start(&sink_).ok());
  ASSERT_TRUE(Handle(PropertiesChanged(kPath0, kOwner, "active")).ok());
  EXPECT_TRUE(listener_.events.empty());
}

TEST_F(WatchTest, AChangeBeforeTheInitialStateIsDropped) {
  ASSERT_TRUE(watch_->Start(&sink_).ok());
  ASSERT_TRUE(Handle(ReplyString(sink_.sent[2].serial, kBus, kOwner, false)).ok());
  SentCall get0 = AnswerId(4, kUnits[0]);
  ASSERT_TRUE(Handle(PropertiesChanged(kPath0, kOwner, "active")).ok());
  ASSERT_TRUE(Handle(ReplyString(get0.serial, kOwner, "active", true)).ok());
  ASSERT_TRUE(Handle(PropertiesChanged(kPath0, kOwner, "inactive")).ok());
  EXPECT_EQ(listener_.events, (std::vector<std::string>{"initial 0 active", "state 0 inactive"}));
}

TEST_F(WatchTest, InvalidatedActiveStateIsAskedFor) {
  StartAndAnswer("inactive", "inactive");
  ASSERT_TRUE(Handle(PropertiesChanged(kPath1, kOwner, nullptr, true)).ok());
  ASSERT_EQ(sink_.sent.size(), 3u);  // GetAll, the timestamp, then the state
  EXPECT_EQ(sink_.sent[2].member, "Get");
  EXPECT_EQ(sink_.sent[2].path, kPath1);
  EXPECT_EQ(sink_.sent[2].body, "org.freedesktop.systemd1.Unit|ActiveState");
  // A second invalidation while the Get is out needs no second Get.
  ASSERT_TRUE(Handle(PropertiesChanged(kPath1, kOwner, nullptr, true)).ok());
  EXPECT_EQ(sink_.sent.size(), 3u);
  ASSERT_TRUE(Handle(ReplyString(sink_.sent[2].serial, kOwner, "active", true)).ok());
  EXPECT_EQ(listener_.events, (std::vector<std::string>{"state 1 active"}));
}

// --- Names as systemd knows them -------------------------------------------------------------

TEST_F(WatchTest, AnAliasIsWatchedOnItsUnitsPathAndLoggedOnce) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_NONBLOCK), 0);
  SetLogFd(fds[1]);
  ASSERT_TRUE(watch_->Start(&sink_).ok());
  ASSERT_TRUE(Handle(ReplyString(sink_.sent[2].serial, kBus, kOwner, false)).ok());
  SentCall get0 = AnswerId(4, "ssh.service");
  SetLogFd(2);
  EXPECT_EQ(sink_.sent[6].body, UnitRule(kSshPath));  // no match on the alias's own path
  EXPECT_EQ(get0.path, kSshPath);
  EXPECT_EQ(watch_->unit_path(0), kSshPath);
  ASSERT_TRUE(Handle(ReplyString(get0.serial, kOwner, "inactive", true)).ok());
  ASSERT_TRUE(Handle(PropertiesChanged(kSshPath, kOwner, "active")).ok());
  ASSERT_TRUE(Handle(PropertiesChanged(kPath0, kOwner, "failed")).ok());  // not the unit's path
  EXPECT_EQ(listener_.events, (std::vector<std::string>{"initial 0 inactive", "state 0 active"}));
  char text[4096];
  ssize_t got = read(fds[0], text, sizeof text);
  close(fds[0]);
  close(fds[1]);
  ASSERT_GT(got, 0);
  EXPECT_EQ(std::string(text, static_cast<size_t>(got)), "a-b_c.service is ssh.service\n");
}

TEST_F(WatchTest, TwoNamesOfOneUnitAreEachToldOfItsSignals) {
  ASSERT_TRUE(watch_->Start(&sink_).ok());
  ASSERT_TRUE(Handle(ReplyString(sink_.sent[2].serial, kBus, kOwner, false)).ok());
  ASSERT_TRUE(
      Handle(ReplyString(AnswerId(4, "ssh.service").serial, kOwner, "inactive", true)).ok());
  ASSERT_TRUE(
      Handle(ReplyString(AnswerId(5, "ssh.service").serial, kOwner, "inactive", true)).ok());
  ASSERT_TRUE(Handle(PropertiesChanged(kSshPath, kOwner, "active")).ok());
  EXPECT_EQ(listener_.events, (std::vector<std::string>{"initial 0 inactive", "initial 1 inactive",
                                                        "state 0 active", "state 1 active"}));
}

TEST_F(WatchTest, AfterAReloadEveryNameIsResolvedAgainAndTheMatchMovesWithIt) {
  StartAndAnswer("inactive", "inactive");
  ASSERT_TRUE(Handle(Reloading(kOwner, true)).ok());  // still reloading: nothing yet
  EXPECT_TRUE(sink_.sent.empty());
  ASSERT_TRUE(Handle(Reloading(kOwner, false)).ok());
  ASSERT_EQ(sink_.sent.size(), 2u);
  EXPECT_EQ(sink_.sent[0].path, kPath0);
  EXPECT_EQ(sink_.sent[1].path, kPath1);
  // The name became an alias: the old match goes, one on the unit's path comes, then its state.
  ASSERT_TRUE(Handle(ReplyString(sink_.sent[0].serial, kOwner, "ssh.service", true)).ok());
  ASSERT_EQ(sink_.sent.size(), 9u);
  EXPECT_EQ(sink_.sent[2].member, "RemoveMatch");
  EXPECT_EQ(sink_.sent[2].body, UnitRule(kPath0));
  EXPECT_EQ(sink_.sent[3].member, "RemoveMatch");
  EXPECT_EQ(sink_.sent[3].body, UnitRule(kPath0, kServiceInterface));
  EXPECT_EQ(sink_.sent[4].member, "AddMatch");
  EXPECT_EQ(sink_.sent[4].body, UnitRule(kSshPath));
  EXPECT_EQ(sink_.sent[5].body, UnitRule(kSshPath, kServiceInterface));
  EXPECT_EQ(sink_.sent[8].path, kSshPath);
  EXPECT_EQ(sink_.sent[8].body, "org.freedesktop.systemd1.Unit|ActiveState");
  ASSERT_TRUE(Handle(ReplyString(sink_.sent[8].serial, kOwner, "active", true)).ok());
  // Unchanged: no new match, only the state (with what comes with it).
  ASSERT_TRUE(Handle(ReplyString(sink_.sent[1].serial, kOwner, kUnits[1], true)).ok());
  ASSERT_EQ(sink_.sent.size(), 12u);
  EXPECT_EQ(sink_.sent[11].path, kPath1);
  ASSERT_TRUE(Handle(ReplyString(sink_.sent[11].serial, kOwner, "inactive", true)).ok());
  EXPECT_EQ(listener_.events, (std::vector<std::string>{"state 0 active", "state 1 inactive"}));
  EXPECT_FALSE(watch_->rereading());
  // The alias is removed: back to the name's own path.
  sink_.sent.clear();
  ASSERT_TRUE(Handle(Reloading(kOwner, false)).ok());
  ASSERT_TRUE(Handle(ReplyString(sink_.sent[0].serial, kOwner, kUnits[0], true)).ok());
  ASSERT_EQ(sink_.sent.size(), 9u);
  EXPECT_EQ(sink_.sent[2].member, "RemoveMatch");
  EXPECT_EQ(sink_.sent[2].body, UnitRule(kSshPath));
  EXPECT_EQ(sink_.sent[4].body, UnitRule(kPath0));
  EXPECT_EQ(watch_->unit_path(0), kPath0);
}

TEST_F(WatchTest, AReloadingFromAnyoneButSystemdIsIgnored) {
  StartAndAnswer("inactive", "inactive");
  ASSERT_TRUE(Handle(Reloading(":1.666", false)).ok());
  ASSERT_TRUE(Handle(Reloading(kOwner, false, "/org/freedesktop/systemd2")).ok());
  EXPECT_TRUE(sink_.sent.empty());
}

// --- Owner changes -----------------------------------------------------------------------------

TEST_F(WatchTest, AnOwnerChangeIsFollowedAndTheOldOwnerNoLongerTrusted) {
  StartAndAnswer("inactive", "active");
  ASSERT_TRUE(Handle(NameOwnerChanged(kBus, "org.freedesktop.systemd1", kOwner, ":1.8")).ok());
  EXPECT_EQ(watch_->systemd_owner(), ":1.8");
  ASSERT_EQ(sink_.sent.size(), 3u);  // Subscribe again, resolve both names again
  EXPECT_EQ(sink_.sent[0].member, "Subscribe");
  EXPECT_EQ(sink_.sent[1].body, "org.freedesktop.systemd1.Unit|Id");
  EXPECT_EQ(sink_.sent[2].body, "org.freedesktop.systemd1.Unit|Id");
  SentCall get0 = AnswerId(1, kUnits[0], ":1.8");
  ASSERT_TRUE(Handle(ReplyString(get0.serial, ":1.8", "active", true)).ok());
  ASSERT_TRUE(Handle(PropertiesChanged(kPath0, kOwner, "failed")).ok());  // the old name
  ASSERT_TRUE(Handle(PropertiesChanged(kPath0, ":1.8", "inactive")).ok());
  EXPECT_EQ(listener_.events, (std::vector<std::string>{"state 0 active", "state 0 inactive"}));
}

TEST_F(WatchTest, AGetTheOldOwnerLeavesUnansweredIsAskedOfTheNewOne) {
  StartAndAnswer("inactive", "inactive");
  ASSERT_TRUE(Handle(PropertiesChanged(kPath1, kOwner, nullptr, true)).ok());
  uint32_t get = sink_.sent[2].serial;
  ASSERT_TRUE(Handle(NameOwnerChanged(kBus, "org.freedesktop.systemd1", kOwner, ":1.8")).ok());
  // The three Gets, Subscribe, and unit 0 only: unit 1's is out.
  ASSERT_EQ(sink_.sent.size(), 5u);
  EXPECT_EQ(sink_.sent[4].path, kPath0);
  EXPECT_TRUE(watch_->rereading());
  // The old owner went away without answering: the bus says so.
  ASSERT_TRUE(Handle(ReplyError(get, kBus, "org.freedesktop.DBus.Error.NoReply")).ok());
  ASSERT_EQ(sink_.sent.size(), 6u);
  EXPECT_EQ(sink_.sent[5].path, kPath1);
  EXPECT_EQ(sink_.sent[5].body, "org.freedesktop.systemd1.Unit|Id");
  SentCall get1 = AnswerId(5, kUnits[1], ":1.8");
  ASSERT_TRUE(Handle(ReplyString(get1.serial, ":1.8", "active", true)).ok());
  EXPECT_EQ(listener_.events, (std::vector<std::string>{"state 1 active"}));
}

TEST_F(WatchTest, AGetLostBeforeTheOwnerChangeIsAskedAgainWithTheRest) {
  StartAndAnswer("inactive", "inactive");
  ASSERT_TRUE(Handle(PropertiesChanged(kPath1, kOwner, nullptr, true)).ok());
  ASSERT_TRUE(
      Handle(ReplyError(sink_.sent[2].serial, kBus, "org.freedesktop.DBus.Error.NoReply")).ok());
  EXPECT_FALSE(watch_->rereading());
  ASSERT_TRUE(Handle(NameOwnerChanged(kBus, "org.freedesktop.systemd1", kOwner, "")).ok());
  ASSERT_TRUE(Handle(NameOwnerChanged(kBus, "org.freedesktop.systemd1", "", ":1.8")).ok());
  ASSERT_EQ(sink_.sent.size(), 6u);  // the three Gets, Subscribe, both names
  SentCall get1 = AnswerId(5, kUnits[1], ":1.8");
  ASSERT_TRUE(Handle(ReplyString(get1.serial, ":1.8", "active", true)).ok());
  EXPECT_EQ(listener_.events, (std::vector<std::string>{"state 1 active"}));
}

TEST_F(WatchTest, AnInitialGetLostToAnOwnerChangeIsAskedAgainBeforeReady) {
  ASSERT_TRUE(watch_->Start(&sink_).ok());
  for (size_t i = 0; i < 2; ++i) ASSERT_TRUE(Handle(ReplyEmpty(sink_.sent[i].serial, kBus)).ok());
  ASSERT_TRUE(Handle(ReplyString(sink_.sent[2].serial, kBus, kOwner, false)).ok());
  ASSERT_TRUE(Handle(ReplyEmpty(sink_.sent[3].serial, kOwner)).ok());
  SentCall get0 = AnswerId(4, kUnits[0]);
  ASSERT_TRUE(Handle(ReplyString(AnswerId(5, kUnits[1]).serial, kOwner, "inactive", true)).ok());
  ASSERT_TRUE(Handle(NameOwnerChanged(kBus, "org.freedesktop.systemd1", kOwner, ":1.8")).ok());
  size_t before = sink_.sent.size();
  ASSERT_TRUE(Handle(ReplyError(get0.serial, kBus, "org.freedesktop.DBus.Error.NoReply")).ok());
  EXPECT_FALSE(watch_->ready());
  ASSERT_EQ(sink_.sent.size(), before + 1);
  SentCall again = AnswerId(before, kUnits[0], ":1.8");
  ASSERT_TRUE(Handle(ReplyString(again.serial, ":1.8", "active", true)).ok());
  // Unit 1's re-read after the owner change is still out; the start-up itself is done.
  EXPECT_TRUE(watch_->ready());
  EXPECT_EQ(listener_.events,
            (std::vector<std::string>{"initial 1 inactive", "initial 0 active", "ready"}));
}

TEST_F(WatchTest, OnlyTheBusMayAnnounceAnOwnerChange) {
  StartAndAnswer("inactive", "inactive");
  ASSERT_TRUE(
      Handle(NameOwnerChanged(":1.666", "org.freedesktop.systemd1", kOwner, ":1.666")).ok());
  EXPECT_EQ(watch_->systemd_owner(), kOwner);
  EXPECT_TRUE(sink_.sent.empty());
}

TEST_F(WatchTest, UnknownRepliesAreIgnored) {
  StartAndAnswer("inactive", "inactive");
  ASSERT_TRUE(Handle(ReplyString(12345, kOwner, "active", true)).ok());
  EXPECT_TRUE(listener_.events.empty());
}

// A reply with the right serial from the wrong sender.
constexpr const char* kStranger = ":1.666";

TEST_F(WatchTest, AGetAnsweredByAStrangerIsRefusedAndTheRealAnswerStillCounts) {
  ASSERT_TRUE(watch_->Start(&sink_).ok());
  for (size_t i = 0; i < 2; ++i) ASSERT_TRUE(Handle(ReplyEmpty(sink_.sent[i].serial, kBus)).ok());
  ASSERT_TRUE(Handle(ReplyString(sink_.sent[2].serial, kBus, kOwner, false)).ok());
  ASSERT_TRUE(Handle(ReplyEmpty(sink_.sent[3].serial, kOwner)).ok());
  // A stranger's Id would move the watch elsewhere: refused.
  ASSERT_TRUE(Handle(ReplyString(sink_.sent[4].serial, kStranger, "x.service", true)).ok());
  EXPECT_EQ(sink_.sent.size(), 6u);
  SentCall get0 = AnswerId(4, kUnits[0]);
  SentCall get1 = AnswerId(5, kUnits[1]);
  ASSERT_TRUE(Handle(ReplyString(get0.serial, kStranger, "active", true)).ok());
  ASSERT_TRUE(Handle(ReplyString(get0.serial, "org.freedesktop.systemd1", "active", true)).ok());
  ASSERT_TRUE(Handle(ReplyString(get0.serial, "", "active", true)).ok());
  EXPECT_TRUE(listener_.events.empty());
  ASSERT_TRUE(Handle(ReplyString(get0.serial, kOwner, "inactive", true)).ok());
  ASSERT_TRUE(Handle(ReplyString(get1.serial, kOwner, "failed", true)).ok());
  EXPECT_EQ(listener_.events,
            (std::vector<std::string>{"initial 0 inactive", "initial 1 failed", "ready"}));
}

TEST_F(WatchTest, ASubscribeAnsweredByAStrangerDoesNotCountTowardsReady) {
  ASSERT_TRUE(watch_->Start(&sink_).ok());
  for (size_t i = 0; i < 2; ++i) ASSERT_TRUE(Handle(ReplyEmpty(sink_.sent[i].serial, kBus)).ok());
  ASSERT_TRUE(Handle(ReplyString(sink_.sent[2].serial, kBus, kOwner, false)).ok());
  ASSERT_TRUE(Handle(ReplyString(AnswerId(4, kUnits[0]).serial, kOwner, "inactive", true)).ok());
  ASSERT_TRUE(Handle(ReplyString(AnswerId(5, kUnits[1]).serial, kOwner, "inactive", true)).ok());
  ASSERT_TRUE(Handle(ReplyEmpty(sink_.sent[3].serial, kStranger)).ok());
  EXPECT_FALSE(watch_->ready());
  ASSERT_TRUE(Handle(ReplyEmpty(sink_.sent[3].serial, kOwner)).ok());
  EXPECT_TRUE(watch_->ready());
}

TEST_F(WatchTest, OnlyTheBusAnswersGetNameOwnerAndAddMatch) {
  ASSERT_TRUE(watch_->Start(&sink_).ok());
  const std::vector<SentCall> s = sink_.sent;
  // A forged refusal of a match would stop the daemon; a forged owner would be trusted.
  ASSERT_TRUE(
      Handle(ReplyError(s[1].serial, kStranger, "org.freedesktop.DBus.Error.LimitsExceeded")).ok());
  ASSERT_TRUE(Handle(ReplyString(s[2].serial, kStranger, kStranger, false)).ok());
  ASSERT_TRUE(Handle(ReplyString(s[2].serial, kOwner, kStranger, false)).ok());
  EXPECT_EQ(watch_->systemd_owner(), "");
  for (size_t i = 0; i < 2; ++i) ASSERT_TRUE(Handle(ReplyEmpty(s[i].serial, kBus)).ok());
  ASSERT_TRUE(Handle(ReplyString(s[2].serial, kBus, kOwner, false)).ok());
  EXPECT_EQ(watch_->systemd_owner(), kOwner);
  ASSERT_TRUE(Handle(ReplyEmpty(s[3].serial, kOwner)).ok());
  ASSERT_TRUE(Handle(ReplyString(s[4].serial, kOwner, kUnits[0], true)).ok());
  // The unit's match, refused by a stranger: nothing stops.
  ASSERT_TRUE(Handle(ReplyError(sink_.sent[6].serial, kStranger,
                                "org.freedesktop.DBus.Error.LimitsExceeded"))
                  .ok());
  ASSERT_TRUE(Handle(ReplyEmpty(sink_.sent[6].serial, kBus)).ok());
  ASSERT_TRUE(Handle(ReplyEmpty(sink_.sent[7].serial, kBus)).ok());
  ASSERT_TRUE(Handle(ReplyString(sink_.sent[10].serial, kOwner, "inactive", true)).ok());
  ASSERT_TRUE(Handle(ReplyString(AnswerId(5, kUnits[1]).serial, kOwner, "inactive", true)).ok());
  EXPECT_TRUE(watch_->ready());
  ASSERT_TRUE(Handle(PropertiesChanged(kPath0, kStranger, "active")).ok());
  EXPECT_EQ(listener_.events,
            (std::vector<std::string>{"initial 0 inactive", "initial 1 inactive", "ready"}));
}

TEST_F(WatchTest, TheBusMayAnswerSystemdsCallsWithAnErrorOnly) {
  ASSERT_TRUE(watch_->Start(&sink_).ok());
  for (size_t i = 0; i < 2; ++i) ASSERT_TRUE(Handle(ReplyEmpty(sink_.sent[i].serial, kBus)).ok());
  // Nobody owns the name: the bus answers every call to it with ServiceUnknown.
  ASSERT_TRUE(
      Handle(ReplyError(sink_.sent[2].serial, kBus, "org.freedesktop.DBus.Error.NameHasNoOwner"))
          .ok());
  ASSERT_TRUE(Handle(ReplyEmpty(sink_.sent[3].serial, kBus)).ok());  // not the bus's to give
  ASSERT_TRUE(Handle(ReplyString(sink_.sent[4].serial, kBus, "x.service", true)).ok());
  EXPECT_EQ(sink_.sent.size(), 6u);
  const char* unknown = "org.freedesktop.DBus.Error.ServiceUnknown";
  for (size_t i = 3; i < 6; ++i) {
    ASSERT_TRUE(Handle(ReplyError(sink_.sent[i].serial, kBus, unknown)).ok());
  }
  // Each name stays on its own path, and its state is asked for there (with what comes with it).
  ASSERT_EQ(sink_.sent.size(), 16u);
  for (size_t i = 6; i < 16; ++i) {
    SentCall call = sink_.sent[i];
    if (call.member == "AddMatch") {
      ASSERT_TRUE(Handle(ReplyEmpty(call.serial, kBus)).ok());
    } else {
      ASSERT_TRUE(Handle(ReplyError(call.serial, kBus, unknown)).ok());
    }
  }
  EXPECT_EQ(listener_.events, (std::vector<std::string>{"initial 0 ?", "initial 1 ?", "ready"}));
}

TEST_F(WatchTest, ACallSentBeforeTheOwnerWasKnownMayBeAnsweredByTheOwnerTheBusAnnouncedSince) {
  ASSERT_TRUE(watch_->Start(&sink_).ok());
  for (size_t i = 0; i < 2; ++i) ASSERT_TRUE(Handle(ReplyEmpty(sink_.sent[i].serial, kBus)).ok());
  ASSERT_TRUE(Handle(ReplyString(sink_.sent[2].serial, kBus, kOwner, false)).ok());
  // The name moved before the bus routed Subscribe and the Gets: it told us first.
  ASSERT_TRUE(Handle(NameOwnerChanged(kBus, "org.freedesktop.systemd1", kOwner, ":1.8")).ok());
  ASSERT_EQ(sink_.sent.size(), 7u);  // a second Subscribe; both names' Gets are still out
  ASSERT_TRUE(Handle(ReplyEmpty(sink_.sent[3].serial, ":1.8")).ok());
  ASSERT_TRUE(Handle(ReplyEmpty(sink_.sent[6].serial, ":1.8")).ok());
  // Answered by the new owner, yet sent before the change: asked again, then followed.
  ASSERT_TRUE(Handle(ReplyString(sink_.sent[4].serial, ":1.8", kUnits[0], true)).ok());
  ASSERT_TRUE(Handle(ReplyString(sink_.sent[5].serial, ":1.8", kUnits[1], true)).ok());
  ASSERT_EQ(sink_.sent.size(), 9u);
  ASSERT_TRUE(
      Handle(ReplyString(AnswerId(7, kUnits[0], ":1.8").serial, ":1.8", "active", true)).ok());
  ASSERT_TRUE(
      Handle(ReplyString(AnswerId(8, kUnits[1], ":1.8").serial, ":1.8", "inactive", true)).ok());
  EXPECT_EQ(listener_.events,
            (std::vector<std::string>{"initial 0 active", "initial 1 inactive", "ready"}));
}

TEST_F(WatchTest, ACallRoutedToTheOwnerBeforeAChangeIsAcceptedFromItAfterTheChange) {
  StartAndAnswer("inactive", "inactive");
  ASSERT_TRUE(Handle(PropertiesChanged(kPath1, kOwner, nullptr, true)).ok());
  ASSERT_EQ(sink_.sent.size(), 3u);
  uint32_t get = sink_.sent[2].serial;
  ASSERT_TRUE(Handle(NameOwnerChanged(kBus, "org.freedesktop.systemd1", kOwner, ":1.8")).ok());
  ASSERT_EQ(sink_.sent.size(), 5u);
  ASSERT_TRUE(Handle(ReplyString(get, ":1.9", "failed", true)).ok());  // neither owner: refused
  EXPECT_EQ(sink_.sent.size(), 5u);
  // The old owner's answer counts as an answer (no longer awaited), but it is from before the
  // change, so the new owner is asked.
  ASSERT_TRUE(Handle(ReplyString(get, kOwner, "active", true)).ok());
  ASSERT_EQ(sink_.sent.size(), 6u);
  EXPECT_EQ(sink_.sent[5].path, kPath1);
  EXPECT_EQ(sink_.sent[5].body, "org.freedesktop.systemd1.Unit|Id");
  ASSERT_TRUE(Handle(ReplyString(get, kOwner, "failed", true)).ok());  // answered already
  ASSERT_TRUE(
      Handle(ReplyString(AnswerId(5, kUnits[1], ":1.8").serial, ":1.8", "active", true)).ok());
  EXPECT_EQ(listener_.events, (std::vector<std::string>{"state 1 active"}));
}

TEST_F(WatchTest, AnOwnerBeforeAGapWithNoOwnerStillAnswersItsCalls) {
  StartAndAnswer("inactive", "inactive");
  ASSERT_TRUE(Handle(PropertiesChanged(kPath1, kOwner, nullptr, true)).ok());
  uint32_t get = sink_.sent[2].serial;
  ASSERT_TRUE(Handle(NameOwnerChanged(kBus, "org.freedesktop.systemd1", kOwner, "")).ok());
  ASSERT_TRUE(Handle(NameOwnerChanged(kBus, "org.freedesktop.systemd1", "", ":1.8")).ok());
  size_t before = sink_.sent.size();
  ASSERT_TRUE(Handle(ReplyString(get, kOwner, "active", true)).ok());
  ASSERT_EQ(sink_.sent.size(), before + 1);  // accepted, and asked again of :1.8
  ASSERT_TRUE(
      Handle(ReplyString(AnswerId(before, kUnits[1], ":1.8").serial, ":1.8", "active", true)).ok());
  EXPECT_EQ(listener_.events, (std::vector<std::string>{"state 1 active"}));
}

TEST_F(WatchTest, ANewStartTrustsNoOwnerOfTheLastConnection) {
  StartAndAnswer("inactive", "inactive");
  ASSERT_TRUE(Handle(NameOwnerChanged(kBus, "org.freedesktop.systemd1", kOwner, ":1.8")).ok());
  // Reconnected: a fresh Watch state on a new connection (a new table: no calls, no owner
  // trusted), where the bus says :1.9 is systemd.
  sink_.replies.Clear();
  ASSERT_TRUE(watch_->Init(kUnits, &listener_).ok());
  sink_.sent.clear();
  listener_.events.clear();
  ASSERT_TRUE(watch_->Start(&sink_).ok());
  ASSERT_TRUE(Handle(ReplyString(sink_.sent[2].serial, kBus, ":1.9", false)).ok());
  ASSERT_TRUE(Handle(ReplyString(sink_.sent[4].serial, kOwner, kUnits[0], true)).ok());
  ASSERT_TRUE(Handle(ReplyString(sink_.sent[4].serial, ":1.8", kUnits[0], true)).ok());
  EXPECT_EQ(sink_.sent.size(), 6u);
  SentCall get0 = AnswerId(4, kUnits[0], ":1.9");
  ASSERT_TRUE(Handle(ReplyString(get0.serial, kOwner, "active", true)).ok());
  ASSERT_TRUE(Handle(ReplyString(get0.serial, ":1.8", "active", true)).ok());
  EXPECT_TRUE(listener_.events.empty());
  ASSERT_TRUE(Handle(ReplyString(get0.serial, ":1.9", "inactive", true)).ok());
  EXPECT_EQ(listener_.events, (std::vector<std::string>{"initial 0 inactive"}));
}

TEST_F(WatchTest, ARefusedReplyIsLoggedAtDebugLevelNamingTheCallAndTheSender) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_NONBLOCK), 0);
  SetLogFd(fds[1]);
  SetDebugLogging(true);
  ASSERT_TRUE(watch_->Start(&sink_).ok());
  const std::vector<SentCall> s = sink_.sent;
  ASSERT_TRUE(Handle(ReplyString(s[2].serial, kStranger, kStranger, false)).ok());
  ASSERT_TRUE(Handle(ReplyString(s[2].serial, kBus, kOwner, false)).ok());
  ASSERT_TRUE(Handle(ReplyString(s[4].serial, kStranger, "active", true)).ok());
  SetDebugLogging(false);
  SetLogFd(2);
  char text[4096];
  ssize_t got = read(fds[0], text, sizeof text);
  close(fds[0]);
  close(fds[1]);
  ASSERT_GT(got, 0);
  std::string log(text, static_cast<size_t>(got));
  EXPECT_NE(log.find("debug: refusing a reply to GetNameOwner from :1.666: only "
                     "org.freedesktop.DBus answers it\n"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("debug: refusing a reply to Get for a-b_c.service from :1.666: systemd is "
                     ":1.7\n"),
            std::string::npos)
      << log;
}

}  // namespace
}  // namespace jsn
