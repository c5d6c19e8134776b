#include "jsn/daemon.h"

#include "jsn/log.h"

namespace jsn {

// The bus connection is not in this tree yet (branch `bus`); until it is merged the daemon
// can only say so.
int RunDaemon(const Options& options, char** environment) {
  (void)environment;
  SetDebugLogging(options.debug);
  JSN_LOG_ERROR("cannot watch %zu units on %s: the bus connection is not built into this binary",
                options.watch_count, options.bus_address);
  return 1;
}

}  // namespace jsn
