#include "support/source_tree.h"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

namespace jsn::testing {

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
  if (root.empty() || root[0] != '/') {
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) != nullptr) root = std::string(cwd) + "/" + root;
  }
  if (root.empty()) root = "./";
  if (root.back() != '/') root += '/';
  return root + relative;
}

}  // namespace jsn::testing
