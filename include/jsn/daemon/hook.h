// Hook: what the daemon runs for a watched unit, and everything named after it. A unit aliased
// ALIAS has one hook per kind, the charm's hooks/service-ALIAS-KIND (KIND "started" or
// "stopped"), which the subcommands link to the charm's dispatch, the daemon runs as
// `juju-exec UNIT 'JSN_...=... hooks/service-ALIAS-KIND'` (the transition's record in front, as
// variable assignments: juju-exec runs its one command string with bash, in the unit's hook
// context), and the state file and the log lines name by KIND.
// A new kind is a new enumerator here, its name in HookName, and the tracker's decision of when
// it is due (HookForState); every other use walks kHookKinds or goes through these functions.
// Everything here is a value or fixed storage the caller owns; nothing is allocated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "jsn/base/status.h"

namespace jsn {

struct Transition;  // jsn/systemd/transition.h: declared, so that the tracker reaches no systemd
                    // header

enum class Hook : uint8_t { kNone, kStarted, kStopped };

// Every kind of hook, in the order the subcommands link them.
constexpr Hook kHookKinds[] = {Hook::kStarted, Hook::kStopped};

const char* HookName(Hook hook);  // "started", "stopped", "none"
// The kind named `name` (as HookName writes it), or kNone for any other text.
Hook ParseHookName(std::string_view name);

// The charm's hooks directory, relative to the charm directory (where juju-exec runs a hook).
constexpr char kHooksDirectory[] = "hooks";

// "hooks/service-ALIAS-KIND", in fixed storage. file_name() is the part inside the hooks
// directory, "service-ALIAS-KIND".
struct HookPath {
  static constexpr size_t kMaxLength = 200;
  char text[kMaxLength + 1];
  const char* file_name() const { return text + sizeof kHooksDirectory; }
};
// Rules: "no-hook" (kNone), "hook-path-too-long". `path` holds text ending in a NUL either way
// (cut when too long), so a log line can name what was asked for.
Status FormatHookPath(const char* alias, Hook hook, HookPath* path);

// The argv of `juju-exec UNIT 'JSN_STATE=... hooks/service-ALIAS-KIND'`, in fixed storage;
// argv[0] and argv[1] point at the caller's strings, argv[2] at `command`: the record's hook
// environment form (jsn/systemd/transition.h: words that need no quoting), then the hook's path.
struct HookCommand {
  HookPath path;
  char command[HookPath::kMaxLength + 256];
  const char* argv[4];  // juju_exec, juju_unit, command, nullptr
};
// The rules of FormatHookPath. A `record` not recorded() adds nothing: the command is the path.
Status BuildHookCommand(const char* juju_exec, const char* juju_unit, const char* alias, Hook hook,
                        const Transition& record, HookCommand* command);

}  // namespace jsn
