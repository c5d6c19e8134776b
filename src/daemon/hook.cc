#include "jsn/daemon/hook.h"

#include <cstdio>

#include "jsn/systemd/transition.h"

namespace jsn {

const char* HookName(Hook hook) {
  switch (hook) {
    case Hook::kStarted:
      return "started";
    case Hook::kStopped:
      return "stopped";
    case Hook::kNone:
      break;
  }
  return "none";
}

Hook ParseHookName(std::string_view name) {
  for (Hook hook : kHookKinds) {
    if (name == HookName(hook)) return hook;
  }
  return Hook::kNone;
}

Status FormatHookPath(const char* alias, Hook hook, HookPath* path) {
  int length = snprintf(path->text, sizeof path->text, "%s/service-%s-%s", kHooksDirectory, alias,
                        HookName(hook));
  if (hook == Hook::kNone) {
    return Status::Failure("no-hook", "expected a hook to run, found none");
  }
  if (length < 0 || static_cast<size_t>(length) >= sizeof path->text) {
    return Status::Failure("hook-path-too-long",
                           "expected a hook path of at most %zu bytes, found %d",
                           HookPath::kMaxLength, length);
  }
  return Status();
}

Status BuildHookCommand(const char* juju_exec, const char* juju_unit, const char* alias, Hook hook,
                        const Transition& record, HookCommand* command) {
  command->argv[0] = juju_exec;
  command->argv[1] = juju_unit;
  command->argv[2] = command->command;
  command->argv[3] = nullptr;
  Status status = FormatHookPath(alias, hook, &command->path);
  // The record's six fields take at most about 200 bytes: they always fit beside the path.
  size_t length = FormatTransition(record, TransitionForm::kHookEnvironment, command->command);
  snprintf(command->command + length, sizeof command->command - length, "%s", command->path.text);
  return status;
}

}  // namespace jsn
