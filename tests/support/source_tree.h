// Test support: the one way tests find files of the source tree (tests/support/ scripts and
// configs, fixtures/, src/ and include/ for the tests that read the sources). The tree is
// $JSN_SOURCE_DIR when that is set (a test binary run from elsewhere), else the working
// directory the suites run in, the repository root, where the Makefile compiles
// tests/support/source_tree.cc from. Also the one place that says which daemon binary the
// tests run: DaemonPath. Returns new strings; owns nothing.
#pragma once

#include <string>

namespace jsn::testing {

// The absolute path of `relative` in the source tree: SourcePath("fixtures/invalid"),
// SourcePath("tests/support/user-systemd"). SourcePath("") is the tree itself, ending in '/'.
std::string SourcePath(const std::string& relative);

// The daemon binary every test runs (as a daemon, as a subcommand, or copied into a charm):
// $JSN_DAEMON when that is set (another build, e.g. the static musl one; a relative path is
// taken from the working directory), else the tree's build/juju-systemd-notices. Always
// absolute, so a test can also hand it to systemd as ExecStart. A program that must run it
// (qemu-user for another architecture's build) is DaemonUnderTest::Launcher's business.
std::string DaemonPath();

}  // namespace jsn::testing
