#!/usr/bin/env python3
"""A fake webhook receiver (Slack, Teams, anything that takes a JSON POST) for the agent's
notification tests and the demo. Python 3 standard library only, loopback only.

    python3 tests/fakes/fake_webhook.py --port 0 [--port-file F] [--exit-with-parent]
    # prints "LISTENING <port>"; the agent then posts to http://127.0.0.1:<port>/<any path>
    python3 tests/fakes/fake_webhook.py --port 0 --tls --ca-file CA.pem [--name hooks.proxy.test]
    # the same over HTTPS (control API included): a test CA made at start-up, written to
    # --ca-file, signs the server's certificate for 127.0.0.1, localhost and --name (a name only
    # a test's forward proxy resolves, tests/fakes/fake_forward_proxy.py). The agent trusts the
    # CA through SSL_CERT_FILE (tests/integration/agent_notifications_proxy_test.py).

Every POST to a path outside /fake/ is a webhook call: it is recorded (time received, path,
headers, body, parsed JSON) and answered as scripted for that path:

    POST /fake/script {"path": "/hooks/a", "replies": [{"status": 500, "count": 2}, {"status": 200}],
                       "then": {"status": 200}}
      reply fields: status (200), delayMs (answer after a delay), hang (never answer until
      /fake/release or /fake/reset), headers ({"Retry-After": "1"}), body ("ok"), count (1;
      -1 = for ever). After the replies, "then" answers (default 200).
    GET  /fake/requests[?path=P]   the calls received, oldest first: {seq, t_mono, t_wall, path, headers,
                                   body, json, status (null while unanswered), t_answered, tls (bool),
                                   sni (the TLS server name the client sent, or null)}
    DELETE /fake/requests          forget them
    POST /fake/release             answer every hung call (with 200) now
    POST /fake/reset               scripts and calls forgotten, hung calls released
    GET  /fake/health              {"ok": true}

t_mono is time.monotonic() (system-wide CLOCK_MONOTONIC on Linux), comparable with a test's own
clock and with the other fakes' t_mono. SIGTERM/SIGINT stop it at once, even with calls hung.

make_certificates(directory, name) is importable: a test uses it for a certificate that names the
right host but chains to a CA the agent does not trust (a TLS-intercepting proxy's).
TLS needs the `openssl` command line tool, like tests/fakes/fake_entra.py.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import secrets
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from typing import Any, Optional

from fake_process import HandshakeOnRequestThread, serve

MAX_BODY = 1 << 20


class State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[dict] = []
        self.scripts: dict[str, dict] = {}
        self.cond = threading.Condition(self.lock)
        self.releases = 0  # bumped by /fake/release and /fake/reset: hung calls answer
        self.stopping = threading.Event()
        self.seq = 0

    def release_hung(self) -> None:
        with self.cond:
            self.releases += 1
            self.cond.notify_all()

    def next_reply(self, path: str) -> dict:
        with self.lock:
            script = self.scripts.get(path)
            if not script:
                return {"status": 200}
            replies = script["replies"]
            while replies:
                head = replies[0]
                count = int(head.get("count", 1))
                if count == 0:
                    replies.pop(0)
                    continue
                if count > 0:
                    head["count"] = count - 1
                return head
            return script.get("then") or {"status": 200}


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], capture_output=True, check=True)


def make_certificates(directory: str, name: Optional[str] = None) -> tuple[str, str, str]:
    """A test CA and a server certificate it signs for 127.0.0.1, localhost and name:
    (ca.pem, tls.crt, tls.key) in directory. EC P-256 keys (quick to make)."""
    ca_key, ca_cert = os.path.join(directory, "ca.key"), os.path.join(directory, "ca.pem")
    key, csr, cert = (os.path.join(directory, f) for f in ("tls.key", "tls.csr", "tls.crt"))
    ext = os.path.join(directory, "tls.ext")
    curve = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    _openssl("req", "-x509", *curve, "-keyout", ca_key, "-out", ca_cert, "-days", "2",
             "-subj", f"/CN=fake-webhook test CA {secrets.token_hex(4)}",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    _openssl("req", "-new", *curve, "-keyout", key, "-out", csr, "-subj", f"/CN={name or 'localhost'}")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost" + (f",DNS:{name}" if name else "") + "\n"
                "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-set_serial",
             str(secrets.randbits(63)), "-days", "2", "-out", cert, "-extfile", ext)
    return ca_cert, cert, key


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)

    def remember_sni(sock: Any, server_name: Optional[str], _ctx: ssl.SSLContext) -> None:
        sock.fake_sni = server_name  # read into the call's record (Handler.do_POST)
    ctx.sni_callback = remember_sni
    return ctx


class Handler(HandshakeOnRequestThread, http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "Server"

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet unless --verbose
        if self.server.verbose:
            sys.stderr.write("fake_webhook: " + (fmt % args) + "\n")

    def _send(self, status: int, body: Any, headers: Optional[dict] = None) -> None:
        data = body if isinstance(body, bytes) else (json.dumps(body) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if not isinstance(body, bytes) else "text/plain")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        state = self.server.state
        if url.path == "/fake/health":
            return self._send(200, {"ok": True})
        if url.path == "/fake/requests":
            want = urllib.parse.parse_qs(url.query).get("path", [None])[0]
            with state.lock:
                calls = [dict(c) for c in state.calls if want is None or c["path"] == want]
            return self._send(200, {"requests": calls})
        self._send(404, {"error": "not found"})

    def do_DELETE(self) -> None:
        state = self.server.state
        if urllib.parse.urlsplit(self.path).path == "/fake/requests":
            with state.lock:
                state.calls.clear()
            return self._send(200, {})
        self._send(404, {"error": "not found"})

    def do_POST(self) -> None:
        t_mono, t_wall = time.monotonic(), time.time()
        url = urllib.parse.urlsplit(self.path)
        state = self.server.state
        try:
            raw = self._body()
        except ValueError as exc:
            return self._send(400, {"error": str(exc)})
        if url.path.startswith("/fake/"):
            return self._control(url.path, raw)
        try:
            parsed: Any = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            parsed = None
        with state.lock:
            state.seq += 1
            call = {"seq": state.seq, "t_mono": t_mono, "t_wall": t_wall, "path": url.path, "query": url.query,
                    "headers": {k: v for k, v in self.headers.items()}, "body": raw.decode("utf-8", "replace"),
                    "json": parsed, "status": None, "t_answered": None,
                    "tls": isinstance(self.connection, ssl.SSLSocket),
                    "sni": getattr(self.connection, "fake_sni", None)}
            state.calls.append(call)
            generation = state.releases
        reply = state.next_reply(url.path)
        if reply.get("hang"):
            # Until released, reset or stopped; the client giving up leaves us here (harmless).
            with state.cond:
                state.cond.wait_for(lambda: state.releases != generation or state.stopping.is_set())
            reply = {"status": 200}
        elif reply.get("delayMs"):
            state.stopping.wait(float(reply["delayMs"]) / 1000.0)
        status = int(reply.get("status", 200))
        with state.lock:
            call["status"] = status
            call["t_answered"] = time.monotonic()
        try:
            self._send(status, str(reply.get("body", "ok")).encode(), reply.get("headers"))
        except OSError:
            pass  # the client left (its timeout): recorded all the same

    def _control(self, path: str, raw: bytes) -> None:
        state = self.server.state
        try:
            body = json.loads(raw.decode() or "{}")
        except ValueError:
            return self._send(400, {"error": "invalid JSON"})
        if path == "/fake/script":
            if not isinstance(body, dict) or not isinstance(body.get("path"), str):
                return self._send(400, {"error": "expected {\"path\": ..., \"replies\": [...]}"})
            with state.lock:
                state.scripts[body["path"]] = {"replies": [dict(r) for r in body.get("replies") or []],
                                               "then": body.get("then")}
            return self._send(200, {})
        if path == "/fake/release":
            state.release_hung()
            return self._send(200, {})
        if path == "/fake/reset":
            with state.lock:
                state.calls.clear()
                state.scripts.clear()
            state.release_hung()
            return self._send(200, {})
        self._send(404, {"error": "not found"})


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], verbose: bool = False, tls: Optional[ssl.SSLContext] = None):
        self.state = State()
        self.verbose = verbose
        super().__init__(address, Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def stop(self) -> None:
        self.state.stopping.set()
        self.state.release_hung()
        self.shutdown()
        self.server_close()


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description="Fake webhook receiver (records and scripts JSON POSTs).")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--exit-with-parent", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--tls", action="store_true", help="serve HTTPS with a certificate from a test CA")
    ap.add_argument("--ca-file", help="with --tls (required): write the test CA's certificate (PEM) here")
    ap.add_argument("--name", help="with --tls: a host name for the certificate besides 127.0.0.1 and localhost")
    args = ap.parse_args(argv)
    if args.tls and not args.ca_file:
        ap.error("--tls needs --ca-file (the client must trust the test CA)")
    if (args.name or args.ca_file) and not args.tls:
        ap.error("--name and --ca-file go with --tls")
    tls = None
    if args.tls:
        workdir = tempfile.mkdtemp(prefix="fake-webhook-")
        try:
            ca, cert, key = make_certificates(workdir, args.name)
            tls = tls_context(cert, key)
            shutil.copyfile(ca, f"{args.ca_file}.tmp.{os.getpid()}")
            os.replace(f"{args.ca_file}.tmp.{os.getpid()}", args.ca_file)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)  # the context holds the key now
    server = Server(("127.0.0.1", args.port), args.verbose, tls)
    return serve(server, server.state.stopping, args.exit_with_parent, args.port_file)


if __name__ == "__main__":
    sys.exit(main())
