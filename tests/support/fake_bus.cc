#include "support/fake_bus.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "jsn/wire/calls.h"
#include "jsn/wire/reader.h"
#include "jsn/wire/writer.h"

namespace jsn::testing {

FakeBus::FakeBus(const std::string& socket_name, bool abstract, const std::string& escaped_name)
    : directory_("jsn-fake-bus") {
  std::string escaped = escaped_name.empty() ? socket_name : escaped_name;
  if (abstract) {
    path_ = "jsn-test-" + std::to_string(getpid()) + "-" + socket_name;
    address_ = "unix:abstract=jsn-test-" + std::to_string(getpid()) + "-" + escaped;
  } else {
    path_ = directory_.Join(socket_name);
    address_ = "unix:path=" + directory_.Join(escaped);
  }
  listener_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  size_t start = abstract ? 1 : 0;
  memcpy(address.sun_path + start, path_.data(), path_.size());
  socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + start + path_.size() +
                                            (abstract ? 0 : 1));
  EXPECT_EQ(bind(listener_, reinterpret_cast<sockaddr*>(&address), length), 0);
  EXPECT_EQ(listen(listener_, 4), 0);
}

FakeBus::~FakeBus() {
  if (peer_ >= 0) close(peer_);
  close(listener_);
}

void FakeBus::Accept() { peer_ = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC); }

void FakeBus::Hangup() {
  close(peer_);
  peer_ = -1;
}

std::string FakeBus::ReadLine() {
  std::string line;
  char c;
  while (read(peer_, &c, 1) == 1) {
    line.push_back(c);
    if (line.size() >= 2 && line.substr(line.size() - 2) == "\r\n") {
      return line.substr(0, line.size() - 2);
    }
  }
  return line;
}

void FakeBus::WriteBytes(const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = write(peer_, p, size);
    if (n <= 0) return;
    p += n;
    size -= static_cast<size_t>(n);
  }
}

std::string FakeBus::ReadMessage() {
  std::string message(16, '\0');
  if (!ReadExactly(message.data(), 16)) return "";
  size_t length = 0;
  if (!MessageLength({reinterpret_cast<const uint8_t*>(message.data()), 16}, &length).ok()) {
    return "";
  }
  message.resize(length);
  if (!ReadExactly(message.data() + 16, length - 16)) return "";
  return message;
}

bool FakeBus::ReadExactly(char* out, size_t size) {
  while (size > 0) {
    ssize_t n = read(peer_, out, size);
    if (n <= 0) return false;
    out += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

void FakeBus::Handshake() {
  Accept();
  ReadLine();  // \0AUTH EXTERNAL ...
  Write(std::string("OK ") + kFakeGuid + "\r\n");
  ReadLine();  // BEGIN
  std::string hello = ReadMessage();
  Message parsed;
  ASSERT_TRUE(
      Message::Parse({reinterpret_cast<const uint8_t*>(hello.data()), hello.size()}, &parsed).ok());
  HeaderFields fields;
  fields.type = MessageType::kMethodReturn;
  fields.serial = 1;
  fields.reply_serial = parsed.header().serial;
  fields.sender = kBusName;
  fields.signature = "s";
  uint8_t buffer[256];
  Writer writer(buffer);
  writer.Begin(fields);
  writer.AppendString(":1.99");
  std::span<const uint8_t> reply;
  ASSERT_TRUE(writer.Finish(&reply).ok());
  Write(reply);
}

}  // namespace jsn::testing
