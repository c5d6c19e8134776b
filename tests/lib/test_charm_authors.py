"""Charm authors' own unit tests, with the package and its binary installed in the test venv.

The patterns charms that used the original library have in their tests (slurmd, sackd): patch
`SystemdNotices.subscribe` and run install, or run start, stop, upgrade-charm, remove and the
service events (one with the values a test gives it), under ops's Harness and under
ops.testing (Context, State), with whatever ops this suite runs (tests/lib/run --ops 2 and
--ops 3). None of them may start the binary or
systemctl: a recording juju-systemd-notices sits in the installed package's bin/, in the
charm's bin/ and on PATH, a recording systemctl on PATH, and each test asserts they recorded
nothing. Each runs twice: with /etc/systemd/system as it is, and with the library pointed at a
folder where this unit is subscribed (its notices unit file there and enabled), as on the
laptop of a developer who deployed the charm there.

The charms and the tests run in a process of their own, where the package is a copy of
lib/juju_systemd_notices laid out as a wheel installs it, with bin/.
"""

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

import ops

REPOSITORY = Path(__file__).resolve().parents[2]
OPS_PATH = Path(ops.__file__).resolve().parents[1]

RECORDER = textwrap.dedent("""\
    #!/bin/sh
    echo "$0 $*" >> "{log}"
    exit 0
    """)

# Run in the child: every (harness, case, unit directory) in turn; prints one JSON line a case.
CASES = textwrap.dedent('''\
    import json, sys, traceback, warnings
    from pathlib import Path
    from unittest.mock import patch

    import ops
    from ops import ActiveStatus, BlockedStatus, testing

    import juju_systemd_notices
    from charms.juju_systemd_notices.v0.juju_systemd_notices import (
        Service, ServiceStartedEvent, ServiceStoppedEvent, SystemdNotices)

    assert juju_systemd_notices.__file__.startswith(sys.argv[1]), juju_systemd_notices.__file__
    SUBSCRIBE = "charms.juju_systemd_notices.v0.juju_systemd_notices.SystemdNotices.subscribe"


    class ApplicationCharm(ops.CharmBase):
        """The original library's example: subscribe in install, stop in stop."""

        def __init__(self, framework):
            super().__init__(framework)
            self._systemd_notices = SystemdNotices(self, [Service("snap.slurm.slurmd", alias="slurmd")])
            framework.observe(self.on.install, self._on_install)
            framework.observe(self.on.stop, self._on_stop)
            framework.observe(self.on.service_slurmd_started, self._on_started)
            framework.observe(self.on.service_slurmd_stopped, self._on_stopped)

        def _on_install(self, _):
            self._systemd_notices.subscribe()

        def _on_stop(self, _):
            self._systemd_notices.stop()

        def _on_started(self, _: ServiceStartedEvent):
            self.unit.status = ActiveStatus()

        def _on_stopped(self, _: ServiceStoppedEvent):
            self.unit.status = BlockedStatus("slurmd not running")


    class SlurmdCharm(ops.CharmBase):
        """Like slurmd-operator: a name list, subscribe in install, status in start."""

        def __init__(self, framework):
            super().__init__(framework)
            self._notices = juju_systemd_notices.SystemdNotices(self, ["slurmd", "munged"])
            framework.observe(self.on.install, self._on_install)
            framework.observe(self.on.start, self._on_start)
            framework.observe(self.on.service_slurmd_started, self._on_start)
            framework.observe(self.on.service_munged_stopped, self._on_munged_stopped)

        def _on_install(self, _):
            self._notices.subscribe()

        def _on_munged_stopped(self, event):
            # What the event says (issue 26), as a test gives it (VALUES).
            self.unit.status = BlockedStatus(f"{event.service.hook_alias} {event.describe()}")

        def _on_start(self, _):
            assert self._notices.status().watches == ()
            self.unit.status = ActiveStatus()


    # The values tests give a service event of munged, to emit().
    VALUES = {"state": "failed", "result": "exit-code", "exit_status": 1, "n_restarts": 3}


    def values_for(event):
        return VALUES if event.startswith("service_munged_") else {}


    def harness_run(charm, event, patched):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            harness = testing.Harness(charm, meta="name: app\\n")
        try:
            harness.begin()
            if patched:
                with patch(SUBSCRIBE) as subscribe:
                    getattr(harness.charm.on, event).emit()
                subscribe.assert_called_once_with()
            else:
                getattr(harness.charm.on, event).emit(**values_for(event))
            return harness.model.unit.status
        finally:
            harness.cleanup()


    def context_run(charm, event, patched):
        ctx = testing.Context(charm, meta={"name": "app"})
        if event.startswith("service_"):
            with ctx(ctx.on.update_status(), testing.State()) as manager:
                getattr(manager.charm.on, event).emit(**values_for(event))
                return manager.run().unit_status
        if patched:
            with patch(SUBSCRIBE) as subscribe:
                state = ctx.run(getattr(ctx.on, event)(), testing.State())
            subscribe.assert_called_once_with()
            return state.unit_status
        return ctx.run(getattr(ctx.on, event)(), testing.State()).unit_status


    EVENTS = [("install", True), ("install", False), ("start", False), ("stop", False),
              ("upgrade_charm", False), ("remove", False), ("service_slurmd_started", False),
              ("service_slurmd_stopped", False), ("service_munged_stopped", False)]
    for unit_directory in [None, sys.argv[2]]:
        if unit_directory is not None:
            juju_systemd_notices.SYSTEM_UNIT_DIRECTORY = Path(unit_directory)
        for runner in [harness_run, context_run]:
            for charm in [ApplicationCharm, SlurmdCharm]:
                for event, patched in EVENTS:
                    if charm is SlurmdCharm and event == "service_slurmd_stopped":
                        continue
                    if charm is ApplicationCharm and event == "service_munged_stopped":
                        continue
                    case = (f"{runner.__name__} {charm.__name__} {event}"
                            f"{' (subscribe patched)' if patched else ''}"
                            f"{' subscribed' if unit_directory else ''}")
                    try:
                        status = runner(charm, event, patched)
                        if event == "service_slurmd_stopped":
                            assert status == BlockedStatus("slurmd not running"), status
                        elif event == "service_slurmd_started":
                            assert status == ActiveStatus(), status
                        elif event == "service_munged_stopped":
                            assert status == BlockedStatus(
                                "munged failed: exit status 1 (restarted 3 times)"), status
                        print(json.dumps({"case": case, "error": None}), flush=True)
                    except BaseException:
                        print(json.dumps({"case": case, "error": traceback.format_exc()}), flush=True)
    ''')


