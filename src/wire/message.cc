#include "jsn/wire/message.h"

namespace jsn {

const char* MessageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kMethodCall:
      return "method_call";
    case MessageType::kMethodReturn:
      return "method_return";
    case MessageType::kError:
      return "error";
    case MessageType::kSignal:
      return "signal";
    case MessageType::kInvalid:
      break;
  }
  return "invalid";
}

}  // namespace jsn
