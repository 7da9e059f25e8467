#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# libbitnet-client, its example and bitnetctl against the REAL bitnetd on a
# private dbus-daemon, with the tiny-shakespeare-a model from ../shared.
# With --mock (test-client-mock) the same client tests run against
# mock-bitnetd.py instead; checks that need real inference are then skipped,
# and every line says "[mock]". Prints TAP.
import atexit
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("SRC") or os.path.normpath(os.path.join(HERE, "../../.."))
BUILD = os.environ.get("BUILD") or os.path.join(SRC, "build")
MOCK = "--mock" in sys.argv
LABEL = "[mock] " if MOCK else ""
MODEL_DIR = os.path.join(SRC, "..", "shared", "models", "tiny-shakespeare-a")
MODEL_FILE = os.path.join(MODEL_DIR, "tiny-shakespeare-a-tq2_0.gguf")
CTL = os.path.join(BUILD, "bin", "bitnetctl")
BITNETD = os.path.join(BUILD, "bin", "bitnetd")
EXAMPLE = os.path.join(BUILD, "tests", "client", "bitnet-example")
LIBTEST = os.path.join(BUILD, "tests", "client", "test-libclient")
SO = os.path.join(BUILD, "lib", "libbitnet-client.so.1")
NAME = "tiny"
NOBODY = 65534
POLKIT = ("org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
          "org.freedesktop.DBus.Mock")

n_tests = 0
n_failed = 0


def ok(cond, what, diag=None):
    global n_tests, n_failed
    n_tests += 1
    print("%sok %d - %s%s" % ("" if cond else "not ", n_tests, LABEL, what), flush=True)
    if not cond:
        n_failed += 1
        if diag:
            for line in str(diag).splitlines()[:20]:
                print("#   " + line)
    return cond


def skip(what, why):
    global n_tests
    n_tests += 1
    print("ok %d - %s%s # SKIP %s" % (n_tests, LABEL, what, why), flush=True)


def ctl(*args, stdin=None, env=None):
    """Runs bitnetctl; returns (exit code, stdout, stderr)."""
    p = subprocess.run([CTL] + list(args), input=stdin, capture_output=True, text=True,
                       env=env, timeout=300)
    return p.returncode, p.stdout, p.stderr


def ctl_json(*args):
    rc, out, err = ctl("--json", *args)
    try:
        return rc, json.loads(out), err
    except ValueError:
        return rc, None, "stdout is not JSON: %r\n%s" % (out, err)


class Services:
    """A private dbus-daemon and bitnetd (or the mock) on it."""

    def __init__(self, tmp):
        self.bus = subprocess.Popen(
            ["dbus-daemon", "--config-file=" + os.path.join(HERE, "bus.conf"),
             "--print-address=1", "--nofork"], stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True)
        self.address = self.bus.stdout.readline().strip()
        os.environ["BITNET_BUS_ADDRESS"] = self.address
        self.polkit = None
        if not MOCK:
            # bitnetd asks polkit on its own bus; this mock says no to all.
            self.polkit = subprocess.Popen(
                ["/usr/bin/python3", "-m", "dbusmock", "--system", "--template", "polkitd"],
                env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.address),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if MOCK:
            cmd = [os.path.join(HERE, "mock-bitnetd.py"), "--bus-address=" + self.address]
        else:
            conf = os.path.join(tmp, "bitnetd.conf")
            with open(conf, "w") as f:
                f.write("[Service]\nThreads=2\n")
            cmd = [BITNETD, "--bus-address=" + self.address, "--config=" + conf]
        self.log = open(os.path.join(tmp, "daemon.log"), "w+")
        self.daemon = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)

    def polkit_allow(self, *actions):
        """Sets the actions the polkit mock allows; False if it does not answer."""
        return subprocess.run(["busctl", "--address=" + self.address, "call", *POLKIT,
                               "SetAllowed", "as", str(len(actions)), *actions],
                              capture_output=True).returncode == 0

    def wait_polkit(self):
        # Startup, not a measurement: poll until the mock answers or it died.
        for _ in range(200):
            if self.polkit is None or self.polkit.poll() is not None:
                return False
            if self.polkit_allow():
                return True
            time.sleep(0.05)
        return False

    def wait_ready(self):
        # Startup, not a measurement: poll until the name answers or it died.
        for _ in range(200):
            if self.daemon.poll() is not None:
                return False
            if ctl("status")[0] == 0:
                return True
            time.sleep(0.05)
        return False

    def daemon_log(self):
        self.log.seek(0)
        return self.log.read()[-2000:]

    def stop(self):
        for p in (self.daemon, self.polkit, self.bus):
            if p and p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def test_library_files():
    out = subprocess.run(["readelf", "-d", SO], capture_output=True, text=True).stdout
    ok("Library soname: [libbitnet-client.so.1]" in out, "shared library soname is "
       "libbitnet-client.so.1", out)
    out = subprocess.run(["nm", "-D", "--defined-only", SO], capture_output=True,
                         text=True).stdout
    syms = [line.split()[-1] for line in out.splitlines() if line.split()[1:2] != ["A"]]
    stray = [s for s in syms if not s.startswith("bitnet_")]
    ok(len(syms) > 30 and not stray, "only bitnet_* symbols exported (%d)" % len(syms),
       stray)
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(BUILD, "lib", "pkgconfig"))
    p = subprocess.run(["pkg-config", "--cflags", "--libs", "bitnet-client"], env=env,
                       capture_output=True, text=True)
    ok(p.returncode == 0 and "-lbitnet-client" in p.stdout,
       "uninstalled pkg-config file: %s" % p.stdout.strip(), p.stderr)


