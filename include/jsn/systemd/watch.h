// Watch: the systemd side of the daemon, as a protocol state machine with no I/O of its own.
// It says which messages to send (through a MessageSink the daemon connects to the bus) and
// makes sense of the messages that come back, telling a WatchListener what systemd reported.
//
// Start-up, pipelined in this order so that no transition can fall between two steps (the
// bus and systemd each handle one connection's messages in order):
//   1. AddMatch NameOwnerChanged for org.freedesktop.systemd1, and AddMatch for the Manager's
//      Reloading signal (sender org.freedesktop.systemd1, its path and member);
//   2. GetNameOwner(org.freedesktop.systemd1): the unique name we trust from then on;
//   3. Manager.Subscribe(): systemd emits unit signals only while some client is subscribed
//      (AlreadySubscribed is fine);
//   4. per unit, Properties.Get(Unit, Id) on the watched name's path: the name systemd knows
//      the unit by. systemd emits PropertiesChanged only on the path of a unit's Id, never on
//      an alias's (sshd.service is ssh.service on Debian), so the unit is watched there: one
//      AddMatch on that exact path (sender, interface, member, path,
//      arg0='org.freedesktop.systemd1.Unit'), and one more with arg0 the unit type's interface
//      that has a Result (org.freedesktop.systemd1.Service, ...; jsn/systemd/transition.h), so the
//      bus filters for us and unrelated units never wake the daemon; then GetAll of that interface
//      and Get of StateChangeTimestamp (what comes with the state: no signal brought it), then
//      Properties.Get(Unit, ActiveState) on it, the initial state.
//      A signal for a unit that arrives before that reply is dropped: systemd answered the Get
//      after sending it, so the reply is at least as new.
// The same Get of Id, then of ActiveState, re-reads a unit later (SIGHUP, an owner change, a
// daemon-reload): a name can become an alias, stop being one or point elsewhere, and the match
// moves with it (AddMatch on the new path, RemoveMatch on the old). Two watched names of one
// unit share its path, and each is told of its signals.
// Afterwards a PropertiesChanged or Reloading is accepted only from the current unique owner of
// org.freedesktop.systemd1; anything else on a watched path is a spoof, logged at debug level.
//
// Replies are matched by serial and by sender in the connection's one reply table
// (jsn/bus/reply_table.h), so a peer that guesses a serial cannot answer for the bus or for
// systemd. Each call goes out through the sink with who may answer it, and the Watch tells the
// sink whom it trusts as systemd (TrustServiceOwner) as it learns it:
//   - AddMatch and GetNameOwner are answered by the bus itself, sender org.freedesktop.DBus;
//   - Subscribe and Get go to the well-known name org.freedesktop.systemd1: answered by the
//     owner trusted now or the one before it (a call pipelined before GetNameOwner has answered,
//     or routed to the old owner just before a change; the table's header says why), or by an
//     error from the bus itself (ServiceUnknown, NoReply, AccessDenied), never by a method
//     return from the bus.
// A reply from anyone else is refused there and the call stays open for the real answer; the
// Watch, which alone knows what the call's tag means, logs it at debug level like a spoofed
// signal. The tag holds all the Watch keeps of a call (kind, unit, epoch, whether it counts
// towards readiness), so the Watch has no table of its own.
// ActiveState comes from the changed dict, or from a Get when it is only invalidated (with the
// GetAll and the timestamp before it, as at start-up). What systemd said with it, the
// Transition the listener may read during OnState and OnInitialState, is the type interface's
// values seen last (systemd signals them just before the Unit's) and the Unit's
// StateChangeTimestamp. When the
// owner changes (systemd re-executed or restarted) the new one is trusted, Subscribe is sent
// again and every unit resolved and read again, its state reported as a state (not an initial
// one), so net changes are delivered. An answer to a Get sent before the latest owner change
// or Reloading (an error from the old owner leaving, or what it knew then) is dropped and the
// unit asked again, so a change made meanwhile is not lost.
//
// Views passed to the listener point into the message being handled and are valid only during
// the call. The Watch keeps its unit paths in fixed arrays; its calls are in the connection's
// reply table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "jsn/base/status.h"
#include "jsn/bus/reply_table.h"
#include "jsn/systemd/systemd_names.h"
#include "jsn/systemd/transition.h"
#include "jsn/systemd/unit_path.h"
#include "jsn/wire/reader.h"

