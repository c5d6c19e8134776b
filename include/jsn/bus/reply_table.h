// ReplyTable: the calls a bus connection has sent and awaits replies to, each with who may
// answer it, and the rule that says whether a reply comes from them; and Incoming, a message
// with what the table made of it. Connection owns the one table and hands every message it
// receives through it; the table is apart from the socket so that the rule is tested with plain
// messages, and so that the Watch's tests, which feed it messages without a bus, get their
// tags from the same code as the daemon.
//
// Why the sender: any peer on the bus may send us a reply naming a serial it guessed (a bus
// that lets unrequested replies pass does not stop it), but the bus stamps every message with
// its sender's name, which no peer can choose. So a reply counts only from whom its call may be
// answered by; from anyone else it is refused: not taken as the reply, and the call stays open
// for the real one.
//
// Who may answer (Answerer):
//   - the bus's own methods (Hello, AddMatch, GetNameOwner, ...): the bus itself, sender
//     org.freedesktop.DBus;
//   - a call to the service the connection is a client of (systemd), sent to its well-known
//     name: the bus routes it to the unique name owning that name at that moment. A reply
//     counts from the owner trusted now or the one trusted before it (TrustServiceOwner), for
//     no single owner is right in every order of events: a call pipelined before GetNameOwner
//     has answered is routed after the bus answered it, so its reply comes from that owner or
//     from a later one whose NameOwnerChanged the bus queued to us before it routed the call
//     (the caller trusts the change first); and a call routed to the old owner just before a
//     change is answered after the caller trusted the new one. Only two changes within one
//     call's round trip could refuse a real reply. An earlier owner is as trustworthy as the
//     current one (only root may own systemd's name on the system bus, and a unique name is
//     never reused). The bus may answer any such call with an error (ServiceUnknown while
//     nobody owns the name, NoReply when the callee left, AccessDenied); a method return
//     from the bus is not the service's to give. A reply with no sender counts from no one.
// So the call holds a role, not a name: the owners it is checked against are those trusted
// when its reply comes, which the caller may learn after sending it.
//
// Fixed size, no heap: kCapacity calls at once, the daemon's worst case.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "jsn/wire/message.h"

namespace jsn {

// One message received, and what it answers.
struct Incoming {
  Message message;
  bool is_reply = false;  // a METHOD_RETURN or ERROR whose REPLY_SERIAL is one of our calls
  // Such a reply from someone who may not answer that call: not its reply, and the call stays
  // open. Handed on so that the caller, who knows what the tag means, can say so.
  bool refused = false;
  uint64_t tag = 0;  // the tag given to that call (when is_reply or refused)

  bool is_error() const { return message.header().type == MessageType::kError; }
  std::string_view error_name() const { return message.header().error_name; }
};

enum class Answerer : uint8_t {
  kBus,      // org.freedesktop.DBus, and nobody else
  kService,  // the service's owner now or before it, or an error from the bus (see above)
};

class ReplyTable {
 public:
  // The daemon's Watch at start-up: 5 calls per watched unit (64) plus 8 of its own
  // (jsn/systemd/watch.h checks that it fits).
  static constexpr size_t kCapacity = 5 * 64 + 8;
  // "Valid Names": a bus name is at most 255 bytes.
  static constexpr size_t kMaxOwnerLength = 255;

  bool full() const { return count_ == kCapacity; }
  size_t size() const { return count_; }
  // Records a call sent with `serial` (never 0), whose reply is to come back with `tag`.
  // Nothing is recorded when full(): the caller checks before it sends.
  void Add(uint32_t serial, uint64_t tag, Answerer answerer);
  // Says what `incoming->message` is to us (is_reply, refused, tag); a reply closes its call.
  void Take(Incoming* incoming);

  // The service's owner from now on (a unique name; "" while nobody owns it). The owner it
  // replaces is still trusted as the one before it; a spell with no owner does not replace it.
  void TrustServiceOwner(std::string_view owner);
  std::string_view service_owner() const { return {owner_, owner_length_}; }

  // No calls and no owners: a new connection.
  void Clear();

 private:
  struct PendingCall {
    uint32_t serial = 0;  // 0: a free slot
    Answerer answerer = Answerer::kBus;
    uint64_t tag = 0;
  };

  bool MayAnswer(Answerer answerer, const Header& reply) const;

  PendingCall calls_[kCapacity];
  size_t count_ = 0;
  char owner_[kMaxOwnerLength] = {};
  size_t owner_length_ = 0;
  char previous_owner_[kMaxOwnerLength] = {};
  size_t previous_owner_length_ = 0;
};

}  // namespace jsn
