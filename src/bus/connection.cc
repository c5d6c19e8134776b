#include "jsn/bus/connection.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "jsn/bus/blocking_io.h"
#include "jsn/wire/calls.h"
#include "jsn/wire/message.h"
#include "jsn/wire/writer.h"

namespace jsn {
namespace {

// The serial of an outgoing message we built: bytes 8..11 of the fixed header, in the byte
// order named by byte 0 ("Message Format").
uint32_t SerialOf(std::span<const uint8_t> message) {
  const uint8_t* p = message.data() + 8;
  if (message[0] == static_cast<uint8_t>(ByteOrder::kBig)) {
    return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
           static_cast<uint32_t>(p[2]) << 8 | p[3];
  }
  return static_cast<uint32_t>(p[3]) << 24 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[1]) << 8 | p[0];
}

// "Standard Interfaces": every connection answers these; and the errors our answers use.
constexpr std::string_view kPeerInterface = "org.freedesktop.DBus.Peer";

// For messages: "unix:path=/run/dbus/system_bus_socket" or "unix:abstract=...".
struct AddressForHumans {
  const char* kind;
  int length;
  const char* name;
};
std::span<const uint8_t> Bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

AddressForHumans Describe(const UnixAddress& address) {
  return {address.abstract ? "abstract" : "path", static_cast<int>(address.length), address.name};
}

}  // namespace

Connection::Connection(const ConnectionOptions& options)
    : options_(options),
      framer_(options.receive_buffer_bytes, options.max_message_length),
      machine_id_(options.machine_id_path, options.fallback_machine_id_path) {}

Connection::~Connection() {
  Close();
  free(send_buffer_);
}

void Connection::Close() {
  if (fd_ >= 0) {
    // close() is not retried on EINTR: on Linux the descriptor is gone either way.
    close(fd_);
    fd_ = -1;
  }
  framer_.Reset();
  send_head_ = 0;
  send_tail_ = 0;
  replies_.Clear();
  unique_name_length_ = 0;
  auth_ = AuthResult();
}

Status Connection::Closed(const char* doing) const {
  return Status::Expected("connection-closed",
                          "an open bus connection while %s, "
                          "found it closed",
                          doing);
}

Status Connection::CloseWith(Status status) {
  Close();
  return status;
}

uint32_t Connection::NextSerial() {
  ++last_serial_;
  if (last_serial_ == 0) last_serial_ = 1;  // 0 is not a valid serial
  return last_serial_;
}

Status Connection::Open(std::string_view address_text) {
  AddressList addresses;
  JSN_RETURN_IF_ERROR(ParseAddressList(address_text, &addresses));
  return Open(addresses);
}

Status Connection::Open(const AddressList& addresses) {
  Close();
  const MonotonicTime deadline =
      MonotonicNow() + std::chrono::milliseconds(options_.startup_timeout_ms);
  Status status = Status::Expected("no-usable-address", "at least one address");
  for (size_t i = 0; i < addresses.count; ++i) {
    status = Begin(addresses.entries[i]);
    while (status.ok() && opening()) {
      status = WaitReady(fd_, static_cast<short>(wants_write() ? POLLIN | POLLOUT : POLLIN),
                         deadline, phase_ == Phase::kSayingHello ? "hello-timeout" : "auth-timeout",
                         "opening the connection");
      if (status.ok()) status = Advance();
    }
    if (status.ok()) return status;
    Close();
  }
  return status;
}

Status Connection::Begin(const UnixAddress& address) {
  Close();
  if (send_buffer_ == nullptr) {
    send_buffer_ = static_cast<uint8_t*>(malloc(options_.send_queue_bytes));
    if (send_buffer_ == nullptr) {
      return Status::Expected("out-of-memory",
                              "%zu bytes for the send queue, found "
                              "malloc failing",
                              options_.send_queue_bytes);
    }
  }
  fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    return Status::Failure("socket-failed", "socket(AF_UNIX): %s", strerror(errno));
  }
  sockaddr_un socket_address;
  socklen_t length = address.ToSockaddr(&socket_address);
  // A non-blocking unix connect never completes later: it succeeds at once or fails, and a
  // full backlog (EAGAIN) is a failure the caller retries, not "in progress".
  if (connect(fd_, reinterpret_cast<const sockaddr*>(&socket_address), length) != 0) {
    AddressForHumans human = Describe(address);
    return CloseWith(Status::Expected("connect-failed", "to connect to unix:%s=%.*s, found %s",
                                      human.kind, human.length, human.name, strerror(errno)));
  }
  phase_ = Phase::kAuthenticating;
  auth_filled_ = 0;
  auth_data_rounds_ = 0;
  char start[64];
  return Send(Bytes({start, FormatAuthStart(geteuid(), start, sizeof start)}));
}

Status Connection::Advance() {
  Status status = Flush();
  if (status.ok() && phase_ == Phase::kAuthenticating) status = ReadAuthReplies();
  if (status.ok() && phase_ == Phase::kSayingHello) status = ReadHelloReply();
  return status.ok() ? status : CloseWith(status);
}

