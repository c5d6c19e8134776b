# Copyright 2026 the juju-systemd-notices authors.
# Licensed under the Apache License, Version 2.0.

"""Observe systemd services from a machine charm: juju-systemd-notices, driven from ops.

The API of `charms.operator_libs_linux.v0.juju_systemd_notices`, over the static
`juju-systemd-notices` binary instead of a Python daemon: a charm switching to it changes one
import line. The binary does the work. `subscribe()` runs `juju-systemd-notices subscribe`,
which links `hooks/service-ALIAS-started` and `-stopped` to `dispatch`, writes
`/etc/systemd/system/juju-<unit, / as ->-systemd-notices.service` and has systemd enable and
start it (over D-Bus; it returns once the daemon watches); `stop()` stops and disables that
unit. The daemon runs `juju-exec <unit> hooks/service-ALIAS-started` (or `-stopped`) on each
real transition, which ops emits as `service_ALIAS_started` (`-` in ALIAS becomes `_`), with
what systemd said of the transition as `JSN_` variables before the hook's path, which the
event reads (below, "What an event says").

The module is the Python package `juju_systemd_notices` (PyPI: `juju-systemd-notices`), which
carries the binary for the machine's architecture as `juju_systemd_notices/bin/`. The Charmhub
library `charms.juju_systemd_notices.v0.juju_systemd_notices` is this docstring and a re-export
of the package: both import paths give the same classes, so one `except` catches either's
errors. The binary is looked up, in this order, in the installed package, as
`<charm_dir>/bin/juju-systemd-notices` (a charmcraft part that builds it from source), then on
`PATH`.

## Getting it into a charm

The package, `juju-systemd-notices >= 0.3, < 1`, must be installed in the charm's `venv/`
(0.3 is the first release as a package; 1 would be a new API, LIBAPI 1). How, by charmcraft
plugin:

- `charm` (the default): list it in `requirements.txt`, or fetch this library
  (`charmcraft fetch-lib charms.juju_systemd_notices.v0.juju_systemd_notices`), whose `PYDEPS`
  names it; either way also add `charm-binary-python-packages: [juju-systemd-notices]` to the
  part. The plugin builds Python packages from source unless so told: without that line it
  builds the sdist, whose binary needs `g++` and `make` in the part's `build-packages`.
- `python`: list it in the part's `python-packages` (or a requirements file in
  `python-requirements`). This plugin does not read `PYDEPS`: a fetched library alone installs
  nothing.
- `uv`: add it to the charm's `pyproject.toml` dependencies (`uv add juju-systemd-notices`), so
  that `uv.lock` has it. This plugin does not read `PYDEPS` either.

Without the package, importing the Charmhub library raises `ImportError` saying so, and
importing `juju_systemd_notices` fails as for any missing package: the charm fails in its first
hook, before anything runs.

Then import it from either path: `from juju_systemd_notices import SystemdNotices` or
`from charms.juju_systemd_notices.v0.juju_systemd_notices import SystemdNotices`.

## How to use within a charmed operator (machine only)

```python
from charms.juju_systemd_notices.v0.juju_systemd_notices import (
    Service,
    ServiceStartedEvent,
    ServiceStoppedEvent,
    SystemdNotices,
)
from ops import ActiveStatus, BlockedStatus, CharmBase, InstallEvent, StopEvent


class ApplicationCharm(CharmBase):
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
```

Keep the `SystemdNotices` on the charm, as above: it is an ops `Object`, and ops calls an
object's handlers only while the charm holds it.

A charm written as one reconcile that every event calls uses the service events as triggers
of it, and reads the state it needs itself:

```python
import subprocess

import ops
from juju_systemd_notices import SystemdNotices


class SlurmdCharm(ops.CharmBase):
    def __init__(self, framework: ops.Framework) -> None:
        super().__init__(framework)
        self._notices = SystemdNotices(self, ["slurmd"])
        for event in (self.on.install, self.on.config_changed, self.on.upgrade_charm,
                      self.on.service_slurmd_started, self.on.service_slurmd_stopped):
            self.framework.observe(event, self._reconcile)
        self.framework.observe(self.on.collect_unit_status, self._on_collect_status)

    def _reconcile(self, _: ops.EventBase) -> None:
        if not self._notices.is_subscribed():
            self._notices.subscribe()

    def _on_collect_status(self, event: ops.CollectStatusEvent) -> None:
        running = subprocess.run(["systemctl", "is-active", "--quiet", "slurmd"]).returncode == 0
        event.add_status(ops.ActiveStatus() if running else ops.BlockedStatus("slurmd not running"))
```

## What an event says

Each service event says which service it is about and what systemd said of the transition:
`event.service` (the `Service` given), `event.state` (`ActiveState` reached: "active",
"inactive", "failed"), `event.failed`, `event.result` (the unit type's `Result`: "success",
"exit-code", "signal", "core-dump", "timeout", "start-limit-hit", "oom-kill", ...),
`event.exit_status` (`ExecMainStatus` when the main process exited), `event.signal` (when a
signal killed it), `event.core_dumped`, `event.n_restarts` (`NRestarts`) and `event.timestamp`
(`StateChangeTimestamp`, an aware UTC datetime). The daemon gives them to the hook as `JSN_`
variables; a value systemd does not have, or a daemon too old to give, is None. They survive
`event.defer()`. `event.describe()` words them for a status:

```python
def _on_slurmd_stopped(self, event: ServiceStoppedEvent) -> None:
    if event.failed:  # "slurmd failed: exit status 1 (restarted 3 times)"
        self.unit.status = BlockedStatus(f"{event.service.hook_alias} {event.describe()}")
    else:
        self.unit.status = WaitingStatus(f"{event.service.hook_alias} stopped")
```

A test gives the values to `emit()`:
`manager.charm.on.service_slurmd_stopped.emit(state="failed", result="exit-code", exit_status=1,
n_restarts=3)` (ops.testing, in a run as below, or Harness).

## What it does on upgrade-charm and remove

`SystemdNotices` observes these two events of the charm itself, so a charm that subscribes in
`install` and stops in `stop` needs nothing more. Neither ever fails the hook: a failure is
logged at error with the command to run by hand, and the charm's own handlers run as usual.

- **upgrade-charm**: `renew()`: when this unit is subscribed (`is_subscribed()`: the file
  `/etc/systemd/system/juju-<unit, / as ->-systemd-notices.service` exists and is enabled;
  written by this library or by the original, which used the same name), it calls `subscribe()`
  again with the current services, so the daemon runs the new charm's binary and watch list
  (the binary restarts it only when that changed the unit). A unit the charm stopped (`stop()`
  disables it) stays stopped; one never subscribed is left alone, and nothing runs. A refresh is
  thus all it takes to move a deployed unit from the original library to this one.
- **remove**: `remove()`: when the unit file exists, `juju-systemd-notices remove --unit <unit>`
  stops and disables the daemon, deletes its unit file, has systemd reload and deletes the
  daemon's state file (the hook links go with the charm dir). Without a binary it does the same
  with `systemctl disable --now`, deleting the file and `systemctl daemon-reload` (the state
  file stays). Without the unit file nothing runs.

With several `SystemdNotices` on one charm, only the last one made handles these events, so the
daemon restarts at most once a hook. `SystemdNotices(self, services,
handle_upgrade_and_remove=False)` leaves both events to the charm, which may call `renew()`
and `remove()` (or `subscribe()` and `stop()`) from its own handlers. A charm that calls them
as well as the library keeps working in either order: a second `subscribe` with the same
services changes nothing, and stopping a unit that is gone is not an error.

## Status

`status()` (not in the original) reads back what the daemon watches, e.g. for an action:

```python
status = self._systemd_notices.status()
event.set_results({w.alias: f"{w.active_state}, delivered {w.delivered}" for w in status.watches})
```

## Errors

A `Service` whose name or alias can never work (empty, a space, a `/`, an alias ops cannot
name an event after) raises `ValueError` saying what was expected, where it is made.
`SystemdNotices` takes any list, as the original; `subscribe()` refuses one the binary would
(none, more than 64, a unit or an alias twice) with `ValueError`. Failures of the binary raise
`SystemdNoticesError`, logged at error: its message, exit status, and from the binary's
`--json` error line the rule broken (`error`) and systemd's D-Bus error name (`dbus_error`).
Every call has a timeout (`CHANGE_TIMEOUT_SECONDS`, `STATUS_TIMEOUT_SECONDS`), after which
the error says what timed out. It is a `subprocess.CalledProcessError` (`returncode`, `cmd`,
`output`, `stderr`), what the original raised when `systemctl` failed, so a charm's
`except subprocess.CalledProcessError` still catches it; `BinaryNotFoundError` (exit status
127) names each place looked in.

One daemon runs per Juju unit, with one watch list: `subscribe()` replaces the list with this
object's services, so a charm keeps all its services in one `SystemdNotices`.

## Unit tests of a charm that uses it

Under a test harness (ops's `Harness`, or `ops.testing`'s `Context` and `State`) the library
runs nothing, even with the package and its binary in the test venv: `subscribe()`, `stop()`,
`renew()`, `remove()` log and return, `status()` returns an empty status. Patch
`SystemdNotices.subscribe` where a test asserts it was called; emit the service events as any
other:

```python
from unittest.mock import patch

from ops import ActiveStatus, testing

from charm import ApplicationCharm


def test_install_subscribes():
    ctx = testing.Context(ApplicationCharm, meta={"name": "app"})
    with patch("charms.juju_systemd_notices.v0.juju_systemd_notices.SystemdNotices.subscribe") as subscribe:
        ctx.run(ctx.on.install(), testing.State())
    subscribe.assert_called_once_with()


def test_slurmd_started_sets_active():
    # The service events are the charm's own (defined when it is made): emit one in a run.
    ctx = testing.Context(ApplicationCharm, meta={"name": "app"})
    with ctx(ctx.on.update_status(), testing.State()) as manager:
        manager.charm.on.service_slurmd_started.emit()
        state = manager.run()
    assert state.unit_status == ActiveStatus()
```
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import shlex
import shutil
import signal
import subprocess
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple, Type, Union, cast

import ops.model
from ops.charm import CharmBase, RemoveEvent, UpgradeCharmEvent
from ops.framework import EventBase, EventSource, Handle, Object

# The version of this module and of the binary the package carries; the Charmhub library's
# LIBAPI.LIBPATCH are its MAJOR.MINOR. tools/charm-lib writes it from the file VERSION, the one
# place it is set, and `make check` fails when they differ.
__version__ = "0.3.0"

__all__ = [
    "Service",
    "ServiceStartedEvent",
    "ServiceStoppedEvent",
    "SystemdNotices",
    "SystemdNoticesError",
    "BinaryNotFoundError",
    "NoticesStatus",
    "WatchStatus",
]

_logger = logging.getLogger(__name__)

BINARY = "juju-systemd-notices"
# The Python package that carries the binary, as bin/juju-systemd-notices inside it.
PACKAGE = "juju_systemd_notices"

# Where `subscribe` writes the notices unit (juju-<unit, / as ->-systemd-notices.service), as the
# original library did under the same name; enabling it links it from a *.wants/ folder there.
# upgrade-charm and remove look there to learn whether this unit subscribed; a module value so
# that tests can point it at a directory of their own.
SYSTEM_UNIT_DIRECTORY = Path("/etc/systemd/system")

# The binary's limits (include/jsn/daemon/options.h, include/jsn/systemd/unit_path.h): they are its command
# line's, stated in its --help.
MAX_SERVICES = 64
MAX_UNIT_NAME_BYTES = 255
MAX_ALIAS_BYTES = 128

# How long a call may take before it is killed and reported. The binary waits at most 90 s for
# one D-Bus reply and 300 s for one systemd job; subscribe makes a few calls and one job.
CHANGE_TIMEOUT_SECONDS = 600
STATUS_TIMEOUT_SECONDS = 120
SYSTEMCTL_TIMEOUT_SECONDS = 300

# Exit statuses given to failures where the binary did not run or did not finish, as the shell
# gives them: 127 not found, 126 found but could not run; -9 (SIGKILL) for a call killed at its
# timeout, as subprocess.run kills it.
NOT_FOUND_STATUS = 127
CANNOT_RUN_STATUS = 126
TIMED_OUT_STATUS = -9

# systemd's unit types (unit_type_table in systemd's src/basic/unit-def.c), as src/daemon/options.cc.
_UNIT_TYPES = frozenset(
    ["service", "socket", "target", "device", "mount", "automount", "swap", "timer", "path",
     "slice", "scope"]
)
_SERVICE_SUFFIX = ".service"
# Before the type: systemd's VALID_CHARS plus '@' (unit_name_is_valid in src/basic/unit-name.c).
_UNIT_PREFIX = re.compile(r"[A-Za-z0-9:_.\\@-]+\Z")
# The binary's IsValidAlias: a letter or digit, then [A-Za-z0-9._@:-].
_ALIAS = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@:-]*\Z")
# What ops can make an event of: it names the event after the hook with '-' as '_', and
# define_event takes only an identifier. '.', '@' and ':' pass the binary but never reach a
# handler, so they are refused here.
_EVENT_ALIAS = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\Z")


def _has_unit_type(name: str) -> bool:
    """Whether `name` ends in .TYPE for a systemd unit type (the binary's HasUnitTypeSuffix)."""
    dot = name.rfind(".")
    return dot > 0 and name[dot + 1 :] in _UNIT_TYPES


def _shown(text: object) -> str:
    """`text` quoted for a message, cut at 60 characters as the binary cuts it."""
    shown = repr(text)
    return shown if len(shown) <= 62 else shown[:61] + "..."


def _unit_name_problem(unit: str) -> Optional[str]:
    """What `unit` lacks to be a unit name the binary watches (IsValidUnitName), or None."""
    if len(unit.encode()) > MAX_UNIT_NAME_BYTES:
        return f"at most {MAX_UNIT_NAME_BYTES} bytes (with .service when no type is given)"
    dot = unit.rfind(".")
    if dot <= 0 or unit[dot + 1 :] not in _UNIT_TYPES:
        return "a name before its type"
    prefix = unit[:dot]
    if not _UNIT_PREFIX.match(prefix):
        return "only [A-Za-z0-9:_.\\@-] before its type"
    at = prefix.find("@")
    if at == 0:
        return "a name before '@'"
    if at > 0 and at == len(prefix) - 1:
        return "an instance after '@' (foo@.service is a template, with no state to watch)"
    return None


def _unit_for(name: object) -> str:
    """The unit the binary watches for NAME: NAME itself with a unit type, else NAME.service."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"expected a systemd service name such as slurmd, found {name!r}")
    unit = name if _has_unit_type(name) else name + _SERVICE_SUFFIX
    problem = _unit_name_problem(unit)
    if problem is not None:
        raise ValueError(
            f"expected a systemd unit name (e.g. slurmd, snap.slurm.slurmd or foo@bar.service) "
            f"with {problem}, found {_shown(name)}"
        )
    return unit


def _default_alias(name: str) -> str:
    """The binary's alias for a NAME given without one: NAME without a trailing .service."""
    if len(name) > len(_SERVICE_SUFFIX) and name.endswith(_SERVICE_SUFFIX):
        return name[: -len(_SERVICE_SUFFIX)]
    return name


def _check_alias(alias: object, name: str, given: bool) -> None:
    """Raises ValueError unless the binary takes `alias` and ops can name events after it."""
    source = "alias" if given else f"alias (from the name {_shown(name)}; give alias=...)"
    if not isinstance(alias, str) or len(alias.encode()) > MAX_ALIAS_BYTES or not _ALIAS.match(alias):
        raise ValueError(
            f"expected an {source} of 1 to {MAX_ALIAS_BYTES} bytes of [A-Za-z0-9._@:-] starting "
            f"with a letter or digit (for hooks/service-ALIAS-started), found {_shown(alias)}"
        )
    if not _EVENT_ALIAS.match(alias):
        raise ValueError(
            f"expected an {source} of [A-Za-z0-9_-], found {_shown(alias)}: ops names the event "
            f"service_<alias>_started with '-' as '_', which must be a Python identifier"
        )


@dataclass
class Service:
    """A systemd service to observe, and the alias its hooks and events are named after.

    Args:
        name: the systemd unit, e.g. "snap.slurm.slurmd" (".service" is implied) or
            "foo@bar.service"; other unit types (".timer", ".mount", ...) are kept.
        alias: names the hooks (hooks/service-ALIAS-started) and the events
            (service_ALIAS_started, with "-" as "_"); by default (None or "") the name
            without ".service".

    Raises:
        ValueError: the name or the alias is one the binary refuses (a space, a "/", empty),
            or the alias cannot name an ops event; the message says what was expected.
    """

    name: str
    alias: Optional[str] = None

    def __post_init__(self) -> None:
        if self.alias == "":
            self.alias = None  # as the original: an empty alias is no alias
        self._check()

    def _check(self) -> None:
        _unit_for(self.name)
        if self.alias is None or self.alias == "":
            _check_alias(_default_alias(self.name), self.name, given=False)
        else:
            _check_alias(self.alias, self.name, given=True)

    @property
    def unit(self) -> str:
        """The systemd unit watched, e.g. "snap.slurm.slurmd.service"."""
        return _unit_for(self.name)

    @property
    def hook_alias(self) -> str:
        """The alias in the hook names: the given alias, else the name without ".service"."""
        return self.alias if self.alias else _default_alias(self.name)

    @property
    def started_event(self) -> str:
        """The name of the event on charm.on when the service starts, e.g. service_slurmd_started."""
        return f"service_{self.hook_alias.replace('-', '_')}_started"

    @property
    def stopped_event(self) -> str:
        """The name of the event on charm.on when the service stops."""
        return f"service_{self.hook_alias.replace('-', '_')}_stopped"


# What the daemon puts before the hook's path, for the transition that called the hook (README
# "What an event says"): Juju's juju-exec runs that command with bash, so they are the hook's
# environment. Each is there only when the daemon knew it.
_ENV_STATE = "JSN_STATE"  # the ActiveState reached: "active", "inactive", "failed"
_ENV_RESULT = "JSN_RESULT"  # the unit type's Result: "success", "exit-code", "signal", ...
_ENV_EXIT_CODE = "JSN_EXIT_CODE"  # services: ExecMainCode as systemd words it
_ENV_EXIT_STATUS = "JSN_EXIT_STATUS"  # with it: ExecMainStatus (exit status or signal number)
_ENV_N_RESTARTS = "JSN_N_RESTARTS"  # services: NRestarts
_ENV_TIMESTAMP = "JSN_TIMESTAMP"  # StateChangeTimestamp, µs since the epoch (CLOCK_REALTIME)
# The daemon's safe alphabet for words; anything else in the environment is not its value.
_RECORD_WORD = re.compile(r"[a-z0-9-]{1,64}\Z")
# Numbers: decimal digits; at most 20 (a uint64), which a timestamp may need.
_RECORD_NUMBER = re.compile(r"[0-9]{1,20}\Z")
# systemd's ExecMainCode words (sigchld_code_to_string): the process exited, was killed by a
# signal, or was killed by one and dumped core.
_EXITED, _KILLED, _DUMPED = "exited", "killed", "dumped"
# Results that say only how the main process ended: the exit status or signal says more.
_PROCESS_RESULTS = frozenset(["exit-code", "signal", "core-dump"])
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# The Service each service event kind names, per ops Framework (one per hook, or per Harness or
# ops.testing run): written when a SystemdNotices defines the events, read by event.service.
_event_services: "weakref.WeakKeyDictionary[object, Dict[str, Service]]" = (
    weakref.WeakKeyDictionary()
)


def _record_word(value: Optional[str]) -> Optional[str]:
    """`value` when it is a word in the daemon's alphabet, else None."""
    return value if value is not None and _RECORD_WORD.match(value) else None


def _record_number(value: Optional[str]) -> Optional[int]:
    """`value` as a number when it is decimal digits, else None."""
    return int(value) if value is not None and _RECORD_NUMBER.match(value) else None


def _datetime_of(microseconds: Optional[int]) -> Optional[datetime]:
    """The UTC time of `microseconds` since the epoch; None for None, 0 (systemd's "never") or
    a time datetime cannot hold."""
    if not microseconds:
        return None
    try:
        return _EPOCH + timedelta(microseconds=microseconds)
    except OverflowError:
        return None


def _microseconds_of(when: Optional[datetime]) -> Optional[int]:
    """`when` as µs since the epoch (a naive datetime is taken as UTC), for a snapshot."""
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return (when - _EPOCH) // timedelta(microseconds=1)


def _signal_name(number: int) -> Optional[str]:
    """systemd's name for signal `number` (signal_to_string: "KILL", "SEGV"), or None."""
    try:
        return signal.Signals(number).name[len("SIG"):]
    except ValueError:
        return None


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


class _ServiceEvent(EventBase):
    """What a service event says about its transition, from the hook's JSN_ variables.

    ops makes the event with its handle alone when it dispatches the hook: the values are then
    read from the environment the daemon gave the hook (a value that is not the daemon's is
    None, never an error). A test gives them as keywords instead: `emit(state="failed",
    result="exit-code", exit_status=1)`; with any keyword the environment is not read. ops keeps
    them in the event's snapshot, so a deferred event keeps its own values when it is emitted
    again in a later hook, whatever that hook's variables say.

    Attributes:
        state: the ActiveState the unit reached ("active", "inactive", "failed"), or None.
        result: the unit type's Result ("success", "exit-code", "signal", "core-dump",
            "timeout", "watchdog", "start-limit-hit", "oom-kill", ...), or None.
        exit_status: the main process's exit status when it exited (ExecMainCode "exited"),
            else None.
        signal: the signal that killed the main process (ExecMainCode "killed" or "dumped"),
            else None.
        core_dumped: whether the main process dumped core (ExecMainCode "dumped").
        n_restarts: NRestarts: how often systemd restarted the service by itself (Restart=),
            or None.
        timestamp: when the transition happened (StateChangeTimestamp), UTC, or None.
    """

    # How describe() words a transition without a cause to tell: "started" or "stopped".
    _KIND_WORD = ""

    state: Optional[str]
    result: Optional[str]
    exit_status: Optional[int]
    signal: Optional[int]
    core_dumped: bool
    n_restarts: Optional[int]
    timestamp: Optional[datetime]

    def __init__(
        self,
        handle: Handle,
        state: Optional[str] = None,
        result: Optional[str] = None,
        exit_status: Optional[int] = None,
        signal: Optional[int] = None,
        core_dumped: bool = False,
        n_restarts: Optional[int] = None,
        timestamp: Optional[datetime] = None,
    ) -> None:
        super().__init__(handle)
        given = (state, result, exit_status, signal, n_restarts, timestamp)
        if core_dumped or any(value is not None for value in given):
            self.state, self.result = state, result
            self.exit_status, self.signal, self.core_dumped = exit_status, signal, core_dumped
            self.n_restarts, self.timestamp = n_restarts, timestamp
        else:
            self._read_environment()

    def _read_environment(self) -> None:
        """The values from the JSN_ variables of this hook; each None when absent or malformed.

        Only in the hook dispatched for this very event: an event of this type that a charm
        emits itself in another hook is not given that hook's values.
        """
        self.state = self.result = self.exit_status = self.signal = None
        self.n_restarts = self.timestamp = None
        self.core_dumped = False
        dispatched = os.environ.get("JUJU_DISPATCH_PATH")
        if dispatched is not None and (
            os.path.basename(dispatched).replace("-", "_") != self.handle.kind
        ):
            return
        self.state = _record_word(os.environ.get(_ENV_STATE))
        self.result = _record_word(os.environ.get(_ENV_RESULT))
        code = os.environ.get(_ENV_EXIT_CODE)
        status = _record_number(os.environ.get(_ENV_EXIT_STATUS))
        if code == _EXITED:
            self.exit_status = status
        elif code in (_KILLED, _DUMPED):
            self.signal = status
            self.core_dumped = code == _DUMPED
        self.n_restarts = _record_number(os.environ.get(_ENV_N_RESTARTS))
        self.timestamp = _datetime_of(_record_number(os.environ.get(_ENV_TIMESTAMP)))

    @property
    def service(self) -> Service:
        """The Service this event is about (name and alias), as given to SystemdNotices."""
        kind = self.handle.kind
        found = _event_services.get(self.framework, {}).get(kind)
        if found is not None:
            return found
        # An event defined without a SystemdNotices in this framework: the alias from its name.
        alias = kind
        for prefix, suffix in (("service_", "_started"), ("service_", "_stopped")):
            if kind.startswith(prefix) and kind.endswith(suffix) and len(kind) > len(prefix + suffix):
                alias = kind[len(prefix) : -len(suffix)]
        return Service(alias)

    @property
    def failed(self) -> bool:
        """Whether the unit reached the "failed" state."""
        return self.state == "failed"

    def describe(self) -> str:
        """How the transition ended, in systemd's words, for a status message.

        "stopped", "failed: exit status 1", "failed: killed by signal 9 (KILL)", "failed:
        dumped core on signal 11 (SEGV)", "failed: start-limit-hit", "started"; then " (restarted
        3 times)" when systemd restarted it. Without values (an older daemon): "started" or
        "stopped".
        """
        cause: Optional[str] = None
        if self.result in _PROCESS_RESULTS or (self.result is None and self.failed):
            if self.signal is not None:
                name = _signal_name(self.signal)
                shown = f"signal {self.signal}" + (f" ({name})" if name else "")
                cause = f"dumped core on {shown}" if self.core_dumped else f"killed by {shown}"
            elif self.exit_status is not None:
                cause = f"exit status {self.exit_status}"
            else:
                cause = self.result
        elif self.result is not None and self.result != "success":
            cause = self.result
        if cause is None:
            text = "failed" if self.failed else self._KIND_WORD
        else:
            text = f"failed: {cause}" if self.failed else cause
        if self.n_restarts:
            text += f" (restarted {_plural(self.n_restarts, 'time')})"
        return text

    def snapshot(self) -> Dict[str, Any]:
        # What ops stores of the event, to emit it again after defer(): simple types only.
        # Events deferred by the original library, or by this one before these values, have
        # none of these keys: restore() gives them None.
        data = super().snapshot()
        data.update(state=self.state, result=self.result, exit_status=self.exit_status,
                    signal=self.signal, core_dumped=self.core_dumped,
                    n_restarts=self.n_restarts, timestamp=_microseconds_of(self.timestamp))
        return data

    def restore(self, snapshot: Optional[Dict[str, Any]]) -> None:
        data: Dict[str, Any] = snapshot or {}
        super().restore(data)

        def word(key: str) -> Optional[str]:
            value = data.get(key)
            return value if isinstance(value, str) else None

        def number(key: str) -> Optional[int]:
            value = data.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        self.state, self.result = word("state"), word("result")
        self.exit_status, self.signal = number("exit_status"), number("signal")
        self.core_dumped = data.get("core_dumped") is True
        self.n_restarts = number("n_restarts")
        self.timestamp = _datetime_of(number("timestamp"))


class ServiceStartedEvent(_ServiceEvent):
    """Event emitted when a service has started (its ActiveState became active).

    event.service says which; event.n_restarts whether systemd restarted it, event.timestamp
    when (see the attributes of ServiceStoppedEvent; all None from an older daemon).
    """

    _KIND_WORD = "started"


class ServiceStoppedEvent(_ServiceEvent):
    """Event emitted when a service has stopped (it settled in any state but active).

    event.service says which; event.failed, event.result, event.exit_status, event.signal,
    event.core_dumped how; event.n_restarts, event.timestamp; event.describe() says it in
    words for a status. All None (False) when the hook carried no values (an older daemon, a
    test that gave none).
    """

    _KIND_WORD = "stopped"


class SystemdNoticesError(subprocess.CalledProcessError):
    """The binary failed, or could not run, or did not finish in time. str() says which.

    A subprocess.CalledProcessError, as the original library raised when systemctl failed, so a
    charm's `except subprocess.CalledProcessError` catches it as before.

    Attributes:
        message: what went wrong: the binary's message, or why it could not run or finish.
        returncode: the binary's exit status (1: systemd or the file system said no, 2: bad
            input, nothing written; negative: killed by that signal, -9 at the timeout), or as
            a shell says it when it did not run (127 not found, 126 could not run).
        error: the binary's name for the rule broken (e.g. "dbus-error", "job-failed",
            "invalid-juju-unit"), from its --json error line; None without one.
        dbus_error: the D-Bus error name systemd answered with (e.g.
            org.freedesktop.DBus.Error.AccessDenied), from the same line; None without one.
        stderr: everything the binary wrote on stderr.
        output: everything it wrote on stdout (also as stdout).
        command: the command line run (also as cmd).
    """

    def __init__(
        self,
        message: str,
        returncode: int,
        stderr: str = "",
        command: Sequence[str] = (),
        output: str = "",
        error: Optional[str] = None,
        dbus_error: Optional[str] = None,
    ) -> None:
        super().__init__(returncode, list(command), output, stderr)
        # CalledProcessError leaves args alone; the message alone, as before it was one.
        self.args = (message,)
        self.message = message
        self.command = list(command)
        self.error = error
        self.dbus_error = dbus_error

    def __reduce__(self) -> Tuple[object, ...]:
        return (type(self), (self.message, self.returncode, self.stderr, self.command,
                             self.output, self.error, self.dbus_error))

    def __str__(self) -> str:
        # CalledProcessError's would be "Command [...] returned non-zero exit status N."; the
        # binary's message says what it expected and what it found, and already ends in that.
        return self.message


class BinaryNotFoundError(SystemdNoticesError):
    """No binary to run: not in the juju_systemd_notices package, the charm's bin/ or on PATH.

    Its returncode is 127, as a shell's for a command not found: nothing ran.
    """


class WatchStatus(NamedTuple):
    """One watched unit, as `status --json` reports it."""

    alias: str  # the hooks' alias
    unit: str  # the systemd unit, e.g. "slurmd.service"
    id: str  # the unit systemd knows it as: `unit` itself, or the unit an alias names
    active_state: str  # its ActiveState now, asked of systemd: "active", "inactive", "failed", ...
    delivered: str  # the hook last delivered: "started", "stopped", "none", "unknown" (no state file)
    pending: str  # "none", "pending" (due or running), "failing" (retrying), "unknown"
    pending_hook: str  # the hook pending or failing: "started", "stopped", "none", "unknown"
    # The record of the latest settled transition (the one its last hook, delivered, pending or
    # failing, is for), as its event has it; each None when the daemon recorded none or did
    # not know it (an older daemon: all None).
    transition_state: Optional[str] = None  # the ActiveState reached: "active", "failed", ...
    result: Optional[str] = None  # the unit type's Result: "success", "exit-code", ...
    exit_code: Optional[str] = None  # ExecMainCode: "exited", "killed", "dumped"
    exit_status: Optional[int] = None  # ExecMainStatus: exit status, or signal number
    n_restarts: Optional[int] = None  # NRestarts
    timestamp: Optional[datetime] = None  # StateChangeTimestamp, UTC


class NoticesStatus(NamedTuple):
    """What the notices daemon of this unit watches, as `status --json` reports it."""

    juju_unit: str  # "app/0"
    daemon_unit: str  # "juju-app-0-systemd-notices.service"
    daemon_active_state: str  # the daemon's own ActiveState
    state_file: bool  # whether the daemon's state file was read (else delivered is "unknown")
    watches: Tuple[WatchStatus, ...]


# The fields of a watch that every daemon's status has, as strings (WatchStatus's first).
_WATCH_STRINGS = WatchStatus._fields[:7]


def _transition(value: object) -> Tuple[Optional[str], Optional[str], Optional[str],
                                        Optional[int], Optional[int], Optional[datetime]]:
    """WatchStatus's transition fields from a watch's "transition" object (null or absent in
    an older daemon's status, or with none recorded: all None); a key of the wrong type is None."""
    record = cast(Dict[str, object], value) if isinstance(value, dict) else {}

    def word(key: str) -> Optional[str]:
        found = record.get(key)
        return found if isinstance(found, str) else None

    def number(key: str) -> Optional[int]:
        found = record.get(key)
        return found if isinstance(found, int) and not isinstance(found, bool) else None

    return (word("state"), word("result"), word("exit_code"), number("exit_status"),
            number("n_restarts"), _datetime_of(number("timestamp")))


def _parse_status(text: str, command: Sequence[str]) -> NoticesStatus:
    """The objects for `status --json` output, or SystemdNoticesError saying what was found."""

    def fail(expected: str) -> SystemdNoticesError:
        return SystemdNoticesError(
            f"expected {expected} from {' '.join(command)}, found {text[:200]!r}",
            returncode=0,
            command=command,
            output=text,
        )

    try:
        data: object = json.loads(text)
    except ValueError:
        raise fail("a JSON object") from None
    top_fields: Dict[str, type] = {"juju_unit": str, "daemon_unit": str,
                                   "daemon_active_state": str, "state_file": bool,
                                   "watches": list}
    if not isinstance(data, dict):
        raise fail("an object with " + ", ".join(top_fields))
    fields = cast(Dict[str, object], data)
    if any(not isinstance(fields.get(key), kind) for key, kind in top_fields.items()):
        raise fail("an object with " + ", ".join(top_fields))
    watches: List[WatchStatus] = []
    for watch in cast(List[object], fields["watches"]):
        if not isinstance(watch, dict):
            raise fail("watches with " + ", ".join(_WATCH_STRINGS))
        watch_fields = cast(Dict[str, object], watch)
        values = [watch_fields.get(key) for key in _WATCH_STRINGS]
        strings = [value for value in values if isinstance(value, str)]
        if len(strings) != len(values):
            raise fail("watches with " + ", ".join(_WATCH_STRINGS))
        alias, unit, unit_id, active_state, delivered, pending, pending_hook = strings
        state, result, exit_code, exit_status, n_restarts, timestamp = _transition(
            watch_fields.get("transition"))
        watches.append(WatchStatus(alias, unit, unit_id, active_state, delivered, pending,
                                   pending_hook, state, result, exit_code, exit_status,
                                   n_restarts, timestamp))
    return NoticesStatus(
        juju_unit=cast(str, fields["juju_unit"]),
        daemon_unit=cast(str, fields["daemon_unit"]),
        daemon_active_state=cast(str, fields["daemon_active_state"]),
        state_file=cast(bool, fields["state_file"]),
        watches=tuple(watches),
    )


def _binary_error(stderr: str) -> Optional[Dict[str, str]]:
    """The binary's --json error line on stderr as a dict of strings, or None when there is none.

    With --json a failing subcommand writes one line {"command": ..., "error": RULE, "doing":
    ..., "dbus_error": NAME or "", "message": ...} (src/cli/cli.cc, ReportFailure).
    """
    for line in reversed(stderr.splitlines()):
        if not line.startswith("{"):
            continue
        try:
            data: object = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict):
            fields = cast(Dict[str, object], data)
            if isinstance(fields.get("error"), str) and isinstance(fields.get("message"), str):
                return {key: value for key, value in fields.items() if isinstance(value, str)}
    return None


