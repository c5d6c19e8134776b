#include "jsn/daemon/service_manager_link.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "jsn/base/log.h"
#include "jsn/base/status.h"

namespace jsn {

void ServiceManagerLink::Open(const char* notify_socket, const char* watchdog_usec,
                              const char* watchdog_pid, MonotonicTime now) {
  Status status = notifier_.Open(notify_socket);
  if (!status.ok()) JSN_LOG_WARNING("not notifying systemd: %s", status.message());
  if (!notifier_.enabled()) return;
  watchdog_interval_ = WatchdogPingInterval(watchdog_usec, watchdog_pid, getpid());
  if (watchdog_interval_ != kNever) {
    watchdog_next_ = now;  // ping at once, then every interval
    JSN_LOG_DEBUG("watchdog: pinging every %s s", FormatSeconds(watchdog_interval_, 3).text);
  }
}

void ServiceManagerLink::PingWatchdogIfDue(MonotonicTime now) {
  if (now < watchdog_next_) return;
  Notify("WATCHDOG=1\n");
  JSN_LOG_DEBUG("watchdog: ping");
  watchdog_next_ = now + watchdog_interval_;
}

void ServiceManagerLink::Ready(size_t unit_count, const char* juju_unit) {
  char text[256];
  snprintf(text, sizeof text, "READY=1\nSTATUS=watching %zu unit%s for %s\n", unit_count,
           unit_count == 1 ? "" : "s", juju_unit);
  Notify(text);
}

void ServiceManagerLink::BeginReload(MonotonicTime now) {
  char text[96];
  snprintf(
      text, sizeof text, "RELOADING=1\nSTATUS=re-reading every state\nMONOTONIC_USEC=%lld\n",
      static_cast<long long>(std::chrono::duration_cast<std::chrono::microseconds>(now).count()));
  Notify(text);
  reloading_ = true;
}

void ServiceManagerLink::FinishReload() {
  if (!reloading_) return;
  reloading_ = false;
  Notify("READY=1\nSTATUS=re-read every state; watching\n");
}

void ServiceManagerLink::Stopping() {
  Notify("STOPPING=1\nSTATUS=stopping once running hooks end\n");
}

void ServiceManagerLink::SendStatus(const char* status) {
  char text[128];
  snprintf(text, sizeof text, "STATUS=%s\n", status);
  Notify(text);
}

void ServiceManagerLink::Notify(const char* text) {
  Status status = notifier_.Send(text);
  if (!status.ok()) JSN_LOG_WARNING("%s", status.message());
}

}  // namespace jsn
