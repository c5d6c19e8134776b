#include "jsn/systemd/manager.h"

#include <poll.h>

#include <cstdio>
#include <cstring>

#include "jsn/bus/blocking_io.h"
#include "jsn/systemd/unit_path.h"
#include "jsn/wire/calls.h"
#include "jsn/wire/writer.h"

namespace jsn {
namespace {

constexpr uint64_t kCallTag = 1;
constexpr std::string_view kJobRemovedRule =
    "type='signal',sender='org.freedesktop.systemd1',path='/org/freedesktop/systemd1',"
    "interface='org.freedesktop.systemd1.Manager',member='JobRemoved'";

HeaderFields ManagerCall(uint32_t serial, std::string_view member, std::string_view signature) {
  HeaderFields fields;
  fields.serial = serial;
  fields.destination = kSystemdName;
  fields.path = kSystemdPath;
  fields.interface = kSystemdManagerInterface;
  fields.member = member;
  fields.signature = signature;
  return fields;
}

void CopyText(std::string_view text, char* out, size_t size) {
  size_t length = text.size() < size - 1 ? text.size() : size - 1;
  memcpy(out, text.data(), length);
  out[length] = '\0';
}

}  // namespace

Status Manager::Open(std::string_view address) {
  JSN_RETURN_IF_ERROR(bus_.Open(address));
  std::span<const uint8_t> call;
  JSN_RETURN_IF_ERROR(BuildAddMatch(call_buffer_, bus_.NextSerial(), kJobRemovedRule, &call));
  JSN_RETURN_IF_ERROR(CallAndWait(call, "AddMatch for JobRemoved", Answerer::kBus));
  // Who systemd is on this bus: only its replies and its JobRemoved count from here on.
  JSN_RETURN_IF_ERROR(BuildGetNameOwner(call_buffer_, bus_.NextSerial(), kSystemdName, &call));
  JSN_RETURN_IF_ERROR(CallAndWait(call, "GetNameOwner", Answerer::kBus));
  Iterator body = reply_.body();
  Value owner;
  if (!body.Next(&owner) || owner.type() != 's') {
    return Status::Expected("bad-reply", "a unique name from GetNameOwner, found '%.*s'",
                            static_cast<int>(reply_.header().signature.size()),
                            reply_.header().signature.data());
  }
  bus_.TrustServiceOwner(owner.as_string());
  JSN_RETURN_IF_ERROR(BuildMethodCall(call_buffer_, bus_.NextSerial(), kSystemdName, kSystemdPath,
                                      kSystemdManagerInterface, "Subscribe", &call));
  Status status = CallAndWait(call, "Subscribe", Answerer::kService);
  if (!status.ok() && error_name() != kAlreadySubscribedError) return status;
  return Status();
}

Status Manager::Reload() {
  std::span<const uint8_t> call;
  JSN_RETURN_IF_ERROR(BuildMethodCall(call_buffer_, bus_.NextSerial(), kSystemdName, kSystemdPath,
                                      kSystemdManagerInterface, "Reload", &call));
  return CallAndWait(call, "Reload", Answerer::kService);
}

Status Manager::EnableUnitFile(std::string_view unit) {
  Writer writer(call_buffer_);
  writer.Begin(ManagerCall(bus_.NextSerial(), "EnableUnitFiles", "asbb"));
  writer.OpenArray();
  writer.AppendString(unit);
  writer.CloseArray();
  writer.AppendBool(false);  // runtime: no, persist across reboots
  writer.AppendBool(false);  // force: no, leave symlinks that are not ours
  std::span<const uint8_t> call;
  JSN_RETURN_IF_ERROR(writer.Finish(&call));
  return CallAndWait(call, "EnableUnitFiles", Answerer::kService);
}

Status Manager::DisableUnitFile(std::string_view unit) {
  Writer writer(call_buffer_);
  writer.Begin(ManagerCall(bus_.NextSerial(), "DisableUnitFiles", "asb"));
  writer.OpenArray();
  writer.AppendString(unit);
  writer.CloseArray();
  writer.AppendBool(false);
  std::span<const uint8_t> call;
  JSN_RETURN_IF_ERROR(writer.Finish(&call));
  return CallAndWait(call, "DisableUnitFiles", Answerer::kService);
}

Status Manager::RunJob(std::string_view method, std::string_view unit, std::string_view mode) {
  Writer writer(call_buffer_);
  writer.Begin(ManagerCall(bus_.NextSerial(), method, "ss"));
  writer.AppendString(unit);
  writer.AppendString(mode);
  std::span<const uint8_t> call;
  JSN_RETURN_IF_ERROR(writer.Finish(&call));
  char doing[64];
  snprintf(doing, sizeof doing, "%.*s", static_cast<int>(method.size()), method.data());
  JSN_RETURN_IF_ERROR(CallAndWait(call, doing, Answerer::kService));
  Iterator body = reply_.body();
  Value job;
  if (!body.Next(&job) || job.type() != 'o') {
    return Status::Expected("bad-reply", "a job path from %s, found signature '%.*s'", doing,
                            static_cast<int>(reply_.header().signature.size()),
                            reply_.header().signature.data());
  }
  char job_path[128];
  CopyText(job.as_string(), job_path, sizeof job_path);
  return WaitForJob(job_path, unit);
}

// Properties.Get of `property` on the unit's object path; the value, of type `type` inside the
// variant, is left in *value (a view into reply_, valid until the next call).
Status Manager::GetUnitProperty(std::string_view unit, std::string_view interface,
                                const char* property, char type, Value* value) {
  char path_buffer[kMaxUnitPathLength];
  std::string_view path;
  JSN_RETURN_IF_ERROR(UnitObjectPath(unit, path_buffer, &path));
  std::span<const uint8_t> call;
  JSN_RETURN_IF_ERROR(BuildPropertiesGet(call_buffer_, bus_.NextSerial(), kSystemdName, path,
                                         interface, property, &call));
  JSN_RETURN_IF_ERROR(CallAndWait(call, property, Answerer::kService));
  if (PropertiesGetValue(reply_, type, value)) return Status();
  return Status::Expected("bad-reply", "%s as a variant of '%c', found '%.*s'", property, type,
                          static_cast<int>(reply_.header().signature.size()),
                          reply_.header().signature.data());
}

Status Manager::UnitString(std::string_view unit, const char* property, std::string_view* text) {
  Value value;
  JSN_RETURN_IF_ERROR(GetUnitProperty(unit, kSystemdUnitInterface, property, 's', &value));
  CopyText(value.as_string(), text_, sizeof text_);
  *text = text_;
  return Status();
}

Status Manager::MainPid(std::string_view unit, uint32_t* pid) {
  Value value;
  JSN_RETURN_IF_ERROR(GetUnitProperty(unit, kSystemdServiceInterface, "MainPID", 'u', &value));
  *pid = value.as_uint32();
  return Status();
}

Status Manager::NeedsReload(std::string_view unit, bool* needed) {
  Value value;
  JSN_RETURN_IF_ERROR(
      GetUnitProperty(unit, kSystemdUnitInterface, "NeedDaemonReload", 'b', &value));
  *needed = value.as_bool();
  return Status();
}

Status Manager::ReceiveOne(MonotonicTime deadline, const char* doing, Incoming* incoming) {
  while (true) {
    if (bus_.wants_write()) JSN_RETURN_IF_ERROR(bus_.Flush());
    bool have = false;
    Status status = bus_.Receive(incoming, &have);
    if (!status.ok()) {
      if (!bus_.is_open()) return status;
      continue;  // an invalid message was skipped
    }
    if (have) return Status();
    short events = static_cast<short>(POLLIN | (bus_.wants_write() ? POLLOUT : 0));
    JSN_RETURN_IF_ERROR(WaitReady(bus_.fd(), events, deadline, "timeout", doing));
  }
}

// A JobRemoved counts only from systemd's unique name, once GetNameOwner gave it (whom the
// connection's reply table trusts for systemd's calls).
bool Manager::FromSystemd(std::string_view sender) const {
  return !bus_.service_owner().empty() && sender == bus_.service_owner();
}

Status Manager::CallAndWait(std::span<const uint8_t> call, const char* doing, Answerer answerer) {
  error_name_length_ = 0;
  reply_ = Message();
  // A reply from anyone but `answerer` is refused by the connection (the call stays open):
  // here it is just another message.
  JSN_RETURN_IF_ERROR(bus_.Call(call, kCallTag, answerer));
  const MonotonicTime deadline = MonotonicNow() + std::chrono::milliseconds(kCallTimeoutMs);
  Incoming incoming;
  while (true) {
    JSN_RETURN_IF_ERROR(ReceiveOne(deadline, doing, &incoming));
    const Header& header = incoming.message.header();
    if (incoming.is_reply && incoming.tag == kCallTag) {
      std::span<const uint8_t> bytes = incoming.message.bytes();
      if (bytes.size() > sizeof reply_bytes_) {
        return Status::Expected("bad-reply", "a reply to %s under %zu bytes, found %zu", doing,
                                sizeof reply_bytes_, bytes.size());
      }
      memcpy(reply_bytes_, bytes.data(), bytes.size());
      reply_length_ = bytes.size();
      JSN_RETURN_IF_ERROR(Message::Parse({reply_bytes_, reply_length_}, &reply_));
      if (incoming.is_error()) return ErrorFromReply(reply_, doing);
      return Status();
    }
    if (header.type == MessageType::kMethodCall) {
      (void)bus_.AnswerCall(incoming.message);
    } else if (header.type == MessageType::kSignal && header.member == "JobRemoved" &&
               header.interface == kSystemdManagerInterface && FromSystemd(header.sender)) {
      NoteJobRemoved(incoming.message);
    }
  }
}

void Manager::NoteJobRemoved(const Message& signal) {
  if (signal.header().signature != "uoss") return;
  Iterator body = signal.body();
  Value id, job, unit, result;
  if (!body.Next(&id) || !body.Next(&job) || !body.Next(&unit) || !body.Next(&result)) return;
  JobOutcome& slot = early_jobs_[early_job_next_];
  early_job_next_ = (early_job_next_ + 1) % kMaxEarlyJobs;
  if (early_job_count_ < kMaxEarlyJobs) early_job_count_ += 1;
  CopyText(job.as_string(), slot.path, sizeof slot.path);
  CopyText(result.as_string(), slot.result, sizeof slot.result);
}

Status Manager::WaitForJob(std::string_view job_path, std::string_view unit) {
  const MonotonicTime deadline = MonotonicNow() + std::chrono::milliseconds(kJobTimeoutMs);
  Incoming incoming;
  while (true) {
    for (size_t i = 0; i < early_job_count_; ++i) {
      JobOutcome& outcome = early_jobs_[i];
      if (job_path != outcome.path) continue;
      outcome.path[0] = '\0';  // each job ends once
      if (strcmp(outcome.result, "done") == 0) return Status();
      return Status::Expected("job-failed", "the job for %.*s to be done, found '%s'",
                              static_cast<int>(unit.size()), unit.data(), outcome.result);
    }
    JSN_RETURN_IF_ERROR(ReceiveOne(deadline, "waiting for JobRemoved", &incoming));
    const Header& header = incoming.message.header();
    if (header.type == MessageType::kMethodCall) {
      (void)bus_.AnswerCall(incoming.message);
    } else if (header.type == MessageType::kSignal && header.member == "JobRemoved" &&
               header.interface == kSystemdManagerInterface && FromSystemd(header.sender)) {
      // A unicast signal reaches us whatever our match rules say: only systemd's verdict counts.
      NoteJobRemoved(incoming.message);
    }
  }
}

Status Manager::ErrorFromReply(const Message& reply, const char* doing) {
  std::string_view name = reply.header().error_name;
  CopyText(name, error_name_, sizeof error_name_);
  error_name_length_ = strlen(error_name_);
  std::string_view text;
  Iterator body = reply.body();
  Value value;
  if (body.Next(&value) && value.type() == 's') text = value.as_string();
  return Status::Failure("dbus-error", "%s: %.*s: %.*s", doing, static_cast<int>(name.size()),
                         name.data(), static_cast<int>(text.size() > 100 ? 100 : text.size()),
                         text.data());
}

}  // namespace jsn
