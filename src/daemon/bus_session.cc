#include "jsn/daemon/bus_session.h"

#include <sys/epoll.h>
#include <unistd.h>

#include "jsn/base/log.h"

namespace jsn {
namespace {

constexpr MonotonicTime kFirstReconnectDelay = std::chrono::milliseconds(100);
constexpr MonotonicTime kMaxReconnectDelay = std::chrono::seconds(5);
// A connection attempt that has not said Hello by then is abandoned (sd-bus's default method
// timeout); the loop serves everything else meanwhile.
constexpr MonotonicTime kOpenTimeout = std::chrono::seconds(25);
// Messages handled per wake-up: a flood (any local user may send us unicast signals) cannot
// hold back signals, hooks and timers, which are served between batches.
constexpr int kMaxMessagesPerWakeup = 64;

// Logs why the daemon cannot go on, and returns false (see the header).
bool LogFatalError(const char* doing, const Status& status) {
  JSN_LOG_ERROR("%s: %s", doing, status.message());
  return false;
}

}  // namespace

BusSession::BusSession(Loop& loop, BusSessionListener& listener)
    : loop_(loop),
      listener_(listener),
      jitter_state_(uint64_t{0x9e3779b97f4a7c15} ^ static_cast<uint64_t>(getpid())) {}

bool BusSession::Start(const char* address, std::span<const char* const> units, MonotonicTime now) {
  address_text_ = address;
  units_ = units;
  // The first connection is made as a reconnect is (at once; a failure ends the daemon).
  Status status = ParseAddressList(address, &addresses_);
  if (!status.ok()) return LogFatalError("cannot connect to the bus", status);
  down_ = true;
  reconnect_at_ = now;
  return true;
}

// A new attempt on the next address, or the end of one that got no answer in time. An
// attempt's steps (authentication, Hello) are taken as the socket becomes ready
// (AdvanceOpening).
bool BusSession::ReconnectIfDue(MonotonicTime now) {
  if (!down_ || now < reconnect_at_) return true;
  Status status = Status::Failure("connect-timeout", "expected Hello's reply within 25 s");
  if (!connection_.is_open()) {
    status = connection_.Begin(addresses_.entries[next_address_++ % addresses_.count]);
    if (status.ok()) status = loop_.Add(connection_.fd(), EPOLLIN, kTag);
    if (status.ok()) {
      interest_ = EPOLLIN;
      reconnect_at_ = now + kOpenTimeout;
      return true;
    }
  }
  return RetryLater(now, status);
}

// A failed attempt: the next one after the backoff; none when the daemon never connected.
bool BusSession::RetryLater(MonotonicTime now, const Status& status) {
  connection_.Close();
  if (!connected_) return LogFatalError("cannot connect to the bus", status);
  reconnect_delay_ =
      reconnect_delay_ * 2 < kMaxReconnectDelay ? reconnect_delay_ * 2 : kMaxReconnectDelay;
  reconnect_at_ = now + Jittered(reconnect_delay_);
  JSN_LOG_DEBUG("cannot reconnect yet (%s); next try in %s s", status.message(),
                FormatSeconds(reconnect_at_ - now, 3).text);
  return true;
}

// `delay` +-20 %, from a small xorshift: daemons that lost the same bus do not all return at
// once.
MonotonicTime BusSession::Jittered(MonotonicTime delay) {
  jitter_state_ ^= jitter_state_ << 13;
  jitter_state_ ^= jitter_state_ >> 7;
  jitter_state_ ^= jitter_state_ << 17;
  int64_t span = delay.count() / 5;
  int64_t offset = static_cast<int64_t>(jitter_state_ % static_cast<uint64_t>(2 * span + 1)) - span;
  return MonotonicTime(delay.count() + offset);
}

// A step of the attempt; once it has said Hello, the watch starts. After a reconnect every
// state is read again and reported as a state (not a baseline), so a change made while the
// bus was away is delivered.
bool BusSession::AdvanceOpening() {
  Status status = connection_.Advance();
  if (!status.ok()) return RetryLater(MonotonicNow(), status);
  if (connection_.opening()) return true;
  down_ = false;
  reconnecting_ = connected_;
  connected_ = true;
  Log(reconnecting_ ? LogLevel::kInfo : LogLevel::kDebug, "%sconnected to %s as %.*s%s",
      reconnecting_ ? "re" : "", address_text_, static_cast<int>(connection_.unique_name().size()),
      connection_.unique_name().data(), reconnecting_ ? "; re-reading every state" : "");
  status = StartWatching();
  if (!status.ok()) {
    if (!connection_.is_open()) return BusLost(status);
    return LogFatalError("cannot start watching systemd", status);
  }
  return Receive();
}

// The matches, Subscribe and the initial Gets, on a fresh Watch (a new connection has none).
Status BusSession::StartWatching() {
  Status status = watch_.Init(units_, this);
  if (status.ok()) status = watch_.Start(this);
  return status;
}

// The bus went away (dbus-daemon restarted): reconnect with a backoff, so a bus that stays
// away costs a few wake-ups, never a busy loop. Hooks already running go on and are reaped as
// usual.
bool BusSession::BusLost(const Status& status) {
  JSN_LOG_ERROR("lost the bus connection: %s", status.message());
  connection_.Close();  // its descriptor leaves the epoll set as it closes
  down_ = true;
  more_input_ = false;
  reconnect_delay_ = kFirstReconnectDelay;
  reconnect_at_ = MonotonicNow() + Jittered(reconnect_delay_);
  listener_.OnBusLost();
  return true;
}

bool BusSession::UpdateInterest() {
  if (!connection_.is_open()) return true;
  uint32_t events = EPOLLIN | (connection_.wants_write() ? EPOLLOUT : 0u);
  if (events == interest_) return true;
  Status status = loop_.Modify(connection_.fd(), events, kTag);
  if (!status.ok()) return LogFatalError("cannot watch the bus", status);
  interest_ = events;
  return true;
}

bool BusSession::HandleReadiness(uint32_t events) {
  if (down_) return !connection_.opening() || AdvanceOpening();
  if ((events & EPOLLOUT) != 0 && !Flush()) return false;
  if (!down_ && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) more_input_ = true;
  return true;
}

bool BusSession::Flush() {
  Status status = connection_.Flush();
  if (!status.ok() && !connection_.is_open()) return BusLost(status);
  return true;
}

bool BusSession::ReceiveIfWaiting() { return !more_input_ || Receive(); }

// At most kMaxMessagesPerWakeup messages; more_input_ says whether more may wait.
bool BusSession::Receive() {
  more_input_ = true;
  for (int budget = kMaxMessagesPerWakeup; budget > 0; --budget) {
    Incoming incoming;
    bool have = false;
    Status status = connection_.Receive(&incoming, &have);
    if (!status.ok()) {
      if (!connection_.is_open()) return BusLost(status);
      JSN_LOG_DEBUG("skipping a message: %s", status.message());
      continue;
    }
    if (!have) {
      more_input_ = false;
      return true;
    }
    if (incoming.message.header().type == MessageType::kMethodCall) {
      // Peer's Ping and GetMachineId are answered, anything else refused: either way the
      // caller is spared its timeout.
      status = connection_.AnswerCall(incoming.message);
      if (!status.ok() && !connection_.is_open()) return BusLost(status);
      continue;
    }
    status = watch_.HandleMessage(incoming, this);
    if (!status.ok()) {
      return LogFatalError("cannot watch systemd", status);
    }
  }
  return true;
}

bool BusSession::RereadStates() {
  Status status = watch_.RereadStates(this);
  // A bus that went away meanwhile (EPIPE, ECONNRESET) is reconnected, as anywhere.
  if (!status.ok() && !connection_.is_open()) return BusLost(status);
  if (!status.ok()) return LogFatalError("cannot re-read states", status);
  return true;
}

void BusSession::OnInitialState(size_t unit, std::string_view state, bool known) {
  if (reconnecting_) {
    // After a reconnect the daemon keeps its baselines: this is just the latest state.
    if (known) listener_.OnState(unit, state);
    return;
  }
  listener_.OnInitialState(unit, state, known);
}

void BusSession::OnState(size_t unit, std::string_view state) { listener_.OnState(unit, state); }

void BusSession::OnReady() {
  if (reconnecting_) {
    reconnecting_ = false;
    JSN_LOG_INFO("watching again after the reconnect");
    listener_.OnWatchingAgain();
    return;
  }
  listener_.OnReady();
}

}  // namespace jsn
