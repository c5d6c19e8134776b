#include "jsn/base/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace jsn {
namespace {

Status WriteAll(int fd, std::string_view text, const char* path) {
  while (!text.empty()) {
    ssize_t written = write(fd, text.data(), text.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) {
      return Status::Expected("write-failed", "to write %.150s, found %s", path, strerror(errno));
    }
    text.remove_prefix(static_cast<size_t>(written));
  }
  return Status();
}

constexpr char kTemporaryInfix[] = ".tmp-";
constexpr size_t kTemporaryDigits = 16;

// Creates NAME.tmp-<16 hex digits> (`fixed`: NAME.tmp) exclusively in `directory`; *fd and
// `temporary` receive it. The name comes from getrandom() (the clock and the PID should it fail:
// O_EXCL keeps it safe either way, a name taken is just tried again).
Status CreateTemporary(int directory, const char* name, char* temporary, size_t size, int* fd,
                       bool fixed) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    uint64_t random = 0;
    if (syscall(SYS_getrandom, &random, sizeof random, 0) != sizeof random) {
      timespec now = {};
      clock_gettime(CLOCK_MONOTONIC, &now);
      random = static_cast<uint64_t>(now.tv_nsec) * 0x9e3779b97f4a7c15U ^
               static_cast<uint64_t>(now.tv_sec) ^ static_cast<uint64_t>(getpid()) << 32 ^
               static_cast<uint64_t>(attempt);
    }
    int length = fixed ? snprintf(temporary, size, "%s.tmp", name)
                       : snprintf(temporary, size, "%s%s%016llx", name, kTemporaryInfix,
                                  static_cast<unsigned long long>(random));
    if (length < 0 || static_cast<size_t>(length) >= size) {
      return Status::Expected("open-failed", "a path under %zu bytes, found %.150s", size - 22,
                              name);
    }
    // A killed run's, or anything planted: unlinkat follows nothing.
    if (fixed) unlinkat(directory, temporary, 0);
    *fd = openat(directory, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (*fd >= 0) return Status();
    if (errno != EEXIST) break;
  }
  return Status::Expected("open-failed", "to create a file beside %.150s, found %s", name,
                          strerror(errno));
}

// Whether `entry` is NAME.tmp-<16 lowercase hex digits>, as CreateTemporary names them.
bool IsTemporaryOf(const char* entry, const char* name, size_t name_length) {
  if (strncmp(entry, name, name_length) != 0) return false;
  entry += name_length;
  if (strncmp(entry, kTemporaryInfix, sizeof kTemporaryInfix - 1) != 0) return false;
  entry += sizeof kTemporaryInfix - 1;
  for (size_t i = 0; i < kTemporaryDigits; ++i) {
    if (!((entry[i] >= '0' && entry[i] <= '9') || (entry[i] >= 'a' && entry[i] <= 'f'))) {
      return false;
    }
  }
  return entry[kTemporaryDigits] == '\0';
}

}  // namespace

Status ReadSmallFileAt(int directory, const char* path, std::span<char> buffer, size_t* length) {
  *length = 0;
  int fd = openat(directory, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    return Status::Expected(errno == ENOENT ? "file-missing" : "file-unreadable",
                            "to read %.150s, found %s", path, strerror(errno));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int error = errno;
    close(fd);
    return Status::Expected("file-unreadable", "to read %.150s, found %s", path, strerror(error));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    const char* kind = S_ISFIFO(st.st_mode)   ? "a FIFO"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                       : S_ISDIR(st.st_mode)  ? "a directory"
                                              : "a device";
    return Status::Expected("file-unreadable", "%.150s to be a regular file, found %s", path, kind);
  }
  for (;;) {
    if (*length == buffer.size()) {  // full: one byte more says it is larger
      char extra;
      ssize_t more = read(fd, &extra, 1);
      if (more < 0 && errno == EINTR) continue;
      close(fd);
      if (more == 0) return Status();
      return Status::Expected("file-too-large", "%.150s to be at most %zu bytes, found more", path,
                              buffer.size());
    }
    ssize_t got = read(fd, buffer.data() + *length, buffer.size() - *length);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      int error = errno;
      close(fd);
      return Status::Expected("file-unreadable", "to read %.150s, found %s", path, strerror(error));
    }
    if (got == 0) break;
    *length += static_cast<size_t>(got);
  }
  close(fd);  // read-only: a failed close loses nothing
  return Status();
}