// Every whole line from the server, each answered; then back to the loop until more comes.
Status Connection::ReadAuthReplies() {
  for (;;) {
    std::string_view text(reinterpret_cast<const char*>(auth_line_), auth_filled_);
    size_t end = text.find("\r\n");
    if (end == std::string_view::npos) {
      if (auth_filled_ == sizeof auth_line_) {
        return Status::Expected("auth-line-too-long",
                                "a reply line of at most %zu bytes ending in \\r\\n, "
                                "found %zu bytes without one",
                                kMaxAuthLineLength, auth_filled_);
      }
      size_t got = 0;
      JSN_RETURN_IF_ERROR(ReceiveBytes(
          std::span<uint8_t>(auth_line_ + auth_filled_, sizeof auth_line_ - auth_filled_), &got));
      if (got == 0) return Status();
      auth_filled_ += got;
      continue;
    }
    size_t rest = auth_filled_ - (end + 2);
    std::string_view answer;
    bool done = false;
    JSN_RETURN_IF_ERROR(
        AuthStep(text.substr(0, end), geteuid(), &auth_data_rounds_, &auth_, &answer, &done));
    if (done && rest != 0) {
      // The server speaks only when spoken to: bytes after OK and before our BEGIN are a
      // protocol violation, and would be lost to the message stream.
      return Status::Expected("auth-unexpected-bytes",
                              "nothing after OK until BEGIN, found %zu bytes", rest);
    }
    JSN_RETURN_IF_ERROR(Send(Bytes(answer)));
    if (done) {
      phase_ = Phase::kSayingHello;
      uint8_t buffer[256];
      std::span<const uint8_t> hello;
      hello_serial_ = NextSerial();
      JSN_RETURN_IF_ERROR(BuildHello(buffer, hello_serial_, &hello));
      return Send(hello);
    }
    memmove(auth_line_, auth_line_ + end + 2, rest);
    auth_filled_ = rest;
  }
}

Status Connection::ReadHelloReply() {
  // Only the bus speaks before we have a name, and its first word is Hello's reply; whatever
  // follows it in the same read (NameAcquired) stays buffered for Receive.
  while (true) {
    Incoming incoming;
    bool have = false;
    Status status = Receive(&incoming, &have);
    if (!status.ok()) {
      if (!is_open()) return status;
      continue;  // an invalid message before the reply: skipped like any other
    }
    if (!have) return Status();
    const Header& header = incoming.message.header();
    if (header.reply_serial != hello_serial_) continue;
    if (header.type == MessageType::kError) {
      return Status::Expected("hello-failed",
                              "a unique name from Hello, found error "
                              "%.*s",
                              static_cast<int>(header.error_name.size()), header.error_name.data());
    }
    Iterator body = incoming.message.body();
    Value name;
    if (header.type != MessageType::kMethodReturn || !body.Next(&name) || name.type() != 's' ||
        name.as_string().empty() || name.as_string().size() > kMaxBusNameLength) {
      return Status::Expected("hello-failed",
                              "Hello's reply to hold one bus name "
                              "(signature s), found signature \"%.*s\"",
                              static_cast<int>(header.signature.size()), header.signature.data());
    }
    std::string_view unique = name.as_string();
    memcpy(unique_name_, unique.data(), unique.size());
    unique_name_length_ = unique.size();
    phase_ = Phase::kOpen;
    return Status();
  }
}

Status Connection::Send(std::span<const uint8_t> message) {
  if (!is_open()) return Closed("sending");
  size_t queued = send_tail_ - send_head_;
  if (message.size() > options_.send_queue_bytes - queued) {
    return Status::Expected("send-queue-full",
                            "room for a %zu-byte message in the "
                            "send queue, found %zu of %zu bytes free",
                            message.size(), options_.send_queue_bytes - queued,
                            options_.send_queue_bytes);
  }
  if (message.size() > options_.send_queue_bytes - send_tail_) {
    memmove(send_buffer_, send_buffer_ + send_head_, queued);
    send_head_ = 0;
    send_tail_ = queued;
  }
  memcpy(send_buffer_ + send_tail_, message.data(), message.size());
  send_tail_ += message.size();
  return Flush();
}

Status Connection::Call(std::span<const uint8_t> message, uint64_t tag, Answerer answerer) {
  if (!is_open()) return Closed("calling");
  if (message.size() < kFixedHeaderLength) {
    return Status::Expected("bad-call", "a whole message to call with, found %zu bytes",
                            message.size());
  }
  if (replies_.full()) {
    return Status::Expected("too-many-pending-calls",
                            "fewer than %zu calls awaiting "
                            "replies, found the table full",
                            kMaxPendingCalls);
  }
  JSN_RETURN_IF_ERROR(Send(message));
  // Recorded after Send: a failed Send leaves nothing to wait for, and no reply can be read
  // before we return (one thread).
  replies_.Add(SerialOf(message), tag, answerer);
  return Status();
}

