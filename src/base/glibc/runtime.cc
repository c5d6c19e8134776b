// The one libstdc++ run-time symbol the static glibc build (`make`, `make static`) supplies
// itself. std::string_view::substr and friends call std::__throw_out_of_range_fmt on an
// out-of-range position; libstdc++'s own definition throws, which links its whole exception
// machinery (unwinder, terminate handler, C++ demangler: about 70 KiB) into a program built
// with -fno-exceptions, where a throw can only end the program anyway. Here it ends the
// program directly, as libstdc++ does when exceptions are off. The test binaries (which use
// exceptions) and the sanitizer builds keep libstdc++'s. src/base/musl/runtime.cc has the same for
// the musl build, besides the rest that build needs.
#include <cstdlib>

namespace std {
void __throw_out_of_range_fmt(const char*, ...) { abort(); }
}  // namespace std
