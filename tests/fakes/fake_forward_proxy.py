#!/usr/bin/env python3
"""A fake HTTP forward proxy (the squid / corporate proxy an AKS HTTP proxy cluster points
HTTPS_PROXY and HTTP_PROXY at), for aks-node-agent's proxy tests (issue 15). Python 3 standard
library only; listens on loopback.

From Python tests (in-process, threads):

    from fake_forward_proxy import FakeForwardProxy
    proxy = FakeForwardProxy(hosts={"login.entra.test": "127.0.0.1"}).start()
    env = {"HTTPS_PROXY": proxy.url, "HTTP_PROXY": proxy.url}
    ...
    proxy.requests()        # [{"method", "target", "host", "proxyAuthorization": bool,
                            #   "authOk": bool|None, "status", "t"}]
    proxy.set_fault("status", status=407)   # or "hang", "huge_header", "close", "mitm", None
    proxy.stop()

or standalone:  python3 tests/fakes/fake_forward_proxy.py --port 0 [--map NAME=ADDR] [--auth user:pass]
                -> prints "LISTENING <port>".

What it does, like squid:
  * CONNECT host:port HTTP/1.1  -> connects to host:port, answers
    "HTTP/1.1 200 Connection established" and relays bytes both ways until either side closes;
  * GET http://host:port/path HTTP/1.1 (absolute-URI form) -> forwards the request in origin
    form (Proxy-Authorization and Proxy-Connection removed, Via added) and relays the answer
    (Content-Length, chunked or until close, streamed as it comes); the client connection stays
    open for the next request when the answer allows it;
  * a request in origin form (GET /path) is not a proxy request: 400;
  * unknown target host or refused connection: 502 / 503 as squid answers them;
  * `auth="user:pass"`: without the matching Proxy-Authorization Basic header the answer is
    407 Proxy Authentication Required with Proxy-Authenticate: Basic realm="fake-proxy".

`hosts` maps names to addresses (the proxy resolves them, as a real proxy resolves names the
node cannot): tests use names such as kube.proxy.test that only the proxy knows, so a request
that reaches the target must have gone through the proxy.

Faults (set_fault, applied to every request until changed):
    ("status", status=403)  answer every request / CONNECT with that status (407 adds
                            Proxy-Authenticate)
    ("hang",)               read the request, never answer (until stop())
    ("huge_header",)        answer CONNECT with "HTTP/1.1 200 ..." and then header lines without
                            end (up to 64 MiB or until the client hangs up)
    ("close",)              answer CONNECT with 200, then close at once (mid-TLS-handshake)
    ("mitm", cert=, key=)   answer CONNECT with 200 and then terminate TLS itself with the given
                            certificate (one the client does not trust for the target)
Records never hold the credentials: only whether Proxy-Authorization was present and matched.
"""

from __future__ import annotations

import argparse
import base64
import os
import select
import socket
import ssl
import sys
import threading
import time
from typing import Optional

MAX_HEAD = 64 * 1024


class _Fault:
    def __init__(self, kind: Optional[str] = None, **params) -> None:
        self.kind = kind
        self.params = params


def _read_head(sock: socket.socket, buf: bytearray) -> Optional[bytes]:
    """Read until the end of an HTTP head; return it (buf keeps what follows), None at EOF."""
    while b"\r\n\r\n" not in buf:
        if len(buf) > MAX_HEAD:
            raise ValueError("request head too large")
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buf.extend(chunk)
    end = buf.index(b"\r\n\r\n") + 4
    head = bytes(buf[:end])
    del buf[:end]
    return head


def _parse_head(head: bytes):
    lines = head.decode("latin-1").split("\r\n")
    first = lines[0].split(" ")
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    return first, headers


def _header(headers, name: str) -> Optional[str]:
    for k, v in headers:
        if k.lower() == name.lower():
            return v
    return None


def _split_host_port(text: str, default_port: int):
    if text.startswith("["):
        end = text.index("]")
        host, rest = text[1:end], text[end + 1:]
        return host, int(rest[1:]) if rest.startswith(":") else default_port
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, int(port)
    return text, default_port


