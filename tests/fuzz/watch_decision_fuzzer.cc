// Fuzz target: the daemon's decision step (Watch::HandleMessage), fed a stream of messages.
// The input is a list of operations, each building one message the way the bus could deliver
// it (replies to the calls the Watch sent, PropertiesChanged, NameOwnerChanged and Reloading
// with chosen senders, paths, interfaces and states; a reply to a Get of Id moves the unit to
// that Id's path) or handing over raw bytes as a message. After Start,
// every message goes through a ReplyTable, as the daemon's Connection hands it on (the reply
// to a call with its tag, or refused), then to HandleMessage, and the target checks the two
// against a model kept here:
//   - OnState/OnInitialState fire only for a PropertiesChanged signal from the trusted owner
//     of org.freedesktop.systemd1 on that unit's path, for interface
//     org.freedesktop.systemd1.Unit, with signature sa{sv}as and ActiveState a string in the
//     changed dict (the state reported is that string); or for the reply to a Get the Watch
//     sent for that unit, at most once per call, from a sender that may answer it;
//   - a reply counts only from a sender that may answer its call: the bus (sender
//     org.freedesktop.DBus) for AddMatch and GetNameOwner; for Subscribe and Get the trusted
//     owner, the owner trusted before it, or an error from the bus;
//   - the trusted owner is what the reply to our GetNameOwner said, or what NameOwnerChanged
//     from the bus itself (sender org.freedesktop.DBus, path /org/freedesktop/DBus,
//     signature sss, first argument org.freedesktop.systemd1) announced last;
//   - every message the Watch sends parses.
#include <fcntl.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/check_values.h"
#include "jsn/base/log.h"
#include "jsn/systemd/watch.h"
#include "jsn/wire/reader.h"
#include "jsn/wire/writer.h"

namespace {

using jsn::fuzz::Fail;

constexpr const char* kUnits[] = {"ssh.service", "getty@tty1.service", "0day.mount"};
constexpr size_t kUnitCount = sizeof kUnits / sizeof kUnits[0];

// Senders the operations choose from; "" leaves SENDER out.
constexpr std::string_view kNames[] = {
    ":1.1", ":1.2", ":1.42", "org.freedesktop.DBus", "org.freedesktop.systemd1", ""};
constexpr std::string_view kStates[] = {"active",       "inactive",  "failed", "activating",
                                        "deactivating", "reloading", "",       "maintenance"};

struct SentCall {
  std::string member;
  std::string path;
};

class Recorder : public jsn::MessageSink {
 public:
  uint32_t NextSerial() override { return ++serial_; }
  jsn::Status Send(std::span<const uint8_t> message) override {
    std::vector<uint8_t> copy(message.begin(), message.end());
    jsn::Message parsed;
    JSN_FUZZ_CHECK(jsn::Message::Parse(copy, &parsed).ok());
    const jsn::Header& h = parsed.header();
    JSN_FUZZ_CHECK(h.type == jsn::MessageType::kMethodCall);
    calls[h.serial] = SentCall{std::string(h.member), std::string(h.path)};
    serials.push_back(h.serial);
    return jsn::Status();
  }
  jsn::Status Call(std::span<const uint8_t> message, uint64_t tag,
                   jsn::Answerer answerer) override {
    JSN_FUZZ_CHECK(!replies.full());
    JSN_RETURN_IF_ERROR(Send(message));
    replies.Add(serials.back(), tag, answerer);
    return jsn::Status();
  }
  void TrustServiceOwner(std::string_view owner) override { replies.TrustServiceOwner(owner); }
  std::map<uint32_t, SentCall> calls;
  std::vector<uint32_t> serials;
  jsn::ReplyTable replies;  // the connection's: which call a reply answers, or refused

