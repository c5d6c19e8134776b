// Connection: one client connection to a message bus over a unix socket, for a
// single-threaded epoll loop. It owns the socket, the receive buffer (a Framer), a send queue
// and a fixed table of calls awaiting replies; all memory is allocated by the first Open and
// reused, so nothing is allocated per message. The table (jsn/bus/reply_table.h) holds each
// call's tag and who may answer it: a reply from anyone else is refused there.
//
// Open() blocks (poll with a deadline): it connects to the first address that accepts,
// authenticates with EXTERNAL and sends Hello. A loop that must keep serving opens in steps
// instead: Begin(), then Advance() on each readiness until opening() is false. After that
// nothing blocks:
//
//   Connection bus;
//   Status status = bus.Open(SystemBusAddress(getenv("DBUS_SYSTEM_BUS_ADDRESS")));
//   epoll: add bus.fd() for EPOLLIN (plus EPOLLOUT while bus.wants_write())
//   to call:   uint8_t buffer[512]; std::span<const uint8_t> call;
//              BuildGetNameOwner(buffer, bus.NextSerial(), name, &call);
//              bus.Call(call, kMyTag, Answerer::kBus);        // queued, written if possible
//   EPOLLOUT:  bus.Flush();
//   EPOLLIN, and once right after Open (what came in with Hello's reply, such as
//   NameAcquired, is already buffered and epoll will not announce it):
//              Incoming in; bool have;
//              while (true) {
//                Status s = bus.Receive(&in, &have);
//                if (!s.ok()) { log(s); if (!bus.is_open()) reconnect(); else continue; }
//                if (!have) break;                            // socket drained: back to epoll
//                if (in.is_reply) ...in.tag, in.is_error(), in.error_name()...
//                else if (in.refused) ...a stranger's reply to the call tagged in.tag...
//                else if (in.message.header().type == MessageType::kMethodCall)
//                  bus.AnswerCall(in.message);
//                else ...in.message.header().member...            // a signal
//              }
//
// A message handed out by Receive is a view into the receive buffer, valid until the next
// Receive. An invalid message from the bus is reported (its parse Status) and skipped; the
// connection stays open. The connection closes itself on end-of-file, a socket error or a
// corrupt stream, and then every call reports "connection-closed" until Open succeeds again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "jsn/base/status.h"
#include "jsn/bus/address.h"
#include "jsn/bus/auth.h"
#include "jsn/bus/framer.h"
#include "jsn/bus/machine_id.h"
#include "jsn/bus/reply_table.h"
#include "jsn/wire/reader.h"

namespace jsn {

struct ConnectionOptions {
  int startup_timeout_ms = 5000;  // connect + authenticate + Hello, over all addresses
  size_t receive_buffer_bytes = Framer::kDefaultInitialCapacity;
  size_t max_message_length = Framer::kDefaultMaxMessageLength;
  size_t send_queue_bytes = 256 * 1024;
  // Where AnswerCall finds the machine id for GetMachineId (tests point them elsewhere); they
  // must outlive the Connection.
  const char* machine_id_path = kMachineIdPath;
  const char* fallback_machine_id_path = kDbusMachineIdPath;
};

class Connection {
 public:
  // Calls awaiting replies at once (see ReplyTable::kCapacity).
  static constexpr size_t kMaxPendingCalls = ReplyTable::kCapacity;
  // "Valid Names": a bus name is at most 255 bytes.
  static constexpr size_t kMaxBusNameLength = 255;

