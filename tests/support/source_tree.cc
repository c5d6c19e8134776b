#include "support/source_tree.h"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

namespace jsn::testing {

namespace {

// `path` made absolute against the working directory when it is relative.
std::string Absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof cwd) == nullptr) return path;
  return std::string(cwd) + "/" + path;
}

}  // namespace

std::string SourcePath(const std::string& relative) {
  const char* override_dir = getenv("JSN_SOURCE_DIR");
  std::string root;
  if (override_dir != nullptr && *override_dir != '\0') {
    root = override_dir;
  } else {
    // __FILE__ is tests/support/source_tree.cc as the Makefile compiles it, relative to the
    // repository root where the suites run (or absolute, should a build name it so).
    std::string source = __FILE__;
    const std::string here = "tests/support/source_tree.cc";
    root = source.size() >= here.size() ? source.substr(0, source.size() - here.size()) : "";
  }
  root = Absolute(root);
  if (root.empty()) root = "./";
  if (root.back() != '/') root += '/';
  return root + relative;
}

std::string DaemonPath() {
  const char* daemon = getenv("JSN_DAEMON");
  if (daemon != nullptr && *daemon != '\0') return Absolute(daemon);
  return SourcePath("build/juju-systemd-notices");
}

}  // namespace jsn::testing
