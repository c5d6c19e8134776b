#include "support/receive_until.h"

namespace jsn::testing {

std::vector<std::string> BodyValues(const Message& message) {
  std::vector<std::string> values;
  Iterator body = message.body();
  Value value;
  while (body.Next(&value)) {
    switch (value.type()) {
      case 's':
      case 'o':
      case 'g':
        values.emplace_back(value.as_string());
        break;
      case 'u':
        values.push_back(std::to_string(value.as_uint32()));
        break;
      default:
        values.push_back(std::string("<") + value.type() + ">");
    }
  }
  return values;
}

}  // namespace jsn::testing
