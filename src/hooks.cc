#include "jsn/hooks.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace jsn {
namespace {

constexpr size_t kMaxPath = 4096;

Status LinkHook(const char* charm_dir, const char* alias, const char* event, int* created) {
  char hook[kMaxPath];
  char target[kMaxPath];
  int hook_length = snprintf(hook, sizeof hook, "%s/hooks/service-%s-%s", charm_dir, alias, event);
  int target_length = snprintf(target, sizeof target, "%s/dispatch", charm_dir);
  if (hook_length < 0 || static_cast<size_t>(hook_length) >= sizeof hook || target_length < 0 ||
      static_cast<size_t>(target_length) >= sizeof target) {
    return Status::Failure("symlink-failed", "expected a hook path under %zu bytes, found %.120s",
                           kMaxPath, charm_dir);
  }
  struct stat existing;
  if (lstat(hook, &existing) == 0) return Status();  // the charm's own, or ours from before
  if (symlink(target, hook) != 0) {
    if (errno == EEXIST) return Status();  // made meanwhile
    return Status::Failure("symlink-failed", "expected to link %.120s -> %.120s, found %s", hook,
                           target, strerror(errno));
  }
  *created += 1;
  return Status();
}

}  // namespace

Status CreateHookLinks(const char* charm_dir, std::span<const WatchedUnit> watches, int* created) {
  *created = 0;
  char hooks[kMaxPath];
  int length = snprintf(hooks, sizeof hooks, "%s/hooks", charm_dir);
  if (length < 0 || static_cast<size_t>(length) >= sizeof hooks) {
    return Status::Failure("hooks-dir-failed", "expected a path under %zu bytes, found %.120s",
                           kMaxPath, charm_dir);
  }
  if (mkdir(hooks, 0755) != 0 && errno != EEXIST) {
    return Status::Failure("hooks-dir-failed", "expected to create %.120s, found %s", hooks,
                           strerror(errno));
  }
  for (const WatchedUnit& watch : watches) {
    JSN_RETURN_IF_ERROR(LinkHook(charm_dir, watch.alias, "started", created));
    JSN_RETURN_IF_ERROR(LinkHook(charm_dir, watch.alias, "stopped", created));
  }
  return Status();
}

}  // namespace jsn