namespace jsn {

// Where the Watch's messages go: the daemon's bus connection, or a test's recorder.
class MessageSink {
 public:
  virtual uint32_t NextSerial() = 0;
  // Queues one whole message (the bytes are copied before Send returns).
  virtual Status Send(std::span<const uint8_t> message) = 0;
  // Send, as a call whose reply, from `answerer` only, comes back with `tag` (Connection::Call).
  virtual Status Call(std::span<const uint8_t> message, uint64_t tag, Answerer answerer) = 0;
  // Who answers systemd's calls from now on (Connection::TrustServiceOwner).
  virtual void TrustServiceOwner(std::string_view owner) = 0;

 protected:
  ~MessageSink() = default;
};

// What the Watch learned, in the order it learned it.
class WatchListener {
 public:
  // The reply to a start-up Get: `state` is the ActiveState, or `known` is false when systemd
  // could not say (an error reply).
  virtual void OnInitialState(size_t unit, std::string_view state, bool known) = 0;
  // A later state: from a trusted PropertiesChanged, or a Get after an invalidation or an
  // owner change.
  virtual void OnState(size_t unit, std::string_view state) = 0;
  // Every start-up call has been answered: matches are in place, Subscribe has returned and
  // every initial state is known (the daemon sends READY=1 here).
  virtual void OnReady() = 0;

 protected:
  ~WatchListener() = default;
};

class Watch {
 public:
  static constexpr size_t kMaxUnits = 64;
  // Each unit can have two matches and three Gets outstanding (Follow); plus the few manager
  // calls. The connection's reply table holds them (watch.cc checks that they fit).
  static constexpr size_t kMaxPendingCalls = 5 * kMaxUnits + 8;
  // A match rule for the longest unit path fits.
  static constexpr size_t kMaxMatchRuleLength = kMaxUnitPathLength + 256;
  static constexpr size_t kMaxUniqueNameLength = 255;  // "Valid Names": at most 255 bytes

  // Watches `units` (systemd unit names; at most kMaxUnits, each a valid unit name). Unit
  // indexes given to the listener are indexes into `units`.
  Status Init(std::span<const char* const> units, WatchListener* listener);

  // Sends the start-up calls (see above).
  Status Start(MessageSink* sink);

  // Handles one incoming message, as the connection received it (a reply with its call's tag,
  // or refused); ignores what is not ours. A failure is fatal for the connection (a match could
  // not be added: the daemon would never hear of a transition).
  Status HandleMessage(const Incoming& incoming, MessageSink* sink);

  // Resolves every unit's name again and asks for its ActiveState (SIGHUP); the answers come as
  // OnState.
  Status RereadStates(MessageSink* sink);

  // The unique name trusted as systemd now ("" when none).
  std::string_view systemd_owner() const { return std::string_view(owner_, owner_length_); }
  bool ready() const { return ready_; }
  // Some Get of a re-read (SIGHUP, owner change, reload, invalidation) is still unanswered.
  bool rereading() const;
  // The path the unit is watched on: its Id's, once resolved.
  std::string_view unit_path(size_t unit) const { return units_[unit].path; }
  // What systemd said with the state the listener is being told of (valid during OnState and
  // OnInitialState): the state itself, the unit type's Result and, for a service, how its main
  // process ended and NRestarts, as systemd last sent them, and StateChangeTimestamp.
  const Transition& transition(size_t unit) const { return transitions_[unit]; }