  explicit Connection(const ConnectionOptions& options = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects, authenticates and says Hello, trying each address in order until one works;
  // blocks up to options.startup_timeout_ms. Closes any previous connection first. A failure
  // is the last address's: "connect-failed", "auth-rejected", "auth-timeout",
  // "connection-closed", "hello-failed", ...
  Status Open(const AddressList& addresses);
  // Parses `address_text` (see ParseAddressList) and opens it.
  Status Open(std::string_view address_text);
  // Opening in steps, for a loop: Begin connects to `address` (a unix connect succeeds or
  // fails at once; a full backlog's EAGAIN is "connect-failed") and queues AUTH. Then Advance()
  // on each readiness of fd() (EPOLLIN, and EPOLLOUT while wants_write()) takes the steps
  // (authentication, BEGIN, Hello) until opening() is false. A failure closes the connection.
  // The loop bounds the time it waits; Open uses options.startup_timeout_ms. Send, Call and
  // Receive are for an open connection, not one still opening.
  Status Begin(const UnixAddress& address);
  Status Advance();
  void Close();

  // Open or opening (the socket exists).
  bool is_open() const { return fd_ >= 0; }
  bool opening() const { return is_open() && phase_ != Phase::kOpen; }
  int fd() const { return fd_; }
  // Our unique name (":1.42") from Hello's reply; empty when closed.
  std::string_view unique_name() const { return {unique_name_, unique_name_length_}; }
  std::string_view server_guid() const { return auth_.guid; }

  // A fresh serial for the next outgoing message: never 0, never reused before wrapping.
  uint32_t NextSerial();

  // Queues a whole message (copied) and writes what the socket accepts now; the rest goes
  // out from Flush(). Nothing is queued when it does not fit ("send-queue-full").
  Status Send(std::span<const uint8_t> message);
  // Send, remembering the message's serial so that its reply, from `answerer` only, comes
  // back with `tag` (Incoming). "too-many-pending-calls" when the table is full (nothing
  // sent). A reply that never comes as such (dropped as "message-too-large", or invalid) keeps
  // its slot until Close.
  Status Call(std::span<const uint8_t> message, uint64_t tag, Answerer answerer);
  // Who answers calls to the service from now on (Answerer::kService; see ReplyTable): the
  // caller learns it (GetNameOwner, NameOwnerChanged) and says so. Close forgets it.
  void TrustServiceOwner(std::string_view owner) { replies_.TrustServiceOwner(owner); }
  std::string_view service_owner() const { return replies_.service_owner(); }
  // Answers a method call someone made to us. org.freedesktop.DBus.Peer, which the
  // specification ("Standard Interfaces") has every connection implement and which busctl and
  // bus monitors use, on any object path: Ping gets an empty reply, GetMachineId the machine
  // id (read on the first call, see MachineId; an error reply when there is none). A call
  // with no interface field matches them by member, as the specification allows. Arguments are
  // not checked (libdbus and sd-bus do not either). Anything else gets
  // org.freedesktop.DBus.Error.UnknownMethod: we serve no other methods, and an answer spares
  // the caller its timeout. Nothing is sent for a call flagged NO_REPLY_EXPECTED. `call` may be
  // a view from Receive.
  Status AnswerCall(const Message& call);
  // Calls whose replies have not come yet.
  size_t pending_calls() const { return replies_.size(); }

  // Queued bytes remain: the loop should wait for EPOLLOUT and call Flush().
  bool wants_write() const { return send_head_ < send_tail_; }
  Status Flush();

  // The next message, reading from the socket when no whole one is buffered. `*have` is false
  // once the socket has nothing more (EAGAIN). See the header comment for errors.
  Status Receive(Incoming* incoming, bool* have);

 private:
  enum class Phase : uint8_t { kAuthenticating, kSayingHello, kOpen };

  Status ReadAuthReplies();
  Status ReadHelloReply();
  // recv() into `space`: *got 0 when nothing is there yet; end of stream and errors close.
  Status ReceiveBytes(std::span<uint8_t> space, size_t* got);
  Status Closed(const char* doing) const;
  Status CloseWith(Status status);
  // Sends the reply to `call`: a METHOD_RETURN when `error_name` is empty, else an ERROR; its
  // body is `text` when `signature` is "s", nothing when it is "".
  Status Reply(const Header& call, std::string_view error_name, std::string_view signature,
               std::string_view text);

  ConnectionOptions options_;
  int fd_ = -1;
  Framer framer_;
  AuthResult auth_;
  Phase phase_ = Phase::kOpen;
  int auth_data_rounds_ = 0;
  uint32_t hello_serial_ = 0;
  size_t auth_filled_ = 0;
  uint8_t auth_line_[kMaxAuthLineLength + 2];  // a server line and its "\r\n"
  uint8_t* send_buffer_ = nullptr;
  size_t send_head_ = 0;  // first byte not yet written
  size_t send_tail_ = 0;  // one past the last byte queued
  uint32_t last_serial_ = 0;
  ReplyTable replies_;
  char unique_name_[kMaxBusNameLength] = {};
  size_t unique_name_length_ = 0;
  MachineId machine_id_;  // kept across reconnects: the machine stays the same
};

}  // namespace jsn
