// An LD_PRELOAD library for the daemon benchmarks (tools/bench-daemon) that counts heap
// allocations: malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign and valloc are
// counted and forwarded to glibc's own (__libc_*). The counts live in a file the benchmark
// names in $JSN_BENCH_ALLOC_COUNT_FILE, mapped shared, so it reads them while the daemon runs:
// two little-endian uint64 values, allocations and bytes requested. Works only with the
// dynamically linked daemon (a static binary ignores LD_PRELOAD). Allocations made before the
// constructor maps the file (by the dynamic loader or libc start-up) are added when it does.
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void* __libc_valloc(size_t);
}

namespace {

uint64_t g_early[2];
volatile uint64_t* g_counts = g_early;

void Count(size_t bytes) {
  __atomic_add_fetch(&g_counts[0], 1, __ATOMIC_RELAXED);
  __atomic_add_fetch(&g_counts[1], bytes, __ATOMIC_RELAXED);
}

__attribute__((constructor)) void MapCounts() {
  const char* path = getenv("JSN_BENCH_ALLOC_COUNT_FILE");
  if (path == nullptr) return;
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  if (ftruncate(fd, 16) != 0) {
    close(fd);
    return;
  }
  void* shared = mmap(nullptr, 16, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (shared == MAP_FAILED) return;
  auto* counts = static_cast<volatile uint64_t*>(shared);
  counts[0] = g_early[0];
  counts[1] = g_early[1];
  g_counts = counts;
}

}  // namespace

extern "C" {
void* malloc(size_t size) {
  Count(size);
  return __libc_malloc(size);
}
void* calloc(size_t count, size_t size) {
  Count(count * size);
  return __libc_calloc(count, size);
}
void* realloc(void* old, size_t size) {
  Count(size);
  return __libc_realloc(old, size);
}
void* memalign(size_t alignment, size_t size) {
  Count(size);
  return __libc_memalign(alignment, size);
}
void* aligned_alloc(size_t alignment, size_t size) {
  Count(size);
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, size_t alignment, size_t size) {
  Count(size);
  void* p = __libc_memalign(alignment, size);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
void* valloc(size_t size) {
  Count(size);
  return __libc_valloc(size);
}
}