def test_status_and_load(svc):
    rc, out, err = ctl("status")
    ok(rc == 0 and "backend:" in out and "queue:" in out and "tokens/s" in out,
       "status prints backend, queue and tokens/s", out + err)
    rc, st, err = ctl_json("status")
    ok(rc == 0 and st and st["backend"] in ("cpu", "kmod") and st["models"] == [] and
       isinstance(st["requests"], int) and "decode_tokens_per_second" in st,
       "status --json parses; no model loaded yet", err)

    # A pty on stderr: the progress bar is drawn only for terminals.
    master, slave = pty.openpty()
    p = subprocess.Popen([CTL, "load", NAME, MODEL_FILE], stdout=subprocess.PIPE,
                         stderr=slave)
    os.close(slave)
    bar = b""
    while True:
        r, _, _ = select.select([master], [], [], 120)
        if not r:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        bar += chunk
    rc = p.wait()
    os.close(master)
    ok(rc == 0 and b"loading " + NAME.encode() in bar and b"100%" in bar,
       "load shows a progress bar on a terminal and succeeds", bar.decode(errors="replace"))

    rc, models, err = ctl_json("models")
    m = [x for x in (models or []) if x["name"] == NAME]
    ok(rc == 0 and len(m) == 1 and m[0]["state"] == "ready" and
       os.path.samefile(m[0]["file"], MODEL_FILE), "models --json lists the model ready",
       err or models)
    if not MOCK and m:
        ref = load_reference()
        ok(m[0]["vocab_size"] == ref["config"]["vocab_size"] and
           m[0]["context_size"] == ref["config"]["n_ctx"],
           "models --json: vocab %d and context %d match the reference" %
           (m[0]["vocab_size"], m[0]["context_size"]), m[0])
    else:
        skip("models --json sizes match the reference", "mock daemon")
    rc, out, err = ctl("models")
    ok(rc == 0 and out.startswith("NAME") and NAME in out, "models prints a table", err)

    rc, out, err = ctl("load", "broken", "/nonexistent/model.gguf")
    ok(rc == 7 and "broken" in err, "load of a missing file exits 7 with the reason",
       "rc %d: %s" % (rc, err))
    ctl("unload", "broken")
    rc, out, err = ctl("unload", "no-such-model")
    ok(rc == 4 and err, "unload of an unknown model exits 4", "rc %d: %s" % (rc, err))
    rc, out, err = ctl("load", "--no-wait", "second", MODEL_FILE)
    state = wait_loaded("second") if rc == 0 else None
    rc2, _, err2 = ctl("unload", "second")
    rc3, models, _ = ctl_json("models")
    ok(rc == 0 and state == "ready" and rc2 == 0 and models is not None and
       all(x["name"] != "second" for x in models),
       "load --no-wait returns at once; the model becomes ready; unload removes it",
       "%s %s %s" % (state, err, err2))


