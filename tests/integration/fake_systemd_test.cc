// Proves the fake systemd (tests/support/fake_systemd.py and FakeSystemd) behaves as the
// daemon's tests assume, seen only through independent peers: busctl and a Python client call
// it, dbus-monitor watches what it sends.
#include "support/fake_systemd.h"

#include <signal.h>

#include <thread>

#include "support/bus_monitor.h"
#include "support/child_process.h"
#include "support/private_bus.h"
#include "support/source_tree.h"
#include "support/user_systemd.h"

namespace jsn::testing {
namespace {

const char kPropertiesChangedRule[] =
    "type='signal',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged'";

std::string Path(const std::string& unit) { return UserSystemd::UnitObjectPath(unit); }

std::string BusctlGet(const PrivateBus& bus, const std::string& unit, const std::string& property) {
  CommandResult result = RunCommand({"busctl", "--address=" + bus.address(), "get-property",
                                     "org.freedesktop.systemd1", Path(unit),
                                     "org.freedesktop.systemd1.Unit", property});
  return result.output;
}

// PropertiesChanged signals for `unit`'s path from index `from` on.
std::vector<BusMessage> UnitSignals(const BusMonitor& monitor, const std::string& unit,
                                    size_t from = 0) {
  std::vector<BusMessage> found;
  for (size_t i = from; i < monitor.messages().size(); ++i) {
    const BusMessage& m = monitor.messages()[i];
    if (m.member == "PropertiesChanged" && m.path == Path(unit)) found.push_back(m);
  }
  return found;
}

// A client that stays subscribed until destroyed (tests/support/systemd-subscriber).
class Subscriber {
 public:
  ::testing::AssertionResult Start(const std::string& address) {
    std::string error;
    if (!process_.Start({SourcePath("tests/support/systemd-subscriber"), "--address", address}, {},
                        &error, "", true)) {
      return ::testing::AssertionFailure() << error;
    }
    std::string line;
    if (!process_.ReadLine(&line, std::chrono::seconds(20)) || line.rfind("subscribed ", 0) != 0) {
      return ::testing::AssertionFailure() << "systemd-subscriber said \"" << line << "\"";
    }
    return ::testing::AssertionSuccess();
  }

 private:
  ChildProcess process_;
};

class FakeSystemdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(bus_.Start());
    ASSERT_TRUE(systemd_.Start(bus_.address(), {"a-b_c.service=active", "0lead.service=failed"}));
    ASSERT_TRUE(monitor_.Start(bus_.address(), {kPropertiesChangedRule}));
  }

  PrivateBus bus_;
  FakeSystemd systemd_;
  BusMonitor monitor_;
};

TEST_F(FakeSystemdTest, OwnsTheSystemdNameAndAnswersGetAtEscapedUnitPaths) {
  CommandResult owner =
      RunCommand({"busctl", "--address=" + bus_.address(), "call", "org.freedesktop.DBus",
                  "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetNameOwner", "s",
                  "org.freedesktop.systemd1"});
  EXPECT_EQ(owner.output, "s \"" + systemd_.owner() + "\"\n");
  EXPECT_EQ(BusctlGet(bus_, "a-b_c.service", "ActiveState"), "s \"active\"\n");
  EXPECT_EQ(BusctlGet(bus_, "a-b_c.service", "SubState"), "s \"running\"\n");
  EXPECT_EQ(BusctlGet(bus_, "a-b_c.service", "Id"), "s \"a-b_c.service\"\n");
  EXPECT_EQ(BusctlGet(bus_, "0lead.service", "ActiveState"), "s \"failed\"\n");
  // Like systemd, a name never seen is a not-found stub, inactive.
  EXPECT_EQ(BusctlGet(bus_, "foo@bar.service", "ActiveState"), "s \"inactive\"\n");
  EXPECT_EQ(BusctlGet(bus_, "foo@bar.service", "LoadState"), "s \"not-found\"\n");
  EXPECT_EQ(BusctlGet(bus_, "foo@bar.service", "Id"), "s \"foo@bar.service\"\n");
  EXPECT_EQ(systemd_.Gets("a-b_c.service"), 3);

  CommandResult all =
      RunCommand({"gdbus", "call", "--address", bus_.address(), "--dest",
                  "org.freedesktop.systemd1", "--object-path", Path("0lead.service"), "--method",
                  "org.freedesktop.DBus.Properties.GetAll", "org.freedesktop.systemd1.Unit"});
  EXPECT_NE(all.output.find("'ActiveState': <'failed'>"), std::string::npos) << all.output;
}

