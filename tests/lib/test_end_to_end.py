"""End to end: a charm's whole life with the library, on systemd as PID 1, on both system buses.

Two charms, each in a temporary charm dir laid out as `charmcraft pack` lays one out: a
metadata.yaml, the standard dispatch (PYTHONPATH=lib:venv), the Charmhub file under lib/ (as
`charmcraft fetch-lib` puts it) and venv/, the site-packages of a fresh venv into which this
machine's wheel from `make wheels` was installed with pip (JSN_DIST): the binary comes from there
only, with no bin/ and none on PATH:
- the original library's own example trimmed to its notices parts, unchanged but for its import
  line (and the service's name): subscribe() in install, stop() in stop;
- one like slurmd-operator: a plain name list, subscribe() in install and nothing else (no
  stop(), no upgrade_charm or remove handler), as the charms that used the original are. It
  imports the package (`from juju_systemd_notices import ...`), as a charm that lists the
  package in its requirements does.
One more scenario deploys the binary in bin/ instead, as README's charmcraft part builds it,
and one a third charm that records what its events say (the service's state, Result, exit
status, restarts: the daemon's JSN_ variables) and defers the first stop.

systemd 252 boots as PID 1 of a namespace of its own (tests/support/system-systemd, the system
suite's recipe) into multi-user.target, with dbus-daemon, then dbus-broker, as the system bus.
Juju is played by its hooks, run through a juju-exec stand-in at /usr/bin/juju-exec that has its
one command string run with `/bin/bash -s` in the charm dir as the unit agent would (in a
transient unit, outside the caller's unit and its read-only file system), so that the daemon's
`JSN_...=... hooks/service-ALIAS-KIND` reaches the charm as Juju's does, by hook-tool stand-ins
on PATH (juju-log, status-set,
is-leader), and by what a refresh does to the charm dir: the charm's old files unlinked, new ones
written, what the charm made itself (hooks/) kept. A reboot is a poweroff inside (every unit
stopped, as at a shutdown) and a second boot on the same /etc/systemd/system and
/var/lib/juju-systemd-notices.

Each scenario checks the notices unit's ActiveState, whether it is enabled, its NRestarts and
/proc/<MainPID>/exe, and that a start and a stop of the watched service then reach the charm's
handlers (or, for a removed unit, that nothing runs). Needs root and ops (see tests/lib/run).
"""
import ctypes
import hashlib
import json
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
# Our static binary, as tests/lib/run names it (JSN_BINARY, relative to the checkout), for the
# charmcraft part's layout (bin/).
PROGRAM = os.path.join(ROOT, os.environ.get("JSN_BINARY", "build/juju-systemd-notices"))
# What `make wheels` wrote (tests/lib/run --dist): this machine's wheel is installed from it.
DIST = os.environ.get("JSN_DIST", os.path.join(ROOT, "dist"))
# Where the binary is in a packed charm: the package's, in the charm's venv/.
PACKED_BINARY = "venv/juju_systemd_notices/bin/juju-systemd-notices"
# The folder ops imports from (for the charm's dispatch, as a charm ships it in its venv).
OPS_PATH = os.path.dirname(os.path.dirname(os.path.abspath(ops.__file__)))
NOTICES = "juju-app-0-systemd-notices.service"
UNIT_FILE = "/etc/systemd/system/" + NOTICES
STATE_FILE = "/var/lib/juju-systemd-notices/app-0.state"

EXAMPLE_CHARM = '''\
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

# Like slurmd-operator: the names alone, subscribe() in install, nothing else of the library.
SLURMD_CHARM = '''\
#!/usr/bin/python3
"""A charm like slurmd-operator: a plain name list, subscribe() in install only."""
import ops
from ops.charm import CharmBase
from ops.model import ActiveStatus, BlockedStatus

from juju_systemd_notices import SystemdNotices


class SlurmdCharm(CharmBase):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._systemd_notices = SystemdNotices(self, ["slurmd"])
        self.framework.observe(self.on.install, self._on_install)
        self.framework.observe(self.on.service_slurmd_started, self._on_slurmd_started)
        self.framework.observe(self.on.service_slurmd_stopped, self._on_slurmd_stopped)

    def _on_install(self, _) -> None:
        self._systemd_notices.subscribe()

    def _on_slurmd_started(self, _) -> None:
        self.unit.status = ActiveStatus()

    def _on_slurmd_stopped(self, _) -> None:
        self.unit.status = BlockedStatus("slurmd not running")


if __name__ == "__main__":
    ops.main(SlurmdCharm)
'''

# A charm that reads what each event says (issue 26): its handlers append it to EVENTS in the
# charm dir, and it defers the first stop it sees, which ops emits again before the next hook's
# event. Its started handler also appends what status() says of the service's transition.
TRANSITION_CHARM = '''\
#!/usr/bin/python3
"""Records what its service's events say; defers the first stop."""
import ops

