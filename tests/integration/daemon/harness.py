# SPDX-License-Identifier: GPL-2.0
"""Shared pieces of bitnetd's integration tests: a private dbus-daemon, the
polkit mock, bitnetd itself, D-Bus clients that collect streamed tokens, and
TAP output. Every wait has a generous guard so a broken daemon fails the test
instead of hanging it; no assertion depends on speed."""

import atexit
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import dbus
import dbus.mainloop.glib
from gi.repository import GLib

BUS_NAME = "org.bitnet.Inference1"
ROOT = "/org/bitnet/Inference1"
MANAGER = "org.bitnet.Inference1.Manager"
MODEL = "org.bitnet.Inference1.Model"
SESSION = "org.bitnet.Inference1.Session"
PROPS = "org.freedesktop.DBus.Properties"
_events = [0]  # signals received by all clients: orders events across clients
GUARD = 180.0  # seconds: only against hangs, never a pass/fail criterion

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.environ.get("SRC") or os.path.join(HERE, "..", "..", ".."))
BUILD = os.environ.get("BUILD") or os.path.join(SRC, "build")
BITNETD = os.environ.get("BITNETD") or os.path.join(BUILD, "bin", "bitnetd")
SHARED = os.path.join(SRC, "..", "shared")
TINY_DIR = os.path.normpath(os.path.join(SHARED, "models", "tiny-shakespeare-a"))
TINY = os.path.join(TINY_DIR, "tiny-shakespeare-a-tq2_0.gguf")
TINY_C = os.path.normpath(os.path.join(SHARED, "models", "tiny-shakespeare-c-b158",
                                       "tiny-shakespeare-c-b158-i2_s.gguf"))

dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)


class Tap:
    def __init__(self, plan):
        self.n = 0
        self.failed = 0
        print("1..%d" % plan, flush=True)

    def ok(self, cond, what, diag=None):
        self.n += 1
        if not cond:
            self.failed += 1
        print("%sok %d - %s" % ("" if cond else "not ", self.n, what), flush=True)
        if not cond and diag is not None:
            for line in str(diag).splitlines():
                print("#   " + line, flush=True)
        return cond

    def skip(self, what, why):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, what, why), flush=True)


def skip_all(why):
    print("1..0 # SKIP %s" % why, flush=True)
    sys.exit(0)


def need_tiny():
    if not os.path.exists(TINY):
        skip_all("../shared/models/tiny-shakespeare-a missing")
    if not os.access(BITNETD, os.X_OK):
        skip_all("bitnetd not built at %s" % BITNETD)
    with open(os.path.join(TINY_DIR, "ref", "reference.json")) as f:
        return json.load(f)


def wait_for(pred, guard=GUARD, step=0.05):
    """Runs the GLib loop until pred() is true; False if the guard ran out.
    A signal is handled as soon as it arrives (the loop blocks on it, not on
    a sleep); pred() is also looked at every step seconds for what no signal
    announces."""
    ctx = GLib.MainContext.default()
    end = time.monotonic() + guard
    tick = GLib.timeout_add(max(1, int(step * 1000)), lambda: True)
    try:
        while not pred():
            if time.monotonic() > end:
                return False
            ctx.iteration(True)
    finally:
        GLib.source_remove(tick)
    return True


