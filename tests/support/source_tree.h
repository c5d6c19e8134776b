// Test support: the one way tests find files of the source tree (tests/support/ scripts and
// configs, fixtures/, src/ and include/ for the tests that read the sources). The tree is
// $JSN_SOURCE_DIR when that is set (a test binary run from elsewhere), else the working
// directory the suites run in, the repository root, where the Makefile compiles
// tests/support/source_tree.cc from. Returns a new string; owns nothing.
#pragma once

#include <string>

namespace jsn::testing {

// The absolute path of `relative` in the source tree: SourcePath("fixtures/invalid"),
// SourcePath("tests/support/user-systemd"). SourcePath("") is the tree itself, ending in '/'.
std::string SourcePath(const std::string& relative);

}  // namespace jsn::testing
