// Daemon: the daemon's life once the command line is parsed: connect, subscribe, watch,
// decide, deliver, until SIGTERM or SIGINT. Returns the process exit status. The Options and
// the environment must outlive the call (they are main's).
#pragma once

#include "jsn/daemon/options.h"

namespace jsn {

int RunDaemon(const Options& options, char** environment);

}  // namespace jsn
