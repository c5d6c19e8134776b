#!/usr/bin/python3
"""A fake systemd manager on a D-Bus bus, for tests of what real systemd will not do on demand.

usage: tests/support/fake_systemd.py --address ADDRESS [--unit NAME=ACTIVE[/SUB]]...
                                     [--emit-unsubscribed] [--help]

An implementation independent of ours (dbus-python with a GLib main loop). It owns
org.freedesktop.systemd1 on ADDRESS and serves:
  /org/freedesktop/systemd1   org.freedesktop.systemd1.Manager: Subscribe(), Unsubscribe()
                              (errors ...AlreadySubscribed / ...NotSubscribed, as systemd),
                              GetUnit(s) -> o, LoadUnit(s) -> o
  /org/freedesktop/systemd1/unit/<bus-label-escaped name>
                              org.freedesktop.DBus.Properties Get/GetAll of
                              org.freedesktop.systemd1.Unit: Id, ActiveState, SubState, LoadState,
                              NeedDaemonReload (always false).
                              Any name resolves, as in systemd: one never set is inactive/dead
                              and not-found.
  Charm side (the `subscribe`, `stop` and `status` subcommands): Reload(),
                              EnableUnitFiles(asbb), DisableUnitFiles(asb), and StartUnit,
                              StopUnit, RestartUnit(ss) -> job path, then JobRemoved(uoss)
                              with the result set by `job-result` ("done" unless set; a done
                              start or restart makes the unit active, a done stop inactive).
Like real systemd it emits unit signals only while some client is subscribed (a subscriber
that disconnects is dropped); --emit-unsubscribed emits them regardless. --unit sets a unit's
initial state (and makes it loaded) without a signal.

Control: one command a line on stdin, one reply line on stdout (errors: "error MESSAGE").
Signals a command emits have been written to the bus before its reply is printed.
  set UNIT ACTIVE [SUB]          new state; PropertiesChanged with ActiveState/SubState in the
                                 changed dict                     -> "ok emitted N"
  invalidate UNIT ACTIVE [SUB]   new state; PropertiesChanged with an empty dict and
                                 ActiveState/SubState in the invalidated list -> "ok emitted N"
  sequence UNIT ACTIVE...        one changed-dict signal per state, back to back -> "ok emitted N"
  set-silently UNIT ACTIVE       new state with no signal (a lost one: only a re-read sees it) -> "ok"
  spoof UNIT ACTIVE              a PropertiesChanged for UNIT in the changed-dict shape sent
                                 from another connection, which does not own the name, with
                                 the state unchanged                -> "ok spoofed BY-UNIQUE-NAME"
  replace-owner [keep|leave]      hands org.freedesktop.systemd1 to a new connection (a new
                                 unique name, as after daemon-reexec); the old connection
                                 stays open, unless "leave": then it disconnects, and the Gets
                                 it holds are never answered (the bus answers each caller
                                 NoReply, as for a call in flight at a daemon-reexec). Drops
                                 every subscription unless "keep" (real systemd keeps them
                                 across a reexec; dropping them shows whether a client
                                 subscribes again)               -> "ok owner NEW-UNIQUE-NAME"
  alias NAME UNIT                NAME is another name of UNIT from now on (as a symlinked unit
                                 file): Get on NAME's path answers UNIT's properties (its Id
                                 is UNIT), and UNIT's signals come on UNIT's path only -> "ok"
  state UNIT                     -> "state UNIT ACTIVE SUB LOADSTATE"
  subscribers                    -> "subscribers CURRENT SUBSCRIBE-CALLS UNSUBSCRIBE-CALLS"
  gets UNIT                      -> "gets UNIT N" (Properties.Get/GetAll calls on that unit)
  hold-gets                      Properties.Get calls are answered only at release-gets (each
                                 with the value it had when it arrived) -> "ok"
  held                           -> "ok held N" (Get calls held now)
  forge-get-reply UNIT ACTIVE    answers the first held Get for UNIT from the other connection
                                 of `spoof` (a reply with the right serial and the wrong
                                 sender; the test bus lets unrequested replies through); the
                                 Get stays held                    -> "ok forged BY-UNIQUE-NAME"
  release-gets                   answers every held Get and stops holding -> "ok released N"
  job-result UNIT RESULT         the next jobs on UNIT end with RESULT (done, failed, ...) -> "ok"
  forge-jobs UNIT RESULT         for the next jobs on UNIT, the other connection of `spoof`
                                 first answers the call (a reply with the right serial and a
                                 job path of its own), then sends the caller a unicast
                                 JobRemoved for the real job with RESULT; the real reply and
                                 JobRemoved follow                 -> "ok"
  forge-jobs UNIT RESULT late    the same JobRemoved, sent after the real reply (while the
                                 caller waits for the job), then the real JobRemoved -> "ok"
  deny METHOD                    Manager.METHOD answers org.freedesktop.DBus.Error.AccessDenied
                                                                  -> "ok"
  calls                          -> "ok calls METHOD:ARG,ARG METHOD..." (charm-side calls, in order)
  ping                           -> "pong"
  quit                           -> "bye", then exit 0 (also on end of stdin)
Ready line, once it owns the name: "ready UNIQUE-NAME".
"""
import os
import sys

