#include "jsn/cli/unit_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "jsn/base/file_io.h"
#include "jsn/wire/names.h"

namespace jsn {
namespace {

bool IsPlainWordByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         strchr("/_.:=@+,-", c) != nullptr;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Condition paths get specifier (%) expansion only (config_parse_unit_condition_path).
void AppendSpecifierSafe(std::string_view text, TextBuilder* out) {
  for (char c : text) {
    if (c == '%') {
      out->Append("%%");
    } else {
      out->AppendChar(c);
    }
  }
}

// Specifier and variable expansion apply to the whole line, quoted or not.
void AppendExpansionSafe(char c, TextBuilder* out) {
  if (c == '%') {
    out->Append("%%");
  } else if (c == '$') {
    out->Append("$$");
  } else {
    out->AppendChar(c);
  }
}

// Whether well-formed UTF-8 `text` holds a Unicode noncharacter: U+FDD0..U+FDEF or U+xFFFE,
// U+xFFFF of any plane, which systemd's unichar_is_valid() (src/basic/utf8.c) refuses on top of
// what IsValidUtf8 does; its config parser then ignores the whole assignment. Checked after
// every byte: a partly decoded code point is at most 0x7fff, so only a whole one can match.
bool HasNoncharacter(std::string_view text) {
  uint32_t code_point = 0;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    code_point = (byte & 0xc0) == 0x80 ? code_point << 6 | (byte & 0x3fu) : byte & 0x0fu;
    if ((code_point >= 0xfdd0 && code_point <= 0xfdef) || (code_point & 0xfffe) == 0xfffe) {
      return true;
    }
  }
  return false;
}

// `value`, at most 60 bytes of it, printable: other bytes as \xHH, for a message.
void ShowEscaped(std::string_view value, char* out, size_t size) {
  TextBuilder shown({out, size});
  for (size_t i = 0; i < value.size() && i < 60; ++i) {
    auto byte = static_cast<unsigned char>(value[i]);
    if (byte < 0x20 || byte >= 0x7f) {
      char escaped[5];
      snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      shown.Append(escaped);
    } else {
      shown.AppendChar(value[i]);
    }
  }
  if (value.size() > 60) shown.Append("...");
}

}  // namespace

Status CheckUnitFileValue(const char* what, std::string_view value, bool ends_line,
                          bool executable) {
  const char* problem = nullptr;
  if (!IsValidUtf8(value) || HasNoncharacter(value)) {
    problem = "valid UTF-8, no noncharacter";
  }
  for (char c : value) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) problem = "no control characters (a newline starts a line)";
  }
  // systemd's string_is_safe() on the executable of ExecStart= (the one value that is also a
  // line's end): quoted or not, a quote or a backslash there is fatal to the unit.
  if (executable && value.find_first_of("\"'\\") != std::string_view::npos) {
    problem = "no quote or backslash (refused in an executable's name)";
  }
  if (ends_line && !value.empty()) {
    char first = value.front();
    char last = value.back();
    if (first == ' ' || last == ' ') problem = "no surrounding spaces (systemd strips them)";
    if (last == '\\') problem = "no trailing backslash (it continues the line)";
  }
  if (problem == nullptr) return Status();
  char shown[256];
  ShowEscaped(value, shown, sizeof shown);
  return Status::Expected("unsafe-unit-file-value",
                          "%s that systemd reads back as written: %s, found '%s'", what, problem,
                          shown);
}

void TextBuilder::Append(std::string_view text) {
  if (overflowed_) return;
  if (buffer_.size() - length_ < text.size() + 1) {  // keep room for a NUL
    overflowed_ = true;
    return;
  }
  memcpy(buffer_.data() + length_, text.data(), text.size());
  length_ += text.size();
  buffer_[length_] = '\0';
}

Status TextBuilder::Finish(const char* what) {
  if (overflowed_) {
    return Status::Expected("text-too-long", "%s to fit in %zu bytes, found it longer", what,
                            buffer_.size());
  }
  if (length_ < buffer_.size()) buffer_[length_] = '\0';
  return Status();
}

Status NoticesUnitName(std::string_view juju_unit, std::span<char> buffer, std::string_view* name) {
  TextBuilder out(buffer);
  out.Append("juju-");
  for (char c : juju_unit) out.AppendChar(c == '/' ? '-' : c);
  out.Append("-systemd-notices.service");
  JSN_RETURN_IF_ERROR(out.Finish("the notices unit name"));
  *name = out.text();
  return Status();
}

void QuoteExecArgument(std::string_view argument, TextBuilder* out, bool variables) {
  bool plain = !argument.empty();
  for (char c : argument) plain = plain && IsPlainWordByte(c);
  if (plain) {
    out->Append(argument);
    return;
  }
  out->AppendChar('"');
  for (char c : argument) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '\\' || c == '"') {
      out->AppendChar('\\');
      out->AppendChar(c);
    } else if (byte < 0x20 || byte == 0x7f) {
      char escaped[5];
      snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out->Append(escaped);
    } else if (c == '$' && !variables) {
      out->AppendChar(c);
    } else {
      AppendExpansionSafe(c, out);
    }
  }
  out->AppendChar('"');
}

