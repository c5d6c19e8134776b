#include "jsn/machine_id.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace jsn {
namespace {

bool IsLowercaseHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

}  // namespace

Status ReadMachineIdFile(const char* path, char (&id)[kMachineIdLength + 1]) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return Status::Failure(errno == ENOENT ? "machine-id-missing" : "machine-id-unreadable",
                           "%s: %s", path, strerror(errno));
  }
  // One byte more than the id and its newline: a longer file is not a machine id.
  char text[kMachineIdLength + 2];
  size_t size = 0;
  int error = 0;
  while (size < sizeof text) {
    ssize_t got = read(fd, text + size, sizeof text - size);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) error = errno;
    if (got <= 0) break;
    size += static_cast<size_t>(got);
  }
  close(fd);  // read-only: a failed close loses nothing
  if (error != 0) {
    return Status::Failure("machine-id-unreadable", "%s: %s", path, strerror(error));
  }
  bool valid = size == kMachineIdLength || (size == kMachineIdLength + 1 && text[size - 1] == '\n');
  for (size_t i = 0; valid && i < kMachineIdLength; ++i) valid = IsLowercaseHex(text[i]);
  if (!valid) {
    return Status::Failure("machine-id-invalid",
                           "%s: expected 32 lowercase hex digits and a "
                           "newline, found something else (%zu bytes)",
                           path, size);
  }
  memcpy(id, text, kMachineIdLength);
  id[kMachineIdLength] = '\0';
  return Status();
}

Status MachineId::Get(std::string_view* id) {
  if (!read_) {
    read_ = true;
    status_ = ReadMachineIdFile(path_, id_);
    if (!status_.ok()) {
      Status fallback = ReadMachineIdFile(fallback_, id_);
      if (fallback.ok()) {
        status_ = fallback;
      } else {
        bool missing = strcmp(status_.rule(), "machine-id-missing") == 0;
        status_ = Status::Failure(missing ? fallback.rule() : status_.rule(),
                                  "no machine id: %s; %s", status_.message(), fallback.message());
      }
    }
  }
  if (status_.ok()) *id = std::string_view(id_, kMachineIdLength);
  return status_;
}

}  // namespace jsn
