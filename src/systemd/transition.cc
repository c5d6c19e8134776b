#include "jsn/systemd/transition.h"

#include <cstdio>
#include <cstring>

#include "jsn/base/decimal.h"
#include "jsn/wire/reader.h"

namespace jsn {
namespace {

// The unit types whose interface has a Result, by suffix; the interface is
// org.freedesktop.systemd1.Type (systemd's unit_dbus_interface_from_type).
constexpr std::string_view kResultTypes = ".service.socket.timer.mount.automount.swap.path.scope.";
constexpr std::string_view kInterfacePrefix = "org.freedesktop.systemd1.";

// ExecMainCode's words, as systemctl status writes them ("code=exited"), by ExitCode.
constexpr const char* kExitCodeWords[] = {"", "exited", "killed", "dumped"};

enum Field : uint8_t { kState, kResult, kCode, kStatus, kRestarts, kTimestamp, kFieldCount };

// Each field's key in the hook environment, and in the state file and JSON.
constexpr const char* kKeys[2][kFieldCount] = {
    {"JSN_STATE", "JSN_RESULT", "JSN_EXIT_CODE", "JSN_EXIT_STATUS", "JSN_N_RESTARTS",
     "JSN_TIMESTAMP"},
    {"state", "result", "exit_code", "exit_status", "n_restarts", "timestamp"},
};

}  // namespace

std::string_view ResultInterface(std::string_view unit_name) {
  static char interface[kInterfacePrefix.size() + 16];
  size_t dot = unit_name.rfind('.');
  if (dot == std::string_view::npos) return {};
  std::string_view type = unit_name.substr(dot);  // ".service"
  // A whole entry of the list: ".service" followed by the next entry's dot.
  size_t at = kResultTypes.find(type);
  if (at == std::string_view::npos || kResultTypes[at + type.size()] != '.') return {};
  memcpy(interface, kInterfacePrefix.data(), kInterfacePrefix.size());
  memcpy(interface + kInterfacePrefix.size(), type.data() + 1, type.size() - 1);
  interface[kInterfacePrefix.size()] = static_cast<char>(type[1] - 'a' + 'A');
  return {interface, kInterfacePrefix.size() + type.size() - 1};
}

bool Transition::operator==(const Transition& other) const {
  return memcmp(this, &other, sizeof other) == 0;
}

bool CopyWord(std::string_view word, char* out) {
  memset(out, 0, Transition::kMaxWordLength + 1);
  if (word.empty() || word.size() > Transition::kMaxWordLength) return false;
  for (char c : word) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  memcpy(out, word.data(), word.size());
  return true;
}

void ReadResultProperties(const Value& dict, Transition* transition) {
  // Each property with its D-Bus type, in kResult, kCode, kStatus, kRestarts order.
  static constexpr const char* kProperties[] = {"Result", "ExecMainCode", "ExecMainStatus",
                                                "NRestarts"};
  static constexpr char kTypes[] = "siiu";
  for (uint8_t i = 0; i < 4; ++i) {
    Value value;
    if (!FindInStringVariantDict(dict, kProperties[i], &value) || value.type() != kTypes[i]) {
      continue;
    }
    if (i == 0) {
      CopyWord(value.as_string(), transition->result);
    } else if (i == 1) {
      int32_t code = value.as_int32();
      transition->exit_code =
          code >= 1 && code <= 3 ? static_cast<ExitCode>(code) : ExitCode::kNone;
    } else if (i == 2) {
      transition->exit_status = value.as_int32();
    } else {
      transition->n_restarts = value.as_uint32();
      transition->has_restarts = true;
    }
  }
}

size_t FormatTransition(const Transition& t, TransitionForm form, std::span<char> out) {
  bool json = form == TransitionForm::kJson;
  const char* const* keys = kKeys[form != TransitionForm::kHookEnvironment];
  size_t size = 0;
  bool fits = !out.empty();
  auto append = [&](const char* format, const char* key, const char* value) {
    if (!fits) return;
    int added = snprintf(out.data() + size, out.size() - size, format, json && size > 1 ? ", " : "",
                         key, value);
    fits = added >= 0 && static_cast<size_t>(added) < out.size() - size;
    size += fits ? static_cast<size_t>(added) : 0;
  };
  if (!t.recorded()) {
    append(json ? "null%s%s%s" : "%s%s%s", "", "");
  } else {
    append(json ? "{%s%s%s" : "%s%s%s", "", "");
    bool exited = t.exit_code != ExitCode::kNone;
    for (uint8_t field = 0; field < kFieldCount; ++field) {
      char number[24];
      const char* value = field == kState    ? t.state
                          : field == kResult ? t.result
                          : field == kCode   ? kExitCodeWords[static_cast<uint8_t>(t.exit_code)]
                                             : number;
      if (field == kStatus) {
        snprintf(number, sizeof number, "%d", static_cast<int>(t.exit_status));
      } else {
        snprintf(number, sizeof number, "%llu",
                 static_cast<unsigned long long>(field == kRestarts ? t.n_restarts : t.timestamp));
      }
      bool known = value != number      ? value[0] != '\0'
                   : field == kStatus   ? exited
                   : field == kRestarts ? t.has_restarts
                                        : t.timestamp != 0;
      if (!known) continue;
      append(!json             ? "%s%s=%s "
             : value != number ? "%s\"%s\": \"%s\""
                               : "%s\"%s\": %s",
             keys[field], value);
    }
    append(json ? "%.0s}%s%s" : "%s%s%s", "", "");
  }
  if (!fits) {
    if (!out.empty()) out[0] = '\0';
    return 0;
  }
  return size;
}

bool ParseTransitionField(std::string_view field, Transition* t) {
  size_t equals = field.find('=');
  if (equals == std::string_view::npos) return false;
  std::string_view key = field.substr(0, equals);
  std::string_view text = field.substr(equals + 1);
  const char* const* keys = kKeys[1];
  uint8_t index = 0;
  while (index < kFieldCount && key != keys[index]) ++index;
  if (index == kFieldCount) return true;  // a later version's field
  if (index == kState) return CopyWord(text, t->state);
  if (index == kResult) return CopyWord(text, t->result);
  if (index == kCode) {
    for (uint8_t code = 1; code <= 3; ++code) {
      if (text == kExitCodeWords[code]) {
        t->exit_code = static_cast<ExitCode>(code);
        return true;
      }
    }
    return false;
  }
  // ExecMainStatus is an exit status (0-255) or a signal's number: never negative.
  uint64_t number = 0;
  if (!ParseDecimal(text, &number)) return false;
  if (index == kTimestamp) {
    t->timestamp = number;
    return true;
  }
  if (number > (index == kStatus ? 0x7fffffffu : 0xffffffffu)) return false;
  if (index == kStatus) {
    t->exit_status = static_cast<int32_t>(number);
  } else {
    t->n_restarts = static_cast<uint32_t>(number);
    t->has_restarts = true;
  }
  return true;
}

}  // namespace jsn
