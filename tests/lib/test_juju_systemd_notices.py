"""Unit tests of the charm library lib/juju_systemd_notices (and its Charmhub re-export).

With ops.testing (Context, State), as charm authors write tests today, and one case under ops's
Harness: the events the library defines, the command lines it runs (a fake binary in the
charm's bin/ records them and answers as each test asks; the library is told it runs under
Juju, since under a test harness it runs nothing: test_charm_authors.py), how failures surface
and are logged, what it does by itself on upgrade-charm and remove, the PATH fallback. And
against the real build/juju-systemd-notices (JSN_BINARY overrides the path): what the library
accepts, the binary accepts too (`subscribe --root`, offline), and what it refuses by the
binary's rules, the binary refuses.

Run by tests/lib/run (`make check-library`) with ops importable, e.g.
PYTHONPATH=../shared/third_party/ops-2.20.0.
"""

import contextlib
import os
import pickle
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
import unittest
import warnings
from datetime import datetime, timezone
from pathlib import Path
from unittest import mock

REPOSITORY = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPOSITORY / "lib"))

import ops  # noqa: E402
from ops import ActiveStatus, BlockedStatus, CharmBase, InstallEvent, StopEvent  # noqa: E402
from ops import testing  # noqa: E402
from ops.testing import Harness  # noqa: E402

import juju_systemd_notices as library  # noqa: E402
from charms.juju_systemd_notices.v0 import juju_systemd_notices as charmhub_library  # noqa: E402
from charms.juju_systemd_notices.v0.juju_systemd_notices import (  # noqa: E402
    Service,
    ServiceStartedEvent,
    ServiceStoppedEvent,
    SystemdNotices,
)

REAL_BINARY = Path(os.environ.get("JSN_BINARY", str(REPOSITORY / "build" / "juju-systemd-notices")))

# What `status --unit app/0 --json` printed on a real systemd user manager
# (tests/support/user-systemd run) watching one started and one absent unit.
REAL_STATUS_JSON = (
    '{"juju_unit": "app/0", "daemon_unit": "juju-app-0-systemd-notices.service", '
    '"daemon_active_state": "active", "state_file": true, "watches": [{"alias": "probe-a", '
    '"unit": "jsn-lib-probe.service", "id": "jsn-lib-probe.service", "active_state": "active", '
    '"delivered": "started", '
    '"pending": "none", "pending_hook": "none"}, {"alias": "jsn-lib-probe2", "unit": '
    '"jsn-lib-probe2.service", "id": "jsn-lib-probe2.service", "active_state": "inactive", '
    '"delivered": "stopped", '
    '"pending": "none", "pending_hook": "none"}]}\n'
)
# What the binary writes on stderr with --json when systemd refuses (src/cli/cli.cc), and the
# message the library makes of it.
ACCESS_DENIED = (
    '{"command":"subscribe","error":"dbus-error","doing":"enabling the unit","dbus_error":'
    '"org.freedesktop.DBus.Error.AccessDenied","message":"enabling '
    'juju-app-0-systemd-notices.service: org.freedesktop.DBus.Error.AccessDenied: Access denied '
    'to EnableUnitFiles (fake)"}\n'
)
ACCESS_DENIED_MESSAGE = (
    "juju-systemd-notices subscribe: enabling the unit: enabling "
    "juju-app-0-systemd-notices.service: org.freedesktop.DBus.Error.AccessDenied: Access denied "
    "to EnableUnitFiles (fake) (exit status 1)"
)


class ApplicationCharm(CharmBase):
    """The issue's charm: the original library's example trimmed to its notices parts."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._systemd_notices = SystemdNotices(self, [Service("snap.slurm.slurmd", alias="slurmd")])
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


def charm_watching(services):
    """A charm class whose __init__ makes SystemdNotices(self, services)."""

    class WatchingCharm(CharmBase):
        def __init__(self, framework):
            super().__init__(framework)
            self.notices = SystemdNotices(self, services)

    return WatchingCharm


# The fake binary: records its arguments (NUL-separated) in argv beside it and appends them as a
# line to runs, prints the files stdout and stderr beside it, exits with the number in exit (or
# kills itself with SIGTERM, or hangs: "hang"). When unit-file beside it names a path, a
# successful subscribe creates that file and enables it (a multi-user.target.wants/ link), stop
# disables it and remove deletes both, as the binary does with the notices unit file.
FAKE_BINARY = textwrap.dedent(
    """\
    #!/bin/sh
    here=$(dirname "$0")
    for argument in "$@"; do printf '%s\\0' "$argument"; done > "$here/argv"
    { for argument in "$@"; do printf '%s\\0' "$argument"; done; echo; } >> "$here/runs"
    cat "$here/stdout" 2>/dev/null
    cat "$here/stderr" >&2 2>/dev/null
    code=$(cat "$here/exit" 2>/dev/null || echo 0)
    [ "$code" = term ] && kill -TERM $$
    [ "$code" = hang ] && exec sleep 600
    if [ "$code" = 0 ] && [ -s "$here/unit-file" ]; then
      file=$(cat "$here/unit-file")
      wants="$(dirname "$file")/multi-user.target.wants"
      case "$1" in
        subscribe) : > "$file"; mkdir -p "$wants"; ln -sf "$file" "$wants/" ;;
        stop) rm -f "$wants/$(basename "$file")" ;;
        remove) rm -f "$file" "$wants/$(basename "$file")" ;;
      esac
    fi
    exit "$code"
    """
)


def write_executable(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


class FakeBinary:
    """A fake juju-systemd-notices in `directory`."""

    def __init__(self, directory: Path, stdout: str = "", stderr: str = "", exit: str = "0"):
        self.directory = directory
        write_executable(directory / "juju-systemd-notices", FAKE_BINARY)
        self.answer(stdout, stderr, exit)

    def answer(self, stdout: str = "", stderr: str = "", exit: str = "0") -> None:
        (self.directory / "stdout").write_text(stdout)
        (self.directory / "stderr").write_text(stderr)
        (self.directory / "exit").write_text(exit)

    def argv(self):
        """The arguments of the last run, or None when it has not run."""
        recorded = self.directory / "argv"
        if not recorded.exists():
            return None
        return recorded.read_bytes().decode().split("\0")[:-1]

    def runs(self):
        """The arguments of every run, in order ([] when it has not run)."""
        recorded = self.directory / "runs"
        if not recorded.exists():
            return []
        return [line.split("\0")[:-1] for line in recorded.read_bytes().decode().splitlines()]

    def keep_unit_file(self, path: Path) -> None:
        """From now on subscribe creates and enables `path`, stop disables it, remove deletes it."""
        (self.directory / "unit-file").write_text(str(path))


class LibraryTest(unittest.TestCase):
    """A temporary charm dir, PATH without any juju-systemd-notices, helpers for Harness."""

    def setUp(self):
        self.temp = Path(tempfile.mkdtemp(prefix="jsn-library-"))
        self.addCleanup(shutil.rmtree, str(self.temp), True)
        self.charm_dir = self.temp / "charm"
        self.charm_dir.mkdir()
        (self.charm_dir / "dispatch").write_text("#!/bin/sh\n")
        self.path_dir = self.temp / "path"
        self.path_dir.mkdir()
        self.set_environment("PATH", f"{self.path_dir}:/usr/bin:/bin")
        # Where upgrade-charm looks for the notices unit: never the host's /etc/systemd/system.
        self.unit_directory = self.temp / "etc-systemd-system"
        self.unit_directory.mkdir()
        patcher = mock.patch.object(library, "SYSTEM_UNIT_DIRECTORY", self.unit_directory)
        patcher.start()
        self.addCleanup(patcher.stop)
        # These tests are of what the library runs: under Harness it would run nothing (see
        # test_charm_authors.py for that), so it is told it runs under Juju.
        patcher = mock.patch.object(library, "_under_test_harness", lambda model: False)
        patcher.start()
        self.addCleanup(patcher.stop)

    def set_environment(self, name, value):
        old = os.environ.get(name)
        os.environ[name] = value
        self.addCleanup(self._restore_environment, name, old)

    @staticmethod
    def _restore_environment(name, old):
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old

    def context(self, charm_class, app="app"):
        """An ops.testing Context for charm_class, with our charm dir as its charm root."""
        return testing.Context(charm_class, meta={"name": app}, charm_root=self.charm_dir)

    def run_event(self, charm_class, event, app="app"):
        """Runs the Juju event `event` ("install", "upgrade_charm", ...) on a charm of
        charm_class as a hook does; returns the output State. An exception the charm's code
        raised is raised as it is (ops.testing wraps it in UncaughtCharmError)."""
        ctx = self.context(charm_class, app)
        try:
            return ctx.run(getattr(ctx.on, event)(), testing.State())
        except testing.errors.UncaughtCharmError as error:
            raise error.__cause__ from None

    @contextlib.contextmanager
    def charm(self, charm_class, app="app"):
        """The charm as made for a hook (update-status), to call its methods; the hook then
        runs to its end."""
        ctx = self.context(charm_class, app)
        with ctx(ctx.on.update_status(), testing.State()) as manager:
            yield manager.charm
            manager.run()

    def harness(self, charm_class, app="app"):
        """ops's Harness, for the cases kept for charms whose tests still use it."""
        with warnings.catch_warnings():
            # ops 2.20 marks Harness as pending deprecation (for ops.testing's state-transition
            # API); it is still ops's own Harness in 2.x and 3.x.
            warnings.filterwarnings("ignore", "Harness is deprecated", PendingDeprecationWarning)
            harness = Harness(charm_class, meta=f"name: {app}\n")
        self.addCleanup(harness.cleanup)
        # Harness has no charm dir on disk; point it at ours, as Juju's JUJU_CHARM_DIR would.
        harness.framework.charm_dir = self.charm_dir
        harness.begin()
        return harness

    def bundled_fake(self, **answer) -> FakeBinary:
        return FakeBinary(self.charm_dir / "bin", **answer)


