// The juju-systemd-notices command line: parses argv and hands over to the daemon.
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--version") == 0) {
      puts("juju-systemd-notices 0.1.0");
      return 0;
    }
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      puts("usage: juju-systemd-notices --unit UNIT [-d|--debug] NAME=ALIAS ...");
      return 0;
    }
  }
  fputs("juju-systemd-notices: the daemon is not built yet; see --help\n", stderr);
  return 2;
}
