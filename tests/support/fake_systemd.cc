#include "support/fake_systemd.h"

#include <signal.h>

#include <sstream>

#include "support/source_tree.h"

namespace jsn::testing {
namespace {

std::vector<std::string> Words(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream stream(line);
  std::string word;
  while (stream >> word) words.push_back(word);
  return words;
}

bool IsReply(const std::string& line) {
  for (const char* prefix : {"ok", "error", "state ", "subscribers ", "gets ", "pong", "bye"}) {
    if (line.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

bool Emitted(const std::string& reply) { return reply == "ok emitted 1"; }

}  // namespace

::testing::AssertionResult FakeSystemd::Start(const std::string& bus_address,
                                              const std::vector<std::string>& units,
                                              bool emit_unsubscribed) {
  std::vector<std::string> argv = {"/usr/bin/python3", SourcePath("tests/support/fake_systemd.py"),
                                   "--address", bus_address};
  for (const std::string& unit : units) {
    argv.push_back("--unit");
    argv.push_back(unit);
  }
  if (emit_unsubscribed) argv.push_back("--emit-unsubscribed");
  std::string error;
  if (!process_.Start(argv, {}, &error, "", /*with_stdin=*/true)) {
    return ::testing::AssertionFailure() << "cannot start fake_systemd.py: " << error;
  }
  std::string line;
  std::vector<std::string> before;
  if (!process_.ReadLineUntil([](const std::string& l) { return l.rfind("ready ", 0) == 0; }, &line,
                              std::chrono::seconds(20), &before)) {
    std::string said;
    for (const std::string& l : before) said += l + "\n";
    Quit();
    return ::testing::AssertionFailure() << "fake_systemd.py never said ready; it said:\n" << said;
  }
  owner_ = line.substr(6);
  return ::testing::AssertionSuccess();
}

void FakeSystemd::Quit() {
  if (!process_.running()) return;
  process_.WriteLine("quit");
  process_.CloseStdin();
  if (!process_.WaitForExit(std::chrono::seconds(10))) {
    process_.Stop(SIGKILL, std::chrono::milliseconds(0));
  }
}

::testing::AssertionResult FakeSystemd::Command(const std::string& line, std::string* reply,
                                                std::chrono::milliseconds timeout) {
  std::string answer;
  if (!process_.WriteLine(line)) {
    return ::testing::AssertionFailure()
           << "fake_systemd.py is not running (command: " << line << ")";
  }
  // stderr shares the pipe: skip anything that is not a reply (a Python warning, say), but
  // show it when no reply comes.
  std::vector<std::string> noise;
  if (!process_.ReadLineUntil(IsReply, &answer, timeout, &noise)) {
    std::string said;
    for (const std::string& l : noise) said += l + "\n";
    return ::testing::AssertionFailure()
           << "no reply from fake_systemd.py to \"" << line << "\"; it said:\n"
           << said;
  }
  if (reply != nullptr) *reply = answer;
  if (answer.rfind("error", 0) == 0) {
    return ::testing::AssertionFailure() << "fake_systemd.py: \"" << line << "\": " << answer;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult FakeSystemd::SetState(const std::string& unit, const std::string& active,
                                                 const std::string& sub, bool* emitted) {
  std::string reply;
  ::testing::AssertionResult result =
      Command("set " + unit + " " + active + (sub.empty() ? "" : " " + sub), &reply);
  if (emitted != nullptr) *emitted = Emitted(reply);
  return result;
}

::testing::AssertionResult FakeSystemd::Invalidate(const std::string& unit,
                                                   const std::string& active,
                                                   const std::string& sub, bool* emitted) {
  std::string reply;
  ::testing::AssertionResult result =
      Command("invalidate " + unit + " " + active + (sub.empty() ? "" : " " + sub), &reply);
  if (emitted != nullptr) *emitted = Emitted(reply);
  return result;
}

::testing::AssertionResult FakeSystemd::Sequence(const std::string& unit,
                                                 const std::vector<std::string>& states) {
  std::string line = "sequence " + unit;
  for (const std::string& state : states) line += " " + state;
  return Command(line);
}

::testing::AssertionResult FakeSystemd::Spoof(const std::string& unit, const std::string& active,
                                              std::string* sender) {
  std::string reply;
  ::testing::AssertionResult result = Command("spoof " + unit + " " + active, &reply);
  std::vector<std::string> words = Words(reply);
  if (sender != nullptr && words.size() == 3) *sender = words[2];
  return result;
}

::testing::AssertionResult FakeSystemd::ReplaceOwner(bool keep_subscribers,
                                                     const std::string& how) {
  std::string reply;
  ::testing::AssertionResult result =
      Command(keep_subscribers ? "replace-owner keep" : "replace-owner " + how, &reply);
  std::vector<std::string> words = Words(reply);
  if (result && words.size() == 3) owner_ = words[2];
  return result;
}

std::vector<std::string> FakeSystemd::Ask(const std::string& line) {
  std::string reply;
  if (!Command(line, &reply)) return {};
  return Words(reply);
}

int FakeSystemd::Subscribers() {
  std::vector<std::string> words = Ask("subscribers");
  return words.size() == 4 ? std::stoi(words[1]) : -1;
}

int FakeSystemd::SubscribeCalls() {
  std::vector<std::string> words = Ask("subscribers");
  return words.size() == 4 ? std::stoi(words[2]) : -1;
}

int FakeSystemd::UnsubscribeCalls() {
  std::vector<std::string> words = Ask("subscribers");
  return words.size() == 4 ? std::stoi(words[3]) : -1;
}

int FakeSystemd::Gets(const std::string& unit) {
  std::vector<std::string> words = Ask("gets " + unit);
  return words.size() == 3 ? std::stoi(words[2]) : -1;
}

std::string FakeSystemd::ActiveState(const std::string& unit) {
  std::vector<std::string> words = Ask("state " + unit);
  return words.size() == 5 ? words[2] : "";
}

}  // namespace jsn::testing
