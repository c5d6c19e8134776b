# juju-systemd-notices: a plain Makefile, no generator. Objects go under $(BUILD).
#   make            build $(BUILD)/juju-systemd-notices, fully static (glibc), with debug info
#   make check      install missing test packages (as root), run every suite, then the unit
#                   tests again under AddressSanitizer + UndefinedBehaviorSanitizer
#   make check-system  only the system suite: systemd as PID 1 on the real system bus (root)
#   make check-arch    the unit tests and daemon scenarios on x86_64, aarch64, ppc64le and
#                   s390x, foreign ones under qemu-user (installs cross compilers first, as root)
#   make arch-binaries  $(BUILD)/arch/ARCH/juju-systemd-notices-musl for each of those
#   make soak       SOAK_SECONDS (600) of random life on a real systemd user manager (root)
#   make charm-lib  write lib/charms/... (the Charmhub file) from the package's module and VERSION
#   make format     apply .clang-format to src/, include/ and tests/ (make check checks it)
#   make check-library only the charm library's tests (tests/lib/), under ops 2 and ops 3
#                   (tests/lib/ops_path.py finds each; nothing needs setting), and pyright strict
#                   over the library (tests/lib/lint; npm installs pyright into build/pyright)
#   make demo       run the daemon against a real systemd user manager (as root), see tools/demo
#   make static     the same, stripped: $(BUILD)/juju-systemd-notices-static
#   make static-musl  the same against musl (Debian musl-tools) with no libstdc++ run time:
#                   $(BUILD)/juju-systemd-notices-musl; installs musl-tools first (as root)
#   make bench      install the bench-only packages (as root), build and run every benchmark,
#                   print one table and write it to $(BUILD)/bench.tsv and $(BUILD)/bench.json
#   make wheels     the Python package: an sdist and a wheel per architecture (WHEEL_ARCHES) in
#                   $(DIST), each with the static musl binary built for it
#   make install / uninstall   honour PREFIX and DESTDIR
# CXX, CXXFLAGS and LDFLAGS override as usual; the flags the code needs are kept apart from them.

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
DESTDIR ?=
CXXFLAGS ?= -O2 -g
LDFLAGS ?=
BUILD   ?= build
SANITIZE ?=
CXX ?= g++

PROGRAM := juju-systemd-notices
# The one version of the binary, the Python package and the charm library (MAJOR.MINOR.MICRO:
# the library's LIBAPI is MAJOR, its LIBPATCH MINOR; see tools/charm-lib). Every object waits
# on the file, so a new version rebuilds what prints it.
VERSION := $(strip $(file < VERSION))
ifeq ($(shell printf '%s\n' '$(VERSION)' | grep -Ex '[0-9]+\.[0-9]+\.[0-9]+'),)
$(error expected the file VERSION to hold MAJOR.MINOR.MICRO, e.g. 0.3.0, found '$(VERSION)')
endif
VERSION_FLAG := -DJSN_VERSION='"$(VERSION)"'

# -Wconversion and -Wsign-conversion hold for the daemon, whose parser does offset arithmetic
# where a silent narrowing is a bug. Tests drop those two: gtest's comparison macros trip them
# on every literal, and a test's arithmetic is not what runs as root.
# WERROR= (setup.py, building a user's sdist) keeps warnings from stopping a newer compiler.
WERROR        ?= -Werror
WARNINGS      := -Wall -Wextra -Wpedantic $(WERROR) -Wshadow
WARNINGS_CODE := $(WARNINGS) -Wconversion -Wsign-conversion
ifeq ($(SANITIZE),1)
# Without vptr: the library is built without RTTI, so UBSan's dynamic-type check, which reads a
# class's typeinfo, has none for the library's own classes (a test that calls a BusSession
# would not link); the library's objects are built without it anyway.
SANFLAGS := -fsanitize=address,undefined -fno-sanitize=vptr -fno-sanitize-recover=all \
            -fno-omit-frame-pointer
else ifeq ($(SANITIZE),fuzz)
# The fuzz build (see "Fuzzing" below): coverage for libFuzzer on every object.
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer
endif
# No exceptions, no RTTI; and no locks around function-local statics (-fno-threadsafe-statics):
# the daemon and its subcommands run one thread, and the guard functions would link
# libstdc++'s exception machinery into the static program.
CODE_FLAGS := -std=c++20 -Iinclude $(VERSION_FLAG) -fno-exceptions -fno-rtti -fno-threadsafe-statics \
              $(WARNINGS_CODE) $(SANFLAGS) -MMD -MP
TEST_FLAGS  = -std=c++20 -Iinclude $(VERSION_FLAG) -Itests $(GTEST_CFLAGS) $(WARNINGS) $(SANFLAGS) -MMD -MP
# The program links statically (glibc, libstdc++, libgcc): one file that runs on any Linux of
# its architecture and resolves nothing at run time (`make static` is the same, stripped). A
# sanitizer build cannot link statically: it keeps libc shared, as does the copy the benchmarks
# run under an LD_PRELOAD allocation counter.
# The static links add src/base/glibc/runtime.cc (keeps libstdc++'s exception machinery out, about
# 70 KiB) and drop unreferenced sections of libc.
DYNAMIC_LDFLAGS := -static-libstdc++ -static-libgcc
STATIC_LDFLAGS  := -static -Wl,--gc-sections
PROGRAM_LDFLAGS := $(if $(SANFLAGS),$(DYNAMIC_LDFLAGS),$(STATIC_LDFLAGS))
PROGRAM_RUNTIME := $(if $(SANFLAGS),,$(BUILD)/obj/base/glibc/runtime.o)

