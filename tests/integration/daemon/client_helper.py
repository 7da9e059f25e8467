#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""A bitnetd client run by the integration tests as another UID (or to be
killed mid-stream). Prints one JSON object per line with what happened."""

import json
import sys
import time

import dbus

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, __import__("os").path.dirname(__file__))
import harness  # noqa: E402


def err_name(fn):
    try:
        fn()
        return "ok"
    except dbus.DBusException as e:
        return e.get_dbus_name() + ": " + str(e.get_dbus_message())


def main():
    what, address = sys.argv[1], sys.argv[2]
    c = harness.Client(address)
    m = c.manager()
    out = {}
    if what == "admin":
        out["SetLimits"] = err_name(lambda: m.SetLimits(
            dbus.Dictionary({"MaxQueue": dbus.UInt32(7)}, signature="sv")))
        out["LoadModel"] = err_name(lambda: m.LoadModel(
            "x", harness.TINY, dbus.Dictionary({}, signature="sv")))
        out["UnloadModel"] = err_name(lambda: m.UnloadModel("tiny"))
        out["ListModels"] = err_name(lambda: m.ListModels())
    elif what == "peek":
        path = sys.argv[3]
        obj = c.bus.get_object(harness.BUS_NAME, path)
        s = dbus.Interface(obj, harness.SESSION)
        out["Submit"] = err_name(lambda: s.Submit("x", harness.greedy(1)))
        out["Get"] = err_name(lambda: c.prop(path, harness.SESSION, "Owner"))
        out["KillSession"] = err_name(lambda: m.KillSession(path))
        out["ListSessions"] = [str(x[0]) for x in m.ListSessions()]
    elif what == "sessions":
        out["results"] = [err_name(lambda: c.session()) for _ in range(int(sys.argv[3]))]
    elif what == "stream":
        s, path = c.session()
        rid = s.Submit(sys.argv[3], harness.greedy(int(sys.argv[4])))
        harness.wait_for(lambda: c._res(rid)["signals"] > 0, 120)
        print(json.dumps({"started": path, "signals": c._res(rid)["signals"]}), flush=True)
        time.sleep(600)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
