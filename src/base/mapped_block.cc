#include "jsn/base/mapped_block.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace jsn {
namespace {

// Stored just before every block: where its mapping starts and how long it is.
struct Header {
  size_t mapping_length;
  size_t offset;  // from the start of the mapping to the block
};
static_assert(sizeof(Header) == 16, "blocks after a header at a mapping start are 16-aligned");

Header* HeaderOf(const void* block) {
  return reinterpret_cast<Header*>(reinterpret_cast<uintptr_t>(block) - sizeof(Header));
}

void* MapFailed() {
  errno = ENOMEM;
  return nullptr;
}

}  // namespace

void* MapBlock(size_t size, size_t alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    errno = EINVAL;
    return nullptr;
  }
  if (alignment < sizeof(Header)) alignment = sizeof(Header);
  // The block starts at the first multiple of `alignment` with room for the header before it.
  // The mapping starts on a page boundary, a multiple of any alignment up to a page, so the
  // block is at most `alignment` bytes in (exactly that up to a page).
  if (size > SIZE_MAX / 2 - alignment) return MapFailed();
  size_t length = alignment + size;
  void* mapping = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapping == MAP_FAILED) return MapFailed();
  uintptr_t start = reinterpret_cast<uintptr_t>(mapping);
  uintptr_t block = (start + sizeof(Header) + alignment - 1) & ~(uintptr_t{alignment} - 1);
  Header* header = HeaderOf(reinterpret_cast<void*>(block));
  header->mapping_length = length;
  header->offset = block - start;
  return reinterpret_cast<void*>(block);
}

void* ResizeBlock(void* block, size_t size) {
  if (block == nullptr) return MapBlock(size);
  Header* header = HeaderOf(block);
  size_t offset = header->offset;
  if (size > SIZE_MAX / 2 - offset) return MapFailed();
  void* mapping = static_cast<char*>(block) - offset;
  // mremap keeps the mapping's bytes at their offsets, so the block and its header move together.
  void* moved = mremap(mapping, header->mapping_length, offset + size, MREMAP_MAYMOVE);
  if (moved == MAP_FAILED) return MapFailed();
  void* resized = static_cast<char*>(moved) + offset;
  HeaderOf(resized)->mapping_length = offset + size;
  return resized;
}

void UnmapBlock(void* block) {
  if (block == nullptr) return;
  Header* header = HeaderOf(block);
  munmap(static_cast<char*>(block) - header->offset, header->mapping_length);
}

size_t BlockCapacity(const void* block) {
  const Header* header = HeaderOf(block);
  size_t page = static_cast<size_t>(getpagesize());
  size_t mapped = (header->mapping_length + page - 1) / page * page;
  return mapped - header->offset;
}

}  // namespace jsn
