#include "jsn/hooks.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace jsn {
namespace {

constexpr size_t kMaxPath = 4096;

// Links hooks/service-ALIAS-EVENT (in the open hooks directory `hooks`) to DIR/dispatch.
Status LinkHook(int hooks, const char* charm_dir, const char* alias, const char* event,
                int* created) {
  char hook[kMaxPath];
  char target[kMaxPath];
  int hook_length = snprintf(hook, sizeof hook, "service-%s-%s", alias, event);
  int target_length = snprintf(target, sizeof target, "%s/dispatch", charm_dir);
  if (hook_length < 0 || static_cast<size_t>(hook_length) >= sizeof hook || target_length < 0 ||
      static_cast<size_t>(target_length) >= sizeof target) {
    return Status::Failure("symlink-failed", "expected a hook path under %zu bytes, found %.120s",
                           kMaxPath, charm_dir);
  }
  struct stat existing;
  if (fstatat(hooks, hook, &existing, AT_SYMLINK_NOFOLLOW) == 0) return Status();  // kept
  if (symlinkat(target, hooks, hook) != 0) {
    if (errno == EEXIST) return Status();  // made meanwhile
    return Status::Failure("symlink-failed", "expected to link %.120s/hooks/%s -> %.120s, found %s",
                           charm_dir, hook, target, strerror(errno));
  }
  *created += 1;
  return Status();
}

}  // namespace

Status CreateHookLinks(const char* charm_dir, std::span<const WatchedUnit> watches, int* created) {
  *created = 0;
  char path[kMaxPath];
  int length = snprintf(path, sizeof path, "%s/hooks", charm_dir);
  if (length < 0 || static_cast<size_t>(length) >= sizeof path) {
    return Status::Failure("hooks-dir-failed", "expected a path under %zu bytes, found %.120s",
                           kMaxPath, charm_dir);
  }
  if (mkdir(path, 0755) != 0 && errno != EEXIST) {
    return Status::Failure("hooks-dir-failed", "expected to create %.120s, found %s", path,
                           strerror(errno));
  }
  // The links are made in the directory itself, never through a symlink: as root, a hooks/
  // that points elsewhere (/etc/...) would get our links wherever it leads.
  int hooks = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (hooks < 0) {
    return Status::Failure("hooks-dir-failed",
                           "expected %.120s to be a directory (not a symlink), found %s", path,
                           strerror(errno));
  }
  Status status;
  for (const WatchedUnit& watch : watches) {
    if (status.ok()) status = LinkHook(hooks, charm_dir, watch.alias, "started", created);
    if (status.ok()) status = LinkHook(hooks, charm_dir, watch.alias, "stopped", created);
  }
  close(hooks);
  return status;
}

}  // namespace jsn
