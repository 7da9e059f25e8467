#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""bitnetd's system bus policy on a private bus that has the system bus's
default-deny policy: root (as bitnetd's user stands in) owns the name, an
ordinary UID calls the public interfaces but can neither own the name nor
call what the policy does not list."""

import json
import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

PROBE = r'''
import json, sys
import dbus
bus = dbus.bus.BusConnection(sys.argv[1])
out = {}
def name(fn):
    try:
        fn()
        return "ok"
    except dbus.DBusException as e:
        return e.get_dbus_name()
obj = bus.get_object("org.bitnet.Inference1", "/org/bitnet/Inference1")
props = dbus.Interface(obj, "org.freedesktop.DBus.Properties")
mgr = dbus.Interface(obj, "org.bitnet.Inference1.Manager")
out["ListModels"] = name(lambda: mgr.ListModels())
out["Get"] = name(lambda: props.Get("org.bitnet.Inference1.Manager", "Version"))
out["Introspect"] = name(lambda: dbus.Interface(
    obj, "org.freedesktop.DBus.Introspectable").Introspect())
out["Set"] = name(lambda: props.Set("org.bitnet.Inference1.Manager", "MaxQueue",
                                    dbus.UInt32(1)))
out["Own"] = name(lambda: bus.request_name("org.bitnet.Inference1",
                                           dbus.bus.NAME_FLAG_DO_NOT_QUEUE))
print(json.dumps(out))
'''


def main():
    if not os.access(h.BITNETD, os.X_OK):
        h.skip_all("bitnetd not built at %s" % h.BITNETD)
    if os.geteuid() != 0:
        h.skip_all("needs root to run a client as another UID")
    tap = h.Tap(6)
    tmp = tempfile.mkdtemp(prefix="bitnetd-policy-")
    os.chmod(tmp, 0o755)
    conf = os.path.join(tmp, "system-bus.conf")
    with open(os.path.join(h.HERE, "system-bus.conf.in")) as f:
        text = f.read().replace("@POLICY@", os.path.join(
            h.SRC, "data", "dbus", "org.bitnet.Inference1.conf"))
    with open(conf, "w") as f:
        f.write(text)
    bus = h.Bus(conf)
    daemon = h.Daemon(bus.address, "")
    try:
        root = h.Client(bus.address)
        owned = h.wait_for(lambda: root.bus.name_has_owner(h.BUS_NAME), 60, 0.05)
        tap.ok(owned, "root may own org.bitnet.Inference1 under the policy",
               daemon.log_text())

        def demote():
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
        r = subprocess.run(["/usr/bin/python3", "-c", PROBE, bus.address],
                           preexec_fn=demote, capture_output=True, text=True,
                           timeout=h.GUARD)
        out = json.loads(r.stdout) if r.stdout.strip() else {}
        ad = "org.freedesktop.DBus.Error.AccessDenied"
        tap.ok(out.get("ListModels") == "ok", "another UID may call Manager methods", r)
        tap.ok(out.get("Get") == "ok", "another UID may read properties", r)
        tap.ok(out.get("Introspect") == "ok", "another UID may introspect", r)
        tap.ok(out.get("Set") == ad, "Properties.Set is refused by the bus", r)
        tap.ok(out.get("Own") == ad, "another UID may not own the service's name", r)
    finally:
        daemon.stop()
        bus.stop()
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