import dbus
import dbus.lowlevel
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

BUS_NAME = "org.freedesktop.systemd1"
MANAGER_PATH = "/org/freedesktop/systemd1"
MANAGER_INTERFACE = "org.freedesktop.systemd1.Manager"
UNIT_PREFIX = "/org/freedesktop/systemd1/unit"
UNIT_INTERFACE = "org.freedesktop.systemd1.Unit"
PROPERTIES = "org.freedesktop.DBus.Properties"


def bus_label_escape(name):
    """systemd's bus_label_escape: [A-Za-z0-9] as is (not a leading digit), else _xx."""
    if not name:
        return "_"
    out = []
    for i, byte in enumerate(name.encode("utf-8")):
        char = chr(byte)
        if (char.isascii() and char.isalpha()) or (char.isdigit() and i > 0):
            out.append(char)
        else:
            out.append("_%02x" % byte)
    return "".join(out)


def bus_label_unescape(label):
    if label == "_":
        return ""
    raw = bytearray()
    i = 0
    while i < len(label):
        if label[i] == "_" and len(label) - i >= 3:
            raw.append(int(label[i + 1:i + 3], 16))
            i += 3
        else:
            raw.append(ord(label[i]))
            i += 1
    return raw.decode("utf-8", "surrogateescape")


def unit_path(name):
    return UNIT_PREFIX + "/" + bus_label_escape(name)


class Error(dbus.DBusException):
    def __init__(self, name, message):
        super().__init__(message)
        self._dbus_error_name = name


class Unit:
    def __init__(self, name):
        self.name = name
        self.active = "inactive"
        self.sub = "dead"
        self.load = "not-found"
        self.gets = 0

    def properties(self):
        return {
            "Id": dbus.String(self.name),
            "ActiveState": dbus.String(self.active),
            "SubState": dbus.String(self.sub),
            "LoadState": dbus.String(self.load),
            "NeedDaemonReload": dbus.Boolean(False),
        }


