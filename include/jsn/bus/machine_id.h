// MachineId: this machine's D-Bus machine id, the answer to org.freedesktop.DBus.Peer's
// GetMachineId (D-Bus Specification, "Standard Interfaces"): 32 lowercase hex digits, read from
// /etc/machine-id (machine-id(5): "a single newline-terminated, hexadecimal, 32-character,
// lowercase ID") or, when that cannot be read, from /var/lib/dbus/machine-id, where libdbus
// keeps it on machines without systemd.
//
// It is read on the first Get and kept, a failure included: a peer that asks again and again
// costs no system call, and nothing is read by a program that is never asked. The paths belong
// to the caller (string literals by default) and must outlive the MachineId; the id's text
// lives inside it.
#pragma once

#include <cstddef>
#include <string_view>

#include "jsn/base/status.h"

namespace jsn {

constexpr size_t kMachineIdLength = 32;
constexpr const char* kMachineIdPath = "/etc/machine-id";
constexpr const char* kDbusMachineIdPath = "/var/lib/dbus/machine-id";

// Reads one file: 32 lowercase hex digits, then at most a newline. Rules: "machine-id-missing"
// (no such file), "machine-id-unreadable" (another open or read error), "machine-id-invalid"
// (anything else in it, such as systemd's "uninitialized" before the first boot completes).
Status ReadMachineIdFile(const char* path, char (&id)[kMachineIdLength + 1]);

class MachineId {
 public:
  explicit MachineId(const char* path = kMachineIdPath, const char* fallback = kDbusMachineIdPath)
      : path_(path), fallback_(fallback) {}

  // The id (a view into this object), or why there is none: "machine-id-missing" when neither
  // file exists, else the rule of the first file that exists; the message names both files.
  Status Get(std::string_view* id);

 private:
  const char* path_;
  const char* fallback_;
  bool read_ = false;
  Status status_;
  char id_[kMachineIdLength + 1] = {};
};

}  // namespace jsn
