# Copyright 2026 the juju-systemd-notices authors.
# Licensed under the Apache License, Version 2.0.

"""Observe systemd services from a machine charm: juju-systemd-notices, driven from ops.

The API of `charms.operator_libs_linux.v0.juju_systemd_notices`, over the static
`juju-systemd-notices` binary instead of a Python daemon: a charm switching to it changes one
import line. The binary does the work. `subscribe()` runs `juju-systemd-notices subscribe`,
which links `hooks/service-ALIAS-started` and `-stopped` to `dispatch`, writes
`/etc/systemd/system/juju-<unit, / as ->-systemd-notices.service` and has systemd start it
(over D-Bus; it returns once the daemon watches); `stop()` stops and disables that unit. The
daemon runs `juju-exec <unit> hooks/service-ALIAS-started` (or `-stopped`) on each real
transition, which ops emits as `service_ALIAS_started` (`-` in ALIAS becomes `_`).

The binary is looked up, in this order, as `bin/juju-systemd-notices` in the installed Python
package `juju_systemd_notices` (the platform wheel carries it; `charmcraft pack` installs it into
the charm's `venv/`), as `<charm_dir>/bin/juju-systemd-notices` (where the charmcraft part that
builds it from source installs it), then as `juju-systemd-notices` on `PATH`.

## Getting it into a charm

Either list the package in the charm's `requirements.txt`:

    juju-systemd-notices >= 0.3, < 1

(0.3 is the first release as a package; 1 would be a new API, LIBAPI 1), or fetch this library from Charmhub, whose file names the package in `PYDEPS`, so `charmcraft
pack` installs it all the same:

    charmcraft fetch-lib charms.juju_systemd_notices.v0.juju_systemd_notices

Then import it from either path: `from juju_systemd_notices import SystemdNotices` (the
package) or `from charms.juju_systemd_notices.v0.juju_systemd_notices import SystemdNotices`
(the fetched file). Nothing else: no build part, no binary to copy.

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

## What it does on upgrade-charm and remove

`SystemdNotices` observes these two events of the charm itself, so a charm that subscribes in
`install` and stops in `stop` needs nothing more:

- **upgrade-charm**: when this unit has a notices unit (the file
  `/etc/systemd/system/juju-<unit, / as ->-systemd-notices.service` exists, written by this
  library or by the original, which used the same name), it calls `subscribe()` again with the
  current services, so the daemon runs the new charm's binary and watch list (the binary
  restarts it only when that changed the unit). Without that file it does nothing. A refresh
  is thus all it takes to move a deployed unit from the original library to this one.
- **remove**: it calls `remove()`, which runs `juju-systemd-notices remove --unit <unit>`: the
  daemon is stopped and disabled, its unit file deleted, systemd reloaded, and the daemon's
  state file for the unit deleted (the hook links go with the charm dir). A failure is logged
  and fails the hook, where Juju shows it to the operator.

A charm that also calls `subscribe()` in its own `upgrade-charm` handler, or `stop()` in
`remove`, keeps working in either order: a second `subscribe` with the same services changes
nothing, and stopping a unit that is gone is not an error.

## Status

`status()` (not in the original) reads back what the daemon watches, e.g. for an action:

```python
status = self._systemd_notices.status()
event.set_results({w.alias: f"{w.active_state}, delivered {w.delivered}" for w in status.watches})
```

## Errors

Names are checked by the binary's rules when a `Service` or `SystemdNotices` is made
(`ValueError` saying what was expected and what was found), so a bad name fails in
`__init__`, in every hook, rather than in `install` only. Failures of the binary raise
`SystemdNoticesError` with its message (systemd's refusals carry their D-Bus error name) and
exit status. It is a `subprocess.CalledProcessError` (`returncode`, `cmd`, `output`,
`stderr`), what the original raised when `systemctl` failed, so a charm's
`except subprocess.CalledProcessError` still catches it.

One daemon runs per Juju unit, with one watch list: `subscribe()` replaces the list with this
object's services, so a charm keeps all its services in one `SystemdNotices`.

## Unit tests of a charm that uses it

Under ops's `Harness` nothing here needs the binary but `subscribe()`, `stop()`, `remove()` and
`status()`: patch those, at this module's path, where a test emits the events that call them.
`upgrade-charm` does nothing without the notices unit file, and `remove` does nothing when there
is neither a binary nor that file, as on a developer's machine.

```python
from unittest.mock import patch

@patch("charms.juju_systemd_notices.v0.juju_systemd_notices.SystemdNotices.subscribe")
def test_install_subscribes(self, subscribe):
    self.harness.charm.on.install.emit()
    subscribe.assert_called_once_with()

def test_slurmd_started_sets_active(self):
    self.harness.charm.on.service_slurmd_started.emit()
    self.assertEqual(self.harness.charm.unit.status, ActiveStatus())
```
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import shutil
import subprocess
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Type, Union

from ops.charm import CharmBase, RemoveEvent, UpgradeCharmEvent
from ops.framework import EventBase, EventSource, Object

# The version of this module, of the binary the package carries and of the Charmhub library
# (LIBAPI.LIBPATCH are its MAJOR.MINOR): tools/charm-lib writes it from the file VERSION, the one
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
# original library did under the same name. upgrade-charm looks there to learn whether this unit
# subscribed; a module value so that tests can point it at a directory of their own.
SYSTEM_UNIT_DIRECTORY = Path("/etc/systemd/system")

# The binary's limits (include/jsn/options.h, include/jsn/unit_path.h): they are its command
# line's, stated in its --help.
MAX_SERVICES = 64
MAX_UNIT_NAME_BYTES = 255
MAX_ALIAS_BYTES = 128

# systemd's unit types (unit_type_table in systemd's src/basic/unit-def.c), as src/options.cc.
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
# How systemd names its refusals in the binary's messages (org.freedesktop.DBus.Error.*,
# org.freedesktop.systemd1.*).
_DBUS_ERROR_NAME = re.compile(r"\borg\.freedesktop(?:\.[A-Za-z_][A-Za-z0-9_]*)+")


def _has_unit_type(name: str) -> bool:
    """Whether `name` ends in .TYPE for a systemd unit type (the binary's HasUnitTypeSuffix)."""
    dot = name.rfind(".")
    return dot > 0 and name[dot + 1 :] in _UNIT_TYPES


def _shown(text: str) -> str:
    """`text` quoted for a message, cut at 60 characters as the binary cuts it."""
    return repr(text) if len(text) <= 60 else repr(text[:60]) + "..."


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


def _unit_for(name: str) -> str:
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


def _check_alias(alias: str, name: str, given: bool) -> None:
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
            (service_ALIAS_started, with "-" as "_"); by default the name without ".service".

    Raises:
        ValueError: the name or the alias is one the binary refuses, or the alias cannot name
            an ops event.
    """

    name: str
    alias: Optional[str] = None

    def __post_init__(self) -> None:
        self._check()

    def _check(self) -> None:
        _unit_for(self.name)
        if self.alias is None:
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
        return self.alias if self.alias is not None else _default_alias(self.name)

    @property
    def started_event(self) -> str:
        """The name of the event on charm.on when the service starts, e.g. service_slurmd_started."""
        return f"service_{self.hook_alias.replace('-', '_')}_started"

    @property
    def stopped_event(self) -> str:
        """The name of the event on charm.on when the service stops."""
        return f"service_{self.hook_alias.replace('-', '_')}_stopped"


class ServiceStartedEvent(EventBase):
    """Event emitted when a service has started (its ActiveState became active)."""


class ServiceStoppedEvent(EventBase):
    """Event emitted when a service has stopped (it settled in any state but active)."""


class SystemdNoticesError(subprocess.CalledProcessError):
    """The binary failed. str() is its message; systemd's refusals name their D-Bus error.

    A subprocess.CalledProcessError, as the original library raised when systemctl failed, so a
    charm's `except subprocess.CalledProcessError` catches it as before.

    Attributes:
        message: what went wrong: the binary's message from stderr, or why it could not run.
        returncode: the binary's exit status (1: systemd or the file system said no, 2: bad
            input, nothing written; negative: killed by that signal), None when it did not run.
        stderr: everything the binary wrote on stderr.
        output: everything it wrote on stdout (also as stdout).
        command: the command line run (also as cmd).
    """

    def __init__(
        self,
        message: str,
        returncode: Optional[int] = None,
        stderr: str = "",
        command: Sequence[str] = (),
        output: str = "",
    ) -> None:
        super().__init__(returncode, list(command), output, stderr)  # type: ignore[arg-type]
        # CalledProcessError leaves args alone; the message alone, as before it was one.
        self.args = (message,)
        self.message = message
        self.command = list(command)

    def __str__(self) -> str:
        # CalledProcessError's would be "Command [...] returned non-zero exit status N."; the
        # binary's message says what it expected and what it found, and already ends in that.
        return self.message

    @property
    def dbus_error(self) -> Optional[str]:
        """The D-Bus error name systemd answered with, e.g. org.freedesktop.DBus.Error.AccessDenied."""
        match = _DBUS_ERROR_NAME.search(self.stderr or "")
        return match.group(0) if match else None


class BinaryNotFoundError(SystemdNoticesError):
    """No binary to run: not in the juju_systemd_notices package, the charm's bin/ or on PATH.

    Its returncode is None: nothing ran.
    """


class WatchStatus(NamedTuple):
    """One watched unit, as `status --json` reports it."""

    alias: str  # the hooks' alias
    unit: str  # the systemd unit, e.g. "slurmd.service"
    active_state: str  # its ActiveState now, asked of systemd: "active", "inactive", "failed", ...
    delivered: str  # the hook last delivered: "started", "stopped", "none", "unknown" (no state file)
    pending: str  # "none", "pending" (due or running), "failing" (retrying), "unknown"
    pending_hook: str  # the hook pending or failing: "started", "stopped", "none", "unknown"


class NoticesStatus(NamedTuple):
    """What the notices daemon of this unit watches, as `status --json` reports it."""

    juju_unit: str  # "app/0"
    daemon_unit: str  # "juju-app-0-systemd-notices.service"
    daemon_active_state: str  # the daemon's own ActiveState
    state_file: bool  # whether the daemon's state file was read (else delivered is "unknown")
    watches: Tuple[WatchStatus, ...]


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
        data = json.loads(text)
    except ValueError:
        raise fail("a JSON object") from None
    top_fields = {"juju_unit": str, "daemon_unit": str, "daemon_active_state": str,
                  "state_file": bool, "watches": list}
    if not isinstance(data, dict) or any(
        not isinstance(data.get(key), kind) for key, kind in top_fields.items()
    ):
        raise fail("an object with " + ", ".join(top_fields))
    watches = []
    for watch in data["watches"]:
        if not isinstance(watch, dict) or any(
            not isinstance(watch.get(key), str) for key in WatchStatus._fields
        ):
            raise fail("watches with " + ", ".join(WatchStatus._fields))
        watches.append(WatchStatus(**{key: watch[key] for key in WatchStatus._fields}))
    return NoticesStatus(
        juju_unit=data["juju_unit"],
        daemon_unit=data["daemon_unit"],
        daemon_active_state=data["daemon_active_state"],
        state_file=data["state_file"],
        watches=tuple(watches),
    )


def _package_directory() -> Optional[Path]:
    """Where the installed package juju_systemd_notices is, or None when it is not.

    Found without importing it, by its name, so this module and a copy of it fetched from
    Charmhub (charms.juju_systemd_notices.v0.juju_systemd_notices) find the same package.
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
        raise ValueError("expected at least one service to observe, found none")
    if len(services) > MAX_SERVICES:
        raise ValueError(f"expected at most {MAX_SERVICES} services, found {len(services)}")
    units = {}
    aliases = {}
    events = {}
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


