// The juju-systemd-notices command line: parses argv, answers --help and --version, rejects a
// bad command line with exit 2 before anything connects, and hands over to the daemon.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "jsn/cli/cli.h"
#include "jsn/daemon/daemon.h"
#include "jsn/daemon/options.h"

extern char** environ;

namespace {

constexpr int kExitUsage = 2;

bool IsExecutable(const char* path) { return access(path, X_OK) == 0; }

// The first line of the usage text, for a bad command line.
void PrintUsageLine(FILE* out) {
  const char* usage = jsn::UsageText();
  const char* newline = strchr(usage, '\n');
  fprintf(out, "%.*s\n", static_cast<int>(newline - usage), usage);
}

}  // namespace

int main(int argc, char** argv) {
  // The charm-side subcommands; anything else is the daemon's command line.
  if (argc > 1 && strcmp(argv[1], "subscribe") == 0) return jsn::RunSubscribe(argc - 1, argv + 1);
  if (argc > 1 && strcmp(argv[1], "stop") == 0) return jsn::RunStop(argc - 1, argv + 1);
  if (argc > 1 && strcmp(argv[1], "status") == 0) return jsn::RunStatus(argc - 1, argv + 1);
  if (argc > 1 && strcmp(argv[1], "remove") == 0) return jsn::RunRemove(argc - 1, argv + 1);
  static jsn::Options options;  // fixed-size and large: not on the stack
  jsn::Status status = jsn::ParseOptions(argc, argv, &options);
  if (!status.ok()) {
    fprintf(stderr, "juju-systemd-notices: %s\n", status.message());
    PrintUsageLine(stderr);
    fputs("Try 'juju-systemd-notices --help' for more.\n", stderr);
    return kExitUsage;
  }
  if (options.action == jsn::Options::Action::kHelp) {
    fputs(jsn::UsageText(), stdout);
    return 0;
  }
  if (options.action == jsn::Options::Action::kVersion) {
    fputs(jsn::VersionText(), stdout);
    return 0;
  }
  jsn::ResolveDefaults(&options, getenv("DBUS_SYSTEM_BUS_ADDRESS"), IsExecutable);
  return jsn::RunDaemon(options, environ);
}