 private:
  uint32_t serial_ = 0;
};

// The message being handled, and what the model says about it.
struct Context {
  const jsn::Message* message = nullptr;
  std::string trusted;   // the owner the model trusts before this message
  std::string previous;  // and the one it trusted before that
  std::set<uint32_t> answered;
  const Recorder* recorder = nullptr;
  const jsn::Watch* watch = nullptr;
};
Context context;

// The string inside the variant of a reply "v" holding "s".
bool ReplyState(const jsn::Message& message, std::string_view* state) {
  if (message.header().signature != "v") return false;
  jsn::Iterator body = message.body();
  jsn::Value variant, inside;
  body.Next(&variant);
  jsn::Iterator contents = variant.children();
  contents.Next(&inside);
  if (inside.type() != 's') return false;
  *state = inside.as_string();
  return true;
}

// Whether the model lets `reply` answer `call`.
bool MayAnswer(const jsn::Header& reply, const SentCall& call, const std::string& trusted,
               const std::string& previous) {
  const bool to_bus = call.member == "AddMatch" || call.member == "GetNameOwner";
  if (reply.sender == "org.freedesktop.DBus") {
    return to_bus || reply.type == jsn::MessageType::kError;
  }
  if (to_bus || reply.sender.empty()) return false;
  return reply.sender == trusted || reply.sender == previous;
}

// The reply being handled answers a Get for `unit`: checks it and marks the call answered.
void CheckGetReply(size_t unit) {
  const jsn::Header& h = context.message->header();
  JSN_FUZZ_CHECK(h.type == jsn::MessageType::kMethodReturn || h.type == jsn::MessageType::kError);
  const auto call = context.recorder->calls.find(h.reply_serial);
  JSN_FUZZ_CHECK(call != context.recorder->calls.end());
  JSN_FUZZ_CHECK(call->second.member == "Get");
  JSN_FUZZ_CHECK(MayAnswer(h, call->second, context.trusted, context.previous));
  JSN_FUZZ_CHECK(call->second.path == context.watch->unit_path(unit));
  JSN_FUZZ_CHECK(context.answered.insert(h.reply_serial).second);
}

class Listener : public jsn::WatchListener {
 public:
  void OnInitialState(size_t unit, std::string_view state, bool known) override {
    JSN_FUZZ_CHECK(context.message != nullptr && unit < kUnitCount);
    CheckGetReply(unit);
    std::string_view reply_state;
    if (known) {
      JSN_FUZZ_CHECK(ReplyState(*context.message, &reply_state) && reply_state == state);
    }
  }
  void OnState(size_t unit, std::string_view state) override {
    JSN_FUZZ_CHECK(context.message != nullptr && unit < kUnitCount);
    const jsn::Message& m = *context.message;
    const jsn::Header& h = m.header();
    if (h.type != jsn::MessageType::kSignal) {
      CheckGetReply(unit);
      std::string_view reply_state;
      JSN_FUZZ_CHECK(ReplyState(m, &reply_state) && reply_state == state);
      return;
    }
    // A signal: only a valid PropertiesChanged from the trusted owner.
    JSN_FUZZ_CHECK(!context.trusted.empty() && h.sender == context.trusted);
    JSN_FUZZ_CHECK(h.interface == "org.freedesktop.DBus.Properties");
    JSN_FUZZ_CHECK(h.member == "PropertiesChanged");
    JSN_FUZZ_CHECK(h.path == context.watch->unit_path(unit));
    JSN_FUZZ_CHECK(h.signature == "sa{sv}as");
    jsn::Iterator body = m.body();
    jsn::Value interface, changed, active;
    body.Next(&interface);
    body.Next(&changed);
    JSN_FUZZ_CHECK(interface.as_string() == "org.freedesktop.systemd1.Unit");
    JSN_FUZZ_CHECK(jsn::FindInStringVariantDict(changed, "ActiveState", &active));
    JSN_FUZZ_CHECK(active.type() == 's' && active.as_string() == state);
  }
  void OnReady() override {}
};

class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return position_ >= size_; }
  uint8_t Byte() { return position_ < size_ ? data_[position_++] : 0; }
  std::span<const uint8_t> Bytes(size_t count) {
    if (count > size_ - position_) count = size_ - position_;
    std::span<const uint8_t> out(data_ + position_, count);
    position_ += count;
    return out;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t position_ = 0;
};

// A reply serial: mostly one of the calls sent, sometimes any number.
uint32_t PickReplySerial(Input* in, const Recorder& recorder) {
  const uint8_t choice = in->Byte();
  if (choice < 0xf0 && !recorder.serials.empty()) {
    return recorder.serials[choice % recorder.serials.size()];
  }
  return static_cast<uint32_t>(in->Byte()) + 1;
}

std::string_view PickName(Input* in) { return kNames[in->Byte() % std::size(kNames)]; }
std::string_view PickState(Input* in) { return kStates[in->Byte() % std::size(kStates)]; }