def _handle_key(charm: object, services: Sequence[Service]) -> str:
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
    return base if taken[base] == 1 else f"{base}#{taken[base]}"


class SystemdNotices(Object):
    """Observe systemd services on the machine: events on the charm, the daemon to emit them.

    An ops Object that observes the charm's upgrade-charm and remove events itself: on
    upgrade-charm it subscribes again when this unit has a notices unit (its file exists), on
    remove it runs remove(). Keep it on the charm (self._systemd_notices = ...) as ops needs of
    any observer.

    Args:
        charm: the charm; service_ALIAS_started and _stopped are defined on charm.on.
        services: the services to observe, as Service objects or names (a single one may be
            given alone).

    Raises:
        ValueError: a name or alias the binary refuses or ops cannot name an event after, a
            unit or alias given twice, none or more than 64 services.
        RuntimeError: the charm already has an event of that name, of another type.
    """

    def __init__(
        self,
        charm: CharmBase,
        services: Union[str, Service, Sequence[Union[str, Service]]],
    ) -> None:
        if isinstance(services, (str, Service)):
            services = [services]
        self._charm = charm
        self._services: List[Service] = []
        for service in services:
            if isinstance(service, str):
                service = Service(service)
            elif not isinstance(service, Service):
                raise TypeError(f"expected a Service or a name, found {service!r}")
            self._services.append(service)
        _check_services(self._services)
        super().__init__(charm, _handle_key(charm, self._services))
        for service in self._services:
            _define_event(charm, service.started_event, ServiceStartedEvent)
            _define_event(charm, service.stopped_event, ServiceStoppedEvent)
        # Charms written for the original subscribe in install and do nothing more; the rest of
        # the unit's life is looked after here, so that switching stays one import line.
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
            SystemdNoticesError: the binary failed (its message and exit status).
            BinaryNotFoundError: no binary to run.
        """
        _check_services(self._services)
        watches = [f"{service.name}={service.hook_alias}" for service in self._services]
        # "--" so that a name beginning with '-' ("-.mount", the root mount) is not an option.
        self._run("subscribe", "--unit", self._unit_name(), "--charm-dir", self._charm_dir(),
                  "--", *watches)

    def stop(self) -> None:
        """Stops the unit's notices daemon and disables it (not an error when it is not there).

        Raises:
            SystemdNoticesError: the binary failed (its message and exit status).
            BinaryNotFoundError: no binary to run.
        """
        self._run("stop", "--unit", self._unit_name())

    def remove(self) -> None:
        """Removes the unit's notices daemon: stops and disables it, deletes its unit file, has
        systemd reload, and deletes the daemon's state file for this unit.

        The library runs it on the charm's remove event. The hooks/service-* links stay: they go
        with the charm dir. Not an error when nothing is there.

        Raises:
            SystemdNoticesError: the binary failed (its message and exit status).
            BinaryNotFoundError: no binary to run.
        """
        self._run("remove", "--unit", self._unit_name())

    def status(self) -> NoticesStatus:
        """What the unit's notices daemon watches, each unit's state now, what was delivered.

        Raises:
            SystemdNoticesError: the binary failed (e.g. exit status 1, not subscribed), or
                printed something that is not its status JSON.
            BinaryNotFoundError: no binary to run.
        """
        command, stdout = self._run("status", "--unit", self._unit_name(), "--json")
        return _parse_status(stdout, command)

    def _on_upgrade_charm(self, _: UpgradeCharmEvent) -> None:
        """Subscribes again when this unit has a notices unit: ours, or the original's."""
        unit_file = self._unit_file()
        if not unit_file.exists():
            _logger.debug("upgrade-charm: no %s: not subscribed, nothing to renew", unit_file)
            return
        # The unit names the old charm's daemon and watch list: the original library's Python
        # daemon (gone from the new charm when it switched to us) or our binary. subscribe
        # rewrites it for this charm's binary and services, and restarts the daemon when that
        # changed it; with nothing changed it is a no-op.
        _logger.info("upgrade-charm: %s exists, subscribing again", unit_file)
        try:
            self.subscribe()
        except SystemdNoticesError as error:
            _logger.error("upgrade-charm: subscribing again failed: %s", error)
            raise

    def _on_remove(self, _: RemoveEvent) -> None:
        """Removes the notices daemon; a failure fails the hook, which Juju shows the operator."""
        try:
            self.remove()
        except BinaryNotFoundError as error:
            if not self._unit_file().exists():
                # Without the binary nothing of ours ran here, and there is no unit of the
                # original's either (a charm's unit tests, or a charm that never subscribed).
                _logger.debug("remove: no %s to run and no %s: nothing to remove", BINARY,
                              self._unit_file())
                return
            _logger.error("remove: cannot remove %s: %s", self._unit_file().name, error)
            raise
        except SystemdNoticesError as error:
            _logger.error("remove: removing %s failed: %s", self._unit_file().name, error)
            raise

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
        places = []
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
            command=[BINARY, *args],
        )

    def _run(self, *args: str) -> Tuple[List[str], str]:
        """Runs the binary with `args`; returns the command and its stdout, or raises."""
        command = [self._binary(*args), *args]
        _logger.debug("running %s", command)
        try:
            result = subprocess.run(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                universal_newlines=True, errors="replace", check=False,
            )
        except OSError as error:
            raise SystemdNoticesError(f"cannot run {command[0]}: {error}", command=command) from error
        if result.returncode != 0:
            # The binary's message, without its "Try '... --help'" pointer.
            lines = [line for line in result.stderr.splitlines()
                     if line.strip() and not line.startswith("Try '")]
            message = "; ".join(lines) if lines else f"{BINARY} {args[0]} said nothing"
            raise SystemdNoticesError(
                f"{message} (exit status {result.returncode})",
                returncode=result.returncode,
                stderr=result.stderr,
                command=command,
                output=result.stdout,
            )
        if result.stdout.strip() and args[0] != "status":
            _logger.info("%s", result.stdout.strip())
        return command, result.stdout
