#include "jsn/daemon/options.h"

#include <gtest/gtest.h>

#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace jsn {
namespace {

struct Parsed {
  Status status;
  std::unique_ptr<Options> options = std::make_unique<Options>();
};

Parsed Parse(std::initializer_list<const char*> arguments) {
  std::vector<const char*> argv = {"juju-systemd-notices"};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  Parsed parsed;
  parsed.status = ParseOptions(static_cast<int>(argv.size()), argv.data(), parsed.options.get());
  return parsed;
}

TEST(Options, ParsesTheOriginalExecStartLine) {
  Parsed p = Parse({"--unit", "slurmd/0", "-d", "slurmd=slurmd", "snap.slurm.slurmd=snapd"});
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  EXPECT_EQ(p.options->action, Options::Action::kRun);
  EXPECT_STREQ(p.options->juju_unit, "slurmd/0");
  EXPECT_TRUE(p.options->debug);
  ASSERT_EQ(p.options->watch_count, 2u);
  EXPECT_STREQ(p.options->watches[0].unit, "slurmd.service");
  EXPECT_STREQ(p.options->watches[0].alias, "slurmd");
  EXPECT_STREQ(p.options->watches[1].unit, "snap.slurm.slurmd.service");
  EXPECT_STREQ(p.options->watches[1].alias, "snapd");
  EXPECT_EQ(p.options->juju_exec, nullptr);  // resolved later, at start
  EXPECT_EQ(p.options->bus_address, nullptr);
}

TEST(Options, NameWithAUnitTypeIsKept) {
  Parsed p = Parse({"--unit=app/12", "foo.socket=s", "bar.timer=t", "baz.service=b", "x.mount=m",
                    "foo@bar.service=i"});
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  EXPECT_STREQ(p.options->watches[0].unit, "foo.socket");
  EXPECT_STREQ(p.options->watches[1].unit, "bar.timer");
  EXPECT_STREQ(p.options->watches[2].unit, "baz.service");
  EXPECT_STREQ(p.options->watches[3].unit, "x.mount");
  EXPECT_STREQ(p.options->watches[4].unit, "foo@bar.service");
}

TEST(Options, NameAloneIsItsOwnAliasWithoutDotService) {
  Parsed p = Parse({"--unit", "app/0", "snap.slurm.slurmd", "munge.service", "a.timer"});
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  EXPECT_STREQ(p.options->watches[0].unit, "snap.slurm.slurmd.service");
  EXPECT_STREQ(p.options->watches[0].alias, "snap.slurm.slurmd");
  EXPECT_STREQ(p.options->watches[1].unit, "munge.service");
  EXPECT_STREQ(p.options->watches[1].alias, "munge");
  EXPECT_STREQ(p.options->watches[2].unit, "a.timer");
  EXPECT_STREQ(p.options->watches[2].alias, "a.timer");
}

TEST(Options, OptionsMayFollowNamesAndDoubleDashEndsThem) {
  Parsed p = Parse({"a=x", "--debug", "--unit", "app/1", "--bus", "unix:path=/tmp/b",
                    "--juju-exec=/bin/true", "--", "b"});
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  EXPECT_TRUE(p.options->debug);
  EXPECT_STREQ(p.options->bus_address, "unix:path=/tmp/b");
  EXPECT_STREQ(p.options->juju_exec, "/bin/true");
  EXPECT_EQ(p.options->watch_count, 2u);
}

TEST(Options, HelpAndVersionWinOverEverythingElse) {
  EXPECT_EQ(Parse({"--bogus", "--help"}).options->action, Options::Action::kRun);
  EXPECT_EQ(Parse({"--help", "--bogus"}).options->action, Options::Action::kHelp);
  EXPECT_EQ(Parse({"-h"}).options->action, Options::Action::kHelp);
  Parsed v = Parse({"--version"});
  EXPECT_TRUE(v.status.ok());
  EXPECT_EQ(v.options->action, Options::Action::kVersion);
}

Parsed Parse(const std::vector<const char*>& arguments) {
  std::vector<const char*> argv = {"juju-systemd-notices"};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  Parsed parsed;
  parsed.status = ParseOptions(static_cast<int>(argv.size()), argv.data(), parsed.options.get());
  return parsed;
}

struct BadCase {
  std::vector<const char*> arguments;
  const char* rule;
  const char* in_message;
};

TEST(Options, BadCommandLinesSayWhatWasExpectedAndWhatWasFound) {
  std::vector<BadCase> cases = {
      {{"slurmd"}, "missing-unit", "expected --unit UNIT"},
      {{"--unit", "app/0"}, "no-units", "at least one NAME"},
      {{"--unit"}, "missing-value", "expected a value after --unit"},
      {{"--unit", "App/0", "a"}, "invalid-juju-unit", "found 'App/0'"},
      {{"--unit", "app", "a"}, "invalid-juju-unit", "such as app/0"},
      {{"--unit", "app/01", "a"}, "invalid-juju-unit", "found 'app/01'"},
      {{"--unit", "app-1/0", "a"}, "invalid-juju-unit", "app-1/0"},
      {{"--unit", "app/0", "--frobnicate"}, "unknown-option", "found '--frobnicate'"},
      {{"--unit", "app/0", "bad name"}, "invalid-unit-name", "found 'bad name.service'"},
      {{"--unit", "app/0", "=x"}, "invalid-unit-name", "found '=x'"},
      {{"--unit", "app/0", "@x.service"}, "invalid-unit-name", "@x.service"},
      {{"--unit", "app/0", "tmpl@.service"}, "invalid-unit-name", "tmpl@.service"},
      {{"--unit", "app/0", "a=b/c"}, "invalid-alias", "found 'b/c'"},
      {{"--unit", "app/0", "a="}, "invalid-alias", "found ''"},
      {{"--unit", "app/0", "a=-x"}, "invalid-alias", "found '-x'"},
      {{"--unit", "app/0", "a=x", "a.service=y"}, "duplicate-unit", "a.service twice"},
      {{"--unit", "app/0", "a=x", "b=x"}, "duplicate-alias", "'x' for a.service and b.service"},
      {{"--unit", "app/0", "--juju-exec", "juju-exec", "a"}, "invalid-juju-exec", "absolute"},
      {{"--unit", "app/0", "--bus=", "a"}, "invalid-bus", "found ''"},
  };
  for (const BadCase& c : cases) {
    Parsed p = Parse(c.arguments);
    EXPECT_STREQ(p.status.rule(), c.rule) << p.status.message();
    EXPECT_NE(strstr(p.status.message(), c.in_message), nullptr)
        << "message: " << p.status.message() << "\nexpected to contain: " << c.in_message;
  }
}

TEST(Options, TooLongNamesAndAliasesAreRejected) {
  std::string name(kMaxUnitNameLength - 7, 'a');  // with ".service" one byte too long
  Parsed p = Parse({"--unit", "app/0", name.c_str()});
  EXPECT_STREQ(p.status.rule(), "invalid-unit-name");
  name.pop_back();
  p = Parse({"--unit", "app/0", (name + "=a").c_str()});
  EXPECT_TRUE(p.status.ok()) << p.status.message();
  std::string alias = "a=" + std::string(kMaxAliasLength + 1, 'b');
  EXPECT_STREQ(Parse({"--unit", "app/0", alias.c_str()}).status.rule(), "invalid-alias");
  alias.pop_back();
  EXPECT_TRUE(Parse({"--unit", "app/0", alias.c_str()}).status.ok());
}

TEST(Options, AtMostTheStatedNumberOfUnits) {
  std::vector<std::string> names;
  for (size_t i = 0; i <= kMaxWatchedUnits; ++i) names.push_back("u" + std::to_string(i));
  std::vector<const char*> argv = {"juju-systemd-notices", "--unit", "app/0"};
  for (size_t i = 0; i < kMaxWatchedUnits; ++i) argv.push_back(names[i].c_str());
  auto options = std::make_unique<Options>();
  EXPECT_TRUE(ParseOptions(static_cast<int>(argv.size()), argv.data(), options.get()).ok());
  argv.push_back(names[kMaxWatchedUnits].c_str());
  EXPECT_STREQ(ParseOptions(static_cast<int>(argv.size()), argv.data(), options.get()).rule(),
               "too-many-units");
  EXPECT_NE(strstr(UsageText(), ("at most " + std::to_string(kMaxWatchedUnits) + " units").c_str()),
            nullptr);
}

TEST(Options, UnitNameValidityFollowsSystemd) {
  for (const char* valid :
       {"a.service", "a-b_c.service", "0lead.service", "foo@bar.service", "foo@a@b.service",
        "x\\x2dy.mount", "a:b.socket", "-.mount", "a.b.c.slice"}) {
    EXPECT_TRUE(IsValidUnitName(valid)) << valid;
  }
  for (const char* invalid : {"", "a", ".service", "a.bogus", "a b.service", "@a.service",
                              "a@.service", "a/b.service", "a.service/"}) {
    EXPECT_FALSE(IsValidUnitName(invalid)) << invalid;
  }
}

TEST(Options, JujuUnitNamesFollowJuju) {
  for (const char* valid : {"a/0", "slurmd/12", "my-app/3", "a1-b2c/0", "x-1a/9"}) {
    EXPECT_TRUE(IsValidJujuUnitName(valid)) << valid;
  }
  for (const char* invalid : {"", "/0", "a/", "a", "A/0", "1a/0", "a-/0", "a--b/0", "a-1/0", "a/00",
                              "a/1x", "a_b/0", "a/0/1", "a/1234567890"}) {
    EXPECT_FALSE(IsValidJujuUnitName(invalid)) << invalid;
  }
}

TEST(Options, UnitTypeSuffixes) {
  for (const char* with : {"a.service", "a.socket", "a.device", "a.mount", "a.automount", "a.swap",
                           "a.target", "a.path", "a.timer", "a.slice", "a.scope"}) {
    EXPECT_TRUE(HasUnitTypeSuffix(with)) << with;
  }
  for (const char* without : {"snap.slurm.slurmd", "a", ".service", "a.services", "a.Service"}) {
    EXPECT_FALSE(HasUnitTypeSuffix(without)) << without;
  }
}

const char* executable_path = nullptr;
bool OnlyThisIsExecutable(const char* path) {
  return executable_path != nullptr && strcmp(path, executable_path) == 0;
}

TEST(Options, JujuExecFallsBackToJujuRunOnlyWhenJujuExecIsAbsent) {
  Options options;
  executable_path = "/usr/bin/juju-exec";
  ResolveDefaults(&options, nullptr, OnlyThisIsExecutable);
  EXPECT_STREQ(options.juju_exec, "/usr/bin/juju-exec");

  options = Options();
  executable_path = "/usr/bin/juju-run";
  ResolveDefaults(&options, nullptr, OnlyThisIsExecutable);
  EXPECT_STREQ(options.juju_exec, "/usr/bin/juju-run");

  options = Options();
  executable_path = nullptr;  // neither: keep juju-exec, so its absence is what gets reported
  ResolveDefaults(&options, nullptr, OnlyThisIsExecutable);
  EXPECT_STREQ(options.juju_exec, "/usr/bin/juju-exec");

  options = Options();
  options.juju_exec = "/opt/given";
  executable_path = "/usr/bin/juju-run";
  ResolveDefaults(&options, nullptr, OnlyThisIsExecutable);
  EXPECT_STREQ(options.juju_exec, "/opt/given");
}

TEST(Options, BusDefaultsToTheEnvironmentThenTheSystemBus) {
  Options options;
  ResolveDefaults(&options, "unix:path=/x", OnlyThisIsExecutable);
  EXPECT_STREQ(options.bus_address, "unix:path=/x");
  options = Options();
  ResolveDefaults(&options, "", OnlyThisIsExecutable);
  EXPECT_STREQ(options.bus_address, "unix:path=/run/dbus/system_bus_socket");
  options = Options();
  options.bus_address = "unix:path=/given";
  ResolveDefaults(&options, "unix:path=/x", OnlyThisIsExecutable);
  EXPECT_STREQ(options.bus_address, "unix:path=/given");
}

}  // namespace
}  // namespace jsn