Status Connection::AnswerCall(const Message& call) {
  const Header& header = call.header();
  if (header.type != MessageType::kMethodCall || (header.flags & kFlagNoReplyExpected) != 0) {
    return Status();
  }
  if (header.interface.empty() || header.interface == kPeerInterface) {
    if (header.member == "Ping") return Reply(header, {}, "", {});
    if (header.member == "GetMachineId") {
      std::string_view id;
      Status status = machine_id_.Get(&id);
      if (status.ok()) return Reply(header, {}, "s", id);
      return Reply(
          header,
          strcmp(status.rule(), "machine-id-missing") == 0 ? kFileNotFoundError : kFailedError, "s",
          status.message());
    }
  }
  char text[2 * kMaxBusNameLength + 64];
  int text_length = snprintf(text, sizeof text, "no method %.*s.%.*s here",
                             static_cast<int>(header.interface.size()), header.interface.data(),
                             static_cast<int>(header.member.size()), header.member.data());
  if (text_length < 0) text_length = 0;
  size_t used = static_cast<size_t>(text_length) < sizeof text ? static_cast<size_t>(text_length)
                                                               : sizeof text - 1;
  return Reply(header, kUnknownMethodError, "s", {text, used});
}

Status Connection::Reply(const Header& call, std::string_view error_name,
                         std::string_view signature, std::string_view text) {
  HeaderFields fields;
  fields.type = error_name.empty() ? MessageType::kMethodReturn : MessageType::kError;
  fields.serial = NextSerial();
  fields.reply_serial = call.serial;
  fields.destination = call.sender;  // empty on a peer-to-peer link: then none is needed
  fields.error_name = error_name;
  fields.signature = signature;
  // The longest: an UnknownMethod text naming an interface and a member, to a 255-byte sender.
  uint8_t buffer[4 * kMaxBusNameLength + 256];
  Writer writer(buffer);
  writer.Begin(fields);
  if (!signature.empty()) writer.AppendString(text);
  std::span<const uint8_t> reply;
  JSN_RETURN_IF_ERROR(writer.Finish(&reply));
  return Send(reply);
}

Status Connection::Flush() {
  if (!is_open()) return Closed("writing");
  while (send_head_ < send_tail_) {
    ssize_t sent = send(fd_, send_buffer_ + send_head_, send_tail_ - send_head_, MSG_NOSIGNAL);
    if (sent >= 0) {
      send_head_ += static_cast<size_t>(sent);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Status();  // wants_write() stays true
    if (errno == EPIPE || errno == ECONNRESET) {
      return CloseWith(Status::Failure("connection-closed",
                                       "the bus closed the connection while we were writing"));
    }
    return CloseWith(Status::Failure("send-failed", "send() to the bus: %s", strerror(errno)));
  }
  send_head_ = 0;
  send_tail_ = 0;
  return Status();
}

Status Connection::Receive(Incoming* incoming, bool* have) {
  *have = false;
  if (!is_open()) return Closed("receiving");
  while (true) {
    std::span<const uint8_t> bytes;
    Status status = framer_.Next(&bytes);
    if (!status.ok()) {
      // A corrupt fixed header leaves no way to find the next message: drop the connection.
      if (framer_.broken()) return CloseWith(status);
      return status;  // one over-long message dropped; the stream goes on
    }
    if (!bytes.empty()) {
      *incoming = Incoming();
      JSN_RETURN_IF_ERROR(Message::Parse(bytes, &incoming->message));
      replies_.Take(incoming);
      *have = true;
      return Status();
    }
    std::span<uint8_t> space;
    status = framer_.ReceiveSpace(&space);
    if (!status.ok()) return CloseWith(status);
    if (space.empty()) {
      // Cannot happen by the framer's contract; a zero-length recv() would read as EOF.
      return CloseWith(Status::Expected("framer-full",
                                        "room to receive into, found "
                                        "none (%zu bytes buffered)",
                                        framer_.buffered()));
    }
    size_t got = 0;
    JSN_RETURN_IF_ERROR(ReceiveBytes(space, &got));
    if (got == 0) return Status();
    framer_.Received(got);
  }
}

Status Connection::ReceiveBytes(std::span<uint8_t> space, size_t* got) {
  *got = 0;
  while (true) {
    ssize_t received = recv(fd_, space.data(), space.size(), 0);
    if (received > 0) {
      *got = static_cast<size_t>(received);
      return Status();
    }
    if (received == 0) {
      return CloseWith(
          Status::Failure("connection-closed", "the bus closed the connection (end of stream)"));
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Status();
    if (errno == ECONNRESET) {
      return CloseWith(Status::Failure("connection-closed", "the bus reset the connection"));
    }
    return CloseWith(Status::Failure("recv-failed", "recv() from the bus: %s", strerror(errno)));
  }
}

}  // namespace jsn
