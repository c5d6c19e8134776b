// The few libstdc++ run-time symbols the daemon's header-only use of the standard library
// still references, for the musl build (`make static-musl`), which links no libstdc++.
// With -fno-exceptions a "throw" can only end the program, as libstdc++ itself does then.
#include <cstdlib>
#include <new>

namespace std {
// std::string_view::substr and friends call this on an out-of-range position.
void __throw_out_of_range_fmt(const char*, ...) { abort(); }
}  // namespace std

// The daemon allocates nothing after start-up; should anything call operator new, it gets
// malloc, as with libstdc++ (the build uses -fno-exceptions, so failure aborts). Unreferenced,
// --gc-sections drops them.
void* operator new(size_t size) {
  if (void* p = malloc(size == 0 ? 1 : size)) return p;
  abort();
}
void* operator new[](size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { free(p); }
void operator delete[](void* p) noexcept { free(p); }
void operator delete(void* p, size_t) noexcept { free(p); }
void operator delete[](void* p, size_t) noexcept { free(p); }