namespace jsn {
namespace {

TEST(OptionsDurability, StateDirAndHookTimeoutAreParsedAndDefaulted) {
  Parsed p = Parse({"--unit", "app/0", "--state-dir", "/tmp/s", "--hook-timeout=30", "foo"});
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  EXPECT_STREQ(p.options->state_dir, "/tmp/s");
  EXPECT_EQ(p.options->hook_timeout_seconds, 30u);
  Parsed d = Parse({"--unit", "app/0", "foo"});
  ASSERT_TRUE(d.status.ok());
  EXPECT_EQ(d.options->hook_timeout_seconds, 600u);
  ResolveDefaults(d.options.get(), nullptr, [](const char*) { return true; });
  EXPECT_STREQ(d.options->state_dir, "/var/lib/juju-systemd-notices/");
}

TEST(OptionsDurability, BadStateDirOrHookTimeoutSaysWhatWasFound) {
  Parsed relative = Parse({"--unit", "app/0", "--state-dir", "state", "foo"});
  EXPECT_STREQ(relative.status.rule(), "invalid-state-dir");
  EXPECT_NE(std::string(relative.status.message()).find("found 'state'"), std::string::npos);
  // 2^64 + 5 would be 5 to a parser that wrapped around.
  for (const char* bad :
       {"0", "-1", "10s", "", "604801", " 5", "+5", "5 ", "18446744073709551621"}) {
    Parsed p = Parse({"--unit", "app/0", "--hook-timeout", bad, "foo"});
    EXPECT_STREQ(p.status.rule(), "invalid-hook-timeout") << bad;
  }
}

TEST(OptionsCharmDir, CharmDirIsAnAbsolutePathAndOptional) {
  Parsed p =
      Parse({"--unit", "app/0", "--charm-dir", "/var/lib/juju/agents/unit-app-0/charm", "foo"});
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  EXPECT_STREQ(p.options->charm_dir, "/var/lib/juju/agents/unit-app-0/charm");
  Parsed none = Parse({"--unit", "app/0", "foo"});
  ASSERT_TRUE(none.status.ok());
  EXPECT_EQ(none.options->charm_dir, nullptr);  // the original's command line: never exits
  Parsed relative = Parse({"--unit", "app/0", "--charm-dir", "charm", "foo"});
  EXPECT_STREQ(relative.status.rule(), "invalid-charm-dir");
  EXPECT_NE(std::string(relative.status.message()).find("found 'charm'"), std::string::npos);
}

}  // namespace
}  // namespace jsn
