"""How the binary gets into the package juju-systemd-notices (pyproject.toml has the rest).

The wheel holds the static binary at juju_systemd_notices/bin/juju-systemd-notices, where the
library looks first. It comes from one of two places:

  - `make wheels` builds it for each architecture first (Debian's cross compilers, musl) and
    names it in JSN_PREBUILT_BINARY, with the wheel's platform tags in JSN_WHEEL_PLATFORM;
  - otherwise (pip building the sdist: `pip install --no-binary :all: juju-systemd-notices`, or
    charmcraft's charm plugin, which builds requirements from source) it is built here with the
    Makefile: `make static-musl` when musl-gcc is there (Debian's musl-tools), else `make static`
    (static glibc). That needs make and g++; nothing is installed (NO_DEPS=1).

Either way the wheel is py3-none-<platform>: no Python ABI, one architecture.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution
try:  # setuptools 70.1 and later have their own; before, the wheel package had it
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:
    from wheel.bdist_wheel import bdist_wheel

HERE = Path(__file__).resolve().parent
BINARY = "juju-systemd-notices"
# The Makefile's objects are under build/ (BUILD); setuptools' own files go beside them, not over.
BUILD_BASE = os.path.join("build", "python")


class _PlatformDistribution(Distribution):
    """A distribution with a native part: its wheel is platlib, tagged with a platform."""

    def has_ext_modules(self):
        return True


def _run_make(build_dir: str) -> Path:
    """Builds the static binary with the Makefile into `build_dir`; returns its path."""
    if shutil.which("make") is None:
        sys.exit(f"juju-systemd-notices: expected `make` on PATH to build {BINARY} from source "
                 f"(with g++; musl-tools for the small build), found none")
    musl = shutil.which("musl-gcc") is not None
    target, built = ("static-musl", f"{BINARY}-musl") if musl else ("static", f"{BINARY}-static")
    jobs = str(os.cpu_count() or 1)
    command = ["make", "-C", str(HERE), f"-j{jobs}", f"BUILD={os.path.abspath(build_dir)}",
               "NO_DEPS=1", target]
    print(f"juju-systemd-notices: building the binary ({'musl' if musl else 'static glibc'}): "
          f"{' '.join(command)}", flush=True)
    subprocess.run(command, check=True)
    return Path(build_dir) / built


class _BuildWithBinary(build_py):
    """build_py, then the binary into the package's bin/."""

    def run(self):
        super().run()
        prebuilt = os.environ.get("JSN_PREBUILT_BINARY")
        if prebuilt:
            source = Path(prebuilt)
            if not source.is_file():
                sys.exit(f"juju-systemd-notices: expected the binary JSN_PREBUILT_BINARY names, "
                         f"found nothing at {source}")
        else:
            source = _run_make(os.path.join(self.get_finalized_command("build").build_temp,
                                            "make"))
        target = Path(self.build_lib) / "juju_systemd_notices" / "bin" / BINARY
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target.unlink()
        shutil.copyfile(source, target)
        target.chmod(0o755)


class _PlatformWheel(bdist_wheel):
    """py3-none-PLATFORM: JSN_WHEEL_PLATFORM's tags (make wheels), else this machine's."""

    def get_tag(self):
        platform = os.environ.get("JSN_WHEEL_PLATFORM")
        if platform:
            return "py3", "none", platform
        _, _, platform = super().get_tag()
        return "py3", "none", platform


os.makedirs(BUILD_BASE, exist_ok=True)
setup(
    distclass=_PlatformDistribution,
    cmdclass={"build_py": _BuildWithBinary, "bdist_wheel": _PlatformWheel},
    options={"build": {"build_base": BUILD_BASE}},
)
