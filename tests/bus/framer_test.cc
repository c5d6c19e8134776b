#include "jsn/bus/framer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "jsn/wire/reader.h"
#include "support/fixtures.h"

namespace jsn {
namespace {

// A message as far as the framer cares: a fixed header that gives the lengths, then header
// fields and body of arbitrary content (the framer never looks inside; Parse does).
std::string Frame(uint32_t fields_length, uint32_t body_length, char fill, bool big = false) {
  auto put32 = [&](std::string* out, uint32_t v) {
    for (int i = 0; i < 4; ++i) {
      int shift = big ? 8 * (3 - i) : 8 * i;
      out->push_back(static_cast<char>((v >> shift) & 0xff));
    }
  };
  std::string message;
  message.push_back(big ? 'B' : 'l');
  message.push_back(4);
  message.push_back(0);
  message.push_back(1);
  put32(&message, body_length);
  put32(&message, 7);  // serial
  put32(&message, fields_length);
  size_t header_end = (16 + fields_length + 7) / 8 * 8;
  message.append(header_end - 16, fill);
  message.append(body_length, fill);
  return message;
}

struct Collected {
  std::vector<std::string> messages;
  std::vector<std::string> errors;  // rules of non-fatal reports
  size_t max_capacity = 0;
};

// Feeds `stream` to `framer` in chunks whose sizes `next_chunk` picks, draining Next() after
// every receive, as the connection does.
template <typename ChunkSize>
Collected Feed(Framer* framer, const std::string& stream, ChunkSize next_chunk) {
  Collected collected;
  size_t fed = 0;
  auto drain = [&] {
    while (true) {
      std::span<const uint8_t> message;
      Status status = framer->Next(&message);
      if (!status.ok()) {
        collected.errors.push_back(status.rule());
        if (framer->broken()) return;
        continue;
      }
      if (message.empty()) return;
      collected.messages.emplace_back(reinterpret_cast<const char*>(message.data()),
                                      message.size());
    }
  };
  while (fed < stream.size() && !framer->broken()) {
    std::span<uint8_t> space;
    Status status = framer->ReceiveSpace(&space);
    EXPECT_TRUE(status.ok()) << status.message();
    if (!status.ok()) break;
    EXPECT_FALSE(space.empty());
    size_t count = std::min({space.size(), stream.size() - fed, next_chunk()});
    memcpy(space.data(), stream.data() + fed, count);
    framer->Received(count);
    fed += count;
    collected.max_capacity = std::max(collected.max_capacity, framer->capacity());
    drain();
  }
  return collected;
}

Collected FeedWhole(Framer* framer, const std::string& stream) {
  return Feed(framer, stream, [] { return size_t{1} << 30; });
}
Collected FeedBytewise(Framer* framer, const std::string& stream) {
  return Feed(framer, stream, [] { return size_t{1}; });
}

TEST(Framer, OneMessageInOneRead) {
  Framer framer;
  std::string message = Frame(20, 13, 'a');
  Collected got = FeedWhole(&framer, message);
  ASSERT_EQ(got.messages.size(), 1u);
  EXPECT_EQ(got.messages[0], message);
  EXPECT_TRUE(got.errors.empty());
  EXPECT_EQ(framer.buffered(), 0u);
}

TEST(Framer, SeveralMessagesInOneRead) {
  Framer framer;
  std::vector<std::string> sent = {Frame(8, 0, 'a'), Frame(33, 5, 'b'), Frame(0, 1, 'c', true)};
  Collected got = FeedWhole(&framer, sent[0] + sent[1] + sent[2]);
  EXPECT_EQ(got.messages, sent);
}

TEST(Framer, PartialReadsAtEveryByteBoundary) {
  std::vector<std::string> sent = {Frame(8, 0, 'a'), Frame(33, 5, 'b', true), Frame(0, 100, 'c')};
  std::string stream = sent[0] + sent[1] + sent[2];
  Framer bytewise;
  EXPECT_EQ(FeedBytewise(&bytewise, stream).messages, sent);
  // Every split point of the stream into two reads.
  for (size_t split = 0; split <= stream.size(); ++split) {
    Framer framer;
    size_t call = 0;
    Collected got = Feed(&framer, stream, [&] { return call++ == 0 ? split : stream.size(); });
    EXPECT_EQ(got.messages, sent) << "split at " << split;
  }
}

TEST(Framer, RandomChunkingsGiveTheSameMessages) {
  std::vector<std::string> sent;
  std::string stream;
  std::mt19937 random(12345);
  for (int i = 0; i < 50; ++i) {
    sent.push_back(
        Frame(random() % 200, random() % 300, static_cast<char>('a' + i % 26), i % 3 == 0));
    stream += sent.back();
  }
  for (int round = 0; round < 20; ++round) {
    Framer framer(256);
    Collected got = Feed(&framer, stream, [&] { return size_t{1} + random() % 97; });
    EXPECT_EQ(got.messages, sent) << "round " << round;
    EXPECT_TRUE(got.errors.empty());
  }
}

TEST(Framer, MessageLargerThanTheBufferGrowsItUpToTheMessage) {
  Framer framer(64, 4096);
  std::string small = Frame(8, 8, 's');
  std::string large = Frame(16, 1000, 'L');
  Collected got = Feed(&framer, small + large + small, [] { return size_t{50}; });
  EXPECT_EQ(got.messages, (std::vector<std::string>{small, large, small}));
  EXPECT_EQ(got.max_capacity, large.size());
}

TEST(Framer, BufferDoesNotGrowForMessagesThatFit) {
  Framer framer(128, 4096);
  std::string stream;
  for (int i = 0; i < 20; ++i) stream += Frame(8, 40, 'x');
  Collected got = Feed(&framer, stream, [] { return size_t{37}; });
  EXPECT_EQ(got.messages.size(), 20u);
  EXPECT_EQ(got.max_capacity, 128u);
}

TEST(Framer, BufferShrinksBackAfterALargeMessage) {
  Framer framer(64, 4096);
  Collected got = FeedWhole(&framer, Frame(0, 2000, 'L'));
  ASSERT_EQ(got.messages.size(), 1u);
  std::span<uint8_t> space;
  ASSERT_TRUE(framer.ReceiveSpace(&space).ok());
  EXPECT_EQ(framer.capacity(), 64u);
}

TEST(Framer, MessageOverTheCapIsDroppedAsAStreamAndTheFramerStaysUsable) {
  std::string before = Frame(8, 8, 'b');
  std::string huge = Frame(8, 100000, 'H');
  std::string after = Frame(8, 16, 'a');
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{64}, size_t{1} << 20}) {
    Framer fresh(64, 256);
    Collected got = Feed(&fresh, before + huge + after, [&] { return chunk; });
    EXPECT_EQ(got.messages, (std::vector<std::string>{before, after})) << "chunk " << chunk;
    EXPECT_EQ(got.errors, (std::vector<std::string>{"message-too-large"}));
    EXPECT_LE(got.max_capacity, 64u) << "the huge message must not be buffered";
    EXPECT_FALSE(fresh.broken());
  }
}

