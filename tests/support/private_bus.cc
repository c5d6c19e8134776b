#include "support/private_bus.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

extern char** environ;

namespace jsn::testing {
namespace {

int64_t NowMilliseconds() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

// The test's environment with `overrides` ("NAME=value") replacing same-named entries.
std::vector<std::string> MergedEnvironment(const Environment& overrides) {
  std::vector<std::string> merged;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string current = *entry;
    std::string name = current.substr(0, current.find('='));
    bool replaced = false;
    for (const std::string& override_entry : overrides) {
      if (override_entry.substr(0, override_entry.find('=')) == name) replaced = true;
    }
    if (!replaced) merged.push_back(current);
  }
  merged.insert(merged.end(), overrides.begin(), overrides.end());
  return merged;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// fork + exec with the given descriptors as stdin/stdout/stderr (-1: inherit). Everything the
// child needs is prepared before fork: after it, only async-signal-safe calls.
pid_t Spawn(const std::vector<std::string>& argv, const Environment& environment, int stdin_fd,
            int stdout_fd, int stderr_fd) {
  std::vector<std::string> argv_copy = argv;
  std::vector<std::string> env_copy = MergedEnvironment(environment);
  std::vector<char*> argv_pointers = Pointers(argv_copy);
  std::vector<char*> env_pointers = Pointers(env_copy);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid != 0) return pid;  // parent (or -1)
  // A test binary that crashes runs no destructor: its bus and peers must not outlive it (a
  // leftover dbus-daemon holding the output pipe open would hang `make check | tee`).
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);
  int targets[3] = {stdin_fd, stdout_fd, stderr_fd};
  for (int target = 0; target < 3; ++target) {
    if (targets[target] < 0) continue;
    if (targets[target] == target) {
      fcntl(target, F_SETFD, 0);  // dup2 onto itself would keep FD_CLOEXEC
    } else if (dup2(targets[target], target) < 0) {
      _exit(127);
    }
  }
  execvpe(argv_pointers[0], argv_pointers.data(), env_pointers.data());
  _exit(127);
}

void FillEnding(int wait_status, ProcessResult* result) {
  if (WIFEXITED(wait_status)) result->exit_status = WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) result->signal = WTERMSIG(wait_status);
}

// waitpid for `pid` until `deadline_ms`; true when reaped.
bool ReapUntil(pid_t pid, int64_t deadline_ms, int* wait_status) {
  while (true) {
    pid_t got = waitpid(pid, wait_status, WNOHANG);
    if (got == pid) return true;
    if (got < 0 && errno != EINTR) return true;  // not our child any more: nothing to reap
    if (NowMilliseconds() >= deadline_ms) return false;
    timespec pause{0, 5 * 1000 * 1000};
    nanosleep(&pause, nullptr);
  }
}

void ReapBlocking(pid_t pid, int* wait_status) {
  while (waitpid(pid, wait_status, 0) < 0 && errno == EINTR) {
  }
}

std::string ConfigTemplatePath() {
  const char* source_dir = getenv("JSN_SOURCE_DIR");
  if (source_dir != nullptr && source_dir[0] != '\0') {
    return std::string(source_dir) + "/tests/support/private-bus.conf";
  }
  std::string here = __FILE__;  // tests/support/private_bus.cc as the Makefile compiles it
  return here.substr(0, here.rfind('/') + 1) + "private-bus.conf";
}

}  // namespace

std::string ProcessResult::Describe() const {
  std::ostringstream line;
  if (!started) {
    line << "could not start";
  } else if (timed_out) {
    line << "timed out and was killed";
  } else if (signal != 0) {
    line << "killed by signal " << signal;
  } else {
    line << "exited " << exit_status;
  }
  line << "; stdout: \"" << out << "\"; stderr: \"" << err << "\"";
  return line.str();
}

ProcessResult RunProcess(const std::vector<std::string>& argv, const Environment& environment,
                         int timeout_ms) {
  ProcessResult result;
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return result;
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return result;
  }
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t pid = Spawn(argv, environment, null_fd, out_pipe[1], err_pipe[1]);
  if (null_fd >= 0) close(null_fd);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (pid < 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    return result;
  }
  result.started = true;
  int64_t deadline = NowMilliseconds() + timeout_ms;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_pipes = 2;
  while (open_pipes > 0) {
    int64_t left = deadline - NowMilliseconds();
    if (left <= 0) {
      result.timed_out = true;
      break;
    }
    int ready = poll(fds, 2, static_cast<int>(left));
    if (ready < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      ssize_t got = read(fds[i].fd, buffer, sizeof buffer);
      if (got > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_pipes;
      }
    }
  }
  for (pollfd& entry : fds) {
    if (entry.fd >= 0) close(entry.fd);
  }
  int wait_status = 0;
  if (result.timed_out || !ReapUntil(pid, deadline, &wait_status)) {
    result.timed_out = true;
    kill(pid, SIGKILL);
    ReapBlocking(pid, &wait_status);
    return result;
  }
  FillEnding(wait_status, &result);
  return result;
}

BackgroundProcess::~BackgroundProcess() {
  if (running()) Stop(SIGKILL);
}

