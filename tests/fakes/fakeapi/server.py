"""HTTP front end: routing, auth, content negotiation, the Kubernetes API and the
/fake/ control API. Business rules live in store/controller/seed; this module only
translates HTTP to calls and results (or ApiError) back to HTTP.
"""

import json
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import events as evconv
from . import resources, tables
from .controller import Controller
from .faults import Faults, RequestLog, request_info
from .neighbours import Neighbours
from .seed import KUBE_VERSION, Seeder
from .selectors import FieldSelector, LabelSelector
from .store import NODES, PODS, Store
from .util import ApiError, clone, dumps, success_status

MAX_BODY = 16 * 1024 * 1024


class FakeCluster:
    """Everything behind the HTTP layer, shared by all handler threads."""

    def __init__(self, grace_scale=0.0, replacement_ready_ms=200, unschedulable_taint_ms=100, tokens=()):
        self.store = Store()
        self.controller = Controller(self.store, grace_scale, replacement_ready_ms, unschedulable_taint_ms)
        self.seeder = Seeder(self.store, self.controller)
        self.faults = Faults()
        self.log = RequestLog()
        self.initial_tokens = set(tokens)
        self.tokens = set(tokens)
        self.tokens_lock = threading.Lock()
        # Largest page a list returns whatever limit the client asked for (0 = no cap). A real
        # API server may return fewer items than limit with a continue token (etcd paging with
        # a field selector, the watch cache): clients must follow continue until it is empty.
        self.max_list_page = 0
        self.store.reset()
        # node-problem-detector and Karpenter's node repair, off until a test asks for them.
        self.neighbours = Neighbours(self.store)

    def reset(self):
        self.neighbours.reset()
        self.max_list_page = 0
        with self.store.lock:
            self.controller.reset()
            self.seeder.reset()
            self.store.reset()
        self.faults.clear()
        self.log.clear()
        with self.tokens_lock:
            self.tokens = set(self.initial_tokens)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # ~100 agents connecting at once must not see refused connections

    def __init__(self, addr, cluster, verbose=False, ssl_context=None):
        self.cluster = cluster
        self.verbose = verbose
        self.ssl_context = ssl_context
        super().__init__(addr, Handler)

    def handle_error(self, request, client_address):
        # Clients that vanish or fail the TLS handshake are normal in fault tests.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            if self.verbose:
                sys.stderr.write("fake-apiserver: %s: %r\n" % (client_address, exc))
            return
        super().handle_error(request, client_address)

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.ssl_context is not None:
            # The TLS handshake runs later on the handler thread (Handler.setup), so one
            # slow or broken client cannot stall the accept loop.
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr


class RawJson(bytes):
    """A response body that is already serialised JSON."""


class _Reply(Exception):
    """Short-circuit with a complete response (code, headers, body)."""

    def __init__(self, code, body, headers=None):
        super().__init__(code)
        self.code, self.body, self.headers = code, body, headers or {}


def _wants_table(accept):
    return "as=Table" in (accept or "") and "meta.k8s.io" in (accept or "")


