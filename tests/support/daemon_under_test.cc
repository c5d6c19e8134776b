#include "support/daemon_under_test.h"

#include <signal.h>
#include <sys/wait.h>

#include <cstdlib>

#include "support/source_tree.h"

namespace jsn::testing {

namespace {
// $NAME, or `otherwise` when it is unset or empty.
std::string EnvironmentOr(const char* name, const char* otherwise) {
  const char* value = getenv(name);
  return value != nullptr && *value != '\0' ? value : otherwise;
}
}  // namespace

std::string DaemonUnderTest::Launcher() { return EnvironmentOr("JSN_DAEMON_LAUNCHER", ""); }

::testing::AssertionResult DaemonUnderTest::Start(const std::string& bus_address,
                                                  const std::string& juju_exec,
                                                  const std::vector<std::string>& names,
                                                  const std::vector<std::string>& extra_options) {
  ::testing::AssertionResult launched = Launch(bus_address, juju_exec, names, extra_options);
  if (!launched) return launched;
  return WaitForLine("watching ");
}

::testing::AssertionResult DaemonUnderTest::Launch(const std::string& bus_address,
                                                   const std::string& juju_exec,
                                                   const std::vector<std::string>& names,
                                                   const std::vector<std::string>& extra_options) {
  std::vector<std::string> argv = {DaemonPath(),  "--unit",      "app/0",
                                   "--juju-exec", juju_exec,     "--bus",
                                   bus_address,   "--state-dir", state_dir()};
  if (debug_) argv.insert(argv.begin() + 3, "-d");
  argv.insert(argv.end(), extra_options.begin(), extra_options.end());
  argv.insert(argv.end(), names.begin(), names.end());
  // qemu-user runs the program in its own process: the PID, signals and exit status are the
  // daemon's.
  if (!Launcher().empty()) argv.insert(argv.begin(), Launcher());
  std::string error;
  if (!process_.Start(
          argv, added_environment_.empty() ? environment_ : EnvironmentWith(added_environment_),
          &error)) {
    return ::testing::AssertionFailure() << "cannot start " << argv[0] << ": " << error;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult DaemonUnderTest::WaitForLine(const std::string& text,
                                                        std::chrono::milliseconds timeout) {
  for (const std::string& line : lines_) {
    if (line.find(text) != std::string::npos) return ::testing::AssertionSuccess();
  }
  std::string line;
  std::vector<std::string> skipped;
  bool found = process_.ReadLineUntil(
      [&](const std::string& candidate) { return candidate.find(text) != std::string::npos; },
      &line, timeout, &skipped);
  lines_.insert(lines_.end(), skipped.begin(), skipped.end());
  if (found) {
    lines_.push_back(line);
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "the daemon never logged \"" << text << "\"; its log:\n"
                                       << Log();
}

size_t DaemonUnderTest::CountLines(const std::string& text) const {
  size_t count = 0;
  for (const std::string& line : lines_) {
    if (line.find(text) != std::string::npos) ++count;
  }
  return count;
}

::testing::AssertionResult DaemonUnderTest::WaitForLines(const std::string& text, size_t count,
                                                         std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string line;
  while (CountLines(text) < count) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !process_.ReadLine(&line, left)) {
      return ::testing::AssertionFailure()
             << "the daemon logged \"" << text << "\" " << CountLines(text) << " times, not "
             << count << "; its log:\n"
             << Log();
    }
    lines_.push_back(line);
  }
  return ::testing::AssertionSuccess();
}

std::string DaemonUnderTest::UniqueName() const {
  for (const std::string& line : lines_) {
    size_t at = line.find(" as :");
    if (line.find("connected to") != std::string::npos && at != std::string::npos) {
      return line.substr(at + 4);
    }
  }
  return "";
}

int DaemonUnderTest::Stop() {
  if (stopped_ || !process_.running()) return exit_code_;
  stopped_ = true;
  kill(process_.pid(), SIGTERM);
  std::string line;
  while (process_.ReadLine(&line, std::chrono::seconds(30))) lines_.push_back(line);
  int status = process_.Stop(SIGKILL, std::chrono::seconds(30));
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return exit_code_;
}

int DaemonUnderTest::WaitForExit(std::chrono::milliseconds timeout) {
  if (stopped_ || !process_.running()) return exit_code_;
  std::string line;
  while (process_.ReadLine(&line, timeout)) lines_.push_back(line);
  stopped_ = true;
  if (!process_.WaitForExit(timeout)) {
    process_.Stop(SIGKILL, std::chrono::seconds(30));
    return exit_code_ = -1;
  }
  int status = process_.wait_status();
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return exit_code_;
}

std::string DaemonUnderTest::Log() const {
  std::string text;
  for (const std::string& line : lines_) text += "  " + line + "\n";
  return text;
}

std::vector<std::string> HookList(const FakeJujuExec& juju_exec) {
  std::vector<std::string> hooks;
  for (const JujuExecCall& call : juju_exec.Calls())
    hooks.push_back(call.unit() + " " + call.hook());
  return hooks;
}

std::string ReadStateHooks(const std::string& path) {
  std::string text = ReadFile(path), hooks;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    end = end == std::string::npos ? text.size() : end + 1;
    if (text.compare(start, 7, "record ") != 0) hooks += text.substr(start, end - start);
    start = end;
  }
  return hooks;
}

}  // namespace jsn::testing
