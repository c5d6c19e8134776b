// The notices unit file: ExecStart= quoting by systemd's rules, read back by UnquoteExecLine
// and by the daemon's own option parser, and the whole text against golden files
// (fixtures/unit-files/, regenerate by hand when the unit is meant to change).
#include "jsn/cli/unit_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "support/child_process.h"
#include "support/source_tree.h"

namespace jsn {
namespace {

std::string Quote(std::string_view argument) {
  char buffer[1024];
  TextBuilder out(buffer);
  QuoteExecArgument(argument, &out);
  EXPECT_TRUE(out.Finish("test").ok());
  return std::string(out.text());
}

std::vector<std::string> Unquote(std::string_view line) {
  char buffer[1024];
  const char* words[16];
  size_t count = 0;
  Status status = UnquoteExecLine(line, buffer, words, &count);
  EXPECT_TRUE(status.ok()) << status.message();
  return std::vector<std::string>(words, words + count);
}

std::string ReadGolden(const std::string& name) {
  std::ifstream in(testing::SourcePath("fixtures/unit-files/" + name));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

WatchedUnit Watch(const char* unit, const char* alias) {
  WatchedUnit watch;
  snprintf(watch.unit, sizeof watch.unit, "%s", unit);
  snprintf(watch.alias, sizeof watch.alias, "%s", alias);
  return watch;
}

TEST(QuoteExecArgument, LeavesPlainWordsAsTheyAre) {
  EXPECT_EQ(Quote("/usr/bin/juju-systemd-notices"), "/usr/bin/juju-systemd-notices");
  EXPECT_EQ(Quote("foo@bar.service=foo:bar"), "foo@bar.service=foo:bar");
  EXPECT_EQ(Quote("app/0"), "app/0");
}

TEST(QuoteExecArgument, QuotesSpacesQuotesBackslashesAndControlBytes) {
  EXPECT_EQ(Quote("/opt/my charm/bin"), "\"/opt/my charm/bin\"");
  EXPECT_EQ(Quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(Quote("tab\there"), "\"tab\\x09here\"");
  EXPECT_EQ(Quote(""), "\"\"");
  EXPECT_EQ(Quote("it's;"), "\"it's;\"");
}

TEST(QuoteExecArgument, DoublesPercentAndDollarWhichSystemdExpandsEvenInQuotes) {
  EXPECT_EQ(Quote("100%"), "\"100%%\"");
  EXPECT_EQ(Quote("$HOME"), "\"$$HOME\"");
}

TEST(UnquoteExecLine, ReadsBackEveryQuotedArgument) {
  const std::vector<std::string> arguments = {"/x y/bin", "a\"b\\c", "100%", "$HOME",
                                              "t\tn\n",   "plain",   ""};
  std::string line;
  for (const std::string& argument : arguments) line += Quote(argument) + " ";
  EXPECT_EQ(Unquote(line), arguments);
}

TEST(UnquoteExecLine, RejectsAnUnterminatedQuote) {
  char buffer[64];
  const char* words[4];
  size_t count = 0;
  EXPECT_STREQ(UnquoteExecLine("\"abc", buffer, words, &count).rule(), "unterminated-quote");
  EXPECT_STREQ(UnquoteExecLine("a\\q", buffer, words, &count).rule(), "bad-escape");
}

// What systemd itself makes of our ExecStart= line: systemd-analyze verify parses the unit
// with systemd's own code and rejects what it cannot read.
TEST(QuoteExecArgument, SystemdReadsTheQuotedLineAsOneWordEach) {
  jsn::testing::TempDir directory;
  std::string unit = directory.Join("q.service");
  std::string line = "/bin/true " + Quote("a b") + " " + Quote("c\"d") + " " + Quote("50%");
  ASSERT_TRUE(jsn::testing::WriteFile(unit, "[Service]\nType=oneshot\nExecStart=" + line + "\n"));
  jsn::testing::CommandResult result =
      jsn::testing::RunCommand({"systemd-analyze", "verify", "--man=no", unit});
  EXPECT_TRUE(result.succeeded()) << result.output;
  EXPECT_EQ(result.output.find("q.service:"), std::string::npos) << result.output;
}

TEST(NoticesUnitName, ReplacesTheSlashAsTheOriginalDoes) {
  char buffer[300];
  std::string_view name;
  ASSERT_TRUE(NoticesUnitName("slurmd/12", buffer, &name).ok());
  EXPECT_EQ(name, "juju-slurmd-12-systemd-notices.service");
}

TEST(RenderUnitFile, SystemUnitMatchesTheGoldenFile) {
  WatchedUnit watches[] = {Watch("slurmd.service", "slurmd"),
                           Watch("snap.slurm.slurmctld.service", "slurmctld")};
  UnitFileSpec spec;
  spec.executable = "/var/lib/juju/agents/unit-slurmd-0/charm/bin/juju-systemd-notices";
  spec.juju_unit = "slurmd/0";
  spec.charm_dir = "/var/lib/juju/agents/unit-slurmd-0/charm";
  spec.version = "0.1.0";
  spec.sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  spec.watches = watches;
  char buffer[8192];
  std::string_view text;
  ASSERT_TRUE(RenderUnitFile(spec, buffer, &text).ok());
  EXPECT_EQ(std::string(text), ReadGolden("system.service"));
}

TEST(RenderUnitFile, UserUnitWithEveryOptionMatchesTheGoldenFile) {
  WatchedUnit watches[] = {Watch("foo@bar.service", "foo-bar")};
  UnitFileSpec spec;
  spec.executable = "/opt/my charm/juju-systemd-notices";
  spec.juju_unit = "app/3";
  spec.charm_dir = "/opt/my charm/100%";
  spec.watches = watches;
  spec.juju_exec = "/usr/local/bin/juju-exec";
  spec.bus_address = "unix:path=/run/user/1000/bus";
  spec.debug = true;
  spec.user = true;
  spec.notify = false;
  char buffer[8192];
  std::string_view text;
  ASSERT_TRUE(RenderUnitFile(spec, buffer, &text).ok());
  EXPECT_EQ(std::string(text), ReadGolden("user.service"));
}

TEST(RenderUnitFile, TheDaemonParsesTheExecStartLineBackToTheSameWatches) {
  WatchedUnit watches[] = {Watch("a-b_c.service", "abc"), Watch("0lead.socket", "lead")};
  UnitFileSpec spec;
  spec.executable = "/bin/jsn";
  spec.juju_unit = "app/0";
  spec.charm_dir = "/charm";
  spec.watches = watches;
  char buffer[8192];
  std::string_view text;
  ASSERT_TRUE(RenderUnitFile(spec, buffer, &text).ok());
  size_t start = text.find("\nExecStart=") + strlen("\nExecStart=");
  std::string line(text.substr(start, text.find('\n', start) - start));
  std::vector<std::string> words = Unquote(line);
  std::vector<const char*> argv;
  for (const std::string& word : words) argv.push_back(word.c_str());
  static Options options;
  ASSERT_TRUE(ParseOptions(static_cast<int>(argv.size()), argv.data(), &options).ok());
  ASSERT_EQ(options.watch_count, 2u);
  EXPECT_STREQ(options.juju_unit, "app/0");
  EXPECT_STREQ(options.watches[0].unit, "a-b_c.service");
  EXPECT_STREQ(options.watches[1].alias, "lead");
}

TEST(CheckUnitFileValue, RefusesWhatSystemdWouldNotReadBackAsWritten) {
  struct Case {
    std::string value;
    bool ends_line;
    const char* why;
  };
  const Case refused[] = {
      {"/a\nExecStartPre=/bin/touch /pwned", false, "control characters"},
      {"/a\tb", false, "control characters"},
      {std::string("/a\x7f", 3), false, "control characters"},
      {"/caf\xe9", false, "valid UTF-8"},
      {"/a\xc3", false, "valid UTF-8"},
      {"/charm\\", true, "trailing backslash"},
      {"/charm ", true, "surrounding spaces"},
      {" /charm", true, "surrounding spaces"},
  };
  for (const Case& c : refused) {
    Status status = CheckUnitFileValue("the charm directory", c.value, c.ends_line);
    EXPECT_STREQ(status.rule(), "unsafe-unit-file-value") << c.value;
    EXPECT_NE(std::string(status.message()).find(c.why), std::string::npos) << status.message();
    EXPECT_EQ(std::string(status.message()).find('\n'), std::string::npos) << "shown raw";
  }
  // systemd refuses a quote or a backslash in the name of the program it runs, quoted or not.
  for (const char* unsafe : {"/it's/bin", "/quote\"d/bin", "/back\\slash/bin"}) {
    Status status = CheckUnitFileValue("the binary's path", unsafe, true, true);
    EXPECT_NE(std::string(status.message()).find("no quote or backslash"), std::string::npos)
        << unsafe << ": " << status.message();
    EXPECT_TRUE(CheckUnitFileValue("the charm directory", unsafe, true).ok()) << unsafe;
  }
  // Quoting takes care of these inside ExecStart=, and a line never ends with them there.
  EXPECT_TRUE(CheckUnitFileValue("--state-dir", "/state dir\\", false).ok());
  for (const char* fine :
       {"/opt/my charm", "/a$HOME/100%", "/a\\b", "/it's \"x\"", "/caf\xc3\xa9"}) {
    EXPECT_TRUE(CheckUnitFileValue("the charm directory", fine, true).ok()) << fine;
  }
}

// systemd's unichar_is_valid() (src/basic/utf8.c) refuses the noncharacters on top of
// malformed UTF-8: systemd-analyze verify says "String is not UTF-8 clean, ignoring assignment".
TEST(CheckUnitFileValue, RefusesUnicodeNoncharactersAsSystemdDoesAndTheirNeighbours) {
  for (const char* noncharacter : {
           "\xef\xb7\x90",      // U+FDD0, the first of the block
           "\xef\xb7\xaf",      // U+FDEF, the last
           "\xef\xbf\xbe",      // U+FFFE
           "\xef\xbf\xbf",      // U+FFFF
           "\xf0\x9f\xbf\xbe",  // U+1FFFE
           "\xf3\xbf\xbf\xbf",  // U+FFFFF
           "\xf4\x8f\xbf\xbe",  // U+10FFFE
           "\xf4\x8f\xbf\xbf",  // U+10FFFF, the last code point
       }) {
    std::string value = std::string("/charm-") + noncharacter + "-dir";
    Status status = CheckUnitFileValue("the charm directory", value, true);
    EXPECT_STREQ(status.rule(), "unsafe-unit-file-value") << value;
    EXPECT_NE(std::string(status.message()).find("valid UTF-8, no noncharacter"), std::string::npos)
        << status.message();
  }
  for (const char* neighbour : {
           "\xef\xb7\x8f",      // U+FDCF
           "\xef\xb7\xb0",      // U+FDF0
           "\xef\xbf\xbd",      // U+FFFD, the replacement character
           "\xf0\x9f\xbf\xbd",  // U+1FFFD
           "\xf0\x90\x80\x80",  // U+10000
           "\xf4\x8f\xbf\xbd",  // U+10FFFD
           "\xe7\xbf\xbf",      // U+7FFF: the most a partly decoded code point reaches
           "\xdf\xbf",          // U+07FF
       }) {
    std::string value = std::string("/charm-") + neighbour + "-dir";
    EXPECT_TRUE(CheckUnitFileValue("the charm directory", value, true).ok()) << value;
  }
}

TEST(RenderUnitFile, RefusesAnUnsafeValueAndLeavesDollarsInPathsAlone) {
  WatchedUnit watches[] = {Watch("a.service", "a")};
  UnitFileSpec spec;
  spec.executable = "/bin/jsn";
  spec.juju_unit = "app/0";
  spec.charm_dir = "/charm\nExecStartPre=/bin/sh";
  spec.watches = watches;
  char buffer[8192];
  std::string_view text;
  EXPECT_STREQ(RenderUnitFile(spec, buffer, &text).rule(), "unsafe-unit-file-value");
  spec.charm_dir = "/charm/$HOME/100%";
  ASSERT_TRUE(RenderUnitFile(spec, buffer, &text).ok());
  // WorkingDirectory= and Condition*= expand specifiers only; ExecStart= expands $ as well.
  EXPECT_NE(text.find("\nWorkingDirectory=/charm/$HOME/100%%\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nConditionPathIsDirectory=/charm/$HOME/100%%\n"), std::string::npos);
  EXPECT_NE(text.find(" --charm-dir \"/charm/$$HOME/100%%\" "), std::string::npos) << text;
}

// The one place the system unit lets the daemon write: its state dir. systemd-analyze verify
// reads the whole unit with systemd's own parser and would name any line it cannot take.
TEST(RenderUnitFile, AGivenStateDirIsTheOneWritablePathAndSystemdReadsIt) {
  WatchedUnit watches[] = {Watch("a.service", "a")};
  UnitFileSpec spec;
  spec.executable = "/bin/true";
  spec.juju_unit = "app/0";
  spec.charm_dir = "/";
  spec.state_dir = "/srv/my state/100%";
  spec.watches = watches;
  char buffer[8192];
  std::string_view text;
  ASSERT_TRUE(RenderUnitFile(spec, buffer, &text).ok());
  EXPECT_NE(text.find("\nProtectSystem=strict\nProtectHome=read-only\nReadOnlyPaths=/"
                      "run\nReadWritePaths=-\"/srv/my "
                      "state/100%%\"\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("StateDirectory="), std::string::npos) << text;
  jsn::testing::TempDir directory;
  std::string unit = directory.Join("juju-app-0-systemd-notices.service");
  ASSERT_TRUE(jsn::testing::WriteFile(unit, std::string(text)));
  jsn::testing::CommandResult result =
      jsn::testing::RunCommand({"systemd-analyze", "verify", "--man=no", unit});
  EXPECT_EQ(result.output.find("juju-app-0-systemd-notices.service:"), std::string::npos)
      << result.output;
}

TEST(RenderUnitFile, ReportsABufferTooSmall) {
  UnitFileSpec spec;
  spec.executable = "/bin/jsn";
  spec.juju_unit = "app/0";
  spec.charm_dir = "/charm";
  char buffer[64];
  std::string_view text;
  EXPECT_STREQ(RenderUnitFile(spec, buffer, &text).rule(), "text-too-long");
}

}  // namespace
}  // namespace jsn
