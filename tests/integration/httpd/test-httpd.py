#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""TAP: bitnet-httpd against the real stack: a private dbus-daemon, bitnetd
with the shared tiny model, and bitnet-httpd on 127.0.0.1. Greedy answers
(streamed and not, HTTP and curl) must equal `bitnetctl generate`; bad
bodies get the right status and an OpenAI-style error; slow clients do not
stop others being served; 64 concurrent streams, 13 of them dropped after
their first event, leave the server up and bitnetd with no session."""

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "daemon"))
import harness  # noqa: E402

BIN = os.path.join(harness.BUILD, "bin")
HTTPD = os.path.join(BIN, "bitnet-httpd")
CTL = os.path.join(BIN, "bitnetctl")
PROMPT = "KING RICHARD III:\n"
GUARD = 60
# e.g. HTTPD_WRAP="valgrind --leak-check=full --error-exitcode=99" to check for leaks
WRAP = os.environ.get("HTTPD_WRAP", "").split()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Httpd:
    def __init__(self, bus, extra=()):
        self.port = free_port()
        self.log = tempfile.TemporaryFile("w+")
        self.proc = subprocess.Popen(
            WRAP + [HTTPD, "--listen", "127.0.0.1:%d" % self.port, "--bus-address", bus]
            + list(extra), stdout=self.log, stderr=subprocess.STDOUT)
        end = time.monotonic() + GUARD
        while time.monotonic() < end:
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("bitnet-httpd did not listen")

    def request(self, method, path, body=None, headers=None, timeout=GUARD):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, r.getheader("Content-Type") or "", data

    def json(self, method, path, body=None, headers=None):
        status, _, data = self.request(method, path, body, headers)
        try:
            return status, json.loads(data)
        except ValueError:
            return status, data

    def stream(self, path, body, drop_after=None):
        """The SSE events' JSON objects, and whether [DONE] ended them."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=GUARD)
        c.request("POST", path, body=json.dumps(body))
        r = c.getresponse()
        events, done = [], False
        if r.status != 200:
            return r.status, [json.loads(r.read())], False
        while True:
            line = r.fp.readline()
            if not line:
                break
            line = line.decode().rstrip("\r\n")
            if not line.startswith("data: "):
                continue
            if line == "data: [DONE]":
                done = True
                break
            events.append(json.loads(line[6:]))
            if drop_after is not None and len(events) >= drop_after:
                c.sock.shutdown(socket.SHUT_RDWR)
                break
        c.close()
        return r.status, events, done

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        return self.proc.returncode


def text_of(events, chat):
    out = ""
    for e in events:
        for ch in e.get("choices", []):
            out += (ch.get("delta", {}).get("content") or "") if chat else ch.get("text", "")
    return out