::testing::AssertionResult BackgroundProcess::Start(const std::vector<std::string>& argv,
                                                    const Environment& environment,
                                                    const std::string& output_path) {
  if (running()) return ::testing::AssertionFailure() << "already running as " << pid_;
  int output_fd = -1;
  if (!output_path.empty()) {
    output_fd = open(output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (output_fd < 0) {
      return ::testing::AssertionFailure() << "open " << output_path << ": " << strerror(errno);
    }
  }
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_ = Spawn(argv, environment, null_fd, output_fd, output_fd);
  int spawn_errno = errno;
  if (null_fd >= 0) close(null_fd);
  if (output_fd >= 0) close(output_fd);
  if (pid_ < 0) return ::testing::AssertionFailure() << "fork: " << strerror(spawn_errno);
  return ::testing::AssertionSuccess();
}

ProcessResult BackgroundProcess::Stop(int signal, int timeout_ms) {
  ProcessResult result;
  if (!running()) return result;
  result.started = true;
  kill(pid_, signal);
  int wait_status = 0;
  if (!ReapUntil(pid_, NowMilliseconds() + timeout_ms, &wait_status)) {
    result.timed_out = true;
    kill(pid_, SIGKILL);
    ReapBlocking(pid_, &wait_status);
  }
  FillEnding(wait_status, &result);
  pid_ = -1;
  return result;
}

bool BackgroundProcess::Exited(ProcessResult* result) {
  if (!running()) return true;
  int wait_status = 0;
  pid_t got;
  do {
    got = waitpid(pid_, &wait_status, WNOHANG);
  } while (got < 0 && errno == EINTR);
  if (got == 0) return false;
  result->started = true;
  FillEnding(wait_status, result);
  pid_ = -1;
  return true;
}

bool BackgroundProcess::WaitForExit(int timeout_ms, ProcessResult* result) {
  if (!running()) return true;
  int wait_status = 0;
  if (!ReapUntil(pid_, NowMilliseconds() + timeout_ms, &wait_status)) return false;
  result->started = true;
  FillEnding(wait_status, result);
  pid_ = -1;
  return true;
}

std::string MakeTempDirectory(const std::string& prefix) {
  const char* base = getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr && base[0] != '\0' ? base : "/tmp") + "/" +
                        prefix + "XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return "";
  return pattern;
}

PrivateBus::PrivateBus() : directory_("jsn-bus") {}

// The TempDir member removes the directory once the daemon is reaped.
PrivateBus::~PrivateBus() { Stop(SIGKILL); }

::testing::AssertionResult PrivateBus::WriteConfig() {
  std::ifstream in(ConfigTemplatePath());
  if (!in) {
    return ::testing::AssertionFailure()
           << "cannot read the bus config template " << ConfigTemplatePath()
           << " (run from the source tree or set JSN_SOURCE_DIR)";
  }
  std::stringstream text;
  text << in.rdbuf();
  std::string config = text.str();
  const std::string placeholder = "@LISTEN_ADDRESS@";
  size_t at = config.find("<listen>" + placeholder);
  if (at == std::string::npos) {
    return ::testing::AssertionFailure() << "no <listen>" << placeholder << " in the template";
  }
  config.replace(at + 8, placeholder.size(), address_);
  std::ofstream out(config_path_);
  out << config;
  out.close();
  if (!out) return ::testing::AssertionFailure() << "cannot write " << config_path_;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult PrivateBus::Start() {
  if (running()) return ::testing::AssertionFailure() << "the bus is already running";
  if (directory_.path().empty()) return ::testing::AssertionFailure() << "mkdtemp failed";
  if (socket_path_.empty()) {
    socket_path_ = directory_.Join("bus");
    // The temp dir name holds only [-0-9A-Za-z_/.]: no address escaping needed.
    address_ = "unix:path=" + socket_path_;
    config_path_ = directory_.Join("bus.conf");
    ::testing::AssertionResult written = WriteConfig();
    if (!written) return written;
  }
  // --print-address writes the address on stdout once the socket listens: our readiness
  // signal. Its complaints (e.g. "Failed to set fd limit" when not privileged enough) go to a
  // log in the directory rather than into every test's output.
  std::string error;
  if (!daemon_.Start({"dbus-daemon", "--config-file=" + config_path_, "--nofork", "--nopidfile",
                      "--print-address=1"},
                     {}, &error, "", /*with_stdin=*/false, log_path())) {
    return ::testing::AssertionFailure() << "cannot start dbus-daemon: " << error;
  }
  std::string printed;
  if (!daemon_.ReadLine(&printed, std::chrono::seconds(10))) {
    CommandResult ending;
    ending.wait_status = daemon_.Stop(SIGKILL, std::chrono::seconds(5));
    return ::testing::AssertionFailure() << "dbus-daemon did not print its address ("
                                         << ending.Describe()
                                         << "); its log: " << ReadFile(log_path());
  }
  if (printed.rfind(address_, 0) != 0) {
    daemon_.Stop(SIGKILL, std::chrono::seconds(5));
    return ::testing::AssertionFailure()
           << "dbus-daemon listens at " << printed << ", expected " << address_;
  }
  return ::testing::AssertionSuccess();
}

void PrivateBus::Stop(int signal) { daemon_.Stop(signal, std::chrono::seconds(5)); }

std::vector<std::string> PrivateBus::PeerEnvironment() const {
  return {"DBUS_SESSION_BUS_ADDRESS=" + address_, "DBUS_SYSTEM_BUS_ADDRESS=" + address_,
          "DBUS_STARTER_ADDRESS=" + address_};
}

CommandResult PrivateBus::RunPeer(const std::vector<std::string>& argv,
                                  std::chrono::milliseconds timeout) const {
  return RunCommand(argv, EnvironmentWith(PeerEnvironment()), timeout);
}

}  // namespace jsn::testing
