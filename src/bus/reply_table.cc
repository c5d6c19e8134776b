#include "jsn/bus/reply_table.h"

#include <cstring>

#include "jsn/wire/calls.h"

namespace jsn {

void ReplyTable::Add(uint32_t serial, uint64_t tag, Answerer answerer) {
  for (PendingCall& call : calls_) {
    if (call.serial != 0) continue;
    call.serial = serial;
    call.answerer = answerer;
    call.tag = tag;
    ++count_;
    return;
  }
}

void ReplyTable::Take(Incoming* incoming) {
  const Header& message = incoming->message.header();
  incoming->is_reply = false;
  incoming->refused = false;
  incoming->tag = 0;
  if ((message.type != MessageType::kMethodReturn && message.type != MessageType::kError) ||
      message.reply_serial == 0 || count_ == 0) {
    return;
  }
  for (PendingCall& call : calls_) {
    if (call.serial != message.reply_serial) continue;
    incoming->tag = call.tag;
    if (!MayAnswer(call.answerer, message)) {
      incoming->refused = true;
      return;
    }
    incoming->is_reply = true;
    call = PendingCall();
    --count_;
    return;
  }
}

bool ReplyTable::MayAnswer(Answerer answerer, const Header& reply) const {
  if (reply.sender == kBusName) {
    return answerer == Answerer::kBus || reply.type == MessageType::kError;
  }
  if (answerer == Answerer::kBus || reply.sender.empty()) return false;
  return reply.sender == service_owner() ||
         reply.sender == std::string_view(previous_owner_, previous_owner_length_);
}

void ReplyTable::TrustServiceOwner(std::string_view owner) {
  if (owner_length_ != 0 && owner != service_owner()) {
    memcpy(previous_owner_, owner_, owner_length_);
    previous_owner_length_ = owner_length_;
  }
  owner_length_ = owner.size() < kMaxOwnerLength ? owner.size() : kMaxOwnerLength;
  memcpy(owner_, owner.data(), owner_length_);
}

void ReplyTable::Clear() {
  for (PendingCall& call : calls_) call = PendingCall();
  count_ = 0;
  owner_length_ = 0;
  previous_owner_length_ = 0;
}

}  // namespace jsn