def _package_directory() -> Optional[Path]:
    """Where the installed package juju_systemd_notices is, or None when it is not.

    Found by its name, so that the binary is the one the installed package carries.
    """
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(str(path), os.X_OK)


def _under_test_harness(model: ops.model.Model) -> bool:
    """Whether the charm runs under a test harness (ops's Harness, ops.testing/Scenario), not Juju.

    In a hook ops's main gives the model its _ModelBackend itself; Harness gives it a
    _TestingModelBackend and ops.testing a _MockModelBackend (a subclass): the same in ops 2.x
    and 3.x. The environment cannot tell: ops.testing sets JUJU_VERSION, JUJU_CHARM_DIR and the
    rest as a hook has them.
    """
    real = getattr(ops.model, "_ModelBackend", None)
    backend = getattr(model, "_backend", None)
    return real is not None and backend is not None and type(backend) is not real


def _define_event(charm: CharmBase, kind: str, event_type: Type[EventBase]) -> None:
    """Defines charm.on.<kind> once per events class.

    ops defines events on the class of charm.on, and raises when a kind is defined twice. A
    class that already has this event from us (an earlier SystemdNotices in this process: the
    charm made again, or a second object watching the same alias) is left as it is.
    """
    existing = getattr(type(charm.on), kind, None)
    if existing is None:
        charm.on.define_event(kind, event_type)
        return
    if isinstance(existing, EventSource) and existing.event_type is event_type:
        return
    raise RuntimeError(
        f"expected {type(charm.on).__name__}.{kind} to be free or a {event_type.__name__}, "
        f"found {existing!r}: another event of that name is defined on the charm"
    )


