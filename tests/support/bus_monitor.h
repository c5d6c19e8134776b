// BusMonitor: watches a bus from outside with `dbus-monitor --address` (a libdbus peer that
// becomes a monitor, so it subscribes to nothing and changes nothing systemd sees) and hands the
// test the messages it saw, parsed from dbus-monitor's text.
//
// dbus-monitor finishes a message's text only when the next one arrives, so the monitor orders
// itself with markers: Sync() emits a signal on a unique path from another connection and reads
// until that marker shows; every message the bus routed before the marker is then complete.
//
// Ownership: owns the dbus-monitor process (killed and reaped by PID on destruction) and the
// messages it collected.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "support/child_process.h"

namespace jsn::testing {

struct BusMessage {
  std::string type;  // "signal", "method call", "method return", "error"
  std::string sender, destination, path, interface, member;
  std::string header;             // dbus-monitor's first line, as is
  std::vector<std::string> body;  // its following lines, leading blanks removed

  // For a PropertiesChanged: the string value of `property` in the changed dict, "" when the
  // dict does not hold it (or holds a non-string).
  std::string ChangedString(const std::string& property) const;
  // For a PropertiesChanged: whether `property` is in the invalidated list.
  bool Invalidates(const std::string& property) const;
  // The header and body, for failure messages.
  std::string Text() const;
};

class BusMonitor {
 public:
  BusMonitor() = default;
  BusMonitor(const BusMonitor&) = delete;
  BusMonitor& operator=(const BusMonitor&) = delete;

  // Starts dbus-monitor on `address` with the given match rules (empty: everything) and waits
  // for it to see its first marker, so nothing the test does afterwards is missed.
  ::testing::AssertionResult Start(const std::string& address,
                                   const std::vector<std::string>& match_rules = {},
                                   std::chrono::milliseconds timeout = std::chrono::seconds(20));

  // Emits a marker and collects every message before it. After Sync, messages() holds all that
  // the bus routed before the call.
  ::testing::AssertionResult Sync(std::chrono::milliseconds timeout = std::chrono::seconds(20));

  // Syncs repeatedly (bounded by `timeout`) until some collected message from index `from` on
  // satisfies `match`; stores its index in *index when not null.
  ::testing::AssertionResult WaitFor(const std::function<bool(const BusMessage&)>& match,
                                     const std::string& what, size_t from = 0,
                                     size_t* index = nullptr,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(20));

  // Messages seen so far, markers and the monitor's own NameAcquired/NameLost left out.
  const std::vector<BusMessage>& messages() const { return messages_; }
  // Every collected message as text, for failure messages.
  std::string Dump(size_t from = 0) const;

 private:
  // Reads until the header of the marker on `marker_path`.
  bool ReadUntilMarker(const std::string& marker_path, std::chrono::milliseconds timeout);
  void Finish();  // moves the message being read into messages_

  std::string address_;
  ChildProcess monitor_;
  std::vector<BusMessage> messages_;
  BusMessage current_;
  bool have_current_ = false;
  int markers_ = 0;
};

}  // namespace jsn::testing
