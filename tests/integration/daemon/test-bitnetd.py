#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""bitnetd on a private dbus-daemon with the shared tiny model: API contract,
greedy reference continuations alone and with 2 and 8 concurrent clients,
B = 1..8 concurrent sessions with prompts of their own bit-identical to each
prompt alone (on both shared tiny models),
streaming to signals and to a pipe, KV reuse and eviction, cancel, a client
killed mid-stream, QueueFull, quotas, polkit refusals, session isolation,
malformed params, a corrupt model, ShareWeights refused off /dev/bitnet,
and SIGTERM with requests in flight."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET

import dbus

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import greedy, params  # noqa: E402

REF = h.need_tiny()
PROMPTS = [p["text"] for p in REF["prompts"]]
GREEDY = [p["actq"]["greedy_ids"] for p in REF["prompts"]]
N_GEN = REF["n_gen"]

CONFIG = """[Limits]
MaxQueue=64
MaxSessionsPerUser=16
IdleTimeoutSec=0
PrefillChunk=8
TokensPerSignal=4
[Model]
Name=tiny
Path=%s
[Model]
Name=tinyc
Path=%s
""" % (h.TINY, h.TINY_C)

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def dbus_error(fn):
    try:
        fn()
        return None
    except dbus.DBusException as e:
        return e


def run_greedy(clients_prompts):
    """Each (client, prompt index) submits in a new session at once; returns
    the per-request results and whether all finished."""
    reqs, sessions = [], []
    for c, k in clients_prompts:
        s, _ = c.session()
        sessions.append(s)
        reqs.append((c, k, int(s.Submit(PROMPTS[k], greedy(N_GEN)))))
    done = h.wait_for(lambda: all(c.finished(r) for c, _, r in reqs))
    for s in sessions:
        s.Close()
    return reqs, done


@test
def t_contract(ctx):
    """The daemon's introspection matches the XML contract exactly."""
    want = ET.parse(os.path.join(h.SRC, "data", "dbus", "org.bitnet.Inference1.xml"))
    c = ctx["root"]
    s, path = c.session()
    got = {}
    for p in [h.ROOT, h.ROOT + "/model/tiny", path]:
        xml = dbus.Interface(c.bus.get_object(h.BUS_NAME, p),
                             "org.freedesktop.DBus.Introspectable").Introspect()
        for iface in ET.fromstring(str(xml)).findall("interface"):
            got[iface.get("name")] = iface
    s.Close()
    diffs = []
    for iface in want.getroot().findall("interface"):
        name = iface.get("name")
        if name not in got:
            diffs.append("missing interface " + name)
            continue

        def members(e):
            out = set()
            for m in e:
                if m.tag in ("method", "signal"):
                    args = tuple((a.get("name"), a.get("type"), a.get("direction", "out")
                                  if m.tag == "method" else "")
                                 for a in m.findall("arg"))
                    out.add((m.tag, m.get("name"), args))
                elif m.tag == "property":
                    out.add((m.tag, m.get("name"), m.get("type"), m.get("access")))
            return out
        a, b = members(iface), members(got[name])
        diffs += ["%s: contract only %s" % (name, x) for x in sorted(map(str, a - b))]
        diffs += ["%s: daemon only %s" % (name, x) for x in sorted(map(str, b - a))]
    return not diffs, "\n".join(diffs)


@test
def t_tokenize(ctx):
    """Tokenize gives the reference ids (with BOS), Detokenize inverts it."""
    m = ctx["root"].manager()
    bad = []
    for p in REF["prompts"]:
        ids = [int(i) for i in m.Tokenize("tiny", p["text"], True)]
        if ids != p["ids"]:
            bad.append((p["text"], ids, p["ids"]))
        text = str(m.Detokenize("tiny", dbus.Array(p["ids"], signature="i")))
        if text != p["text"]:
            bad.append((text, p["text"]))
    return not bad, bad


@test
def t_single(ctx):
    """One client alone: greedy ids equal the reference for all 3 prompts."""
    c = ctx["root"]
    reqs, done = run_greedy([(c, k) for k in range(3)][:1])
    reqs2, done2 = run_greedy([(c, 1)])
    reqs3, done3 = run_greedy([(c, 2)])
    got = [c._res(r)["ids"] for _, _, r in reqs + reqs2 + reqs3]
    ctx["solo"] = got
    return done and done2 and done3 and got == GREEDY, (got, GREEDY)


@test
def t_text(ctx):
    """The streamed text of a greedy run is the reference text; Finished says
    length and counts the tokens."""
    c = ctx["root"]
    reqs, done = run_greedy([(c, 1)])
    r = c._res(reqs[0][2])
    want = REF["prompts"][1]["actq"]["greedy_text"]
    return (done and r["text"] == want and r["reason"] == "length"
            and int(r["stats"]["tokens"]) == N_GEN
            and int(r["stats"]["prompt_tokens"]) == len(REF["prompts"][1]["ids"])
            and r["signals"] >= 2), (r, want)


