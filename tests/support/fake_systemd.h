// FakeSystemd: drives tests/support/fake_systemd.py, an independent fake of
// org.freedesktop.systemd1 (dbus-python), for what real systemd will not do on demand: put
// ActiveState in the invalidated list, emit states faster than hooks run, count Subscribe calls,
// change owner, spoof from another connection, hold Get answers back while another connection
// forges one (Command("hold-gets"), ...). See `tests/support/fake_systemd.py --help`.
//
//   jsn::testing::PrivateBus bus;          ASSERT_TRUE(bus.Start());
//   jsn::testing::FakeSystemd systemd;     ASSERT_TRUE(systemd.Start(bus.address()));
//   ASSERT_TRUE(systemd.SetState("foo.service", "active"));        // signal if subscribed
//   ASSERT_TRUE(systemd.Invalidate("foo.service", "failed"));      // ActiveState invalidated
//   EXPECT_EQ(systemd.SubscribeCalls(), 1);
//
// Every command waits for the fake's reply, and the fake has written the signals a command
// emits to the bus before it replies. Ownership: owns the fake's process (by PID); the
// destructor asks it to quit and kills and reaps it if it does not.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "support/child_process.h"

namespace jsn::testing {

class FakeSystemd {
 public:
  FakeSystemd() = default;
  ~FakeSystemd() { Quit(); }
  FakeSystemd(const FakeSystemd&) = delete;
  FakeSystemd& operator=(const FakeSystemd&) = delete;

  // Starts the fake on `bus_address` and waits until it owns org.freedesktop.systemd1.
  // `units` are initial states, "NAME=ACTIVE" or "NAME=ACTIVE/SUB" (loaded, no signal).
  // With `emit_unsubscribed` it sends unit signals even when nobody is subscribed.
  ::testing::AssertionResult Start(const std::string& bus_address,
                                   const std::vector<std::string>& units = {},
                                   bool emit_unsubscribed = false);
  // Asks the fake to quit; kills it after a grace time. Reaps it either way. Idempotent.
  void Quit();

  pid_t pid() const { return process_.pid(); }
  // The unique name that owns org.freedesktop.systemd1 (changes with ReplaceOwner).
  const std::string& owner() const { return owner_; }

  // Sends one control line and stores the reply line in *reply. Fails on a reply starting with
  // "error", on no reply within `timeout`, or when the fake has gone.
  ::testing::AssertionResult Command(const std::string& line, std::string* reply = nullptr,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(20));

  // A new state with ActiveState (and SubState) in the changed dict of PropertiesChanged.
  // SUB "" lets the fake choose (running for active, failed for failed, dead for inactive).
  // *emitted says whether a signal went out (only while someone is subscribed).
  ::testing::AssertionResult SetState(const std::string& unit, const std::string& active,
                                      const std::string& sub = "", bool* emitted = nullptr);
  // A new state announced only by name: empty changed dict, ActiveState and SubState in the
  // invalidated list; a client must Get it.
  ::testing::AssertionResult Invalidate(const std::string& unit, const std::string& active,
                                        const std::string& sub = "", bool* emitted = nullptr);
  // One changed-dict signal per state, back to back.
  ::testing::AssertionResult Sequence(const std::string& unit,
                                      const std::vector<std::string>& states);
  // A PropertiesChanged for `unit` with ActiveState `active` from a connection that does not
  // own the name; the fake's state is unchanged. *sender gets that connection's unique name.
  ::testing::AssertionResult Spoof(const std::string& unit, const std::string& active,
                                   std::string* sender = nullptr);
  // Hands the name to a new connection (as daemon-reexec does). Subscriptions are dropped
  // unless `keep_subscribers` (real systemd keeps them across a reexec). `how` "leave": the old
  // connection disconnects, leaving the Gets it holds unanswered.
  ::testing::AssertionResult ReplaceOwner(bool keep_subscribers = false,
                                          const std::string& how = "");

  // Counters and state, read from the fake; -1 / "" when it cannot answer.
  int Subscribers();     // clients subscribed now
  int SubscribeCalls();  // Subscribe calls seen, AlreadySubscribed ones included
  int UnsubscribeCalls();
  int Gets(const std::string& unit);  // Properties.Get/GetAll calls on the unit
  std::string ActiveState(const std::string& unit);

 private:
  std::vector<std::string> Ask(const std::string& line);

  ChildProcess process_;
  std::string owner_;
};

}  // namespace jsn::testing
