// HookLinks: the charm's hooks/service-ALIAS-KIND, one for each kind of hook (jsn/daemon/hook.h),
// made as symlinks to the charm's dispatch script (DIR/dispatch, absolute, as the original library
// makes them) so that `juju-exec UNIT hooks/service-ALIAS-started` runs the charm with that
// hook name. A hook that already exists (a file, a symlink, even a dangling one) is left alone:
// the charm may have its own. The caller owns every string.
#pragma once

#include <span>
#include <string_view>

#include "jsn/base/status.h"
#include "jsn/daemon/options.h"

namespace jsn {

// Creates DIR/hooks (mode 0755) when missing and a symlink per watched unit and hook kind.
// Returns through `created` how many links it made (0 when all existed). Rules:
// "hooks-dir-failed", "symlink-failed".
Status CreateHookLinks(const char* charm_dir, std::span<const WatchedUnit> watches, int* created);

}  // namespace jsn