def concurrent(ctx, n):
    clients = [h.Client(ctx["address"]) for _ in range(n)]
    sessions = []
    try:
        paths = []
        for c in clients:
            s, path = c.session()
            sessions.append(s)
            paths.append(path)
        # All n Submits reach bitnetd together: one after another, the first
        # could make all its tokens before the last is sent on a loaded
        # machine; this way only the scheduler decides whether they overlap.
        with ctx["daemon"].held(*clients):
            boxes = [c.call_async(path, h.SESSION, "Submit", PROMPTS[i % 3], greedy(N_GEN))
                     for i, (c, path) in enumerate(zip(clients, paths))]
        for c, b in zip(clients, boxes):
            c.wait_replies([b])
        reqs = [(c, i % 3, int(b["reply"])) for i, (c, b) in enumerate(zip(clients, boxes))]
        done = h.wait_for(lambda: all(c.finished(r) for c, _, r in reqs))
        bad = [(i, c._res(r)["ids"]) for i, (c, k, r) in enumerate(reqs)
               if c._res(r)["ids"] != GREEDY[k]]
        # the requests overlapped: each one's first token came before any
        # other's Finished (streams interleaved in the one batch loop)
        firsts = [c._res(r)["first"] for c, _, r in reqs]
        ends = [c._res(r)["end"] for c, _, r in reqs]
        overlap = max(firsts) < min(ends)
        # Tokens and Finished are unicast: nobody hears another's stream
        private = all(set(c.results) == {r} for c, _, r in reqs)
        return done and not bad and overlap and private, (bad, firsts, ends, private)
    finally:
        for s in sessions:
            s.Close()
        for c in clients:
            c.close()


@test
def t_two(ctx):
    """2 concurrent clients each get exactly the reference, interleaved, and
    only their own signals."""
    return concurrent(ctx, 2)


@test
def t_eight(ctx):
    """8 concurrent clients each get exactly the reference, interleaved."""
    return concurrent(ctx, 8)


def batch_sizes(ctx, model):
    """Greedy ids of 8 prompts alone, then of the first B at once for
    B = 2..8 (each its own client and session); the differences."""
    c = ctx["root"]
    if h.wait_model_ready(c, model) != "ready":
        return None, ["model %s not ready" % model]
    prompts = PROMPTS + ["%s %s" % (PROMPTS[i % 3], w) for i, w in
                         enumerate(["and", "the king", "of", "my lord,", "good"])]

    def run(ps):
        clients = [h.Client(ctx["address"]) for _ in ps]
        reqs, sessions = [], []
        for cl, p in zip(clients, ps):
            s, _ = cl.session(model)
            sessions.append(s)
            reqs.append((cl, int(s.Submit(p, greedy(N_GEN)))))
        done = h.wait_for(lambda: all(cl.finished(r) for cl, r in reqs))
        ids = [cl._res(r)["ids"] for cl, r in reqs]
        for s in sessions:
            s.Close()
        for cl in clients:
            cl.close()
        return ids if done else None

    solo = [run([p])[0] for p in prompts]
    bad = [(0, i) for i, ids in enumerate(solo) if len(ids) != N_GEN]
    for b in range(2, 9):
        got = run(prompts[:b])
        if got is None:
            bad.append((b, "not finished"))
            continue
        bad += [(b, i) for i in range(b) if got[i] != solo[i]]
    return solo, bad


@test
def t_batch_sizes(ctx):
    """B = 1..8 concurrent sessions, each with its own prompt: every greedy
    continuation is bit-identical to the same prompt alone (TQ2_0 model;
    alone, the reference prompts give the reference ids)."""
    solo, bad = batch_sizes(ctx, "tiny")
    return solo is not None and not bad and solo[:3] == GREEDY, (bad, solo and solo[:3])


@test
def t_batch_sizes_i2s(ctx):
    """The same for B = 1..8 on the I2_S model (tiny-shakespeare-c-b158;
    alone, its reference prompts give its reference ids)."""
    if not os.path.exists(h.TINY_C):
        return None, "../shared/models/tiny-shakespeare-c-b158 missing"
    with open(os.path.join(os.path.dirname(h.TINY_C), "ref", "reference.json")) as f:
        ref = json.load(f)
    want = [p["actq"]["greedy_ids"] for p in ref["prompts"]]
    solo, bad = batch_sizes(ctx, "tinyc")
    return solo is not None and not bad and solo[:3] == want, (bad, solo and solo[:3], want)


