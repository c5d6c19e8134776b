"""End to end: a real ops charm using the library, on systemd as PID 1, on both system buses.

The charm is the original library's own example trimmed to its notices parts, unchanged but for
its import line (and the service's name). It lives in a temporary charm dir with a metadata.yaml,
the standard dispatch, the library under lib/ and our static binary in bin/. systemd 252 boots as
PID 1 of a namespace of its own (tests/support/system-systemd, the system suite's recipe) with
dbus-daemon, then dbus-broker, as the system bus. Juju is played by hook-tool stand-ins on PATH
(juju-log, status-set, is-leader) and a juju-exec stand-in at /usr/bin/juju-exec that runs the
charm's dispatch as the unit agent would. Needs root and ops (see tests/lib/run).
"""
import ctypes
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import textwrap
import time
import unittest

import ops

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECIPE = os.path.join(ROOT, "tests", "support", "system-systemd")
# Our static binary, as tests/lib/run names it (JSN_BINARY, relative to the checkout).
PROGRAM = os.path.join(ROOT, os.environ.get("JSN_BINARY", "build/juju-systemd-notices"))
# The folder ops imports from (for the charm's dispatch, as a charm ships it in its venv).
OPS_PATH = os.path.dirname(os.path.dirname(os.path.abspath(ops.__file__)))
SERVICE = "jsn-e2e-slurmd.service"
NOTICES = "juju-app-0-systemd-notices.service"

CHARM = '''\
#!/usr/bin/python3
"""The original library's example charm, trimmed to its notices parts."""
import ops
from ops.charm import CharmBase, InstallEvent, StopEvent
from ops.model import ActiveStatus, BlockedStatus

from charms.juju_systemd_notices.v0.juju_systemd_notices import (
    Service,
    ServiceStartedEvent,
    ServiceStoppedEvent,
    SystemdNotices,
)


class ApplicationCharm(CharmBase):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._systemd_notices = SystemdNotices(self, [Service("jsn-e2e-slurmd", alias="slurmd")])
        self.framework.observe(self.on.install, self._on_install)
        self.framework.observe(self.on.stop, self._on_stop)
        self.framework.observe(self.on.service_slurmd_started, self._on_slurmd_started)
        self.framework.observe(self.on.service_slurmd_stopped, self._on_slurmd_stopped)

    def _on_install(self, _: InstallEvent) -> None:
        self._systemd_notices.subscribe()

    def _on_stop(self, _: StopEvent) -> None:
        self._systemd_notices.stop()

    def _on_slurmd_started(self, _: ServiceStartedEvent) -> None:
        self.unit.status = ActiveStatus()

    def _on_slurmd_stopped(self, _: ServiceStoppedEvent) -> None:
        self.unit.status = BlockedStatus("slurmd not running")


if __name__ == "__main__":
    ops.main(ApplicationCharm)
'''


