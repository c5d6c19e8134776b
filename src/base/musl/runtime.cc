// The run-time symbols the musl build (`make static-musl`) supplies itself: the few libstdc++
// ones the daemon's header-only use of the standard library still references (it links no
// libstdc++), the allocator, printf's formatting, stdio's output side, and a few libc
// functions smaller than musl's (each says what it leaves out). With -fno-exceptions a "throw"
// can only end the program, as libstdc++ itself does then. Unreferenced definitions are
// dropped by --gc-sections.
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <new>

#include "jsn/base/format.h"
#include "jsn/base/mapped_block.h"

namespace std {
// std::string_view::substr and friends call this on an out-of-range position.
void __throw_out_of_range_fmt(const char*, ...) { abort(); }
}  // namespace std

// malloc and friends: each block its own mapping (include/jsn/base/mapped_block.h says why that
// suits this program). musl lets a static program replace malloc, calloc, realloc and free;
// its own internal allocations (posix_spawn's file actions, atexit's table past 32 entries)
// still go to its allocator, mallocng (about 7 KiB), through the three entry points every musl
// allocator implements (src/malloc/mallocng/glue.h, as oldmalloc does): __libc_malloc_impl,
// __libc_realloc and __libc_free. They are defined here too, so mallocng is not linked and
// there is one allocator. Should a future musl need mallocng anyway, its definitions of the
// same names clash with these and the link fails, rather than two allocators mixing.
// aligned_alloc and malloc_usable_size, which reach into mallocng directly, are defined for
// the same reason, and memalign and posix_memalign along with them. So is __libc_calloc,
// atexit's internal calloc: musl's (about 240 bytes with the lite_malloc it calls) clears
// memory that a fresh mapping already has zero.
extern "C" {
void* malloc(size_t size) { return jsn::MapBlock(size); }
void* calloc(size_t count, size_t size) {
  if (size != 0 && count > SIZE_MAX / size) {
    errno = ENOMEM;
    return nullptr;
  }
  return jsn::MapBlock(count * size);  // a fresh mapping is zero
}
void* realloc(void* block, size_t size) { return jsn::ResizeBlock(block, size); }
void free(void* block) { jsn::UnmapBlock(block); }
void* aligned_alloc(size_t alignment, size_t size) { return jsn::MapBlock(size, alignment); }
void* memalign(size_t alignment, size_t size) { return jsn::MapBlock(size, alignment); }
int posix_memalign(void** block, size_t alignment, size_t size) {
  if (alignment < sizeof(void*)) return EINVAL;
  int saved = errno;
  void* mapped = jsn::MapBlock(size, alignment);
  if (mapped == nullptr) {
    int error = errno;
    errno = saved;  // posix_memalign reports through its result, not errno
    return error;
  }
  *block = mapped;
  return 0;
}
size_t malloc_usable_size(void* block) { return block == nullptr ? 0 : jsn::BlockCapacity(block); }
void* __libc_malloc_impl(size_t size) { return jsn::MapBlock(size); }
void* __libc_realloc(void* block, size_t size) { return jsn::ResizeBlock(block, size); }
void __libc_free(void* block) { jsn::UnmapBlock(block); }
void* __libc_calloc(size_t count, size_t size) { return calloc(count, size); }
}  // extern "C"

// stdio's output side, which is all the program uses: stdout and stderr, fwrite, fputc and
// printf (musl's fputs and fprintf go through fwrite and vfprintf; its printf names musl's
// own stdout), and the flush at exit. musl's FILE machinery (locking, reading, seeking, the list of
// open files: about 2 KiB) is not linked. What reaches the descriptors is what musl's code writes,
// call for call: each write is one writev of the buffered bytes and the new ones (__stdio_write);
// stdout buffers 1024 bytes (BUFSIZ) and, until its first write finds it is no terminal (TIOCGWINSZ
// fails,
// __stdout_write), writes out through each newline (__fwritex, __overflow); stderr buffers
// nothing; exit writes out what stdout still holds (__stdio_exit, which replaces the empty
// one musl's exit calls when its stdio is not linked). Should a musl function that uses the
// real FILE come to be linked, its stdout or stderr clashes with these and the link fails.
// (FILE itself is musl's placeholder type, complete for C++: these streams are OutputFiles.)
struct OutputFile {
  int fd;
  int line_end;           // '\n' to write out through each newline, -1 not to
  bool terminal_checked;  // stderr: nothing to check
  size_t used;
  size_t capacity;
  unsigned char* buffer;
};

