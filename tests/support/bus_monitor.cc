#include "support/bus_monitor.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

namespace jsn::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kMarkerInterface[] = "org.jsn.test.Marker";
constexpr char kMarkerPathPrefix[] = "/org/jsn/test/Marker/";

// The value of `key=` in a dbus-monitor header, up to the next ';' or ' '.
std::string HeaderField(const std::string& header, const std::string& key) {
  size_t at = header.find(" " + key + "=");
  if (at == std::string::npos) return "";
  at += key.size() + 2;
  size_t end = header.find_first_of("; ", at);
  return header.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

bool IsHeader(const std::string& line) {
  return !line.empty() && line[0] != ' ' &&
         (line.rfind("signal ", 0) == 0 || line.rfind("method call ", 0) == 0 ||
          line.rfind("method return ", 0) == 0 || line.rfind("error ", 0) == 0);
}

std::string Quoted(const std::string& line) {
  size_t open = line.find('"');
  size_t close = line.rfind('"');
  if (open == std::string::npos || close == open) return "";
  return line.substr(open + 1, close - open - 1);
}

int MillisecondsLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

}  // namespace

std::string BusMessage::ChangedString(const std::string& property) const {
  // dbus-monitor shows a dict entry as `dict entry(`, `string "KEY"`, `variant ... string "V"`.
  for (size_t i = 0; i + 1 < body.size(); ++i) {
    if (body[i] == "string \"" + property + "\"" && body[i + 1].rfind("variant", 0) == 0) {
      size_t value = body[i + 1].find("string \"");
      if (value == std::string::npos) return "";
      return Quoted(body[i + 1].substr(value));
    }
  }
  return "";
}

bool BusMessage::Invalidates(const std::string& property) const {
  // The invalidated list is the body's last array: strings not followed by a variant.
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] != "string \"" + property + "\"") continue;
    bool in_dict = i + 1 < body.size() && body[i + 1].rfind("variant", 0) == 0;
    if (!in_dict) return true;
  }
  return false;
}

std::string BusMessage::Text() const {
  std::string text = header;
  for (const std::string& line : body) text += "\n   " + line;
  return text;
}

::testing::AssertionResult BusMonitor::Start(const std::string& address,
                                             const std::vector<std::string>& match_rules,
                                             std::chrono::milliseconds timeout) {
  address_ = address;
  std::vector<std::string> argv = {"dbus-monitor", "--address", address};
  if (!match_rules.empty()) {
    argv.insert(argv.end(), match_rules.begin(), match_rules.end());
    argv.push_back(std::string("type='signal',interface='") + kMarkerInterface + "'");
  }
  std::string error;
  if (!monitor_.Start(argv, {}, &error)) {
    return ::testing::AssertionFailure() << "cannot start dbus-monitor: " << error;
  }
  // The first marker can be emitted before dbus-monitor became a monitor and be lost; emit
  // until one arrives.
  Clock::time_point deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (Sync(std::chrono::milliseconds(std::min(200, MillisecondsLeft(deadline))))) {
      return ::testing::AssertionSuccess();
    }
    if (monitor_.WaitForExit(std::chrono::milliseconds(0))) break;  // it exited
  }
  return ::testing::AssertionFailure() << "dbus-monitor on " << address << " never saw a marker";
}

::testing::AssertionResult BusMonitor::Sync(std::chrono::milliseconds timeout) {
  std::string path =
      kMarkerPathPrefix + std::to_string(getpid()) + "_" + std::to_string(markers_++);
  CommandResult emitted =
      RunCommand({"busctl", "--address=" + address_, "emit", path, kMarkerInterface, "Marker"});
  if (!emitted.succeeded()) {
    return ::testing::AssertionFailure()
           << "busctl emit: " << emitted.Describe() << ": " << emitted.output;
  }
  if (!ReadUntilMarker(path, timeout)) {
    return ::testing::AssertionFailure()
           << "marker " << path << " not seen within " << timeout.count() << " ms";
  }
  return ::testing::AssertionSuccess();
}

bool BusMonitor::ReadUntilMarker(const std::string& marker_path,
                                 std::chrono::milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  std::string line;
  while (monitor_.ReadLine(&line, std::chrono::milliseconds(MillisecondsLeft(deadline)))) {
    if (!IsHeader(line)) {
      if (have_current_) {
        size_t text = line.find_first_not_of(' ');
        if (text != std::string::npos) current_.body.push_back(line.substr(text));
      }
      continue;
    }
    Finish();
    current_ = BusMessage();
    current_.header = line;
    current_.type = line.rfind("method call ", 0) == 0     ? "method call"
                    : line.rfind("method return ", 0) == 0 ? "method return"
                    : line.rfind("error ", 0) == 0         ? "error"
                                                           : "signal";
    current_.sender = HeaderField(line, "sender");
    current_.destination = HeaderField(line, "destination");
    current_.path = HeaderField(line, "path");
    current_.interface = HeaderField(line, "interface");
    current_.member = HeaderField(line, "member");
    have_current_ = true;
    if (current_.interface == kMarkerInterface) {
      // Markers are ours, not the test's; drop them as soon as they are seen.
      have_current_ = false;
      if (current_.path == marker_path) return true;
    }
  }
  return false;
}

void BusMonitor::Finish() {
  if (!have_current_) return;
  have_current_ = false;
  // The monitor's own name, granted and taken away when it becomes a monitor.
  bool own_name = current_.sender == "org.freedesktop.DBus" &&
                  (current_.member == "NameAcquired" || current_.member == "NameLost");
  if (!own_name) messages_.push_back(std::move(current_));
}

::testing::AssertionResult BusMonitor::WaitFor(const std::function<bool(const BusMessage&)>& match,
                                               const std::string& what, size_t from, size_t* index,
                                               std::chrono::milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  size_t next = from;
  for (;;) {
    ::testing::AssertionResult synced = Sync(std::chrono::milliseconds(MillisecondsLeft(deadline)));
    for (; next < messages_.size(); ++next) {
      if (match(messages_[next])) {
        if (index != nullptr) *index = next;
        return ::testing::AssertionSuccess();
      }
    }
    if (!synced || Clock::now() >= deadline) {
      return ::testing::AssertionFailure()
             << "no message " << what << " within " << timeout.count() << " ms; saw:\n"
             << Dump(from);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string BusMonitor::Dump(size_t from) const {
  std::string text;
  for (size_t i = from; i < messages_.size(); ++i) text += messages_[i].Text() + "\n";
  return text;
}

}  // namespace jsn::testing