def metric(h, name):
    status, _, data = h.request("GET", "/metrics")
    for line in data.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def main():
    harness.need_tiny()
    for prog in (HTTPD, CTL):
        if not os.access(prog, os.X_OK):
            harness.skip_all("%s not built" % prog)
    t = harness.Tap(33)
    bus = harness.Bus(os.path.join(harness.SRC, "tests", "integration", "daemon",
                                   "private-bus.conf"))
    daemon = harness.Daemon(bus.address,
                            "[Limits]\nMaxQueue=256\nMaxSessionsPerUser=128\n",
                            ["--model=tiny=" + harness.TINY])
    env = dict(os.environ, BITNET_BUS_ADDRESS=bus.address)
    h = hb = None
    try:
        end = time.monotonic() + GUARD
        while time.monotonic() < end and "ready" not in subprocess.run(
                [CTL, "models"], env=env, capture_output=True, text=True).stdout:
            time.sleep(0.1)
        h = Httpd(bus.address, ["--timeout", "2", "--max-body", "65536"])

        status, body = h.json("GET", "/health")
        t.ok(status == 200 and body == {"status": "ok"}, "GET /health: 200 ok", body)
        status, body = h.json("GET", "/v1/models")
        t.ok(status == 200 and [m["id"] for m in body["data"]] == ["tiny"],
             "GET /v1/models lists tiny", body)

        ref = subprocess.run([CTL, "generate", "-m", "tiny", "-n", "24", "--temp", "0", PROMPT],
                             env=env, capture_output=True, text=True, timeout=GUARD).stdout
        req = {"model": "tiny", "prompt": PROMPT, "max_tokens": 24, "temperature": 0}
        status, body = h.json("POST", "/v1/completions", req)
        whole = body["choices"][0]["text"] if status == 200 else None
        t.ok(whole and ref in (whole, whole + "\n"),
             "greedy /v1/completions equals bitnetctl generate", "%r vs %r" % (body, ref))
        t.ok(status == 200 and body["choices"][0]["finish_reason"] == "length"
             and body["usage"]["completion_tokens"] == 24 and body["usage"]["prompt_tokens"] > 0
             and body["usage"]["total_tokens"] == 24 + body["usage"]["prompt_tokens"]
             and body["object"] == "text_completion",
             "usage counts and finish_reason length", body)
        status, events, done = h.stream("/v1/completions", dict(req, stream=True))
        t.ok(status == 200 and done and text_of(events, False) == whole,
             "streamed /v1/completions: same text, ends with [DONE]",
             "%r vs %r" % (text_of(events, False), whole))
        t.ok(events and events[-1]["choices"][0]["finish_reason"] == "length"
             and all(e["choices"][0]["finish_reason"] is None for e in events[:-1]),
             "stream: finish_reason only on the last chunk", events[-1:])
        cp = subprocess.run(["curl", "-sS", "-H", "Content-Type: application/json", "-d",
                             json.dumps(req), "http://127.0.0.1:%d/v1/completions" % h.port],
                            capture_output=True, text=True, timeout=GUARD)
        try:
            ctext = json.loads(cp.stdout)["choices"][0]["text"]
        except (ValueError, KeyError):
            ctext = None
        t.ok(ctext == whole, "curl gets the same completion", cp.stdout + cp.stderr)
        cp = subprocess.run(["curl", "-sSN", "-d", json.dumps(dict(req, stream=True)),
                             "http://127.0.0.1:%d/v1/completions" % h.port],
                            capture_output=True, text=True, timeout=GUARD)
        lines = [ln[6:] for ln in cp.stdout.splitlines() if ln.startswith("data: ")]
        t.ok(lines and lines[-1] == "[DONE]"
             and text_of([json.loads(x) for x in lines[:-1]], False) == whole,
             "curl -N stream gives the same text", cp.stdout[-400:])

        chat = {"model": "tiny", "messages": [{"role": "system", "content": "Speak."},
                                              {"role": "user", "content": "Who art thou?"}],
                "max_tokens": 16, "temperature": 0, "stop": ["\n\n"]}
        status, body = h.json("POST", "/v1/chat/completions", chat)
        ctext = body["choices"][0]["message"]["content"] if status == 200 else None
        t.ok(status == 200 and body["object"] == "chat.completion" and ctext is not None
             and body["choices"][0]["message"]["role"] == "assistant"
             and body["choices"][0]["finish_reason"] in ("stop", "length"),
             "chat completion (daemon's chat template)", body)
        status, events, done = h.stream("/v1/chat/completions",
                                        dict(chat, stream=True,
                                             stream_options={"include_usage": True}))
        t.ok(done and text_of(events, True) == ctext
             and events[0]["choices"][0]["delta"].get("role") == "assistant",
             "streamed chat: same text, role in the first delta",
             "%r vs %r" % (text_of(events, True), ctext))
        t.ok(events and events[-1].get("usage", {}).get("completion_tokens", 0) > 0,
             "stream_options.include_usage: a last usage chunk", events[-1:])
        status, body = h.json("POST", "/v1/completions",
                              dict(req, temperature=0.9, top_p=0.9, top_k=20, min_p=0.05,
                                   presence_penalty=0.5, frequency_penalty=0.5, seed=7,
                                   stop="\n", n=1, max_tokens=8))
        t.ok(status == 200 and body["usage"]["completion_tokens"] <= 8,
             "every sampling field accepted", body)

        def err(status, body, want, what, word=""):
            e = body.get("error", {}) if isinstance(body, dict) else {}
            t.ok(status == want and isinstance(e.get("message"), str) and word in e["message"]
                 and "type" in e, what, (status, body))

        err(*h.json("POST", "/v1/completions", '{"model": "tiny", "prompt": '), 400,
            "truncated JSON: 400", "JSON")
        err(*h.json("POST", "/v1/completions", "[1, 2]"), 400, "a JSON array: 400", "object")
        err(*h.json("POST", "/v1/completions", dict(req, best_of=3)), 400,
            "unknown field: 400 naming it", "best_of")
        err(*h.json("POST", "/v1/completions", dict(req, n=2)), 400, "n=2: 400", "n")
        err(*h.json("POST", "/v1/completions", dict(req, max_tokens="x")), 400,
            "max_tokens of the wrong type: 400", "max_tokens")
        err(*h.json("POST", "/v1/chat/completions", {"model": "tiny", "messages": []}), 400,
            "empty messages: 400", "messages")
        err(*h.json("POST", "/v1/completions", dict(req, model="nope")), 404,
            "unknown model: 404", "nope")
        err(*h.json("POST", "/v1/completions", "x" * 200000), 413,
            "200 kB body over --max-body 65536: 413")
        c = http.client.HTTPConnection("127.0.0.1", h.port, timeout=GUARD)
        c.request("POST", "/v1/completions", body=iter([b"{" + b" " * 40000] * 3),
                  encode_chunked=True)
        r = c.getresponse()
        status, data = r.status, r.read()
        c.close()
        t.ok(status == 413, "chunked body over the limit: 413", (status, data))
        err(*h.json("GET", "/v1/nothing"), 404, "unknown path: 404")
        err(*h.json("GET", "/v1/completions"), 405, "GET on a POST path: 405")

        # Slowloris: 20 connections trickle a header byte a second; others are served.
        slow = []
        for _ in range(20):
            s = socket.create_connection(("127.0.0.1", h.port))
            s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\n")
            slow.append(s)
        idle = socket.create_connection(("127.0.0.1", h.port))
        t0 = time.monotonic()
        served = True
        for i in range(3):
            for s in slow:
                try:
                    s.sendall(b"X-a: b\r\n")
                except OSError:
                    pass
            status, body = h.json("POST", "/v1/completions", dict(req, max_tokens=4))
            served = served and status == 200
            time.sleep(1)
        t.ok(served and time.monotonic() - t0 < 20,
             "20 slowloris connections: others still served", body)
        idle.settimeout(10)
        try:
            closed = idle.recv(1) == b""
        except OSError:
            closed = False
        t.ok(closed, "an idle connection is closed after --timeout 2")
        for s in slow + [idle]:
            s.close()

        # 64 concurrent streams; every fifth is dropped after its first event.
        results = [None] * 64
        before = metric(h, "bitnet_generated_tokens_total")

        def one(i):
            try:
                results[i] = h.stream("/v1/completions",
                                      dict(req, stream=True, max_tokens=200,
                                           stream_options={"include_usage": True}),
                                      drop_after=1 if i % 5 == 0 else None)
            except Exception as e:  # noqa: BLE001 - reported below
                results[i] = e
        threads = [threading.Thread(target=one, args=(i,)) for i in range(64)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(GUARD)
        kept = [r for i, r in enumerate(results) if i % 5]
        bad = [r for r in kept if not (isinstance(r, tuple) and r[0] == 200 and r[2])]
        t.ok(not bad, "64 concurrent streams: the 51 kept ones end with [DONE]", bad[:3])
        t.ok(h.alive(), "bitnet-httpd still running after the dropped streams")
        end = time.monotonic() + GUARD
        n = None
        while time.monotonic() < end:
            n = metric(h, "bitnet_active_sessions")
            if n == 0:
                break
            time.sleep(0.2)
        t.ok(n == 0, "bitnetd's session count returns to 0 (from /metrics)", n)
        # Cancelled, not run to the end: the dropped 13 generated less than 13 full answers.
        full = [r[1][-1]["usage"]["completion_tokens"] for r in kept if not bad]
        dropped = metric(h, "bitnet_generated_tokens_total") - before - sum(full)
        t.ok(full and dropped < 13 * full[0] / 2,
             "the 13 dropped streams were cancelled in bitnetd", (dropped, full[:1]))
        print("# dropped streams generated %d tokens; a full answer is %s" % (dropped, full[:1]))
        t.ok((metric(h, "bitnet_requests_total") or 0) > 64,
             "/metrics: bitnet_requests_total counts the requests")

        # A bearer token, when configured, is required.
        tok = tempfile.NamedTemporaryFile("w", delete=False)
        tok.write("s3cret\n")
        tok.close()
        hb = Httpd(bus.address, ["--token-file", tok.name])
        os.unlink(tok.name)
        s1, _ = hb.json("GET", "/v1/models")
        s2, _ = hb.json("GET", "/v1/models", headers={"Authorization": "Bearer wrong"})
        s3, _ = hb.json("GET", "/v1/models", headers={"Authorization": "Bearer s3cret"})
        t.ok((s1, s2, s3) == (401, 401, 200), "token file: 401 without/wrong, 200 right",
             (s1, s2, s3))

        try:
            import openai  # noqa: F401
            have_openai = True
        except ImportError:
            have_openai = False
        if have_openai:
            cl = openai.OpenAI(base_url="http://127.0.0.1:%d/v1" % h.port, api_key="x")
            r = cl.completions.create(model="tiny", prompt=PROMPT, max_tokens=24,
                                      temperature=0)
            t.ok(r.choices[0].text == whole, "python3-openai gets the same completion")
        else:
            t.skip("python3-openai client", "python3-openai is not packaged for bookworm")

        # bitnetd gone: 503.
        daemon.stop()
        status, body = h.json("POST", "/v1/completions", req)
        s2, _ = h.json("GET", "/health")
        t.ok(status == 503 and s2 == 503 and "error" in body, "bitnetd gone: 503", body)
    finally:
        for x in (h, hb):
            if x:
                rc = x.stop()
                if rc or t.failed:
                    x.log.seek(0)
                    print("# bitnet-httpd exited %d:" % rc)
                    for line in x.log.read().splitlines()[-40:]:
                        print("#   " + line)
        daemon.stop()
        bus.stop()
        shutil.rmtree(daemon.dir, ignore_errors=True)
    sys.exit(1 if t.failed else 0)


if __name__ == "__main__":
    main()