def write_executable(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


class CharmAuthorsTestsTest(unittest.TestCase):
    def test_no_charm_test_pattern_runs_the_binary_or_systemctl(self):
        top = Path(tempfile.mkdtemp(prefix="jsn-charm-authors-"))
        self.addCleanup(shutil.rmtree, str(top), True)
        log = top / "calls"
        recorder = RECORDER.format(log=log)
        site = top / "site-packages"
        shutil.copytree(str(REPOSITORY / "lib" / "juju_systemd_notices"),
                        str(site / "juju_systemd_notices"))
        write_executable(site / "juju_systemd_notices" / "bin" / "juju-systemd-notices", recorder)
        path_dir = top / "path"
        write_executable(path_dir / "juju-systemd-notices", recorder)
        write_executable(path_dir / "systemctl", recorder)
        # A unit directory where app/0 is subscribed (its file, enabled).
        units = top / "etc-systemd-system"
        (units / "multi-user.target.wants").mkdir(parents=True)
        (units / "juju-app-0-systemd-notices.service").write_text("[Service]\n")
        (units / "multi-user.target.wants" / "juju-app-0-systemd-notices.service").symlink_to(
            units / "juju-app-0-systemd-notices.service")
        (top / "cases.py").write_text(CASES)
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(
            [str(site), str(REPOSITORY / "lib"), str(OPS_PATH)])
        environment["PATH"] = f"{path_dir}:/usr/bin:/bin"
        result = subprocess.run(
            [sys.executable, str(top / "cases.py"), str(site), str(units)], cwd=str(top),
            env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            timeout=300)
        self.assertEqual(result.returncode, 0, result.stderr)
        cases = [json.loads(line) for line in result.stdout.splitlines()]
        self.assertEqual(len(cases), 2 * 2 * 16, result.stdout)
        for case in cases:
            with self.subTest(case=case["case"]):
                self.assertIsNone(case["error"], case["error"])
        self.assertFalse(log.exists(), log.read_text() if log.exists() else "")


if __name__ == "__main__":
    unittest.main()