class EventsTest(LibraryTest):
    def test_each_service_gets_a_started_and_a_stopped_event_named_after_its_alias(self):
        with self.charm(charm_watching([
            Service("snap.slurm.slurmd", alias="slurmd"),
            Service("foo@bar.service", alias="my-foo-bar"),
            Service("plain-name"),
            Service("x.service", alias="X1"),
        ])) as charm:
            for kind in ["slurmd", "my_foo_bar", "plain_name", "X1"]:
                with self.subTest(kind=kind):
                    self.assertIs(getattr(charm.on, f"service_{kind}_started").event_type,
                                  ServiceStartedEvent)
                    self.assertIs(getattr(charm.on, f"service_{kind}_stopped").event_type,
                                  ServiceStoppedEvent)

    def test_the_event_for_a_hook_is_the_one_ops_dispatches_it_to(self):
        # ops turns the hook name into the event name by '-' -> '_' (ops/_main.py).
        with self.charm(charm_watching([Service("a", alias="x-y-z")])) as charm:
            for hook in ["service-x-y-z-started", "service-x-y-z-stopped"]:
                self.assertTrue(hasattr(charm.on, hook.replace("-", "_")), hook)

    def test_without_an_alias_the_events_use_the_name_without_service_as_the_binary_does(self):
        with self.charm(charm_watching([Service("slurmd.service"), Service("snap-x")])) as charm:
            self.assertIs(charm.on.service_slurmd_started.event_type, ServiceStartedEvent)
            self.assertIs(charm.on.service_snap_x_stopped.event_type, ServiceStoppedEvent)
        self.assertEqual(Service("slurmd.service").hook_alias, "slurmd")
        self.assertIsNone(Service("slurmd.service").alias)  # as given, like the original

    def test_names_alone_are_accepted_as_services_like_the_original(self):
        with self.charm(charm_watching(["slurmd", Service("munged")])) as charm:
            self.assertEqual([s.name for s in charm.notices.services], ["slurmd", "munged"])
            self.assertTrue(hasattr(charm.on, "service_slurmd_started"))
        with self.charm(charm_watching("slurmd")) as charm:
            self.assertEqual(charm.notices.services, [Service("slurmd")])

    def test_the_issues_charm_handles_its_events(self):
        for event, status in [("service_slurmd_started", ActiveStatus()),
                              ("service_slurmd_stopped", BlockedStatus("slurmd not running"))]:
            with self.subTest(event=event):
                ctx = self.context(ApplicationCharm)
                with ctx(ctx.on.update_status(), testing.State()) as manager:
                    getattr(manager.charm.on, event).emit()
                    state = manager.run()
                self.assertEqual(state.unit_status, status)

    def test_the_issues_charm_handles_its_events_under_harness(self):
        # The one Harness case, for the charms whose tests still use it.
        harness = self.harness(ApplicationCharm)
        harness.charm.on.service_slurmd_started.emit()
        self.assertEqual(harness.model.unit.status, ActiveStatus())
        harness.charm.on.service_slurmd_stopped.emit()
        self.assertEqual(harness.model.unit.status, BlockedStatus("slurmd not running"))
        fake = self.bundled_fake()
        harness.charm.on.install.emit()
        self.assertEqual(fake.argv()[:3], ["subscribe", "--unit", "app/0"])

    def test_a_second_systemd_notices_for_the_same_alias_does_not_redefine_its_events(self):
        with self.charm(charm_watching([Service("slurmd")])) as charm:
            charm.more = [SystemdNotices(charm, [Service("snap.slurm.slurmd", alias="slurmd")]),
                          SystemdNotices(charm, [Service("munged")])]
            self.assertIs(charm.on.service_slurmd_started.event_type, ServiceStartedEvent)
            self.assertIs(charm.on.service_munged_started.event_type, ServiceStartedEvent)

    def test_a_charm_made_again_on_the_same_events_class_keeps_its_events(self):
        # ops defines events on the class of charm.on; the original raised when a process made
        # its charm twice (ops's "overlaps with an existing type"). Two stand-in charms sharing
        # one events class, as two instances of one charm class do outside a test harness
        # (which makes an events class per charm).
        class SharedEvents(ops.CharmEvents):
            pass

        class StandInCharm(ops.Object):
            on = SharedEvents()

        with self.charm(charm_watching(["placeholder"])) as charm:
            first = StandInCharm(charm.framework, "first")
            second = StandInCharm(charm.framework, "second")
            charm.more = [SystemdNotices(first, [Service("slurmd")]),
                          SystemdNotices(second, [Service("slurmd")])]
        self.assertIs(SharedEvents.service_slurmd_started.event_type, ServiceStartedEvent)

    def test_an_event_of_that_name_and_another_type_is_refused(self):
        class OwnEvents(ops.CharmEvents):
            service_slurmd_started = ops.EventSource(ops.EventBase)

        class OwnCharm(CharmBase):
            on = OwnEvents()

        with self.charm(OwnCharm) as charm:
            with self.assertRaisesRegex(RuntimeError, "service_slurmd_started"):
                SystemdNotices(charm, [Service("slurmd")])


class TransitionCharm(CharmBase):
    """Records what each service event says (class-wide `seen`); defers stops while told to."""

    seen = []
    defer_stops = False

    def __init__(self, framework):
        super().__init__(framework)
        self.notices = SystemdNotices(self, [Service("snap.slurm.slurmd", alias="slurmd"),
                                             Service("munged")])
        for event in (self.on.service_slurmd_started, self.on.service_slurmd_stopped,
                      self.on.service_munged_started, self.on.service_munged_stopped):
            framework.observe(event, self._on_service)

    def _on_service(self, event):
        TransitionCharm.seen.append(said(event))
        if TransitionCharm.defer_stops and isinstance(event, ServiceStoppedEvent):
            event.defer()
        else:
            self.unit.status = BlockedStatus(f"{event.service.hook_alias} {event.describe()}")


def said(event):
    """What a service event says, as a dict."""
    return {"kind": event.handle.kind, "service": event.service, "state": event.state,
            "result": event.result, "failed": event.failed, "exit_status": event.exit_status,
            "signal": event.signal, "core_dumped": event.core_dumped,
            "n_restarts": event.n_restarts, "timestamp": event.timestamp}


SLURMD = Service("snap.slurm.slurmd", alias="slurmd")
# A service that exited 3, as the daemon gives it to the hook (CONTRACT26, the hook's JSN_
# variables), and what the stopped event says of it.
EXITED_3 = {"JSN_STATE": "failed", "JSN_RESULT": "exit-code", "JSN_EXIT_CODE": "exited",
            "JSN_EXIT_STATUS": "3", "JSN_N_RESTARTS": "0", "JSN_TIMESTAMP": "1796696329249482"}
EXITED_3_SAID = {"kind": "service_slurmd_stopped", "service": SLURMD, "state": "failed",
                 "result": "exit-code", "failed": True, "exit_status": 3, "signal": None,
                 "core_dumped": False, "n_restarts": 0,
                 "timestamp": datetime(2026, 12, 8, 2, 18, 49, 249482, tzinfo=timezone.utc)}
NOTHING_SAID = {"state": None, "result": None, "failed": False, "exit_status": None,
                "signal": None, "core_dumped": False, "n_restarts": None, "timestamp": None}
JSN_VARIABLES = ("JSN_STATE", "JSN_RESULT", "JSN_EXIT_CODE", "JSN_EXIT_STATUS", "JSN_N_RESTARTS",
                 "JSN_TIMESTAMP")