// Builds one message from the next operation; false when nothing could be built.
bool BuildMessage(Input* in, const Recorder& recorder, const jsn::Watch& watch,
                  std::span<uint8_t> buffer, std::span<const uint8_t>* out, uint32_t serial) {
  jsn::Writer writer(buffer, (in->Byte() & 1) ? jsn::ByteOrder::kBig : jsn::ByteOrder::kLittle);
  jsn::HeaderFields fields;
  fields.serial = serial;
  const uint8_t op = in->Byte() % 6;
  switch (op) {
    case 0: {  // reply to GetNameOwner: "s" owner
      fields.type = jsn::MessageType::kMethodReturn;
      fields.reply_serial = PickReplySerial(in, recorder);
      fields.sender = "org.freedesktop.DBus";
      fields.signature = "s";
      writer.Begin(fields);
      writer.AppendString(PickName(in));
      break;
    }
    case 1: {  // reply to Get: "v", mostly holding a state string
      fields.type = jsn::MessageType::kMethodReturn;
      fields.reply_serial = PickReplySerial(in, recorder);
      fields.sender = PickName(in);
      fields.signature = "v";
      writer.Begin(fields);
      if (in->Byte() & 1) {
        writer.OpenVariant("u");
        writer.AppendUint32(7);
      } else {
        writer.OpenVariant("s");
        writer.AppendString(PickState(in));
      }
      writer.CloseVariant();
      break;
    }
    case 2: {  // an error reply
      fields.type = jsn::MessageType::kError;
      fields.reply_serial = PickReplySerial(in, recorder);
      fields.sender = PickName(in);
      fields.error_name = (in->Byte() & 1) ? "org.freedesktop.systemd1.AlreadySubscribed"
                                           : "org.freedesktop.DBus.Error.UnknownObject";
      writer.Begin(fields);
      break;
    }
    case 3: {  // PropertiesChanged
      const uint8_t shape = in->Byte();
      const uint8_t unit = in->Byte();
      fields.type = jsn::MessageType::kSignal;
      fields.sender = PickName(in);
      const std::string_view path = unit < 3 * kUnitCount
                                        ? watch.unit_path(unit % kUnitCount)
                                        : std::string_view("/org/freedesktop/systemd1/unit/x");
      fields.path = path;
      fields.interface =
          (shape & 1) ? "org.freedesktop.DBus.Propertiez" : "org.freedesktop.DBus.Properties";
      fields.member = (shape & 2) ? "PropertiesChanges" : "PropertiesChanged";
      fields.signature = (shape & 4) ? "sa{sv}" : "sa{sv}as";
      writer.Begin(fields);
      writer.AppendString((shape & 8) ? "org.freedesktop.systemd1.Service"
                                      : "org.freedesktop.systemd1.Unit");
      writer.OpenArray();
      const uint8_t entries = in->Byte() % 4;
      for (uint8_t i = 0; i < entries; ++i) {
        const uint8_t entry = in->Byte();
        writer.OpenDictEntry();
        writer.AppendString((entry & 1) ? "SubState" : "ActiveState");
        if (entry & 2) {
          writer.OpenVariant("t");
          writer.AppendUint64(entry);
        } else {
          writer.OpenVariant("s");
          writer.AppendString(PickState(in));
        }
        writer.CloseVariant();
        writer.CloseDictEntry();
      }
      writer.CloseArray();
      if (!(shape & 4)) {
        writer.OpenArray();
        if (shape & 16) writer.AppendString("ActiveState");
        if (shape & 32) writer.AppendString("SubState");
        writer.CloseArray();
      }
      break;
    }
    case 4: {  // NameOwnerChanged, or systemd's Reloading
      const uint8_t shape = in->Byte();
      fields.type = jsn::MessageType::kSignal;
      fields.sender = PickName(in);
      if (shape & 4) {
        fields.path = "/org/freedesktop/systemd1";
        fields.interface = "org.freedesktop.systemd1.Manager";
        fields.member = "Reloading";
        fields.signature = "b";
        writer.Begin(fields);
        writer.AppendBool((shape & 8) != 0);
        break;
      }
      fields.path = (shape & 1) ? "/org/freedesktop/DBuz" : "/org/freedesktop/DBus";
      fields.interface = "org.freedesktop.DBus";
      fields.member = "NameOwnerChanged";
      fields.signature = "sss";
      writer.Begin(fields);
      writer.AppendString((shape & 2) ? "org.example.Other" : "org.freedesktop.systemd1");
      writer.AppendString(PickName(in));
      writer.AppendString(PickName(in));
      break;
    }
    default: {  // raw bytes as one message
      const size_t length = in->Byte() | static_cast<size_t>(in->Byte()) << 8;
      const std::span<const uint8_t> raw = in->Bytes(length);
      if (raw.size() > buffer.size()) return false;
      memcpy(buffer.data(), raw.data(), raw.size());
      *out = {buffer.data(), raw.size()};
      return true;
    }
  }
  return writer.Finish(out).ok();
}