Status UnquoteExecLine(std::string_view line, std::span<char> buffer, std::span<const char*> words,
                       size_t* count) {
  size_t used = 0;
  *count = 0;
  size_t i = 0;
  auto put = [&](char c) {
    if (used >= buffer.size()) return false;
    buffer[used++] = c;
    return true;
  };
  while (true) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size()) return Status();
    if (*count == words.size()) {
      return Status::ExpectedAt("too-many-words", i, "at most %zu words, found more", words.size());
    }
    words[*count] = buffer.data() + used;
    bool quoted = false;
    while (i < line.size()) {
      char c = line[i];
      if (!quoted && (c == ' ' || c == '\t')) break;
      if (c == '"') {
        quoted = !quoted;
        ++i;
        continue;
      }
      if ((c == '%' || c == '$') && i + 1 < line.size() && line[i + 1] == c) {
        if (!put(c)) break;
        i += 2;
        continue;
      }
      if (c == '\\') {
        if (i + 1 >= line.size()) {
          return Status::ExpectedAt("bad-escape", i, "a character after \\, found the end");
        }
        char next = line[i + 1];
        char value = next;
        size_t length = 2;
        if (next == 'n')
          value = '\n';
        else if (next == 't')
          value = '\t';
        else if (next == 'x') {
          int high = i + 2 < line.size() ? HexValue(line[i + 2]) : -1;
          int low = i + 3 < line.size() ? HexValue(line[i + 3]) : -1;
          if (high < 0 || low < 0) {
            return Status::ExpectedAt("bad-escape", i, "\\x and two hex digits");
          }
          value = static_cast<char>(high * 16 + low);
          length = 4;
        } else if (next != '\\' && next != '"' && next != '\'') {
          return Status::ExpectedAt("bad-escape", i, "one of \\\\ \\\" \\n \\t \\xHH, found \\%c",
                                    next);
        }
        if (!put(value)) break;
        i += length;
        continue;
      }
      if (!put(c)) break;
      ++i;
    }
    if (quoted) {
      return Status::ExpectedAt("unterminated-quote", i, "a closing \", found the end");
    }
    if (!put('\0')) {
      return Status::Expected("buffer-too-small", "the words to fit in %zu bytes", buffer.size());
    }
    *count += 1;
  }
}

