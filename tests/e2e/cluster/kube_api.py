"""A small JSON REST client for the API server (admin client certificate), for test set-up
and assertions: the tests read what the API server holds, not what a client cached.
One keep-alive connection per thread; Python standard library only."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
import urllib.parse
from typing import Any, Callable, Optional

MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"


class KubeApi:
    def __init__(self, server: str, ca: str, cert: str, key: str, timeout: float = 30.0):
        u = urllib.parse.urlsplit(server)
        self.host, self.port = u.hostname, u.port
        self.ctx = ssl.create_default_context(cafile=ca)
        self.ctx.load_cert_chain(cert, key)
        self.timeout = timeout
        self._local = threading.local()

    def _conn(self) -> http.client.HTTPSConnection:
        c = getattr(self._local, "conn", None)
        if c is None:
            c = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=self.timeout)
            self._local.conn = c
        return c

    def request(self, method: str, path: str, body: Any = None,
                content_type: str = "application/json") -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = content_type
        for attempt in (1, 2):
            c = self._conn()
            try:
                c.request(method, path, body=data, headers=headers)
                r = c.getresponse()
                raw = r.read()
                break
            except (http.client.HTTPException, ConnectionError, ssl.SSLError, TimeoutError):
                c.close()
                self._local.conn = None
                if attempt == 2:
                    raise
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = raw.decode("utf-8", "replace")
        return r.status, doc

    def watch(self, path: str, on_event: Callable[[str, dict], None], stop: threading.Event,
              timeout_seconds: int = 600) -> None:
        """Stream a watch (its own connection) calling on_event(type, object) for each line
        until stop is set or the server ends it. For timing what the API server accepted, a
        watch sees every change, where polling a LIST can miss short-lived states."""
        sep = "&" if "?" in path else "?"
        c = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=self.timeout)
        c.request("GET", f"{path}{sep}watch=1&timeoutSeconds={timeout_seconds}",
                  headers={"Accept": "application/json"})
        r = c.getresponse()
        if r.status != 200:
            raise RuntimeError(f"watch {path} -> {r.status}: {r.read()[:300]!r}")
        c.sock.settimeout(None)  # a quiet watch is not an error
        sock = c.sock  # http.client drops c.sock when the watch ends on its own

        def closer() -> None:  # unblocks the read below when the caller says stop
            stop.wait()
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        threading.Thread(target=closer, daemon=True).start()
        try:
            for line in r:
                if line.strip():
                    ev = json.loads(line)
                    on_event(ev["type"], ev["object"])
        except (OSError, http.client.HTTPException, ValueError):
            if not stop.is_set():
                raise
        finally:
            stop.set()
            c.close()

    def get(self, path: str) -> tuple[int, Any]:
        return self.request("GET", path)

    def must(self, method: str, path: str, body: Any = None, content_type: str = "application/json",
             ok: tuple = (200, 201, 202)) -> Any:
        status, doc = self.request(method, path, body, content_type)
        if status not in ok:
            raise RuntimeError(f"{method} {path} -> {status}: {doc}")
        return doc

    # -- shortcuts used by the suite --------------------------------------------------------

    def node(self, name: str) -> dict:
        return self.must("GET", f"/api/v1/nodes/{name}")

    def pods(self, namespace: Optional[str] = None, node: Optional[str] = None,
             selector: Optional[str] = None) -> list:
        base = f"/api/v1/namespaces/{namespace}/pods" if namespace else "/api/v1/pods"
        q = {}
        if node:
            q["fieldSelector"] = f"spec.nodeName={node}"
        if selector:
            q["labelSelector"] = selector
        path = base + ("?" + urllib.parse.urlencode(q) if q else "")
        return self.must("GET", path)["items"]

    def events(self, namespace: str = "default", field_selector: Optional[str] = None) -> list:
        q = "?" + urllib.parse.urlencode({"fieldSelector": field_selector}) if field_selector else ""
        return self.must("GET", f"/api/v1/namespaces/{namespace}/events{q}")["items"]

    def apply(self, obj: dict) -> dict:
        """Server-side apply as the test (field manager e2e), creating or updating."""
        kind_path = _path_for(obj)
        return self.must("PATCH", kind_path + "?fieldManager=e2e&force=true", obj,
                         "application/apply-patch+yaml")


# kind -> (api prefix, plural, namespaced)
_KINDS = {
    "Node": ("/api/v1", "nodes", False),
    "Namespace": ("/api/v1", "namespaces", False),
    "Pod": ("/api/v1", "pods", True),
    "Deployment": ("/apis/apps/v1", "deployments", True),
    "StatefulSet": ("/apis/apps/v1", "statefulsets", True),
    "DaemonSet": ("/apis/apps/v1", "daemonsets", True),
    "PodDisruptionBudget": ("/apis/policy/v1", "poddisruptionbudgets", True),
    "Service": ("/api/v1", "services", True),
}


def _path_for(obj: dict) -> str:
    prefix, plural, namespaced = _KINDS[obj["kind"]]
    meta = obj["metadata"]
    if namespaced:
        return f"{prefix}/namespaces/{meta.get('namespace', 'default')}/{plural}/{meta['name']}"
    return f"{prefix}/{plural}/{meta['name']}"