// The model's owner change: the owner it replaces is kept as the previous one (an empty one is
// not: a spell with no owner leaves the last real one).
void SetTrusted(const std::string& owner, std::string* trusted, std::string* previous) {
  if (!trusted->empty() && owner != *trusted) *previous = *trusted;
  *trusted = owner;
}

// The model's view of whom to trust after `message`.
// Only the first reply to a call from a sender that may answer it counts: the bus delivers one
// such, and anything else is not an answer.
void UpdateTrusted(const jsn::Message& message, const Recorder& recorder, std::string* trusted,
                   std::string* previous, std::set<uint32_t>* replied) {
  const jsn::Header& h = message.header();
  if (h.type == jsn::MessageType::kMethodReturn || h.type == jsn::MessageType::kError) {
    const auto call = recorder.calls.find(h.reply_serial);
    if (call == recorder.calls.end() || replied->count(h.reply_serial) != 0) return;
    if (!MayAnswer(h, call->second, *trusted, *previous)) return;
    replied->insert(h.reply_serial);
    if (call->second.member != "GetNameOwner") return;
    if (h.type == jsn::MessageType::kError || h.signature.empty() || h.signature[0] != 's') {
      SetTrusted("", trusted, previous);
      return;
    }
    jsn::Iterator body = message.body();
    jsn::Value owner;
    body.Next(&owner);
    SetTrusted(std::string(owner.as_string()), trusted, previous);
    return;
  }
  if (h.type != jsn::MessageType::kSignal || h.member != "NameOwnerChanged" ||
      h.interface != "org.freedesktop.DBus" || h.sender != "org.freedesktop.DBus" ||
      h.path != "/org/freedesktop/DBus" || h.signature != "sss") {
    return;
  }
  jsn::Iterator body = message.body();
  jsn::Value name, old_owner, new_owner;
  body.Next(&name);
  body.Next(&old_owner);
  body.Next(&new_owner);
  if (name.as_string() != "org.freedesktop.systemd1") return;
  SetTrusted(std::string(new_owner.as_string()), trusted, previous);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // The Watch logs what it drops; keep the lines out of the fuzzer's output. Debug lines stay
  // off: one write(2) each would slow every execution several times over.
  const int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null_fd < 0) Fail("cannot open /dev/null");
  jsn::SetLogFd(null_fd);
  jsn::SetDebugLogging(false);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static jsn::Watch watch;  // large (fixed arrays): not on the stack
  watch = jsn::Watch();
  Recorder recorder;
  Listener listener;
  JSN_FUZZ_CHECK(watch.Init(std::span<const char* const>(kUnits, kUnitCount), &listener).ok());
  JSN_FUZZ_CHECK(watch.Start(&recorder).ok());
  context = Context();
  context.recorder = &recorder;
  context.watch = &watch;
  std::string trusted;
  std::string previous;
  std::set<uint32_t> replied;
  Input in(data, size);
  uint32_t serial = 1000;
  static uint8_t buffer[65536];
  while (!in.empty()) {
    std::span<const uint8_t> bytes;
    if (!BuildMessage(&in, recorder, watch, buffer, &bytes, ++serial)) continue;
    std::vector<uint8_t> copy(bytes.begin(), bytes.end());  // exact size: overreads are caught
    jsn::Message message;
    if (!jsn::Message::Parse(copy, &message).ok()) continue;
    context.message = &message;
    context.trusted = trusted;
    context.previous = previous;
    jsn::Incoming incoming;
    incoming.message = message;
    recorder.replies.Take(&incoming);                              // as Connection::Receive does
    if (!watch.HandleMessage(incoming, &recorder).ok()) return 0;  // fatal for the connection
    context.message = nullptr;
    UpdateTrusted(message, recorder, &trusted, &previous, &replied);
    JSN_FUZZ_CHECK(watch.systemd_owner() == trusted);
  }
  return 0;
}
