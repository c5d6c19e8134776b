#!/usr/bin/python3
"""The fake systemd of tests/support/fake_systemd.py with three more commands, for
tools/bench-daemon. Same options, ready line and stdin protocol (see that file's --help).

  stamp-set UNIT ACTIVE   like `set`, and reports when the signal was handed to the bus:
                          CLOCK_MONOTONIC ns taken after the message is built, just before it
                          is sent                        -> "ok at NS"
  flood N                 N PropertiesChanged signals (ActiveState/SubState in the changed
                          dict) for 1,000 units nobody watches, round robin, as fast as the bus
                          takes them; then a round trip to the bus, so every one has been
                          routed before the reply         -> "ok flooded N"
  flip UNIT N             N signals for UNIT alternating active / inactive, starting with
                          active, back to back; then the same round trip
                                                          -> "ok flipped N final STATE"
"""
import os
import sys
import time

import dbus

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "tests", "support"))
import fake_systemd  # noqa: E402


def now_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def changed_signal(unit):
    message = dbus.lowlevel.SignalMessage(fake_systemd.unit_path(unit.name),
                                          fake_systemd.PROPERTIES, "PropertiesChanged")
    message.append(fake_systemd.UNIT_INTERFACE,
                   dbus.Dictionary({"ActiveState": dbus.String(unit.active),
                                    "SubState": dbus.String(unit.sub)}, signature="sv"),
                   dbus.Array([], signature="s"), signature="sa{sv}as")
    return message


class BenchFake(fake_systemd.Fake):
    def set_quietly(self, name, active):
        unit = self.unit(name)
        unit.active, unit.load = active, "loaded"
        unit.sub = {"active": "running", "failed": "failed"}.get(
            active, "dead" if active == "inactive" else active)
        return unit

    def round_trip(self):
        """The bus handles one connection's messages in order: its reply to a call sent after
        the signals means it has routed every one of them."""
        self.connection.flush()
        self.connection.call_blocking("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                      "org.freedesktop.DBus", "GetId", "", ())

    def command(self, words):
        verb, args = (words[0], words[1:]) if words else ("", [])
        if verb == "stamp-set" and len(args) == 2:
            message = changed_signal(self.set_quietly(args[0], args[1]))
            at = now_ns()
            self.connection.send_message(message)
            self.connection.flush()
            return "ok at %d" % at
        if verb == "flood" and len(args) == 1:
            count = int(args[0])
            for i in range(count):
                unit = self.set_quietly("flood-%d.service" % (i % 1000),
                                        "active" if (i // 1000) % 2 == 0 else "inactive")
                self.connection.send_message(changed_signal(unit))
                if i % 1000 == 999:
                    self.connection.flush()
            self.round_trip()
            return "ok flooded %d" % count
        if verb == "flip" and len(args) == 2:
            count = int(args[1])
            unit = None
            for i in range(count):
                unit = self.set_quietly(args[0], "active" if i % 2 == 0 else "inactive")
                self.connection.send_message(changed_signal(unit))
                if i % 1000 == 999:
                    self.connection.flush()
            self.round_trip()
            return "ok flipped %d final %s" % (count, unit.active if unit else "-")
        return super().command(words)


if __name__ == "__main__":
    if "--help" in sys.argv or "-h" in sys.argv:
        print(__doc__.strip())
        sys.exit(0)
    fake_systemd.Fake = BenchFake
    sys.exit(fake_systemd.main(sys.argv))