TEST_F(FakeSystemdTest, EmitsNoUnitSignalUntilAClientSubscribes) {
  bool emitted = true;
  ASSERT_TRUE(systemd_.SetState("a-b_c.service", "inactive", "", &emitted));
  EXPECT_FALSE(emitted);
  ASSERT_TRUE(monitor_.Sync());
  EXPECT_TRUE(UnitSignals(monitor_, "a-b_c.service").empty()) << monitor_.Dump();
  // The state changed all the same.
  EXPECT_EQ(BusctlGet(bus_, "a-b_c.service", "ActiveState"), "s \"inactive\"\n");

  Subscriber subscriber;
  ASSERT_TRUE(subscriber.Start(bus_.address()));
  ASSERT_TRUE(systemd_.SetState("a-b_c.service", "active", "", &emitted));
  EXPECT_TRUE(emitted);
  ASSERT_TRUE(monitor_.Sync());
  EXPECT_EQ(UnitSignals(monitor_, "a-b_c.service").size(), 1u) << monitor_.Dump();
}

TEST_F(FakeSystemdTest, SetStateSendsActiveStateInTheChangedDictFromTheOwner) {
  Subscriber subscriber;
  ASSERT_TRUE(subscriber.Start(bus_.address()));
  ASSERT_TRUE(systemd_.SetState("a-b_c.service", "deactivating", "stop-sigterm"));
  ASSERT_TRUE(monitor_.Sync());
  std::vector<BusMessage> signals = UnitSignals(monitor_, "a-b_c.service");
  ASSERT_EQ(signals.size(), 1u) << monitor_.Dump();
  EXPECT_EQ(signals[0].sender, systemd_.owner());
  EXPECT_EQ(signals[0].interface, "org.freedesktop.DBus.Properties");
  EXPECT_EQ(signals[0].body[0], "string \"org.freedesktop.systemd1.Unit\"");
  EXPECT_EQ(signals[0].ChangedString("ActiveState"), "deactivating");
  EXPECT_EQ(signals[0].ChangedString("SubState"), "stop-sigterm");
  EXPECT_FALSE(signals[0].Invalidates("ActiveState"));
}

TEST_F(FakeSystemdTest, InvalidateSendsActiveStateOnlyInTheInvalidatedListAndGetHasTheNewValue) {
  Subscriber subscriber;
  ASSERT_TRUE(subscriber.Start(bus_.address()));
  ASSERT_TRUE(systemd_.Invalidate("a-b_c.service", "failed"));
  ASSERT_TRUE(monitor_.Sync());
  std::vector<BusMessage> signals = UnitSignals(monitor_, "a-b_c.service");
  ASSERT_EQ(signals.size(), 1u) << monitor_.Dump();
  EXPECT_EQ(signals[0].ChangedString("ActiveState"), "");
  EXPECT_TRUE(signals[0].Invalidates("ActiveState"));
  EXPECT_TRUE(signals[0].Invalidates("SubState"));
  int gets_before = systemd_.Gets("a-b_c.service");
  EXPECT_EQ(BusctlGet(bus_, "a-b_c.service", "ActiveState"), "s \"failed\"\n");
  EXPECT_EQ(systemd_.Gets("a-b_c.service"), gets_before + 1);
}

TEST_F(FakeSystemdTest, SequenceSendsEveryStateInOrderBackToBack) {
  Subscriber subscriber;
  ASSERT_TRUE(subscriber.Start(bus_.address()));
  ASSERT_TRUE(systemd_.Sequence("0lead.service",
                                {"activating", "active", "failed", "activating", "active"}));
  ASSERT_TRUE(monitor_.Sync());
  std::vector<std::string> states;
  for (const BusMessage& m : UnitSignals(monitor_, "0lead.service")) {
    states.push_back(m.ChangedString("ActiveState"));
  }
  EXPECT_EQ(states,
            (std::vector<std::string>{"activating", "active", "failed", "activating", "active"}));
  EXPECT_EQ(systemd_.ActiveState("0lead.service"), "active");
}

