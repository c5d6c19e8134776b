// Test support: waiting on a jsn::Connection for the message a test expects (ReceiveUntil), and
// reading a message's body as plain strings (BodyValues). The Connection stays the caller's;
// BodyValues copies what it reads. Shared by the connection's integration tests.
#pragma once

#include <poll.h>

#include <cstdint>
#include <string>
#include <vector>

#include "jsn/base/monotonic_time.h"
#include "jsn/bus/connection.h"
#include "jsn/wire/reader.h"

namespace jsn::testing {

// Receives until `match` accepts a message, the connection closes, or 10 s pass (a hang
// guard, not a timing assertion). Rules of messages reported and skipped go to `errors`.
template <typename Match>
bool ReceiveUntil(Connection* bus, Match match, std::vector<std::string>* errors = nullptr) {
  const MonotonicTime deadline = MonotonicNow() + std::chrono::seconds(10);
  while (true) {
    Incoming incoming;
    bool have = false;
    Status status = bus->Receive(&incoming, &have);
    if (!status.ok()) {
      if (errors != nullptr) errors->push_back(status.rule());
      if (!bus->is_open()) return false;
      continue;
    }
    if (have) {
      if (match(incoming)) return true;
      continue;
    }
    const int64_t left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - MonotonicNow()).count();
    if (left <= 0) return false;
    pollfd entry{bus->fd(), POLLIN, 0};
    poll(&entry, 1, static_cast<int>(left));
  }
}

// The body's top-level values rendered simply: strings as they are, unsigned as decimal.
std::vector<std::string> BodyValues(const Message& message);

}  // namespace jsn::testing
