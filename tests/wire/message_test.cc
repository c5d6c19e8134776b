#include "jsn/wire/message.h"

#include <gtest/gtest.h>

namespace jsn {
namespace {

TEST(MessageTypeName, NamesEachTypeAsTheFixtureFilesDo) {
  EXPECT_STREQ(MessageTypeName(MessageType::kMethodCall), "method_call");
  EXPECT_STREQ(MessageTypeName(MessageType::kMethodReturn), "method_return");
  EXPECT_STREQ(MessageTypeName(MessageType::kError), "error");
  EXPECT_STREQ(MessageTypeName(MessageType::kSignal), "signal");
  EXPECT_STREQ(MessageTypeName(MessageType::kInvalid), "invalid");
  EXPECT_STREQ(MessageTypeName(static_cast<MessageType>(9)), "invalid");
}

}  // namespace
}  // namespace jsn