def _check_services(services: Sequence[Service]) -> None:
    """Raises ValueError for a list the binary would refuse, or with events ops would mix up."""
    if not services:
        raise ValueError("expected at least one service to subscribe to, found none")
    if len(services) > MAX_SERVICES:
        raise ValueError(f"expected at most {MAX_SERVICES} services (the binary's limit), "
                         f"found {len(services)}")
    units: Dict[str, str] = {}
    aliases: Dict[str, str] = {}
    events: Dict[str, str] = {}
    for service in services:
        service._check()  # again: a Service's fields may have been changed since it was made
        unit, alias, event = service.unit, service.hook_alias, service.started_event
        if unit in units:
            raise ValueError(f"expected each unit once, found {unit} twice")
        if alias in aliases:
            raise ValueError(
                f"expected a different alias for each service, found {alias!r} for "
                f"{aliases[alias]} and {unit}"
            )
        if event in events:
            raise ValueError(
                f"expected aliases that name different events, found {events[event]!r} and "
                f"{alias!r}, both {event} ('-' becomes '_')"
            )
        units[unit] = alias
        aliases[alias] = unit
        events[event] = alias


# The handle keys each charm's SystemdNotices objects have taken, and how often.
_handle_keys: "weakref.WeakKeyDictionary[object, Dict[str, int]]" = weakref.WeakKeyDictionary()
# The SystemdNotices of each charm that handles upgrade-charm and remove: the last one made with
# handle_upgrade_and_remove=True, so that a hook restarts the daemon once, whatever the number.
_lifecycle_owner: "weakref.WeakKeyDictionary[object, weakref.ref[SystemdNotices]]" = (
    weakref.WeakKeyDictionary()
)