def wait_loaded(name):
    """The state of model name once it is no longer loading."""
    for _ in range(1200):
        rc, models, _ = ctl_json("models")
        m = [x for x in (models or []) if x["name"] == name]
        if not m or m[0]["state"] != "loading":
            return m[0]["state"] if m else None
        time.sleep(0.05)
    return "loading"


def load_reference():
    with open(os.path.join(MODEL_DIR, "ref", "reference.json")) as f:
        return json.load(f)


def test_tokenizer():
    text = "To be, or not to be"
    rc, tok, err = ctl_json("tokenize", "-m", NAME, text)
    ok(rc == 0 and tok and tok["count"] == len(tok["ids"]) > 1,
       "tokenize --json gives ids", err)
    rc, out, err = ctl("tokenize", text)
    ok(rc == 0 and tok and out.split() == [str(i) for i in tok["ids"]],
       "tokenize (model by default) prints the same ids", err)
    rc, dt, err = ctl_json("detokenize", *[str(i) for i in (tok or {"ids": [0]})["ids"]])
    ok(rc == 0 and dt and dt["text"].strip() == text, "detokenize --json round trip",
       "%s %s" % (dt, err))
    if MOCK:
        skip("tokenize matches the reference token ids", "mock daemon")
        return
    ref = load_reference()["prompts"][0]
    rc, tok, err = ctl_json("tokenize", "-m", NAME, ref["text"])
    ok(rc == 0 and tok and tok["ids"] == ref["ids"],
       "tokenize of reference prompt 0 gives the reference ids", "%s %s" % (tok, err))


def test_generate():
    rc, res, err = ctl_json("generate", "-m", NAME, "--temp", "0", "-n", "8",
                            "--ignore-eos", "First Citizen:")
    ok(rc == 0 and res and res["reason"] == "length" and res["tokens"] == 8 and
       res["text"] and res["prompt_tokens"] > 0 and res["session"].startswith("/"),
       "generate --json: 8 tokens, reason length", "%s %s" % (res, err))
    rc, out, err = ctl("generate", "--temp", "0", "-n", "8", "--ignore-eos",
                       "First", "Citizen:")
    ok(rc == 0 and res and out == res["text"] + ("" if res["text"].endswith("\n") else "\n"),
       "generate streams the same greedy text to stdout", "%r vs %r %s" %
       (out, res and res["text"], err))
    rc, out2, err = ctl("generate", "--temp", "0", "-n", "8", "--ignore-eos",
                        stdin="First Citizen:")
    ok(rc == 0 and out2 == out, "generate reads the prompt from stdin", err)
    rc, out, err = ctl("generate", "-v", "--temp", "0.8", "--top-k", "40", "--top-p", "0.9",
                       "--seed", "7", "-n", "6", "Hello")
    rc2, out2, _ = ctl("generate", "--temp", "0.8", "--top-k", "40", "--top-p", "0.9",
                       "--seed", "7", "-n", "6", "Hello")
    ok(rc == 0 and rc2 == 0 and out == out2 and "tokens/s" in err,
       "sampling options with a fixed seed are reproducible; -v prints stats", err)
    if MOCK:
        skip("greedy generation matches the reference continuation", "mock daemon")
    else:
        ref = load_reference()["prompts"][0]
        k = ref["actq"]["greedy_stable_prefix"]
        rc, res, err = ctl_json("generate", "--temp", "0", "-n", str(k), "--ignore-eos",
                                ref["text"])
        rc2, want, err2 = ctl_json("detokenize", *[str(i) for i in
                                                   ref["actq"]["greedy_ids"][:k]])
        ok(rc == 0 and rc2 == 0 and res["text"] == want["text"],
           "greedy %d tokens of reference prompt 0 match the reference" % k,
           "%s\n%s\n%s%s" % (res and res["text"], want and want["text"], err, err2))
        rc, res, err = ctl_json("generate", "--pipe", "--temp", "0", "-n", str(k),
                                "--ignore-eos", ref["text"])
        ok(rc == 0 and rc2 == 0 and res["text"] == want["text"] and res["reason"] == "length"
           and res["tokens"] == k,
           "generate --pipe (SubmitToFd): the pipe carries the same reference text",
           "%s\n%s\n%s" % (res, want and want["text"], err))
        rc, out, err = ctl("generate", "--pipe", "--temp", "0", "-n", str(k), "--ignore-eos",
                           ref["text"])
        ok(rc == 0 and res and out.rstrip("\n") == res["text"].rstrip("\n"),
           "generate --pipe streams it to stdout", "%r %s" % (out, err))

    rc, out, err = ctl("generate", "-n", "abc", "x")
    ok(rc == 2, "generate -n abc is a usage error (exit 2)", "rc %d" % rc)
    rc, out, err = ctl("generate", "-m", "no-such-model", "x")
    ok(rc == 4, "generate on an unknown model exits 4", "rc %d: %s" % (rc, err))