class TransitionTest(LibraryTest):
    """What a service event says about its transition: from the hook's JSN_ variables when ops
    dispatches it, from emit()'s keywords in a test, kept through defer()."""

    def setUp(self):
        super().setUp()
        TransitionCharm.seen = []
        TransitionCharm.defer_stops = False
        for name in JSN_VARIABLES + ("JUJU_DISPATCH_PATH",):
            self.unset_environment(name)

    def unset_environment(self, name):
        old = os.environ.pop(name, None)
        self.addCleanup(self._restore_environment, name, old)

    def dispatch(self, harness, hook, variables):
        """What ops's main does for `hook` run with `variables` (as the daemon's juju-exec
        command gives them): deferred events first, then the hook's event, made with its handle
        alone (emit() with no arguments)."""
        for name in JSN_VARIABLES:
            os.environ.pop(name, None)
        os.environ.update(variables)
        os.environ["JUJU_DISPATCH_PATH"] = f"hooks/{hook}"
        harness.framework.reemit()
        getattr(harness.charm.on, hook.replace("-", "_")).emit()

    def test_at_dispatch_the_values_come_from_the_hooks_jsn_variables(self):
        harness = self.harness(TransitionCharm)
        self.dispatch(harness, "service-slurmd-stopped", EXITED_3)
        self.assertEqual(TransitionCharm.seen, [EXITED_3_SAID])
        self.assertEqual(harness.model.unit.status,
                         BlockedStatus("slurmd failed: exit status 3"))
        self.dispatch(harness, "service-munged-stopped", {
            "JSN_STATE": "failed", "JSN_RESULT": "core-dump", "JSN_EXIT_CODE": "dumped",
            "JSN_EXIT_STATUS": "11", "JSN_N_RESTARTS": "2"})
        self.assertEqual(TransitionCharm.seen[1], {
            "kind": "service_munged_stopped", "service": Service("munged"), "state": "failed",
            "result": "core-dump", "failed": True, "exit_status": None, "signal": 11,
            "core_dumped": True, "n_restarts": 2, "timestamp": None})
        self.assertEqual(harness.model.unit.status, BlockedStatus(
            "munged failed: dumped core on signal 11 (SEGV) (restarted 2 times)"))
        self.dispatch(harness, "service-slurmd-started", {
            "JSN_STATE": "active", "JSN_RESULT": "success", "JSN_N_RESTARTS": "1"})
        self.assertEqual(TransitionCharm.seen[2], dict(
            NOTHING_SAID, kind="service_slurmd_started", service=SLURMD, state="active",
            result="success", n_restarts=1))
        self.assertEqual(harness.model.unit.status,
                         BlockedStatus("slurmd started (restarted 1 time)"))

    def test_a_hook_without_jsn_variables_gives_no_values_as_from_an_older_daemon(self):
        harness = self.harness(TransitionCharm)
        self.dispatch(harness, "service-slurmd-stopped", {})
        self.dispatch(harness, "service-slurmd-started", {})
        self.assertEqual(TransitionCharm.seen, [
            dict(NOTHING_SAID, kind="service_slurmd_stopped", service=SLURMD),
            dict(NOTHING_SAID, kind="service_slurmd_started", service=SLURMD)])
        self.assertEqual(harness.model.unit.status, BlockedStatus("slurmd started"))

    def test_malformed_variables_give_none_never_an_error(self):
        harness = self.harness(TransitionCharm)
        for variables in [
            {"JSN_STATE": "Failed", "JSN_RESULT": "exit code", "JSN_EXIT_CODE": "exited",
             "JSN_EXIT_STATUS": "3x", "JSN_N_RESTARTS": "-1", "JSN_TIMESTAMP": "1e6"},
            {"JSN_STATE": "", "JSN_RESULT": "x" * 65, "JSN_EXIT_CODE": "exploded",
             "JSN_EXIT_STATUS": "9", "JSN_N_RESTARTS": "", "JSN_TIMESTAMP": "9" * 20},
            {"JSN_STATE": "failed;reboot", "JSN_EXIT_CODE": "killed", "JSN_EXIT_STATUS": " 9",
             "JSN_N_RESTARTS": "1" * 21, "JSN_TIMESTAMP": "0"},
        ]:
            with self.subTest(variables=variables):
                TransitionCharm.seen = []
                self.dispatch(harness, "service-slurmd-stopped", variables)
                self.assertEqual(TransitionCharm.seen, [
                    dict(NOTHING_SAID, kind="service_slurmd_stopped", service=SLURMD)])

    def test_an_event_emitted_in_another_hook_does_not_take_that_hooks_values(self):
        harness = self.harness(TransitionCharm)
        self.dispatch(harness, "service-munged-stopped", EXITED_3)
        harness.charm.on.service_slurmd_stopped.emit()  # by the charm, in munged's hook
        self.assertEqual(TransitionCharm.seen[0]["exit_status"], 3)
        self.assertEqual(TransitionCharm.seen[1], dict(
            NOTHING_SAID, kind="service_slurmd_stopped", service=SLURMD))

    def test_a_test_gives_the_values_as_emit_keywords_under_ops_testing_and_harness(self):
        os.environ.update(EXITED_3)  # not read: keywords were given
        keywords = dict(state="failed", result="signal", signal=9, n_restarts=3,
                        timestamp=datetime(2026, 12, 8, tzinfo=timezone.utc))
        expected = dict(NOTHING_SAID, kind="service_slurmd_stopped", service=SLURMD,
                        failed=True, **keywords)
        ctx = self.context(TransitionCharm)
        with ctx(ctx.on.update_status(), testing.State()) as manager:
            manager.charm.on.service_slurmd_stopped.emit(**keywords)
            state = manager.run()
        self.assertEqual(TransitionCharm.seen, [expected])
        self.assertEqual(state.unit_status,
                         BlockedStatus("slurmd failed: killed by signal 9 (KILL) (restarted 3 times)"))
        TransitionCharm.seen = []
        harness = self.harness(TransitionCharm)
        harness.charm.on.service_slurmd_stopped.emit(**keywords)
        self.assertEqual(TransitionCharm.seen, [expected])
        harness.charm.on.service_munged_started.emit(n_restarts=0)
        self.assertEqual(TransitionCharm.seen[1], dict(
            NOTHING_SAID, kind="service_munged_started", service=Service("munged"), n_restarts=0))

    def test_a_deferred_stop_keeps_its_own_values_when_emitted_again_after_a_start(self):
        harness = self.harness(TransitionCharm)
        TransitionCharm.defer_stops = True
        self.dispatch(harness, "service-slurmd-stopped", EXITED_3)
        TransitionCharm.defer_stops = False
        started = {"JSN_STATE": "active", "JSN_RESULT": "success", "JSN_N_RESTARTS": "1",
                   "JSN_TIMESTAMP": "1796696330000000"}
        self.dispatch(harness, "service-slurmd-started", started)
        self.assertEqual([seen["kind"] for seen in TransitionCharm.seen],
                         ["service_slurmd_stopped", "service_slurmd_stopped",
                          "service_slurmd_started"])
        self.assertEqual(TransitionCharm.seen[1], EXITED_3_SAID)  # re-emitted: its own values
        self.assertEqual(TransitionCharm.seen[2]["state"], "active")
        self.assertEqual(TransitionCharm.seen[2]["n_restarts"], 1)

    def test_under_ops_testing_a_deferred_stop_carries_its_values_to_the_next_run(self):
        ctx = self.context(TransitionCharm)
        TransitionCharm.defer_stops = True
        with ctx(ctx.on.update_status(), testing.State()) as manager:
            manager.charm.on.service_slurmd_stopped.emit(state="failed", result="start-limit-hit",
                                                         n_restarts=5)
            state = manager.run()
        self.assertEqual([event.name for event in state.deferred], ["service_slurmd_stopped"])
        TransitionCharm.defer_stops = False
        TransitionCharm.seen = []
        state = ctx.run(ctx.on.update_status(), state)
        self.assertEqual(TransitionCharm.seen, [dict(
            NOTHING_SAID, kind="service_slurmd_stopped", service=SLURMD, state="failed",
            failed=True, result="start-limit-hit", n_restarts=5)])
        self.assertEqual(state.unit_status,
                         BlockedStatus("slurmd failed: start-limit-hit (restarted 5 times)"))
        self.assertEqual(state.deferred, [])

    def test_an_event_deferred_by_an_older_library_restores_with_no_values(self):
        # The original's events and ours before these values: a snapshot without their keys.
        ctx = self.context(TransitionCharm)
        deferred = testing.DeferredEvent(
            handle_path="TransitionCharm/on/service_slurmd_stopped[1]", owner="TransitionCharm",
            observer="_on_service", snapshot_data={})
        state = ctx.run(ctx.on.update_status(), testing.State(deferred=[deferred]))
        self.assertEqual(TransitionCharm.seen, [
            dict(NOTHING_SAID, kind="service_slurmd_stopped", service=SLURMD)])
        self.assertEqual(state.unit_status, BlockedStatus("slurmd stopped"))

    def test_describe_words_each_outcome_as_systemd_does(self):
        for kind, keywords, expected in [
            ("stopped", {}, "stopped"),
            ("stopped", dict(state="inactive", result="success", signal=15), "stopped"),
            ("stopped", dict(state="failed", result="exit-code", exit_status=1, n_restarts=3),
             "failed: exit status 1 (restarted 3 times)"),
            ("stopped", dict(state="failed", result="signal", signal=9),
             "failed: killed by signal 9 (KILL)"),
            ("stopped", dict(state="failed", result="signal", signal=40),
             "failed: killed by signal 40"),
            ("stopped", dict(state="failed", result="core-dump", signal=6, core_dumped=True),
             "failed: dumped core on signal 6 (ABRT)"),
            ("stopped", dict(state="failed", result="start-limit-hit", n_restarts=5),
             "failed: start-limit-hit (restarted 5 times)"),
            ("stopped", dict(state="failed", result="timeout", signal=15),
             "failed: timeout"),
            ("stopped", dict(state="failed"), "failed"),
            ("stopped", dict(state="failed", result="exit-code"), "failed: exit-code"),
            ("started", dict(state="active", result="success", n_restarts=0), "started"),
            ("started", dict(state="active", n_restarts=1), "started (restarted 1 time)"),
        ]:
            with self.subTest(keywords=keywords):
                event_type = ServiceStartedEvent if kind == "started" else ServiceStoppedEvent
                event = event_type(ops.Handle(None, f"service_x_{kind}", None), **keywords)
                self.assertEqual(event.describe(), expected)

    def test_status_reads_each_watchs_transition(self):
        transition = ('"transition": {"state": "failed", "result": "exit-code", '
                      '"exit_code": "exited", "exit_status": 3, "n_restarts": 0, '
                      '"timestamp": 1796696329249482}, ')
        output = REAL_STATUS_JSON.replace('"delivered": "started", ',
                                          '"delivered": "started", ' + transition, 1)
        output = output.replace('"delivered": "stopped", ',
                                '"delivered": "stopped", "transition": null, ', 1)
        self.bundled_fake(stdout=output)
        with self.charm(ApplicationCharm) as charm:
            status = charm._systemd_notices.status()
        first, second = status.watches
        self.assertEqual(first[:7], ("probe-a", "jsn-lib-probe.service", "jsn-lib-probe.service",
                                     "active", "started", "none", "none"))
        self.assertEqual(first._asdict(), dict(
            first._asdict(), transition_state="failed", result="exit-code", exit_code="exited",
            exit_status=3, n_restarts=0, timestamp=EXITED_3_SAID["timestamp"]))
        for watch in (second, library.WatchStatus(*first[:7])):
            self.assertEqual(watch[7:], (None,) * 6)

    def test_status_takes_a_transitions_known_keys_and_ignores_ill_typed_ones(self):
        for transition, expected in [
            ('{"state": "inactive", "result": "success"}',
             ("inactive", "success", None, None, None, None)),
            ('{"state": 1, "exit_status": "3", "n_restarts": true, "timestamp": null, '
             '"exit_code": "killed"}', (None, None, "killed", None, None, None)),
            ('[]', (None,) * 6),
        ]:
            with self.subTest(transition=transition):
                self.bundled_fake(stdout=REAL_STATUS_JSON.replace(
                    '"delivered": "started", ', f'"delivered": "started", "transition": {transition}, ', 1))
                with self.charm(ApplicationCharm) as charm:
                    status = charm._systemd_notices.status()
                self.assertEqual(status.watches[0][7:], expected)