def _die_with_parent():
    """The starter gets SIGTERM should this test process die (it then SIGKILLs systemd)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


class CharmEndToEnd:
    """The scenario; the subclasses below choose the bus."""

    BUS = ""

    def setUp(self):
        if os.geteuid() != 0:
            self.fail("systemd as PID 1 of a namespace needs root (namespaces, cgroups, mounts)")
        self.assertTrue(os.access(PROGRAM, os.X_OK), f"{PROGRAM} is not built (make)")
        self.top = tempfile.mkdtemp(prefix=f"jsn-e2e-{os.getpid()}.")
        self.addCleanup(shutil.rmtree, self.top, True)
        self.charm = os.path.join(self.top, "charm")
        self.calls = os.path.join(self.top, "juju.log")
        self.lay_out_charm()
        self.lay_out_juju()
        write(os.path.join(self.top, "etc-systemd-system", SERVICE),
              "[Service]\nExecStart=/bin/sleep infinity\n")
        self.boot()

    def lay_out_charm(self):
        write(os.path.join(self.charm, "metadata.yaml"),
              "name: e2e-charm\nsummary: notices end to end\ndescription: test\n")
        write(os.path.join(self.charm, "dispatch"), textwrap.dedent(f"""\
            #!/bin/sh
            JUJU_DISPATCH_PATH="${{JUJU_DISPATCH_PATH:-$0}}" PYTHONPATH=lib:{shlex.quote(OPS_PATH)} exec ./src/charm.py
            """), 0o755)
        write(os.path.join(self.charm, "src", "charm.py"), CHARM, 0o755)
        shutil.copytree(os.path.join(ROOT, "lib"), os.path.join(self.charm, "lib"))
        os.makedirs(os.path.join(self.charm, "bin"))
        shutil.copy(PROGRAM, os.path.join(self.charm, "bin", "juju-systemd-notices"))

    def lay_out_juju(self):
        tools = os.path.join(self.top, "hook-tools")
        log = shlex.quote(self.calls)
        # Each hook tool records its command line; is-leader answers as JSON, as Juju does.
        for tool in ("juju-log", "status-set", "is-leader"):
            answer = "echo false\n" if tool == "is-leader" else ""
            write(os.path.join(tools, tool),
                  f'#!/bin/sh\necho "{tool} $*" >> {log}\n{answer}', 0o755)
        # /usr/bin/juju-exec inside (the fixture's overlay): runs the hook as the unit agent would.
        write(os.path.join(self.top, "usr-bin", "juju-exec"), textwrap.dedent(f"""\
            #!/bin/sh
            echo "juju-exec $*" >> {log}
            cd {shlex.quote(self.charm)} || exit 1
            export JUJU_DISPATCH_PATH="$2" JUJU_UNIT_NAME="$1" JUJU_CHARM_DIR={shlex.quote(self.charm)}
            export JUJU_MODEL_NAME=e2e JUJU_VERSION=3.4.0
            export PATH={shlex.quote(tools)}:/usr/sbin:/usr/bin:/sbin:/bin
            exec ./dispatch
            """), 0o755)

    def boot(self):
        cgroup = f"jsn-e2e-{os.getpid()}-{self.BUS}"
        log = open(os.path.join(self.top, "systemd.log"), "w")
        self.addCleanup(log.close)
        starter = subprocess.Popen(
            [RECIPE, "start", "--dir", self.top, "--bus", self.BUS, "--cgroup", cgroup,
             "--share", OPS_PATH, "--share", ROOT],
            stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)

        def end():
            starter.terminate()  # SIGKILLs systemd, and with it the namespace
            starter.wait()
            subprocess.run([RECIPE, "clean", "--cgroup", cgroup], check=False)
        self.addCleanup(end)
        self.pid = 0
        state = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and starter.poll() is None:
            if not self.pid:
                try:
                    with open(os.path.join(self.top, "systemd.pid")) as f:
                        self.pid = int(f.read().strip() or 0)
                except (OSError, ValueError):
                    pass
            if self.pid:
                state = self.inside("systemctl", "is-system-running").stdout.strip()
                if state in ("running", "degraded"):
                    return
            time.sleep(0.02)
        with open(os.path.join(self.top, "systemd.log")) as f:
            self.fail(f"systemd did not boot (state {state!r}); its log:\n{f.read()}")

    def inside(self, *argv):
        return subprocess.run(["nsenter", "-t", str(self.pid), "-a", *argv],
                              capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, SYSTEMD_PAGER="", SYSTEMD_COLORS="0"))

    def hook(self, name):
        """Runs a Juju hook the way the agent would (through the juju-exec stand-in)."""
        done = self.inside("/usr/bin/juju-exec", "app/0", f"hooks/{name}")
        self.assertEqual(done.returncode, 0, f"hook {name}: {done.stdout}{done.stderr}")

    def unit_property(self, unit, prop):
        return self.inside("systemctl", "show", "-p", prop, "--value", unit).stdout.strip()

    def systemctl(self, *args):
        done = self.inside("systemctl", *args)
        self.assertEqual(done.returncode, 0, f"systemctl {' '.join(args)}: {done.stderr}")

    def log_lines(self):
        try:
            with open(self.calls) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def wait_for_line(self, line, after):
        """Waits (bounded) until `line` is in the stand-ins' log past its first `after` lines."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if line in self.log_lines()[after:]:
                return
            time.sleep(0.05)
        journal = self.inside("journalctl", "--no-pager", "-u", NOTICES).stdout
        self.fail(f"{line!r} never came; the stand-ins saw:\n" + "\n".join(self.log_lines())
                  + f"\nthe daemon's journal:\n{journal}")

    def test_the_charm_reacts_to_its_service_through_the_library(self):
        self.hook("install")
        self.assertEqual(self.unit_property(NOTICES, "ActiveState"), "active")
        self.assertEqual(self.unit_property(NOTICES, "UnitFileState"), "enabled")
        for name in ("service-slurmd-started", "service-slurmd-stopped"):
            link = os.path.join(self.charm, "hooks", name)
            self.assertEqual(os.readlink(link), os.path.join(self.charm, "dispatch"))

        seen = len(self.log_lines())
        self.systemctl("start", SERVICE)
        self.wait_for_line("juju-exec app/0 hooks/service-slurmd-started", seen)
        self.wait_for_line("status-set --application=False active ", seen)

        seen = len(self.log_lines())
        self.systemctl("stop", SERVICE)
        self.wait_for_line("juju-exec app/0 hooks/service-slurmd-stopped", seen)
        self.wait_for_line("status-set --application=False blocked slurmd not running", seen)

        self.hook("stop")
        self.assertEqual(self.unit_property(NOTICES, "ActiveState"), "inactive")
        self.assertEqual(self.unit_property(NOTICES, "UnitFileState"), "disabled")


class CharmEndToEndOnDbusDaemon(CharmEndToEnd, unittest.TestCase):
    BUS = "dbus-daemon"


class CharmEndToEndOnDbusBroker(CharmEndToEnd, unittest.TestCase):
    BUS = "dbus-broker"


if __name__ == "__main__":
    unittest.main()