def test_chat():
    rc, res, err = ctl_json("chat", "--system", "You are a player.", "-n", "6",
                            "Speak", "the", "speech.")
    ok(rc == 0 and res and 0 < res["tokens"] <= 6 and res["reason"] in
       ("eos", "stop", "length"), "chat --json with --system answers", "%s %s" % (res, err))
    rc, out, err = ctl("chat", "-n", "4", "--temp", "0", stdin="Hello.\nAnd again.\n")
    ok(rc == 0 and len(out.splitlines()) >= 2, "chat reads turns from stdin",
       "rc %d %r %s" % (rc, out, err))


def test_sessions_and_kill(svc):
    # An interactive chat holds a session open while it waits for input; after
    # one turn of 4 tokens its stats line (-v) gives the prompt's length.
    p = subprocess.Popen([CTL, "chat", "-v", "-n", "4", "--temp", "0", "--ignore-eos"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    p.stdin.write("Hello.\n")
    p.stdin.flush()
    turn = ""
    while "generated" not in turn:
        turn = p.stderr.readline()
        if not turn:
            break
    prompt_tokens = int(turn.split(" prompt tokens")[0].rsplit(" ", 1)[1]) if turn else -1
    mine = []
    for _ in range(200):
        rc, sessions, err = ctl_json("sessions")
        mine = [s for s in (sessions or []) if s["model"] == NAME]
        if mine or p.poll() is not None:
            break
        time.sleep(0.05)
    ok(len(mine) == 1 and mine[0]["path"].startswith("/org/bitnet/Inference1/session/")
       and mine[0]["uid"] == os.getuid() and mine[0]["state"] in ("idle", "queued",
                                                                "running"),
       "sessions --json lists the open session", sessions)
    # bitnetd shows a Session's properties to its owner's connection only
    # (libclient's own test reads them as the owner); the mock shows them to all.
    n_ctx = 256 if MOCK else load_reference()["config"]["n_ctx"]
    keys = ("context_used", "context_size", "tokens_generated")
    if MOCK:
        want, cells = (prompt_tokens + 4, n_ctx, 4), ["%d/%d" % (prompt_tokens + 4, n_ctx), "4"]
    else:
        want, cells = (None, None, None), ["-", "-"]
    got = tuple(mine[0].get(k, "absent") for k in keys) if mine else ()
    ok(len(mine) == 1 and prompt_tokens > 0 and got == want and mine[0]["state"] == "idle",
       "sessions --json after a 4-token turn on a %d-token prompt: %s = %s (%s)" %
       (prompt_tokens, "/".join(keys), got, "shown to all by the mock" if MOCK else
        "null: bitnetd shows them to the session's owner only"), (turn, mine))
    rc, out, err = ctl("sessions")
    row = [line.split() for line in out.splitlines() if mine and mine[0]["path"] in line]
    ok(rc == 0 and out.split()[:7] == ["SESSION", "MODEL", "OWNER", "UID", "STATE", "CONTEXT",
                                       "GENERATED"] and
       len(row) == 1 and row[0][4:] == ["idle"] + cells,
       "sessions prints a table with state, context and tokens generated (%s)" % cells,
       out + err)
    if mine:
        rc, out, err = ctl("kill", mine[0]["path"].rsplit("/", 1)[1])
        rc2, sessions, _ = ctl_json("sessions")
        ok(rc == 0 and sessions is not None and
           all(s["path"] != mine[0]["path"] for s in sessions),
           "kill (by id) ends the session", err)
    else:
        ok(False, "kill (by id) ends the session", "no session to kill")
    p.stdin.close()
    p.wait(timeout=60)
    rc, out, err = ctl("kill", "/org/bitnet/Inference1/session/0123")
    ok(rc == 4, "kill of an unknown session exits 4", "rc %d: %s" % (rc, err))


def cancel_once(svc, n, *extra, attempts=10):
    """generate, Ctrl-C after the first token, with the daemon frozen from
    then until bitnetctl says it is cancelling, so the request cannot finish
    on its own meanwhile. The daemon may make all n tokens before this
    process, on a loaded machine, gets from the first token to the freeze:
    an attempt whose request had already finished ("[length:" in bitnetctl's
    -v line) cancelled nothing and is made again. Returns (rc, stdout,
    stderr, daemon status before, after) of the last attempt."""
    for _ in range(attempts):
        before = ctl_json("status")[1]
        p = subprocess.Popen([CTL, "generate", "-v", "--temp", "0", "--ignore-eos", "-n", str(n)] +
                             list(extra) + ["Before we proceed any further"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first = p.stdout.read(1)
        head = b""
        svc.daemon.send_signal(signal.SIGSTOP)
        try:
            p.send_signal(signal.SIGINT)
            end = time.monotonic() + 120  # only against a hang
            while b"cancelling request" not in head and time.monotonic() < end:
                fd = p.stderr.fileno()  # unbuffered: communicate() reads on
                if not select.select([fd], [], [], max(0, end - time.monotonic()))[0]:
                    break
                data = os.read(fd, 4096)
                if not data:
                    break
                head += data
        finally:
            svc.daemon.send_signal(signal.SIGCONT)
        out, err = p.communicate(timeout=120)
        out = (first + out).decode(errors="replace")
        err = (head + err).decode(errors="replace")
        after = ctl_json("status")[1]
        if not any(line.startswith("[length:") for line in err.splitlines()):
            break
    return p.returncode, out, err, before, after


def test_cancel(svc):
    rc, out, err, before, after = cancel_once(svc, 200)
    ok(rc == 130 and "cancelling request" in err and "[cancelled:" in err,
       "Ctrl-C during generate: the daemon finishes the request as \"cancelled\", exit 130",
       "rc %d\nstdout %r\nstderr %s" % (rc, out, err))
    generated = None
    for line in err.splitlines():
        if line.startswith("[cancelled:"):
            generated = int(line.split(" generated")[0].rsplit(" ", 1)[1])
    ok(generated is not None and generated < 200,
       "the cancelled request stopped early (%s of 200 tokens)" % generated, err)
    ok(before and after and after["tokens_out"] - before["tokens_out"] < 200 and
       after["active_sessions"] == 0 and after["queue_length"] == 0,
       "daemon counters: fewer than 200 tokens out, nothing left running",
       "%s\n%s" % (before, after))
    if MOCK:
        skip("Ctrl-C during generate --pipe closes the pipe: \"cancelled\"", "mock daemon")
        return
    rc, out, err, _, _ = cancel_once(svc, 200, "--pipe")
    generated = [int(line.split(" generated")[0].rsplit(" ", 1)[1])
                 for line in err.splitlines() if line.startswith("[cancelled:")]
    ok(rc == 130 and "by closing its pipe" in err and generated and generated[0] < 200,
       "Ctrl-C during generate --pipe closes the pipe; the daemon finishes the request "
       "as \"cancelled\" (%s of 200 tokens), exit 130" % generated,
       "rc %d\nstdout %r\nstderr %s" % (rc, out, err))


def test_daemon_dies(svc):
    """The daemon vanishing mid-request ends it with an error, no hang."""
    p = subprocess.Popen([CTL, "generate", "--ignore-eos", "-n", "200", "Before we"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.read(1)
    svc.daemon.kill()
    svc.daemon.wait()
    out, err = p.communicate(timeout=60)
    err = err.decode(errors="replace")
    ok(p.returncode == 1 and "left the bus" in err,
       "bitnetd exiting during generate: bitnetctl reports it and exits 1",
       "rc %d: %s" % (p.returncode, err))


def test_bench():
    rc, b, err = ctl_json("bench", "-c", "2", "-n", "16")
    ok(rc == 0 and b and b["sessions"] == 2 and b["tokens"] == 32 and
       b["tokens_per_second"] > 0 and all(r["reason"] == "length" for r in b["results"]),
       "bench --json: 2 sessions x 16 tokens", "%s %s" % (b, err))
    rc, out, err = ctl("bench", "-c", "1", "-n", "4")
    ok(rc == 0 and "tokens/s" in out, "bench prints tokens/s", out + err)


def test_device_and_errors(svc):
    rc, dev, err = ctl_json("device")
    rc2, st, _ = ctl_json("status")
    ok(rc == 0 and isinstance(dev, dict) and st and
       (bool(dev) == (st["backend"] == "kmod") or MOCK) and
       all(isinstance(v, int) for v in dev.values()),
       "device --json: counters exactly when the kmod backend is in use", "%s %s" % (dev, err))
    rc, out, err = ctl("device")
    ok(rc == 0 and out, "device prints counters or says there is no device", err)
    rc, st, _ = ctl_json("status")
    rc1, _, err = ctl("limit", "MaxQueue=%d" % (st["max_queue"] + 3),
                      "MemoryBudget=123456789")
    rc2, st2, _ = ctl_json("status")
    ctl("limit", "MaxQueue=%d" % st["max_queue"], "MemoryBudget=%d" % st["memory_budget"])
    ok(rc1 == 0 and st2["max_queue"] == st["max_queue"] + 3 and
       st2["memory_budget"] == 123456789, "limit changes MaxQueue and MemoryBudget", err)
    rc, out, err = ctl("limit", "NoSuchLimit=1")
    ok(rc == 2 and "NoSuchLimit" in err, "limit with an unknown name exits 2",
       "rc %d: %s" % (rc, err))
    rc, out, err = ctl("frobnicate")
    ok(rc == 2, "unknown command exits 2", "rc %d" % rc)
    env = dict(os.environ)
    del env["BITNET_BUS_ADDRESS"]
    rc, out, err = ctl("--address=" + svc.address, "status", env=env)
    ok(rc == 0, "--address works without $BITNET_BUS_ADDRESS", err)
    # sd-bus finds the system and user buses through these variables.
    rc1, _, err1 = ctl("--system", "status",
                       env=dict(env, DBUS_SYSTEM_BUS_ADDRESS=svc.address))
    rc2, _, err2 = ctl("--user", "status",
                       env=dict(env, DBUS_SESSION_BUS_ADDRESS=svc.address))
    ok(rc1 == 0 and rc2 == 0, "--system and --user connect to the buses sd-bus finds",
       err1 + err2)
    bogus = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS="unix:path=/nonexistent/bus")
    rc, out, err = ctl("status", env=bogus)
    rc2, _, err2 = ctl("--system", "status", env=bogus)
    ok(rc == 0 and rc2 == 3, "$BITNET_BUS_ADDRESS is the default; --system overrides it",
       "rc %d %d: %s %s" % (rc, rc2, err, err2))
    rc, out, err = ctl("--address=unix:path=/nonexistent/bus", "status")
    ok(rc == 3 and err, "unreachable bus exits 3", "rc %d: %s" % (rc, err))


def as_nobody():
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


_ctl_copy = None


def ctl_for_nobody():
    """A copy of bitnetctl (linked statically with the client) that any UID
    may run: the checkout itself may sit in a directory only root may enter."""
    global _ctl_copy
    if _ctl_copy is None:
        d = tempfile.mkdtemp(prefix="bitnetctl-")
        os.chmod(d, 0o755)
        _ctl_copy = os.path.join(d, "bitnetctl")
        shutil.copy(CTL, _ctl_copy)
        os.chmod(_ctl_copy, 0o755)
        atexit.register(shutil.rmtree, d, True)
    return _ctl_copy


def ctl_nobody(*args):
    p = subprocess.run([ctl_for_nobody()] + list(args), capture_output=True, text=True,
                       timeout=300, preexec_fn=as_nobody)
    return p.returncode, p.stdout, p.stderr


def test_denied(svc):
    """An unprivileged UID's admin commands exit 5 when polkit says no."""
    what = "load, unload and limit as UID %d with polkit saying no exit 5" % NOBODY
    if MOCK:
        skip(what, "mock daemon has no polkit")
        return
    if os.geteuid() != 0:
        skip(what, "not root: cannot run bitnetctl as another UID")
        return
    if not svc.wait_polkit():
        skip(what, "python3-dbusmock's polkitd template did not start")
        return
    try:
        rc, out, err = ctl_nobody("models")
    except PermissionError as e:
        skip(what, "UID %d cannot run %s: %s" % (NOBODY, CTL, e))
        return
    ok(rc == 0 and NAME in out, "UID %d may list models (reads need no polkit)" % NOBODY,
       "rc %d: %s" % (rc, err))
    results = [("load", ctl_nobody("load", "denied", MODEL_FILE)),
               ("unload", ctl_nobody("unload", NAME)),
               ("limit", ctl_nobody("limit", "MaxQueue=7"))]
    for cmd, (rc, out, err) in results:
        ok(rc == 5 and err.startswith("bitnetctl: %s: " % cmd) and
           "not authorized for org.bitnet.manage: polkit said no" in err,
           "%s as UID %d, polkit saying no: exit 5, \"%s\"" % (cmd, NOBODY, err.strip()),
           "rc %d: %s" % (rc, err))
    rc, models, _ = ctl_json("models")
    ok(rc == 0 and [m["name"] for m in models] == [NAME] and models[0]["state"] == "ready",
       "the refused calls changed nothing: only %s is loaded, still ready" % NAME, models)
    # The same call passes once polkit allows it: the refusal was polkit's.
    rc, st, _ = ctl_json("status")
    allowed = svc.polkit_allow("org.bitnet.manage")
    rc1, _, err = ctl_nobody("limit", "MaxQueue=%d" % (st["max_queue"] + 1))
    rc2, st2, _ = ctl_json("status")
    svc.polkit_allow()
    ctl("limit", "MaxQueue=%d" % st["max_queue"])
    ok(allowed and rc1 == 0 and st2["max_queue"] == st["max_queue"] + 1,
       "with polkit allowing org.bitnet.manage, limit as UID %d succeeds" % NOBODY,
       "rc %d: %s" % (rc1, err))


def test_example():
    p = subprocess.run([EXAMPLE, NAME, "To be, or not to be"], capture_output=True, text=True,
                       timeout=120)
    ok(p.returncode == 0 and p.stdout.startswith("To be, or not to be") and
       "[request " in p.stdout and "generated" in p.stdout,
       "the README's example program streams a completion", p.stdout + p.stderr)


def test_libclient():
    env = dict(os.environ, BITNET_TEST_MODEL=NAME)
    if not MOCK:
        # The reference greedy continuation for generate_to_fd's pipe.
        ref = load_reference()["prompts"][0]
        k = ref["actq"]["greedy_stable_prefix"]
        rc, want, err = ctl_json("detokenize", *[str(i) for i in ref["actq"]["greedy_ids"][:k]])
        if rc == 0:
            env.update(BITNET_TEST_REF_PROMPT=ref["text"], BITNET_TEST_REF_TEXT=want["text"],
                       BITNET_TEST_REF_TOKENS=str(k))
    p = subprocess.run([LIBTEST], capture_output=True, text=True, env=env, timeout=300)
    results = [line for line in p.stdout.splitlines()
               if line.startswith("ok ") or line.startswith("not ok ")]
    for line in results:
        good = line.startswith("ok ")
        ok(good, "libclient: " + line.split(" - ", 1)[-1])
    plan = [line for line in p.stdout.splitlines() if line.startswith("1..")]
    ok(p.returncode == 0 and plan == ["1..%d" % len(results)],
       "libclient test program completed its plan", p.stdout[-1000:] + p.stderr)


def test_docs():
    with open(os.path.join(SRC, "libclient", "README.md")) as f:
        readme = f.read()
    with open(os.path.join(SRC, "libclient", "examples", "example.c")) as f:
        example = f.read()
    shown = readme.split("```c\n", 1)[-1].split("```", 1)[0]
    ok(shown == example, "libclient/README.md shows examples/example.c as it is")
    p = subprocess.run(["bash", "-c", 'source "$1"; COMP_WORDS=(bitnetctl ge); COMP_CWORD=1; '
                        '_bitnetctl; echo "${COMPREPLY[@]}"; '
                        'COMP_WORDS=(bitnetctl generate --te); COMP_CWORD=2; _bitnetctl; '
                        'echo "${COMPREPLY[@]}"; '
                        'COMP_WORDS=(bitnetctl generate --pi); COMP_CWORD=2; _bitnetctl; '
                        'echo "${COMPREPLY[@]}"', "x",
                        os.path.join(SRC, "data", "completion", "bitnetctl")],
                       capture_output=True, text=True)
    lines = p.stdout.splitlines()
    ok(p.returncode == 0 and len(lines) == 3 and lines[0].split() == ["generate"] and
       "--temp" in lines[1].split() and lines[2].split() == ["--pipe"],
       "bash completion completes commands and options",
       p.stdout + p.stderr)
    with open(os.path.join(SRC, "man", "bitnetctl.1")) as f:
        man = f.read()
    commands = ["status", "models", "load", "unload", "sessions", "kill", "generate",
                "chat", "tokenize", "detokenize", "bench", "device", "limit"]
    missing = [c for c in commands if "\n.B %s" % c not in man and "\n.BR %s" % c not in man]
    codes = [c for c in ("0", "1", "2", "3", "4", "5", "6", "7", "130")
             if "\n.B %s\n" % c not in man]
    ok(not missing and not codes, "bitnetctl(1) documents every command and exit code",
       "missing commands %s, exit codes %s" % (missing, codes))


def main():
    for path, what in ((CTL, "bitnetctl"), (EXAMPLE, "bitnet-example"),
                       (LIBTEST, "test-libclient")):
        if not os.access(path, os.X_OK):
            print("1..0 # SKIP %s not built (%s)" % (what, path))
            return 0
    if not MOCK and not os.access(BITNETD, os.X_OK):
        print("1..0 # SKIP bitnetd not built (%s)" % BITNETD)
        return 0
    if not os.path.exists(MODEL_FILE):
        print("1..0 # SKIP ../shared/models/tiny-shakespeare-a missing")
        return 0
    with tempfile.TemporaryDirectory(prefix="bitnet-client-test.") as tmp:
        svc = Services(tmp)
        try:
            if not ok(svc.wait_ready(), "%s answers on a private bus" %
                      ("mock-bitnetd" if MOCK else "bitnetd"), svc.daemon_log()):
                print("1..%d" % n_tests)
                return 1
            test_library_files()
            test_status_and_load(svc)
            test_tokenizer()
            test_generate()
            test_chat()
            test_sessions_and_kill(svc)
            test_cancel(svc)
            test_bench()
            test_device_and_errors(svc)
            test_denied(svc)
            test_example()
            test_libclient()
            test_docs()
            ok(svc.daemon.poll() is None, "the daemon is still running at the end",
               svc.daemon_log())
            test_daemon_dies(svc)
        finally:
            svc.stop()
    print("1..%d" % n_tests)
    return 1 if n_failed else 0


if __name__ == "__main__":
    sys.exit(main())