class ValidationTest(LibraryTest):
    """ValueError by the binary's rules (src/daemon/options.cc), when the objects are made."""

    def assert_refused(self, pattern, name, alias=None):
        with self.assertRaisesRegex(ValueError, pattern) as raised:
            Service(name, alias=alias)
        self.assertIn("expected", str(raised.exception))
        return raised.exception

    def test_bad_unit_names_are_refused_with_what_was_expected_and_found(self):
        self.assert_refused(r"expected a systemd service name .* found ''", "")
        self.assert_refused(re.escape("only [A-Za-z0-9:_.\\@-] before its type, found 'a b'"), "a b")
        self.assert_refused(r"found 'slurm/d'", "slurm/d")
        self.assert_refused(r"found 'a=b'", "a=b", alias="x")
        self.assert_refused(r"a name before '@', found '@x'", "@x")
        self.assert_refused(r"an instance after '@'.*found 'getty@.service'", "getty@.service")
        self.assert_refused(r"at most 255 bytes", "a" * 248)  # 256 with .service
        self.assert_refused(r"at most 255 bytes", "a" * 250 + ".timer", alias="t")
        self.assert_refused(r"found 'slürmd'", "slürmd")

    def test_bad_aliases_are_refused(self):
        self.assertEqual(Service("slurmd", alias="").hook_alias, "slurmd")  # no alias, as the original
        self.assert_refused(r"starting with a letter or digit.*found '-x'", "slurmd", alias="-x")
        self.assert_refused(r"found 'a b'", "slurmd", alias="a b")
        self.assert_refused(r"found 'a/b'", "slurmd", alias="a/b")
        self.assert_refused(r"1 to 128 bytes", "slurmd", alias="a" * 129)

    def test_aliases_the_binary_takes_but_ops_cannot_name_an_event_after_are_refused(self):
        for alias in ["a.b", "a@b", "a:b"]:
            with self.subTest(alias=alias):
                self.assert_refused(r"\[A-Za-z0-9_-\].*Python identifier", "slurmd", alias=alias)
        # A name with a type other than .service keeps it in its default alias: say which.
        error = self.assert_refused(r"from the name 'foo.timer'; give alias=", "foo.timer")
        self.assertIn("found 'foo.timer'", str(error))

    def test_good_names_are_accepted_and_name_the_unit_the_binary_watches(self):
        cases = {
            ("snap.slurm.slurmd", "slurmd"): "snap.slurm.slurmd.service",
            ("slurmd.service", None): "slurmd.service",
            ("foo@bar.service", "foo-bar"): "foo@bar.service",
            ("foo@bar@baz", "baz"): "foo@bar@baz.service",
            ("foo.timer", "foo"): "foo.timer",
            ("-.mount", "root"): "-.mount",
            ("a\\x2db", "ab"): "a\\x2db.service",
            ("x:y_z", "xyz"): "x:y_z.service",
            ("a" * 247, "long"): "a" * 247 + ".service",
        }
        for (name, alias), unit in cases.items():
            with self.subTest(name=name):
                self.assertEqual(Service(name, alias=alias).unit, unit)
        self.assertEqual(Service("a", alias="b" * 128).hook_alias, "b" * 128)

    def test_lists_the_binary_refuses_are_made_as_the_original_and_refused_by_subscribe(self):
        fake = self.bundled_fake()
        with self.charm(charm_watching(["placeholder"])) as charm:
            self.check_lists_refused_by_subscribe(charm, fake)

    def check_lists_refused_by_subscribe(self, charm, fake):
        for services, pattern in [
            ([Service("slurmd"), Service("slurmd.service", alias="other")],
             "expected each unit once, found slurmd.service twice"),
            ([Service("a", alias="x"), Service("b", alias="x")],
             "different alias for each service, found 'x'"),
            ([], "at least one service to subscribe to, found none"),
            ([Service(f"s{i}") for i in range(65)], "at most 64 services .*, found 65"),
            ([Service("x", alias="a-b"), Service("y", alias="a_b")],
             "'a-b' and 'a_b', both service_a_b_started"),
        ]:
            with self.subTest(pattern=pattern):
                notices = SystemdNotices(charm, services)  # made, as the original's
                with self.assertRaisesRegex(ValueError, pattern):
                    notices.subscribe()
        self.assertEqual(fake.runs(), [])
        SystemdNotices(charm, [Service(f"s{i}") for i in range(64)]).subscribe()
        self.assertEqual(len(fake.runs()), 1)

    def test_a_service_changed_after_it_was_made_is_checked_again(self):
        service = Service("slurmd")
        service.alias = "not valid"
        with self.charm(charm_watching(["placeholder"])) as charm:
            with self.assertRaisesRegex(ValueError, "found 'not valid'"):
                SystemdNotices(charm, [service])
            with self.assertRaisesRegex(TypeError, "expected a Service or a name, found 3"):
                SystemdNotices(charm, [3])

    def test_a_bad_name_fails_the_charms_init_before_anything_runs(self):
        fake = self.bundled_fake()
        with self.assertRaisesRegex(ValueError, "found 'bad name'"):
            self.run_event(charm_watching([Service("bad name")]), "install")
        self.assertIsNone(fake.argv())


