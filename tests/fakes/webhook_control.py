"""Client for fake_webhook.py: start it, script its answers, read the calls it received.

    sys.path.insert(0, "<repo>/tests/fakes")
    from webhook_control import FakeWebhook

    with FakeWebhook.start() as hooks:
        url = hooks.url("/slack/T000/B000/secret")            # for the agent's webhook url
        hooks.script("/slack/T000/B000/secret", [{"status": 500, "count": 2}])   # then 200
        hooks.script("/hung", [{"hang": True, "count": -1}])
        calls = hooks.wait_calls("/slack/T000/B000/secret", 1)  # [{t_mono, json, status, ...}]

    hooks = FakeWebhook.start(tls=True, name="hooks.proxy.test")   # HTTPS; hooks.ca_file = its test CA

Python standard library only.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
from typing import Any, Callable, Optional

from fake_process import spawn_listening

FAKE_WEBHOOK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_webhook.py")


class FakeWebhook:
    def __init__(self, proc: Optional[subprocess.Popen], port: int, ca_dir: Optional[str] = None):
        self.proc = proc
        self.port = port
        self.ca_dir = ca_dir
        # With TLS: the test CA that signed the receiver's certificate (SSL_CERT_FILE for the agent).
        self.ca_file = os.path.join(ca_dir, "ca.pem") if ca_dir else None
        self.root = f"{'https' if ca_dir else 'http'}://127.0.0.1:{port}"

    @classmethod
    def start(cls, startup_timeout: float = 10.0, verbose: bool = False, tls: bool = False,
              name: Optional[str] = None) -> "FakeWebhook":
        cmd = [sys.executable, FAKE_WEBHOOK, "--port", "0", "--exit-with-parent"] + (["--verbose"] if verbose else [])
        ca_dir = tempfile.mkdtemp(prefix="fake-webhook-ca-") if tls else None
        if tls:
            cmd += ["--tls", "--ca-file", os.path.join(ca_dir, "ca.pem")] + (["--name", name] if name else [])
        try:
            proc, port = spawn_listening(cmd, "fake_webhook", startup_timeout, verbose)
        except RuntimeError:
            if ca_dir:
                shutil.rmtree(ca_dir, ignore_errors=True)
            raise
        return cls(proc, port, ca_dir)

    def stop(self, timeout: float = 5.0) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.ca_dir:
            shutil.rmtree(self.ca_dir, ignore_errors=True)

    def __enter__(self) -> "FakeWebhook":
        return self

    def __exit__(self, *_: Any) -> None:
        self.stop()

    def url(self, path: str) -> str:
        return self.root + path

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        if self.ca_file:
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                "127.0.0.1", self.port, timeout=10, context=ssl.create_default_context(cafile=self.ca_file))
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            data = None if body is None else json.dumps(body).encode()
            conn.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
            resp = conn.getresponse()
            payload = resp.read()
            if resp.status >= 400:
                raise RuntimeError(f"fake_webhook answered {resp.status}: {payload[:200]!r}")
            return json.loads(payload) if payload else None
        finally:
            conn.close()

    def script(self, path: str, replies: list, then: Optional[dict] = None) -> None:
        self._request("POST", "/fake/script", {"path": path, "replies": replies, "then": then})

    def calls(self, path: Optional[str] = None) -> list:
        query = "?" + urllib.parse.urlencode({"path": path}) if path else ""
        return self._request("GET", "/fake/requests" + query)["requests"]

    def wait_calls(self, path: Optional[str], n: int, timeout: float = 10.0,
                   where: Optional[Callable[[dict], bool]] = None) -> list:
        """Poll until at least n calls (matching where) reached path; return them."""
        deadline = time.monotonic() + timeout
        while True:
            got = [c for c in self.calls(path) if where is None or where(c)]
            if len(got) >= n:
                return got
            if self.proc and self.proc.poll() is not None:
                raise RuntimeError("fake_webhook exited")
            if time.monotonic() >= deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {n} webhook calls to {path} "
                                     f"(got {len(got)}: {[c.get('json') for c in got][:5]})")
            time.sleep(0.05)  # polling interval, not synchronisation

    def release(self) -> None:
        self._request("POST", "/fake/release", {})

    def reset(self) -> None:
        self._request("POST", "/fake/reset", {})
