// Manager: a short-lived, blocking client of org.freedesktop.systemd1.Manager for the charm-side
// commands (subscribe, stop, status, remove), over our own Connection; no systemctl. A reply
// counts only from whom the call may be answered by, which the connection's reply table checks
// (jsn/bus/reply_table.h): the bus for its own methods, systemd's unique name (GetNameOwner at
// Open) or an error from the bus for systemd's; a JobRemoved only from systemd. Anything else
// is forged, and the call waits on for the real one. Each call sends
// one method call and waits, with a deadline, for its reply. Jobs (StartUnit, StopUnit,
// RestartUnit) wait on until systemd's JobRemoved signal for that job says how it ended: the
// match for JobRemoved is in place and Subscribe() has returned before any job is asked for,
// so the signal cannot be missed, and signals that overtake the reply are kept until it comes.
//
// Errors: a D-Bus error reply is rule "dbus-error" with the error's name and text in the
// message ("org.freedesktop.systemd1.NoSuchUnit: Unit x.service not loaded."); error_name()
// keeps the name for the caller to decide on. A job that ends other than "done" is rule
// "job-failed" naming the result. The client owns its connection; every view it returns
// points into its own buffers and lives until the next call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "jsn/base/monotonic_time.h"
#include "jsn/base/status.h"
#include "jsn/bus/connection.h"
#include "jsn/systemd/systemd_names.h"

namespace jsn {

class Manager {
 public:
  // How long one method call may take; Reload can take seconds on a busy machine.
  static constexpr int kCallTimeoutMs = 90 * 1000;
  // How long a job may take: longer than systemd's default TimeoutStartSec (90 s), so that
  // systemd's own verdict (e.g. "timeout") is what we report.
  static constexpr int kJobTimeoutMs = 300 * 1000;

  Manager() = default;
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // Connects to the bus at `address`, adds the JobRemoved match and calls Subscribe().
  Status Open(std::string_view address);

  Status Reload();
  // EnableUnitFiles([unit], runtime=false, force=false) / DisableUnitFiles([unit], false).
  Status EnableUnitFile(std::string_view unit);
  Status DisableUnitFile(std::string_view unit);
  // `method` is StartUnit, StopUnit or RestartUnit; `mode` e.g. "replace". Waits for the job.
  Status RunJob(std::string_view method, std::string_view unit, std::string_view mode);
  // A string property of org.freedesktop.systemd1.Unit (Properties.Get on the unit's object
  // path): "ActiveState" (e.g. "active"), or "Id", the name systemd knows the unit by
  // ("ssh.service" for its alias "sshd.service").
  Status UnitString(std::string_view unit, const char* property, std::string_view* text);
  Status ActiveState(std::string_view unit, std::string_view* state) {
    return UnitString(unit, "ActiveState", state);
  }
  // The service's MainPID (org.freedesktop.systemd1.Service), 0 when it runs no process.
  Status MainPid(std::string_view unit, uint32_t* pid);

  // The unit's NeedDaemonReload: its file (or a drop-in) changed since systemd loaded it. A unit
  // not loaded is loaded by the asking, from the file as it is now: false.
  Status NeedsReload(std::string_view unit, bool* needed);

  // The D-Bus error name of the last "dbus-error", or "".
  std::string_view error_name() const { return {error_name_, error_name_length_}; }

 private:
  // Sends `call` and waits for its reply from `answerer`, which is left in reply_ (a copy: it
  // outlives the receive buffer). JobRemoved signals seen meanwhile are kept in early_jobs_.
  Status CallAndWait(std::span<const uint8_t> call, const char* doing, Answerer answerer);
  Status WaitForJob(std::string_view job_path, std::string_view unit);
  // Receives until `done` says stop or the deadline passes.
  Status ReceiveOne(MonotonicTime deadline, const char* doing, Incoming* incoming);
  void NoteJobRemoved(const Message& signal);
  Status ErrorFromReply(const Message& reply, const char* doing);
  bool FromSystemd(std::string_view sender) const;
  Status GetUnitProperty(std::string_view unit, std::string_view interface, const char* property,
                         char type, Value* value);

  struct JobOutcome {
    char path[128] = {};
    char result[32] = {};
  };
  static constexpr size_t kMaxEarlyJobs = 32;

  Connection bus_;
  uint8_t call_buffer_[4096] = {};
  uint8_t reply_bytes_[8192] = {};
  size_t reply_length_ = 0;
  Message reply_;
  JobOutcome early_jobs_[kMaxEarlyJobs];
  size_t early_job_count_ = 0;
  size_t early_job_next_ = 0;
  char error_name_[256] = {};
  size_t error_name_length_ = 0;
  char text_[256] = {};
};

}  // namespace jsn