class CommandTest(LibraryTest):
    """What subscribe(), stop() and status() run, with a fake binary."""

    def test_install_subscribes_with_the_unit_the_charm_dir_and_every_name_alias(self):
        fake = self.bundled_fake(stdout="juju-app-0-systemd-notices.service: unit file written\n")
        self.run_event(ApplicationCharm, "install")
        self.assertEqual(fake.argv(), [
            "subscribe", "--unit", "app/0", "--charm-dir", str(self.charm_dir),
            "--json", "--", "snap.slurm.slurmd=slurmd",
        ])

    def test_subscribe_passes_every_service_in_order_with_the_binarys_default_alias(self):
        fake = self.bundled_fake()
        with self.charm(charm_watching(
                [Service("munged.service"), Service("-.mount", alias="root"), "slurmd"]),
                app="slurmd") as charm:
            charm.notices.subscribe()
        self.assertEqual(fake.argv()[:7], ["subscribe", "--unit", "slurmd/0", "--charm-dir",
                                           str(self.charm_dir), "--json", "--"])
        self.assertEqual(fake.argv()[7:], ["munged.service=munged", "-.mount=root", "slurmd=slurmd"])

    def test_stop_runs_stop_with_the_unit(self):
        fake = self.bundled_fake()
        self.run_event(ApplicationCharm, "stop")
        self.assertEqual(fake.argv(), ["stop", "--unit", "app/0", "--json"])

    def test_status_runs_status_json_and_returns_typed_objects(self):
        fake = self.bundled_fake(stdout=REAL_STATUS_JSON)
        with self.charm(ApplicationCharm) as charm:
            status = charm._systemd_notices.status()
        self.assertEqual(fake.argv(), ["status", "--unit", "app/0", "--json"])
        self.assertIsInstance(status, library.NoticesStatus)
        self.assertEqual(status.juju_unit, "app/0")
        self.assertEqual(status.daemon_unit, "juju-app-0-systemd-notices.service")
        self.assertEqual(status.daemon_active_state, "active")
        self.assertIs(status.state_file, True)
        self.assertEqual(status.watches, (
            library.WatchStatus(alias="probe-a", unit="jsn-lib-probe.service", id="jsn-lib-probe.service",
                                active_state="active", delivered="started", pending="none",
                                pending_hook="none"),
            library.WatchStatus(alias="jsn-lib-probe2", unit="jsn-lib-probe2.service",
                                id="jsn-lib-probe2.service",
                                active_state="inactive", delivered="stopped", pending="none",
                                pending_hook="none"),
        ))

    def test_status_output_that_is_not_the_status_json_raises_saying_what_was_found(self):
        for output, expected in [("not json\n", "expected a JSON object"),
                                 ('{"juju_unit": "app/0"}', "expected an object with juju_unit"),
                                 (REAL_STATUS_JSON.replace('"pending": "none", ', "", 1),
                                  "expected watches with alias")]:
            with self.subTest(output=output[:20]):
                self.bundled_fake(stdout=output)
                with self.charm(ApplicationCharm) as charm:
                    with self.assertRaisesRegex(library.SystemdNoticesError, expected) as raised:
                        charm._systemd_notices.status()
                self.assertIn(repr(output)[:20], str(raised.exception))

    def test_a_refusal_raises_with_the_binarys_message_its_dbus_error_and_exit_status(self):
        self.bundled_fake(stderr=ACCESS_DENIED, exit="1")
        with self.assertRaises(library.SystemdNoticesError) as raised:
            self.run_event(ApplicationCharm, "install")
        error = raised.exception
        self.assertEqual(error.returncode, 1)
        self.assertEqual(error.dbus_error, "org.freedesktop.DBus.Error.AccessDenied")
        self.assertEqual(error.stderr, ACCESS_DENIED)
        self.assertEqual(error.command[0], str(self.charm_dir / "bin" / "juju-systemd-notices"))
        self.assertEqual(str(error), ACCESS_DENIED_MESSAGE)

    def test_stop_and_status_failures_raise_too(self):
        fake = self.bundled_fake(stderr="juju-systemd-notices stop: stopping the unit: "
                                        "org.freedesktop.systemd1.NoSuchUnit: gone\n", exit="1")
        with self.assertRaisesRegex(library.SystemdNoticesError, r"NoSuchUnit: gone \(exit status 1\)"):
            self.run_event(ApplicationCharm, "stop")
        fake.answer(stderr="juju-systemd-notices status: reading the unit file: expected the "
                           "unit file x, found No such file or directory\n", exit="1")
        with self.charm(ApplicationCharm) as charm:
            with self.assertRaises(library.SystemdNoticesError) as raised:
                charm._systemd_notices.status()
        self.assertEqual(raised.exception.returncode, 1)
        self.assertIsNone(raised.exception.dbus_error)
        self.assertIn("expected the unit file x", str(raised.exception))

    def test_a_failure_is_the_called_process_error_the_original_raised(self):
        # The original ran systemctl with check_output and let CalledProcessError through;
        # charms catch that.
        class CatchingCharm(CharmBase):
            def __init__(self, framework):
                super().__init__(framework)
                self.notices = SystemdNotices(self, [Service("slurmd")])
                self.framework.observe(self.on.install, self._on_install)

            def _on_install(self, _):
                try:
                    self.notices.subscribe()
                except subprocess.CalledProcessError as error:
                    self.unit.status = BlockedStatus(f"subscribe failed: exit {error.returncode}")

        self.bundled_fake(stdout="half done\n", stderr=ACCESS_DENIED, exit="1")
        state = self.run_event(CatchingCharm, "install")
        self.assertEqual(state.unit_status, BlockedStatus("subscribe failed: exit 1"))
        with self.charm(CatchingCharm) as charm:
            with self.assertRaises(subprocess.CalledProcessError) as raised:
                charm.notices.subscribe()
        error = raised.exception
        self.assertIsInstance(error, library.SystemdNoticesError)
        self.assertEqual(error.returncode, 1)
        self.assertEqual(error.cmd, [str(self.charm_dir / "bin" / "juju-systemd-notices"),
                                     "subscribe", "--unit", "app/0", "--charm-dir",
                                     str(self.charm_dir), "--json", "--", "slurmd=slurmd"])
        self.assertEqual(error.cmd, error.command)
        self.assertEqual(error.output, "half done\n")
        self.assertEqual(error.stdout, "half done\n")
        self.assertEqual(error.stderr, ACCESS_DENIED)
        # str() is the binary's message, not CalledProcessError's "Command [...] returned ...".
        self.assertEqual(str(error), ACCESS_DENIED_MESSAGE)
        self.assertEqual(error.message, str(error))
        self.assertEqual(error.args, (str(error),))

    def test_the_error_survives_pickling_with_its_fields(self):
        self.bundled_fake(stdout="out\n", stderr=ACCESS_DENIED, exit="1")
        with self.charm(ApplicationCharm) as charm:
            with self.assertRaises(library.SystemdNoticesError) as raised:
                charm._systemd_notices.subscribe()
        copy = pickle.loads(pickle.dumps(raised.exception))
        for field in ["message", "returncode", "cmd", "command", "output", "stderr", "dbus_error"]:
            with self.subTest(field=field):
                self.assertEqual(getattr(copy, field), getattr(raised.exception, field))
        self.assertEqual(str(copy), str(raised.exception))

    def test_a_binary_killed_by_a_signal_or_silent_still_raises(self):
        fake = self.bundled_fake(exit="term")
        with self.charm(ApplicationCharm) as charm:
            with self.assertRaises(library.SystemdNoticesError) as raised:
                charm._systemd_notices.stop()
            self.assertEqual(raised.exception.returncode, -15)
            fake.answer(exit="3")
            with self.assertRaisesRegex(library.SystemdNoticesError,
                                        r"stop said nothing \(exit status 3\)"):
                charm._systemd_notices.stop()


# The unit file the original library's subscribe() wrote for app/0 (charm dir
# /var/lib/juju/agents/unit-app-0/charm): its Python daemon, run from the charm's lib/.
ORIGINAL_UNIT_FILE = textwrap.dedent(
    """\
    [Unit]
    Description=Juju systemd notices daemon
    After=multi-user.target

    [Service]
    Type=simple
    Restart=always
    WorkingDirectory=/var/lib/juju/agents/unit-app-0/charm
    Environment="PYTHONPATH=/var/lib/juju/agents/unit-app-0/charm/venv"
    ExecStart=/usr/bin/python3 /var/lib/juju/agents/unit-app-0/charm/lib/charms/operator_libs_linux/v0/juju_systemd_notices.py app/0

    [Install]
    WantedBy=multi-user.target"""
)


def charm_with_own_handlers(**keywords):
    """The issue's charm with its own upgrade-charm and remove handlers, which record that they
    ran (in charm.ran), made after its SystemdNotices (so the library's handlers run first)."""

    class OwnHandlersCharm(ApplicationCharm):
        ran = []

        def __init__(self, framework):
            CharmBase.__init__(self, framework)
            self._systemd_notices = SystemdNotices(
                self, [Service("snap.slurm.slurmd", alias="slurmd")], **keywords)
            self.framework.observe(self.on.install, self._on_install)
            self.framework.observe(self.on.stop, self._on_stop)
            self.framework.observe(self.on.upgrade_charm, self._on_upgrade_charm)
            self.framework.observe(self.on.remove, self._on_remove)

        def _on_upgrade_charm(self, _):
            self.ran.append("upgrade-charm")

        def _on_remove(self, _):
            self.ran.append("remove")

    return OwnHandlersCharm


