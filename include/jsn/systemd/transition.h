// Transition: what systemd said about one change of a unit's state, so that the hook it calls
// for can tell the charm how the unit got there: the ActiveState reached, the unit type's
// Result ("exit-code", "signal", "timeout", "start-limit-hit", ...), for a service how its main
// process ended (ExecMainCode and ExecMainStatus) and how often systemd restarted it
// (NRestarts), and when (StateChangeTimestamp).
//
// systemd sends all of these with values in its PropertiesChanged signals while a client is
// subscribed: first on the unit type's interface (org.freedesktop.systemd1.Service for a
// service), then on org.freedesktop.systemd1.Unit, "so clients may rely on this order to get
// atomic behaviour" (src/core/dbus-unit.c). So the type's values seen last are those of the
// ActiveState that follows them.
//
// Every text value is a word of [a-z0-9-] of at most kMaxWordLength bytes, or it is refused
// (kept as unknown): the values go into a shell command (juju-exec runs its command with bash),
// the state file and JSON, and a word of that alphabet needs no quoting in any of them.
// Three text forms, with the known fields in one order (state, result, exit code and status,
// restarts, timestamp), each followed by a space except in JSON:
//   hook environment: JSN_STATE=failed JSN_RESULT=exit-code JSN_EXIT_CODE=exited
//                     JSN_EXIT_STATUS=3 JSN_N_RESTARTS=0 JSN_TIMESTAMP=1796696329249482
//   state file:       state=failed result=exit-code exit_code=exited exit_status=3 n_restarts=0
//   timestamp=... JSON:             {"state": "failed", "result": "exit-code", "exit_code":
//   "exited",
//                      "exit_status": 3, "n_restarts": 0, "timestamp": 1796696329249482}
// A Transition is a plain value in fixed storage; nothing here allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace jsn {

// A value of a message (jsn/wire/reader.h), declared here so that what holds a Transition (the
// tracker's hook commands, the state file) reaches no D-Bus header.
class Value;

// ExecMainCode: how a service's main process ended, as waitid(2) says (CLD_EXITED, CLD_KILLED,
// CLD_DUMPED); kNone while it has not ended since the service last started.
enum class ExitCode : uint8_t { kNone = 0, kExited = 1, kKilled = 2, kDumped = 3 };

// Compared as bytes (operator==): no implicit padding, and words are NUL-filled to the end.
struct Transition {
  static constexpr size_t kMaxWordLength = 31;
  char state[kMaxWordLength + 1] = {};   // ActiveState reached; "" when none is recorded
  char result[kMaxWordLength + 1] = {};  // the unit type's Result; "" when unknown or none
  uint64_t timestamp = 0;   // StateChangeTimestamp: microseconds since the epoch; 0 unknown
  int32_t exit_status = 0;  // ExecMainStatus: the exit status, or the signal (killed, dumped)
  uint32_t n_restarts = 0;  // NRestarts
  ExitCode exit_code = ExitCode::kNone;  // services only
  bool has_restarts = false;             // NRestarts is known (services only)
  uint8_t unused[6] = {};

  bool recorded() const { return state[0] != '\0'; }
  bool operator==(const Transition& other) const;
};
static_assert(sizeof(Transition) == 88, "no padding: Transitions compare as bytes");

// The interface that carries the unit type's Result, from the unit's name (its suffix): e.g.
// "org.freedesktop.systemd1.Service" for "ssh.service"; "" for a type without a Result
// (target, device, slice). The text is in storage of its own that the next call reuses.
std::string_view ResultInterface(std::string_view unit_name);

// Copies `word` into `out` (kMaxWordLength + 1 bytes, NUL-filled after the word) when it is a
// word of [a-z0-9-] that fits, else leaves `out` empty (unknown). Returns whether it was taken.
bool CopyWord(std::string_view word, char* out);

// Takes Result, ExecMainCode, ExecMainStatus and NRestarts from `dict` (an a{sv}: a
// PropertiesChanged's changed properties, or a GetAll's answer) into `transition`; keys that are
// absent, or have another type, leave their fields as they are.
void ReadResultProperties(const Value& dict, Transition* transition);

enum class TransitionForm : uint8_t { kHookEnvironment, kStateFile, kJson };

// Writes the recorded fields of `transition` in `form` (see above) into `out`, NUL-terminated;
// returns the length, or 0 (and "") when `out` is too small. Nothing is written for a
// transition not recorded, except "null" in JSON.
size_t FormatTransition(const Transition& transition, TransitionForm form, std::span<char> out);

// Reads one "key=value" field of the state-file form into `transition`. False for a field that
// is not one (no '=', a known key with a bad value); a key it does not know is skipped (true),
// so a later version may add fields.
bool ParseTransitionField(std::string_view field, Transition* transition);

}  // namespace jsn