class FakeForwardProxy:
    def __init__(self, hosts: Optional[dict] = None, auth: Optional[str] = None, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.hosts = dict(hosts or {})
        self.auth = auth
        self._lock = threading.Lock()
        self._records: list = []
        self._fault = _Fault()
        self._stopping = threading.Event()
        self._sockets: set = set()
        self._listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, port))
        self._listener.listen(64)
        self.host = host
        self.port = self._listener.getsockname()[1]
        self._thread: Optional[threading.Thread] = None

    # -- control ---------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url_with(self, userinfo: str) -> str:
        return f"http://{userinfo}@{self.host}:{self.port}"

    def start(self) -> "FakeForwardProxy":
        self._thread = threading.Thread(target=self._accept_loop, daemon=True, name="fake-proxy-accept")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        try:
            self._listener.close()
        except OSError:
            pass
        with self._lock:
            socks = list(self._sockets)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass

    def set_fault(self, kind: Optional[str], **params) -> None:
        with self._lock:
            self._fault = _Fault(kind, **params)

    def requests(self) -> list:
        with self._lock:
            return [dict(r) for r in self._records]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def targets(self, method: Optional[str] = None) -> list:
        return [r["target"] for r in self.requests() if method is None or r["method"] == method]

    def __enter__(self) -> "FakeForwardProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- serving ---------------------------------------------------------------------------------

    def _track(self, s: socket.socket) -> None:
        with self._lock:
            self._sockets.add(s)

    def _untrack(self, s: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(s)
        try:
            s.close()
        except OSError:
            pass

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._track(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True, name="fake-proxy-conn").start()

    def _record(self, **entry) -> dict:
        entry["t"] = time.time()
        with self._lock:
            self._records.append(entry)
        return entry

    def _resolve(self, host: str) -> str:
        return self.hosts.get(host.lower(), host)

    def _auth_ok(self, headers) -> Optional[bool]:
        if self.auth is None:
            return None
        value = _header(headers, "Proxy-Authorization") or ""
        return value == "Basic " + base64.b64encode(self.auth.encode()).decode()

    @staticmethod
    def _send_status(client: socket.socket, status: int, reason: str, close: bool = True) -> None:
        body = f"fake-proxy: {status} {reason}\n".encode()
        extra = 'Proxy-Authenticate: Basic realm="fake-proxy"\r\n' if status == 407 else ""
        client.sendall((f"HTTP/1.1 {status} {reason}\r\nServer: fake-proxy\r\n{extra}"
                        f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
                        f"Connection: {'close' if close else 'keep-alive'}\r\n\r\n").encode() + body)

    def _serve(self, client: socket.socket) -> None:
        buf = bytearray()
        try:
            while not self._stopping.is_set():
                try:
                    head = _read_head(client, buf)
                except ValueError:
                    self._send_status(client, 431, "Request Header Fields Too Large")
                    return
                if head is None:
                    return
                (first, headers) = _parse_head(head)
                if len(first) != 3:
                    self._send_status(client, 400, "Bad Request")
                    return
                method, target, _version = first
                with self._lock:
                    fault = self._fault
                entry = self._record(method=method, target=target, host=_header(headers, "Host"),
                                     proxyAuthorization=_header(headers, "Proxy-Authorization") is not None,
                                     authOk=self._auth_ok(headers), status=None)
                if fault.kind == "hang":
                    self._stopping.wait()
                    return
                if fault.kind == "status":
                    entry["status"] = fault.params.get("status", 403)
                    self._send_status(client, entry["status"], fault.params.get("reason", "Forbidden"))
                    return
                if entry["authOk"] is False:
                    entry["status"] = 407
                    self._send_status(client, 407, "Proxy Authentication Required")
                    return
                if method == "CONNECT":
                    self._connect(client, target, buf, fault, entry)
                    return
                if not target.lower().startswith("http://"):
                    entry["status"] = 400
                    self._send_status(client, 400, "Bad Request")
                    return
                if not self._forward(client, method, target, headers, buf, entry):
                    return
        except OSError:
            return
        finally:
            self._untrack(client)

    def _connect(self, client: socket.socket, target: str, buf: bytearray, fault: _Fault, entry: dict) -> None:
        if fault.kind == "huge_header":
            entry["status"] = 200
            client.sendall(b"HTTP/1.1 200 Connection established\r\n")
            line = b"X-Padding: " + b"a" * 1000 + b"\r\n"
            sent = 0
            while sent < (64 << 20) and not self._stopping.is_set():
                client.sendall(line)
                sent += len(line)
            return
        if fault.kind == "close":
            entry["status"] = 200
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            client.shutdown(socket.SHUT_RDWR)
            return
        if fault.kind == "mitm":
            entry["status"] = 200
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(fault.params["cert"], fault.params["key"])
            try:
                tls = ctx.wrap_socket(client, server_side=True)
                entry["mitmHandshake"] = True  # the client trusted us: it must not
                tls.recv(65536)
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            except (ssl.SSLError, OSError):
                entry["mitmHandshake"] = False
            return
        try:
            host, port = _split_host_port(target, 443)
        except ValueError:
            entry["status"] = 400
            self._send_status(client, 400, "Bad Request")
            return
        try:
            upstream = socket.create_connection((self._resolve(host), port), timeout=5)
        except OSError:
            entry["status"] = 503
            self._send_status(client, 503, "Service Unavailable")
            return
        upstream.settimeout(None)
        self._track(upstream)
        entry["status"] = 200
        try:
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if buf:
                upstream.sendall(bytes(buf))
            self._pipe(client, upstream)
        finally:
            self._untrack(upstream)

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        while not self._stopping.is_set():
            ready, _, _ = select.select([a, b], [], [], 0.5)
            for s in ready:
                data = s.recv(65536)
                if not data:
                    return
                peers[s].sendall(data)

    def _forward(self, client: socket.socket, method: str, target: str, headers, buf: bytearray,
                 entry: dict) -> bool:
        """Forward one absolute-URI request; True if the client connection stays open."""
        rest = target[len("http://"):]
        authority, slash, path = rest.partition("/")
        path = "/" + path if slash else "/"
        try:
            host, port = _split_host_port(authority, 80)
        except ValueError:
            entry["status"] = 400
            self._send_status(client, 400, "Bad Request")
            return False
        length = int(_header(headers, "Content-Length") or 0)
        while len(buf) < length:
            chunk = client.recv(65536)
            if not chunk:
                return False
            buf.extend(chunk)
        body = bytes(buf[:length])
        del buf[:length]
        try:
            upstream = socket.create_connection((self._resolve(host), port), timeout=5)
        except OSError:
            entry["status"] = 502
            self._send_status(client, 502, "Bad Gateway", close=False)
            return True
        upstream.settimeout(None)
        self._track(upstream)
        try:
            kept = [(k, v) for k, v in headers
                    if k.lower() not in ("proxy-authorization", "proxy-connection", "connection")]
            out = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in kept)
            out += "Via: 1.1 fake-proxy\r\nConnection: close\r\n\r\n"
            upstream.sendall(out.encode("latin-1") + body)
            return self._relay_response(client, upstream, method, entry)
        finally:
            self._untrack(upstream)

    def _relay_response(self, client: socket.socket, upstream: socket.socket, method: str, entry: dict) -> bool:
        ubuf = bytearray()
        head = _read_head(upstream, ubuf)
        if head is None:
            entry["status"] = 502
            self._send_status(client, 502, "Bad Gateway")
            return False
        first, headers = _parse_head(head)
        entry["status"] = int(first[1])
        length = _header(headers, "Content-Length")
        chunked = "chunked" in (_header(headers, "Transfer-Encoding") or "").lower()
        no_body = method == "HEAD" or entry["status"] in (204, 304) or 100 <= entry["status"] < 200
        keep = length is not None or chunked or no_body
        kept = [(k, v) for k, v in headers if k.lower() not in ("connection", "keep-alive")]
        out = " ".join(first) + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in kept)
        out += f"Connection: {'keep-alive' if keep else 'close'}\r\n\r\n"
        client.sendall(out.encode("latin-1"))
        if no_body:
            return True
        if length is not None:
            remaining = int(length)
            if ubuf:
                part = bytes(ubuf[:remaining])
                client.sendall(part)
                remaining -= len(part)
            while remaining > 0:
                data = upstream.recv(min(65536, remaining))
                if not data:
                    return False
                client.sendall(data)
                remaining -= len(data)
            return True
        if chunked:
            # Relay as it comes until the last chunk and the empty trailer line.
            window = bytearray(ubuf)
            if ubuf:
                client.sendall(bytes(ubuf))
            while not window.endswith(b"0\r\n\r\n"):
                data = upstream.recv(65536)
                if not data:
                    return False
                client.sendall(data)
                window.extend(data)
                del window[:-16]
            return True
        if ubuf:
            client.sendall(bytes(ubuf))
        while True:
            data = upstream.recv(65536)
            if not data:
                return False
            client.sendall(data)


def main(argv: Optional[list] = None) -> int:
    ap = argparse.ArgumentParser(description="Fake HTTP forward proxy (absolute-URI and CONNECT).")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--map", action="append", default=[], metavar="NAME=ADDR",
                    help="resolve NAME to ADDR (repeatable)")
    ap.add_argument("--auth", help="require Proxy-Authorization Basic for user:pass")
    ap.add_argument("--verbose", action="store_true", help="print each request record to stderr")
    args = ap.parse_args(argv)
    if not args.host.startswith("127.") and args.host not in ("::1", "localhost"):
        ap.error("the fake listens on loopback only")
    hosts = dict(m.split("=", 1) for m in args.map)
    proxy = FakeForwardProxy(hosts=hosts, auth=args.auth, host=args.host, port=args.port).start()
    print(f"LISTENING {proxy.port}", flush=True)
    seen = 0
    try:
        while True:
            time.sleep(0.5)  # the standalone fake has nothing else to do
            if args.verbose:
                records = proxy.requests()
                for r in records[seen:]:
                    sys.stderr.write(f"{r}\n")
                seen = len(records)
    except KeyboardInterrupt:
        proxy.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