def _strip_list_item(o):
    # A real server's list items carry no kind/apiVersion; clients must not rely on them.
    if "kind" in o or "apiVersion" in o:
        o = {k: v for k, v in o.items() if k not in ("kind", "apiVersion")}
    return o


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms Nagle/delayed-ACK stalls
    server_version = "fake-kube-apiserver/" + KUBE_VERSION
    sys_version = ""

    # ---- plumbing --------------------------------------------------------------------
    def setup(self):
        if self.server.ssl_context is not None:
            self.request.settimeout(10)
            self.request.do_handshake()
            self.request.settimeout(None)
        super().setup()

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("fake-apiserver: %s - %s\n" % (self.address_string(), fmt % args))

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_DELETE(self):
        self._handle("DELETE")

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise ApiError(413, "RequestEntityTooLarge", "request entity too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise ApiError(413, "RequestEntityTooLarge", "request entity too large")
        return self.rfile.read(n) if n > 0 else b""

    def _json_body(self, raw):
        if not raw.strip():
            raise ApiError.bad_request("the request body is empty")
        try:
            return json.loads(raw)
        except ValueError as e:
            raise ApiError.bad_request("error decoding JSON body: %s" % e)

    def _send(self, code, body, headers=None):
        headers = dict(headers or {})
        if isinstance(body, RawJson):
            data = bytes(body)
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, (bytes, bytearray)):
            data = bytes(body)
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        elif isinstance(body, str):
            data = body.encode()
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        else:
            data = dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        self.send_response(code)
        headers.setdefault("Cache-Control", "no-cache, private")
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        return code

    def _reset_connection(self, code, body):
        """Send headers and half the body, then abort the TCP connection with RST."""
        data = dumps(body).encode() if not isinstance(body, (bytes, str)) else (
            body.encode() if isinstance(body, str) else body)
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True
        try:
            self.connection.close()
        except OSError:
            pass

    def _handle(self, method):
        cluster = self.server.cluster
        t_mono, t_wall = time.monotonic(), time.time()
        url = urlsplit(self.path)
        path, query = url.path, url.query
        self.q = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        self.node_hint = ""
        status = 0
        logged = False
        try:
            try:
                raw = self._read_body()
                if path.startswith("/fake/") or path == "/fake":
                    code, body, headers = self._control(method, path, raw)
                else:
                    fault = cluster.faults.take(method, path, query)
                    if fault is not None:
                        if fault.delay:
                            time.sleep(fault.delay)  # injected on purpose: the only sleep on a request thread
                        if fault.reset:
                            self._reset_connection(int(fault.status or 200), {"kind": "Status", "apiVersion": "v1",
                                                                              "metadata": {}, "status": "Failure",
                                                                              "message": "connection reset (injected)"})
                            status = -1
                            return
                        if fault.status is not None:
                            fcode, fheaders, fbody = fault.response()
                            raise _Reply(fcode, fbody, fheaders)
                    self._auth()
                    code, body, headers = self._kube(method, path, raw)
            except _Reply as r:
                code, body, headers = r.code, r.body, r.headers
            except ApiError as e:
                code, body = e.code, e.status()
                headers = {"Retry-After": str(e.retry_after)} if e.retry_after else {}
            except (BrokenPipeError, ConnectionResetError):
                raise  # the client left (e.g. a watch ended by kubectl): not a bug
            except Exception as e:  # a fake bug becomes a visible 500, never a hung client
                import traceback
                traceback.print_exc()
                err = ApiError.internal("fake apiserver bug: %r" % e)
                code, body, headers = err.code, err.status(), {}
            if code is None:
                status = 200  # already streamed (a watch): logged below, when it ended
            else:
                # Logged before the answer goes out: a client that reads /fake/requests right
                # after its answer must find its request there (the log was once appended
                # after the send, and a fast client could read it first).
                status = code
                if not path.startswith("/fake/"):
                    self._log(method, path, query, t_mono, t_wall, status)
                    logged = True
                self._send(code, body, headers)
        except (BrokenPipeError, ConnectionResetError):
            status = status or -1
            self.close_connection = True
        finally:
            if not logged and not path.startswith("/fake/"):  # the log is about the Kubernetes API
                self._log(method, path, query, t_mono, t_wall, status)

    def _log(self, method, path, query, t_mono, t_wall, status):
        verb, resource, name = request_info(method, path, query)
        self.server.cluster.log.add({"t": t_mono, "wall": t_wall,
                                     "durationMs": round((time.monotonic() - t_mono) * 1000, 3),
                                     "method": method, "path": path, "query": query,
                                     "contentType": self.headers.get("Content-Type", ""),
                                     "userAgent": self.headers.get("User-Agent", ""), "status": status,
                                     "verb": verb, "resource": resource, "name": name, "node": self.node_hint})

    def _auth(self):
        cluster = self.server.cluster
        with cluster.tokens_lock:
            tokens = set(cluster.tokens)
        if not tokens:
            return
        h = self.headers.get("Authorization") or ""
        if h.startswith("Bearer ") and h[7:].strip() in tokens:
            return
        raise ApiError.unauthorized()

    # ---- Kubernetes API --------------------------------------------------------------
    def _kube(self, method, path, raw):
        parts = [p for p in path.split("/") if p]
        if path in ("/healthz", "/livez", "/readyz"):
            return 200, "ok", {}
        if parts == ["version"]:
            major, minor = KUBE_VERSION[1:].split(".")[:2]
            return 200, {"major": major, "minor": minor, "gitVersion": KUBE_VERSION,
                         "gitCommit": "fake0000000000000000000000000000000000", "gitTreeState": "clean",
                         "buildDate": "2024-10-22T20:28:14Z", "goVersion": "go1.22.8", "compiler": "gc",
                         "platform": "linux/amd64"}, {}
        # Discovery: always the plain (legacy) documents with Content-Type application/json;
        # client-go falls back from aggregated discovery when it sees that content type.
        if parts == ["api"]:
            return 200, {"kind": "APIVersions", "versions": ["v1"],
                         "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                         "serverAddress": "%s:%d" % self.server.server_address}]}, {}
        if parts == ["apis"]:
            return 200, resources.api_group_list(), {}
        if len(parts) == 2 and parts[0] == "apis":
            g = resources.api_group(parts[1])
            if g is None:
                raise ApiError.path_not_found()
            return 200, g, {}
        if len(parts) == 2 and parts[0] == "api" and parts[1] == "v1":
            return 200, resources.resource_list("", "v1"), {}
        if len(parts) == 3 and parts[0] == "apis" and (parts[1], parts[2]) in {
                (r.group, r.version) for r in resources.RESOURCES}:
            return 200, resources.resource_list(parts[1], parts[2]), {}

        if len(parts) < 3 or parts[0] not in ("api", "apis"):
            raise ApiError.path_not_found()
        if parts[0] == "api":
            group, version, rest = "", parts[1], parts[2:]
        else:
            if len(parts) < 4:
                raise ApiError.path_not_found()
            group, version, rest = parts[1], parts[2], parts[3:]
        ns = ""
        if rest[0] == "namespaces" and len(rest) >= 3 and not (len(rest) == 3 and rest[2] in ("status", "finalize")):
            ns, rest = rest[1], rest[2:]
        if len(rest) > 3:
            raise ApiError.path_not_found()
        plural = rest[0]
        name = rest[1] if len(rest) > 1 else ""
        sub = rest[2] if len(rest) > 2 else ""
        res = resources.BY_PATH.get((group, version, plural))
        if res is None or (ns and not res.namespaced):
            raise ApiError.path_not_found()
        if name and res.namespaced and not ns:
            raise ApiError.path_not_found()
        if sub and sub not in res.subresources:
            raise ApiError.path_not_found()
        dry_run = self.q.get("dryRun") == "All"
        store = self.server.cluster.store
        ctrl = self.server.cluster.controller
        self._note_node(res, ns, name)

        if method == "GET":
            if self.q.get("watch") in ("true", "1"):
                return self._watch(res, ns, name)
            if not name:
                return self._list(res, ns)
            if sub and sub != "status":
                raise ApiError.method_not_allowed(method)
            obj = store.get(res, ns, name)
            return 200, self._render_one(res, obj), {}

        if method == "POST":
            if sub == "eviction" and name:
                code, body = ctrl.evict(ns, name, self._json_body(raw), dry_run)
                return code, body, {}
            if name:
                raise ApiError.method_not_allowed(method)
            body = self._json_body(raw)
            if res.storage == resources.CORE_EVENTS and res.group == "events.k8s.io":
                body = evconv.events_to_core(body)
            obj = store.create(res, ns, body, dry_run)
            if res.storage == PODS and not dry_run:
                self._maybe_schedule_created_pod(obj)
                obj = store.get(res, ns, obj["metadata"]["name"])
            return 201, self._render_one(res, obj, table=False), {}

        if not name:
            raise ApiError.method_not_allowed(method)

        if method == "PUT":
            body = self._json_body(raw)
            if res.group == "events.k8s.io":
                body = evconv.events_to_core(body)
            obj = store.update(res, ns, name, body, sub or None, dry_run)
            return 200, self._render_one(res, obj, table=False), {}

        if method == "PATCH":
            ct = self.headers.get("Content-Type")
            ctype = (ct or "").split(";")[0].strip().lower()
            if ctype not in ("application/strategic-merge-patch+json", "application/merge-patch+json",
                             "application/json-patch+json"):
                raise ApiError.unsupported_media(ctype)
            if ctype == "application/strategic-merge-patch+json" and res.group == "events.k8s.io":
                raise ApiError.unsupported_media(ctype)
            obj = store.patch(res, ns, name, ct, self._json_body(raw), sub or None, dry_run)
            return 200, self._render_one(res, obj, table=False), {}

        if method == "DELETE":
            opts = self._json_body(raw) if raw.strip() else {}
            if not isinstance(opts, dict):
                raise ApiError.bad_request("DeleteOptions must be an object")
            grace = opts.get("gracePeriodSeconds")
            if "gracePeriodSeconds" in self.q:
                try:
                    grace = int(self.q["gracePeriodSeconds"])
                except ValueError:
                    raise ApiError.bad_request("gracePeriodSeconds must be an integer")
            dry_run = dry_run or bool(opts.get("dryRun"))
            if res.storage == PODS:
                obj = ctrl.delete_pod(ns, name, grace, opts.get("preconditions"), dry_run)
                return 200, self._render_one(res, obj, table=False), {}
            old = store.get(res, ns, name)
            pre = opts.get("preconditions") or {}
            if pre.get("uid") and pre["uid"] != old["metadata"].get("uid"):
                raise ApiError.conflict(res.plural, name, res.group, "Precondition failed: UID in precondition: %s, "
                                        "UID in object meta: %s" % (pre["uid"], old["metadata"].get("uid")))
            store.delete(res, ns, name, dry_run)
            st = success_status(200)
            st["details"] = {"name": name, "kind": res.plural, "uid": old["metadata"].get("uid")}
            if res.group:
                st["details"]["group"] = res.group
            return 200, st, {}

        raise ApiError.method_not_allowed(method)

    def _note_node(self, res, ns, name):
        """Attribute the request to a node for /fake/stats."""
        if res.storage == NODES and name:
            self.node_hint = name
        elif res.storage == PODS:
            fs = self.q.get("fieldSelector") or ""
            for term in fs.split(","):
                if term.startswith("spec.nodeName="):
                    self.node_hint = term.split("=", 1)[1]
            if name and not self.node_hint:
                p = self.server.cluster.store.raw(PODS, ns, name)
                if p is not None:
                    self.node_hint = (p.get("spec") or {}).get("nodeName", "")

    def _maybe_schedule_created_pod(self, obj):
        """A pod created through the API without a status gets 'started' by the fake kubelet."""
        ctrl = self.server.cluster.controller
        st = obj.get("status") or {}
        if st.get("phase"):
            return
        with ctrl.store.lock:
            cur = ctrl.store.raw(PODS, obj["metadata"]["namespace"], obj["metadata"]["name"])
            p = clone(cur)
            node = (p.get("spec") or {}).get("nodeName") or ctrl.pick_node(p)
            p["status"] = ctrl.fresh_pod(p, p["metadata"]["name"], node)["status"]
            if node:
                p["spec"]["nodeName"] = node
            ctrl.store.put(PODS, p)
            if node:
                ctrl.start_pod(p["metadata"]["namespace"], p["metadata"]["name"], p["metadata"]["uid"])
            else:
                ctrl.pending.add("%s/%s" % (p["metadata"]["namespace"], p["metadata"]["name"]))

    def _watch(self, res, ns, name):
        """A basic watch: chunked JSON lines {"type", "object"}; ends at timeoutSeconds.

        Enough for `kubectl get -w` and `kubectl wait`; the agent itself polls. With
        resourceVersion "" or "0" the current objects come first as ADDED; an expired
        resourceVersion gets the real server's ERROR event (410 Expired)."""
        store = self.server.cluster.store
        fsel = self.q.get("fieldSelector", "")
        if name:
            fsel = ",".join(x for x in (fsel, "metadata.name=" + name) if x)
        ls = LabelSelector.parse(self.q.get("labelSelector", ""))
        fs = FieldSelector.parse(fsel)
        fs.validate(res.supported_fields(), res.kind)
        try:
            timeout = float(self.q.get("timeoutSeconds") or 1800)
        except ValueError:
            raise ApiError.bad_request("timeoutSeconds must be a number")
        rv_param = self.q.get("resourceVersion", "")
        table = _wants_table(self.headers.get("Accept"))
        with store.lock:
            last = store.rv
            initial = []
            if rv_param in ("", "0"):
                initial, _ = store.list(res, ns, self.q.get("labelSelector", ""), fsel)
            else:
                try:
                    last = int(rv_param)
                except ValueError:
                    raise ApiError.bad_request("resourceVersion must be an integer")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()

        def emit(etype, obj):
            if etype != "ERROR":
                obj = self._view(res, obj)
                if table:
                    obj = tables.render(res.table, [obj], {"resourceVersion": obj["metadata"].get("resourceVersion")},
                                        self.q.get("includeObject") or "Metadata")
            data = dumps({"type": etype, "object": obj}).encode() + b"\n"
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        for o in initial:
            emit("ADDED", o)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with store.changed:
                seen = store.change_seq
            changes = store.changes_since(last)
            if changes is None:
                emit("ERROR", ApiError(410, "Expired", "too old resource version: %d (%d)"
                                       % (last, store.history[0][0] if store.history else 0)).status())
                break
            for rv, etype, storage, obj in changes:
                last = rv
                if storage != res.storage or (ns and (obj.get("metadata") or {}).get("namespace") != ns):
                    continue
                if not ls.matches((obj.get("metadata") or {}).get("labels")) or not fs.matches(res.fields(obj)):
                    continue
                emit(etype, store.decorate(storage, obj) if etype != "DELETED" else obj)
            if not changes:
                with store.changed:
                    if store.change_seq == seen:
                        store.changed.wait(min(1.0, max(0.0, deadline - time.monotonic())))
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        return None, None, None

    def _view(self, res, obj):
        if res.group == "events.k8s.io":
            return evconv.core_to_events(obj)
        return obj

    def _render_one(self, res, obj, table=True):
        obj = self._view(res, obj)
        if table and _wants_table(self.headers.get("Accept")):
            return tables.render(res.table, [obj], {"resourceVersion": obj["metadata"].get("resourceVersion", "")},
                                 self.q.get("includeObject") or "Metadata")
        return obj

    def _list(self, res, ns):
        try:
            limit = int(self.q.get("limit") or 0)
        except ValueError:
            raise ApiError.bad_request("limit must be an integer")
        cap = self.server.cluster.max_list_page
        if cap > 0:
            limit = min(limit, cap) if limit > 0 else cap
        items, meta = self.server.cluster.store.list(res, ns, self.q.get("labelSelector", ""),
                                                     self.q.get("fieldSelector", ""), max(0, limit),
                                                     self.q.get("continue", ""))
        if _wants_table(self.headers.get("Accept")):
            items = [self._view(res, o) for o in items]
            return 200, tables.render(res.table, items, meta, self.q.get("includeObject") or "Metadata"), {}
        store = self.server.cluster.store
        parts = []
        for o in items:
            text = store.list_item_json(res.storage, o) if res.group != "events.k8s.io" else None
            parts.append(text if text is not None else dumps(_strip_list_item(self._view(res, o))))
        return 200, RawJson(('{"kind":%s,"apiVersion":%s,"metadata":%s,"items":[%s]}' % (
            dumps(res.kind + "List"), dumps(res.api_version), dumps(meta), ",".join(parts))).encode()), {}

    # ---- /fake/ control API ----------------------------------------------------------
    def _control(self, method, path, raw):
        cluster = self.server.cluster
        store = cluster.store
        ctrl = cluster.controller
        what = path[len("/fake/"):].strip("/")
        body = self._json_body(raw) if raw.strip() else None

        if what == "seed" and method == "POST":
            specs = body if isinstance(body, list) else [body]
            out = [cluster.seeder.seed(s) for s in specs]
            return 200, out if isinstance(body, list) else out[0], {}

        if what == "objects":
            if method == "POST":
                objs = body.get("items") if isinstance(body, dict) and "items" in body else body
                objs = objs if isinstance(objs, list) else [objs]
                return 200, {"items": [self._upsert(o) for o in objs]}, {}
            res = self._res_for_kind(self.q.get("kind") or "")
            if method == "GET":
                with store.lock:
                    if res.storage == PODS and self.q.get("node"):
                        items = sorted(store.pods_on_node(self.q["node"]),
                                       key=lambda o: (o["metadata"].get("namespace"), o["metadata"]["name"]))
                    else:
                        items = store.all(res.storage)
                    if self.q.get("namespace"):
                        items = [o for o in items if o["metadata"].get("namespace") == self.q["namespace"]]
                    if self.q.get("name"):
                        items = [o for o in items if o["metadata"].get("name") == self.q["name"]]
                    items = [store.decorate(res.storage, o) for o in items]
                return 200, {"kind": res.kind + "List", "resourceVersion": str(store.rv), "items": items}, {}
            if method == "DELETE":
                name = self.q.get("name") or ""
                with store.lock:
                    old = store.remove(res.storage, self.q.get("namespace", ""), name,
                                       notify=self.q.get("controllers") in ("true", "1"))
                if old is None:
                    raise ApiError.not_found(res.plural, name, res.group)
                return 200, {"deleted": old["metadata"]["name"], "resourceVersion": str(store.rv)}, {}

        if what == "faults":
            if method == "POST":
                return 200, {"faults": cluster.faults.add(body)}, {}
            if method == "GET":
                return 200, {"faults": cluster.faults.list()}, {}
            if method == "DELETE":
                fid = self.q.get("id")
                cluster.faults.clear(int(fid) if fid else None)
                return 200, {"faults": cluster.faults.list()}, {}

        if what == "requests":
            if method == "GET":
                try:
                    since = int(self.q.get("since") or 0)
                    limit = int(self.q.get("limit") or 0) or None
                except ValueError:
                    raise ApiError.bad_request("since and limit are integers")
                items = cluster.log.since(since, limit, self.q.get("method"), self.q.get("path"))
                return 200, {"last": cluster.log.seq, "items": items}, {}
            if method == "DELETE":
                cluster.log.clear()
                return 200, {"last": cluster.log.seq}, {}

        if what == "conditionwriters" or what.startswith("conditionwriters/"):
            nb = cluster.neighbours
            wid = what[len("conditionwriters/"):] if "/" in what else ""
            if wid:
                if not wid.isdigit():
                    raise ApiError.bad_request("condition writer id is a number")
                if method in ("PUT", "PATCH", "POST"):
                    return 200, nb.update_writer(int(wid), body), {}
                if method == "DELETE":
                    nb.remove_writers(int(wid))
                    return 200, nb.describe(), {}
            elif method == "POST":
                specs = body if isinstance(body, list) else [body]
                return 200, {"conditionWriters": [nb.add_writer(x) for x in specs]}, {}
            elif method == "DELETE":
                nb.remove_writers()
                return 200, nb.describe(), {}
            if method == "GET":
                return 200, nb.describe(), {}

        if what == "karpenter":
            if method in ("POST", "PUT"):
                return 200, cluster.neighbours.set_repair(body or {}), {}
            if method == "DELETE":
                return 200, cluster.neighbours.set_repair(None), {}
            if method == "GET":
                return 200, cluster.neighbours.describe(), {}

        if what == "stats" and method == "GET":
            return 200, cluster.log.snapshot_stats(), {}

        if what == "reset" and method == "POST":
            cluster.reset()
            return 200, {"reset": True, "resourceVersion": str(store.rv)}, {}

        if what == "tokens":
            if method == "POST":
                toks = (body or {}).get("tokens")
                if not isinstance(toks, list) or not all(isinstance(t, str) for t in toks):
                    raise ApiError.bad_request('tokens: expected {"tokens": ["..."]}')
                with cluster.tokens_lock:
                    cluster.tokens = set(toks)
            with cluster.tokens_lock:
                return 200, {"authRequired": bool(cluster.tokens), "count": len(cluster.tokens)}, {}

        if what == "config":
            if method == "POST":
                b = body or {}
                if "graceScale" in b:
                    ctrl.grace_scale = float(b["graceScale"])
                if "replacementReadyMs" in b:
                    ctrl.replacement_ready_ms = float(b["replacementReadyMs"])
                if "unschedulableTaintMs" in b:
                    ctrl.unschedulable_taint_ms = float(b["unschedulableTaintMs"])
                if "maxListPage" in b:
                    cluster.max_list_page = max(0, int(b["maxListPage"]))
            return 200, {"graceScale": ctrl.grace_scale, "replacementReadyMs": ctrl.replacement_ready_ms,
                         "unschedulableTaintMs": ctrl.unschedulable_taint_ms,
                         "maxListPage": cluster.max_list_page}, {}

        if what == "health" and method == "GET":
            return 200, {"ok": True, "resourceVersion": str(store.rv), "timersPending": ctrl.timers.pending(),
                         "pendingPods": len(ctrl.pending)}, {}

        raise ApiError.path_not_found()

    def _res_for_kind(self, kind):
        res = resources.BY_KIND.get(kind.lower())
        if res is None:
            raise ApiError.bad_request("unknown kind %r (use e.g. node, pod, pdb, daemonset, event)" % kind)
        return res

    def _upsert(self, obj):
        """Create or replace any object as given (status included); controllers are told."""
        if not isinstance(obj, dict) or not isinstance(obj.get("metadata"), dict):
            raise ApiError.bad_request("objects need kind and metadata")
        api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
        res = None
        for r in resources.RESOURCES:
            if r.kind == kind and r.api_version == api_version:
                res = r
                break
        res = res or self._res_for_kind(kind)
        if res.group == "events.k8s.io":
            obj = evconv.events_to_core(obj)
            res = resources.BY_PATH[("", "v1", "events")]
        store = self.server.cluster.store
        with store.lock:
            meta = obj["metadata"]
            ns = (meta.get("namespace") or "default") if res.namespaced else ""
            old = store.raw(res.storage, ns, meta.get("name", ""))
            if old is None:
                created = store.create(res, ns, obj)
                if res.storage == PODS:
                    self._maybe_schedule_created_pod(created)
                return store.get(res, ns, created["metadata"]["name"])
            new = clone(obj)
            new["metadata"]["namespace"] = ns if ns else None
            if not ns:
                new["metadata"].pop("namespace")
            for f in ("uid", "creationTimestamp"):
                new["metadata"].setdefault(f, old["metadata"].get(f))
            new.setdefault("apiVersion", res.api_version)
            new.setdefault("kind", res.kind)
            store.put(res.storage, new)
            return store.get(res, ns, meta["name"])


def make_server(host="127.0.0.1", port=0, grace_scale=0.0, replacement_ready_ms=200, unschedulable_taint_ms=100,
                tokens=(), verbose=False, tls_cert=None, tls_key=None):
    cluster = FakeCluster(grace_scale, replacement_ready_ms, unschedulable_taint_ms, tokens)
    ctx = None
    if tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls_cert, tls_key)
    return Server((host, port), cluster, verbose, ctx)
