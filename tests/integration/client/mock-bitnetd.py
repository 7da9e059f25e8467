#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# A MOCK of bitnetd's D-Bus API (data/dbus/org.bitnet.Inference1.xml) for
# exercising libbitnet-client and bitnetctl without the real daemon. It does
# no inference: "generation" streams tokens "w0 w1 ..." on a timer and
# "tokenization" maps characters to their code points. Tests using it say so.
#
#   mock-bitnetd.py --bus-address=ADDR
import argparse
import os
import sys

import dbus
import dbus.lowlevel
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

SERVICE = "org.bitnet.Inference1"
ROOT = "/org/bitnet/Inference1"
MANAGER = SERVICE + ".Manager"
MODEL = SERVICE + ".Model"
SESSION = SERVICE + ".Session"
PROPS = "org.freedesktop.DBus.Properties"
ERR = SERVICE + ".Error."


class Error(dbus.DBusException):
    def __init__(self, name, msg):
        super().__init__(msg)
        self._dbus_error_name = name


def no_such(what, name):
    return Error(ERR + ("NoSuchModel" if what == "model" else "NoSuchSession"),
                 "no %s \"%s\"" % (what, name))


class PropObject(dbus.service.Object):
    iface = None

    def props(self):
        return {}

    @dbus.service.method(PROPS, in_signature="ss", out_signature="v")
    def Get(self, iface, name):
        return self.props()[name]

    @dbus.service.method(PROPS, in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        return self.props() if iface == self.iface else {}


class Model(PropObject):
    iface = MODEL

    def __init__(self, daemon, name, path):
        self.name, self.file = name, path
        self.path = "%s/model/%s" % (ROOT, "".join(c if c.isalnum() else "_" for c in name))
        self.state, self.error, self.progress = "loading", "", 0.0
        super().__init__(daemon.bus, self.path)
        GLib.timeout_add(50, self.step)

    def step(self):
        if not os.path.exists(self.file):
            self.state, self.error = "failed", "cannot open %s" % self.file
            return False
        self.progress = min(1.0, self.progress + 0.25)
        if self.progress >= 1.0:
            self.state = "ready"
            return False
        return True

    def props(self):
        return {"Name": self.name, "File": self.file, "Architecture": "mock",
                "VocabSize": dbus.UInt32(256), "ContextSize": dbus.UInt32(256),
                "WeightType": "none", "State": self.state, "Error": self.error,
                "LoadProgress": dbus.Double(self.progress),
                "MemoryBytes": dbus.UInt64(4096), "Parameters": dbus.UInt64(0),
                "HeadFormat": "F16", "WeightLayout": "R16"}


class Session(PropObject):
    iface = SESSION

    def __init__(self, daemon, model, owner):
        self.daemon, self.model, self.owner = daemon, model, owner
        self.path = "%s/session/%032x" % (ROOT, int.from_bytes(os.urandom(16), "big"))
        self.running = {}
        self.context_used = self.tokens_generated = 0
        super().__init__(daemon.bus, self.path)

    def emit(self, member, signature, *args):
        msg = dbus.lowlevel.SignalMessage(self.path, SESSION, member)
        msg.set_destination(self.owner)
        msg.append(*args, signature=signature)
        self.daemon.bus.send_message(msg)

    def start(self, sender, n_prompt, params):
        self.check(sender)
        self.daemon.next_request += 1
        rid = self.daemon.next_request
        state = {"left": int(params.get("max_tokens", 16)), "n": 0}
        self.running[rid] = state

        def tick():
            if rid not in self.running:
                return False
            if state["left"] == 0:
                self.finish(rid, "length", n_prompt)
                return False
            text = " w%d" % state["n"]
            self.emit("Tokens", "tais", dbus.UInt64(rid), [100 + state["n"]], text)
            self.daemon.tokens_out += 1
            state["n"] += 1
            state["left"] -= 1
            return True
        GLib.timeout_add(int(os.environ.get("MOCK_TOKEN_MS", "10")), tick)
        self.daemon.requests += 1
        return dbus.UInt64(rid)

    def finish(self, rid, reason, n_prompt=0):
        state = self.running.pop(rid)
        self.context_used += n_prompt + state["n"]
        self.tokens_generated += state["n"]
        stats = {"prompt_tokens": dbus.UInt32(n_prompt), "tokens": dbus.UInt32(state["n"]),
                 "prefill_tps": dbus.Double(1000.0), "decode_tps": dbus.Double(100.0),
                 "cached_tokens": dbus.UInt32(0)}
        self.emit("Finished", "tsa{sv}", dbus.UInt64(rid), reason, stats)

    def check(self, sender):
        if sender != self.owner:
            raise no_such("session", self.path)

    @dbus.service.method(SESSION, in_signature="sa{sv}", out_signature="t",
                         sender_keyword="sender")
    def Submit(self, prompt, params, sender):
        return self.start(sender, len(prompt), params)

    @dbus.service.method(SESSION, in_signature="a(ss)a{sv}", out_signature="t",
                         sender_keyword="sender")
    def Chat(self, messages, params, sender):
        return self.start(sender, sum(len(c) for _, c in messages), params)

    @dbus.service.method(SESSION, in_signature="t", sender_keyword="sender")
    def Cancel(self, rid, sender):
        self.check(sender)
        if rid not in self.running:
            raise Error(ERR + "NoSuchRequest", "no request %d" % rid)
        self.daemon.cancelled += 1
        self.finish(rid, "cancelled")

    @dbus.service.method(SESSION, in_signature="", sender_keyword="sender")
    def Reset(self, sender):
        self.check(sender)
        self.context_used = 0

    @dbus.service.method(SESSION, in_signature="", sender_keyword="sender")
    def Close(self, sender):
        self.check(sender)
        self.daemon.drop(self)

    def props(self):
        return {"Model": self.model, "Owner": self.owner, "Uid": dbus.UInt32(0),
                "State": "running" if self.running else "idle",
                "ContextUsed": dbus.UInt32(self.context_used),
                "ContextSize": dbus.UInt32(256),
                "TokensGenerated": dbus.UInt64(self.tokens_generated)}


class Manager(PropObject):
    iface = MANAGER

    def __init__(self, bus):
        self.bus = bus
        self.models, self.sessions = {}, {}
        self.next_request = self.requests = self.tokens_out = self.cancelled = 0
        self.limits = {"MaxQueue": dbus.UInt32(64), "MaxSessionsPerUser": dbus.UInt32(16),
                       "MaxTokensPerUser": dbus.UInt64(0), "MemoryBudget": dbus.UInt64(0),
                       "IdleTimeoutSec": dbus.UInt32(0), "PrefillChunk": dbus.UInt32(64)}
        super().__init__(bus, ROOT)

    def model(self, name):
        if name not in self.models or self.models[name].state != "ready":
            raise no_such("model", name)
        return self.models[name]

    def drop(self, session):
        for rid in list(session.running):
            session.finish(rid, "cancelled")
        session.remove_from_connection()
        del self.sessions[session.path]

    @dbus.service.method(MANAGER, in_signature="", out_signature="a(soss)")
    def ListModels(self):
        return [(m.name, dbus.ObjectPath(m.path), "mock", m.state)
                for m in self.models.values()]

    @dbus.service.method(MANAGER, in_signature="ssa{sv}", out_signature="o")
    def LoadModel(self, name, path, options):
        if name in self.models:
            raise Error(ERR + "ModelBusy", "model \"%s\" already exists" % name)
        self.models[name] = Model(self, name, path)
        return dbus.ObjectPath(self.models[name].path)

    @dbus.service.method(MANAGER, in_signature="s")
    def UnloadModel(self, name):
        if name not in self.models:
            raise no_such("model", name)
        self.models.pop(name).remove_from_connection()

    @dbus.service.method(MANAGER, in_signature="", out_signature="a(ossus)")
    def ListSessions(self):
        return [(dbus.ObjectPath(s.path), s.model, s.owner, dbus.UInt32(0),
                 "running" if s.running else "idle") for s in self.sessions.values()]

    @dbus.service.method(MANAGER, in_signature="sa{sv}", out_signature="o",
                         sender_keyword="sender")
    def CreateSession(self, model, options, sender):
        self.model(model)
        s = Session(self, model, sender)
        self.sessions[s.path] = s
        return dbus.ObjectPath(s.path)

    @dbus.service.method(MANAGER, in_signature="o")
    def KillSession(self, path):
        if path not in self.sessions:
            raise no_such("session", path)
        self.drop(self.sessions[path])

    @dbus.service.method(MANAGER, in_signature="ssb", out_signature="ai")
    def Tokenize(self, model, text, add_special):
        self.model(model)
        return dbus.Array(([1] if add_special else []) + [ord(c) for c in text],
                          signature="i")

    @dbus.service.method(MANAGER, in_signature="sai", out_signature="s")
    def Detokenize(self, model, ids):
        self.model(model)
        return "".join(chr(i) for i in ids if i > 2)

    @dbus.service.method(MANAGER, in_signature="", out_signature="a{st}")
    def GetDeviceCounters(self):
        return dbus.Dictionary({"mock_cancelled": dbus.UInt64(self.cancelled)},
                               signature="st")

    @dbus.service.method(MANAGER, in_signature="s", out_signature="h")
    def ShareWeights(self, model):
        self.model(model)
        raise Error(ERR + "NotOnDevice",
                    "'%s' runs on the cpu backend, not on /dev/bitnet" % model)

    @dbus.service.method(MANAGER, in_signature="a{sv}")
    def SetLimits(self, limits):
        for key, value in limits.items():
            if key not in self.limits:
                raise Error("org.freedesktop.DBus.Error.InvalidArgs",
                            "limits: '%s' is not a known limit" % key)
            self.limits[key] = type(self.limits[key])(value)

    def props(self):
        active = sum(1 for s in self.sessions.values() if s.running)
        return {"Version": "mock", "Backend": "cpu", "DeviceAvailable": False,
                "Requests": dbus.UInt64(self.requests), "TokensIn": dbus.UInt64(0),
                "TokensOut": dbus.UInt64(self.tokens_out),
                "QueueLength": dbus.UInt32(0), "ActiveSessions": dbus.UInt32(active),
                "DecodeTokensPerSecond": dbus.Double(100.0),
                "MemoryUsed": dbus.UInt64(0), **self.limits}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bus-address", required=True)
    args = ap.parse_args()
    DBusGMainLoop(set_as_default=True)
    bus = dbus.bus.BusConnection(args.bus_address)
    manager = Manager(bus)
    name = dbus.service.BusName(SERVICE, bus)  # noqa: F841 (keeps the name)
    print("ready", flush=True)
    GLib.MainLoop().run()
    return manager


if __name__ == "__main__":
    sys.exit(main() and 0)