@test
def t_fd(ctx):
    """SubmitToFd: the pipe carries the reference text; Finished follows."""
    c = ctx["root"]
    s, _ = c.session()
    rid, fd = s.SubmitToFd(PROMPTS[2], greedy(N_GEN))
    f = os.fdopen(fd.take(), "rb")
    data = f.read().decode()
    f.close()
    done = c.wait_finished([int(rid)])
    r = c._res(rid)
    s.Close()
    want = REF["prompts"][2]["actq"]["greedy_text"]
    return done and data == want and r["reason"] == "length" and not r["ids"], (data, r)


@test
def t_kv_reuse(ctx):
    """A session keeps its KV cache: continuing a request with an empty prompt
    reuses all cached positions and still gives the reference continuation;
    Reset empties it."""
    c = ctx["root"]
    s, path = c.session()
    k = 0
    r1 = int(s.Submit(PROMPTS[k], greedy(8)))
    c.wait_finished([r1])
    r2 = int(s.Submit("", greedy(N_GEN - 8)))
    c.wait_finished([r2])
    a, b = c._res(r1), c._res(r2)
    n_prompt = len(REF["prompts"][k]["ids"])
    used = int(c.prop(path, h.SESSION, "ContextUsed"))
    s.Reset()
    after_reset = int(c.prop(path, h.SESSION, "ContextUsed"))
    r3 = int(s.Submit(PROMPTS[k], greedy(4)))
    c.wait_finished([r3])
    d = c._res(r3)
    s.Close()
    return (a["ids"] + b["ids"] == GREEDY[k]
            and int(b["stats"]["cached_tokens"]) == n_prompt + 8 - 1
            and used == n_prompt + N_GEN and after_reset == 0
            and d["ids"] == GREEDY[k][:4] and int(d["stats"]["cached_tokens"]) == 0), \
        (a, b, used, after_reset, d)


@test
def t_evict(ctx):
    """An idle session's KV cache is evicted (state says so, memory drops) and
    is recomputed transparently on the next request."""
    c = ctx["root"]
    s, path = c.session()
    r1 = int(s.Submit(PROMPTS[1], greedy(10)))
    c.wait_finished([r1])
    mem_before = int(c.mprop("MemoryUsed"))
    c.manager().SetLimits(dbus.Dictionary({"IdleTimeoutSec": dbus.UInt32(1)},
                                          signature="sv"))
    evicted = h.wait_for(lambda: str(c.prop(path, h.SESSION, "State")) == "evicted",
                         60, 0.2)
    mem_after = int(c.mprop("MemoryUsed"))
    c.manager().SetLimits(dbus.Dictionary({"IdleTimeoutSec": dbus.UInt32(0)},
                                          signature="sv"))
    r2 = int(s.Submit("", greedy(N_GEN - 10)))
    c.wait_finished([r2])
    ids = c._res(r1)["ids"] + c._res(r2)["ids"]
    s.Close()
    return (evicted and mem_after < mem_before and ids == GREEDY[1]
            and int(c._res(r2)["stats"]["cached_tokens"]) == 0), \
        (evicted, mem_before, mem_after, ids)


MID_STREAM_TOKENS = 200


def mid_stream(c, start, stop, attempts=20):
    """start(session) submits a request of MID_STREAM_TOKENS tokens and
    returns its id once its stream has begun; stop(session, id) tries to end
    it early and returns the D-Bus error it got or None. In a new session
    each time, until stop() reached the request before it had made all its
    tokens: bitnetd makes the whole stream faster than a loaded machine may
    schedule this process, and an attempt where the request had already
    finished with all its tokens when stop() got to it (for Cancel: answered
    NoSuchRequest) proves nothing. Returns the last attempt's result, the
    error stop() got, and the number of attempts."""
    for n in range(1, attempts + 1):
        s, _ = c.session()
        try:
            rid = start(s)
            e = stop(s, rid)
            c.wait_finished([rid])
        finally:
            s.Close()
        r = c._res(rid)
        late = (r["reason"] == "length" and int(r["stats"]["tokens"]) == MID_STREAM_TOKENS
                and (e is None or e.get_dbus_name().endswith("NoSuchRequest")))
        if not late:
            break
    return r, e, n


@test
def t_cancel(ctx):
    """Cancel mid-stream ends the request with reason cancelled."""
    c = ctx["root"]
    again = []

    def start(s):
        rid = int(s.Submit(PROMPTS[0], greedy(MID_STREAM_TOKENS)))
        h.wait_for(lambda: c._res(rid)["signals"] > 0 or c.finished(rid))
        return rid

    def cancel(s, rid):
        e = dbus_error(lambda: s.Cancel(dbus.UInt64(rid)))
        c.wait_finished([rid])
        again.append(dbus_error(lambda: s.Cancel(dbus.UInt64(rid))))
        return e
    r, e, n = mid_stream(c, start, cancel)
    e2 = again[-1]
    return (e is None and r["reason"] == "cancelled"
            and 0 < int(r["stats"]["tokens"]) < MID_STREAM_TOKENS
            and e2 is not None and e2.get_dbus_name().endswith("NoSuchRequest")), \
        (r, e, e2, n)


