// The one process runner for tests: run a command to completion and collect its output
// (RunCommand), or keep one running with its stdout (and stderr) readable line by line or sent to
// files (ChildProcess), and always end it by PID. Also the temporary directories and files tests
// work in. Test support only: it allocates and may block, within bounded waits that fail the test
// rather than hang it.
//
// Ownership: a ChildProcess owns its PID and its pipes; its destructor kills (SIGKILL) and reaps a
// child that is still running. Children also get SIGTERM from the kernel should the test process
// die without running destructors (PR_SET_PDEATHSIG). A TempDir owns its directory tree and
// removes it on destruction; RemoveTree removes what the caller names, owned by no one.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace jsn::testing {

// `environ` with each NAME=VALUE of `overrides` replacing (or adding) NAME.
std::vector<std::string> EnvironmentWith(const std::vector<std::string>& overrides);

struct CommandResult {
  // The raw wait status; exited() / exit_code() read it. -1 when the command could not be run.
  int wait_status = -1;
  // stdout and stderr together, in the order written; stdout only from RunCommandStderrApart.
  std::string output;
  // stderr, from RunCommandStderrApart ("" from RunCommand, whose `output` holds it).
  std::string error_output;
  bool exited() const;
  // The exit code when the command exited, -1 when it was killed by a signal or never ran.
  int exit_code() const;
  bool succeeded() const { return exit_code() == 0; }
  // "exit 3" or "signal 9", for failure messages.
  std::string Describe() const;
};

// Runs argv[0] (looked up in PATH) with `environment` (empty: inherit), stdin from /dev/null,
// and waits for it to exit. A command still running after `timeout` is killed (SIGKILL), reaped,
// and reported as killed.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::vector<std::string>& environment = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(30));
// RunCommand for a test that tells stdout from stderr: `output` holds stdout, `error_output`
// stderr (kept in a file of a TempDir of its own while the command runs).
CommandResult RunCommandStderrApart(const std::vector<std::string>& argv,
                                    const std::vector<std::string>& environment = {},
                                    std::chrono::milliseconds timeout = std::chrono::seconds(30));

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts argv with `environment` (empty: inherit). Its stdout and stderr go to a pipe that
  // ReadLine reads, or to `output_file` (created or appended) when that is not empty; stderr goes
  // to `error_file` instead (created or appended) when that is not empty. With `with_stdin` the
  // child's stdin is a pipe WriteLine feeds; otherwise it is /dev/null.
  // Returns false (and sets *error) when the process could not be started.
  bool Start(const std::vector<std::string>& argv, const std::vector<std::string>& environment,
             std::string* error, const std::string& output_file = "", bool with_stdin = false,
             const std::string& error_file = "");

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

  // The next line of output (without its newline) into *line. False when the deadline passes
  // or the output ended first (the child closed it or exited).
  bool ReadLine(std::string* line, std::chrono::milliseconds timeout);
  // Reads lines until one satisfies `match`, which it stores in *line. Lines read on the way are
  // appended to *skipped when that is not null. False on deadline or end of output.
  bool ReadLineUntil(const std::function<bool(const std::string&)>& match, std::string* line,
                     std::chrono::milliseconds timeout,
                     std::vector<std::string>* skipped = nullptr);
  // Writes `line` plus a newline to the child's stdin. False when that pipe is closed.
  bool WriteLine(const std::string& line);
  // Closes the child's stdin (it sees end of file).
  void CloseStdin();

  // Waits up to `timeout` for the child to exit and reaps it; true when it did.
  bool WaitForExit(std::chrono::milliseconds timeout);
  // The wait status once reaped (see CommandResult::wait_status).
  int wait_status() const { return wait_status_; }
  // Sends `signal`, waits up to `grace` for an exit, then SIGKILLs and reaps. Returns the wait
  // status. A no-op returning the earlier status when the child was already reaped.
  int Stop(int signal, std::chrono::milliseconds grace);

 private:
  bool FillBuffer(std::chrono::steady_clock::time_point deadline);

  pid_t pid_ = -1;
  int output_fd_ = -1;
  int input_fd_ = -1;
  int wait_status_ = -1;
  std::string buffer_;
};

// A fresh directory under `parent` (default $TMPDIR, else /tmp) named PREFIX.XXXXXX, mode 0700,
// removed with all it holds when the TempDir goes away.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "jsn-test", const std::string& parent = "");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // path()/name
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Removes `path` and everything under it (without following symlinks); what cannot be removed
// is left and the rest still goes.
void RemoveTree(const std::string& path);
// The names in `dir` made by a test process that has died without cleaning up: PREFIX then the
// PID of a process that no longer exists (PREFIX + "PID-N..."), for fixtures to sweep. A PID
// reused by another process only postpones the sweep.
std::vector<std::string> LeftByDeadTests(const std::string& dir, const std::string& prefix);
// Writes `text` to `path` (created or truncated), with `mode`; true on success.
bool WriteFile(const std::string& path, const std::string& text, mode_t mode = 0644);
// The whole content of `path`, or "" when it cannot be read.
std::string ReadFile(const std::string& path);

}  // namespace jsn::testing