namespace {

unsigned char stdout_buffer[BUFSIZ];
OutputFile stdout_file = {1, '\n', false, 0, sizeof stdout_buffer, stdout_buffer};
OutputFile stderr_file = {2, -1, true, 0, 0, nullptr};

// __stdio_write: the buffered bytes, then `length` of `bytes`; how many of those went out.
size_t WriteOut(OutputFile* file, const void* bytes, size_t length) {
  if (!file->terminal_checked) {
    file->terminal_checked = true;
    struct winsize size;
    if (syscall(SYS_ioctl, file->fd, TIOCGWINSZ, &size) != 0) file->line_end = -1;
  }
  struct iovec parts[2] = {{file->buffer, file->used}, {const_cast<void*>(bytes), length}};
  struct iovec* part = parts;
  int count = 2;
  size_t remaining = file->used + length;
  for (;;) {
    ssize_t written = writev(file->fd, part, count);
    if (written < 0) {
      file->used = 0;  // dropped, as musl does
      return count == 2 ? 0 : length - part[0].iov_len;
    }
    size_t done = static_cast<size_t>(written);
    if (done == remaining) {
      file->used = 0;
      return length;
    }
    remaining -= done;
    if (done > part[0].iov_len) {
      done -= part[0].iov_len;
      ++part;
      --count;
    }
    part[0].iov_base = static_cast<char*>(part[0].iov_base) + done;
    part[0].iov_len -= done;
  }
}

}  // namespace

extern OutputFile* const stdout_pointer __asm__("stdout");
extern OutputFile* const stderr_pointer __asm__("stderr");
OutputFile* const stdout_pointer = &stdout_file;
OutputFile* const stderr_pointer = &stderr_file;

extern "C" {

// __fwritex: past the buffer's room all goes out at once; else, when writing out through
// newlines, through the last one, and the rest is buffered.
size_t fwrite(const void* source, size_t size, size_t count, FILE* stream) {
  OutputFile* file = reinterpret_cast<OutputFile*>(stream);
  size_t length = size * count;
  if (size == 0) count = 0;
  const unsigned char* bytes = static_cast<const unsigned char*>(source);
  size_t done = 0;
  if (length > file->capacity - file->used) {
    done = WriteOut(file, bytes, length);
  } else {
    size_t line = 0;
    if (file->line_end >= 0) {
      for (line = length; line > 0 && bytes[line - 1] != '\n'; --line) {
      }
      if (line > 0) {
        done = WriteOut(file, bytes, line);
        if (done < line) return done / size;
      }
    }
    memcpy(file->buffer + file->used, bytes + line, length - line);
    file->used += length - line;
    done = length;
  }
  return done == length ? count : done / size;
}

// putc and __overflow: buffered unless it is the newline written out through, or no room.
int fputc(int c, FILE* stream) {
  OutputFile* file = reinterpret_cast<OutputFile*>(stream);
  unsigned char byte = static_cast<unsigned char>(c);
  if (byte != file->line_end && file->used < file->capacity) {
    file->buffer[file->used++] = byte;
  } else if (WriteOut(file, &byte, 1) != 1) {
    return EOF;
  }
  return byte;
}

void __stdio_exit() {
  if (stdout_file.used > 0) WriteOut(&stdout_file, nullptr, 0);
}
}  // extern "C"