from juju_systemd_notices import ServiceStartedEvent, ServiceStoppedEvent, SystemdNotices


class TransitionCharm(ops.CharmBase):
    _stored = ops.StoredState()

    def __init__(self, framework) -> None:
        super().__init__(framework)
        self._stored.set_default(deferred_one=False)
        self._systemd_notices = SystemdNotices(self, ["jsn-e2e-exit"])
        framework.observe(self.on.install, self._on_install)
        framework.observe(self.on.service_jsn_e2e_exit_started, self._on_started)
        framework.observe(self.on.service_jsn_e2e_exit_stopped, self._on_stopped)

    def _record(self, event, *more) -> None:
        with open(self.charm_dir / "EVENTS", "a") as f:
            print(event.handle.kind, event.service.unit, event.state, event.result,
                  event.exit_status, event.signal, event.n_restarts,
                  event.timestamp is not None, *more, file=f)

    def _on_install(self, _) -> None:
        self._systemd_notices.subscribe()

    def _on_started(self, event: ServiceStartedEvent) -> None:
        watch = self._systemd_notices.status().watches[0]
        self._record(event, "status:", watch.transition_state, watch.exit_code,
                     watch.exit_status)
        self.unit.status = ops.ActiveStatus()

    def _on_stopped(self, event: ServiceStoppedEvent) -> None:
        if not self._stored.deferred_one:
            self._stored.deferred_one = True
            self._record(event, "deferred")
            event.defer()
            return
        self._record(event, event.describe())
        self.unit.status = ops.BlockedStatus(f"{event.service.hook_alias} {event.describe()}")


if __name__ == "__main__":
    ops.main(TransitionCharm)