Status WriteFileAtomicallyAt(int directory, const char* path, std::string_view text,
                             bool fixed_temporary) {
  char temporary[4096];
  int fd = -1;
  JSN_RETURN_IF_ERROR(
      CreateTemporary(directory, path, temporary, sizeof temporary, &fd, fixed_temporary));
  // The umask may have narrowed the mode at creation; readers of the unit file need 0644.
  Status status = WriteAll(fd, text, temporary);
  if (status.ok() && fchmod(fd, 0644) != 0) {
    status =
        Status::Expected("write-failed", "to chmod %.150s, found %s", temporary, strerror(errno));
  }
  if (status.ok() && fsync(fd) != 0) {
    status =
        Status::Expected("fsync-failed", "to fsync %.150s, found %s", temporary, strerror(errno));
  }
  if (close(fd) != 0 && status.ok()) {
    status =
        Status::Expected("write-failed", "to close %.150s, found %s", temporary, strerror(errno));
  }
  if (status.ok() && renameat(directory, temporary, directory, path) != 0) {
    status = Status::Expected("rename-failed", "to rename %.150s over %.150s, found %s", temporary,
                              path, strerror(errno));
  }
  if (!status.ok()) {
    unlinkat(directory, temporary, 0);
    return status;
  }
  // The rename is durable only once the directory is.
  if (directory != AT_FDCWD) {
    if (fsync(directory) == 0) return Status();
    return Status::Expected("fsync-failed", "to fsync the directory of %.150s, found %s", path,
                            strerror(errno));
  }
  char* slash = strrchr(temporary, '/');
  if (slash == temporary) {
    slash[1] = '\0';
  } else if (slash != nullptr) {
    *slash = '\0';
  } else {
    snprintf(temporary, sizeof temporary, ".");
  }
  int directory_fd = open(temporary, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (directory_fd < 0 || fsync(directory_fd) != 0) {
    int error = errno;
    if (directory_fd >= 0) close(directory_fd);
    return Status::Expected("fsync-failed", "to fsync directory %.150s, found %s", temporary,
                            strerror(error));
  }
  close(directory_fd);
  return Status();
}

Status RemoveStaleTemporaries(int directory, const char* name, int* removed) {
  *removed = 0;
  // A descriptor of its own (of the same directory, not a path looked up again): listing moves
  // a descriptor's offset, which the caller's keeps.
  int listing = openat(directory, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (listing < 0) {
    return Status::Expected("open-failed", "to list the directory of %.150s, found %s", name,
                            strerror(errno));
  }
  size_t name_length = strlen(name);
  Status status;
  alignas(8) char entries[2048];
  for (;;) {
    long got = syscall(SYS_getdents64, listing, entries, sizeof entries);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      status = Status::Expected("open-failed", "to list the directory of %.150s, found %s", name,
                                strerror(errno));
    }
    if (got <= 0) break;
    // struct linux_dirent64: d_ino (8 bytes), d_off (8), d_reclen (2), d_type (1), d_name.
    for (size_t at = 0; at < static_cast<size_t>(got);) {
      uint16_t record_length = 0;
      memcpy(&record_length, entries + at + 16, sizeof record_length);
      const char* entry = entries + at + 19;
      at += record_length;
      struct stat st;
      if (!IsTemporaryOf(entry, name, name_length) ||
          fstatat(directory, entry, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
        continue;
      }
      if (unlinkat(directory, entry, 0) != 0) {
        status =
            Status::Expected("unlink-failed", "to delete %.150s, found %s", entry, strerror(errno));
        continue;
      }
      ++*removed;
    }
  }
  close(listing);
  return status;
}

}  // namespace jsn