class LifeTest(LibraryTest):
    """What the library runs on the charm's upgrade-charm and remove events by itself: only for
    a unit that subscribed, never failing the hook."""

    def subscribe_argv(self, unit="app/0", watches=("snap.slurm.slurmd=slurmd",)):
        return ["subscribe", "--unit", unit, "--charm-dir", str(self.charm_dir), "--json", "--",
                *watches]

    def notices_unit_file(self, unit="app/0"):
        return self.unit_directory / f"juju-{unit.replace('/', '-')}-systemd-notices.service"

    def subscribed(self, unit="app/0", text=ORIGINAL_UNIT_FILE):
        """The notices unit file of `unit`, enabled, as subscribe (ours or the original's) left it."""
        unit_file = self.notices_unit_file(unit)
        unit_file.write_text(text)
        wants = self.unit_directory / "multi-user.target.wants"
        wants.mkdir(exist_ok=True)
        (wants / unit_file.name).symlink_to(unit_file)
        return unit_file

    def fake_systemctl(self, exit="0"):
        """A systemctl on PATH that records its arguments."""
        return FakeBinary(self.temp / "systemctl-dir", exit=exit)

    def test_upgrade_charm_subscribes_again_when_the_unit_is_subscribed(self):
        for writer, text in [("ours", "[Service]\nExecStart=/old/bin/juju-systemd-notices\n"),
                             ("the original's", ORIGINAL_UNIT_FILE)]:
            with self.subTest(unit_file=writer):
                shutil.rmtree(str(self.unit_directory))
                self.unit_directory.mkdir()
                self.subscribed(text=text)
                fake = self.bundled_fake()
                (fake.directory / "runs").unlink(missing_ok=True)
                self.run_event(ApplicationCharm, "upgrade_charm")
                self.assertEqual(fake.runs(), [self.subscribe_argv()])

    def test_upgrade_charm_leaves_a_unit_the_charm_stopped_stopped(self):
        # stop() disables the unit and keeps its file.
        fake = self.bundled_fake()
        self.notices_unit_file().write_text(ORIGINAL_UNIT_FILE)
        self.run_event(ApplicationCharm, "upgrade_charm")
        self.assertEqual(fake.runs(), [])
        with self.charm(ApplicationCharm) as charm:
            self.assertFalse(charm._systemd_notices.is_subscribed())

    def test_upgrade_charm_without_a_notices_unit_runs_nothing(self):
        fake = self.bundled_fake()
        self.subscribed("app/1")  # another unit's is not this unit's
        self.run_event(ApplicationCharm, "upgrade_charm")
        self.assertEqual(fake.runs(), [])

    def test_upgrade_charm_failure_is_logged_with_what_to_run_and_the_hook_goes_on(self):
        self.subscribed()
        self.bundled_fake(stderr=ACCESS_DENIED, exit="1")
        charm_class = charm_with_own_handlers()
        with self.assertLogs(library.__name__, "ERROR") as logs:
            self.run_event(charm_class, "upgrade_charm")
        logged = "\n".join(logs.output)
        self.assertIn("AccessDenied", logged)
        self.assertIn("run by hand: juju-systemd-notices subscribe --unit app/0 --charm-dir "
                      f"{self.charm_dir} -- snap.slurm.slurmd=slurmd", logged)
        self.assertEqual(charm_class.ran, ["upgrade-charm"])

    def test_upgrade_charm_with_a_subscribed_unit_and_no_binary_is_logged_and_goes_on(self):
        self.subscribed()
        charm_class = charm_with_own_handlers()
        with self.assertLogs(library.__name__, "ERROR") as logs:
            self.run_event(charm_class, "upgrade_charm")
        self.assertIn("found none", "\n".join(logs.output))
        self.assertEqual(charm_class.ran, ["upgrade-charm"])

    def test_several_objects_restart_the_daemon_once_a_hook(self):
        self.subscribed()
        fake = self.bundled_fake()

        class ThreeObjectsCharm(CharmBase):
            def __init__(self, framework):
                super().__init__(framework)
                self.notices = [SystemdNotices(self, [Service("slurmd")]),
                                SystemdNotices(self, [Service("snap.slurm.slurmd", alias="slurmd")]),
                                SystemdNotices(self, [Service("munged")])]

        charm_class = ThreeObjectsCharm
        self.run_event(charm_class, "upgrade_charm")
        # The last one made handles the hook.
        self.assertEqual(fake.runs(), [self.subscribe_argv(watches=["munged=munged"])])
        self.run_event(charm_class, "remove")
        self.assertEqual(fake.runs()[1:], [["remove", "--unit", "app/0", "--json"]])

    def test_remove_runs_remove_with_the_unit_when_it_has_a_notices_unit(self):
        self.subscribed()
        fake = self.bundled_fake()
        charm_class = charm_with_own_handlers()
        self.run_event(charm_class, "remove")
        self.assertEqual(fake.runs(), [["remove", "--unit", "app/0", "--json"]])
        self.assertEqual(charm_class.ran, ["remove"])

    def test_remove_on_a_unit_that_never_subscribed_runs_nothing(self):
        fake = self.bundled_fake()
        systemctl = self.fake_systemctl()
        self.set_environment("PATH", f"{systemctl.directory}:{os.environ['PATH']}")
        charm_class = charm_with_own_handlers()
        self.run_event(charm_class, "remove")
        self.assertEqual(fake.runs(), [])
        self.assertEqual(systemctl.runs(), [])
        self.assertEqual(charm_class.ran, ["remove"])
        with self.charm(charm_class) as charm:
            self.assertIs(charm._systemd_notices.remove(), False)

    def test_a_failing_remove_is_logged_with_what_to_run_and_the_hook_goes_on(self):
        self.subscribed()
        self.bundled_fake(stderr=ACCESS_DENIED.replace('"subscribe"', '"remove"'), exit="1")
        charm_class = charm_with_own_handlers()
        with self.assertLogs(library.__name__, "ERROR") as logs:
            self.run_event(charm_class, "remove")
        logged = "\n".join(logs.output)
        self.assertIn("AccessDenied", logged)
        self.assertIn("Run by hand: juju-systemd-notices remove --unit app/0", logged)
        self.assertIn("systemctl disable --now juju-app-0-systemd-notices.service", logged)
        self.assertEqual(charm_class.ran, ["remove"])
        # Called by the charm, it raises.
        with self.charm(charm_class) as charm:
            with self.assertRaises(subprocess.CalledProcessError) as raised:
                charm._systemd_notices.remove()
        self.assertEqual(raised.exception.dbus_error, "org.freedesktop.DBus.Error.AccessDenied")
        self.assertEqual(raised.exception.error, "dbus-error")

    def test_remove_without_a_binary_removes_with_systemctl_and_says_so(self):
        unit_file = self.subscribed()
        systemctl = self.fake_systemctl()
        os.rename(str(systemctl.directory / "juju-systemd-notices"),
                  str(systemctl.directory / "systemctl"))
        self.set_environment("PATH", f"{systemctl.directory}:/usr/bin:/bin")
        charm_class = charm_with_own_handlers()
        with self.assertLogs(library.__name__, "WARNING") as logs:
            self.run_event(charm_class, "remove")
        self.assertEqual(systemctl.runs(), [["disable", "--now", unit_file.name],
                                            ["daemon-reload"]])
        self.assertFalse(unit_file.exists())
        self.assertIn("removing juju-app-0-systemd-notices.service with systemctl instead",
                      "\n".join(logs.output))
        self.assertEqual(charm_class.ran, ["remove"])

    def test_remove_without_a_binary_and_a_failing_systemctl_is_logged_and_goes_on(self):
        self.subscribed()
        systemctl = self.fake_systemctl(exit="1")
        os.rename(str(systemctl.directory / "juju-systemd-notices"),
                  str(systemctl.directory / "systemctl"))
        self.set_environment("PATH", f"{systemctl.directory}:/usr/bin:/bin")
        charm_class = charm_with_own_handlers()
        with self.assertLogs(library.__name__, "ERROR") as logs:
            self.run_event(charm_class, "remove")
        self.assertIn("systemctl disable --now juju-app-0-systemd-notices.service exited 1",
                      "\n".join(logs.output))
        self.assertEqual(charm_class.ran, ["remove"])

    def test_turned_off_the_library_handles_neither_and_the_public_methods_do_the_steps(self):
        self.subscribed()
        fake = self.bundled_fake()
        charm_class = charm_with_own_handlers(handle_upgrade_and_remove=False)
        self.run_event(charm_class, "upgrade_charm")
        self.run_event(charm_class, "remove")
        self.assertEqual(fake.runs(), [])
        with self.charm(charm_class) as charm:
            self.assertIs(charm._systemd_notices.renew(), True)
            self.assertIs(charm._systemd_notices.remove(), True)
        self.assertEqual(fake.runs(), [self.subscribe_argv(),
                                       ["remove", "--unit", "app/0", "--json"]])

    def test_the_seed_charm_runs_each_command_once_in_its_whole_life(self):
        fake = self.bundled_fake()
        fake.keep_unit_file(self.notices_unit_file())
        self.run_event(ApplicationCharm, "upgrade_charm")  # before install: nothing subscribed yet
        for event in ["install", "upgrade_charm", "stop", "upgrade_charm", "remove"]:
            self.run_event(ApplicationCharm, event)
        self.assertEqual(fake.runs(), [self.subscribe_argv(), self.subscribe_argv(),
                                       ["stop", "--unit", "app/0", "--json"],
                                       ["remove", "--unit", "app/0", "--json"]])
        self.assertFalse(self.notices_unit_file().exists())

    def test_a_call_that_does_not_finish_is_killed_and_says_what_timed_out(self):
        self.bundled_fake(exit="hang")
        with self.charm(ApplicationCharm) as charm, \
                mock.patch.object(library, "CHANGE_TIMEOUT_SECONDS", 0.2):
            with self.assertLogs(library.__name__, "ERROR") as logs:
                with self.assertRaises(library.SystemdNoticesError) as raised:
                    charm._systemd_notices.stop()
        self.assertEqual(raised.exception.returncode, -9)
        self.assertIn("juju-systemd-notices stop did not finish in 0.2 s and was killed "
                      "(timed out)", str(raised.exception))
        self.assertIn(str(raised.exception), "\n".join(logs.output))


