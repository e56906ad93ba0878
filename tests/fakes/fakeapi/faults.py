"""Fault injection, the request log and per-verb/resource/node statistics."""

import re
import threading

from .util import ApiError

# Reason and message a real server (or the proxy in front of it) would send per code.
CODE_REASONS = {
    400: ("BadRequest", "bad request (injected)"),
    401: ("Unauthorized", "Unauthorized"),
    403: ("Forbidden", "forbidden (injected)"),
    404: ("NotFound", "the server could not find the requested resource"),
    409: ("Conflict", "Operation cannot be fulfilled: the object has been modified; please apply your changes "
                      "to the latest version and try again"),
    410: ("Expired", "The provided continue parameter is too old to display a consistent list result. You can "
                     "start a new list without the continue parameter."),
    422: ("Invalid", "invalid (injected)"),
    429: ("TooManyRequests", "Too many requests, please try again later."),
    500: ("InternalError", "Internal error occurred: injected fault"),
    503: ("ServiceUnavailable", "The server is currently unable to handle the request"),
    504: ("Timeout", "Timeout: request did not complete within the allotted timeout"),
}


class Fault:
    FIELDS = ("method", "path", "query", "status", "count", "skip", "retryAfter", "body", "contentType", "reset",
              "delayMs")

    def __init__(self, fid, spec):
        if not isinstance(spec, dict):
            raise ApiError.bad_request("fault must be a JSON object")
        unknown = set(spec) - set(self.FIELDS)
        if unknown:
            raise ApiError.bad_request("unknown fault fields: %s" % ", ".join(sorted(unknown)))
        self.id = fid
        self.spec = spec
        self.method = (spec.get("method") or "*").upper()
        try:
            self.path = re.compile(spec.get("path") or "")
            self.query = re.compile(spec.get("query") or "")
        except re.error as e:
            raise ApiError.bad_request("bad fault regex: %s" % e)
        self.status = spec.get("status")
        self.remaining = int(spec.get("count", 1))
        self.skip = int(spec.get("skip", 0))
        self.delay = float(spec.get("delayMs", 0)) / 1000.0
        self.reset = bool(spec.get("reset"))
        self.hits = 0
        if self.status is None and not self.reset and not self.delay:
            raise ApiError.bad_request("a fault needs status, reset or delayMs")

    def matches(self, method, path, query):
        return (self.method in ("*", method) and self.path.search(path) is not None
                and self.query.search(query or "") is not None)

    def response(self):
        """(code, headers, body bytes or JSON object) for an injected status."""
        code = int(self.status)
        headers = {}
        if self.spec.get("retryAfter") is not None:
            headers["Retry-After"] = str(self.spec["retryAfter"])
        body = self.spec.get("body")
        if body is None:
            reason, msg = CODE_REASONS.get(code, ("", "injected fault"))
            err = ApiError(code, reason, msg)
            body = err.status()
            if self.spec.get("retryAfter") is not None:
                body["details"] = {"retryAfterSeconds": int(self.spec["retryAfter"])}
        if self.spec.get("contentType"):
            headers["Content-Type"] = self.spec["contentType"]
        return code, headers, body

    def describe(self):
        return dict(self.spec, id=self.id, hits=self.hits, remaining=self.remaining)


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.items = []
        self.next_id = 1

    def add(self, spec):
        specs = spec if isinstance(spec, list) else [spec]
        out = []
        with self.lock:
            for s in specs:
                f = Fault(self.next_id, s)
                self.next_id += 1
                self.items.append(f)
                out.append(f.describe())
        return out

    def clear(self, fid=None):
        with self.lock:
            self.items = [f for f in self.items if fid is not None and f.id != fid]

    def list(self):
        with self.lock:
            return [f.describe() for f in self.items]

    def take(self, method, path, query):
        """The first armed fault matching this request (consumes one use), or None."""
        with self.lock:
            for f in self.items:
                if f.remaining == 0 or not f.matches(method, path, query):
                    continue
                if f.skip > 0:
                    f.skip -= 1
                    continue
                if f.remaining > 0:
                    f.remaining -= 1
                f.hits += 1
                return f
        return None


def request_info(method, path, query):
    """(verb, resource, name) following the apiserver's RequestInfo rules."""
    parts = [p for p in path.split("/") if p]
    if not parts or parts[0] not in ("api", "apis"):
        return method.lower(), "", ""
    rest = parts[2:] if parts[0] == "api" else parts[3:]
    if len(rest) >= 3 and rest[0] == "namespaces" and not (len(rest) == 3 and rest[2] in ("status", "finalize")):
        rest = rest[2:]
    resource = rest[0] if rest else ""
    name = rest[1] if len(rest) > 1 else ""
    sub = rest[2] if len(rest) > 2 else ""
    if sub:
        resource += "/" + sub
    verb = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(method,
                                                                                                         method.lower())
    if not name:
        if method == "GET":
            verb = "watch" if "watch=true" in (query or "") or "watch=1" in (query or "") else "list"
        elif method == "DELETE":
            verb = "deletecollection"
    return verb, resource, name


class RequestLog:
    """Completed requests, numbered in completion order so `since=N` polling never
    misses an entry that was still in flight at the previous poll."""

    def __init__(self, cap=200000):
        self.lock = threading.Lock()
        self.entries = []
        self.seq = 0
        self.cap = cap
        self.stats = {}

    def clear(self):
        with self.lock:
            self.entries = []
            self.stats = {}

    def add(self, entry):
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            self.entries.append(entry)
            if len(self.entries) > self.cap:
                del self.entries[: len(self.entries) // 10]
            self._count(entry)
            return self.seq

    def _count(self, e):
        if e["path"].startswith("/fake/"):
            return
        s = self.stats
        s["total"] = s.get("total", 0) + 1
        vr = "%s %s" % (e["verb"], e["resource"]) if e["resource"] else "%s %s" % (e["verb"], e["path"])
        for key, val in (("byVerb", e["verb"]), ("byResource", e["resource"] or e["path"]), ("byVerbResource", vr),
                         ("byStatus", str(e["status"]))):
            d = s.setdefault(key, {})
            d[val] = d.get(val, 0) + 1
        if e.get("node"):
            d = s.setdefault("byNode", {}).setdefault(e["node"], {})
            d[vr] = d.get(vr, 0) + 1

    def since(self, n, limit=None, method=None, path_re=None):
        with self.lock:
            # entries are ordered by seq; find the first one > n by bisection
            lo, hi = 0, len(self.entries)
            while lo < hi:
                mid = (lo + hi) // 2
                if self.entries[mid]["seq"] <= n:
                    lo = mid + 1
                else:
                    hi = mid
            out = self.entries[lo:]
        if method:
            out = [e for e in out if e["method"] == method.upper()]
        if path_re:
            rx = re.compile(path_re)
            out = [e for e in out if rx.search(e["path"])]
        if limit:
            out = out[:limit]
        return out

    def snapshot_stats(self):
        with self.lock:
            import json
            return json.loads(json.dumps(self.stats)) if self.stats else {"total": 0}
