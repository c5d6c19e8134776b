#include "support/child_process.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

extern char** environ;

namespace jsn::testing {
namespace {

using Clock = std::chrono::steady_clock;

int MillisecondsLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() < 0) return 0;
  return static_cast<int>(left.count());
}

std::vector<char*> PointersTo(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// Forks and execs argv. The child gets stdin from `stdin_fd`, stdout on `output_fd` and stderr
// on `error_fd` (dup'ed; -1 means /dev/null). Returns the PID, or -1 with *error set.
pid_t Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& environment,
            int stdin_fd, int output_fd, int error_fd, std::string* error) {
  if (argv.empty()) {
    *error = "empty argv";
    return -1;
  }
  std::vector<std::string> args = argv;
  std::vector<std::string> env = environment.empty() ? EnvironmentWith({}) : environment;
  std::vector<char*> arg_pointers = PointersTo(args);
  std::vector<char*> env_pointers = PointersTo(env);
  // A pipe closed on exec tells the parent whether exec worked.
  int status_pipe[2];
  if (pipe2(status_pipe, O_CLOEXEC) != 0) {
    *error = std::string("pipe2: ") + strerror(errno);
    return -1;
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    *error = std::string("fork: ") + strerror(errno);
    close(status_pipe[0]);
    close(status_pipe[1]);
    return -1;
  }
  if (pid == 0) {
    // New process group, so a test can signal the child's whole tree and a terminal's ^C does
    // not race the fixture's own cleanup.
    setpgid(0, 0);
    // Should the test process die without its destructors (SIGKILL, a crash), the child is
    // told: SIGTERM ends the fakes, monitors and private dbus-daemons (one left holding the
    // output pipe would hang `make check | tee`), and makes a user manager stop its units and
    // exit, instead of leaving them running for ever.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    int null_fd = open("/dev/null", O_RDWR);
    dup2(stdin_fd >= 0 ? stdin_fd : null_fd, 0);
    dup2(output_fd >= 0 ? output_fd : null_fd, 1);
    dup2(error_fd >= 0 ? error_fd : null_fd, 2);
    // Leave no other descriptor of the test process open in the child.
    for (int fd = 3; fd < 1024; ++fd) {
      if (fd != status_pipe[1]) close(fd);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    execvpe(arg_pointers[0], arg_pointers.data(), env_pointers.data());
    int exec_errno = errno;
    ssize_t ignored = write(status_pipe[1], &exec_errno, sizeof exec_errno);
    (void)ignored;
    _exit(127);
  }
  close(status_pipe[1]);
  int exec_errno = 0;
  ssize_t got;
  do {
    got = read(status_pipe[0], &exec_errno, sizeof exec_errno);
  } while (got < 0 && errno == EINTR);
  close(status_pipe[0]);
  if (got == static_cast<ssize_t>(sizeof exec_errno)) {
    waitpid(pid, nullptr, 0);
    *error = "exec " + argv[0] + ": " + strerror(exec_errno);
    return -1;
  }
  return pid;
}

// waitpid with a deadline, polling: a test's children are few and short-lived.
bool WaitWithDeadline(pid_t pid, int* wait_status, Clock::time_point deadline) {
  for (;;) {
    pid_t got = waitpid(pid, wait_status, WNOHANG);
    if (got == pid) return true;
    if (got < 0 && errno != EINTR) return true;  // not our child any more: nothing to wait for
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

std::vector<std::string> EnvironmentWith(const std::vector<std::string>& overrides) {
  std::vector<std::string> result;
  auto overridden = [&](const std::string& entry) {
    std::string name = entry.substr(0, entry.find('=') + 1);
    for (const std::string& o : overrides) {
      if (o.compare(0, name.size(), name) == 0) return true;
    }
    return false;
  };
  for (char** e = environ; *e != nullptr; ++e) {
    if (!overridden(*e)) result.push_back(*e);
  }
  for (const std::string& o : overrides) result.push_back(o);
  return result;
}

bool CommandResult::exited() const { return wait_status != -1 && WIFEXITED(wait_status); }

int CommandResult::exit_code() const { return exited() ? WEXITSTATUS(wait_status) : -1; }

std::string CommandResult::Describe() const {
  if (wait_status == -1) return "not run";
  if (WIFEXITED(wait_status)) return "exit " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) return "signal " + std::to_string(WTERMSIG(wait_status));
  return "wait status " + std::to_string(wait_status);
}

namespace {

// RunCommand, with stderr to `error_file` when that is not empty.
CommandResult RunToExit(const std::vector<std::string>& argv,
                        const std::vector<std::string>& environment,
                        std::chrono::milliseconds timeout, const std::string& error_file) {
  CommandResult result;
  ChildProcess child;
  std::string error;
  if (!child.Start(argv, environment, &error, "", false, error_file)) {
    result.output = error;
    return result;
  }
  Clock::time_point deadline = Clock::now() + timeout;
  std::string line;
  while (child.ReadLine(&line, std::chrono::milliseconds(MillisecondsLeft(deadline)))) {
    result.output += line;
    result.output += '\n';
  }
  // The output can end before the command does (it closed it): wait for the exit, within the
  // same deadline, rather than kill a command that is finishing.
  child.WaitForExit(std::chrono::milliseconds(MillisecondsLeft(deadline)));
  result.wait_status = child.Stop(SIGKILL, std::chrono::milliseconds(0));
  return result;
}

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::vector<std::string>& environment,
                         std::chrono::milliseconds timeout) {
  return RunToExit(argv, environment, timeout, "");
}

CommandResult RunCommandStderrApart(const std::vector<std::string>& argv,
                                    const std::vector<std::string>& environment,
                                    std::chrono::milliseconds timeout) {
  TempDir directory("jsn-stderr");
  CommandResult result = RunToExit(argv, environment, timeout, directory.Join("stderr"));
  result.error_output = ReadFile(directory.Join("stderr"));
  return result;
}

ChildProcess::~ChildProcess() { Stop(SIGKILL, std::chrono::milliseconds(0)); }

bool ChildProcess::Start(const std::vector<std::string>& argv,
                         const std::vector<std::string>& environment, std::string* error,
                         const std::string& output_file, bool with_stdin,
                         const std::string& error_file) {
  int output_pipe[2] = {-1, -1};
  int child_output = -1;
  if (output_file.empty()) {
    if (pipe2(output_pipe, O_CLOEXEC) != 0) {
      *error = std::string("pipe2: ") + strerror(errno);
      return false;
    }
    child_output = output_pipe[1];
  } else {
    child_output = open(output_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (child_output < 0) {
      *error = "open " + output_file + ": " + strerror(errno);
      return false;
    }
  }
  int child_error = child_output;
  if (!error_file.empty()) {
    child_error = open(error_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (child_error < 0) {
      *error = "open " + error_file + ": " + strerror(errno);
      close(child_output);
      if (output_pipe[0] >= 0) close(output_pipe[0]);
      return false;
    }
  }
  int input_pipe[2] = {-1, -1};
  if (with_stdin && pipe2(input_pipe, O_CLOEXEC) != 0) {
    *error = std::string("pipe2: ") + strerror(errno);
    close(child_output);
    if (child_error != child_output) close(child_error);
    if (output_pipe[0] >= 0) close(output_pipe[0]);
    return false;
  }
  pid_ = Spawn(argv, environment, input_pipe[0], child_output, child_error, error);
  close(child_output);
  if (child_error != child_output) close(child_error);
  if (input_pipe[0] >= 0) close(input_pipe[0]);
  output_fd_ = output_pipe[0];
  input_fd_ = input_pipe[1];
  wait_status_ = -1;
  buffer_.clear();
  if (pid_ < 0) {
    if (output_fd_ >= 0) close(output_fd_);
    if (input_fd_ >= 0) close(input_fd_);
    output_fd_ = input_fd_ = -1;
    return false;
  }
  return true;
}

bool ChildProcess::FillBuffer(Clock::time_point deadline) {
  if (output_fd_ < 0) return false;
  for (;;) {
    struct pollfd p = {output_fd_, POLLIN, 0};
    int ready = poll(&p, 1, MillisecondsLeft(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    char chunk[4096];
    ssize_t got = read(output_fd_, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      close(output_fd_);
      output_fd_ = -1;
      return false;
    }
    buffer_.append(chunk, static_cast<size_t>(got));
    return true;
  }
}

bool ChildProcess::ReadLine(std::string* line, std::chrono::milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    size_t newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      *line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return true;
    }
    if (!FillBuffer(deadline)) {
      // A last line without a newline still counts once the output has ended.
      if (output_fd_ < 0 && !buffer_.empty()) {
        *line = buffer_;
        buffer_.clear();
        return true;
      }
      return false;
    }
  }
}

bool ChildProcess::ReadLineUntil(const std::function<bool(const std::string&)>& match,
                                 std::string* line, std::chrono::milliseconds timeout,
                                 std::vector<std::string>* skipped) {
  Clock::time_point deadline = Clock::now() + timeout;
  std::string candidate;
  while (ReadLine(&candidate, std::chrono::milliseconds(MillisecondsLeft(deadline)))) {
    if (match(candidate)) {
      *line = candidate;
      return true;
    }
    if (skipped != nullptr) skipped->push_back(candidate);
  }
  return false;
}

bool ChildProcess::WriteLine(const std::string& line) {
  if (input_fd_ < 0) return false;
  std::string data = line + "\n";
  // A child that has exited would answer with SIGPIPE, which kills the whole test binary:
  // block it for this write and swallow the one this write raised, leaving the test process's
  // disposition (and so what its other children inherit) alone.
  sigset_t pipe_only, previous;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  sigset_t pending;
  sigpending(&pending);
  bool already_pending = sigismember(&pending, SIGPIPE) == 1;
  pthread_sigmask(SIG_BLOCK, &pipe_only, &previous);
  size_t done = 0;
  bool broken = false;
  while (done < data.size()) {
    ssize_t wrote = write(input_fd_, data.data() + done, data.size() - done);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) {
      broken = wrote < 0 && errno == EPIPE;
      break;
    }
    done += static_cast<size_t>(wrote);
  }
  if (broken && !already_pending) {
    struct timespec no_wait = {0, 0};
    while (sigtimedwait(&pipe_only, nullptr, &no_wait) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return done == data.size();
}

void ChildProcess::CloseStdin() {
  if (input_fd_ >= 0) close(input_fd_);
  input_fd_ = -1;
}

bool ChildProcess::WaitForExit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return true;
  if (!WaitWithDeadline(pid_, &wait_status_, Clock::now() + timeout)) return false;
  pid_ = -1;
  return true;
}

int ChildProcess::Stop(int signal, std::chrono::milliseconds grace) {
  if (pid_ > 0) {
    kill(pid_, signal);
    if (!WaitForExit(grace)) {
      kill(pid_, SIGKILL);
      WaitWithDeadline(pid_, &wait_status_, Clock::time_point::max());
      pid_ = -1;
    }
  }
  CloseStdin();
  if (output_fd_ >= 0) close(output_fd_);
  output_fd_ = -1;
  return wait_status_;
}

TempDir::TempDir(const std::string& prefix, const std::string& parent) {
  const char* tmpdir = getenv("TMPDIR");
  std::string base = !parent.empty()                        ? parent
                     : tmpdir != nullptr && *tmpdir != '\0' ? std::string(tmpdir)
                                                            : std::string("/tmp");
  std::string pattern = base + "/" + prefix + ".XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) != nullptr) path_ = buffer.data();
}

TempDir::~TempDir() {
  if (!path_.empty()) RemoveTree(path_);
}

void RemoveTree(const std::string& path) {
  if (path.empty()) return;
  nftw(
      path.c_str(),
      // Keep going past an entry that cannot be removed: removing the rest is still worth it.
      [](const char* entry, const struct stat*, int, struct FTW*) {
        remove(entry);
        return 0;
      },
      16, FTW_DEPTH | FTW_PHYS);
}

std::vector<std::string> LeftByDeadTests(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> stale;
  DIR* listing = opendir(dir.c_str());
  if (listing == nullptr) return stale;
  while (struct dirent* entry = readdir(listing)) {
    std::string name = entry->d_name;
    if (name.rfind(prefix, 0) != 0) continue;
    long pid = strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) stale.push_back(name);
  }
  closedir(listing);
  return stale;
}

bool WriteFile(const std::string& path, const std::string& text, mode_t mode) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < text.size()) {
    ssize_t wrote = write(fd, text.data() + done, text.size() - done);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) {
      close(fd);
      return false;
    }
    done += static_cast<size_t>(wrote);
  }
  fchmod(fd, mode);
  return close(fd) == 0;
}

std::string ReadFile(const std::string& path) {
  std::string text;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
  char chunk[4096];
  for (;;) {
    ssize_t got = read(fd, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    text.append(chunk, static_cast<size_t>(got));
  }
  close(fd);
  return text;
}

}  // namespace jsn::testing