class HandleTest(LibraryTest):
    """SystemdNotices is an ops Object; ops refuses two live objects with one handle path."""

    def test_the_handle_is_named_after_the_aliases(self):
        with self.charm(charm_watching([Service("snap.slurm.slurmd", alias="slurmd"),
                                               Service("munged")])) as charm:
            self.assertIsInstance(charm.notices, ops.Object)
            self.assertEqual(charm.notices.handle.path,
                             f"{charm.handle.path}/SystemdNotices[slurmd,munged]")

    def test_two_objects_for_the_same_aliases_coexist(self):
        with self.charm(charm_watching([Service("slurmd")])) as charm:
            second = SystemdNotices(charm, [Service("snap.slurm.slurmd", alias="slurmd")])
            third = SystemdNotices(charm, [Service("munged")])
            charm_path = charm.handle.path
            self.assertEqual(second.handle.path, f"{charm_path}/SystemdNotices[slurmd#2]")
            self.assertEqual(third.handle.path, f"{charm_path}/SystemdNotices[munged]")

    def test_the_first_objects_handle_is_the_same_in_every_charm_made(self):
        for _ in range(2):
            with self.charm(ApplicationCharm) as charm:
                self.assertEqual(charm._systemd_notices.handle.path,
                                 f"{charm.handle.path}/SystemdNotices[slurmd]")

    def test_a_charm_making_another_in_a_handler_as_the_original_allowed_still_works(self):
        class AgainCharm(ApplicationCharm):
            def _on_install(self, _):
                SystemdNotices(self, [Service("snap.slurm.slurmd", alias="slurmd")]).subscribe()

        fake = self.bundled_fake()
        with self.charm(AgainCharm) as charm:
            charm.on.install.emit()
            charm.on.install.emit()
            self.assertEqual(len(fake.runs()), 2)


class BinaryLookupTest(LibraryTest):
    def installed_package_fake(self):
        """A package juju_systemd_notices first on sys.path, as a wheel installs it, with a
        fake binary in its bin/."""
        package = self.temp / "site-packages" / library.PACKAGE
        package.mkdir(parents=True)
        # Where the library finds the installed package (the module itself stays the one
        # imported, as in a charm: one module).
        patcher = mock.patch.object(library, "_package_directory", lambda: package)
        patcher.start()
        self.addCleanup(patcher.stop)
        return FakeBinary(package / "bin")

    def test_the_packages_binary_wins_over_the_charms_and_the_one_on_path(self):
        on_path = FakeBinary(self.path_dir)
        bundled = self.bundled_fake()
        packaged = self.installed_package_fake()
        with self.charm(ApplicationCharm) as charm:
            charm._systemd_notices.stop()
            self.assertEqual(packaged.argv(), ["stop", "--unit", "app/0", "--json"])
            self.assertIsNone(bundled.argv())
            self.assertIsNone(on_path.argv())

    def test_a_package_binary_that_is_not_executable_is_passed_over_for_the_charms(self):
        bundled = self.bundled_fake()
        packaged = self.installed_package_fake()
        (packaged.directory / "juju-systemd-notices").chmod(0o644)
        with self.charm(ApplicationCharm) as charm:
            charm._systemd_notices.stop()
            self.assertEqual(bundled.argv(), ["stop", "--unit", "app/0", "--json"])
            self.assertIsNone(packaged.argv())

    def test_the_binary_on_path_is_used_when_the_charm_has_none(self):
        on_path = FakeBinary(self.path_dir)
        with self.charm(ApplicationCharm) as charm:
            charm._systemd_notices.stop()
            self.assertEqual(on_path.argv(), ["stop", "--unit", "app/0", "--json"])

    def test_the_charms_binary_wins_over_the_one_on_path(self):
        on_path = FakeBinary(self.path_dir)
        bundled = self.bundled_fake()
        with self.charm(ApplicationCharm) as charm:
            charm._systemd_notices.stop()
            self.assertEqual(bundled.argv(), ["stop", "--unit", "app/0", "--json"])
            self.assertIsNone(on_path.argv())

    def test_a_charm_binary_that_is_not_executable_is_passed_over_for_path(self):
        on_path = FakeBinary(self.path_dir)
        (self.charm_dir / "bin").mkdir()
        (self.charm_dir / "bin" / "juju-systemd-notices").write_text("not a program\n")
        with self.charm(ApplicationCharm) as charm:
            charm._systemd_notices.stop()
            self.assertEqual(on_path.argv(), ["stop", "--unit", "app/0", "--json"])

    def test_none_raises_naming_every_place_in_the_order_looked(self):
        packaged = self.installed_package_fake()
        (packaged.directory / "juju-systemd-notices").unlink()
        with self.charm(ApplicationCharm) as charm:
            with self.assertRaises(library.BinaryNotFoundError) as raised:
                charm._systemd_notices.stop()
            message = str(raised.exception)
            places = [str(packaged.directory / "juju-systemd-notices"),
                      str(self.charm_dir / "bin" / "juju-systemd-notices"),
                      f"on PATH ({self.path_dir}:/usr/bin:/bin)"]
            self.assertEqual([message.find(place) for place in places],
                             sorted(message.find(place) for place in places), message)
            self.assertNotIn(-1, [message.find(place) for place in places], message)
            self.assertTrue(message.endswith("found none"), message)

    def test_without_the_package_the_message_says_it_is_not_installed(self):
        with mock.patch.object(library, "PACKAGE", "juju_systemd_notices_not_here"):
            with self.charm(ApplicationCharm) as charm:
                with self.assertRaises(library.BinaryNotFoundError) as raised:
                    charm._systemd_notices.stop()
        self.assertIn("in the Python package juju_systemd_notices_not_here (not installed)",
                      str(raised.exception))

    def test_neither_raises_naming_both_places(self):
        with self.charm(ApplicationCharm) as charm:
            for call in [charm._systemd_notices.subscribe, charm._systemd_notices.stop,
                         charm._systemd_notices.status]:
                with self.subTest(call=call.__name__):
                    with self.assertRaises(library.BinaryNotFoundError) as raised:
                        call()
                    message = str(raised.exception)
                    self.assertIn(str(self.charm_dir / "bin" / "juju-systemd-notices"), message)
                    self.assertIn(f"on PATH ({self.path_dir}:/usr/bin:/bin)", message)
                    self.assertIsInstance(raised.exception, library.SystemdNoticesError)
                    self.assertIsInstance(raised.exception, subprocess.CalledProcessError)
                    self.assertEqual(raised.exception.returncode, 127)
                    # The command it would have run, with the name it looked for.
                    self.assertEqual(raised.exception.cmd[:3],
                                     ["juju-systemd-notices", call.__name__, "--unit"])


