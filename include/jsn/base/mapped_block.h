// MappedBlock: memory blocks that are each their own anonymous mapping (mmap), resized with
// mremap and returned with munmap. The musl build's malloc, calloc, realloc and free are these
// (src/base/musl/runtime.cc), in place of musl's general-purpose allocator.
//
// It suits this program and not most others: the daemon makes a handful of allocations at
// start-up (a 64 KiB receive buffer, a 256 KiB send queue) and resizes the receive buffer only
// when a message larger than it arrives. Blocks that size get their own mapping from any
// malloc. The small ones are few (libc's posix_spawn file actions, two, built once by the
// Spawner; strdup in realpath, once in `subscribe`): a page each.
//
// The caller owns each block from MapBlock/ResizeBlock until it hands it to UnmapBlock. Every
// block is at least 16-byte aligned (alignof(max_align_t)). On failure a function returns
// nullptr with errno set (ENOMEM or EINVAL), as malloc does.
#pragma once

#include <cstddef>

namespace jsn {

// A new zero-filled block of `size` bytes (a unique one when size is 0), aligned to `alignment`,
// a power of two (16 is enough for any object).
void* MapBlock(size_t size, size_t alignment = 16);
// The block's bytes moved to a block of `size` bytes, as realloc does: the first min(old, new)
// bytes are kept, the alignment up to a page too. `block` may be nullptr (then it is
// MapBlock(size)). On failure `block` is untouched and still owned.
void* ResizeBlock(void* block, size_t size);
// Gives the block's mapping back; nullptr is ignored.
void UnmapBlock(void* block);
// How many bytes the block holds at least: the size asked for, up to the end of its last page.
size_t BlockCapacity(const void* block);

}  // namespace jsn