Status RenderUnitFile(const UnitFileSpec& spec, std::span<char> buffer, std::string_view* text) {
  JSN_RETURN_IF_ERROR(CheckUnitFileValue("the binary's path", spec.executable, true, true));
  JSN_RETURN_IF_ERROR(CheckUnitFileValue("the charm directory", spec.charm_dir, true));
  JSN_RETURN_IF_ERROR(CheckUnitFileValue("the Juju unit", spec.juju_unit, false));
  JSN_RETURN_IF_ERROR(CheckUnitFileValue("--juju-exec", spec.juju_exec, false));
  JSN_RETURN_IF_ERROR(CheckUnitFileValue("--bus", spec.bus_address, false));
  JSN_RETURN_IF_ERROR(CheckUnitFileValue("--state-dir", spec.state_dir, false));
  TextBuilder out(buffer);
  out.Append("# Written by juju-systemd-notices subscribe; rewritten by the next subscribe.\n");
  if (!spec.sha256.empty()) {
    out.Append("# Binary: juju-systemd-notices ");
    out.Append(spec.version);
    out.Append(", sha256 ");
    out.Append(spec.sha256);
    out.Append("\n");
  }
  out.Append("[Unit]\nDescription=Juju systemd notices daemon for ");
  for (char c : spec.juju_unit) AppendExpansionSafe(c, &out);
  out.Append("\n");
  if (!spec.user) out.Append("After=dbus.service\n");
  // Restart=always must keep restarting however often the daemon fails...
  out.Append("StartLimitIntervalSec=0\n");
  // ...but not once the charm is gone: a failed condition skips the start, restarts included.
  out.Append("ConditionPathIsDirectory=");
  AppendSpecifierSafe(spec.charm_dir, &out);
  out.Append("\nConditionPathExists=");
  AppendSpecifierSafe(spec.executable, &out);
  out.Append("\n\n[Service]\n");
  out.Append(spec.notify ? "Type=notify\n" : "Type=simple\n");
  out.Append("Restart=always\nRestartSec=1\n");
  char charm_dir_gone[64];
  snprintf(charm_dir_gone, sizeof charm_dir_gone,
           "RestartPreventExitStatus=%d\nSuccessExitStatus=%d\n", kExitCharmDirGone,
           kExitCharmDirGone);
  out.Append(charm_dir_gone);
  // Specifiers only: systemd expands no $VARIABLE here, so a $ stays as it is.
  out.Append("WorkingDirectory=");
  AppendSpecifierSafe(spec.charm_dir, &out);
  out.Append("\nExecStart=");
  QuoteExecArgument(spec.executable, &out, /*variables=*/false);
  out.Append(" --unit ");
  QuoteExecArgument(spec.juju_unit, &out);
  out.Append(" --charm-dir ");
  QuoteExecArgument(spec.charm_dir, &out);
  if (spec.debug) out.Append(" --debug");
  if (!spec.juju_exec.empty()) {
    out.Append(" --juju-exec ");
    QuoteExecArgument(spec.juju_exec, &out);
  }
  if (!spec.bus_address.empty()) {
    out.Append(" --bus ");
    QuoteExecArgument(spec.bus_address, &out);
  }
  if (!spec.state_dir.empty()) {
    out.Append(" --state-dir ");
    QuoteExecArgument(spec.state_dir, &out);
  }
  out.Append(" --");
  for (const WatchedUnit& watch : spec.watches) {
    char word[kMaxUnitNameLength + kMaxAliasLength + 2];
    snprintf(word, sizeof word, "%s=%s", watch.unit, watch.alias);
    out.AppendChar(' ');
    QuoteExecArgument(word, &out);
  }
  out.Append("\n");
  // A stop sends SIGTERM to the daemon alone, so that a running juju-exec can end within the
  // daemon's grace (kStopGrace in daemon.cc, 10 s); whatever is left in the unit once the daemon
  // has exited gets SIGKILL. systemd's default (control-group) would SIGTERM juju-exec at once.
  // TimeoutStopSec= covers the grace even where the manager's default is set lower.
  out.Append("KillMode=mixed\nTimeoutStopSec=30\n");
  // Hardening that leaves what juju-exec needs: it runs as root, stats and reads
  // /var/lib/juju/agents/unit-NAME and connects to the agent's run.socket (a socket on a
  // read-only mount still connects); the hook itself runs under the agent, not under us.
  out.Append(
      "NoNewPrivileges=yes\nLockPersonality=yes\nRestrictRealtime=yes\n"
      "RestrictSUIDSGID=yes\n");
  if (!spec.user) {
    // These need a mount namespace, which a user manager cannot always make. Everything is
    // read-only but the state dir: strict leaves /home, /root and /run/user to ProtectHome=,
    // and systemd 252 left /run writable once ProtectKernelTunables= or ProtectControlGroups=
    // was set (seen on the PID-1 fixture; tests/system checks /run is read-only). The sockets
    // we and juju-exec connect to still connect: a socket on a read-only mount does. systemd
    // makes the default state dir (0755, root's).
    out.Append(
        "ProtectKernelTunables=yes\nProtectKernelModules=yes\nProtectKernelLogs=yes\n"
        "ProtectControlGroups=yes\nProtectClock=yes\nRestrictNamespaces=yes\n"
        "ProtectSystem=strict\nProtectHome=read-only\nReadOnlyPaths=/run\n");
    if (spec.state_dir.empty()) {
      out.Append("StateDirectory=juju-systemd-notices\n");
    } else {
      // "-": a state dir that does not exist leaves the unit startable (the daemon, which cannot
      // make it under a read-only parent, says it cannot keep its state) rather than failing.
      out.Append("ReadWritePaths=-");
      QuoteExecArgument(spec.state_dir, &out, /*variables=*/false);
      out.Append("\n");
    }
  }
  out.Append("\n[Install]\nWantedBy=");
  out.Append(spec.user ? "default.target\n" : "multi-user.target\n");
  JSN_RETURN_IF_ERROR(out.Finish("the unit file"));
  *text = out.text();
  return Status();
}

Status ReadUnitFileOptions(const char* path, Options* options) {
  static char text[64 * 1024];
  size_t length = 0;
  Status status = ReadSmallFile(path, text, &length);
  if (!status.ok()) {
    return Status::Failure(
        status.rule() == std::string_view("file-missing") ? "not-subscribed" : "bad-unit-file",
        "%s", status.message());
  }
  return ParseUnitFileOptions({text, length}, options);
}

Status ParseUnitFileOptions(std::string_view file, Options* options,
                            std::string_view* command_line) {
  constexpr size_t kMaxUnitFile = 64 * 1024;
  constexpr size_t kMaxWords = kMaxWatchedUnits + 16;
  constexpr std::string_view kExecStart = "\nExecStart=";
  size_t start = file.find(kExecStart);
  if (start == std::string_view::npos) {
    return Status::Expected("bad-unit-file", "an ExecStart= line, found none");
  }
  start += kExecStart.size();
  size_t end = file.find('\n', start);
  std::string_view line = file.substr(start, end == std::string_view::npos ? end : end - start);
  static char words_buffer[kMaxUnitFile];
  const char* words[kMaxWords];
  size_t count = 0;
  JSN_RETURN_IF_ERROR(UnquoteExecLine(line, words_buffer, words, &count));
  if (command_line != nullptr && count > 0) {
    // The words lie one after another in words_buffer, each with its NUL.
    *command_line = {words_buffer, static_cast<size_t>(words[count - 1] - words_buffer) +
                                       strlen(words[count - 1]) + 1};
  }
  return ParseOptions(static_cast<int>(count), words, options);
}

}  // namespace jsn
