"""Where the library's suites import ops from: tests/lib/run and tests/package-install.

ops is in no Debian package. find_ops(major) looks, in this order, for:
  1. an ops that /usr/bin/python3 imports as it is (PYTHONPATH, a venv's, a pip-installed one);
  2. ops-MAJOR.* beside the checkout, in ../shared/third_party (where .ci/run's machines keep
     it), the newest first;
  3. a venv of its own, build/ops-MAJOR-venv, made with `pip install 'ops==MAJOR.*'` where a
     package index answers (Debian's python3-yaml and python3-websocket are used as they are).
It returns (the folder to put on PYTHONPATH, a description) or (None, why none was found).
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = "/usr/bin/python3"
THIRD_PARTY = ROOT.parent / "shared" / "third_party"
_PROBE = "import os, ops; print(os.path.dirname(os.path.dirname(os.path.abspath(ops.__file__)))); print(ops.__version__)"


def _probe(path=None):
    """(folder, version) of the ops /usr/bin/python3 imports with `path` first, or None."""
    env = dict(os.environ)
    if path is not None:
        env["PYTHONPATH"] = str(path)
    result = subprocess.run([PYTHON, "-c", _PROBE], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=str(ROOT))
    if result.returncode != 0:
        return None, (result.stderr.strip().splitlines() or ["no output"])[-1]
    folder, version = result.stdout.split()
    return (folder, version), None


def _major(version):
    return version.split(".")[0]


def find_ops(major=None):
    """(PYTHONPATH folder, "ops VERSION from FOLDER") for ops MAJOR (any when None), or (None, why)."""
    tried = []
    found, error = _probe()
    if found and (major is None or _major(found[1]) == str(major)):
        return found[0], f"ops {found[1]} from {found[0]} (importable as it is)"
    tried.append(f"importable: {error or 'ops ' + found[1]}")
    pattern = re.compile(rf"ops-({major if major is not None else r'[0-9]+'})\.[0-9.]+\Z")
    if THIRD_PARTY.is_dir():
        candidates = sorted((path for path in THIRD_PARTY.iterdir() if pattern.match(path.name)),
                            key=lambda path: [int(n) for n in path.name[4:].split(".")],
                            reverse=True)
        for candidate in candidates:
            found, error = _probe(candidate)
            if found:
                return found[0], f"ops {found[1]} from {found[0]}"
            tried.append(f"{candidate}: {error}")
    else:
        tried.append(f"no {THIRD_PARTY}")
    venv = ROOT / "build" / f"ops-{major or 'any'}-venv"
    # This module runs under PYTHON (tests/lib/run, tests/package-install), so its version is the
    # venv's.
    site = venv / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    if not site.is_dir():
        made = subprocess.run([PYTHON, "-m", "venv", "--system-site-packages", str(venv)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        requirement = f"ops=={major}.*" if major is not None else "ops"
        installed = None
        if made.returncode == 0:
            installed = subprocess.run(
                [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
                 "--timeout", "15", "--retries", "1", requirement],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if made.returncode != 0 or installed.returncode != 0:
            output = (made.stdout if made.returncode != 0 else installed.stdout).strip().splitlines()
            tried.append(f"pip install '{requirement}' into {venv}: {output[-1] if output else 'failed'}")
            shutil.rmtree(str(venv), ignore_errors=True)
            return None, "; ".join(tried)
    found, error = _probe(site)
    if found and (major is None or _major(found[1]) == str(major)):
        return str(site), f"ops {found[1]} from {site} (a venv of its own)"
    tried.append(f"{site}: {error or 'ops ' + found[1]}")
    return None, "; ".join(tried)