def _handle_key(charm: object, services: Sequence[Service]) -> Optional[str]:
    """The key of a SystemdNotices's ops handle, unique on `charm`: its aliases, then #2, #3, ...

    ops refuses a second object with the handle path of a live one ("two objects claiming to be
    ... have been created", Framework._track). A charm may make a SystemdNotices for the same
    aliases again, e.g. in a handler besides the one in __init__, as the original allowed; that
    one gets a number. The one made in __init__ comes first in every hook, so its key is the same
    each time.
    """
    base = ",".join(service.hook_alias for service in services)
    taken = _handle_keys.setdefault(charm, {})
    taken[base] = taken.get(base, 0) + 1
    key = base if taken[base] == 1 else f"{base}#{taken[base]}"
    return key or None


class SystemdNotices(Object):
    """Observe systemd services on the machine: events on the charm, the daemon to emit them.

    An ops Object. Unless handle_upgrade_and_remove=False, it observes the charm's upgrade-charm
    and remove events itself: renew() on upgrade-charm, remove() on remove, each logging a
    failure at error and never failing the hook. Keep it on the charm
    (self._systemd_notices = ...) as ops needs of any observer.

    Under a test harness (ops's Harness, ops.testing) no method runs the binary or systemctl:
    each logs what it would run and returns (status() an empty NoticesStatus).

    Args:
        charm: the charm; service_ALIAS_started and _stopped are defined on charm.on.
        services: the services to observe, as Service objects or names (a single one may be
            given alone); any number, checked against the binary's limits by subscribe().
        handle_upgrade_and_remove: False to leave upgrade-charm and remove to the charm, which
            may call renew() and remove() from its own handlers.

    Raises:
        ValueError: a name or alias the binary refuses or ops cannot name an event after.
        RuntimeError: the charm already has an event of that name, of another type.
    """

    def __init__(
        self,
        charm: CharmBase,
        services: Union[str, Service, Sequence[Union[str, Service]]],
        *,
        handle_upgrade_and_remove: bool = True,
    ) -> None:
        given: Sequence[Union[str, Service]] = (
            [services] if isinstance(services, (str, Service)) else services
        )
        self._charm = charm
        self._services: List[Service] = []
        for service in given:
            if isinstance(service, str):
                service = Service(service)
            elif not isinstance(service, Service):  # pyright: ignore[reportUnnecessaryIsInstance]
                raise TypeError(f"expected a Service or a name, found {service!r}")
            else:
                service._check()  # again: its fields may have been changed since it was made
            self._services.append(service)
        super().__init__(charm, _handle_key(charm, self._services))
        kinds = _event_services.setdefault(charm.framework, {})
        for service in self._services:
            _define_event(charm, service.started_event, ServiceStartedEvent)
            _define_event(charm, service.stopped_event, ServiceStoppedEvent)
            kinds[service.started_event] = kinds[service.stopped_event] = service
        self._handles_upgrade_and_remove = handle_upgrade_and_remove
        if handle_upgrade_and_remove:
            # Charms written for the original subscribe in install and do nothing more; the
            # rest of the unit's life is looked after here, so that switching stays one import.
            _lifecycle_owner[charm] = weakref.ref(self)
            self.framework.observe(charm.on.upgrade_charm, self._on_upgrade_charm)
            self.framework.observe(charm.on.remove, self._on_remove)

    @property
    def services(self) -> List[Service]:
        """The services observed, in the order given."""
        return list(self._services)

    def subscribe(self) -> None:
        """Links the hooks, writes and starts the unit's notices daemon; returns once it watches.

        Run again with the same services it changes nothing; with others the daemon restarts.

        Raises:
            ValueError: no services, more than 64, or a unit, alias or event given twice.
            SystemdNoticesError: the binary failed (its message and exit status).
            BinaryNotFoundError: no binary to run.
        """
        _check_services(self._services)
        watches = [f"{service.name}={service.hook_alias}" for service in self._services]
        # "--" so that a name beginning with '-' ("-.mount", the root mount) is not an option.
        self._run("subscribe", "--unit", self._unit_name(), "--charm-dir", self._charm_dir(),
                  "--json", "--", *watches)

    def stop(self) -> None:
        """Stops the unit's notices daemon and disables it (not an error when it is not there).

        A stopped unit stays stopped: renew() (upgrade-charm) leaves it alone.

        Raises:
            SystemdNoticesError: the binary failed (its message and exit status).
            BinaryNotFoundError: no binary to run.
        """
        self._run("stop", "--unit", self._unit_name(), "--json")

    def is_subscribed(self) -> bool:
        """Whether this unit's notices daemon is subscribed: its unit file exists and is enabled.

        Read from the file system (/etc/systemd/system and its *.wants/ folders), so it runs
        nothing. True for a unit the original library subscribed, which used the same name; False
        after stop(), which disables it, and after remove().
        """
        if not self._unit_file().exists():
            return False
        name = self._unit_file().name
        return any(os.path.lexists(str(link))
                   for link in Path(SYSTEM_UNIT_DIRECTORY).glob(f"*.wants/{name}"))

    def renew(self) -> bool:
        """What upgrade-charm does: subscribe() again when is_subscribed(), else nothing.

        The daemon then runs this charm's binary and services (the original library's Python
        daemon is replaced by ours); the binary restarts it only when that changed its unit. A
        unit never subscribed, or stopped by the charm, is left as it is. Returns whether it
        subscribed.

        Raises:
            as subscribe().
        """
        if not self.is_subscribed():
            _logger.debug("%s is not there or not enabled: not subscribed, nothing to renew",
                          self._unit_file())
            return False
        if self._skipped("renew"):
            return False
        _logger.info("%s is enabled: subscribing again", self._unit_file())
        self.subscribe()
        return True

    def remove(self) -> bool:
        """Removes the unit's notices daemon: stops and disables it, deletes its unit file, has
        systemd reload, and deletes the daemon's state file for this unit.

        Without the unit file (ours or the original's) it runs nothing and returns False. With
        it and no binary, it does what it can with systemctl (disable --now, the file deleted,
        daemon-reload) and logs so; the state file then stays. The hooks/service-* links stay:
        they go with the charm dir. Returns True when there was a unit to remove.

        Raises:
            SystemdNoticesError: the binary (or systemctl) failed; the message says what to run
                by hand.
        """
        unit_file = self._unit_file()
        if not unit_file.exists():
            _logger.debug("no %s: nothing to remove", unit_file)
            return False
        if self._skipped("remove"):
            return False
        try:
            binary = self._binary("remove")
        except BinaryNotFoundError as error:
            _logger.warning("%s; removing %s with systemctl instead", error, unit_file.name)
            self._remove_with_systemctl(unit_file)
            return True
        self._run_binary(binary, "remove", "--unit", self._unit_name(), "--json")
        return True

    def status(self) -> NoticesStatus:
        """What the unit's notices daemon watches, each unit's state now, what was delivered.

        Under a test harness: an empty NoticesStatus (daemon "inactive", no watches).

        Raises:
            SystemdNoticesError: the binary failed (e.g. exit status 1, not subscribed), or
                printed something that is not its status JSON.
            BinaryNotFoundError: no binary to run.
        """
        if self._skipped("status"):
            return NoticesStatus(self._unit_name(), self._unit_file().name, "inactive", False, ())
        command, stdout = self._run("status", "--unit", self._unit_name(), "--json")
        return _parse_status(stdout, command)

    def _handles_this_hook(self) -> bool:
        """Whether this object is the one that handles upgrade-charm and remove for its charm."""
        owner = _lifecycle_owner.get(self._charm)
        return owner is not None and owner() is self

    def _on_upgrade_charm(self, _: UpgradeCharmEvent) -> None:
        """renew(); a failure is logged at error with what to run by hand, never raised."""
        if not self._handles_this_hook():
            return
        try:
            self.renew()
        except Exception as error:  # never fail a hook the charm did not ask us to handle
            _logger.error(
                "upgrade-charm: renewing %s failed, so its daemon may still run the old charm's "
                "binary or services: %s. Once the cause is fixed, run by hand: %s",
                self._unit_file().name, error, self._by_hand("subscribe"))

    def _on_remove(self, _: RemoveEvent) -> None:
        """remove(); a failure is logged at error with what to run by hand, never raised."""
        if not self._handles_this_hook():
            return
        try:
            self.remove()
        except Exception as error:  # never fail a hook the charm did not ask us to handle
            _logger.error(
                "remove: removing %s failed: %s. Run by hand: %s (any copy of the binary), or "
                "systemctl disable --now %s; rm %s; systemctl daemon-reload", self._unit_file().name,
                error, self._by_hand("remove"), self._unit_file().name, self._unit_file())

    def _by_hand(self, subcommand: str) -> str:
        """The command line for `subcommand` that a person can paste."""
        if subcommand == "subscribe":
            watches = [f"{service.name}={service.hook_alias}" for service in self._services]
            args = ["--unit", self._unit_name(), "--charm-dir", self._charm_dir(), "--", *watches]
        else:
            args = ["--unit", self._unit_name()]
        return " ".join(shlex.quote(word) for word in [BINARY, subcommand, *args])

    def _skipped(self, what: str) -> bool:
        """True, logged, when under a test harness, where nothing is run."""
        if not _under_test_harness(self.model):
            return False
        _logger.debug("%s: under a test harness (%s): running nothing", what,
                      type(getattr(self.model, "_backend", None)).__name__)
        return True

    def _remove_with_systemctl(self, unit_file: Path) -> None:
        """remove() without the binary: systemctl disable --now, the file, daemon-reload."""
        failures: List[str] = []
        self._systemctl(["disable", "--now", unit_file.name], failures)
        try:
            unit_file.unlink()
        except FileNotFoundError:
            pass
        except OSError as error:
            failures.append(f"deleting {unit_file}: {error}")
        self._systemctl(["daemon-reload"], failures)
        if failures:
            raise SystemdNoticesError("; ".join(failures), returncode=1,
                                      command=["systemctl", "disable", "--now", unit_file.name])
        _logger.warning("removed %s with systemctl; the daemon's state file for %s in "
                        "/var/lib/juju-systemd-notices/ stays", unit_file.name, self._unit_name())

    def _systemctl(self, args: List[str], failures: List[str]) -> None:
        command = ["systemctl", *args]
        try:
            result = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, errors="replace",
                                    timeout=SYSTEMCTL_TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            failures.append(f"{' '.join(command)} did not finish in "
                            f"{SYSTEMCTL_TIMEOUT_SECONDS} s (timed out)")
            return
        except OSError as error:
            failures.append(f"cannot run {' '.join(command)}: {error}")
            return
        if result.returncode != 0:
            failures.append(f"{' '.join(command)} exited {result.returncode}: "
                            f"{result.stdout.strip()}")

    def _unit_name(self) -> str:
        return self._charm.model.unit.name

    def _unit_file(self) -> Path:
        """The notices unit's file, as the binary and the original library name it."""
        name = f"juju-{self._unit_name().replace('/', '-')}-systemd-notices.service"
        return Path(SYSTEM_UNIT_DIRECTORY) / name

    def _charm_dir(self) -> str:
        return os.path.abspath(str(self._charm.charm_dir))

    def _binary(self, *args: str) -> str:
        """The binary to run with `args`: the package's, else the charm's bin/, else on PATH."""
        places: List[str] = []
        package_dir = _package_directory()
        if package_dir is None:
            places.append(f"in the Python package {PACKAGE} (not installed)")
        else:
            packaged = package_dir / "bin" / BINARY
            if _is_executable(packaged):
                return str(packaged)
            places.append(f"at {packaged} (the Python package {PACKAGE})")
        bundled = Path(self._charm_dir()) / "bin" / BINARY
        if _is_executable(bundled):
            return str(bundled)
        places.append(f"at {bundled} (the charm's bin/)")
        found = shutil.which(BINARY)
        if found is not None:
            return found
        places.append(f"on PATH ({os.environ.get('PATH', os.defpath)})")
        raise BinaryNotFoundError(
            f"expected an executable {BINARY} {', '.join(places[:-1])} or {places[-1]}, "
            f"found none",
            returncode=NOT_FOUND_STATUS,
            command=[BINARY, *args],
        )

    def _run(self, *args: str) -> Tuple[List[str], str]:
        """Runs the binary with `args` (nothing under a test harness); the command and stdout."""
        if self._skipped(args[0]):
            return [BINARY, *args], ""
        try:
            binary = self._binary(*args)
        except BinaryNotFoundError as error:
            _logger.error("%s", error)
            raise
        return self._run_binary(binary, *args)

    def _run_binary(self, binary: str, *args: str) -> Tuple[List[str], str]:
        """Runs `binary` with `args`; returns the command and its stdout, or raises, logged."""
        command = [binary, *args]
        timeout = STATUS_TIMEOUT_SECONDS if args[0] == "status" else CHANGE_TIMEOUT_SECONDS
        _logger.debug("running %s", command)
        try:
            result = subprocess.run(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True, errors="replace", timeout=timeout, check=False,
            )
        except subprocess.TimeoutExpired as expired:
            error = SystemdNoticesError(
                f"{BINARY} {args[0]} did not finish in {timeout} s and was killed (timed out); "
                f"systemd may still be running its job: see systemctl status {self._unit_file().name}",
                returncode=TIMED_OUT_STATUS, command=command,
                stderr=_text(expired.stderr), output=_text(expired.output),
            )
            _logger.error("%s", error)
            raise error from None
        except OSError as os_error:
            error = SystemdNoticesError(f"cannot run {binary}: {os_error}",
                                        returncode=CANNOT_RUN_STATUS, command=command)
            _logger.error("%s", error)
            raise error from os_error
        if result.returncode != 0:
            details = _binary_error(result.stderr)
            if details is not None:
                message = f"{BINARY} {args[0]}: {details.get('doing', '')}: {details['message']}"
            else:
                # No --json line: killed, or a binary older than --json. Its text, as it is.
                lines = [line for line in result.stderr.splitlines()
                         if line.strip() and not line.startswith("Try '")]
                message = "; ".join(lines) if lines else f"{BINARY} {args[0]} said nothing"
            error = SystemdNoticesError(
                f"{message} (exit status {result.returncode})",
                returncode=result.returncode,
                stderr=result.stderr,
                command=command,
                output=result.stdout,
                error=details.get("error") if details else None,
                dbus_error=(details.get("dbus_error") or None) if details else None,
            )
            _logger.error("%s", error)
            raise error
        if result.stdout.strip() and args[0] != "status":
            _logger.info("%s", result.stdout.strip())
        return command, result.stdout


def _text(data: Union[str, bytes, None]) -> str:
    """What a TimeoutExpired caught of a stream, as text."""
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode(errors="replace")