@test
def t_fd_close(ctx):
    """Closing the pipe of SubmitToFd cancels the request."""
    c = ctx["root"]
    pipes = {}

    def start(s):
        rid, fd = s.SubmitToFd(PROMPTS[0], greedy(MID_STREAM_TOKENS))
        pipes[int(rid)] = f = os.fdopen(fd.take(), "rb")
        f.read(4)  # the stream has begun
        return int(rid)

    def close(s, rid):
        pipes.pop(rid).close()
    r, _, n = mid_stream(c, start, close)
    return r["reason"] == "cancelled", (r, n)


@test
def t_killed_client(ctx):
    """A client killed mid-stream: its session, request and KV are freed."""
    c = ctx["root"]
    sessions0 = int(c.mprop("ActiveSessions"))
    mem0 = int(c.mprop("MemoryUsed"))
    p = subprocess.Popen(["/usr/bin/python3", os.path.join(h.HERE, "client_helper.py"),
                          "stream", ctx["address"], PROMPTS[0], "200"],
                         stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    started = json.loads(line) if line else {}
    during = (int(c.mprop("ActiveSessions")), int(c.mprop("MemoryUsed")))
    h.kill_quietly(p)
    freed = h.wait_for(lambda: int(c.mprop("ActiveSessions")) == sessions0
                       and int(c.mprop("MemoryUsed")) == mem0
                       and int(c.mprop("QueueLength")) == 0, 60, 0.1)
    listed = [str(x[0]) for x in c.manager().ListSessions()]
    return (started.get("signals", 0) > 0 and during[0] == sessions0 + 1
            and during[1] > mem0 and freed and started.get("started") not in listed), \
        (started, during, sessions0, mem0, listed)


@test
def t_queue_full(ctx):
    """With one batch slot and a queue of one, a third request is QueueFull."""
    c = ctx["root"]
    m = c.manager()
    m.SetLimits(dbus.Dictionary({"MaxBatch": dbus.UInt32(1), "MaxQueue": dbus.UInt32(1)},
                                signature="sv"))
    s, path = c.session()
    # The three Submits and the QueueLength read reach bitnetd together, so
    # r1 is still running (230 tokens to make) when the others are handled,
    # however slowly this process runs.
    with ctx["daemon"].held(c):
        calls = [c.call_async(path, h.SESSION, "Submit", PROMPTS[0], greedy(230)),
                 c.call_async(path, h.SESSION, "Submit", "", greedy(5)),
                 c.call_async(path, h.SESSION, "Submit", "", greedy(5)),
                 c.call_async(h.ROOT, h.PROPS, "Get", h.MANAGER, "QueueLength")]
    c.wait_replies(calls)
    r1, r2 = int(calls[0]["reply"]), int(calls[1]["reply"])
    e = calls[2].get("error")
    qlen = int(calls[3]["reply"])
    m.SetLimits(dbus.Dictionary({"MaxBatch": dbus.UInt32(16), "MaxQueue": dbus.UInt32(64)},
                                signature="sv"))
    dbus_error(lambda: s.Cancel(dbus.UInt64(r1)))  # r1 may have finished by now
    done = c.wait_finished([r1, r2])
    s.Close()
    return (e is not None and e.get_dbus_name().endswith("QueueFull") and qlen == 1
            and done and c._res(r2)["reason"] == "length"), (e, qlen, calls[2])


@test
def t_quota(ctx):
    """Per-UID session and token quotas give QuotaExceeded."""
    c = ctx["root"]
    m = c.manager()
    have = len(m.ListSessions())
    m.SetLimits(dbus.Dictionary({"MaxSessionsPerUser": dbus.UInt32(have + 2),
                                 "MaxTokensPerUser": dbus.UInt64(50)}, signature="sv"))
    try:
        s1, _ = c.session()
        s2, _ = c.session()
        e1 = dbus_error(lambda: c.session())
        e2 = dbus_error(lambda: s1.Submit(PROMPTS[0], greedy(100)))
        rid = int(s2.Submit(PROMPTS[1], greedy(10)))
        c.wait_finished([rid])
    finally:
        m.SetLimits(dbus.Dictionary({"MaxSessionsPerUser": dbus.UInt32(16),
                                     "MaxTokensPerUser": dbus.UInt64(0)}, signature="sv"))
    s1.Close()
    s2.Close()
    return (e1 is not None and e1.get_dbus_name().endswith("QuotaExceeded")
            and e2 is not None and e2.get_dbus_name().endswith("QuotaExceeded")
            and c._res(rid)["ids"] == GREEDY[1][:10]), (e1, e2)


@test
def t_memory_budget(ctx):
    """Under a memory budget, idle sessions' KV caches are evicted to make
    room, and a KV cache that cannot fit at all is OutOfMemory."""
    c = ctx["root"]
    m = c.manager()
    s1, p1 = c.session()
    r1 = int(s1.Submit(PROMPTS[1], greedy(4)))
    c.wait_finished([r1])
    used = int(c.mprop("MemoryUsed"))
    m.SetLimits(dbus.Dictionary({"MemoryBudget": dbus.UInt64(used)}, signature="sv"))
    try:
        s2, _ = c.session()
        r2 = int(s2.Submit(PROMPTS[2], greedy(4)))
        c.wait_finished([r2])
        evicted = str(c.prop(p1, h.SESSION, "State")) == "evicted"
        m.SetLimits(dbus.Dictionary({"MemoryBudget": dbus.UInt64(used // 2)},
                                    signature="sv"))
        s3, _ = c.session()
        e = dbus_error(lambda: s3.Submit(PROMPTS[0], greedy(4)))
    finally:
        m.SetLimits(dbus.Dictionary({"MemoryBudget": dbus.UInt64(0)}, signature="sv"))
    ok2 = c._res(r2)["ids"] == GREEDY[2][:4]
    for s in (s1, s2, s3):
        s.Close()
    return (evicted and ok2 and e is not None
            and e.get_dbus_name().endswith("OutOfMemory")), (evicted, ok2, e)


@test
def t_params(ctx):
    """Malformed params are InvalidArgs naming the parameter."""
    c = ctx["root"]
    s, _ = c.session()
    cases = [("temperature", dbus.Dictionary({"temperature": "hot"}, signature="sv")),
             ("bogus", dbus.Dictionary({"bogus": dbus.UInt32(1)}, signature="sv")),
             ("top_p", params(top_p=5.0)),
             ("max_tokens", dbus.Dictionary({"max_tokens": dbus.Int32(-1)}, signature="sv")),
             ("stop", dbus.Dictionary({"stop": dbus.Array([""], signature="s")},
                                      signature="sv"))]
    bad = []
    for key, p in cases:
        e = dbus_error(lambda: s.Submit("x", p))
        if (e is None or e.get_dbus_name() != "org.freedesktop.DBus.Error.InvalidArgs"
                or "'%s'" % key not in str(e.get_dbus_message())
                and key not in str(e.get_dbus_message())):
            bad.append((key, e))
    s.Close()
    return not bad, bad


@test
def t_stop(ctx):
    """A stop string ends generation before it, with reason stop."""
    c = ctx["root"]
    s, _ = c.session()
    full = REF["prompts"][1]["actq"]["greedy_text"]
    rid = int(s.Submit(PROMPTS[1], params(max_tokens=N_GEN, temperature=0.0,
                                          stop=["king"])))
    c.wait_finished([rid])
    r = c._res(rid)
    s.Close()
    return r["reason"] == "stop" and r["text"] == full[:full.index("king")], r


@test
def t_chat(ctx):
    """Chat formats with the model's template; the next turn of the same
    conversation reuses the cached prefix of the previous one."""
    c = ctx["root"]
    s, _ = c.session()
    turn1 = [("user", "Who art thou?")]
    r1 = int(s.Chat(dbus.Array(turn1, signature="(ss)"), greedy(8)))
    c.wait_finished([r1])
    a = c._res(r1)
    turn2 = turn1 + [("assistant", a["text"]), ("user", "Speak again.")]
    r2 = int(s.Chat(dbus.Array(turn2, signature="(ss)"), greedy(8)))
    c.wait_finished([r2])
    b = c._res(r2)
    e = dbus_error(lambda: s.Chat(dbus.Array([("robot", "x")], signature="(ss)"),
                                  greedy(1)))
    s.Close()
    return (a["reason"] == "length" and len(a["ids"]) == 8 and b["reason"] == "length"
            and int(b["stats"]["cached_tokens"]) >= int(a["stats"]["prompt_tokens"]) // 2
            and int(b["stats"]["prompt_tokens"]) > int(a["stats"]["prompt_tokens"])
            and e is not None and "role" in str(e.get_dbus_message())), (a, b, e)


def prefill_beside_decode(ctx, n_prompts):
    """A decodes while n_prompts sessions submit the same long prompt
    together (PrefillChunk=8); returns A's tokens between their Submits and
    the last one's first token, the chunks one prompt takes, A's tokens
    between the first and the last of their first tokens, and whether A was
    still decoding when they were done."""
    c = ctx["root"]
    m = c.manager()
    m.SetLimits(dbus.Dictionary({"TokensPerSignal": dbus.UInt32(1)}, signature="sv"))
    sa, pa = c.session()
    others = [c.session() for _ in range(n_prompts)]
    long_prompt = " ".join([REF["prompts"][0]["text"]] * 9)
    n_long = len(m.Tokenize("tiny", long_prompt, True))
    n_a = 240  # A's prompt and its tokens fill most of the context
    # All Submits reach bitnetd together, A's first: A, with far more tokens
    # to make than the long prompts have chunks, is decoding all through
    # their prefill however slowly this process runs. The tokens A streamed
    # before their Submits were answered (signals and replies on one
    # connection arrive in send order) are not their doing.
    with ctx["daemon"].held(c):
        a = c.call_async(pa, h.SESSION, "Submit", PROMPTS[1], greedy(n_a))
        bs = [c.call_async(p, h.SESSION, "Submit", long_prompt, greedy(1)) for _, p in others]
    c.wait_replies([a] + bs)
    ra, rbs = int(a["reply"]), [int(b["reply"]) for b in bs]
    c.wait_finished(rbs)
    firsts = sorted(c._res(rb)["end"] for rb in rbs)
    events = c._res(ra).get("events", [])
    submitted = max(b["at"] for b in bs)
    between = len([e for e in events if submitted < e < firsts[-1]])
    spread = len([e for e in events if firsts[0] < e < firsts[-1]])
    dbus_error(lambda: sa.Cancel(dbus.UInt64(ra)))  # A may have finished by now
    c.wait_finished([ra])
    m.SetLimits(dbus.Dictionary({"TokensPerSignal": dbus.UInt32(4)}, signature="sv"))
    for sess, _ in [(sa, pa)] + others:
        sess.Close()
    a_ran = c._res(ra)["end"] > firsts[-1]
    return between, -(-n_long // 8), spread, a_ran


@test
def t_chunked_prefill(ctx):
    """A long prompt is prefilled in chunks: a decoding session started with it
    gets a token per chunk before the long prompt's first token."""
    between, chunks, _, a_ran = prefill_beside_decode(ctx, 1)
    return a_ran and chunks - 2 <= between <= chunks + 2, (chunks, between, a_ran)


@test
def t_burst_prefill(ctx):
    """Three long prompts submitted together advance together, a chunk of
    each per step: the decoding session gets about one prompt's chunks of
    tokens before all three have their first token (three prompts' worth if
    they went one after another), and none between their first tokens."""
    between, chunks, spread, a_ran = prefill_beside_decode(ctx, 3)
    return a_ran and chunks - 2 <= between <= chunks + 2 and spread <= 1, \
        (chunks, between, spread, a_ran)


@test
def t_corrupt(ctx):
    """A corrupt model file fails to load (State failed, Error set, sessions
    refused with ModelLoadFailed) while the service keeps serving tiny."""
    c = ctx["root"]
    bad = os.path.join(ctx["tmp"], "corrupt.gguf")
    with open(h.TINY, "rb") as f:
        data = bytearray(f.read())
    data = data[: len(data) // 3]
    with open(bad, "wb") as f:
        f.write(data)
    m = c.manager()
    m.LoadModel("broken", bad, dbus.Dictionary({}, signature="sv"))
    state = h.wait_model_ready(c, "broken")
    err = str(c.prop(h.ROOT + "/model/broken", h.MODEL, "Error"))
    e = dbus_error(lambda: c.session("broken"))
    reqs, done = run_greedy([(c, 2)])
    m.UnloadModel("broken")
    return (state == "failed" and err != "" and e is not None
            and e.get_dbus_name().endswith("ModelLoadFailed") and done
            and c._res(reqs[0][2])["ids"] == GREEDY[2]), (state, err, e)


@test
def t_model_formats(ctx):
    """The Model object's HeadFormat and WeightLayout are what bitnet-run
    reports for the same file with the same defaults."""
    c = ctx["root"]
    path = h.ROOT + "/model/tiny"
    head = str(c.prop(path, h.MODEL, "HeadFormat"))
    layout = str(c.prop(path, h.MODEL, "WeightLayout"))
    run = os.path.join(h.BUILD, "bin", "bitnet-run")
    p = subprocess.run([run, h.TINY, "--backend", "cpu", "--prompt", "To be", "-n", "1"],
                       capture_output=True, text=True, timeout=120)
    said = re.search(r", (\S+) head, backend \S+, (\S+) layout$", p.stderr, re.M)
    return (said is not None and head != "" and layout != ""
            and (head, layout) == said.groups()), (head, layout, p.stderr[-300:])


@test
def t_share_weights(ctx):
    """ShareWeights on the cpu backend is NotOnDevice, NoSuchModel for an
    unknown model; bitnet-run --attach says so and exits 1, and says the
    daemon is unreachable on a dead bus address."""
    c = ctx["root"]
    if str(c.mprop("Backend")) != "cpu":
        return None, "the daemon runs on /dev/bitnet here: the VM test covers it"
    m = c.manager()
    e1 = dbus_error(lambda: m.ShareWeights("tiny"))
    e2 = dbus_error(lambda: m.ShareWeights("no-such"))
    run = os.path.join(h.BUILD, "bin", "bitnet-run")
    cmd = [run, h.TINY, "--attach", "tiny", "--prompt", "To be", "-n", "4", "--quiet"]
    p1 = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                        env=dict(os.environ, BITNET_BUS_ADDRESS=ctx["address"]))
    p2 = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                        env=dict(os.environ,
                                 BITNET_BUS_ADDRESS="unix:path=/nonexistent/bitnet-bus"))
    nod = "org.bitnet.Inference1.Error.NotOnDevice"
    return (e1 is not None and e1.get_dbus_name() == nod and "/dev/bitnet" in str(e1)
            and e2 is not None and e2.get_dbus_name().endswith("NoSuchModel")
            and p1.returncode == 1 and "not on /dev/bitnet" in p1.stderr and not p1.stdout
            and p2.returncode == 1 and "cannot reach bitnetd" in p2.stderr), \
        (e1, e2, p1.returncode, p1.stderr, p1.stdout, p2.returncode, p2.stderr)


@test
def t_bad_options(ctx):
    """LoadModel, CreateSession and SetLimits refuse an unknown key, a value
    of the wrong type and a value out of range with InvalidArgs, saying which,
    and change nothing."""
    c = ctx["root"]
    m = c.manager()
    per_user = int(c.mprop("MaxSessionsPerUser"))

    def opts(**kw):
        return dbus.Dictionary(kw, signature="sv")

    calls = [
        (lambda: m.LoadModel("x", h.TINY, opts(threads=dbus.UInt32(1))),
         "options: 'threads' is not a known option"),
        (lambda: m.LoadModel("x", h.TINY, opts(backend=dbus.UInt32(1))),
         "options: 'backend' must be a string"),
        (lambda: m.LoadModel("x", h.TINY, opts(backend="gpu")),
         "options: 'backend' must be auto, cpu or kmod"),
        (lambda: m.CreateSession("tiny", opts(ctx=dbus.UInt32(64))),
         "options: 'ctx' is not a known option"),
        (lambda: m.CreateSession("tiny", opts(n_ctx="64")),
         "options: 'n_ctx' must be of type 'u'"),
        (lambda: m.SetLimits(opts(MaxFoo=dbus.UInt32(1))),
         "limits: 'MaxFoo' is not a known limit"),
        (lambda: m.SetLimits(opts(MaxQueue="1")),
         "limits: 'MaxQueue' must be of type 'u' or 't'"),
        (lambda: m.SetLimits(opts(MaxQueue=dbus.UInt32(0))),
         "limits: 'MaxQueue' is out of range"),
        (lambda: m.SetLimits(opts(MaxSessionsPerUser=dbus.UInt32(per_user + 1),
                                  MaxQueue=dbus.UInt64(1 << 40))),
         "limits: 'MaxQueue' is out of range"),
    ]
    bad = []
    for call, want in calls:
        e = dbus_error(call)
        if (e is None or not e.get_dbus_name().endswith("InvalidArgs")
                or e.get_dbus_message() != want):
            bad.append((want, e))
    models = [str(x[0]) for x in m.ListModels()]
    return (not bad and "x" not in models
            and int(c.mprop("MaxSessionsPerUser")) == per_user), bad


@test
def t_unauthorized(ctx):
    """An unprivileged UID's admin calls are refused (polkit says no), allowed
    once polkit allows org.bitnet.manage; root may always."""
    if os.geteuid() != 0:
        return None, "not root: cannot run a client as another UID"
    ctx["polkit"].allow([])
    r = h.run_as(65534, ["admin", ctx["address"]])
    denied = json.loads(r.stdout.strip().splitlines()[-1]) if r.stdout else {}
    ctx["polkit"].allow(["org.bitnet.manage"])
    r = h.run_as(65534, ["admin", ctx["address"]])
    allowed = json.loads(r.stdout.strip().splitlines()[-1]) if r.stdout else {}
    ctx["polkit"].allow([])
    c = ctx["root"]
    h.wait_model_ready(c, "x")
    c.manager().UnloadModel("x")
    c.manager().SetLimits(dbus.Dictionary({"MaxQueue": dbus.UInt32(64)}, signature="sv"))
    ad = "org.freedesktop.DBus.Error.AccessDenied"
    return (all(denied.get(k, "").startswith(ad)
                for k in ("SetLimits", "LoadModel", "UnloadModel"))
            and denied.get("ListModels") == "ok"
            and allowed.get("SetLimits") == "ok" and allowed.get("LoadModel") == "ok"
            and "ModelBusy" in allowed.get("UnloadModel", "")), (denied, allowed, r.stderr)


@test
def t_isolation(ctx):
    """Another UID neither sees nor touches a session it does not own."""
    if os.geteuid() != 0:
        return None, "not root: cannot run a client as another UID"
    c = ctx["root"]
    s, path = c.session()
    r = h.run_as(65534, ["peek", ctx["address"], path])
    out = json.loads(r.stdout.strip().splitlines()[-1]) if r.stdout else {}
    alive = str(c.prop(path, h.SESSION, "State")) == "idle"
    s.Close()
    nss = "org.bitnet.Inference1.Error.NoSuchSession"
    return (out.get("Submit", "").startswith(nss) and out.get("Get", "").startswith(nss)
            and "AccessDenied" in out.get("KillSession", "")
            and path not in out.get("ListSessions", [path]) and alive), (out, r.stderr)


@test
def t_reload(ctx):
    """SIGHUP rereads the configuration: new limits apply, new models load
    (the TQ1_0 file gives the same greedy ids); a
    broken file is refused and the running configuration kept."""
    c = ctx["root"]
    d = ctx["daemon"]
    with open(d.config, "w") as f:
        f.write(CONFIG.replace("MaxQueue=64", "MaxQueue=33")
                + "[Model]\nName=tiny2\nPath=%s\n" % h.TINY.replace("tq2_0", "tq1_0"))
    d.signal(signal.SIGHUP)
    reloaded = h.wait_for(lambda: int(c.mprop("MaxQueue")) == 33, 60, 0.05)
    state = h.wait_model_ready(c, "tiny2") if reloaded else "none"
    progress = float(c.prop(h.ROOT + "/model/tiny2", h.MODEL, "LoadProgress"))
    ids = []
    if state == "ready":
        s2, _ = c.session("tiny2")
        rid = int(s2.Submit(PROMPTS[1], greedy(N_GEN)))
        c.wait_finished([rid])
        ids = c._res(rid)["ids"]
        s2.Close()
    with open(d.config, "w") as f:
        f.write("[Limits]\nMaxQueue=nonsense\n")
    d.signal(signal.SIGHUP)
    h.wait_for(lambda: "line 2" in d.log_text(), 60, 0.05)
    kept = int(c.mprop("MaxQueue")) == 33
    return (reloaded and state == "ready" and progress == 1.0 and kept
            and ids == GREEDY[1]), (reloaded, state, progress, kept, ids)


@test
def t_sigterm(ctx):
    """SIGTERM with requests in flight: each ends with Finished (cancelled or
    done) and the daemon exits 0."""
    c = ctx["root"]
    rids = []
    for k in range(2):
        s, _ = c.session()
        rids.append(int(s.Submit(PROMPTS[k], greedy(200))))
    h.wait_for(lambda: all(c._res(r)["signals"] > 0 for r in rids))
    ctx["daemon"].signal(signal.SIGTERM)
    done = c.wait_finished(rids)
    rc = ctx["daemon"].wait()
    reasons = [c._res(r)["reason"] for r in rids]
    return done and rc == 0 and all(x in ("cancelled", "length") for x in reasons), \
        (reasons, rc)


def main():
    tap = h.Tap(len(TESTS))
    tmp = h.tempfile.mkdtemp(prefix="bitnetd-it-")
    bus = h.Bus(os.path.join(h.HERE, "private-bus.conf"))
    polkit = daemon = None
    try:
        polkit = h.PolkitMock(bus.address)
        daemon = h.Daemon(bus.address, CONFIG)
        root = h.Client(bus.address)
        state = h.wait_model_ready(root)
        ctx = {"address": bus.address, "root": root, "polkit": polkit, "daemon": daemon,
               "tmp": tmp}
        if state != "ready":
            for fn in TESTS:
                tap.ok(False, fn.__doc__.splitlines()[0], "model state " + state)
            print(daemon.log_text())
            return 1
        for fn in TESTS:
            what = " ".join(fn.__doc__.split())
            try:
                cond, diag = fn(ctx)
            except Exception as e:  # a failed call fails that test only
                cond, diag = False, repr(e)
            if cond is None:
                tap.skip(what, diag)
            else:
                tap.ok(cond, what, diag)
        if tap.failed:
            print("# bitnetd log:\n# " + daemon.log_text().replace("\n", "\n# "))
    finally:
        if daemon:
            daemon.stop()
        if polkit:
            polkit.stop()
        bus.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