'''

# The two charms: their source and the systemd service they watch.
EXAMPLE = (EXAMPLE_CHARM, "jsn-e2e-slurmd.service")
SLURMD = (SLURMD_CHARM, "slurmd.service")
# Its service exits 3 when sent SIGUSR1.
TRANSITION = (TRANSITION_CHARM, "jsn-e2e-exit.service")
EXIT_ON_USR1 = ("[Service]\nExecStart=/bin/sh -c 'trap \"exit 3\" USR1; sleep infinity & wait'\n")

# What the original library (charms.operator_libs_linux.v0.juju_systemd_notices, LIBPATCH 1-2)
# writes as the unit file in subscribe(), for a charm dir and a Juju unit.
ORIGINAL_UNIT_FILE = """\
[Unit]
Description=Juju systemd notices daemon
After=multi-user.target

[Service]
Type=simple
Restart=always
WorkingDirectory={charm}
Environment="PYTHONPATH={charm}/venv"
ExecStart=/usr/bin/python3 {charm}/lib/charms/operator_libs_linux/v0/juju_systemd_notices.py app/0

[Install]
WantedBy=multi-user.target"""
ORIGINAL_LIBRARY = "lib/charms/operator_libs_linux/v0/juju_systemd_notices.py"
# Stands in for the original's daemon, which needs dbus-fast: a process the unit runs.
ORIGINAL_DAEMON = "import time\nwhile True:\n    time.sleep(3600)\n"


_packed = {}


def packed_venv():
    """{path in venv/: (bytes, mode)}: the site-packages of a fresh venv into which pip installed
    the juju-systemd-notices wheel for this machine from DIST, by name, with no index (pip's and
    setuptools' own files left out, as charmcraft leaves them). Made once per run."""
    if not _packed:
        top = tempfile.mkdtemp(prefix="jsn-e2e-venv-")
        try:
            venv = os.path.join(top, "venv")
            subprocess.run(["/usr/bin/python3", "-m", "venv", venv], check=True)
            python = os.path.join(venv, "bin", "python")
            site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('platlib'))"],
                                  stdout=subprocess.PIPE, text=True,
                                  check=True).stdout.strip()
            before = {os.path.join(d, n) for d, _, names in os.walk(site) for n in names}
            done = subprocess.run(
                [python, "-m", "pip", "--isolated", "--disable-pip-version-check", "install",
                 "--no-index", "--no-cache-dir", "--no-deps", "--only-binary=:all:", "--find-links", DIST,
                 "juju-systemd-notices"],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if done.returncode != 0:
                raise AssertionError(f"expected pip to install a wheel from {DIST} (make wheels), "
                                     f"found: {done.stdout[-800:]}")
            for directory, _, names in os.walk(site):
                for name in names:
                    path = os.path.join(directory, name)
                    if path in before or name.endswith(".pyc"):
                        continue
                    with open(path, "rb") as f:
                        _packed[os.path.relpath(path, site)] = (f.read(),
                                                                os.stat(path).st_mode & 0o7777)
        finally:
            shutil.rmtree(top, True)
        if PACKED_BINARY[len("venv/"):] not in _packed:
            raise AssertionError(f"expected {PACKED_BINARY} in the installed wheel, found "
                                 f"{sorted(_packed)}")
    return _packed


def _die_with_parent():
    """The starter gets SIGTERM should this test process die (it then SIGKILLs systemd)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb" if isinstance(text, bytes) else "w") as f:
        f.write(text)
    os.chmod(path, mode)


class CharmLife:
    """The scenarios; the subclasses below choose the bus."""

    BUS = ""

    def setUp(self):
        if os.geteuid() != 0:
            self.fail("systemd as PID 1 of a namespace needs root (namespaces, cgroups, mounts)")
        self.assertTrue(os.access(PROGRAM, os.X_OK), f"{PROGRAM} is not built (make)")
        self.top = tempfile.mkdtemp(prefix=f"jsn-e2e-{os.getpid()}.")
        self.addCleanup(shutil.rmtree, self.top, True)
        self.charm = os.path.join(self.top, "charm")
        self.calls = os.path.join(self.top, "juju.log")
        self.agent_up = os.path.join(self.top, "agent-up")
        write(self.agent_up, "")
        self.charm_files = []  # what the charm's package put in the charm dir, for a refresh
        self.binary_in_charm = PACKED_BINARY  # where deploy put the binary in the charm dir
        self.lay_out_juju()
        for service in (EXAMPLE[1], SLURMD[1]):
            write(os.path.join(self.top, "etc-systemd-system", service),
                  "[Service]\nExecStart=/bin/sleep infinity\n\n[Install]\nWantedBy=multi-user.target\n")
        self.starter = None
        self.pid = 0
        # systemd booted into multi-user.target shares the host's file systems: what the recipe
        # keeps private must stay so. Checked after systemd has gone (cleanups run last first).
        self.addCleanup(self.check_host_kept_its_files)
        self.sentinels = []
        for parent in ("/tmp", "/var/tmp"):
            sentinel = os.path.join(parent, f"jsn-e2e-sentinel-{os.getpid()}")
            write(sentinel, "kept by the host\n")
            self.sentinels.append(sentinel)
        self.addCleanup(self.end_boot)

    # --- the charm dir, as Juju deploys and refreshes it ---

    def deploy(self, charm, binary_tail=b"", library="ours"):
        """Writes the charm's files: with library "ours", the Charmhub file in lib/ and the
        installed wheel in venv/, as charmcraft packs them (`binary_tail` makes another build
        of the binary); "ours-in-bin": lib/ and the binary in bin/, as the charmcraft part
        builds it; "original": the original library's file, which its unit runs, no binary."""
        source, self.service = charm
        files = {
            "metadata.yaml": "name: e2e-charm\nsummary: notices end to end\ndescription: test\n",
            "dispatch": textwrap.dedent(f"""\
                #!/bin/sh
                JUJU_DISPATCH_PATH="${{JUJU_DISPATCH_PATH:-$0}}" PYTHONPATH=lib:venv:{shlex.quote(OPS_PATH)} exec ./src/charm.py
                """),
            "src/charm.py": source,
        }
        for name, text in files.items():
            self.add_charm_file(name, text, 0o755 if name != "metadata.yaml" else 0o644)
        if library == "original":
            self.add_charm_file(ORIGINAL_LIBRARY, ORIGINAL_DAEMON)
            return
        fetched = "lib/charms/juju_systemd_notices/v0/juju_systemd_notices.py"
        with open(os.path.join(ROOT, fetched)) as f:
            self.add_charm_file(fetched, f.read())
        if library == "ours-in-bin":
            # The part puts the module in lib/ too: the Charmhub file re-exports it.
            module = "lib/juju_systemd_notices/__init__.py"
            with open(os.path.join(ROOT, module)) as f:
                self.add_charm_file(module, f.read())
            self.binary_in_charm = "bin/juju-systemd-notices"
            with open(PROGRAM, "rb") as f:
                self.add_charm_file(self.binary_in_charm, f.read() + binary_tail, 0o755)
            return
        self.binary_in_charm = PACKED_BINARY
        for relative, (content, mode) in packed_venv().items():
            name = "venv/" + relative
            self.add_charm_file(name, content + (binary_tail if name == PACKED_BINARY else b""),
                                mode)

    def add_charm_file(self, name, text, mode=0o644):
        write(os.path.join(self.charm, name), text, mode)
        self.charm_files.append(name)

    def refresh(self, charm, binary_tail=b""):
        """What `juju refresh` does to the charm dir: the old charm's files unlinked (a running
        binary goes on as a deleted file), the new charm's written; hooks/ links, made by the
        charm itself, stay. Then the upgrade-charm hook."""
        for name in self.charm_files:
            path = os.path.join(self.charm, name)
            if os.path.lexists(path):
                os.unlink(path)
        self.charm_files = []
        self.deploy(charm, binary_tail)
        self.hook("upgrade-charm")

    def lay_out_juju(self):
        tools = os.path.join(self.top, "hook-tools")
        log = shlex.quote(self.calls)
        # Each hook tool records its command line; is-leader answers as JSON, as Juju does.
        for tool in ("juju-log", "status-set", "is-leader"):
            answer = "echo false\n" if tool == "is-leader" else ""
            write(os.path.join(tools, tool),
                  f'#!/bin/sh\necho "{tool} $*" >> {log}\n{answer}', 0o755)
        # /usr/bin/juju-exec inside (the fixture's overlay) is the client: as Juju's, it has the
        # command run by the agent, outside the caller's unit (whose file system is read-only)
        # and to its end even when the client is killed; a transient unit stands in for the
        # agent, and systemd-run --wait exits with the command's status.
        agent = os.path.join(self.top, "juju-agent-run")
        write(os.path.join(self.top, "usr-bin", "juju-exec"),
              "#!/bin/sh\nexec systemd-run --quiet --wait --pipe --collect /bin/sh "
              f'{shlex.quote(agent)} "$@"\n', 0o755)
        # The agent's side: refuses while the unit agent is not up (no agent-up file, as in the
        # first seconds after a boot), else runs the command as Juju's agent does, with
        # `/bin/bash -s` in the charm dir and the hook context's environment, so that the
        # daemon's JSN_ assignments before the hook's path reach the charm (a removed unit's
        # hooks fail: the dir is gone). Its log names the hook (the command's last word), and
        # the whole command on a line of its own.
        write(agent, textwrap.dedent(f"""\
            #!/bin/sh
            unit="$1" command="$2"
            hook="${{command##* }}"
            if [ ! -e {shlex.quote(self.agent_up)} ]; then
              echo "juju-exec-refused $unit $hook" >> {log}
              exit 1
            fi
            echo "juju-exec $unit $hook" >> {log}
            echo "juju-exec-command $unit $command" >> {log}
            cd {shlex.quote(self.charm)} || exit 1
            export JUJU_UNIT_NAME="$unit" JUJU_CHARM_DIR={shlex.quote(self.charm)}
            export JUJU_MODEL_NAME=e2e JUJU_VERSION=3.4.0
            export PATH={shlex.quote(tools)}:/usr/sbin:/usr/bin:/sbin:/bin
            printf '%s\\n' "$command" | exec /bin/bash -s
            """), 0o755)

    # --- the machine: boot, poweroff ---

    def boot(self):
        """Boots systemd into multi-user.target on the test's folders; returns once running."""
        self.end_boot()
        self.cgroup = f"jsn-e2e-{os.getpid()}-{self.BUS}"
        pid_file = os.path.join(self.top, "systemd.pid")
        if os.path.exists(pid_file):
            os.unlink(pid_file)
        self.systemd_log = os.path.join(self.top, "systemd.log")
        with open(self.systemd_log, "a") as log:
            self.starter = subprocess.Popen(
                [RECIPE, "start", "--dir", self.top, "--bus", self.BUS, "--cgroup", self.cgroup,
                 "--target", "multi-user.target", "--share", OPS_PATH, "--share", ROOT],
                stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        self.pid = 0
        state = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.starter.poll() is None:
            if not self.pid:
                try:
                    with open(pid_file) as f:
                        self.pid = int(f.read().strip() or 0)
                except (OSError, ValueError):
                    pass
            if self.pid:
                state = self.inside("systemctl", "is-system-running").stdout.strip()
                if state in ("running", "degraded"):
                    return
            time.sleep(0.02)
        with open(self.systemd_log) as f:
            self.fail(f"systemd did not boot (state {state!r}); its log:\n{f.read()}")

    def poweroff(self):
        """A clean shutdown: systemd stops every unit, then PID 1 ends (bounded wait)."""
        done = self.inside("systemctl", "start", "poweroff.target",
                           "--job-mode=replace-irreversibly", "--no-block")
        self.assertEqual(done.returncode, 0, f"poweroff: {done.stderr}")
        try:
            self.starter.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.fail("systemd did not power off within 90 s")
        self.end_boot()

    def end_boot(self):
        if self.starter is None:
            return
        if self.starter.poll() is None:
            self.starter.terminate()  # SIGKILLs systemd, and with it the namespace
        self.starter.wait()
        self.starter = None
        subprocess.run([RECIPE, "clean", "--cgroup", self.cgroup], check=False)

    def check_host_kept_its_files(self):
        for sentinel in self.sentinels:
            self.assertTrue(os.path.exists(sentinel), f"the host lost {sentinel}")
            os.unlink(sentinel)
        self.assertFalse(os.path.exists("/etc/systemd/system/" + NOTICES),
                         "the host's /etc/systemd/system got the notices unit")

    # --- looking inside ---

    def inside(self, *argv):
        return subprocess.run(["nsenter", "-t", str(self.pid), "-a", *argv],
                              capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, SYSTEMD_PAGER="", SYSTEMD_COLORS="0"))

    def hook(self, name):
        """Runs a Juju hook through the juju-exec stand-in: the charm's dispatch for it, as the
        agent runs a hook (the charm has no hooks/ file for install and the rest)."""
        done = self.inside("/usr/bin/juju-exec", "app/0",
                           f"JUJU_DISPATCH_PATH=hooks/{name} ./dispatch")
        self.assertEqual(done.returncode, 0, f"hook {name}: {done.stdout}{done.stderr}"
                         + self.journal())

    def unit_property(self, unit, prop):
        return self.inside("systemctl", "show", "-p", prop, "--value", unit).stdout.strip()

    def systemctl(self, *args):
        done = self.inside("systemctl", *args)
        self.assertEqual(done.returncode, 0, f"systemctl {' '.join(args)}: {done.stderr}")

    def journal(self):
        return "\nthe notices unit's journal:\n" + self.inside(
            "journalctl", "--no-pager", "-u", NOTICES).stdout

    def log_lines(self):
        try:
            with open(self.calls) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def wait_for(self, what, condition, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.05)
        self.fail(f"{what} never came; the stand-ins saw:\n" + "\n".join(self.log_lines())
                  + self.journal())

    def wait_for_line(self, line, after):
        """Waits (bounded) until a line starting with `line` is in the log past `after` lines."""
        self.wait_for(repr(line),
                      lambda: any(seen.startswith(line) for seen in self.log_lines()[after:]))

    def service_hooks(self, lines):
        """The service hooks juju-exec ran (not refused) among `lines`: "started" / "stopped"."""
        prefix = f"juju-exec app/0 hooks/service-{self.alias()}-"
        return [line[len(prefix):] for line in lines if line.startswith(prefix)]

    def notices_state(self):
        return {prop: self.unit_property(NOTICES, prop) for prop in
                ("ActiveState", "UnitFileState", "NRestarts", "MainPID", "LoadState", "Result")}

    def check_notices_running(self, restarts="0"):
        """The notices unit runs the charm's binary (not a deleted file), enabled."""
        state = self.notices_state()
        self.assertEqual(state["ActiveState"], "active", f"{state}{self.journal()}")
        self.assertEqual(state["UnitFileState"], "enabled", state)
        self.assertEqual(state["NRestarts"], restarts, state)
        exe = self.inside("readlink", f"/proc/{state['MainPID']}/exe").stdout.strip()
        self.assertEqual(exe, os.path.join(self.charm, self.binary_in_charm), state)
        return state

    def check_handlers_reached(self):
        """A start and a stop of the watched service (a stop first when it runs) reach the
        charm's handlers."""
        # ops 3 puts "--" before the message: "status-set ... blocked -- slurmd not running".
        steps = [("start", "started", ("status-set --application=False active", "")),
                 ("stop", "stopped",
                  ("status-set --application=False blocked", "slurmd not running"))]
        if self.unit_property(self.service, "ActiveState") == "active":
            steps.reverse()
        for command, hook, (status_start, status_end) in steps:
            seen = len(self.log_lines())
            self.systemctl(command, self.service)
            self.wait_for_line(f"juju-exec app/0 hooks/service-{self.alias()}-{hook}", seen)
            self.wait_for(f"{status_start} ... {status_end}", lambda: any(
                line.startswith(status_start) and line.endswith(status_end)
                for line in self.log_lines()[seen:]))

    def check_nothing_reached(self, seen):
        """A start and a stop of the watched service run no hook (waits 3 s for one)."""
        self.systemctl("start", self.service)
        self.systemctl("stop", self.service)
        time.sleep(3)
        self.assertEqual([line for line in self.log_lines()[seen:] if "service-" in line], [],
                         self.journal())

    def check_removed(self):
        """The notices unit is gone for good: stopped, not enabled, no file, no state file."""
        state = self.notices_state()
        self.assertEqual(state["ActiveState"], "inactive", f"{state}{self.journal()}")
        self.assertEqual(state["LoadState"], "not-found", state)
        self.assertIn(state["UnitFileState"], ("", "not-found"), state)
        self.assertEqual(state["MainPID"], "0", state)  # no process: no /proc/PID/exe
        self.assertEqual(state["NRestarts"], "0", state)
        for path in (UNIT_FILE, STATE_FILE,
                     "/etc/systemd/system/multi-user.target.wants/" + NOTICES):
            self.assertNotEqual(self.inside("test", "-e", path).returncode, 0, path)

    def status_json(self):
        done = self.inside(os.path.join(self.charm, self.binary_in_charm), "status",
                           "--unit", "app/0", "--json")
        self.assertEqual(done.returncode, 0, done.stderr)
        return json.loads(done.stdout)

    # --- the scenarios ---

    def test_the_original_example_lives_installed_stopped_and_removed(self):
        self.boot()
        self.deploy(EXAMPLE)
        self.hook("install")
        self.check_notices_running()
        for name in ("service-slurmd-started", "service-slurmd-stopped"):
            link = os.path.join(self.charm, "hooks", name)
            self.assertEqual(os.readlink(link), os.path.join(self.charm, "dispatch"))
        self.check_handlers_reached()

        self.hook("stop")  # the charm's own stop(): stopped and disabled
        self.assertEqual(self.unit_property(NOTICES, "ActiveState"), "inactive")
        self.assertEqual(self.unit_property(NOTICES, "UnitFileState"), "disabled")
        self.hook("remove")  # the library's: the unit file and the state file go
        self.check_removed()
        self.assertTrue(os.path.islink(os.path.join(self.charm, "hooks", "service-slurmd-started")))

    def test_a_unit_deployed_with_the_original_moves_to_ours_on_refresh(self):
        self.boot()
        # What the original left on the machine: its unit file, enabled and running its daemon
        # from the charm's lib/, and its hook links; no state file.
        self.deploy(SLURMD, library="original")
        write(os.path.join(self.top, "etc-systemd-system", NOTICES),
              ORIGINAL_UNIT_FILE.format(charm=self.charm))
        for event in ("started", "stopped"):
            os.makedirs(os.path.join(self.charm, "hooks"), exist_ok=True)
            os.symlink(os.path.join(self.charm, "dispatch"),
                       os.path.join(self.charm, "hooks", f"service-slurmd-{event}"))
        self.systemctl("daemon-reload")
        self.systemctl("enable", "--now", NOTICES)
        old = self.notices_state()
        self.assertEqual(old["ActiveState"], "active", old)
        self.assertEqual(self.inside("readlink", f"/proc/{old['MainPID']}/exe").stdout.strip(),
                         "/usr/bin/python3.11", old)

        seen = len(self.log_lines())
        self.refresh(SLURMD)  # now with our import line and binary; the upgrade-charm hook
        self.check_notices_running()
        unit_file = self.inside("cat", UNIT_FILE).stdout
        self.assertTrue(unit_file.startswith("# Written by juju-systemd-notices subscribe"),
                        unit_file)
        self.assertIn(f"--charm-dir {self.charm} -- slurmd.service=slurmd\n", unit_file)
        for event in ("started", "stopped"):  # the original's links stay
            link = os.path.join(self.charm, "hooks", f"service-slurmd-{event}")
            self.assertEqual(os.readlink(link), os.path.join(self.charm, "dispatch"))
        # No state file yet: the first run records the states and fires nothing.
        self.assertEqual(self.service_hooks(self.log_lines()[seen:]), [])
        self.assertEqual(self.status_json()["watches"][0]["delivered"], "stopped")
        self.check_handlers_reached()

    def test_a_refresh_with_a_new_binary_restarts_the_daemon_onto_it(self):
        self.boot()
        self.deploy(SLURMD)
        self.hook("install")
        before = self.check_notices_running()

        self.refresh(SLURMD, binary_tail=b"\0another build")
        after = self.check_notices_running()
        self.assertNotEqual(after["MainPID"], before["MainPID"], "not restarted")
        with open(os.path.join(self.charm, self.binary_in_charm), "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        self.assertIn(f", sha256 {digest}\n", self.inside("cat", UNIT_FILE).stdout)
        self.check_handlers_reached()

        # upgrade-charm again with the same charm dir (as when the charm also subscribes in
        # its own upgrade_charm handler): the same binary, the same arguments, nothing restarts.
        self.hook("upgrade-charm")
        again = self.check_notices_running()
        self.assertEqual(again["MainPID"], after["MainPID"], "restarted for the same binary")

        # A refresh that keeps the build: the same bytes, written to a new file. The daemon is
        # restarted onto it rather than left running the deleted one.
        self.refresh(SLURMD, binary_tail=b"\0another build")
        kept = self.check_notices_running()
        self.assertNotEqual(kept["MainPID"], again["MainPID"], "left on the deleted file")

    def test_a_daemon_the_charm_stopped_stays_stopped_through_a_refresh(self):
        self.boot()
        self.deploy(EXAMPLE)
        self.hook("install")
        self.check_notices_running()
        self.hook("stop")  # the charm's own stop(): stopped and disabled, its file kept
        unit_file = self.inside("cat", UNIT_FILE).stdout
        seen = len(self.log_lines())
        self.refresh(EXAMPLE, binary_tail=b"\0another build")  # upgrade-charm: nothing to renew
        state = self.notices_state()
        self.assertEqual(state["ActiveState"], "inactive", f"{state}{self.journal()}")
        self.assertEqual(state["UnitFileState"], "disabled", state)
        self.assertEqual(state["NRestarts"], "0", state)
        self.assertEqual(self.inside("cat", UNIT_FILE).stdout, unit_file, "rewritten")
        self.check_nothing_reached(seen)

    def test_remove_never_subscribed_runs_nothing_then_a_new_charm_sees_what_happened(self):
        write(os.path.join(self.top, "etc-systemd-system", TRANSITION[1]), EXIT_ON_USR1)
        self.boot()
        self.deploy(SLURMD)
        # Where the charm's binary is, one that records any run (and fails).
        runs = os.path.join(self.top, "binary-runs")
        write(os.path.join(self.charm, self.binary_in_charm),
              f"#!/bin/sh\necho \"$*\" >> {shlex.quote(runs)}\nexit 1\n", 0o755)
        self.hook("remove")  # no install: never subscribed
        self.assertFalse(os.path.exists(runs), "the binary ran")
        self.check_removed()  # nothing there, and nothing made

        # The machine is as before any charm: the same boot (the costly part) serves a new
        # unit of the charm that reads what its events say.
        shutil.rmtree(self.charm)
        self.charm_files = []
        self.check_the_charm_sees_what_happened_and_a_deferred_stop_keeps_it()

    def test_a_charm_with_the_binary_in_bin_as_the_charmcraft_part_builds_it(self):
        self.boot()
        self.deploy(EXAMPLE, library="ours-in-bin")
        self.assertFalse(os.path.exists(os.path.join(self.charm, "venv")))
        self.hook("install")
        self.check_notices_running()
        self.check_handlers_reached()

    def test_removing_a_charm_that_never_calls_stop_takes_the_notices_unit_away(self):
        self.boot()
        self.deploy(SLURMD)
        self.hook("install")
        self.check_notices_running()
        self.check_handlers_reached()

        self.hook("stop")  # the charm does nothing on stop
        self.check_notices_running()
        self.hook("remove")  # the library does
        self.check_removed()
        # The hook links stay: they go with the charm dir, which Juju deletes now.
        self.assertTrue(os.path.islink(os.path.join(self.charm, "hooks", "service-slurmd-started")))
        shutil.rmtree(self.charm)
        self.check_nothing_reached(len(self.log_lines()))
        self.check_removed()

    def test_a_forced_removal_then_a_killed_daemon_is_not_restarted_forever(self):
        self.boot()
        self.deploy(SLURMD)
        self.hook("install")
        running = self.check_notices_running()

        shutil.rmtree(self.charm)  # no hooks: `juju remove-unit --force`
        self.systemctl("kill", "--signal=SIGKILL", NOTICES)
        # One automatic restart is tried, and skipped: the binary and the dir are gone.
        self.wait_for("the restart skipped by its condition", lambda: (
            self.unit_property(NOTICES, "ConditionResult") == "no"
            and self.unit_property(NOTICES, "ActiveState") == "inactive"))
        time.sleep(3)  # RestartSec=1: three more restarts were there any
        state = self.notices_state()
        self.assertEqual(state["ActiveState"], "inactive", f"{state}{self.journal()}")
        self.assertIn(state["NRestarts"], ("0", "1"), state)  # the skipped one, at most
        # Still enabled (no hook ran to disable it), yet no process: at boot, too, the
        # conditions skip it.
        self.assertEqual(state["UnitFileState"], "enabled", state)
        self.assertEqual(state["MainPID"], "0", state)
        self.assertNotEqual(running["MainPID"], "0")
        self.check_nothing_reached(len(self.log_lines()))
        self.assertEqual(self.unit_property(NOTICES, "NRestarts"), state["NRestarts"])
        self.assertEqual(self.unit_property(NOTICES, "ActiveState"), "inactive")

        # Nor at the next boot: enabled into multi-user.target, its start is skipped.
        self.poweroff()
        self.boot()
        state = self.notices_state()
        self.assertEqual(state["ActiveState"], "inactive", f"{state}{self.journal()}")
        self.assertEqual(self.unit_property(NOTICES, "ConditionResult"), "no", state)
        # ...as checked at this boot (a condition never checked reads "no" too).
        self.assertNotEqual(self.unit_property(NOTICES, "ConditionTimestampMonotonic"), "0")
        self.assertEqual(state["NRestarts"], "0", state)
        self.assertEqual(state["MainPID"], "0", state)

    def test_a_forced_removal_under_a_running_daemon_ends_it_at_the_next_hook(self):
        self.boot()
        self.deploy(SLURMD)
        self.hook("install")
        self.check_notices_running()

        shutil.rmtree(self.charm)
        seen = len(self.log_lines())
        self.systemctl("start", self.service)  # the hook fails: the charm dir is gone
        self.wait_for_line("juju-exec app/0 hooks/service-slurmd-started", seen)
        self.wait_for("the daemon's end", lambda: (
            self.unit_property(NOTICES, "ActiveState") == "inactive"))
        state = self.notices_state()
        self.assertEqual(state["Result"], "success", state)  # exit 3: done, not failed
        self.assertEqual(state["NRestarts"], "0", state)
        self.assertEqual(state["UnitFileState"], "enabled", state)
        self.assertEqual(state["MainPID"], "0", state)
        self.assertIn("is gone (the Juju unit was removed)", self.journal())
        time.sleep(3)
        self.assertEqual(self.unit_property(NOTICES, "ActiveState"), "inactive")
        self.assertEqual(self.unit_property(NOTICES, "NRestarts"), "0")
        self.assertEqual(self.service_hooks(self.log_lines()[seen:]), ["started"])  # no retry

    def check_the_charm_sees_what_happened_and_a_deferred_stop_keeps_it(self):
        """The charm's handlers see the service's exit status 3 on its stop; the stop, deferred,
        is emitted again before the next start's event with its own values."""
        self.deploy(TRANSITION)
        self.hook("install")
        self.check_notices_running()
        events = os.path.join(self.charm, "EVENTS")
        started = "service_jsn_e2e_exit_started jsn-e2e-exit.service active success None None 0 True"
        stopped = ("service_jsn_e2e_exit_stopped jsn-e2e-exit.service failed exit-code 3 None 0 "
                   "True")

        def records():
            try:
                with open(events) as f:
                    return f.read().splitlines()
            except FileNotFoundError:
                return []

        seen = len(self.log_lines())
        self.systemctl("start", TRANSITION[1])
        self.wait_for("the started event", lambda: len(records()) == 1)
        # The main process exits 3: the stop hook carries it; the charm defers the event.
        self.systemctl("kill", "--signal=SIGUSR1", "--kill-whom=main", TRANSITION[1])
        self.wait_for("the stopped event", lambda: len(records()) == 2)
        self.systemctl("start", TRANSITION[1])
        # ops emits the deferred stop first, with its own values, then the started event.
        self.wait_for("the started event after the stop", lambda: len(records()) == 4)
        self.assertEqual(records(), [
            f"{started} status: active None None",
            f"{stopped} deferred",
            f"{stopped} failed: exit status 3",
            f"{started} status: active None None",
        ], "\n".join(self.log_lines()))
        commands = [line for line in self.log_lines()[seen:]
                    if line.startswith("juju-exec-command app/0 ")]
        self.assertEqual(len(commands), 3, commands)
        self.assertRegex(commands[1], r"^juju-exec-command app/0 JSN_STATE=failed "
                         r"JSN_RESULT=exit-code JSN_EXIT_CODE=exited JSN_EXIT_STATUS=3 "
                         r"JSN_N_RESTARTS=0 JSN_TIMESTAMP=[0-9]+ hooks/service-jsn-e2e-exit-stopped$")
        self.assertEqual(self.service_hooks(self.log_lines()[seen:]),
                         ["started", "stopped", "started"])

    def alias(self):
        return "jsn-e2e-exit" if self.service == TRANSITION[1] else "slurmd"

    def reboot_scenario(self, service_enabled):
        """Subscribe, start the service, power off, boot again with the Juju agent down for
        the first seconds: the last hook delivered matches the service's state after boot."""
        self.boot()
        self.deploy(SLURMD)
        self.hook("install")
        seen = len(self.log_lines())
        self.systemctl("enable" if service_enabled else "disable", self.service)
        self.systemctl("start", self.service)
        self.wait_for_line("juju-exec app/0 hooks/service-slurmd-started", seen)
        self.wait_for("the delivery recorded", lambda: (
            self.status_json()["watches"][0]["pending"] == "none"))

        self.poweroff()  # the service stops on the way down: its hook may or may not run
        os.unlink(self.agent_up)
        seen = len(self.log_lines())
        self.boot()
        self.check_notices_running()
        expected_state = "active" if service_enabled else "inactive"
        expected_hook = "started" if service_enabled else "stopped"
        self.wait_for("the watched service settled", lambda: (
            self.unit_property(self.service, "ActiveState") == expected_state))
        time.sleep(2)  # the agent comes up a while after the boot
        write(self.agent_up, "")
        self.wait_for(f"{expected_hook} delivered", lambda: (
            {key: value for key, value in self.status_json()["watches"][0].items()
             if key != "transition"} == {
                "alias": "slurmd", "unit": "slurmd.service", "id": "slurmd.service",
                "active_state": expected_state,
                "delivered": expected_hook, "pending": "none", "pending_hook": "none"}))
        hooks = self.service_hooks(self.log_lines())
        self.assertEqual(hooks[-1], expected_hook, self.log_lines())
        if not service_enabled:
            # Delivered after boot, once the agent took it: refused first, then retried.
            self.assertIn("juju-exec-refused app/0 hooks/service-slurmd-stopped",
                          self.log_lines()[seen:])
            self.assertEqual(self.service_hooks(self.log_lines()[seen:]), ["stopped"])
        self.check_notices_running()
        self.check_handlers_reached()

    def test_a_reboot_with_the_service_enabled_leaves_started_as_the_last_word(self):
        self.reboot_scenario(service_enabled=True)

    def test_a_reboot_with_the_service_not_enabled_delivers_stopped_once_the_agent_is_up(self):
        self.reboot_scenario(service_enabled=False)


class CharmLifeOnDbusDaemon(CharmLife, unittest.TestCase):
    BUS = "dbus-daemon"


class CharmLifeOnDbusBroker(CharmLife, unittest.TestCase):
    BUS = "dbus-broker"


if __name__ == "__main__":
    unittest.main()
