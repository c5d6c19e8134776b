#include "support/private_bus.h"

#include <signal.h>

#include <fstream>
#include <sstream>

#include "support/source_tree.h"

namespace jsn::testing {
namespace {

std::string ConfigTemplatePath() { return SourcePath("tests/support/private-bus.conf"); }

}  // namespace

PrivateBus::PrivateBus() : directory_("jsn-bus") {}

// The TempDir member removes the directory once the daemon is reaped.
PrivateBus::~PrivateBus() { Stop(SIGKILL); }

::testing::AssertionResult PrivateBus::WriteConfig() {
  std::ifstream in(ConfigTemplatePath());
  if (!in) {
    return ::testing::AssertionFailure()
           << "cannot read the bus config template " << ConfigTemplatePath()
           << " (run from the source tree or set JSN_SOURCE_DIR)";
  }
  std::stringstream text;
  text << in.rdbuf();
  std::string config = text.str();
  const std::string placeholder = "@LISTEN_ADDRESS@";
  size_t at = config.find("<listen>" + placeholder);
  if (at == std::string::npos) {
    return ::testing::AssertionFailure() << "no <listen>" << placeholder << " in the template";
  }
  config.replace(at + 8, placeholder.size(), address_);
  std::ofstream out(config_path_);
  out << config;
  out.close();
  if (!out) return ::testing::AssertionFailure() << "cannot write " << config_path_;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult PrivateBus::Start() {
  if (running()) return ::testing::AssertionFailure() << "the bus is already running";
  if (directory_.path().empty()) return ::testing::AssertionFailure() << "mkdtemp failed";
  if (socket_path_.empty()) {
    socket_path_ = directory_.Join("bus");
    // The temp dir name holds only [-0-9A-Za-z_/.]: no address escaping needed.
    address_ = "unix:path=" + socket_path_;
    config_path_ = directory_.Join("bus.conf");
    ::testing::AssertionResult written = WriteConfig();
    if (!written) return written;
  }
  // --print-address writes the address on stdout once the socket listens: our readiness
  // signal. Its complaints (e.g. "Failed to set fd limit" when not privileged enough) go to a
  // log in the directory rather than into every test's output.
  std::string error;
  if (!daemon_.Start({"dbus-daemon", "--config-file=" + config_path_, "--nofork", "--nopidfile",
                      "--print-address=1"},
                     {}, &error, "", /*with_stdin=*/false, log_path())) {
    return ::testing::AssertionFailure() << "cannot start dbus-daemon: " << error;
  }
  std::string printed;
  if (!daemon_.ReadLine(&printed, std::chrono::seconds(10))) {
    CommandResult ending;
    ending.wait_status = daemon_.Stop(SIGKILL, std::chrono::seconds(5));
    return ::testing::AssertionFailure()
           << "dbus-daemon did not print its address (" << ending.Describe()
           << "); its log: " << ReadFile(log_path());
  }
  if (printed.rfind(address_, 0) != 0) {
    daemon_.Stop(SIGKILL, std::chrono::seconds(5));
    return ::testing::AssertionFailure()
           << "dbus-daemon listens at " << printed << ", expected " << address_;
  }
  return ::testing::AssertionSuccess();
}

void PrivateBus::Stop(int signal) { daemon_.Stop(signal, std::chrono::seconds(5)); }

std::vector<std::string> PrivateBus::PeerEnvironment() const {
  return {"DBUS_SESSION_BUS_ADDRESS=" + address_, "DBUS_SYSTEM_BUS_ADDRESS=" + address_,
          "DBUS_STARTER_ADDRESS=" + address_};
}

CommandResult PrivateBus::RunPeer(const std::vector<std::string>& argv,
                                  std::chrono::milliseconds timeout) const {
  return RunCommand(argv, EnvironmentWith(PeerEnvironment()), timeout);
}

}  // namespace jsn::testing
