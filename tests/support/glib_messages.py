#!/usr/bin/python3
"""Prints the GLib-marshalled messages of tests/support/glib_messages.h as C++ constants.

Run with Debian's /usr/bin/python3 (it has python3-gi) and paste the output into the header.
"""
import sys

if "--help" in sys.argv[1:] or "-h" in sys.argv[1:]:
    print(__doc__.strip())
    sys.exit(0)

from gi.repository import Gio, GLib  # noqa: E402  (after --help, which needs no GLib)

def blobs(m):
    out=[]
    for bo in (Gio.DBusMessageByteOrder.LITTLE_ENDIAN, Gio.DBusMessageByteOrder.BIG_ENDIAN):
        m.set_byte_order(bo); out.append(m.to_blob(Gio.DBusCapabilityFlags.NONE).hex())
    return out
m = Gio.DBusMessage.new_signal('/org/freedesktop/systemd1/unit/ssh_2eservice','org.freedesktop.DBus.Properties','PropertiesChanged')
m.set_serial(7)
m.set_body(GLib.Variant('(sa{sv}as)', ('org.freedesktop.systemd1.Unit', {'ActiveState': GLib.Variant('s','active'), 'SubState': GLib.Variant('s','running'), 'ActiveEnterTimestamp': GLib.Variant('t', 1700000000000000)}, ['Names'])))
m.set_sender(':1.5')
pc=blobs(m)
m = Gio.DBusMessage.new_method_call('org.example.Peer','/org/example','org.example.Iface','Everything')
m.set_serial(0x01020304)
m.set_body(GLib.Variant('(ybnqiuxtdsogvaya{sv}a(is)aad)', (255, True, -2, 65535, -100000, 4000000000, -(1<<62), (1<<64)-1, 3.25, 'h\u00e9', '/a/b', 'a{sv}', GLib.Variant('ai',[1,2]), b'xyz', {'k': GLib.Variant('b', False)}, [(1,'one'),(2,'two')], [[],[0.5]])))
ev=blobs(m)
def const(name, h):
    lines=[h[i:i+90] for i in range(0,len(h),90)]
    return 'constexpr std::string_view %s =\n%s;\n' % (name, '\n'.join('    "%s"'%l for l in lines))
for name, h in (("kGlibPropertiesChangedLittle", pc[0]), ("kGlibPropertiesChangedBig", pc[1]),
                ("kGlibEverythingLittle", ev[0]), ("kGlibEverythingBig", ev[1])):
    print("inline " + const(name, h))
