#include "jsn/systemd/watch.h"

#include <cstdio>
#include <cstring>

#include "jsn/base/log.h"
#include "jsn/bus/reply_table.h"
#include "jsn/wire/calls.h"

namespace jsn {
namespace {

constexpr std::string_view kActiveState = "ActiveState";
constexpr std::string_view kStateChangeTimestamp = "StateChangeTimestamp";
// Only the Manager (on its path) has a Reloading signal: no interface= needed.
constexpr std::string_view kReloadingRule =
    "type='signal',sender='org.freedesktop.systemd1',path='/org/freedesktop/systemd1',"
    "member='Reloading'";
constexpr size_t kCallBufferSize = 4096;

static_assert(Watch::kMaxPendingCalls <= ReplyTable::kCapacity,
              "the connection's reply table holds every call the Watch may have out at once");
static_assert(Watch::kMaxUnits <= 0xffff, "a unit index fits its 16 bits of a call's tag");

bool FirstString(const Message& message, std::string_view* text) {
  Iterator body = message.body();
  Value value;
  if (!body.Next(&value) || value.type() != 's') return false;
  *text = value.as_string();
  return true;
}

}  // namespace

std::string_view Watch::OwnerMatchRule() {
  return "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
         "interface='org.freedesktop.DBus',member='NameOwnerChanged',"
         "arg0='org.freedesktop.systemd1'";
}

Status Watch::UnitMatchRule(std::string_view unit_path, std::span<char> buffer,
                            std::string_view* rule, std::string_view interface) {
  // Unit paths hold only [A-Za-z0-9_/] and interfaces [A-Za-z0-9_.], so nothing in them needs
  // quoting in a match rule.
  int length = snprintf(buffer.data(), buffer.size(),
                        "type='signal',sender='org.freedesktop.systemd1',"
                        "interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
                        "path='%.*s',arg0='%.*s'",
                        static_cast<int>(unit_path.size()), unit_path.data(),
                        static_cast<int>(interface.size()), interface.data());
  if (length < 0 || static_cast<size_t>(length) >= buffer.size()) {
    return Status::Failure("buffer-too-small", "expected room for a match rule, found %zu bytes",
                           buffer.size());
  }
  *rule = std::string_view(buffer.data(), static_cast<size_t>(length));
  return Status();
}

Status Watch::Init(std::span<const char* const> units, WatchListener* listener) {
  if (units.size() > kMaxUnits) {
    return Status::Failure("too-many-units", "expected at most %zu units, found %zu", kMaxUnits,
                           units.size());
  }
  listener_ = listener;
  unit_count_ = units.size();
  for (size_t i = 0; i < unit_count_; ++i) {
    Unit& unit = units_[i];
    unit.name = units[i];
    JSN_RETURN_IF_ERROR(UnitObjectPath(unit.name, unit.own_path_buffer, &unit.own_path));
    unit.path = unit.own_path;
    unit.matched = false;
    unit.initial_known = false;
    unit.get_pending = false;
    transitions_[i] = Transition();
  }
  ready_ = false;
  // A new connection, whose reply table trusts no owner yet: what the last one trusted means
  // nothing here.
  owner_length_ = 0;
  owner_[0] = '\0';
  return Status();
}

uint64_t Watch::PendingCall::Tag() const {
  return static_cast<uint64_t>(kind) | static_cast<uint64_t>(startup) << 8 |
         static_cast<uint64_t>(epoch) << 16 | static_cast<uint64_t>(unit) << 32;
}

Watch::PendingCall Watch::PendingCall::FromTag(uint64_t tag) {
  PendingCall call;
  call.kind = static_cast<CallKind>(tag & 0xff);
  call.startup = (tag >> 8 & 1) != 0;
  call.epoch = static_cast<uint8_t>(tag >> 16);
  call.unit = static_cast<uint16_t>(tag >> 32);
  return call;
}

Status Watch::Call(MessageSink* sink, CallKind kind, size_t unit, std::span<const uint8_t> message,
                   bool startup) {
  PendingCall call;
  call.kind = kind;
  call.unit = static_cast<uint16_t>(unit);
  call.startup = startup;
  call.epoch = epoch_;
  bool to_bus = kind == CallKind::kAddMatch || kind == CallKind::kGetNameOwner;
  JSN_RETURN_IF_ERROR(
      sink->Call(message, call.Tag(), to_bus ? Answerer::kBus : Answerer::kService));
  if (startup) startup_calls_left_ += 1;
  return Status();
}

Status Watch::SendGet(MessageSink* sink, CallKind kind, size_t unit, bool startup) {
  uint8_t buffer[kCallBufferSize];
  std::span<const uint8_t> message;
  // The Id is asked of the name's own path (systemd answers there for an alias too).
  bool id = kind == CallKind::kGetId;
  JSN_RETURN_IF_ERROR(BuildPropertiesGet(buffer, sink->NextSerial(), kSystemdName,
                                         id ? units_[unit].own_path : units_[unit].path,
                                         kSystemdUnitInterface,
                                         id                                ? "Id"
                                         : kind == CallKind::kGetTimestamp ? kStateChangeTimestamp
                                                                           : kActiveState,
                                         &message));
  JSN_RETURN_IF_ERROR(Call(sink, kind, unit, message, startup));
  units_[unit].get_pending = true;
  return Status();
}

Status Watch::SendStateGets(MessageSink* sink, size_t unit, bool startup) {
  uint8_t buffer[kCallBufferSize];
  std::span<const uint8_t> message;
  std::string_view path = units_[unit].path;
  // What comes with the state is asked for afresh: a value left from before would be another
  // transition's. (A signal arriving meanwhile is older than the answers, which replace it.)
  Transition& transition = transitions_[unit];
  transition = Transition();
  std::string_view interface = ResultInterface(units_[unit].name);
  if (!interface.empty()) {
    JSN_RETURN_IF_ERROR(
        BuildPropertiesGetAll(buffer, sink->NextSerial(), kSystemdName, path, interface, &message));
    JSN_RETURN_IF_ERROR(Call(sink, CallKind::kGetResult, unit, message, false));
  }
  JSN_RETURN_IF_ERROR(SendGet(sink, CallKind::kGetTimestamp, unit, false));
  return SendGet(sink, CallKind::kGetState, unit, startup);
}

Status Watch::SendSubscribe(MessageSink* sink, bool startup) {
  uint8_t buffer[kCallBufferSize];
  std::span<const uint8_t> message;
  JSN_RETURN_IF_ERROR(BuildMethodCall(buffer, sink->NextSerial(), kSystemdName, kSystemdPath,
                                      kSystemdManagerInterface, "Subscribe", &message));
  return Call(sink, CallKind::kSubscribe, 0, message, startup);
}

Status Watch::SendUnitMatch(MessageSink* sink, size_t index, bool add, bool startup) {
  units_[index].matched = add;
  for (std::string_view interface :
       {std::string_view(kSystemdUnitInterface), ResultInterface(units_[index].name)}) {
    if (interface.empty()) continue;
    char rule_buffer[kMaxMatchRuleLength];
    std::string_view rule;
    uint8_t buffer[kCallBufferSize];
    std::span<const uint8_t> message;
    JSN_RETURN_IF_ERROR(UnitMatchRule(units_[index].path, rule_buffer, &rule, interface));
    JSN_RETURN_IF_ERROR(
        BuildBusCall(buffer, sink->NextSerial(), add ? "AddMatch" : "RemoveMatch", rule, &message));
    // Nothing waits for RemoveMatch's answer: its reply is not one of ours.
    JSN_RETURN_IF_ERROR(add ? Call(sink, CallKind::kAddMatch, index, message, startup)
                            : sink->Send(message));
  }
  return Status();
}

Status Watch::Start(MessageSink* sink) {
  uint8_t buffer[kCallBufferSize];
  std::span<const uint8_t> message;
  startup_calls_left_ = 0;

  for (std::string_view rule : {OwnerMatchRule(), kReloadingRule}) {
    JSN_RETURN_IF_ERROR(BuildAddMatch(buffer, sink->NextSerial(), rule, &message));
    JSN_RETURN_IF_ERROR(Call(sink, CallKind::kAddMatch, 0, message, true));
  }

  JSN_RETURN_IF_ERROR(BuildGetNameOwner(buffer, sink->NextSerial(), kSystemdName, &message));
  JSN_RETURN_IF_ERROR(Call(sink, CallKind::kGetNameOwner, 0, message, true));

  JSN_RETURN_IF_ERROR(SendSubscribe(sink, true));

  for (size_t i = 0; i < unit_count_; ++i) {
    JSN_RETURN_IF_ERROR(SendGet(sink, CallKind::kGetId, i, true));
  }
  return Status();
}

Status Watch::Follow(MessageSink* sink, size_t index, std::string_view id, bool startup) {
  Unit& unit = units_[index];
  char path_buffer[kMaxUnitPathLength];
  std::string_view path;
  if (!id.empty() && UnitObjectPath(id, path_buffer, &path).ok() && path != unit.path) {
    // The old path's match goes; "sshd.service is ssh.service" (or, back from being an alias,
    // "nick.service is nick.service").
    if (unit.matched) JSN_RETURN_IF_ERROR(SendUnitMatch(sink, index, false, false));
    JSN_LOG_INFO("%s is %.*s", unit.name, static_cast<int>(id.size()), id.data());
    memcpy(unit.path_buffer, path.data(), path.size());
    unit.path = std::string_view(unit.path_buffer, path.size());
  }
  if (!unit.matched) JSN_RETURN_IF_ERROR(SendUnitMatch(sink, index, true, startup));
  return SendStateGets(sink, index, startup);
}

void Watch::RefuseReply(const PendingCall& call, const Header& reply) const {
  int length = static_cast<int>(reply.sender.size());
  const char* sender = reply.sender.data();
  static constexpr const char* kCallNames[] = {"",         "AddMatch", "GetNameOwner", "Subscribe",
                                               "Get for ", "Get for ", "GetAll for ",  "Get for "};
  bool to_bus = call.kind == CallKind::kAddMatch || call.kind == CallKind::kGetNameOwner;
  bool get = call.kind >= CallKind::kGetId;
  JSN_LOG_DEBUG("refusing a reply to %s%s from %.*s: %s%s", kCallNames[static_cast<int>(call.kind)],
                get ? units_[call.unit].name : "", length, sender,
                to_bus ? "only org.freedesktop.DBus answers it" : "systemd is ",
                to_bus               ? ""
                : owner_length_ == 0 ? "not on the bus"
                                     : owner_);
}

void Watch::SetOwner(std::string_view owner, MessageSink* sink) {
  // Replies to systemd's calls are the connection's to check: it trusts the owner before this
  // one too (jsn/bus/reply_table.h).
  sink->TrustServiceOwner(owner);
  owner_length_ = owner.size() < kMaxUniqueNameLength ? owner.size() : kMaxUniqueNameLength;
  memcpy(owner_, owner.data(), owner_length_);
  owner_[owner_length_] = '\0';
}

void Watch::CheckReady() {
  if (ready_ || startup_calls_left_ != 0) return;
  ready_ = true;
  listener_->OnReady();
}

Status Watch::HandleMessage(const Incoming& incoming, MessageSink* sink) {
  if (incoming.is_reply) {
    return HandleReply(incoming.message, PendingCall::FromTag(incoming.tag), sink);
  }
  if (incoming.refused) {
    // The connection refused it and the call stays open for the real answer; only we know
    // which call the tag is.
    RefuseReply(PendingCall::FromTag(incoming.tag), incoming.message.header());
    return Status();
  }
  // A reply that answers none of our calls is not ours.
  if (incoming.message.header().type == MessageType::kSignal) {
    return HandleSignal(incoming.message, sink);
  }
  return Status();
}

Status Watch::HandleReply(const Message& message, PendingCall call, MessageSink* sink) {
  const Header& header = message.header();
  bool is_error = header.type == MessageType::kError;
  switch (call.kind) {
    case CallKind::kAddMatch:
      if (is_error) {
        return Status::Failure(
            "add-match-failed", "expected the bus to accept our match rule, found error %.*s",
            static_cast<int>(header.error_name.size()), header.error_name.data());
      }
      break;
    case CallKind::kGetNameOwner: {
      std::string_view owner;
      if (!is_error && FirstString(message, &owner)) {
        SetOwner(owner, sink);
        JSN_LOG_DEBUG("systemd is %.*s on this bus", static_cast<int>(owner.size()), owner.data());
      } else {
        // No systemd yet: nothing is trusted until NameOwnerChanged names one.
        SetOwner("", sink);
        JSN_LOG_WARNING("org.freedesktop.systemd1 has no owner on the bus (%.*s); waiting for it",
                        static_cast<int>(header.error_name.size()), header.error_name.data());
      }
      break;
    }
    case CallKind::kSubscribe:
      if (is_error && header.error_name != kAlreadySubscribedError) {
        JSN_LOG_WARNING("systemd refused Subscribe (%.*s): transitions may not be signalled",
                        static_cast<int>(header.error_name.size()), header.error_name.data());
      } else {
        JSN_LOG_DEBUG("subscribed to systemd%s", is_error ? " (already)" : "");
      }
      break;
    case CallKind::kGetResult:
    case CallKind::kGetTimestamp: {
      // Asked again with the state when their epoch is past (see kGetState); an error leaves
      // the values unknown.
      if (is_error || call.epoch != epoch_) break;
      Transition& transition = transitions_[call.unit];
      Iterator body = message.body();
      Value value;
      if (call.kind == CallKind::kGetResult) {
        if (body.Next(&value)) ReadResultProperties(value, &transition);
      } else if (PropertiesGetValue(message, 't', &value)) {
        transition.timestamp = value.as_uint64();
      }
      break;
    }
    case CallKind::kGetId:
    case CallKind::kGetState: {
      Unit& unit = units_[call.unit];
      Value value;
      bool known = !is_error && PropertiesGetValue(message, 's', &value);
      std::string_view text = known ? value.as_string() : std::string_view();
      if (is_error) {
        JSN_LOG_DEBUG("%s: Get failed (%.*s)", unit.name,
                      static_cast<int>(header.error_name.size()), header.error_name.data());
      }
      if (call.epoch != epoch_) {
        // Sent before systemd's owner changed or it reloaded: perhaps an error from the old
        // owner going away, perhaps a state from before. Asked again, of systemd as it is now.
        JSN_RETURN_IF_ERROR(SendGet(sink, CallKind::kGetId, call.unit, call.startup));
      } else if (call.kind == CallKind::kGetId) {
        JSN_RETURN_IF_ERROR(Follow(sink, call.unit, text, call.startup));
      } else {
        unit.get_pending = false;
        CopyWord(text, transitions_[call.unit].state);
        if (call.startup) {
          unit.initial_known = true;
          listener_->OnInitialState(call.unit, text, known);
        } else if (known) {
          listener_->OnState(call.unit, text);
        }
      }
      break;
    }
    case CallKind::kNone:
      break;
  }
  if (call.startup && startup_calls_left_ > 0) {
    startup_calls_left_ -= 1;
    CheckReady();
  }
  return Status();
}

Status Watch::HandleSignal(const Message& message, MessageSink* sink) {
  const Header& header = message.header();
  if (header.member == "NameOwnerChanged" && header.interface == kBusInterface) {
    if (header.sender != kBusName || header.path != kBusPath) {
      JSN_LOG_DEBUG("ignoring NameOwnerChanged from %.*s, not the bus",
                    static_cast<int>(header.sender.size()), header.sender.data());
      return Status();
    }
    return HandleOwnerChanged(message, sink);
  }
  bool from_systemd = owner_length_ != 0 && header.sender == systemd_owner();
  if (header.member == "Reloading") {
    // Manager.Reloading(false) from systemd: a daemon-reload is over, and names may mean other
    // units now.
    Iterator body = message.body();
    Value active;
    if (from_systemd && header.path == kSystemdPath && body.Next(&active) && active.type() == 'b' &&
        !active.as_bool()) {
      return ReadAgain(sink);
    }
    return Status();
  }
  if (header.member != "PropertiesChanged" || header.interface != kPropertiesInterface) {
    return Status();
  }
  // Every watched name of the unit on that path is told (two names may be one unit).
  for (size_t unit = 0; unit < unit_count_; ++unit) {
    if (units_[unit].path != header.path) continue;
    if (!from_systemd) {
      JSN_LOG_DEBUG("ignoring PropertiesChanged for %s from %.*s: systemd is %s", units_[unit].name,
                    static_cast<int>(header.sender.size()), header.sender.data(),
                    owner_length_ == 0 ? "not on the bus" : owner_);
      return Status();
    }
    JSN_RETURN_IF_ERROR(HandlePropertiesChanged(message, unit, sink));
  }
  return Status();
}

Status Watch::HandlePropertiesChanged(const Message& message, size_t unit, MessageSink* sink) {
  if (message.header().signature != "sa{sv}as") return Status();
  Iterator body = message.body();
  Value interface, changed, invalidated;
  if (!body.Next(&interface) || !body.Next(&changed) || !body.Next(&invalidated)) return Status();
  Transition& transition = transitions_[unit];
  if (interface.as_string() != kSystemdUnitInterface) {
    // systemd sends the type's interface first, then the Unit's with the state these go with.
    if (interface.as_string() == ResultInterface(units_[unit].name)) {
      ReadResultProperties(changed, &transition);
    }
    return Status();
  }
  Unit& u = units_[unit];
  if (!u.initial_known) {
    // The start-up Get is still outstanding and its answer will be at least as new.
    JSN_LOG_DEBUG("%s: dropping a change that precedes its initial state", u.name);
    return Status();
  }
  Value state;
  if (FindInStringVariantDict(changed, kActiveState, &state)) {
    if (state.type() != 's') return Status();
    Value timestamp;
    if (FindInStringVariantDict(changed, kStateChangeTimestamp, &timestamp) &&
        timestamp.type() == 't') {
      transition.timestamp = timestamp.as_uint64();
    }
    CopyWord(state.as_string(), transition.state);
    listener_->OnState(unit, state.as_string());
    return Status();
  }
  Iterator names = invalidated.children();
  Value name;
  while (names.Next(&name)) {
    if (name.as_string() != kActiveState) continue;
    if (u.get_pending) return Status();  // the reply on its way answers this too
    JSN_LOG_DEBUG("%s: ActiveState invalidated; asking for it", u.name);
    return SendStateGets(sink, unit, false);
  }
  return Status();
}

Status Watch::HandleOwnerChanged(const Message& message, MessageSink* sink) {
  Iterator body = message.body();
  Value name, old_owner, new_owner;
  if (message.header().signature != "sss" || !body.Next(&name) || !body.Next(&old_owner) ||
      !body.Next(&new_owner)) {
    return Status();
  }
  if (name.as_string() != kSystemdName) return Status();
  std::string_view owner = new_owner.as_string();
  if (owner == systemd_owner()) return Status();
  SetOwner(owner, sink);
  if (owner.empty()) {
    JSN_LOG_WARNING("systemd left the bus; waiting for it to come back");
    return Status();
  }
  JSN_LOG_INFO("systemd is now %.*s on the bus; subscribing and re-reading every state",
               static_cast<int>(owner.size()), owner.data());
  JSN_RETURN_IF_ERROR(SendSubscribe(sink, false));
  return ReadAgain(sink);
}

Status Watch::ReadAgain(MessageSink* sink) {
  epoch_ += 1;
  return RereadStates(sink);
}

bool Watch::rereading() const {
  for (size_t i = 0; i < unit_count_; ++i) {
    if (units_[i].get_pending) return true;
  }
  return false;
}

Status Watch::RereadStates(MessageSink* sink) {
  for (size_t i = 0; i < unit_count_; ++i) {
    // An answer on its way is as new, or asked again when it comes (see HandleReply).
    if (units_[i].get_pending) continue;
    JSN_RETURN_IF_ERROR(SendGet(sink, CallKind::kGetId, i, false));
  }
  return Status();
}

}  // namespace jsn
