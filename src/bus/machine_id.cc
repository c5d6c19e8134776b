#include "jsn/bus/machine_id.h"

#include <cstring>
#include <string_view>

#include "jsn/base/file_io.h"

namespace jsn {
namespace {

bool IsLowercaseHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

}  // namespace

Status ReadMachineIdFile(const char* path, char (&id)[kMachineIdLength + 1]) {
  char text[kMachineIdLength + 1];  // the id and its newline
  size_t size = 0;
  Status status = ReadSmallFile(path, text, &size);
  if (status.rule() == std::string_view("file-missing")) {
    return Status::Failure("machine-id-missing", "%s", status.message());
  }
  if (status.rule() == std::string_view("file-too-large")) {
    return Status::Failure("machine-id-invalid",
                           "%s: expected 32 lowercase hex digits and a newline, found more", path);
  }
  if (!status.ok()) return Status::Failure("machine-id-unreadable", "%s", status.message());
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
