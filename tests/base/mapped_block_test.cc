#include "jsn/base/mapped_block.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace jsn {
namespace {

uintptr_t Address(const void* p) { return reinterpret_cast<uintptr_t>(p); }

// Whether the page holding `p` is mapped: msync fails with ENOMEM on an unmapped range.
bool PageMapped(const void* p) {
  uintptr_t page = static_cast<uintptr_t>(getpagesize());
  return msync(reinterpret_cast<void*>(Address(p) & ~(page - 1)), page, MS_ASYNC) == 0;
}

bool AllBytesAre(const void* p, size_t size, unsigned char value) {
  const unsigned char* bytes = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < size; ++i) {
    if (bytes[i] != value) return false;
  }
  return true;
}

TEST(MappedBlock, NewBlocksAreZeroWritableAndAligned) {
  for (size_t size : {size_t{1}, size_t{100}, size_t{4096}, size_t{64 * 1024}}) {
    void* block = MapBlock(size);
    ASSERT_NE(block, nullptr) << size;
    EXPECT_EQ(Address(block) % 16, 0u) << size;
    EXPECT_TRUE(AllBytesAre(block, size, 0)) << size;
    memset(block, 0xab, size);
    EXPECT_GE(BlockCapacity(block), size);
    UnmapBlock(block);
  }
}

TEST(MappedBlock, ZeroBytesIsAUniqueBlock) {
  void* a = MapBlock(0);
  void* b = MapBlock(0);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a, b);
  UnmapBlock(a);
  UnmapBlock(b);
}

TEST(MappedBlock, BlocksHonourAlignmentsUpToAndPastAPage) {
  for (size_t alignment : {size_t{1}, size_t{8}, size_t{64}, size_t{4096}, size_t{65536}}) {
    void* block = MapBlock(300, alignment);
    ASSERT_NE(block, nullptr) << alignment;
    EXPECT_EQ(Address(block) % alignment, 0u) << alignment;
    EXPECT_EQ(Address(block) % 16, 0u) << alignment;
    memset(block, 1, 300);
    EXPECT_GE(BlockCapacity(block), 300u);
    UnmapBlock(block);
  }
}

TEST(MappedBlock, AnAlignmentThatIsNotAPowerOfTwoIsInvalid) {
  for (size_t alignment : {size_t{0}, size_t{3}, size_t{48}}) {
    errno = 0;
    EXPECT_EQ(MapBlock(10, alignment), nullptr) << alignment;
    EXPECT_EQ(errno, EINVAL) << alignment;
  }
}

TEST(MappedBlock, ImpossibleSizesFailWithEnomem) {
  for (size_t size : {SIZE_MAX, SIZE_MAX / 2, SIZE_MAX - 15, size_t{1} << 62}) {
    errno = 0;
    EXPECT_EQ(MapBlock(size), nullptr) << size;
    EXPECT_EQ(errno, ENOMEM) << size;
  }
}

TEST(MappedBlock, GrowingKeepsTheBytes) {
  auto* block = static_cast<unsigned char*>(MapBlock(64 * 1024));
  ASSERT_NE(block, nullptr);
  for (size_t i = 0; i < 64 * 1024; ++i) block[i] = static_cast<unsigned char>(i * 7);
  auto* grown = static_cast<unsigned char*>(ResizeBlock(block, 8 * 1024 * 1024));
  ASSERT_NE(grown, nullptr);
  EXPECT_EQ(Address(grown) % 16, 0u);
  for (size_t i = 0; i < 64 * 1024; ++i) {
    ASSERT_EQ(grown[i], static_cast<unsigned char>(i * 7)) << i;
  }
  grown[8 * 1024 * 1024 - 1] = 1;  // the whole new size is writable
  EXPECT_GE(BlockCapacity(grown), 8u * 1024 * 1024);
  UnmapBlock(grown);
}

TEST(MappedBlock, ShrinkingKeepsTheBytesThatRemainAndGivesPagesBack) {
  auto* block = static_cast<unsigned char*>(MapBlock(1024 * 1024));
  ASSERT_NE(block, nullptr);
  for (size_t i = 0; i < 1024 * 1024; ++i) block[i] = static_cast<unsigned char>(i * 3);
  auto* shrunk = static_cast<unsigned char*>(ResizeBlock(block, 5000));
  ASSERT_NE(shrunk, nullptr);
  for (size_t i = 0; i < 5000; ++i) ASSERT_EQ(shrunk[i], static_cast<unsigned char>(i * 3)) << i;
  EXPECT_GE(BlockCapacity(shrunk), 5000u);
  EXPECT_LT(BlockCapacity(shrunk), 5000u + 2 * static_cast<size_t>(getpagesize()));
  EXPECT_FALSE(PageMapped(shrunk + 512 * 1024));
  UnmapBlock(shrunk);
}

TEST(MappedBlock, ResizingNothingMapsANewBlock) {
  void* block = ResizeBlock(nullptr, 100);
  ASSERT_NE(block, nullptr);
  EXPECT_TRUE(AllBytesAre(block, 100, 0));
  UnmapBlock(block);
}

TEST(MappedBlock, AFailedResizeLeavesTheBlockAsItWas) {
  auto* block = static_cast<unsigned char*>(MapBlock(100));
  ASSERT_NE(block, nullptr);
  memset(block, 0x5a, 100);
  errno = 0;
  EXPECT_EQ(ResizeBlock(block, SIZE_MAX), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(ResizeBlock(block, size_t{1} << 62), nullptr);
  EXPECT_TRUE(AllBytesAre(block, 100, 0x5a));
  UnmapBlock(block);
}

TEST(MappedBlock, UnmappingGivesTheMemoryBack) {
  void* block = MapBlock(3 * 4096);
  ASSERT_NE(block, nullptr);
  EXPECT_TRUE(PageMapped(block));
  UnmapBlock(block);
  EXPECT_FALSE(PageMapped(block));
  UnmapBlock(nullptr);  // ignored, as free(nullptr) is
}

}  // namespace
}  // namespace jsn