  // The match rule for the PropertiesChanged of `interface` on a unit path, and for systemd's
  // NameOwnerChanged (exposed for tests).
  static Status UnitMatchRule(std::string_view unit_path, std::span<char> buffer,
                              std::string_view* rule,
                              std::string_view interface = kSystemdUnitInterface);
  static std::string_view OwnerMatchRule();

 private:
  enum class CallKind : uint8_t {
    kNone,
    kAddMatch,
    kGetNameOwner,
    kSubscribe,
    kGetId,
    kGetState,
    kGetResult,     // GetAll of the unit type's interface (Result, ExecMain*, NRestarts)
    kGetTimestamp,  // Get of StateChangeTimestamp
  };
  // What the Watch keeps of a call it sent, all of it in the call's tag.
  struct PendingCall {
    CallKind kind = CallKind::kNone;
    uint8_t epoch = 0;  // epoch_ when sent
    uint16_t unit = 0;
    bool startup = false;  // counts towards readiness; a kGetState's answer is the initial state

    uint64_t Tag() const;
    static PendingCall FromTag(uint64_t tag);
  };
  // No member initializers: Init sets every field of the units in use, and the rest of the
  // array (64 units, about 105 KiB) is never read. Initializers would make the constructor write
  // all of it, and the daemon's static Watch would keep every one of those pages resident.
  struct Unit {
    const char* name;
    char own_path_buffer[kMaxUnitPathLength];
    std::string_view own_path;  // the name's: where its Id is asked
    char path_buffer[kMaxUnitPathLength];
    std::string_view path;  // the Id's, where it is watched (own_path until the Id is known)
    bool matched;           // an AddMatch on path has been sent
    bool initial_known;     // the start-up Get has been answered
    bool get_pending;       // a Get of Id or ActiveState is outstanding: no second one
  };

  Status Call(MessageSink* sink, CallKind kind, size_t unit, std::span<const uint8_t> message,
              bool startup);
  Status SendGet(MessageSink* sink, CallKind kind, size_t unit, bool startup);
  // The unit's ActiveState, after what comes with it where no signal brought it: GetAll of the
  // type's Result interface and Get of StateChangeTimestamp, answered before the state.
  Status SendStateGets(MessageSink* sink, size_t unit, bool startup);
  // AddMatches for the unit's path, on the Unit interface and on its type's Result interface
  // (calls that count), or RemoveMatches (that nothing waits for).
  Status SendUnitMatch(MessageSink* sink, size_t unit, bool add, bool startup);
  // After the Id's answer: watches the unit on the Id's path ("" keeps the path it has), then
  // asks for its ActiveState.
  Status Follow(MessageSink* sink, size_t unit, std::string_view id, bool startup);
  Status SendSubscribe(MessageSink* sink, bool startup);
  // Logs a reply the connection refused (see above).
  void RefuseReply(const PendingCall& call, const Header& reply) const;
  Status HandleReply(const Message& message, PendingCall call, MessageSink* sink);
  Status HandleSignal(const Message& message, MessageSink* sink);
  Status HandlePropertiesChanged(const Message& message, size_t unit, MessageSink* sink);
  Status HandleOwnerChanged(const Message& message, MessageSink* sink);
  // systemd's view changed (new owner, reload): answers still out are asked again.
  Status ReadAgain(MessageSink* sink);
  void SetOwner(std::string_view owner, MessageSink* sink);
  void CheckReady();

  WatchListener* listener_ = nullptr;
  Unit units_[kMaxUnits];
  size_t unit_count_ = 0;
  Transition transitions_[kMaxUnits];  // apart from units_: see Unit
  size_t startup_calls_left_ = 0;
  bool ready_ = false;
  uint8_t epoch_ = 0;  // one more at each owner change and Reloading
  // Whom signals are trusted from (the sink's reply table also trusts the one before it).
  char owner_[kMaxUniqueNameLength + 1] = {};
  size_t owner_length_ = 0;
};

}  // namespace jsn
