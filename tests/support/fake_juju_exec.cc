#include "support/fake_juju_exec.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
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

// A Python string literal for `text`.
std::string PythonQuote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\\' || c == '\'') quoted += '\\';
    quoted += c;
  }
  return quoted + "'";
}

// "app/0" as the agent's file names spell it: "app-0".
std::string UnitTag(std::string unit) {
  for (char& c : unit) c = c == '/' ? '-' : c;
  return unit;
}

}  // namespace

FakeJujuExec::FakeJujuExec(const std::string& parent) : directory_("jsn-fake-juju-exec", parent) {
  // Python, not a shell script: a shell would add PWD to the environment the client records.
  std::string wrapper =
      "#!/usr/bin/python3\nFAKE_JUJU_EXEC_DIR = " + PythonQuote(directory_.path()) +
      "\nFAKE = " + PythonQuote(SourcePath("tests/support/fake-juju-exec")) +
      "\nexec(compile(open(FAKE).read(), FAKE, \"exec\"))\n";
  WriteFile(path(), wrapper, 0755);
  // Units of a system manager may run as another user than the test: they reach the socket.
  chmod(directory_.path().c_str(), 0755);
  std::string error;
  if (!agent_.Start({"/usr/bin/python3", SourcePath("tests/support/fake-juju-exec"), "--agent",
                     directory_.path()},
                    {}, &error, directory_.Join("agent.log"))) {
    ADD_FAILURE() << "cannot start the fake juju agent: " << error;
    return;
  }
  // Bounded: the agent makes its socket appear only once it listens.
  Clock::time_point deadline = Clock::now() + std::chrono::seconds(30);
  struct stat socket_stat;
  while (stat(directory_.Join("run.socket").c_str(), &socket_stat) != 0) {
    if (Clock::now() >= deadline || agent_.WaitForExit(std::chrono::milliseconds(0))) {
      ADD_FAILURE() << "the fake juju agent did not start: "
                    << ReadFile(directory_.Join("agent.log"));
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

FakeJujuExec::~FakeJujuExec() {
  ReleaseLock(&machine_lock_);
  ReleaseLock(&unit_lock_);
  agent_.Stop(SIGKILL, std::chrono::seconds(10));
}

::testing::AssertionResult FakeJujuExec::SetAgentDown(bool down) {
  std::string flag = directory_.Join("agent-down");
  if (down ? WriteFile(flag, "") : (unlink(flag.c_str()) == 0 || errno == ENOENT)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "cannot change " << flag;
}

::testing::AssertionResult FakeJujuExec::SetUnitGone(const std::string& unit, bool gone) {
  std::string flag = directory_.Join("gone-" + UnitTag(unit));
  if (gone ? WriteFile(flag, "") : (unlink(flag.c_str()) == 0 || errno == ENOENT)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "cannot change " << flag;
}

::testing::AssertionResult FakeJujuExec::HoldUnitLock(const std::string& unit) {
  return HoldLock("unit-" + UnitTag(unit) + ".lock", &unit_lock_);
}

::testing::AssertionResult FakeJujuExec::HoldLock(const std::string& name, int* fd) {
  ReleaseLock(fd);
  std::string lock = directory_.Join(name);
  *fd = open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (*fd < 0) return ::testing::AssertionFailure() << "cannot open " << lock;
  while (flock(*fd, LOCK_EX) != 0) {
    if (errno != EINTR) return ::testing::AssertionFailure() << "cannot lock " << lock;
  }
  return ::testing::AssertionSuccess();
}

void FakeJujuExec::ReleaseLock(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
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
    } else if (fields.size() >= 2 && fields[0] == "env") {
      pid_t pid = static_cast<pid_t>(std::stol(fields[1]));
      for (auto call = calls.rbegin(); call != calls.rend(); ++call) {
        if (call->pid != pid) continue;
        call->environment.assign(fields.begin() + 2, fields.end());
        break;
      }
    } else if ((fields.size() == 3 && fields[0] == "run") ||
               (fields.size() == 4 && fields[0] == "done")) {
      pid_t pid = static_cast<pid_t>(std::stol(fields[1]));
      bool run = fields[0] == "run";
      // The latest call of that PID whose command has not started / ended.
      for (auto call = calls.rbegin(); call != calls.rend(); ++call) {
        if (call->pid != pid || (run ? call->ran() : call->run_ended())) continue;
        if (run) {
          call->run_start_ns = std::stoll(fields[2]);
        } else {
          call->run_end_ns = std::stoll(fields[2]);
          if (fields[3].rfind("exit ", 0) == 0)
            call->run_exit_code = std::stoi(fields[3].substr(5));
        }
        break;
      }
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

std::string JujuExecCall::hook() const {
  if (argv.size() <= 2) return "";
  size_t space = argv[2].rfind(' ');
  return space == std::string::npos ? argv[2] : argv[2].substr(space + 1);
}

std::string JujuExecCall::Variable(const std::string& name) const {
  if (argv.size() <= 2) return "";
  std::string words = argv[2];
  size_t start = 0;
  while (start < words.size()) {
    size_t end = words.find(' ', start);
    if (end == std::string::npos) break;  // the last word is the hook
    std::string word = words.substr(start, end - start);
    if (word.starts_with(name + "=")) return word.substr(name.size() + 1);
    start = end + 1;
  }
  return "";
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
    text += !call.ran()         ? std::string(", not run")
            : !call.run_ended() ? ", run from " + std::to_string(call.run_start_ns)
                                : ", run " + std::to_string(call.run_start_ns) + ".." +
                                      std::to_string(call.run_end_ns) + " exit " +
                                      std::to_string(call.run_exit_code);
    text += "\n";
  }
  return text.empty() ? "(no calls)\n" : text;
}

::testing::AssertionResult FakeJujuExec::WaitFor(const char* what, size_t count,
                                                 bool (*counts)(const JujuExecCall&),
                                                 std::chrono::milliseconds timeout) const {
  Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    std::vector<JujuExecCall> calls = Calls();
    size_t seen = 0;
    for (const JujuExecCall& call : calls) seen += counts(call) ? 1 : 0;
    if (seen >= count) return ::testing::AssertionSuccess();
    if (Clock::now() >= deadline) {
      return ::testing::AssertionFailure() << "expected " << count << " " << what << " within "
                                           << timeout.count() << " ms, saw:\n"
                                           << Describe(calls);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

::testing::AssertionResult FakeJujuExec::WaitForBegun(size_t count,
                                                      std::chrono::milliseconds timeout) const {
  return WaitFor(
      "calls to begin", count, [](const JujuExecCall&) { return true; }, timeout);
}

::testing::AssertionResult FakeJujuExec::WaitForEnded(size_t count,
                                                      std::chrono::milliseconds timeout) const {
  return WaitFor(
      "calls to end", count, [](const JujuExecCall& call) { return call.ended(); }, timeout);
}

::testing::AssertionResult FakeJujuExec::WaitForRunsBegun(size_t count,
                                                          std::chrono::milliseconds timeout) const {
  return WaitFor(
      "commands to start", count, [](const JujuExecCall& call) { return call.ran(); }, timeout);
}

::testing::AssertionResult FakeJujuExec::WaitForRunsEnded(size_t count,
                                                          std::chrono::milliseconds timeout) const {
  return WaitFor(
      "commands to end", count, [](const JujuExecCall& call) { return call.run_ended(); }, timeout);
}

}  // namespace jsn::testing
