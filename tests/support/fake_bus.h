// Test support: a fake message bus, a listening socket in a temp dir (or the abstract
// namespace), driven step by step by the test, for what a real bus will not do on demand. The
// test plays the bus's part: Accept, ReadLine / Write the authentication, Handshake for the
// whole start-up, then ReadMessage what the client sent and Write what the bus would send.
//
//   FakeBus fake;
//   std::thread server([&] { fake.Handshake(); });   // AUTH -> OK, BEGIN, Hello -> ":1.99"
//   Connection connection;
//   ASSERT_TRUE(connection.Open(fake.address()).ok());
//   server.join();
//
// A FakeBus owns its listening socket, the one accepted client socket and its temp dir; the
// destructor closes the sockets, then the directory goes. Reads block; a test that needs a
// deadline runs the fake in a thread of its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "support/child_process.h"

namespace jsn::testing {

// The server GUID the fake bus sends in its OK.
constexpr const char* kFakeGuid = "0123456789abcdef0123456789abcdef";

class FakeBus {
 public:
  // Listens at `socket_name` in a fresh temp dir, or in the abstract namespace (a name made
  // unique by our PID) when `abstract`. `escaped_name` is how the name appears in the address.
  explicit FakeBus(const std::string& socket_name = "bus", bool abstract = false,
                   const std::string& escaped_name = "");
  ~FakeBus();
  FakeBus(const FakeBus&) = delete;
  FakeBus& operator=(const FakeBus&) = delete;
  std::string address() const { return address_; }

  void Accept();
  void Hangup();
  // One line from the client, without "\r\n" (the leading NUL byte kept if present).
  std::string ReadLine();
  void Write(const std::string& bytes) { WriteBytes(bytes.data(), bytes.size()); }
  void Write(std::span<const uint8_t> bytes) { WriteBytes(bytes.data(), bytes.size()); }
  // One whole message from the client, or "" at end of stream.
  std::string ReadMessage();
  // Plays the bus's part of start-up: AUTH -> OK, BEGIN, Hello -> ":1.99".
  void Handshake();

 private:
  void WriteBytes(const void* data, size_t size);
  bool ReadExactly(char* out, size_t size);

  TempDir directory_;  // removed after the destructor has closed the sockets
  std::string path_;
  std::string address_;
  int listener_ = -1;
  int peer_ = -1;
};

}  // namespace jsn::testing
