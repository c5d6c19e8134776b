// ReplyTable: which call a reply answers, and whether it comes from whom that call may be
// answered by (the bus for its own methods; for the service's, its owner now or the one
// before, or an error from the bus), driven with plain messages. A refused reply leaves its call
// open; what the Connection does with the table over a socket is in connection_test.cc.
#include "jsn/bus/reply_table.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "jsn/wire/writer.h"

namespace jsn {
namespace {

constexpr const char* kBus = "org.freedesktop.DBus";

// A METHOD_RETURN (or an ERROR when `error`) to `reply_serial` from `sender` ("" for none),
// kept alive with its bytes.
struct Reply {
  std::vector<uint8_t> bytes = std::vector<uint8_t>(512);
  Incoming incoming;
};
std::unique_ptr<Reply> MakeReply(uint32_t reply_serial, const char* sender, bool error = false) {
  auto reply = std::make_unique<Reply>();
  HeaderFields fields;
  fields.type = error ? MessageType::kError : MessageType::kMethodReturn;
  fields.serial = 7000 + reply_serial;
  fields.reply_serial = reply_serial;
  fields.sender = sender;
  if (error) fields.error_name = "org.freedesktop.DBus.Error.ServiceUnknown";
  Writer writer(reply->bytes);
  writer.Begin(fields);
  std::span<const uint8_t> message;
  EXPECT_TRUE(writer.Finish(&message).ok());
  reply->bytes.resize(message.size());
  EXPECT_TRUE(Message::Parse(reply->bytes, &reply->incoming.message).ok());
  return reply;
}

// What the table makes of a reply: "reply N", "refused N" (N the tag) or "not ours".
std::string Verdict(ReplyTable* table, uint32_t reply_serial, const char* sender,
                    bool error = false) {
  std::unique_ptr<Reply> reply = MakeReply(reply_serial, sender, error);
  table->Take(&reply->incoming);
  const Incoming& in = reply->incoming;
  EXPECT_FALSE(in.is_reply && in.refused);
  if (in.is_reply) return "reply " + std::to_string(in.tag);
  if (in.refused) return "refused " + std::to_string(in.tag);
  return "not ours";
}

TEST(ReplyTable, ABusCallIsAnsweredByTheBusOnlyAndARefusalLeavesItOpen) {
  ReplyTable table;
  table.TrustServiceOwner(":1.7");
  table.Add(5, 50, Answerer::kBus);
  EXPECT_EQ(Verdict(&table, 5, ":1.666"), "refused 50");
  EXPECT_EQ(Verdict(&table, 5, ":1.666", true), "refused 50");
  EXPECT_EQ(Verdict(&table, 5, ":1.7"), "refused 50");  // not even the service
  EXPECT_EQ(Verdict(&table, 5, ""), "refused 50");
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(Verdict(&table, 5, kBus), "reply 50");
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(Verdict(&table, 5, kBus), "not ours");  // answered once
}

TEST(ReplyTable, AServiceCallIsAnsweredByTheOwnerTrustedWhenTheReplyComes) {
  ReplyTable table;
  table.Add(5, 50, Answerer::kService);  // sent before the owner was known
  EXPECT_EQ(Verdict(&table, 5, ":1.7"), "refused 50");
  table.TrustServiceOwner(":1.7");
  EXPECT_EQ(table.service_owner(), ":1.7");
  EXPECT_EQ(Verdict(&table, 5, ":1.666"), "refused 50");
  EXPECT_EQ(Verdict(&table, 5, ""), "refused 50");
  EXPECT_EQ(Verdict(&table, 5, ":1.7"), "reply 50");
}

TEST(ReplyTable, TheOwnerBeforeTheCurrentOneStillAnswersAndNoEarlierOne) {
  ReplyTable table;
  table.TrustServiceOwner(":1.7");
  table.TrustServiceOwner(":1.8");
  table.TrustServiceOwner(":1.9");
  for (uint32_t serial = 1; serial <= 3; ++serial) table.Add(serial, serial, Answerer::kService);
  EXPECT_EQ(Verdict(&table, 1, ":1.7"), "refused 1");
  EXPECT_EQ(Verdict(&table, 1, ":1.8"), "reply 1");
  EXPECT_EQ(Verdict(&table, 2, ":1.9"), "reply 2");
  table.TrustServiceOwner(":1.9");  // the same owner again replaces nothing
  EXPECT_EQ(Verdict(&table, 3, ":1.8"), "reply 3");
}

TEST(ReplyTable, ASpellWithNoOwnerKeepsTheOwnerBeforeIt) {
  ReplyTable table;
  table.TrustServiceOwner(":1.7");
  table.TrustServiceOwner("");
  table.Add(1, 1, Answerer::kService);
  table.Add(2, 2, Answerer::kService);
  EXPECT_EQ(Verdict(&table, 1, ":1.7"), "reply 1");
  table.TrustServiceOwner(":1.8");
  EXPECT_EQ(Verdict(&table, 2, ":1.7"), "reply 2");
}

TEST(ReplyTable, TheBusAnswersAServiceCallWithAnErrorOnly) {
  ReplyTable table;
  table.TrustServiceOwner(":1.7");
  table.Add(5, 50, Answerer::kService);
  EXPECT_EQ(Verdict(&table, 5, kBus), "refused 50");
  EXPECT_EQ(Verdict(&table, 5, kBus, true), "reply 50");
}

TEST(ReplyTable, SignalsAndRepliesToNoCallOfOursAreNotOurs) {
  ReplyTable table;
  table.Add(5, 50, Answerer::kBus);
  EXPECT_EQ(Verdict(&table, 6, kBus), "not ours");
  auto signal = std::make_unique<Reply>();
  HeaderFields fields;
  fields.type = MessageType::kSignal;
  fields.serial = 9;
  fields.path = "/a";
  fields.interface = "a.b";
  fields.member = "C";
  fields.sender = kBus;
  Writer writer(signal->bytes);
  writer.Begin(fields);
  std::span<const uint8_t> message;
  ASSERT_TRUE(writer.Finish(&message).ok());
  ASSERT_TRUE(Message::Parse(message, &signal->incoming.message).ok());
  table.Take(&signal->incoming);
  EXPECT_FALSE(signal->incoming.is_reply);
  EXPECT_FALSE(signal->incoming.refused);
  EXPECT_EQ(table.size(), 1u);
}

TEST(ReplyTable, ClearForgetsTheCallsAndTheOwners) {
  ReplyTable table;
  table.TrustServiceOwner(":1.7");
  table.TrustServiceOwner(":1.8");
  table.Add(5, 50, Answerer::kService);
  table.Clear();
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.service_owner(), "");
  EXPECT_EQ(Verdict(&table, 5, ":1.8"), "not ours");
  table.Add(6, 60, Answerer::kService);
  EXPECT_EQ(Verdict(&table, 6, ":1.7"), "refused 60");
  EXPECT_EQ(Verdict(&table, 6, ":1.8"), "refused 60");
}

TEST(ReplyTable, HoldsTheDaemonsWorstCaseAndNothingMore) {
  ReplyTable table;
  for (uint32_t serial = 1; serial <= ReplyTable::kCapacity; ++serial) {
    ASSERT_FALSE(table.full());
    table.Add(serial, serial, Answerer::kBus);
  }
  EXPECT_TRUE(table.full());
  table.Add(ReplyTable::kCapacity + 1, 0, Answerer::kBus);  // not recorded
  EXPECT_EQ(table.size(), ReplyTable::kCapacity);
  EXPECT_EQ(Verdict(&table, ReplyTable::kCapacity + 1, kBus), "not ours");
  EXPECT_EQ(Verdict(&table, ReplyTable::kCapacity, kBus),
            "reply " + std::to_string(ReplyTable::kCapacity));
  EXPECT_FALSE(table.full());
}

}  // namespace
}  // namespace jsn