PARTS        := base wire bus systemd daemon cli
LIB_SRCS     := $(filter-out src/cli/main.cc,$(foreach part,$(PARTS),$(wildcard src/$(part)/*.cc)))
LIB_OBJS     := $(LIB_SRCS:src/%.cc=$(BUILD)/obj/%.o)
# libjsn.a keeps one member per file name (ar replaces a member of the same name), so no two
# parts may have a file of the same name.
ifneq ($(words $(notdir $(LIB_SRCS))),$(words $(sort $(notdir $(LIB_SRCS)))))
$(error expected every file name in src/PART/ to be unique across parts (libjsn.a keeps one member per name), found $(sort $(foreach f,$(notdir $(LIB_SRCS)),$(if $(filter-out 1,$(words $(filter %/$(f),$(LIB_SRCS)))),$(f)))) twice)
endif
SUPPORT_SRCS := $(wildcard tests/support/*.cc)
SUPPORT_OBJS := $(SUPPORT_SRCS:tests/support/%.cc=$(BUILD)/tests/support/%.o)
UNIT_SRCS    := $(wildcard tests/*_test.cc) $(foreach part,$(PARTS),$(wildcard tests/$(part)/*_test.cc))
UNIT_OBJS    := $(UNIT_SRCS:tests/%.cc=$(BUILD)/tests/%.o)
INTEG_SRCS   := $(wildcard tests/integration/*_test.cc)
INTEG_OBJS   := $(INTEG_SRCS:tests/integration/%.cc=$(BUILD)/tests/integration/%.o)
SYSTEM_SRCS  := $(wildcard tests/system/*_test.cc)
SYSTEM_OBJS  := $(SYSTEM_SRCS:tests/system/%.cc=$(BUILD)/tests/system/%.o)
SOAK_SRCS    := $(wildcard tests/soak/*_test.cc)
SOAK_OBJS    := $(SOAK_SRCS:tests/soak/%.cc=$(BUILD)/tests/soak/%.o)
GTEST_LIBS   := -lgtest_main -lgtest -pthread
# GTEST_FROM_SOURCE=1: GoogleTest compiled from Debian's source (package googletest) by $(CXX),
# for a cross compiler, which has no GoogleTest library (see Architectures, below).
ifeq ($(GTEST_FROM_SOURCE),1)
GTEST_DIR    := /usr/src/googletest/googletest
GTEST_CFLAGS := -isystem $(GTEST_DIR)/include
GTEST_OBJS   := $(BUILD)/gtest/gtest-all.o $(BUILD)/gtest/gtest_main.o
GTEST_LIBS   := -pthread
$(BUILD)/gtest/%.o: $(GTEST_DIR)/src/%.cc
	@mkdir -p $(@D)
	$(CXX) -std=c++20 $(CXXFLAGS) $(TEST_OPTIMIZATION) $(GTEST_CFLAGS) -I$(GTEST_DIR) -c -o $@ $<
endif

.PHONY: wheels charm-lib-check charm-lib soak soak-tests all format static static-musl musl-deps bench bench-deps check check-system check-library deps demo unit-tests integration-tests system-tests asan-unit-tests install uninstall clean
.DELETE_ON_ERROR:

all: $(BUILD)/$(PROGRAM)

$(BUILD)/libjsn.a: $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/$(PROGRAM): $(BUILD)/obj/cli/main.o $(PROGRAM_RUNTIME) $(BUILD)/libjsn.a
	$(CXX) $(CXXFLAGS) $(SANFLAGS) $(PROGRAM_LDFLAGS) $(LDFLAGS) -o $@ $^

static: $(BUILD)/$(PROGRAM)-static
$(BUILD)/$(PROGRAM)-static: $(BUILD)/obj/cli/main.o $(BUILD)/obj/base/glibc/runtime.o $(BUILD)/libjsn.a
	$(CXX) $(CXXFLAGS) $(STATIC_LDFLAGS) -s $(LDFLAGS) -o $@ $^
$(BUILD)/obj/base/glibc/runtime.o: src/base/glibc/runtime.cc Makefile VERSION
	@mkdir -p $(@D)
	$(CXX) $(CODE_FLAGS) $(CXXFLAGS) -c -o $@ $<

# musl: libstdc++'s headers (only header-only parts are used) over musl's libc headers, with
# src/base/musl/glibc_compat.h standing in for the glibc macros Debian's libstdc++ configuration names,
# and src/base/musl/runtime.cc for the few run-time symbols those headers reference. No libstdc++ is
# linked. Under 128 KiB (issue 8; about 127 KiB with the charm subcommands, sd_notify, the
# state file and remove, which grew it to 162 KiB) took, with nothing left out:
#   - -Oz (GCC 12), not -Os: 1.2 KiB less, when issue 18's checks on what is written as root
#     came; the parser's speed is measured on the -O2 glibc build, the musl one is for size;
#   - no scanf or strto* (about 16 KiB of libc): numbers are read by jsn::ParseDecimal;
#   - no libc printf core (printf_core, fmt_fp; about 9 KiB): runtime.cc's vfprintf and vsnprintf,
#     which every printf-family function calls, are jsn::FormatTo (include/jsn/base/format.h);
#   - no mallocng (about 8 KiB): runtime.cc's allocator is jsn::MapBlock (include/jsn/base/mapped_block.h);
#   - link-time optimisation in one partition (about 4 KiB);
#   - -z noseparate-code: read-only data shares the code's segment, as before binutils 2.31,
#     instead of pages of its own (4 to 8 KiB of padding; the cost is that constants are
#     executable bytes too); no build-id note;
#   - -z norelro: musl applies RELRO only in its dynamic linker (and static PIE); this static,
#     non-PIE program never mprotects it, so its page alignment was up to 4 KiB of padding for
#     nothing; and -z common-page-size=64: otherwise ld may start the data segment on a page of
#     its own in the file (up to 4 KiB of padding) to save a page of memory. Both came with the
#     subcommand remove and the binary's sha256 (issue 17), 2.9 KiB of padding before them.
# Without LTO, or with separate code, it is 128,656 bytes; without both, 132,752.
# Then issue 24 took 4.2 KiB off (4,252 bytes; 130,992 to 126,740), each changing no behaviour:
#   - -fno-pie: the link is static and not PIE anyway, but g++ compiled PIE code (Debian's
#     default), RIP-relative or through the GOT where an absolute address is shorter (2.3 KiB);
#   - -fno-jump-tables and -fno-tree-switch-conversion: switches as compare chains, no table of
#     addresses or values in .rodata (384 bytes);
#   - -fno-inline-small-functions: -Oz's guesses that inlining a small function shrinks the
#     code were wrong here more often than right (256 bytes);
#   - -malign-data=abi (x86 only): static data at the ABI's alignment, not padded to 32 bytes
#     for vector loads this code does not make (192 bytes);
#   - no section headers: stripped, the file still ends with the section header table, its
#     names and GCC's .comment, which nothing reads (the kernel loads program headers only);
#     the e_sh* fields are zeroed and the file cut after its last loaded segment (about 1.1 KiB).
# Issue 26 made room for its records, 6,136 bytes (129,940 to 123,804), again changing no
# behaviour: src/base/musl/runtime.cc's stdio output side and plain system calls for clock_gettime,
# fchmod and (x86_64) the stat family (4,248 bytes; it says what each leaves out), "expected "
# stored once by Status::Expected (1,024), and, on x86_64 only (the others grew with them, s390x
# by 3.3 KiB), -fno-tree-dominator-opts, -fno-thread-jumps, -fno-tree-ch and -fno-code-hoisting:
# GCC's jump threading and loop-header copying duplicate blocks to speed up paths, and hoisting
# then keeps more live across them (864 bytes; together, not one by one, where each is 0 to 256).
#
# The target is MUSL_CXX's: another architecture's musl build is the same with a Debian cross
# compiler and that architecture's musl (multiarch musl-dev:ARCH), e.g.
#   make static-musl MUSL_CXX=s390x-linux-gnu-g++ MUSL_CC=s390x-linux-musl-gcc BUILD=build/arch/s390x
# (`make arch-binaries`, below, builds all of ARCHES so). MUSL_CXX names its target
# (-dumpmachine, e.g. s390x-linux-gnu), whose musl headers are in /usr/include/s390x-linux-musl;
# libstdc++'s headers are in /usr/include/c++/VER and /usr/include/TRIPLET/c++/VER for the
# native g++, /usr/TRIPLET/include/c++/VER and that dir's TRIPLET/ for a cross compiler.
MUSL_CXX     ?= g++
MUSL_CC      ?= musl-gcc
MUSL_GCC_VER  = $(shell $(MUSL_CXX) -dumpversion)
MUSL_GNU      = $(shell $(MUSL_CXX) -dumpmachine)
MUSL_CROSS_CXX_DIR = /usr/$(MUSL_GNU)/include/c++/$(MUSL_GCC_VER)
MUSL_CXX_INCLUDES  = $(if $(wildcard $(MUSL_CROSS_CXX_DIR)), \
  -isystem $(MUSL_CROSS_CXX_DIR) -isystem $(MUSL_CROSS_CXX_DIR)/$(MUSL_GNU), \
  -isystem /usr/include/c++/$(MUSL_GCC_VER) -isystem /usr/include/$(MUSL_GNU)/c++/$(MUSL_GCC_VER))
MUSL_X86_FLAGS = -malign-data=abi -fno-tree-dominator-opts -fno-thread-jumps -fno-tree-ch -fno-code-hoisting
MUSL_FLAGS    = -Oz -fno-threadsafe-statics -fno-asynchronous-unwind-tables -fno-pie -fno-jump-tables \
  -fno-tree-switch-conversion -fno-inline-small-functions $(if $(filter x86_64-%,$(MUSL_GNU)),$(MUSL_X86_FLAGS)) \
  -ffunction-sections -fdata-sections -nostdinc $(MUSL_CXX_INCLUDES) \
  -isystem /usr/include/$(MUSL_GNU:-linux-gnu=-linux-musl) -isystem $(shell $(MUSL_CXX) -print-file-name=include) \
  -include src/base/musl/glibc_compat.h
MUSL_LTO     ?= -flto=auto -flto-partition=one
MUSL_LDFLAGS ?= -no-pie -Wl,--gc-sections -Wl,-z,noseparate-code -Wl,--build-id=none -Wl,-z,norelro \
                -Wl,-z,common-page-size=64
MUSL_OBJS    := $(LIB_SRCS:src/%.cc=$(BUILD)/musl/%.o) $(BUILD)/musl/cli/main.o $(BUILD)/musl/base/musl/runtime.o
static-musl: $(BUILD)/$(PROGRAM)-musl
# Every musl object waits for musl-tools (and g++, make): on a fresh machine, as root, they are
# installed; otherwise the apt-get line is printed and nothing compiles (without musl's headers
# the first error would be a missing sys/socket.h). Order-only: the check rebuilds nothing.
$(MUSL_OBJS) $(BUILD)/bench/juju_exec_stamp.musl.o: | musl-deps
# For another architecture's build (arch-binaries) MUSL_DEPS is `--arch ARCH`: its cross g++
# and multiarch musl. NO_DEPS=1 (setup.py, building the sdist for pip) installs nothing: it
# builds with what is there.
MUSL_DEPS ?= --musl
musl-deps:
	@$(if $(NO_DEPS),:,tools/install-deps $(MUSL_DEPS))
# The section headers go (all four ARCHES are 64-bit ELF: e_shoff at byte 40, e_shentsize,
# e_shnum and e_shstrndx at 58; zeros read the same in either byte order).
$(BUILD)/$(PROGRAM)-musl: $(MUSL_OBJS)
	$(MUSL_CC) -Oz $(MUSL_LTO) -static -s $(MUSL_LDFLAGS) -o $@ $^
	end=0; for load in $$(readelf -lW $@ | awk '$$1 == "LOAD" { print $$2 "+" $$5 }'); do \
	  [ $$(($$load)) -gt $$end ] && end=$$(($$load)); done; \
	test $$end -gt 0 && \
	dd if=/dev/zero of=$@ bs=1 seek=40 count=8 conv=notrunc status=none && \
	dd if=/dev/zero of=$@ bs=1 seek=58 count=6 conv=notrunc status=none && \
	truncate -s $$end $@
$(BUILD)/musl/%.o: src/%.cc Makefile VERSION
	@mkdir -p $(@D)
	$(MUSL_CXX) $(CODE_FLAGS) $(MUSL_FLAGS) $(MUSL_LTO) -c -o $@ $<
# Not LTO: libc's printf and snprintf are linked only after link-time optimisation has run, and
# would not find the vfprintf and vsnprintf defined here had it dropped them as unreferenced.
$(BUILD)/musl/base/musl/runtime.o: src/base/musl/runtime.cc Makefile VERSION
	@mkdir -p $(@D)
	$(MUSL_CXX) $(CODE_FLAGS) $(MUSL_FLAGS) -c -o $@ $<

# ---------------------------------------------------------------------------------------------
# Architectures: the musl daemon for each of ARCHES (Python's machine names, as wheel tags use
# them), and the unit tests for each, run under qemu-user (qemu-ARCH-static, no binfmt needed).
# tools/install-deps --arch installs the cross compilers and multiarch musl. README
# "Architectures" says more.
#   make arch-binaries   $(BUILD)/arch/ARCH/juju-systemd-notices-musl for every ARCH
#   make $(BUILD)/arch/ARCH/unit_tests   the unit tests for ARCH, static against glibc
#   make check-arch      the unit tests of every foreign ARCH and the daemon scenarios of all
#   `make check` runs the s390x ones (big-endian): unit-s390x and daemon-s390x
# Each ARCH is built by a make of its own with BUILD=$(BUILD)/arch/ARCH and the compilers Debian
# names after the target (x86_64-linux-gnu-g++ is the native g++ on amd64, and the x86_64
# binary is byte for byte the native static-musl one).
ARCHES := x86_64 aarch64 ppc64le s390x
arch_gnu = $(patsubst ppc64le,powerpc64le,$(1))-linux-gnu
ARCH_BINARIES   := $(ARCHES:%=$(BUILD)/arch/%/$(PROGRAM)-musl)
ARCH_UNIT_TESTS := $(ARCHES:%=$(BUILD)/arch/%/unit_tests)
.PHONY: arch-binaries arch-deps check-arch FORCE
FORCE:
arch-binaries: $(ARCH_BINARIES)
arch-deps:
	@tools/install-deps --arch
# The sub-make decides what is out of date; FORCE only makes sure it is asked.
$(ARCH_BINARIES): $(BUILD)/arch/%/$(PROGRAM)-musl: FORCE
	$(MAKE) BUILD=$(BUILD)/arch/$* MUSL_CXX=$(call arch_gnu,$*)-g++ \
	  MUSL_CC=$(patsubst %-gnu,%-musl,$(call arch_gnu,$*))-gcc MUSL_DEPS="--arch $*" $@
# The unit tests for another architecture: fully static (qemu-user runs them with no target
# libc installed), with GoogleTest built from Debian's source (googletest) by the same compiler,
# as no GoogleTest library is packaged for a foreign architecture (GTEST_FROM_SOURCE, above).
# The library at -O2 and the tests at -Og (TEST_OPTIMIZATION), as the native suite, without -g:
# that halves the compile time (the s390x build is part of make check), and a debugger would
# need qemu's -g anyway.
$(ARCH_UNIT_TESTS): $(BUILD)/arch/%/unit_tests: FORCE
	$(MAKE) BUILD=$(BUILD)/arch/$* CXX=$(call arch_gnu,$*)-g++ CXXFLAGS=-O2 GTEST_FROM_SOURCE=1 \
	  LDFLAGS=-static $@

# The suites. What runs a binary is the question the machine running them answers (uname -m):
# its own architecture's binaries run as they are, any other's under qemu-ARCH-static.
HOST_MACHINE   := $(shell uname -m)
FOREIGN_ARCHES := $(filter-out $(HOST_MACHINE),$(ARCHES))
arch_launcher   = $(if $(filter $(HOST_MACHINE),$(1)),,qemu-$(1)-static)
# Unit tests left out under qemu-user, all three about what qemu-user does to a child, not
# about our code:
#   - MissingProgram..., NonExecutableProgram...: glibc's posix_spawn reports a failed exec
#     through memory the child shares with its parent (clone with CLONE_VM and CLONE_VFORK),
#     which qemu-user runs as a plain fork, so the error never reaches the parent: posix_spawn
#     succeeds and the child exits 127. The daemon is the musl build, whose posix_spawn reports
#     through a pipe: daemon-ARCH's AMissingJujuExecIsReportedOncePerTransition... passes.
#   - ChildIgnoresNoSignal...: host signals 32 and 33 are qemu's own glibc's, out of the guest's
#     reach, so when the suite inherits them ignored (as make's recipes do), the guest's reset
#     of every signal cannot reach them and the hook inherits 32 ignored.
ARCH_UNIT_EXCLUDED := SpawnerTest.MissingProgramIsReportedClearly:SpawnerTest.NonExecutableProgramIsReportedClearly:SpawnerTest.ChildIgnoresNoSignalAndHasNoDescriptorButTheFirstThree
# The daemon scenarios: the integration tests that start the daemon through DaemonUnderTest
# ($JSN_DAEMON under $JSN_DAEMON_LAUNCHER), on a real systemd user manager (start, stop, a
# Restart=always crash, a change while the daemon was down, the state file) and on the fake
# systemd (coalescing, retries, timeouts, owner changes, SIGHUP, reconnects). Not the fault
# suite (strace would trace qemu, not the daemon), nor the subcommands' tests (systemd cannot
# exec a foreign binary without binfmt).
ARCH_DAEMON_TESTS := DaemonWithSystemd.*:DaemonStateFile.*:DaemonOutcomes.*:DaemonWithFakeSystemd.*:DaemonHookFailures.*:DaemonReconnect.*:DaemonWithReexecutingSystemd.*
# Left out under qemu-user: AHookGetsPathFirst... checks the order of the hook's environment,
# and qemu-user hands the guest its environment reversed (`env -i A=1 B=2 qemu-s390x-static
# PROGRAM` lists B before A), so the daemon's first 256 entries are others than natively.
ARCH_DAEMON_EXCLUDED := DaemonWithFakeSystemd.AHookGetsPathFirstAndNoneOfTheDaemonsOwnSystemdVariables
unit_suite   = unit-$(1)="$(call arch_launcher,$(1)) $(BUILD)/arch/$(1)/unit_tests \
  --gtest_filter=-$(ARCH_UNIT_EXCLUDED)"
daemon_suite = daemon-$(1)="env JSN_DAEMON=$(BUILD)/arch/$(1)/$(PROGRAM)-musl \
  JSN_DAEMON_LAUNCHER=$(call arch_launcher,$(1)) $(BUILD)/integration_tests \
  --gtest_filter=$(ARCH_DAEMON_TESTS)$(if $(call arch_launcher,$(1)),:-$(ARCH_DAEMON_EXCLUDED))"

$(BUILD)/obj/%.o: src/%.cc Makefile VERSION
	@mkdir -p $(@D)
	$(CXX) $(CODE_FLAGS) $(CXXFLAGS) -c -o $@ $<

# Test code is compiled with -Og after CXXFLAGS (so it wins over their -O2): the code under
# test is the library, built as CXXFLAGS say; the tests' own code, mostly GoogleTest's macros,
# compiles in a third of the time at -Og (13.7 s to 4.9 s for watch_test.cc with -g), which
# keeps `make check` within its 20 minutes on 2 cores. The fuzz targets keep CXXFLAGS (their
# speed is the fuzzing's).
TEST_OPTIMIZATION ?= -Og
$(BUILD)/tests/%.o: tests/%.cc VERSION
	@mkdir -p $(@D)
	$(CXX) $(TEST_FLAGS) $(CXXFLAGS) $(TEST_OPTIMIZATION) -c -o $@ $<

unit-tests: $(BUILD)/unit_tests
$(BUILD)/unit_tests: $(UNIT_OBJS) $(SUPPORT_OBJS) $(BUILD)/libjsn.a $(GTEST_OBJS)
	$(CXX) $(CXXFLAGS) $(SANFLAGS) $(LDFLAGS) -o $@ $^ $(GTEST_LIBS)

integration-tests: $(BUILD)/integration_tests $(BUILD)/$(PROGRAM)
$(BUILD)/integration_tests: $(INTEG_OBJS) $(SUPPORT_OBJS) $(BUILD)/libjsn.a
	$(CXX) $(CXXFLAGS) $(SANFLAGS) $(LDFLAGS) -o $@ $^ $(GTEST_LIBS)

# The deployment path: systemd as PID 1 of a namespace of its own, on the real system bus
# (dbus-daemon and dbus-broker), see tests/support/system-systemd.
system-tests: $(BUILD)/system_tests $(BUILD)/$(PROGRAM)
$(BUILD)/system_tests: $(SYSTEM_OBJS) $(SUPPORT_OBJS) $(BUILD)/libjsn.a
	$(CXX) $(CXXFLAGS) $(SANFLAGS) $(LDFLAGS) -o $@ $^ $(GTEST_LIBS)

# The soak (tests/soak/soak_test.cc): SOAK_SECONDS of random life on a real systemd user
# manager; `make check` runs it for 60 s.
SOAK_SECONDS ?= 600
soak-tests: $(BUILD)/soak_tests $(BUILD)/$(PROGRAM)
$(BUILD)/soak_tests: $(SOAK_OBJS) $(SUPPORT_OBJS) $(BUILD)/libjsn.a
	$(CXX) $(CXXFLAGS) $(SANFLAGS) $(LDFLAGS) -o $@ $^ $(GTEST_LIBS)
soak: deps
	$(MAKE) -j$(JOBS) soak-tests
	@tests/run-suites soak="env SOAK_SECONDS=$(SOAK_SECONDS) $(BUILD)/soak_tests"

# The sanitizer build uses clang++, so every `make check` also proves that clang builds the
# code warning-free (the main build uses $(CXX), g++ by default).
ASAN_CXX ?= clang++
asan-unit-tests:
	$(MAKE) BUILD=$(BUILD)/asan SANITIZE=1 CXX=$(ASAN_CXX) CXXFLAGS="-O1 -g" $(BUILD)/asan/unit_tests

deps:
	@tools/install-deps

# Benchmarks measure; they are never part of `make check`. The parser benchmark links the
# parsers it is compared with (libdbus, GLib) and Google Benchmark, which only `make bench`
# installs. Their headers are -isystem so our warnings stay on for our code only.
BENCH_PKGS   := dbus-1 gio-2.0
BENCH_CFLAGS  = $(patsubst -I%,-isystem %,$(shell pkg-config --cflags $(BENCH_PKGS)))
BENCH_LIBS    = $(shell pkg-config --libs $(BENCH_PKGS)) -lbenchmark -pthread
BENCH_TOOLS  := $(BUILD)/bench/parse_bench $(BUILD)/bench/juju-exec-stamp $(BUILD)/bench/alloc_count.so \
                $(BUILD)/bench/$(PROGRAM)-dynamic
bench-deps:
	@tools/install-deps --bench
bench: bench-deps
	$(MAKE) -j2 $(BUILD)/$(PROGRAM) static static-musl $(BENCH_TOOLS) $(BUILD)/soak_tests
	tools/bench --build $(BUILD) $(BENCH_ARGS)
$(BUILD)/bench/%.o: tools/benchmarks/%.cc
	@mkdir -p $(@D)
	$(CXX) $(TEST_FLAGS) $(BENCH_CFLAGS) $(CXXFLAGS) -c -o $@ $<
$(BUILD)/bench/parse_bench: $(BUILD)/bench/parse_bench.o $(BUILD)/libjsn.a
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $^ $(BENCH_LIBS)
# The hook stand-in is static and built against musl (about 33 KiB): as little as possible
# between the daemon's spawn and its first clock read, which is what the latency measures.
$(BUILD)/bench/juju-exec-stamp: $(BUILD)/bench/juju_exec_stamp.musl.o
	$(MUSL_CC) -static -s -o $@ $<
$(BUILD)/bench/juju_exec_stamp.musl.o: tools/benchmarks/juju_exec_stamp.cc
	@mkdir -p $(@D)
	$(MUSL_CXX) $(CODE_FLAGS) $(MUSL_FLAGS) -O2 -c -o $@ $<
# The daemon with libc shared, only so the allocation counter (LD_PRELOAD) can see its mallocs.
$(BUILD)/bench/$(PROGRAM)-dynamic: $(BUILD)/obj/cli/main.o $(BUILD)/libjsn.a
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(DYNAMIC_LDFLAGS) $(LDFLAGS) -o $@ $^
$(BUILD)/bench/alloc_count.so: tools/benchmarks/alloc_count.cc
	@mkdir -p $(@D)
	$(CXX) $(TEST_FLAGS) -O2 -fPIC -shared -o $@ $<

# deps first (alone), then build everything in parallel, then run every suite and print one
# summary line over all of them. The package suite and charmcraft-part mostly compile, the
# library suites mostly wait on systemd: the first two run beside the others ("&", see
# tests/run-suites), and so does the soak (a minute of a user manager's life, little CPU; its
# checks are of counts, not of time), which keeps the whole run under 20 minutes on 2 cores
# (20 min 11 s with the soak in line, after issue 26). charmcraft-part builds README's
# charmcraft part (static-musl) in a clean copy of the tree, so it builds nothing here.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
check: deps
	$(MAKE) -j$(JOBS) all unit-tests integration-tests system-tests soak-tests asan-unit-tests fuzz-targets \
	  $(BUILD)/arch/s390x/unit_tests $(BUILD)/arch/s390x/$(PROGRAM)-musl
	$(MAKE) wheels
	@tests/run-suites \
	  unit=$(BUILD)/unit_tests \
	  integration="$(BUILD)/integration_tests" \
	  $(call unit_suite,s390x) \
	  $(call daemon_suite,s390x) \
	  system=$(BUILD)/system_tests \
	  unit-asan=$(BUILD)/asan/unit_tests \
	  fuzz-smoke="tests/fuzz/smoke $(BUILD)/fuzz" \
	  "&package=tests/package-install $(DIST)" \
	  "&charmcraft-part=tests/charmcraft-part" \
	  "&soak=env SOAK_SECONDS=60 $(BUILD)/soak_tests" \
	  library-ops2="tests/lib/run --ops 2 --dist $(DIST) $(BUILD)/$(PROGRAM)" \
	  library-ops3="tests/lib/run --ops 3 --dist $(DIST) $(BUILD)/$(PROGRAM)" \
	  library-lint="tests/lib/lint" \
	  charm-lib="tools/charm-lib --check" \
	  format=tests/format-check

# The charm library is written once, as the package's module lib/juju_systemd_notices/__init__.py;
# this writes its __version__ and the Charmhub file lib/charms/juju_systemd_notices/v0/ from it and
# VERSION (make check fails when they differ: tools/charm-lib --check).
charm-lib:
	tools/charm-lib

# One format (.clang-format: Google's style at 100 columns) for src/, include/ and tests/:
# `make format` applies it; `make check` fails on a file it would change (tests/format-check).
CLANG_FORMAT ?= clang-format-14
FORMAT_FILES = $(shell git ls-files -co --exclude-standard -- 'src/*.cc' 'src/*.h' 'include/*.h' 'tests/*.cc' 'tests/*.h')
format:
	$(CLANG_FORMAT) -i $(FORMAT_FILES)

# Every architecture (see Architectures above), with its own summary line: the unit tests of
# each foreign one under qemu, and the daemon scenarios with each one's musl binary.
check-arch: deps
	@tools/install-deps --arch
	$(MAKE) -j$(JOBS) integration-tests arch-binaries $(FOREIGN_ARCHES:%=$(BUILD)/arch/%/unit_tests)
	@tests/run-suites $(foreach arch,$(FOREIGN_ARCHES),$(call unit_suite,$(arch))) \
	  $(foreach arch,$(ARCHES),$(call daemon_suite,$(arch)))

# The system suite alone (as root), with its own summary line.
check-system: deps
	$(MAKE) -j$(JOBS) system-tests
	@tests/run-suites system=$(BUILD)/system_tests

# The charm library's suite alone, under each ops major (tests/lib/ops_path.py says where ops is
# found), against the built binary and this machine's wheel.
check-library: deps
	$(MAKE) $(BUILD)/$(PROGRAM) wheels
	@tests/run-suites \
	  library-ops2="tests/lib/run --ops 2 --dist $(DIST) $(BUILD)/$(PROGRAM)" \
	  library-ops3="tests/lib/run --ops 3 --dist $(DIST) $(BUILD)/$(PROGRAM)" \
	  library-lint="tests/lib/lint"

# The Python distribution juju-systemd-notices (pyproject.toml, setup.py): an sdist that builds
# the binary from source with this Makefile, and one wheel per architecture with the musl binary
# built here for it, tagged for pip on any Linux of that architecture (the binary is static, so
# both manylinux2014 and musllinux fit). Written to $(DIST); tests/package-install checks them.
DIST         ?= dist
WHEEL_ARCHES ?= x86_64 aarch64 ppc64le s390x
wheel_platform = manylinux_2_17_$(1).manylinux2014_$(1).musllinux_1_1_$(1)
# The wheels' zip times (SOURCE_DATE_EPOCH): the last commit's, so two builds are the same bytes.
WHEEL_EPOCH = $(or $(SOURCE_DATE_EPOCH),$(shell git log -1 --format=%ct 2>/dev/null),$(shell stat -c %Y VERSION))
WHEEL_BINARIES = $(WHEEL_ARCHES:%=$(BUILD)/arch/%/$(PROGRAM)-musl)
wheels: charm-lib-check
	@tools/install-deps --wheels
	$(MAKE) -j$(JOBS) $(WHEEL_BINARIES)
	rm -rf $(DIST) $(BUILD)/python
	SOURCE_DATE_EPOCH=$(WHEEL_EPOCH) /usr/bin/python3 -m build --sdist --no-isolation --outdir $(DIST) .
	$(foreach arch,$(WHEEL_ARCHES),SOURCE_DATE_EPOCH=$(WHEEL_EPOCH) JSN_PREBUILT_BINARY=$(BUILD)/arch/$(arch)/$(PROGRAM)-musl \
	  JSN_WHEEL_PLATFORM=$(call wheel_platform,$(arch)) \
	  /usr/bin/python3 -m build --wheel --no-isolation --outdir $(DIST) . &&) true
	@ls -l $(DIST)
# A package whose module and Charmhub file disagree with VERSION is not built.
charm-lib-check:
	@tools/charm-lib --check >/dev/null || { tools/charm-lib --check; exit 1; }

# The daemon against a real systemd user manager with a printing fake juju-exec (as root).
# Like check, the demo installs what it needs first (systemd, dbus) on a fresh machine.
demo: deps
	$(MAKE) $(BUILD)/$(PROGRAM)
	tools/demo

install: $(BUILD)/$(PROGRAM)
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(BUILD)/$(PROGRAM) $(DESTDIR)$(BINDIR)/$(PROGRAM)

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/$(PROGRAM)

clean:
	rm -rf $(BUILD)

# ---------------------------------------------------------------------------------------------
# Fuzzing: one libFuzzer target per tests/fuzz/NAME_fuzzer.cc, built with clang++ and
# -fsanitize=fuzzer,address,undefined into $(BUILD)/fuzz/NAME_fuzzer (the library is rebuilt
# there with coverage). Corpora in tests/fuzz/corpus/NAME, crash reproducers in
# tests/fuzz/reproducers/NAME, one dictionary tests/fuzz/dbus.dict. README "Fuzzing" says more.
#   make fuzz-targets   build every target
#   make fuzz           build, then run each target FUZZ_SECONDS (60) and print its numbers
#   make fuzz-smoke     what `make check` runs: replay corpora and reproducers, fuzz 3 s each
#   make afl            the same targets for AFL++ (afl-clang-fast++), in $(BUILD)/afl
#   make afl-run AFL_TARGET=NAME FUZZ_SECONDS=60   run one of them under afl-fuzz
FUZZ_CXX     ?= clang++
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := $(patsubst tests/fuzz/%_fuzzer.cc,%,$(wildcard tests/fuzz/*_fuzzer.cc))
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(BUILD)/%_fuzzer)
FUZZ_OBJS    := $(FUZZ_TARGETS:%=$(BUILD)/tests/fuzz/%_fuzzer.o)
# The differential target reads the same bytes with libdbus (libdbus-1-dev, tests only).
DBUS_CFLAGS  = $(shell pkg-config --cflags dbus-1)
DBUS_LIBS    = $(shell pkg-config --libs dbus-1)
$(BUILD)/tests/fuzz/libdbus_differential_fuzzer.o: TEST_FLAGS += $(DBUS_CFLAGS)
$(FUZZ_OBJS): TEST_OPTIMIZATION :=
$(BUILD)/libdbus_differential_fuzzer: FUZZ_LIBS = $(DBUS_LIBS)
$(BUILD)/libdbus_differential_fuzzer: $(BUILD)/tests/support/render.o
# AFL++ links the same sources against its libFuzzer-compatible driver.
FUZZ_LINK    ?= -fsanitize=fuzzer,address,undefined
AFL_CXX      ?= afl-clang-fast++
AFL_TARGET   ?= message_reader

.PHONY: fuzz fuzz-targets fuzz-binaries fuzz-smoke afl afl-run

fuzz-targets:
	$(MAKE) BUILD=$(BUILD)/fuzz SANITIZE=fuzz CXX=$(FUZZ_CXX) CXXFLAGS="-O1 -g" fuzz-binaries

fuzz-binaries: $(FUZZ_BINS)
# Keep the target objects (make would delete them as intermediates and rebuild them each time).
.SECONDARY: $(FUZZ_OBJS)
$(BUILD)/%_fuzzer: $(BUILD)/tests/fuzz/%_fuzzer.o $(BUILD)/libjsn.a
	$(CXX) $(CXXFLAGS) $(FUZZ_LINK) $(LDFLAGS) -o $@ $^ $(FUZZ_LIBS)

fuzz: fuzz-targets
	@tests/fuzz/run-fuzzers $(BUILD)/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: fuzz-targets
	@tests/fuzz/smoke $(BUILD)/fuzz

afl:
	$(MAKE) BUILD=$(BUILD)/afl SANITIZE=fuzz CXX=$(AFL_CXX) CXXFLAGS="-O1 -g" \
	  FUZZ_LINK="-fsanitize=fuzzer,address,undefined" fuzz-binaries

afl-run: afl
	@tests/fuzz/run-afl $(BUILD)/afl $(AFL_TARGET) $(FUZZ_SECONDS)

-include $(FUZZ_OBJS:.o=.d)
-include $(SOAK_OBJS:.o=.d) $(LIB_OBJS:.o=.d) $(BUILD)/obj/cli/main.d $(BUILD)/obj/base/glibc/runtime.d $(BUILD)/bench/parse_bench.d $(MUSL_OBJS:.o=.d) $(SUPPORT_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(INTEG_OBJS:.o=.d) $(SYSTEM_OBJS:.o=.d)
