#include "jsn/daemon/state_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "jsn/base/file_io.h"
#include "jsn/daemon/hook.h"

namespace jsn {
namespace {

constexpr std::string_view kMagic = "juju-systemd-notices-state 1 ";
constexpr std::string_view kPendingPrefix = "pending ";
constexpr std::string_view kFailingPrefix = "failing ";
constexpr std::string_view kRecordPrefix = "record ";

Status CorruptAt(size_t line, const char* what) {
  return Status::Failure("corrupt-state-file", "line %zu: %s", line, what);
}

}  // namespace

Status StateStore::Init(const char* directory, const char* juju_unit) {
  size_t unit_length = strlen(juju_unit);
  if (unit_length > kMaxJujuUnitLength) {
    return Status::Failure("invalid-juju-unit",
                           "expected a Juju unit of at most %zu bytes, found %zu",
                           kMaxJujuUnitLength, unit_length);
  }
  memcpy(juju_unit_, juju_unit, unit_length + 1);
  char file_name[kMaxJujuUnitLength + 1];
  memcpy(file_name, juju_unit, unit_length + 1);
  for (char* c = file_name; *c != '\0'; ++c) {
    if (*c == '/') *c = '-';
  }
  size_t directory_length = strlen(directory);
  while (directory_length > 1 && directory[directory_length - 1] == '/') --directory_length;
  int made = snprintf(path_, sizeof path_, "%.*s/%s.state", static_cast<int>(directory_length),
                      directory, file_name);
  // Room for WriteFileAtomically's ".tmp-" and 16 hex digits.
  if (made < 0 || static_cast<size_t>(made) + 22 >= sizeof path_) {
    return Status::Failure("invalid-state-dir", "expected a state directory shorter than %d bytes",
                           PATH_MAX - 300);
  }
  snprintf(directory_, sizeof directory_, "%.*s", static_cast<int>(directory_length), directory);
  name_offset_ = directory_length + 1;
  return Status();
}

StateStore::~StateStore() {
  if (directory_open_) close(directory_fd_);
}

Status StateStore::Open(bool create) {
  if (directory_open_) return Status();
  constexpr int kFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  int fd = open(directory_, kFlags);
  if (fd < 0 && errno == ENOENT && create) {
    if (mkdir(directory_, 0755) != 0 && errno != EEXIST) {
      return Status::Failure("state-dir", "cannot create %s: %s", directory_, strerror(errno));
    }
    fd = open(directory_, kFlags);
  }
  const char* problem = nullptr;
  struct stat st;
  if (fd < 0) {
    if (errno == ENOENT) {
      return Status::Failure("state-dir-missing", "expected a directory %s, found none",
                             directory_);
    }
    if (errno != ELOOP && errno != ENOTDIR) {
      return Status::Failure("unsafe-state-dir", "expected to examine %s, found %s", directory_,
                             strerror(errno));
    }
    problem = "not a directory (a symlink?)";
  } else if (fstat(fd, &st) != 0) {
    problem = strerror(errno);
  } else {
    problem = st.st_uid != geteuid()    ? "owned by another user"
              : (st.st_mode & 022) != 0 ? "writable by its group or by others"
                                        : nullptr;
  }
  if (problem == nullptr) {
    directory_fd_ = fd;
    directory_open_ = true;
    return Status();
  }
  if (fd >= 0) close(fd);
  return Status::Failure("unsafe-state-dir",
                         "expected %s to be a directory of user %u that only it can write, "
                         "found it %s",
                         directory_, static_cast<unsigned>(geteuid()), problem);
}

Status StateStore::OpenDirectory() { return Open(true); }

Status StateStore::RemoveStaleTemporaries(int* removed) {
  *removed = 0;
  JSN_RETURN_IF_ERROR(Open(true));
  return ::jsn::RemoveStaleTemporaries(directory_fd_, path_ + name_offset_, removed);
}

Status StateStore::Load(std::span<const char* const> units, std::span<Hook> hooks, bool* found,
                        std::span<DeliveryState> deliveries, std::span<Transition> records) {
  for (Hook& hook : hooks) hook = Hook::kNone;
  for (DeliveryState& delivery : deliveries) delivery = DeliveryState();
  for (Transition& record : records) record = Transition();
  *found = false;
  Status status = Open(false);
  if (status.rule() == std::string_view("state-dir-missing")) return Status();
  JSN_RETURN_IF_ERROR(status);
  static char buffer[kMaxFileSize];
  size_t size = 0;
  status = ReadSmallFileAt(directory_fd_, path_ + name_offset_, buffer, &size);
  if (status.rule() == std::string_view("file-missing")) return Status();
  if (status.rule() == std::string_view("file-too-large")) {
    *found = true;
    return Status::Failure("corrupt-state-file", "expected at most %zu bytes, found more",
                           kMaxFileSize);
  }
  // Unreadable, or not a regular file (a FIFO planted there would block a plain open): said,
  // and treated as absent.
  if (!status.ok()) return Status::Failure("state-file-unreadable", "%s", status.message());
  *found = true;
  std::string_view text(buffer, size);
  size_t line_number = 0;
  Hook loaded[Tracker::kMaxUnits] = {};
  DeliveryState loaded_deliveries[Tracker::kMaxUnits] = {};
  static Transition loaded_records[Tracker::kMaxUnits];
  for (Transition& record : loaded_records) record = Transition();
  while (!text.empty()) {
    ++line_number;
    size_t end = text.find('\n');
    if (end == std::string_view::npos)
      return CorruptAt(line_number, "expected a newline at the end");
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    if (line_number == 1) {
      if (!line.starts_with(kMagic)) {
        return CorruptAt(1, "expected \"juju-systemd-notices-state 1 UNIT\": not our file");
      }
      if (line.substr(kMagic.size()) != std::string_view(juju_unit_)) {
        return Status::Failure("corrupt-state-file", "line 1: expected Juju unit %s, found %.*s",
                               juju_unit_, static_cast<int>(line.size() - kMagic.size()),
                               line.data() + kMagic.size());
      }
      continue;
    }
    size_t space = line.rfind(' ');
    if (space == std::string_view::npos || space == 0) {
      return CorruptAt(line_number, "expected \"UNIT HOOK\"");
    }
    std::string_view unit = line.substr(0, space);
    Hook hook = ParseHookName(line.substr(space + 1));
    if (hook == Hook::kNone) return CorruptAt(line_number, "expected a hook's name last");
    // "pending UNIT HOOK" / "failing UNIT HOOK": split as the first reader of this format did,
    // at the last space, then the first word says which.
    Progress progress = Progress::kIdle;
    Transition record;
    bool is_record = unit.starts_with(kRecordPrefix);
    if (is_record) {
      // "record FIELD... UNIT": the unit is the last word.
      size_t unit_start = unit.rfind(' ') + 1;
      std::string_view fields =
          unit.substr(kRecordPrefix.size(), unit_start - kRecordPrefix.size());
      unit.remove_prefix(unit_start);
      while (!fields.empty()) {
        size_t field_end = fields.find(' ');
        if (field_end == std::string_view::npos) field_end = fields.size();
        if (!ParseTransitionField(fields.substr(0, field_end), &record)) {
          return CorruptAt(line_number, "expected \"record key=value ... UNIT HOOK\"");
        }
        fields.remove_prefix(field_end < fields.size() ? field_end + 1 : field_end);
      }
    } else if (unit.starts_with(kPendingPrefix)) {
      progress = Progress::kPending;
      unit.remove_prefix(kPendingPrefix.size());
    } else if (unit.starts_with(kFailingPrefix)) {
      progress = Progress::kFailing;
      unit.remove_prefix(kFailingPrefix.size());
    }
    for (size_t i = 0; i < units.size() && i < Tracker::kMaxUnits; ++i) {
      if (unit != units[i]) continue;
      if (is_record) {
        loaded_records[i] = record;
      } else if (progress == Progress::kIdle) {
        loaded[i] = hook;
      } else {
        loaded_deliveries[i] = DeliveryState{progress, hook};
      }
    }
  }
  if (line_number == 0) return CorruptAt(1, "expected a header, found an empty file");
  for (size_t i = 0; i < hooks.size() && i < Tracker::kMaxUnits; ++i) hooks[i] = loaded[i];
  for (size_t i = 0; i < deliveries.size() && i < Tracker::kMaxUnits; ++i) {
    deliveries[i] = loaded_deliveries[i];
  }
  for (size_t i = 0; i < records.size() && i < Tracker::kMaxUnits; ++i) {
    records[i] = loaded_records[i];
  }
  return Status();
}

Status StateStore::Save(std::span<const char* const> units, std::span<const Hook> hooks,
                        std::span<const DeliveryState> deliveries,
                        std::span<const Transition> records) {
  static char buffer[kMaxFileSize];
  int length = snprintf(buffer, sizeof buffer, "%.*s%s\n", static_cast<int>(kMagic.size()),
                        kMagic.data(), juju_unit_);
  size_t size = static_cast<size_t>(length);
  for (size_t i = 0; i < units.size() && i < hooks.size(); ++i) {
    if (hooks[i] == Hook::kNone) continue;
    int added =
        snprintf(buffer + size, sizeof buffer - size, "%s %s\n", units[i], HookName(hooks[i]));
    if (added < 0 || static_cast<size_t>(added) >= sizeof buffer - size) {
      return Status::Failure("state-file-too-large", "expected the state to fit %zu bytes",
                             kMaxFileSize);
    }
    size += static_cast<size_t>(added);
  }
  for (size_t i = 0; i < units.size() && i < deliveries.size(); ++i) {
    if (deliveries[i].progress == Progress::kIdle || deliveries[i].hook == Hook::kNone) continue;
    int added =
        snprintf(buffer + size, sizeof buffer - size, "%s %s %s\n",
                 ProgressName(deliveries[i].progress), units[i], HookName(deliveries[i].hook));
    if (added < 0 || static_cast<size_t>(added) >= sizeof buffer - size) {
      return Status::Failure("state-file-too-large", "expected the state to fit %zu bytes",
                             kMaxFileSize);
    }
    size += static_cast<size_t>(added);
  }
  for (size_t i = 0; i < units.size() && i < records.size(); ++i) {
    Hook hook = HookForState(records[i].state);
    if (!records[i].recorded() || hook == Hook::kNone) continue;
    char fields[256];
    FormatTransition(records[i], TransitionForm::kStateFile, fields);
    int added = snprintf(buffer + size, sizeof buffer - size, "%.*s%s%s %s\n",
                         static_cast<int>(kRecordPrefix.size()), kRecordPrefix.data(), fields,
                         units[i], HookName(hook));
    if (added < 0 || static_cast<size_t>(added) >= sizeof buffer - size) {
      return Status::Failure("state-file-too-large", "expected the state to fit %zu bytes",
                             kMaxFileSize);
    }
    size += static_cast<size_t>(added);
  }
  // A directory deleted since it was opened takes no new file: make and check it again.
  struct stat st;
  if (directory_open_ && fstat(directory_fd_, &st) == 0 && st.st_nlink == 0) {
    close(directory_fd_);
    directory_open_ = false;
  }
  JSN_RETURN_IF_ERROR(Open(true));
  Status status = WriteFileAtomicallyAt(directory_fd_, path_ + name_offset_, {buffer, size});
  if (!status.ok())
    return Status::Failure("state-write", "in %s: %s", directory_, status.message());
  return Status();
}

}  // namespace jsn
