// UnitFile: the systemd unit that runs our daemon for one Juju unit, as text, and writing it
// to disk atomically. Rendering is pure: UnitFileSpec holds views the caller owns, the text
// goes into a buffer the caller owns. ExecStart= arguments are quoted by systemd's rules
// (systemd.service(5), "Command lines"; the unescaping is extract_first_word with
// EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE, then specifier (%) and variable ($) expansion), and
// UnquoteExecLine reads back what QuoteExecArgument wrote.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "jsn/base/status.h"
#include "jsn/daemon/options.h"

namespace jsn {

// A growing text in a fixed buffer; the first overflow is remembered, so a run of Appends
// needs one check at the end.
class TextBuilder {
 public:
  explicit TextBuilder(std::span<char> buffer) : buffer_(buffer) {}
  void Append(std::string_view text);
  void AppendChar(char c) { Append(std::string_view(&c, 1)); }
  std::string_view text() const { return {buffer_.data(), length_}; }
  // Keeps the text NUL-terminated when there is room; "text-too-long" after an overflow.
  Status Finish(const char* what);

 private:
  std::span<char> buffer_;
  size_t length_ = 0;
  bool overflowed_ = false;
};

// "juju-" + the Juju unit with '/' as '-' + "-systemd-notices.service", as the original.
Status NoticesUnitName(std::string_view juju_unit, std::span<char> buffer, std::string_view* name);

// Appends `argument` as one ExecStart= word: as it is when every byte is in [A-Za-z0-9/_.:=@+,-]
// (and it is not empty), otherwise in double quotes with \ " as \\ \", control bytes as \xHH,
// and % as %% and, for an argument (`variables`), $ as $$: systemd expands specifiers in every
// word and variables in the arguments, even inside quotes, but no variable in the program's
// path, where $$ would stay $$ and the exec fail (found by the hostile-path table).
void QuoteExecArgument(std::string_view argument, TextBuilder* out, bool variables = true);

// Splits the value of an ExecStart= line back into words, undoing QuoteExecArgument (plain
// words, double-quoted words with \\ \" \xHH \n \t, %% and $$). Words are written NUL-separated
// into `buffer`; `words` receives pointers to them. Rules: "unterminated-quote",
// "bad-escape", "too-many-words", "buffer-too-small".
Status UnquoteExecLine(std::string_view line, std::span<char> buffer, std::span<const char*> words,
                       size_t* count);

struct UnitFileSpec {
  std::string_view executable;  // absolute path of this binary
  std::string_view juju_unit;   // "app/0"
  std::string_view charm_dir;   // absolute; WorkingDirectory=, the daemon's --charm-dir
  // What identifies the binary (a comment line; empty: none): a refresh that replaces the file
  // at the same path changes the unit file, so `subscribe` restarts the daemon onto it.
  std::string_view version;  // e.g. "0.1.0"
  std::string_view sha256;   // of the file at `executable`, in hex
  std::span<const WatchedUnit> watches;
  std::string_view juju_exec;    // empty: the daemon's default
  std::string_view bus_address;  // empty: the daemon's default (the system bus)
  std::string_view state_dir;    // empty: the daemon's default
  bool debug = false;
  bool user = false;   // a user manager's unit: WantedBy=default.target, less hardening
  bool notify = true;  // Type=notify (the daemon says READY=1), else Type=simple
};

// Whether systemd reads `value` back exactly when it is written into a unit-file line:
// "unsafe-unit-file-value" (naming `what`, the value shown with \xHH escapes) for invalid UTF-8
// or a control byte (a newline would start a directive of its own; systemd drops a line that is
// not UTF-8), and, for a value that ends its line (`ends_line`), surrounding whitespace (systemd
// strips it) or a trailing backslash (it continues the line into the next), and for the
// program ExecStart= runs (`executable`), a quote or a backslash (systemd's string_is_safe).
Status CheckUnitFileValue(const char* what, std::string_view value, bool ends_line,
                          bool executable = false);

// The whole unit file. "text-too-long" when `buffer` is too small; every value is checked with
// CheckUnitFileValue first (the paths end lines: WorkingDirectory=, Condition*=). Besides running
// the daemon with Restart=always, it keeps a removed charm from restarting it forever: the unit is
// not started once the charm directory or the binary is gone (Condition*=, which Restart= does not
// override), and the daemon's kExitCharmDirGone ends it for good without marking it failed.
Status RenderUnitFile(const UnitFileSpec& spec, std::span<char> buffer, std::string_view* text);

// The daemon's options read back from the ExecStart= line of the unit file at `path`, parsed
// as the daemon parses its command line (the watch list, --state-dir, ...). Rules:
// "not-subscribed" (no file), "bad-unit-file" (no ExecStart=), the unquoting's and the
// option parser's (a unit file that does not run our daemon, such as the original's).
Status ReadUnitFileOptions(const char* path, Options* options);
// The same for a unit file's text (`text` must outlive `options`: its strings point into a
// buffer of this function's, valid until the next call). `command_line`, if given, receives the
// whole argv as /proc/PID/cmdline shows it (each word NUL-terminated), in that same buffer.
Status ParseUnitFileOptions(std::string_view text, Options* options,
                            std::string_view* command_line = nullptr);

}  // namespace jsn
