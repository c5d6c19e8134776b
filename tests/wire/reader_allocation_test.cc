// Proves the reader allocates nothing and copies nothing: this file replaces the global
// operator new/delete with counting versions (for the whole test binary; they forward to
// malloc/free), then parses a systemd-shaped PropertiesChanged signal, walks every value,
// looks up ActiveState, and checks that no allocation happened and that every string view
// points into the caller's buffer.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "jsn/wire/reader.h"
#include "jsn/wire/writer.h"

namespace {
std::atomic<size_t> g_allocations{0};

void* CountedAllocate(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(size_t size) { return CountedAllocate(size); }
void* operator new[](size_t size) { return CountedAllocate(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](size_t size, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace jsn {
namespace {

// A PropertiesChanged like systemd's for a unit: many properties of many types, and some in
// the invalidated list.
std::vector<uint8_t> SystemdPropertiesChanged(ByteOrder order) {
  std::vector<uint8_t> buffer(8192);
  HeaderFields fields;
  fields.type = MessageType::kSignal;
  fields.serial = 1234;
  fields.path = "/org/freedesktop/systemd1/unit/juju_2dsystemd_2dnotices_2eservice";
  fields.interface = "org.freedesktop.DBus.Properties";
  fields.member = "PropertiesChanged";
  fields.sender = ":1.1";
  fields.signature = "sa{sv}as";
  Writer w(buffer, order);
  w.Begin(fields);
  w.AppendString("org.freedesktop.systemd1.Unit");
  w.OpenArray();
  const auto string_property = [&](std::string_view key, std::string_view value) {
    w.OpenDictEntry();
    w.AppendString(key);
    w.OpenVariant("s");
    w.AppendString(value);
    w.CloseVariant();
    w.CloseDictEntry();
  };
  const auto time_property = [&](std::string_view key, uint64_t value) {
    w.OpenDictEntry();
    w.AppendString(key);
    w.OpenVariant("t");
    w.AppendUint64(value);
    w.CloseVariant();
    w.CloseDictEntry();
  };
  time_property("ActiveEnterTimestamp", 1700000000000000);
  time_property("ActiveEnterTimestampMonotonic", 12345678);
  time_property("ActiveExitTimestamp", 0);
  time_property("InactiveEnterTimestamp", 0);
  string_property("SubState", "running");
  string_property("LoadState", "loaded");
  w.OpenDictEntry();
  w.AppendString("Job");
  w.OpenVariant("(uo)");
  w.OpenStruct();
  w.AppendUint32(0);
  w.AppendObjectPath("/");
  w.CloseStruct();
  w.CloseVariant();
  w.CloseDictEntry();
  w.OpenDictEntry();
  w.AppendString("CanStart");
  w.OpenVariant("b");
  w.AppendBool(true);
  w.CloseVariant();
  w.CloseDictEntry();
  w.OpenDictEntry();
  w.AppendString("Conditions");
  w.OpenVariant("a(sbbsi)");
  w.OpenArray();
  w.OpenStruct();
  w.AppendString("ConditionPathExists");
  w.AppendBool(false);
  w.AppendBool(false);
  w.AppendString("/etc/x");
  w.AppendInt32(1);
  w.CloseStruct();
  w.CloseArray();
  w.CloseVariant();
  w.CloseDictEntry();
  string_property("ActiveState", "active");
  time_property("StateChangeTimestamp", 1700000000000001);
  w.CloseArray();
  w.OpenArray();
  w.AppendString("Names");
  w.AppendString("Following");
  w.CloseArray();
  std::span<const uint8_t> bytes;
  Status status = w.Finish(&bytes);
  EXPECT_TRUE(status.ok()) << status.message();
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

struct WalkResult {
  size_t values = 0;
  size_t strings = 0;
  size_t strings_outside = 0;
  uint64_t checksum = 0;
};

// Touches every value through its accessor; returns nothing heap-allocated.
void Walk(Iterator it, std::span<const uint8_t> buffer, WalkResult* result) {
  Value v;
  while (it.Next(&v)) {
    ++result->values;
    switch (v.type()) {
      case 's':
      case 'o':
      case 'g': {
        const std::string_view text = v.as_string();
        const auto* p = reinterpret_cast<const uint8_t*>(text.data());
        ++result->strings;
        if (p < buffer.data() || p + text.size() > buffer.data() + buffer.size()) {
          ++result->strings_outside;
        }
        result->checksum += text.size();
        break;
      }
      case 'b':
        result->checksum += v.as_bool();
        break;
      case 'i':
        result->checksum += static_cast<uint64_t>(v.as_int32());
        break;
      case 'u':
        result->checksum += v.as_uint32();
        break;
      case 't':
        result->checksum += v.as_uint64();
        break;
      default:
        break;
    }
    Walk(v.children(), buffer, result);
  }
}

class ReaderAllocation : public ::testing::TestWithParam<ByteOrder> {};

TEST_P(ReaderAllocation, ParseWalkAndLookupAllocateNothingAndReturnViewsIntoTheBuffer) {
  const std::vector<uint8_t> bytes = SystemdPropertiesChanged(GetParam());
  Message message;
  WalkResult walk;
  Value changed, active_state, sub_state, missing;
  bool found_active = false, found_sub = false, found_missing = true;

  const size_t before = g_allocations.load();
  Status status = Message::Parse(bytes, &message);
  if (status.ok()) {
    Walk(message.body(), bytes, &walk);
    Iterator body = message.body();
    body.Next(&changed);
    body.Next(&changed);
    found_active = FindInStringVariantDict(changed, "ActiveState", &active_state);
    found_sub = FindInStringVariantDict(changed, "SubState", &sub_state);
    found_missing = FindInStringVariantDict(changed, "NoSuchProperty", &missing);
  }
  const size_t after = g_allocations.load();

  ASSERT_TRUE(status.ok()) << status.rule() << ": " << status.message();
  EXPECT_EQ(after - before, 0u) << "the reader allocated";
  EXPECT_GT(walk.values, 40u);
  EXPECT_EQ(walk.strings_outside, 0u) << "a string view points outside the buffer";
  ASSERT_TRUE(found_active);
  ASSERT_TRUE(found_sub);
  EXPECT_FALSE(found_missing);
  EXPECT_EQ(active_state.as_string(), "active");
  EXPECT_EQ(sub_state.as_string(), "running");
  const auto* data = reinterpret_cast<const uint8_t*>(active_state.as_string().data());
  EXPECT_GE(data, bytes.data());
  EXPECT_LT(data, bytes.data() + bytes.size());
  const auto* path = reinterpret_cast<const uint8_t*>(message.header().path.data());
  EXPECT_GE(path, bytes.data());
  EXPECT_LT(path, bytes.data() + bytes.size());
}

TEST_P(ReaderAllocation, RejectingAMessageAllocatesNothingEither) {
  std::vector<uint8_t> bytes = SystemdPropertiesChanged(GetParam());
  bytes[bytes.size() - 3] = 0xff;  // inside "Following": not UTF-8
  Message message;
  const size_t before = g_allocations.load();
  Status status = Message::Parse(bytes, &message);
  const size_t after = g_allocations.load();
  EXPECT_STREQ(status.rule(), "string-not-utf8");
  EXPECT_EQ(after - before, 0u);
}

TEST(ReaderAllocation, TheCounterSeesAllocations) {
  // Guards against a counter that cannot fail: an allocation here must be counted.
  // A direct call, which (unlike a new-expression) the compiler may not elide.
  const size_t before = g_allocations.load();
  void* p = ::operator new(100);
  const size_t after = g_allocations.load();
  ::operator delete(p);
  EXPECT_EQ(after - before, 1u);
}

TEST(WriterAllocation, BuildingIntoACallerBufferAllocatesNothing) {
  uint8_t buffer[512];
  HeaderFields fields;
  fields.serial = 3;
  fields.destination = "org.freedesktop.systemd1";
  fields.path = "/org/freedesktop/systemd1";
  fields.interface = "org.freedesktop.systemd1.Manager";
  fields.member = "StartUnit";
  fields.signature = "ssa{sv}";
  std::span<const uint8_t> bytes;
  const size_t before = g_allocations.load();
  Writer w(buffer, ByteOrder::kBig);
  w.Begin(fields);
  w.AppendString("ssh.service");
  w.AppendString("replace");
  w.OpenArray();
  w.OpenDictEntry();
  w.AppendString("k");
  w.OpenVariant("t");
  w.AppendUint64(1);
  w.CloseVariant();
  w.CloseDictEntry();
  w.CloseArray();
  Status status = w.Finish(&bytes);
  const size_t after = g_allocations.load();
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(after - before, 0u);
  EXPECT_EQ(bytes.data(), buffer);
}

INSTANTIATE_TEST_SUITE_P(BothByteOrders, ReaderAllocation,
                         ::testing::Values(ByteOrder::kLittle, ByteOrder::kBig));

}  // namespace
}  // namespace jsn
