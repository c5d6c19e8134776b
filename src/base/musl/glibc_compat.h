// Forced first into every translation unit of the musl build (`make static-musl`, -include).
// Debian's libstdc++ headers are configured for glibc: a few of them name glibc-only macros
// even when the code only uses header-only parts of the library (<chrono> in C++20 reaches
// <locale> declarations). These stand-ins let those headers compile against musl's libc
// headers. Nothing here is called: the program uses no locale or ctype facet, so the mask
// values below only need to be distinct bits.
#pragma once

#define __GLIBC_PREREQ(major, minor) 0  // os_defines.h: "glibc at least major.minor?" no
#define __locale_t locale_t             // c++locale.h: glibc's name for POSIX locale_t

// ctype_base.h: glibc's <ctype.h> class bits.
#define _ISupper (1 << 0)
#define _ISlower (1 << 1)
#define _ISalpha (1 << 2)
#define _ISdigit (1 << 3)
#define _ISxdigit (1 << 4)
#define _ISspace (1 << 5)
#define _ISprint (1 << 6)
#define _ISgraph (1 << 7)
#define _IScntrl (1 << 8)
#define _ISpunct (1 << 9)
#define _ISalnum (1 << 10)
#define _ISblank (1 << 11)
