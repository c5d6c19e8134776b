"""`python -m juju_systemd_notices ARGS...`: runs the package's juju-systemd-notices with ARGS.

The binary the library runs, found where the library finds the package (its bin/), so a unit
can be inspected or cleaned up by hand on a unit, from the charm's venv/ (which `charmcraft pack`
fills with the packages, without a python of its own), e.g.

    sudo PYTHONPATH=/var/lib/juju/agents/unit-NAME-0/charm/venv python3 -m juju_systemd_notices --help

The process is replaced by the binary: its output, exit status and signals are the binary's own.
"""
import os
import sys

from juju_systemd_notices import BINARY, PACKAGE, _package_directory


def main() -> int:
    """Execs the package's binary with this command's arguments; returns only on failure."""
    directory = _package_directory()
    binary = None if directory is None else directory / "bin" / BINARY
    if binary is None or not os.access(str(binary), os.X_OK):
        print(f"python -m {PACKAGE}: expected an executable {BINARY} in the package, at "
              f"{binary}, found none (an install from the sdist builds it; an editable one "
              f"builds it into lib/{PACKAGE}/bin/)", file=sys.stderr)
        return 127
    try:
        os.execv(str(binary), [str(binary), *sys.argv[1:]])
    except OSError as error:
        print(f"python -m {PACKAGE}: could not run {binary}: {error}", file=sys.stderr)
    return 126


if __name__ == "__main__":
    sys.exit(main())
