"""How the binary gets into the package juju-systemd-notices (pyproject.toml has the rest).

The wheel holds the static binary at juju_systemd_notices/bin/juju-systemd-notices, where the
library looks first. It comes from one of two places:

  - `make wheels` builds it for each architecture first (Debian's cross compilers, musl) and
    names it in JSN_PREBUILT_BINARY, with the wheel's platform tags in JSN_WHEEL_PLATFORM;
  - otherwise (pip building the sdist: `pip install --no-binary :all: juju-systemd-notices`, or
    charmcraft's charm plugin, which builds requirements from source) it is built here with the
    Makefile: `make static-musl` when musl-gcc is there (Debian's musl-tools), else `make static`
    (static glibc). That needs make and g++; nothing is installed (NO_DEPS=1), and warnings are
    not errors (WERROR=): a newer compiler's new warning must not stop a user's install.

Either way the wheel is py3-none-<platform>: no Python ABI, one architecture, and the binary's
ELF header must name that architecture (an x86-64 binary is never tagged aarch64). Every file in
the wheel is stored as 0644 or 0755 whatever the umask, so with SOURCE_DATE_EPOCH (which `make
wheels` sets) two builds of one binary are the same bytes.

An editable install (`pip install -e .`) builds the binary into lib/juju_systemd_notices/bin/,
where the library looks when it imports the package from the checkout.
"""

import os
import shlex
import shutil
import struct
import subprocess
import sys
import sysconfig
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution
try:  # setuptools 70.1 and later have their own; before, the wheel package had it
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:
    from wheel.bdist_wheel import bdist_wheel

HERE = Path(__file__).resolve().parent
PACKAGE = "juju_systemd_notices"
BINARY = "juju-systemd-notices"
# The Makefile's objects are under build/ (BUILD); setuptools' own files go beside them, not over.
BUILD_BASE = os.path.join("build", "python")
# A platform tag's architecture (its last part, as Python's machine names go) -> the ELF header
# a binary for it has: (EI_CLASS: 2 is 64-bit, EI_DATA: 1 little-endian 2 big, e_machine), the
# values of the System V ABI's ELF header and each processor supplement.
ELF_MACHINES = {
    "x86_64": (2, 1, 62),    # EM_X86_64
    "aarch64": (2, 1, 183),  # EM_AARCH64
    "ppc64le": (2, 1, 21),   # EM_PPC64, little-endian
    "ppc64": (2, 2, 21),     # EM_PPC64, big-endian
    "s390x": (2, 2, 22),     # EM_S390
    "riscv64": (2, 1, 243),  # EM_RISCV
    "i686": (1, 1, 3),       # EM_386
    "armv7l": (1, 1, 40),    # EM_ARM
}


def _fail(message: str) -> None:
    sys.exit(f"juju-systemd-notices: {message}")


def _elf_header(path: Path) -> tuple:
    """(EI_CLASS, EI_DATA, e_machine) of the ELF file at `path`, or () when it is not one."""
    with open(path, "rb") as f:
        header = f.read(20)
    if len(header) < 20 or header[:4] != b"\x7fELF" or header[5] not in (1, 2):
        return ()
    (machine,) = struct.unpack_from("<H" if header[5] == 1 else ">H", header, 18)
    return header[4], header[5], machine


def _check_machine(binary: Path, platform: str, shown: str) -> None:
    """Refuses (exits) unless the ELF header of `binary` (`shown` in messages) is that of every
    tag in `platform`."""
    found = _elf_header(binary) if binary.is_file() else ()
    for tag in platform.split("."):
        arch = next((a for a in ELF_MACHINES if tag.endswith("_" + a)), None)
        if arch is None:
            _fail(f"expected a platform tag ending in one of {', '.join(ELF_MACHINES)}, "
                  f"found {tag!r}")
        if found != ELF_MACHINES[arch]:
            named = [a for a, header in ELF_MACHINES.items() if header == found]
            what = (f"one for {' or '.join(named)}" if named else
                    f"an ELF header (class, data, machine) {found}" if found else f"no ELF file at {binary}")
            _fail(f"expected {shown} to be an ELF binary for {arch} (platform tag {tag}), "
                  f"found {what}; the binary and the wheel's platform must be of one "
                  f"architecture (JSN_PREBUILT_BINARY, JSN_WHEEL_PLATFORM)")


