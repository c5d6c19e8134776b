#include "jsn/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace jsn {

Status ReadSmallFile(const char* path, std::span<char> buffer, size_t* length) {
  *length = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    return Status::Failure(errno == ENOENT ? "file-missing" : "file-unreadable",
                           "expected to read %.150s, found %s", path, strerror(errno));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int error = errno;
    close(fd);
    return Status::Failure("file-unreadable", "expected to read %.150s, found %s", path,
                           strerror(error));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    const char* kind = S_ISFIFO(st.st_mode)   ? "a FIFO"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                       : S_ISDIR(st.st_mode)  ? "a directory"
                                              : "a device";
    return Status::Failure("file-unreadable", "expected %.150s to be a regular file, found %s",
                           path, kind);
  }
  for (;;) {
    if (*length == buffer.size()) {  // full: one byte more says it is larger
      char extra;
      ssize_t more = read(fd, &extra, 1);
      if (more < 0 && errno == EINTR) continue;
      close(fd);
      if (more == 0) return Status();
      return Status::Failure("file-too-large",
                             "expected %.150s to be at most %zu bytes, found more", path,
                             buffer.size());
    }
    ssize_t got = read(fd, buffer.data() + *length, buffer.size() - *length);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      int error = errno;
      close(fd);
      return Status::Failure("file-unreadable", "expected to read %.150s, found %s", path,
                             strerror(error));
    }
    if (got == 0) break;
    *length += static_cast<size_t>(got);
  }
  close(fd);  // read-only: a failed close loses nothing
  return Status();
}

}  // namespace jsn
