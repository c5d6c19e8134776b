// The bus session against a fake bus the test drives (tests/support/fake_bus.h): the first
// connection, made in steps through the daemon's Loop, then the Watch's first call; a first
// connection that fails, or an attempt left unanswered for 25 s, ends the daemon; a lost bus is
// reported and reconnected with the backoff, addresses in turn. Time is given as an argument
// where the session takes it, so the backoff is checked without sleeping. (How the Watch's
// events pass through, and become states after a reconnect, is proved with a real bus and the
// fake systemd by the daemon scenarios: tests/integration/daemon_reconnect_test.cc.)
#include "jsn/daemon/bus_session.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "jsn/base/log.h"
#include "jsn/wire/message.h"
#include "support/fake_bus.h"
#include "support/log_capture.h"

namespace jsn {
namespace {

using ::jsn::testing::LogCapture;

using ::jsn::testing::FakeBus;
using std::chrono::milliseconds;
using std::chrono::seconds;

// What the session reported, one string an event.
class RecordingListener final : public BusSessionListener {
 public:
  void OnInitialState(size_t unit, std::string_view state, bool known) override {
    events.push_back("initial " + std::to_string(unit) + " " + std::string(state) +
                     (known ? "" : " unknown"));
  }
  void OnState(size_t unit, std::string_view state) override {
    events.push_back("state " + std::to_string(unit) + " " + std::string(state));
  }
  void OnReady() override { events.push_back("ready"); }
  void OnBusLost() override { events.push_back("bus lost"); }
  void OnWatchingAgain() override { events.push_back("watching again"); }

  std::vector<std::string> events;
};

const char* const kUnits[] = {"a.service"};

// The Loop blocks signals for the whole process: the mask is put back after each test, as in
// loop_test.cc, so the other tests (and their children) are unaffected.
class BusSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sigprocmask(SIG_SETMASK, nullptr, &saved_mask_);
    ASSERT_TRUE(loop_.Open().ok());
    ASSERT_TRUE(log_.ok());
  }
  void TearDown() override { sigprocmask(SIG_SETMASK, &saved_mask_, nullptr); }

  // One pass of the daemon's loop as far as the bus goes: interest, one wait, each readiness
  // handled, a batch received. A guard timer turns a bus that never gets ready into a failure
  // rather than a hang.
  void WaitAndHandle() {
    ASSERT_TRUE(session_.UpdateInterest());
    ASSERT_TRUE(loop_.ArmTimer(MonotonicNow() + seconds(30)).ok());
    epoll_event events[8];
    size_t count = 0;
    ASSERT_TRUE(loop_.Wait(events, 8, &count).ok());
    for (size_t i = 0; i < count; ++i) {
      // A copy: epoll_event is packed on x86_64, and ASSERT_NE binds a reference to its operands.
      const uint64_t tag = events[i].data.u64;
      ASSERT_NE(tag, Loop::kTimerTag) << "the bus never became ready";
      if (tag == BusSession::kTag) {
        ASSERT_TRUE(session_.HandleReadiness(events[i].events));
      }
    }
    ASSERT_TRUE(session_.ReceiveIfWaiting());
  }

  // Connects to `fake`, which plays the bus's start-up and reads the Watch's first call
  // (returned).
  std::string ConnectTo(FakeBus& fake, MonotonicTime now) {
    std::string first_call_member;
    std::string first_call;
    std::thread server([&] {
      fake.Handshake();
      first_call = fake.ReadMessage();
    });
    EXPECT_TRUE(session_.ReconnectIfDue(now));
    while (session_.down() && !::testing::Test::HasFatalFailure()) WaitAndHandle();
    server.join();
    Message message;
    if (Message::Parse({reinterpret_cast<const uint8_t*>(first_call.data()), first_call.size()},
                       &message)
            .ok()) {
      first_call_member = std::string(message.header().member);
    }
    return first_call_member;
  }

  sigset_t saved_mask_;
  Loop loop_;
  RecordingListener listener_;
  BusSession session_{loop_, listener_};
  LogCapture log_;
};

TEST_F(BusSessionTest, AnAddressListWithNoUsableAddressEndsTheDaemonAtStart) {
  EXPECT_FALSE(session_.Start("tcp:host=localhost,port=1", kUnits, seconds(1)));
  EXPECT_NE(log_.Take().find("cannot connect to the bus: "), std::string::npos);
}