TEST(Framer, CorruptFixedHeaderIsFatal) {
  Framer framer;
  std::string bad = Frame(8, 8, 'x');
  bad[0] = 'X';
  Collected got = FeedWhole(&framer, Frame(8, 8, 'g') + bad + Frame(8, 8, 'g'));
  EXPECT_EQ(got.messages.size(), 1u);
  EXPECT_EQ(got.errors, (std::vector<std::string>{"bad-byte-order"}));
  EXPECT_TRUE(framer.broken());
  std::span<const uint8_t> message;
  EXPECT_STREQ(framer.Next(&message).rule(), "bad-byte-order");
  std::span<uint8_t> space;
  EXPECT_FALSE(framer.ReceiveSpace(&space).ok());
  framer.Reset();
  EXPECT_FALSE(framer.broken());
  EXPECT_EQ(FeedWhole(&framer, Frame(0, 0, 'z')).messages.size(), 1u);
}

TEST(Framer, BadProtocolVersionIsFatal) {
  Framer framer;
  std::string bad = Frame(8, 8, 'x');
  bad[3] = 2;
  Collected got = FeedBytewise(&framer, bad);
  EXPECT_EQ(got.errors, (std::vector<std::string>{"bad-protocol-version"}));
  EXPECT_TRUE(framer.broken());
}

TEST(Framer, IncompleteMessageIsHeldNotHandedOut) {
  Framer framer;
  std::string message = Frame(8, 8, 'x');
  Collected got = FeedWhole(&framer, message.substr(0, message.size() - 1));
  EXPECT_TRUE(got.messages.empty());
  EXPECT_EQ(framer.buffered(), message.size() - 1);
}

// The recorded fixtures (fixtures/valid/*.bin, from sd-bus, GLib and libdbus), one after another.
TEST(Framer, EveryRecordedFixtureFedOneByteAtATimeComesOutWholeAndParses) {
  std::vector<testing::Fixture> fixtures;
  ASSERT_TRUE(testing::ReadFixtures("fixtures/valid", &fixtures));
  std::string stream;
  for (const testing::Fixture& fixture : fixtures) {
    stream.append(fixture.bytes.begin(), fixture.bytes.end());
  }
  Framer framer(64);  // smaller than most fixtures: growth is exercised too
  Collected got = FeedBytewise(&framer, stream);
  ASSERT_EQ(got.messages.size(), fixtures.size());
  for (size_t i = 0; i < fixtures.size(); ++i) {
    EXPECT_EQ(got.messages[i], std::string(fixtures[i].bytes.begin(), fixtures[i].bytes.end()))
        << fixtures[i].name;
    Message message;
    Status status = Message::Parse(
        {reinterpret_cast<const uint8_t*>(got.messages[i].data()), got.messages[i].size()},
        &message);
    EXPECT_TRUE(status.ok()) << fixtures[i].name << ": " << status.rule() << ": "
                             << status.message();
  }
  EXPECT_TRUE(got.errors.empty());
}

}  // namespace
}  // namespace jsn