// printf's formatting: every function of musl's printf family formats through vfprintf or
// vsnprintf (printf, fprintf, vprintf and dprintf through the first; snprintf, sprintf and
// vsprintf through the second), so with these two defined its printf core, with the
// floating-point formatting it carries along, is not linked. include/jsn/base/format.h lists what
// is supported; tests/base/format_test.cc checks it against glibc and that the sources use no more.
namespace {

// Collects the pieces into one buffer so that a line reaches an unbuffered stream (stderr) in
// one write, as musl's own vfprintf does; longer text goes out in buffer-sized parts.
struct FileSink : jsn::FormatSink {
  FILE* file;
  size_t used;
  bool failed;
  char buffer[512];
};

void Flush(FileSink* sink) {
  if (sink->used > 0 && fwrite(sink->buffer, 1, sink->used, sink->file) != sink->used) {
    sink->failed = true;
  }
  sink->used = 0;
}

void WriteToFile(jsn::FormatSink* base, const char* bytes, size_t length) {
  FileSink* sink = static_cast<FileSink*>(base);
  while (length > 0) {
    if (sink->used == sizeof sink->buffer) Flush(sink);
    size_t room = sizeof sink->buffer - sink->used;
    size_t part = length < room ? length : room;
    memcpy(sink->buffer + sink->used, bytes, part);
    sink->used += part;
    bytes += part;
    length -= part;
  }
}

}  // namespace

extern "C" {
int vsnprintf(char* buffer, size_t capacity, const char* format, va_list args) {
  size_t length = jsn::FormatV(buffer, capacity, format, args);
  if (length > INT_MAX) {
    errno = EOVERFLOW;
    return -1;
  }
  return static_cast<int>(length);
}
int vfprintf(FILE* file, const char* format, va_list args) {
  FileSink sink;
  sink.write = WriteToFile;
  sink.file = file;
  sink.used = 0;
  sink.failed = false;
  size_t length = jsn::FormatTo(&sink, format, args);
  Flush(&sink);
  if (sink.failed) return -1;  // fwrite has set errno
  if (length > INT_MAX) {
    errno = EOVERFLOW;
    return -1;
  }
  return static_cast<int>(length);
}
int printf(const char* format, ...) {
  va_list args;
  va_start(args, format);
  int length = vfprintf(stdout, format, args);
  va_end(args);
  return length;
}
}  // extern "C"

// clock_gettime as the plain system call. musl's looks the function up in the vDSO first
// (__vdsosym, its ELF symbol-table walk: about 1 KiB); the daemon reads the monotonic clock
// only around waits, where a system call's cost is nothing next to the wait itself.
extern "C" int clock_gettime(clockid_t clock, struct timespec* now) {
  return static_cast<int>(syscall(SYS_clock_gettime, clock, now));
}

// fchmod as the plain system call: musl's retries a descriptor the kernel refused (EBADF),
// such as an O_PATH one, by path through /proc/self/fd; the daemon changes the mode only of
// files it opened for writing (about 300 bytes).
extern "C" int fchmod(int fd, mode_t mode) {
  return static_cast<int>(syscall(SYS_fchmod, fd, mode));
}

// x86_64 only: the stat family as the plain system calls, the kernel's struct stat being
// musl's there byte for byte. musl's fstatat converts from a kernel layout of its own (other
// architectures need that) and, for fstat on an O_PATH descriptor on kernels before 3.6 (the
// daemon opens none), retries through /proc/self/fd: about 600 bytes.
#if defined(__x86_64__)
extern "C" {
int stat(const char* path, struct stat* info) {
  return static_cast<int>(syscall(SYS_stat, path, info));
}
int lstat(const char* path, struct stat* info) {
  return static_cast<int>(syscall(SYS_lstat, path, info));
}
int fstat(int fd, struct stat* info) { return static_cast<int>(syscall(SYS_fstat, fd, info)); }
int fstatat(int directory, const char* path, struct stat* info, int flags) {
  return static_cast<int>(syscall(SYS_newfstatat, directory, path, info, flags));
}
}  // extern "C"
#endif

// The daemon allocates nothing after start-up; should anything call operator new, it gets
// malloc, as with libstdc++ (the build uses -fno-exceptions, so failure aborts).
void* operator new(size_t size) {
  if (void* p = malloc(size)) return p;
  abort();
}
void* operator new[](size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { free(p); }
void operator delete[](void* p) noexcept { free(p); }
void operator delete(void* p, size_t) noexcept { free(p); }
void operator delete[](void* p, size_t) noexcept { free(p); }