TEST_F(BusSessionTest, TheFirstAttemptIsDueAtStartAndItsFailureEndsTheDaemon) {
  const MonotonicTime start = seconds(100);
  ASSERT_TRUE(session_.Start("unix:path=/nonexistent/jsn-bus-session-test", kUnits, start));
  EXPECT_TRUE(session_.down());
  EXPECT_EQ(session_.next_attempt(), start);
  EXPECT_TRUE(session_.ReconnectIfDue(start - milliseconds(1)));  // not yet: nothing happens
  EXPECT_EQ(log_.Take(), "");
  EXPECT_FALSE(session_.ReconnectIfDue(start));  // never connected: not retried
  EXPECT_NE(log_.Take().find("cannot connect to the bus: "), std::string::npos);
}

TEST_F(BusSessionTest, AnAttemptUnansweredFor25SecondsIsAbandoned) {
  FakeBus fake;  // listens, and never answers
  const MonotonicTime start = seconds(100);
  ASSERT_TRUE(session_.Start(fake.address().c_str(), kUnits, start));
  ASSERT_TRUE(session_.ReconnectIfDue(start));
  EXPECT_TRUE(session_.down());
  EXPECT_EQ(session_.next_attempt(), start + seconds(25));
  EXPECT_TRUE(session_.ReconnectIfDue(start + seconds(25) - milliseconds(1)));
  EXPECT_EQ(log_.Take(), "");
  EXPECT_FALSE(session_.ReconnectIfDue(start + seconds(25)));
  std::string log = log_.Take();
  EXPECT_NE(log.find("cannot connect to the bus: "), std::string::npos) << log;
  EXPECT_NE(log.find("expected Hello's reply within 25 s"), std::string::npos) << log;
}

TEST_F(BusSessionTest, ConnectsInStepsThroughTheLoopThenStartsTheWatch) {
  FakeBus fake;
  std::string address = fake.address();
  ASSERT_TRUE(session_.Start(address.c_str(), kUnits, MonotonicNow()));
  // The Watch's start-up begins with its first match (jsn/systemd/watch.h).
  EXPECT_EQ(ConnectTo(fake, MonotonicNow()), "AddMatch");
  EXPECT_FALSE(session_.down());
  EXPECT_EQ(session_.next_attempt(), kNever);
  std::string log = log_.Take();
  EXPECT_NE(log.find("connected to " + address + " as :1.99\n"), std::string::npos) << log;
  EXPECT_TRUE(listener_.events.empty());  // nothing from systemd yet
}

TEST_F(BusSessionTest, ALostBusIsReportedThenReconnectedWithBackoffOnTheAddressesInTurn) {
  FakeBus fake;
  std::string address = fake.address() + ";unix:path=/nonexistent/jsn-bus-session-test";
  ASSERT_TRUE(session_.Start(address.c_str(), kUnits, MonotonicNow()));
  ASSERT_EQ(ConnectTo(fake, MonotonicNow()), "AddMatch");
  log_.Take();

  fake.Hangup();
  MonotonicTime before = MonotonicNow();
  WaitAndHandle();
  MonotonicTime after = MonotonicNow();
  EXPECT_EQ(listener_.events, std::vector<std::string>{"bus lost"});
  EXPECT_NE(log_.Take().find("lost the bus connection: "), std::string::npos);
  EXPECT_TRUE(session_.down());
  EXPECT_FALSE(session_.more_input());
  // 100 ms +-20 %.
  MonotonicTime first = session_.next_attempt();
  EXPECT_GE(first, before + milliseconds(80));
  EXPECT_LE(first, after + milliseconds(120));

  // The next address refuses: once connected, that is retried after 200 ms +-20 %.
  ASSERT_TRUE(session_.ReconnectIfDue(first));
  EXPECT_TRUE(session_.down());
  MonotonicTime second = session_.next_attempt();
  EXPECT_GE(second, first + milliseconds(160));
  EXPECT_LE(second, first + milliseconds(240));
  EXPECT_NE(log_.Take().find("cannot reconnect yet ("), std::string::npos);

  // Then the first address again.
  EXPECT_EQ(ConnectTo(fake, second), "AddMatch");
  EXPECT_FALSE(session_.down());
  std::string log = log_.Take();
  EXPECT_NE(log.find("reconnected to " + address + " as :1.99; re-reading every state\n"),
            std::string::npos)
      << log;
  EXPECT_EQ(listener_.events, std::vector<std::string>{"bus lost"});
}

}  // namespace
}  // namespace jsn