class Fake:
    def __init__(self, address, emit_unsubscribed):
        self.address = address
        self.emit_unsubscribed = emit_unsubscribed
        self.units = {}
        self.aliases = {}
        self.subscribers = set()
        self.subscribe_calls = 0
        self.unsubscribe_calls = 0
        self.connection = None
        self.exported = []
        self.retired = []  # earlier owners' connections, kept open
        self.spoofer = None
        self.hold_gets = False
        # (unit name, the call, its reply callback, the value, the owner's connection), in order
        self.held = []
        # Charm side: job outcomes, refused methods, and the calls seen.
        self.job_results = {}
        self.forged_jobs = {}
        self.denied = set()
        self.manager_calls = []
        self.next_job = 1

    def unit(self, name):
        name = self.aliases.get(name, name)
        if name not in self.units:
            self.units[name] = Unit(name)
        return self.units[name]

    def take_name(self):
        """Connects anew and makes the new connection the owner of BUS_NAME."""
        connection = dbus.bus.BusConnection(self.address)
        connection.add_signal_receiver(
            self.name_owner_changed, "NameOwnerChanged", "org.freedesktop.DBus",
            "org.freedesktop.DBus", "/org/freedesktop/DBus")
        manager = Manager(connection, self)
        units = Units(connection, self)
        previous = self.connection
        # Queue behind the old owner, then let it go: the name passes straight to us.
        result = connection.request_name(BUS_NAME, 0)
        if previous is not None:
            previous.release_name(BUS_NAME)
            for exported in self.exported:
                exported.remove_from_connection()
            self.retired.append(previous)
        elif result != dbus.bus.REQUEST_NAME_REPLY_PRIMARY_OWNER:
            raise SystemExit("fake_systemd: %s is already owned on %s" % (BUS_NAME, self.address))
        if connection.get_name_owner(BUS_NAME) != connection.get_unique_name():
            raise SystemExit("fake_systemd: did not get %s" % BUS_NAME)
        self.connection = connection
        self.exported = [manager, units]
        self.subscribers.clear()
        return connection.get_unique_name()

    def name_owner_changed(self, name, old, new):
        if name.startswith(":") and not new:
            self.subscribers.discard(name)

    def subscribed(self):
        return self.emit_unsubscribed or bool(self.subscribers)

    def properties_changed(self, unit, changed, invalidated, connection=None):
        message = dbus.lowlevel.SignalMessage(unit_path(unit.name), PROPERTIES, "PropertiesChanged")
        message.append(UNIT_INTERFACE, dbus.Dictionary(changed, signature="sv"),
                       dbus.Array(invalidated, signature="s"), signature="sa{sv}as")
        (connection or self.connection).send_message(message)

    def set_state(self, name, active, sub, shape):
        unit = self.unit(name)
        unit.active, unit.load = active, "loaded"
        unit.sub = sub if sub is not None else {"active": "running", "failed": "failed"}.get(
            active, "dead" if active == "inactive" else active)
        if not self.subscribed():
            return 0
        if shape == "changed":
            self.properties_changed(unit, {"ActiveState": dbus.String(unit.active),
                                           "SubState": dbus.String(unit.sub)}, [])
        else:
            self.properties_changed(unit, {}, ["ActiveState", "SubState"])
        return 1

    def command(self, words):
        if not words:
            return "error empty command"
        verb, args = words[0], words[1:]
        if verb in ("set", "invalidate") and len(args) in (2, 3):
            sub = args[2] if len(args) == 3 else None
            emitted = self.set_state(args[0], args[1], sub,
                                     "changed" if verb == "set" else "invalidated")
            return self.flushed("ok emitted %d" % emitted)
        if verb == "set-silently" and len(args) == 2:
            # A change systemd made but whose signal was lost: only a re-read can see it.
            unit = self.unit(args[0])
            unit.active, unit.load = args[1], "loaded"
            return "ok"
        if verb == "sequence" and len(args) >= 2:
            emitted = sum(self.set_state(args[0], state, None, "changed") for state in args[1:])
            return self.flushed("ok emitted %d" % emitted)
        if verb == "spoof" and len(args) == 2:
            spoofer = self.stranger()
            unit = self.unit(args[0])
            self.properties_changed(unit, {"ActiveState": dbus.String(args[1])}, [], spoofer)
            spoofer.flush()
            return "ok spoofed %s" % spoofer.get_unique_name()
        if verb == "hold-gets" and not args:
            self.hold_gets = True
            return "ok"
        if verb == "held" and not args:
            return "ok held %d" % len(self.held)
        if verb == "forge-get-reply" and len(args) == 2:
            calls = [call for name, call, _, _, _ in self.held if name == args[0]]
            if not calls:
                return "error no Get for %s is held" % args[0]
            spoofer = self.stranger()
            forged = dbus.lowlevel.MethodReturnMessage(calls[0])  # its serial, to its sender
            forged.append(dbus.String(args[1]), signature="v")
            spoofer.send_message(forged)
            spoofer.flush()
            return "ok forged %s" % spoofer.get_unique_name()
        if verb == "release-gets" and not args:
            held, self.held, self.hold_gets = self.held, [], False
            for _, _, reply, value, _ in held:
                reply(value)
            return self.flushed("ok released %d" % len(held))
        if verb == "replace-owner" and args in ([], ["keep"], ["leave"]):
            kept = set(self.subscribers)
            previous = self.connection
            owner = self.take_name()
            if args == ["keep"]:
                self.subscribers |= kept
            if args == ["leave"]:
                # release_name has returned: the bus announced the new owner before this.
                self.held = [held for held in self.held if held[4] is not previous]
                self.retired.remove(previous)
                previous.close()
            return self.flushed("ok owner %s" % owner)
        if verb == "alias" and len(args) == 2:
            self.aliases[args[0]] = args[1]
            return "ok"
        if verb == "state" and len(args) == 1:
            unit = self.unit(args[0])
            return "state %s %s %s %s" % (unit.name, unit.active, unit.sub, unit.load)
        if verb == "subscribers" and not args:
            return "subscribers %d %d %d" % (len(self.subscribers), self.subscribe_calls,
                                             self.unsubscribe_calls)
        if verb == "gets" and len(args) == 1:
            return "gets %s %d" % (args[0], self.unit(args[0]).gets)
        if verb == "job-result" and len(args) == 2:
            self.job_results[args[0]] = args[1]
            return "ok"
        if verb == "forge-jobs" and len(args) in (2, 3) and args[2:] in ([], ["late"]):
            self.forged_jobs[args[0]] = (args[1], args[2:] == ["late"])
            return "ok"
        if verb == "deny" and len(args) == 1:
            self.denied.add(args[0])
            return "ok"
        if verb == "calls" and not args:
            return " ".join(["ok calls"] + self.manager_calls)
        if verb == "ping" and not args:
            return "pong"
        return "error unknown command or wrong arguments: %s" % " ".join(words)

    def stranger(self):
        """A connection of ours that does not own the name, for spoofs and forgeries."""
        if self.spoofer is None:
            self.spoofer = dbus.bus.BusConnection(self.address)
        return self.spoofer

    def flushed(self, reply):
        self.connection.flush()
        return reply