class Bus:
    """A private dbus-daemon with the given configuration file."""

    def __init__(self, config):
        self.proc = subprocess.Popen(
            ["dbus-daemon", "--config-file=" + config, "--nofork",
             "--print-address=1", "--nosyslog"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.address = self.proc.stdout.readline().strip()
        if not self.address:
            raise RuntimeError("dbus-daemon gave no address")

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


class PolkitMock:
    """python3-dbusmock's polkitd template on the private bus."""

    def __init__(self, address):
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=address)
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", "-m", "dbusmock", "--system", "--template", "polkitd"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.bus = dbus.bus.BusConnection(address)
        ok = wait_for(lambda: self.bus.name_has_owner("org.freedesktop.PolicyKit1"), 30)
        if not ok:
            raise RuntimeError("polkit mock did not start")
        obj = self.bus.get_object("org.freedesktop.PolicyKit1",
                                  "/org/freedesktop/PolicyKit1/Authority")
        self.mock = dbus.Interface(obj, "org.freedesktop.DBus.Mock")

    def allow(self, actions):
        self.mock.SetAllowed(dbus.Array(actions, signature="s"))

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


class Daemon:
    def __init__(self, address, config_text, extra=()):
        self.dir = tempfile.mkdtemp(prefix="bitnetd-test-")
        os.chmod(self.dir, 0o755)
        self.config = os.path.join(self.dir, "bitnetd.conf")
        with open(self.config, "w") as f:
            f.write(config_text)
        self.log = open(os.path.join(self.dir, "bitnetd.log"), "w+")
        self.proc = subprocess.Popen(
            [BITNETD, "--bus-address=" + address, "--config=" + self.config,
             "--backend=cpu"] + list(extra),
            stdout=self.log, stderr=subprocess.STDOUT)

    def log_text(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def signal(self, sig):
        self.proc.send_signal(sig)

    @contextlib.contextmanager
    def held(self, *clients):
        """bitnetd stands still (SIGSTOP) while the block sends it method
        calls, which must not wait for their replies (Client.call_async);
        before it runs on (SIGCONT), a round trip to the bus daemon on each
        client's connection makes sure the bus daemon has passed every call
        on. bitnetd then finds them all in its socket at once: what reaches
        the scheduler together is decided by the test, not by how fast this
        process runs on a loaded machine."""
        self.proc.send_signal(signal.SIGSTOP)
        try:
            yield
            for c in clients:
                c.bus_round_trip()
        finally:
            self.proc.send_signal(signal.SIGCONT)

    def wait(self, guard=GUARD):
        try:
            return self.proc.wait(guard)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.wait(60)


class Client:
    """One bus connection (one unique name): sessions and their signals."""

    def __init__(self, address):
        self.bus = dbus.bus.BusConnection(address)
        self.results = {}      # request id -> dict(ids, text, reason, stats, ...)
        self.order = []        # (request id, "tokens" | "finished") in arrival order
        self.bus.add_signal_receiver(self._on_tokens, "Tokens", SESSION,
                                     path_keyword="path")
        self.bus.add_signal_receiver(self._on_finished, "Finished", SESSION,
                                     path_keyword="path")

    def _res(self, rid):
        return self.results.setdefault(int(rid), {"ids": [], "text": "", "signals": 0,
                                                  "reason": None, "stats": None})

    def _on_tokens(self, rid, ids, text, path=None):
        r = self._res(rid)
        _events[0] += 1
        r.setdefault("first", _events[0])
        r.setdefault("events", []).append(_events[0])
        r.setdefault("times", []).append((time.monotonic(), len(ids)))
        r["ids"] += [int(i) for i in ids]
        r["text"] += str(text)
        r["signals"] += 1
        self.order.append((int(rid), "tokens"))

    def _on_finished(self, rid, reason, stats, path=None):
        r = self._res(rid)
        _events[0] += 1
        r["end"] = _events[0]
        r["reason"] = str(reason)
        r["stats"] = {str(k): v for k, v in stats.items()}
        self.order.append((int(rid), "finished"))

    def manager(self):
        return dbus.Interface(self.bus.get_object(BUS_NAME, ROOT), MANAGER)

    def call_async(self, path, iface, method, *args):
        """Calls bitnetd's method without waiting, and at once: not through a
        proxy object, which holds calls back until its introspection is
        answered. The dict returned gets "reply" (or "error") and "at": the
        number of signals received before the reply. A reply and the signals
        of one connection arrive in the order bitnetd sent them, so "at"
        splits a stream into what came before the call was handled and
        after."""
        box = {}

        def reply(*r):
            box["at"] = _events[0]
            box["reply"] = r[0] if len(r) == 1 else r

        def error(e):
            box["at"] = _events[0]
            box["error"] = e
        self.bus.call_async(BUS_NAME, path, iface, method, None, args, reply, error)
        return box

    def wait_replies(self, boxes, guard=GUARD):
        return wait_for(lambda: all("at" in b for b in boxes), guard)

    def bus_round_trip(self):
        """Returns once the bus daemon has routed every message this
        connection sent before (it handles one connection's in order)."""
        self.bus.call_blocking("org.freedesktop.DBus", "/org/freedesktop/DBus",
                               "org.freedesktop.DBus", "GetId", "", ())

    def prop(self, path, iface, name):
        obj = self.bus.get_object(BUS_NAME, path)
        return dbus.Interface(obj, PROPS).Get(iface, name)

    def mprop(self, name):
        return self.prop(ROOT, MANAGER, name)

    def session(self, model="tiny", options=None):
        path = self.manager().CreateSession(model, dbus.Dictionary(options or {},
                                                                   signature="sv"))
        return dbus.Interface(self.bus.get_object(BUS_NAME, path), SESSION), str(path)

    def finished(self, rid):
        return self._res(rid)["reason"] is not None

    def wait_finished(self, rids, guard=GUARD):
        return wait_for(lambda: all(self.finished(r) for r in rids), guard)

    def close(self):
        self.bus.close()


def params(**kw):
    """a{sv} with the types the API wants."""
    types = {"max_tokens": dbus.UInt32, "temperature": dbus.Double, "top_k": dbus.Int32,
             "top_p": dbus.Double, "seed": dbus.UInt64, "ignore_eos": dbus.Boolean,
             "add_bos": dbus.Boolean, "repeat_penalty": dbus.Double}
    out = {}
    for k, v in kw.items():
        if k == "stop":
            out[k] = dbus.Array(v, signature="s")
        elif k in types:
            out[k] = types[k](v)
        else:
            out[k] = v
    return dbus.Dictionary(out, signature="sv")


def greedy(n):
    return params(max_tokens=n, temperature=0.0, ignore_eos=True)


def wait_model_ready(client, name="tiny"):
    path = "%s/model/%s" % (ROOT, name)

    def ready():
        try:
            return str(client.prop(path, MODEL, "State")) != "loading"
        except dbus.DBusException:
            return False
    wait_for(ready, 120, 0.1)
    return str(client.prop(path, MODEL, "State"))


_helper_dir = None


def helper_path():
    """client_helper.py where any UID can read it: the checkout itself may
    sit in a directory only root may enter (mktemp -d is 0700)."""
    global _helper_dir
    if _helper_dir is None:
        _helper_dir = tempfile.mkdtemp(prefix="bitnetd-helper-")
        os.chmod(_helper_dir, 0o755)
        for name in ("client_helper.py", "harness.py"):
            dst = os.path.join(_helper_dir, name)
            shutil.copyfile(os.path.join(HERE, name), dst)
            os.chmod(dst, 0o644)
        atexit.register(shutil.rmtree, _helper_dir, True)
    return os.path.join(_helper_dir, "client_helper.py")


def run_as(uid, args, timeout=GUARD):
    """Runs this test's helper (client_helper.py) as another UID."""
    def demote():
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    return subprocess.run(["/usr/bin/python3", helper_path()]
                          + args, preexec_fn=demote, capture_output=True, text=True,
                          timeout=timeout)


def kill_quietly(proc):
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
