// A juju-exec stand-in for the daemon benchmarks (tools/bench-daemon), built static so that
// nothing but the exec itself lies between the daemon's spawn and the first thing it does:
// read CLOCK_MONOTONIC. Appends one line per call to $JSN_BENCH_HOOK_LOG, with one write:
//   begin PID START_NS ARG1 ARG2        (tab-separated; ARGs as the daemon passed them)
//   end   PID END_NS                    when it exits
// If the file named by $JSN_BENCH_HOOK_SLEEP_FILE exists, it holds a number of milliseconds
// to sleep between the two lines (a slow hook, read afresh at every call).
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

int64_t MonotonicNanoseconds() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1000000000 + now.tv_nsec;
}

void Append(const char* path, const char* line, int length) {
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) _exit(3);
  if (write(fd, line, static_cast<size_t>(length)) != length) _exit(3);
  close(fd);
}

long SleepMilliseconds() {
  const char* path = getenv("JSN_BENCH_HOOK_SLEEP_FILE");
  if (path == nullptr) return 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char text[32] = {};
  ssize_t got = read(fd, text, sizeof text - 1);
  close(fd);
  return got > 0 ? strtol(text, nullptr, 10) : 0;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t start = MonotonicNanoseconds();
  const char* log = getenv("JSN_BENCH_HOOK_LOG");
  if (log == nullptr) {
    fputs("juju_exec_stamp: JSN_BENCH_HOOK_LOG is not set\n", stderr);
    return 2;
  }
  char line[512];
  int length = snprintf(line, sizeof line, "begin\t%d\t%lld\t%s\t%s\n", static_cast<int>(getpid()),
                        static_cast<long long>(start), argc > 1 ? argv[1] : "",
                        argc > 2 ? argv[2] : "");
  if (length < 0 || length >= static_cast<int>(sizeof line)) return 3;
  Append(log, line, length);
  if (long ms = SleepMilliseconds(); ms > 0) {
    timespec pause = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&pause, &pause) != 0) {
    }
  }
  length = snprintf(line, sizeof line, "end\t%d\t%lld\n", static_cast<int>(getpid()),
                    static_cast<long long>(MonotonicNanoseconds()));
  Append(log, line, length);
  return 0;
}
