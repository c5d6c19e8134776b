#include "jsn/cli/hook_links.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "jsn/daemon/hook.h"

namespace jsn {
namespace {

constexpr size_t kMaxPath = 4096;

// Links `alias`'s hook of `kind` (in the open hooks directory `hooks`) to DIR/dispatch.
Status LinkHook(int hooks, const char* charm_dir, const char* alias, Hook kind, int* created) {
  HookPath path;
  char target[kMaxPath];
  Status status = FormatHookPath(alias, kind, &path);
  if (!status.ok()) return Status::Failure("symlink-failed", "%s", status.message());
  const char* hook = path.file_name();
  int target_length = snprintf(target, sizeof target, "%s/dispatch", charm_dir);
  if (target_length < 0 || static_cast<size_t>(target_length) >= sizeof target) {
    return Status::Expected("symlink-failed", "a hook path under %zu bytes, found %.120s", kMaxPath,
                            charm_dir);
  }
  struct stat existing;
  if (fstatat(hooks, hook, &existing, AT_SYMLINK_NOFOLLOW) == 0) return Status();  // kept
  if (symlinkat(target, hooks, hook) != 0) {
    if (errno == EEXIST) return Status();  // made meanwhile
    return Status::Expected("symlink-failed", "to link %.120s/%s -> %.120s, found %s", charm_dir,
                            path.text, target, strerror(errno));
  }
  *created += 1;
  return Status();
}

}  // namespace

Status CreateHookLinks(const char* charm_dir, std::span<const WatchedUnit> watches, int* created) {
  *created = 0;
  char path[kMaxPath];
  int length = snprintf(path, sizeof path, "%s/%s", charm_dir, kHooksDirectory);
  if (length < 0 || static_cast<size_t>(length) >= sizeof path) {
    return Status::Expected("hooks-dir-failed", "a path under %zu bytes, found %.120s", kMaxPath,
                            charm_dir);
  }
  if (mkdir(path, 0755) != 0 && errno != EEXIST) {
    return Status::Expected("hooks-dir-failed", "to create %.120s, found %s", path,
                            strerror(errno));
  }
  // The links are made in the directory itself, never through a symlink: as root, a hooks/
  // that points elsewhere (/etc/...) would get our links wherever it leads.
  int hooks = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (hooks < 0) {
    return Status::Expected("hooks-dir-failed",
                            "%.120s to be a directory (not a symlink), found %s", path,
                            strerror(errno));
  }
  Status status;
  for (const WatchedUnit& watch : watches) {
    for (Hook kind : kHookKinds) {
      if (status.ok()) status = LinkHook(hooks, charm_dir, watch.alias, kind, created);
    }
  }
  close(hooks);
  return status;
}

}  // namespace jsn
