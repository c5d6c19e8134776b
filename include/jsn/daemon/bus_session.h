// BusSession: the daemon's time on the bus, kept up for its whole life. It owns the Connection
// and the Watch (jsn/systemd/watch.h) and:
//   - connects, and once it has been connected reconnects after the bus went away (100 ms
//     doubling to 5 s, +-20 % jitter, addresses in turn), each attempt taken a step at a time
//     as the socket becomes ready and abandoned after 25 s, so the loop serves signals, hooks
//     and the watchdog meanwhile, even against a bus that accepts and never answers; a first
//     connection that fails ends the daemon;
//   - starts the Watch on each new connection, and re-reads every state on SIGHUP;
//   - keeps the socket's epoll interest (EPOLLOUT only while output waits), flushes, and
//     receives at most 64 messages a wake-up (a flood cannot hold back the loop), answering
//     Peer calls itself and handing the rest to the Watch.
// What the Watch learns goes to the daemon through a BusSessionListener, as do the bus's loss
// and return, which the daemon tells systemd.
//
// A method that returns bool returns false only when the daemon cannot go on, the reason
// logged; a bus that goes away is not that (it is reconnected). The session keeps references to
// the Loop (which watches its socket) and the listener, and the address text and unit names
// given to Start; all must outlive it (they are the daemon's). Nothing is allocated: the
// Connection and the Watch keep fixed tables.
#pragma once

#include <sys/epoll.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "jsn/base/monotonic_time.h"
#include "jsn/base/status.h"
#include "jsn/bus/address.h"
#include "jsn/bus/connection.h"
#include "jsn/daemon/loop.h"
#include "jsn/systemd/transition.h"
#include "jsn/systemd/watch.h"

namespace jsn {

// What the session reports. The Watch's three events as the Watch says them, except after a
// reconnect: every state read again is then an OnState (the daemon's baselines stand, and a
// change made while the bus was away is delivered), and OnWatchingAgain stands for OnReady.
class BusSessionListener : public WatchListener {
 public:
  // The connection was lost (logged); a reconnect is on its way.
  virtual void OnBusLost() = 0;
  // Reconnected, and every state has been read again.
  virtual void OnWatchingAgain() = 0;

 protected:
  ~BusSessionListener() = default;
};

class BusSession final : private MessageSink, private WatchListener {
 public:
  // The socket's tag in the Loop's epoll set.
  static constexpr uint64_t kTag = 3;

  BusSession(Loop& loop, BusSessionListener& listener);
  BusSession(const BusSession&) = delete;
  BusSession& operator=(const BusSession&) = delete;

  // Parses `address` (--bus) and makes the first attempt due at `now`; `units` are watched on
  // every connection. False (logged) when no address is usable.
  bool Start(const char* address, std::span<const char* const> units, MonotonicTime now);

  // When down (no connection: waiting to reconnect, or an attempt under way), the next attempt
  // at its time, or the end of the current one past its deadline (see next_attempt()).
  bool ReconnectIfDue(MonotonicTime now);
  bool down() const { return down_; }
  // When ReconnectIfDue has something to do; kNever while connected.
  MonotonicTime next_attempt() const { return down_ ? reconnect_at_ : kNever; }

  // The last batch used its whole budget: more may wait, and the loop should not sleep.
  bool more_input() const { return more_input_; }
  // EPOLLIN, and EPOLLOUT while output waits: before each wait.
  bool UpdateInterest();
  // The socket is ready (`events`, from epoll): a step of an attempt, or output flushed and
  // input noted for ReceiveIfWaiting.
  bool HandleReadiness(uint32_t events);
  // A batch of input, when some waits.
  bool ReceiveIfWaiting();

  // The Watch is ready: every start-up call of the first connection has been answered.
  bool watch_ready() const { return watch_.ready(); }
  // Connected, a reconnect's states are in, and no re-read waits for an answer.
  bool all_states_in() const { return !down_ && !reconnecting_ && !watch_.rereading(); }
  // Every state asked again (SIGHUP); the answers come as OnState.
  bool RereadStates();
  // What systemd said with the state being reported (during OnState and OnInitialState).
  const Transition& transition(size_t unit) const { return watch_.transition(unit); }

 private:
  // MessageSink: the Watch's calls go out on the connection.
  uint32_t NextSerial() override { return connection_.NextSerial(); }
  Status Send(std::span<const uint8_t> message) override { return connection_.Send(message); }
  Status Call(std::span<const uint8_t> message, uint64_t tag, Answerer answerer) override {
    return connection_.Call(message, tag, answerer);
  }
  void TrustServiceOwner(std::string_view owner) override { connection_.TrustServiceOwner(owner); }

  // WatchListener: passed on, turned into states after a reconnect.
  void OnInitialState(size_t unit, std::string_view state, bool known) override;
  void OnState(size_t unit, std::string_view state) override;
  void OnReady() override;

  bool AdvanceOpening();
  bool RetryLater(MonotonicTime now, const Status& status);
  bool BusLost(const Status& status);
  bool Flush();
  bool Receive();
  Status StartWatching();
  MonotonicTime Jittered(MonotonicTime delay);

  Loop& loop_;
  BusSessionListener& listener_;
  Connection connection_;
  Watch watch_;
  const char* address_text_ = "";
  std::span<const char* const> units_;
  AddressList addresses_;
  size_t next_address_ = 0;
  uint32_t interest_ = EPOLLIN;  // the events the Loop watches the socket for
  bool down_ = false;            // waiting to reconnect, or reconnecting (opening())
  bool connected_ = false;       // once connected: a failed attempt is retried, not fatal
  bool reconnecting_ = false;    // reconnected; the re-read states are not in yet
  bool more_input_ = false;      // the last batch used its whole budget: read again at once
  MonotonicTime reconnect_delay_{0};
  MonotonicTime reconnect_at_ = kNever;  // the next attempt, or the current one's deadline
  uint64_t jitter_state_;                // xorshift, seeded with the pid: daemons jitter apart
};

}  // namespace jsn