class Manager(dbus.service.Object):
    def __init__(self, connection, fake):
        super().__init__(connection, MANAGER_PATH)
        self.fake = fake

    @dbus.service.method(MANAGER_INTERFACE, in_signature="", out_signature="",
                         sender_keyword="sender")
    def Subscribe(self, sender=None):
        self.fake.subscribe_calls += 1
        if sender in self.fake.subscribers:
            raise Error("org.freedesktop.systemd1.AlreadySubscribed",
                        "Client is already subscribed.")
        self.fake.subscribers.add(sender)

    @dbus.service.method(MANAGER_INTERFACE, in_signature="", out_signature="",
                         sender_keyword="sender")
    def Unsubscribe(self, sender=None):
        self.fake.unsubscribe_calls += 1
        if sender not in self.fake.subscribers:
            raise Error("org.freedesktop.systemd1.NotSubscribed", "Client is not subscribed.")
        self.fake.subscribers.discard(sender)

    @dbus.service.method(MANAGER_INTERFACE, in_signature="s", out_signature="o")
    def GetUnit(self, name):
        unit = self.fake.units.get(name)
        if unit is None or unit.load != "loaded":
            raise Error("org.freedesktop.systemd1.NoSuchUnit", "Unit %s not loaded." % name)
        return dbus.ObjectPath(unit_path(name))

    @dbus.service.method(MANAGER_INTERFACE, in_signature="s", out_signature="o")
    def LoadUnit(self, name):
        self.fake.unit(name)
        return dbus.ObjectPath(unit_path(name))


    # --- Charm side: the Manager methods `subscribe`, `stop` and `status` call -------------

    def charm_call(self, method, *args):
        self.fake.manager_calls.append(
            "%s:%s" % (method, ",".join(str(a) for a in args)) if args else method)
        if method in self.fake.denied:
            raise Error("org.freedesktop.DBus.Error.AccessDenied",
                        "Access denied to %s (fake)" % method)

    @dbus.service.method(MANAGER_INTERFACE, in_signature="", out_signature="")
    def Reload(self):
        self.charm_call("Reload")

    @dbus.service.method(MANAGER_INTERFACE, in_signature="asbb", out_signature="ba(sss)")
    def EnableUnitFiles(self, files, runtime, force):
        self.charm_call("EnableUnitFiles", *files)
        return (False, dbus.Array([], signature="(sss)"))

    @dbus.service.method(MANAGER_INTERFACE, in_signature="asb", out_signature="a(sss)")
    def DisableUnitFiles(self, files, runtime):
        self.charm_call("DisableUnitFiles", *files)
        return dbus.Array([], signature="(sss)")

    def job(self, method, name, mode, state, message):
        self.charm_call(method, name, mode)
        job_id = self.fake.next_job
        self.fake.next_job += 1
        path = dbus.ObjectPath("%s/job/%d" % (MANAGER_PATH, job_id))
        result = self.fake.job_results.get(name, "done")
        forged, late = self.fake.forged_jobs.get(name, (None, False))
        stranger = self.fake.stranger() if forged is not None else None

        def forge_job_removed():
            signal = dbus.lowlevel.SignalMessage(MANAGER_PATH, MANAGER_INTERFACE, "JobRemoved")
            signal.set_destination(message.get_sender())
            signal.append(dbus.UInt32(job_id), path, name, forged, signature="uoss")
            stranger.send_message(signal)
            stranger.flush()
            return False
        if forged is not None and not late:
            # A stranger answers first, with a job of its own, then claims the real job ended.
            reply = dbus.lowlevel.MethodReturnMessage(message)
            reply.append(dbus.ObjectPath("%s/job/999999" % MANAGER_PATH), signature="o")
            stranger.send_message(reply)
            forge_job_removed()

        def finish():
            if result == "done":
                self.fake.set_state(name, state, None, "changed")
            self.JobRemoved(dbus.UInt32(job_id), path, name, result)
            return False
        if forged is not None and late:
            # The real reply goes out when this returns; the stranger's verdict comes while the
            # caller waits for the job, and systemd's own a while after.
            GLib.timeout_add(100, forge_job_removed)
            GLib.timeout_add(400, finish)
            return path
        # After the reply, as systemd: the job ends later than StartUnit returns.
        GLib.idle_add(finish)
        return path

    @dbus.service.method(MANAGER_INTERFACE, in_signature="ss", out_signature="o",
                         message_keyword="message")
    def StartUnit(self, name, mode, message=None):
        return self.job("StartUnit", name, mode, "active", message)

    @dbus.service.method(MANAGER_INTERFACE, in_signature="ss", out_signature="o",
                         message_keyword="message")
    def RestartUnit(self, name, mode, message=None):
        return self.job("RestartUnit", name, mode, "active", message)

    @dbus.service.method(MANAGER_INTERFACE, in_signature="ss", out_signature="o",
                         message_keyword="message")
    def StopUnit(self, name, mode, message=None):
        return self.job("StopUnit", name, mode, "inactive", message)

    @dbus.service.signal(MANAGER_INTERFACE, signature="uoss")
    def JobRemoved(self, job_id, path, unit, result):
        pass