def _native_platform() -> str:
    return sysconfig.get_platform().replace("-", "_").replace(".", "_")


class _PlatformDistribution(Distribution):
    """A distribution with a native part: its wheel is platlib, tagged with a platform."""

    def has_ext_modules(self):
        return True


def _require_program(command: str, why: str) -> None:
    program = shlex.split(command)[0] if command.strip() else command
    if shutil.which(program) is None:
        _fail(f"building {BINARY} from source needs `make` and `g++` (GCC 12 or later; "
              f"musl-tools too for the smaller musl build); found no `{program}` ({why}) on PATH "
              f"({os.environ.get('PATH', os.defpath)}). On Debian or Ubuntu: "
              f"`apt-get install make g++ musl-tools`. Or install a wheel, which carries the "
              f"binary: there is one for Linux on x86_64, aarch64, ppc64le and s390x")


def _run_make(build_dir: Path) -> Path:
    """Builds the static binary with the Makefile into `build_dir`; returns its path."""
    _require_program("make", "runs the Makefile")
    musl = shutil.which("musl-gcc") is not None
    if musl:
        _require_program(os.environ.get("MUSL_CXX") or "g++", "compiles the sources for musl")
    else:
        _require_program(os.environ.get("CXX") or "g++", "compiles and links the sources")
    target, built = ("static-musl", f"{BINARY}-musl") if musl else ("static", f"{BINARY}-static")
    command = ["make", "-C", str(HERE), f"-j{os.cpu_count() or 1}", f"BUILD={build_dir}",
               "NO_DEPS=1", "WERROR=", target]
    print(f"juju-systemd-notices: building the binary ({'musl' if musl else 'static glibc'}): "
          f"{' '.join(command)}", flush=True)
    made = subprocess.run(command)
    if made.returncode != 0:
        _fail(f"`{' '.join(command)}` failed (exit {made.returncode}); its output is above")
    return build_dir / built


class _BuildWithBinary(build_py):
    """build_py, then the binary into the package's bin/ (the checkout's, when editable)."""

    def run(self):
        super().run()
        prebuilt = os.environ.get("JSN_PREBUILT_BINARY")
        if prebuilt:
            source = Path(prebuilt)
            if not source.is_file():
                _fail(f"expected the binary JSN_PREBUILT_BINARY names, found nothing at {source}")
        else:
            source = _run_make(HERE / BUILD_BASE / "make")
        if getattr(self, "editable_mode", False):
            _check_machine(source, _native_platform(), str(source))
            target = HERE / "lib" / PACKAGE / "bin" / BINARY
        else:
            target = Path(self.build_lib) / PACKAGE / "bin" / BINARY
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target.unlink()
        shutil.copyfile(source, target)
        target.chmod(0o755)


class _PlatformWheel(bdist_wheel):
    """py3-none-PLATFORM: JSN_WHEEL_PLATFORM's tags (make wheels), else this machine's.

    Before the files are zipped: the binary must match the tag, and every file's mode is 0755
    (any execute bit) or 0644, so the umask of the build leaves no trace in the wheel.
    """

    def get_tag(self):
        platform = os.environ.get("JSN_WHEEL_PLATFORM")
        if platform:
            return "py3", "none", platform
        _, _, platform = super().get_tag()
        return "py3", "none", platform

    def write_wheelfile(self, wheelfile_base, *args, **kwargs):
        written = super().write_wheelfile(wheelfile_base, *args, **kwargs)
        # bdist_wheel's run calls this with the dist-info in bdist_dir, after the install there
        # and before zipping; editable_wheel calls it for its own dist-info, with no binary.
        if Path(wheelfile_base).parent.resolve() != Path(self.bdist_dir).resolve():
            return written
        _check_machine(Path(self.bdist_dir) / PACKAGE / "bin" / BINARY, self.get_tag()[2],
                       os.environ.get("JSN_PREBUILT_BINARY") or "the binary built from source")
        for directory, _, names in os.walk(self.bdist_dir):
            for name in names:
                path = os.path.join(directory, name)
                os.chmod(path, 0o755 if os.stat(path).st_mode & 0o111 else 0o644)
        return written


os.makedirs(BUILD_BASE, exist_ok=True)
setup(
    distclass=_PlatformDistribution,
    cmdclass={"build_py": _BuildWithBinary, "bdist_wheel": _PlatformWheel},
    options={"build": {"build_base": BUILD_BASE}},
)