TEST_F(FakeSystemdTest, CountsSubscribeCallsAndAnswersAlreadySubscribedLikeSystemd) {
  // One connection subscribing twice, then unsubscribing twice.
  CommandResult client = RunCommand(
      {"/usr/bin/python3", "-c",
       "import dbus, sys\n"
       "bus = dbus.bus.BusConnection(sys.argv[1])\n"
       "m = dbus.Interface(bus.get_object('org.freedesktop.systemd1', '/org/freedesktop/systemd1'),"
       " 'org.freedesktop.systemd1.Manager')\n"
       "for call in (m.Subscribe, m.Subscribe, m.Unsubscribe, m.Unsubscribe):\n"
       "    try:\n"
       "        call(); print('ok')\n"
       "    except dbus.DBusException as e:\n"
       "        print(e.get_dbus_name())\n",
       bus_.address()});
  ASSERT_TRUE(client.succeeded()) << client.output;
  EXPECT_EQ(client.output,
            "ok\norg.freedesktop.systemd1.AlreadySubscribed\nok\n"
            "org.freedesktop.systemd1.NotSubscribed\n");
  EXPECT_EQ(systemd_.SubscribeCalls(), 2);
  EXPECT_EQ(systemd_.UnsubscribeCalls(), 2);
  EXPECT_EQ(systemd_.Subscribers(), 0);

  Subscriber subscriber;
  ASSERT_TRUE(subscriber.Start(bus_.address()));
  EXPECT_EQ(systemd_.Subscribers(), 1);
  EXPECT_EQ(systemd_.SubscribeCalls(), 3);
}