class Units(dbus.service.FallbackObject):
    def __init__(self, connection, fake):
        super().__init__(connection, UNIT_PREFIX)
        self.fake = fake

    def unit_at(self, rel):
        label = rel.lstrip("/")
        if not label or "/" in label:
            raise Error("org.freedesktop.DBus.Error.UnknownObject", "No unit at %s" % rel)
        unit = self.fake.unit(bus_label_unescape(label))
        unit.gets += 1
        return unit

    @dbus.service.method(PROPERTIES, in_signature="ss", out_signature="v", rel_path_keyword="rel",
                         message_keyword="message", async_callbacks=("reply", "error"))
    def Get(self, interface, name, rel=None, message=None, reply=None, error=None):
        unit = self.unit_at(rel)
        properties = unit.properties() if interface == UNIT_INTERFACE else {}
        if name not in properties:
            raise Error("org.freedesktop.DBus.Error.UnknownProperty",
                        "Unknown property %s.%s" % (interface, name))
        if self.fake.hold_gets:
            self.fake.held.append((unit.name, message, reply, properties[name],
                                   self.fake.connection))
            return
        reply(properties[name])

    @dbus.service.method(PROPERTIES, in_signature="s", out_signature="a{sv}",
                         rel_path_keyword="rel")
    def GetAll(self, interface, rel=None):
        unit = self.unit_at(rel)
        return dbus.Dictionary(unit.properties() if interface == UNIT_INTERFACE else {},
                               signature="sv")


def main(argv):
    if "--help" in argv or "-h" in argv:
        print(__doc__.strip())
        return 0
    address, initial, emit_unsubscribed = None, [], False
    args = argv[1:]
    while args:
        if args[0] == "--address" and len(args) > 1:
            address, args = args[1], args[2:]
        elif args[0] == "--unit" and len(args) > 1 and "=" in args[1]:
            initial.append(args[1])
            args = args[2:]
        elif args[0] == "--emit-unsubscribed":
            emit_unsubscribed, args = True, args[1:]
        else:
            print("fake_systemd: unexpected argument %r (try --help)" % args[0], file=sys.stderr)
            return 2
    if address is None:
        print("fake_systemd: --address is required (try --help)", file=sys.stderr)
        return 2

    DBusGMainLoop(set_as_default=True)
    loop = GLib.MainLoop()
    fake = Fake(address, emit_unsubscribed)
    for spec in initial:
        name, state = spec.split("=", 1)
        active, _, sub = state.partition("/")
        unit = fake.unit(name)
        unit.active, unit.load = active, "loaded"
        unit.sub = sub or {"active": "running", "failed": "failed"}.get(active, "dead")
    unique = fake.take_name()
    print("ready %s" % unique, flush=True)

    pending = bytearray()

    def on_stdin(fd, condition):
        chunk = os.read(fd, 65536)
        if not chunk:
            print("bye", flush=True)
            loop.quit()
            return False
        pending.extend(chunk)
        while b"\n" in pending:
            line, _, rest = bytes(pending).partition(b"\n")
            pending[:] = rest
            words = line.decode("utf-8", "surrogateescape").split()
            if words == ["quit"]:
                print("bye", flush=True)
                loop.quit()
                return False
            try:
                reply = fake.command(words)
            except dbus.DBusException as error:
                reply = "error %s" % error
            print(reply, flush=True)
        return True

    GLib.io_add_watch(0, GLib.IO_IN | GLib.IO_HUP, on_stdin)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