class RealBinaryTest(LibraryTest):
    """The library and build/juju-systemd-notices agree on names; its errors come through."""

    def setUp(self):
        super().setUp()
        self.assertTrue(os.access(str(REAL_BINARY), os.X_OK),
                        f"expected the built binary at {REAL_BINARY} (run make first)")
        self.root = self.temp / "root"
        # The charm's bin/ holds a wrapper that runs the real binary offline: `subscribe` with
        # --root writes the unit under it and contacts no systemd. The other subcommands take no
        # --root (they refuse it): they run as they are.
        write_executable(self.charm_dir / "bin" / "juju-systemd-notices", textwrap.dedent(f"""\
            #!/bin/sh
            command=$1
            shift
            if [ "$command" = subscribe ]; then
              exec '{REAL_BINARY}' "$command" --root '{self.root}' "$@"
            fi
            exec '{REAL_BINARY}' "$command" "$@"
            """))

    def subscribe_directly(self, *watches):
        """The real binary run by hand the way the library runs it, under --root."""
        return subprocess.run(
            [str(REAL_BINARY), "subscribe", "--root", str(self.root), "--unit", "app/0",
             "--charm-dir", str(self.charm_dir), "--", *watches],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def exec_start(self):
        unit_file = self.root / "etc/systemd/system/juju-app-0-systemd-notices.service"
        lines = [line for line in unit_file.read_text().splitlines() if line.startswith("ExecStart=")]
        self.assertEqual(len(lines), 1)
        return lines[0]

    # Names at the edges of the rules, each accepted by the library.
    ACCEPTED = [
        Service("snap.slurm.slurmd", alias="slurmd"),
        Service("munged.service"),
        Service("foo@bar.service", alias="foo-bar"),
        Service("foo@bar@baz", alias="baz"),
        Service("foo.timer", alias="foo_timer"),
        Service("-.mount", alias="root"),
        Service("a\\x2db", alias="ab"),
        Service("x:y_z.socket", alias="xyz"),
        Service("a" * 247, alias="b" * 128),
        Service("9lives"),
    ]

    def test_every_name_the_library_accepts_the_binary_subscribes_offline(self):
        with self.charm(charm_watching(self.ACCEPTED)) as charm:
            charm.notices.subscribe()
            # ExecStart= quoted by systemd's rules, which shlex's POSIX mode reads for these words.
            words = shlex.split(self.exec_start()[len("ExecStart="):])
            self.assertEqual(words[words.index("--") + 1:],
                             [f"{service.unit}={service.hook_alias}" for service in self.ACCEPTED])
            for service in self.ACCEPTED:
                with self.subTest(name=service.name[:20]):
                    hooks = self.charm_dir / "hooks"
                    self.assertTrue((hooks / f"service-{service.hook_alias}-started").is_symlink())
                    self.assertTrue((hooks / f"service-{service.hook_alias}-stopped").is_symlink())

    def test_every_name_and_alias_the_library_refuses_by_the_binarys_rules_the_binary_refuses(self):
        refused = [("", None), ("a b", None), ("slurm/d", None), ("@x", None),
                   ("getty@.service", "getty"), ("a" * 248, "x"), ("slürmd", None),
                   ("slurmd", "-x"), ("slurmd", "a b"), ("slurmd", "a" * 129),
                   (".service", None)]
        for name, alias in refused:
            with self.subTest(name=name[:20], alias=alias):
                with self.assertRaises(ValueError) as raised:
                    Service(name, alias=alias)
                self.assertNotIn("Python identifier", str(raised.exception))  # the binary's rule
                watch = name if alias is None else f"{name}={alias}"
                result = self.subscribe_directly(watch)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn("expected", result.stderr)

    def test_the_library_is_stricter_only_where_ops_cannot_name_the_event(self):
        for name, alias in [("foo.timer", None), ("slurmd", "a.b"), ("slurmd", "a@b"),
                            ("slurmd", "a:b")]:
            with self.subTest(name=name, alias=alias):
                with self.assertRaisesRegex(ValueError, "Python identifier"):
                    Service(name, alias=alias)
                watch = name if alias is None else f"{name}={alias}"
                result = self.subscribe_directly(watch)
                self.assertEqual(result.returncode, 0, result.stderr)

    def test_lists_the_library_refuses_the_binary_refuses(self):
        for watches in [["slurmd", "slurmd.service=other"], ["a=x", "b=x"], [],
                        [f"s{i}" for i in range(65)]]:
            with self.subTest(watches=watches[:2]):
                result = self.subscribe_directly(*watches)
                self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(self.subscribe_directly(*[f"s{i}" for i in range(64)]).returncode, 0)

    def test_the_binarys_own_refusal_comes_through_with_its_message_and_exit_status(self):
        with self.charm(ApplicationCharm) as charm:
            shutil.move(str(self.charm_dir / "bin" / "juju-systemd-notices"), str(self.path_dir))
            charm.framework.charm_dir = self.temp / "no-such-charm"
            with self.assertRaises(library.SystemdNoticesError) as raised:
                charm._systemd_notices.subscribe()
            self.assertEqual(raised.exception.returncode, 2)
            self.assertIn("juju-systemd-notices subscribe: expected --charm-dir to be a directory, "
                          f"found '{self.temp / 'no-such-charm'}'", str(raised.exception))

    def test_upgrade_charm_rewrites_the_original_librarys_unit_to_run_the_binary(self):
        # Migration by refresh, offline: the original's unit file and hook links are there.
        unit_directory = self.root / "etc" / "systemd" / "system"
        unit_directory.mkdir(parents=True)
        unit_file = unit_directory / "juju-app-0-systemd-notices.service"
        unit_file.write_text(ORIGINAL_UNIT_FILE)
        (unit_directory / "multi-user.target.wants").mkdir()
        (unit_directory / "multi-user.target.wants" / unit_file.name).symlink_to(unit_file)
        hooks = self.charm_dir / "hooks"
        hooks.mkdir()
        for hook in ["service-slurmd-started", "service-slurmd-stopped"]:
            (hooks / hook).symlink_to(self.charm_dir / "dispatch")
        with self.charm(ApplicationCharm) as charm:
            with mock.patch.object(library, "SYSTEM_UNIT_DIRECTORY", unit_directory):
                charm.on.upgrade_charm.emit()
            self.assertNotIn("operator_libs_linux", unit_file.read_text())
            words = shlex.split(self.exec_start()[len("ExecStart="):])
            self.assertEqual(words[0], str(REAL_BINARY.resolve()))
            self.assertEqual(words[words.index("--") + 1:], ["snap.slurm.slurmd.service=slurmd"])
            for hook in ["service-slurmd-started", "service-slurmd-stopped"]:
                self.assertEqual(os.readlink(str(hooks / hook)), str(self.charm_dir / "dispatch"))

    def test_stop_and_status_without_systemd_raise_with_the_binarys_message(self):
        self.set_environment("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={self.temp}/no-bus")
        with self.charm(ApplicationCharm) as charm:
            with self.assertRaises(library.SystemdNoticesError) as raised:
                charm._systemd_notices.stop()
            self.assertEqual(raised.exception.returncode, 1)
            self.assertIn("juju-systemd-notices stop: connecting to systemd:", str(raised.exception))
            charm._systemd_notices.subscribe()  # offline, under --root
            # status takes no --root: it reads the live unit directory, where this unit is not.
            with self.assertRaises(library.SystemdNoticesError) as raised:
                charm._systemd_notices.status()
            self.assertEqual(raised.exception.returncode, 1)
            self.assertIn("juju-systemd-notices status: reading the unit file: expected to read "
                          "/etc/systemd/system/juju-app-0-systemd-notices.service",
                          str(raised.exception))


if __name__ == "__main__":
    unittest.main()


class ImportPathTest(LibraryTest):
    """The package's module and the Charmhub file are the same library, at one version."""

    def test_both_import_paths_give_the_same_api_at_the_version_in_VERSION(self):
        import juju_systemd_notices as package

        version = (REPOSITORY / "VERSION").read_text().strip()
        self.assertEqual(package.__version__, version)
        self.assertEqual(library.__version__, version)
        major, minor, _ = version.split(".")
        self.assertEqual((charmhub_library.LIBAPI, charmhub_library.LIBPATCH),
                         (int(major), int(minor)))
        self.assertEqual(charmhub_library.PYDEPS,
                         [f"juju-systemd-notices>={major}.{minor},<{int(major) + 1}"])
        self.assertEqual(package.__all__, charmhub_library.__all__)
        self.assertEqual(package.__doc__, charmhub_library.__doc__)
        # One module: the same objects, so one except catches either path's errors.
        for name in package.__all__:
            with self.subTest(name=name):
                self.assertIs(getattr(charmhub_library, name), getattr(package, name))
        self.assertEqual(Path(package.__file__).resolve(),
                         REPOSITORY / "lib" / "juju_systemd_notices" / "__init__.py")

    def test_the_charmhub_file_without_the_package_says_what_to_add(self):
        lib = self.temp / "lib"
        charmhub = lib / "charms" / "juju_systemd_notices" / "v0"
        charmhub.mkdir(parents=True)
        shutil.copy(str(REPOSITORY / "lib" / "charms" / "juju_systemd_notices" / "v0" /
                        "juju_systemd_notices.py"), str(charmhub))
        environment = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(lib), str(Path(ops.__file__).resolve().parents[1])]))
        result = subprocess.run(
            [sys.executable, "-c", "import charms.juju_systemd_notices.v0.juju_systemd_notices"],
            cwd=str(self.temp), env=environment, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, timeout=60)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(f"ImportError: expected the Python package {charmhub_library.PYDEPS[0]} "
                      "in the charm's venv", result.stderr)
        self.assertIn("charm-binary-python-packages", result.stderr)

    def test_a_charm_written_against_the_package_subscribes(self):
        from juju_systemd_notices import Service as PackageService
        from juju_systemd_notices import SystemdNotices as PackageNotices

        class PackageCharm(CharmBase):
            def __init__(self, framework):
                super().__init__(framework)
                self.notices = PackageNotices(self, [PackageService("snap.slurm.slurmd",
                                                                    alias="slurmd")])

        fake = self.bundled_fake()
        with self.charm(PackageCharm) as charm:
            charm.notices.subscribe()
            self.assertEqual(fake.argv(), ["subscribe", "--unit", "app/0", "--charm-dir",
                                           str(self.charm_dir), "--json", "--",
                                           "snap.slurm.slurmd=slurmd"])