TEST_F(FakeSystemdTest, ForgetsASubscriberThatDisconnects) {
  {
    Subscriber subscriber;
    ASSERT_TRUE(subscriber.Start(bus_.address()));
    ASSERT_EQ(systemd_.Subscribers(), 1);
  }  // killed and reaped: its connection closes without Unsubscribe
  // The fake learns it from NameOwnerChanged, in its own time: poll, bounded.
  int subscribers = -1;
  for (int i = 0; i < 1000 && subscribers != 0; ++i) {
    subscribers = systemd_.Subscribers();
    if (subscribers != 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(subscribers, 0);
  bool emitted = true;
  ASSERT_TRUE(systemd_.SetState("a-b_c.service", "inactive", "", &emitted));
  EXPECT_FALSE(emitted);
}

TEST_F(FakeSystemdTest, SpoofComesFromAnotherConnectionAndLeavesTheStateAlone) {
  std::string spoofer;
  ASSERT_TRUE(systemd_.Spoof("a-b_c.service", "inactive", &spoofer));
  ASSERT_TRUE(monitor_.Sync());
  std::vector<BusMessage> signals = UnitSignals(monitor_, "a-b_c.service");
  ASSERT_EQ(signals.size(), 1u) << monitor_.Dump();
  EXPECT_EQ(signals[0].sender, spoofer);
  EXPECT_NE(signals[0].sender, systemd_.owner());
  EXPECT_EQ(signals[0].ChangedString("ActiveState"), "inactive");
  EXPECT_EQ(BusctlGet(bus_, "a-b_c.service", "ActiveState"), "s \"active\"\n");
}

// The "reply_serial=N" of a method return as dbus-monitor printed it, or "".
std::string ReplySerial(const BusMessage& message) {
  size_t at = message.header.find("reply_serial=");
  if (at == std::string::npos) return "";
  return message.header.substr(at, message.header.find(' ', at) - at);
}

TEST_F(FakeSystemdTest, AHeldGetIsAnsweredFirstByTheForgerThenByTheOwnerOnRelease) {
  BusMonitor replies;
  ASSERT_TRUE(replies.Start(bus_.address(), {"type='method_return'"}));
  ASSERT_TRUE(systemd_.Command("hold-gets"));
  ChildProcess client;
  std::string error;
  ASSERT_TRUE(client.Start(
      {"busctl", "--address=" + bus_.address(), "get-property", "org.freedesktop.systemd1",
       Path("a-b_c.service"), "org.freedesktop.systemd1.Unit", "ActiveState"},
      {}, &error))
      << error;
  std::string reply;
  for (int i = 0; i < 1000 && reply != "ok held 1"; ++i) {  // a hang guard: 10 s at most
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(systemd_.Command("held", &reply));
  }
  ASSERT_EQ(reply, "ok held 1");
  ASSERT_TRUE(systemd_.Command("forge-get-reply a-b_c.service failed", &reply));
  std::string forger = reply.substr(reply.rfind(' ') + 1);
  EXPECT_NE(forger, systemd_.owner());
  ASSERT_TRUE(systemd_.Command("release-gets", &reply));
  EXPECT_EQ(reply, "ok released 1");
  ASSERT_TRUE(client.WaitForExit(std::chrono::seconds(20)));
  ASSERT_TRUE(replies.WaitFor([&](const BusMessage& m) { return m.sender == systemd_.owner(); },
                              "the owner's reply"));
  std::vector<BusMessage> answers;
  for (const BusMessage& m : replies.messages()) {
    if (m.sender == forger || m.sender == systemd_.owner()) answers.push_back(m);
  }
  ASSERT_EQ(answers.size(), 2u) << replies.Dump();
  EXPECT_EQ(answers[0].sender, forger);
  EXPECT_EQ(answers[1].sender, systemd_.owner());
  EXPECT_NE(ReplySerial(answers[0]), "");
  EXPECT_EQ(ReplySerial(answers[0]), ReplySerial(answers[1])) << replies.Dump();
  EXPECT_NE(answers[0].Text().find("\"failed\""), std::string::npos) << answers[0].Text();
  EXPECT_NE(answers[1].Text().find("\"active\""), std::string::npos) << answers[1].Text();
  EXPECT_EQ(systemd_.ActiveState("a-b_c.service"), "active");  // the forgery changed nothing
}

TEST_F(FakeSystemdTest, ReplaceOwnerMovesTheNameToANewUniqueNameAndDropsSubscriptions) {
  Subscriber subscriber;
  ASSERT_TRUE(subscriber.Start(bus_.address()));
  std::string old_owner = systemd_.owner();
  ASSERT_TRUE(systemd_.ReplaceOwner());
  EXPECT_NE(systemd_.owner(), old_owner);
  CommandResult owner =
      RunCommand({"busctl", "--address=" + bus_.address(), "call", "org.freedesktop.DBus",
                  "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetNameOwner", "s",
                  "org.freedesktop.systemd1"});
  EXPECT_EQ(owner.output, "s \"" + systemd_.owner() + "\"\n");
  EXPECT_EQ(systemd_.Subscribers(), 0);
  EXPECT_EQ(BusctlGet(bus_, "a-b_c.service", "ActiveState"), "s \"active\"\n");
  bool emitted = true;
  ASSERT_TRUE(systemd_.SetState("a-b_c.service", "inactive", "", &emitted));
  EXPECT_FALSE(emitted) << "the subscription belonged to the old owner";
}

TEST_F(FakeSystemdTest, ReplaceOwnerCanKeepSubscriptionsAsRealSystemdDoes) {
  Subscriber subscriber;
  ASSERT_TRUE(subscriber.Start(bus_.address()));
  ASSERT_TRUE(systemd_.ReplaceOwner(/*keep_subscribers=*/true));
  EXPECT_EQ(systemd_.Subscribers(), 1);
  bool emitted = false;
  ASSERT_TRUE(systemd_.SetState("a-b_c.service", "inactive", "", &emitted));
  EXPECT_TRUE(emitted);
  ASSERT_TRUE(monitor_.Sync());
  std::vector<BusMessage> signals = UnitSignals(monitor_, "a-b_c.service");
  ASSERT_EQ(signals.size(), 1u) << monitor_.Dump();
  EXPECT_EQ(signals[0].sender, systemd_.owner());
}

TEST(FakeSystemd, CommandsToAFakeThatDiedFailWithoutKillingTheTest) {
  PrivateBus bus;
  ASSERT_TRUE(bus.Start());
  FakeSystemd systemd;
  ASSERT_TRUE(systemd.Start(bus.address()));
  ASSERT_EQ(kill(systemd.pid(), SIGKILL), 0);
  // Its stdin is a broken pipe now; writing must not raise SIGPIPE in the test process.
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(systemd.Command("ping"));
  EXPECT_EQ(systemd.Subscribers(), -1);
}

TEST(FakeSystemd, RefusesToStartWhenTheNameIsTaken) {
  PrivateBus bus;
  ASSERT_TRUE(bus.Start());
  FakeSystemd first;
  ASSERT_TRUE(first.Start(bus.address()));
  FakeSystemd second;
  EXPECT_FALSE(second.Start(bus.address()));
}

}  // namespace
}  // namespace jsn::testing
