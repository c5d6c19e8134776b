#include "support/fake_juju_exec.h"

#include <stdio.h>

#include <thread>

#include "support/source_tree.h"

namespace jsn::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> SplitFields(const std::string& line) {
  std::vector<std::string> fields(1);
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == '\t') {
      fields.emplace_back();
    } else if (c == '\\' && i + 1 < line.size()) {
      char next = line[++i];
      fields.back() += next == 't' ? '\t' : next == 'n' ? '\n' : next;
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

// A POSIX shell word for `text`.
std::string ShellQuote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace

FakeJujuExec::FakeJujuExec(const std::string& parent) : directory_("jsn-fake-juju-exec", parent) {
  std::string wrapper =
      "#!/bin/sh\n"
      "JSN_FAKE_JUJU_EXEC_LOG=" +
      ShellQuote(log_path()) +
      "\n"
      "JSN_FAKE_JUJU_EXEC_CONTROL=" +
      ShellQuote(rules_path()) +
      "\n"
      "JSN_FAKE_JUJU_EXEC_ARGV0=\"$0\"\n"
      "export JSN_FAKE_JUJU_EXEC_LOG JSN_FAKE_JUJU_EXEC_CONTROL "
      "JSN_FAKE_JUJU_EXEC_ARGV0\n"
      "exec /usr/bin/python3 " +
      ShellQuote(SourcePath("tests/support/fake-juju-exec")) + " \"$@\"\n";
  WriteFile(path(), wrapper, 0755);
}

::testing::AssertionResult FakeJujuExec::SetRules(const std::string& rules) {
  std::string temporary = rules_path() + ".new";
  if (!WriteFile(temporary, rules) || rename(temporary.c_str(), rules_path().c_str()) != 0) {
    return ::testing::AssertionFailure() << "cannot write " << rules_path();
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult FakeJujuExec::OpenGate(const std::string& name) {
  if (!WriteFile(GatePath(name), "")) {
    return ::testing::AssertionFailure() << "cannot create " << GatePath(name);
  }
  return ::testing::AssertionSuccess();
}

std::vector<JujuExecCall> FakeJujuExec::Calls() const { return ParseLog(ReadFile(log_path())); }

std::vector<JujuExecCall> FakeJujuExec::ParseLog(const std::string& text) {
  std::vector<JujuExecCall> calls;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) break;  // a line still being written
    std::vector<std::string> fields = SplitFields(text.substr(start, end - start));
    start = end + 1;
    if (fields.size() >= 4 && fields[0] == "begin") {
      JujuExecCall call;
      call.pid = static_cast<pid_t>(std::stol(fields[1]));
      call.start_ns = std::stoll(fields[2]);
      call.cwd = fields[3];
      call.argv.assign(fields.begin() + 4, fields.end());
      calls.push_back(call);
    } else if (fields.size() == 4 && fields[0] == "end") {
      pid_t pid = static_cast<pid_t>(std::stol(fields[1]));
      // The latest call of that PID that has not ended (PIDs may be reused across calls).
      for (auto call = calls.rbegin(); call != calls.rend(); ++call) {
        if (call->pid != pid || call->ended()) continue;
        call->end_ns = std::stoll(fields[2]);
        if (fields[3].rfind("exit ", 0) == 0) call->exit_code = std::stoi(fields[3].substr(5));
        if (fields[3].rfind("signal ", 0) == 0) call->signal = std::stoi(fields[3].substr(7));
        break;
      }
    }
  }
  return calls;
}

std::string FakeJujuExec::Describe(const std::vector<JujuExecCall>& calls) {
  std::string text;
  for (const JujuExecCall& call : calls) {
    text += "pid " + std::to_string(call.pid) + " [";
    for (size_t i = 1; i < call.argv.size(); ++i) text += (i > 1 ? " " : "") + call.argv[i];
    text += "] " + std::to_string(call.start_ns) + "..";
    text += call.ended() ? std::to_string(call.end_ns) : std::string("running");
    if (call.ended()) {
      text += call.signal != 0 ? " signal " + std::to_string(call.signal)
                               : " exit " + std::to_string(call.exit_code);
    }
    text += "\n";
  }
  return text.empty() ? "(no calls)\n" : text;
}

::testing::AssertionResult FakeJujuExec::WaitForBegun(size_t count,
                                                      std::chrono::milliseconds timeout) const {
  Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    std::vector<JujuExecCall> calls = Calls();
    if (calls.size() >= count) return ::testing::AssertionSuccess();
    if (Clock::now() >= deadline) {
      return ::testing::AssertionFailure() << "expected " << count << " calls to begin within "
                                           << timeout.count() << " ms, saw:\n"
                                           << Describe(calls);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

::testing::AssertionResult FakeJujuExec::WaitForEnded(size_t count,
                                                      std::chrono::milliseconds timeout) const {
  Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    std::vector<JujuExecCall> calls = Calls();
    size_t ended = 0;
    for (const JujuExecCall& call : calls) ended += call.ended() ? 1 : 0;
    if (ended >= count) return ::testing::AssertionSuccess();
    if (Clock::now() >= deadline) {
      return ::testing::AssertionFailure()
             << "expected " << count << " calls to end within " << timeout.count() << " ms, saw:\n"
             << Describe(calls);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace jsn::testing
