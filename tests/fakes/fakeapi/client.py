"""Client for fake_apiserver.py: start it, seed nodes, inject faults, read what clients did.

Python standard library only, so unittest suites, benchmarks and demo scripts can use it:

    sys.path.insert(0, "<repo>/tests/fakes")
    from fakeapi.client import FakeKube

    with FakeKube.start() as kube:                       # subprocess on a free port
        kube.seed(node="aks-spot-1", pods=30, pdb=True, daemonsets=2, extraNodes=["spare-1"])
        kubeconfig = kube.write_kubeconfig()             # for the agent's kubernetes.kubeconfig
        ...
        kube.wait_for(lambda: kube.node("aks-spot-1")["spec"].get("unschedulable"), what="cordon")
        evictions = kube.requests(resource="pods/eviction")

`FakeKube.start(tls=True, token="t")` serves HTTPS with a throw-away self-signed certificate
(openssl CLI) — needed for kubectl, which sends bearer tokens only over TLS.
"""

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

FAKE_APISERVER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fake_apiserver.py")


class ControlError(Exception):
    def __init__(self, method, path, status, body):
        super().__init__("%s %s -> %d %s" % (method, path, status, body))
        self.status = status
        self.body = body


def wait_for(pred, timeout=20.0, interval=0.05, what="condition"):
    """Poll `pred` until it returns something truthy (returned) or the deadline passes."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)  # polling interval, not synchronisation by sleeping
    raise AssertionError("timed out after %.1fs waiting for %s (last: %r)" % (timeout, what, last))


class FakeKube:
    def __init__(self, port, tls_ca=None, token=None, proc=None, tmp=None):
        self.port = port
        self.ca = tls_ca
        self.token = token  # sent by request()/kubectl(); the fake's accepted tokens are separate
        self.proc = proc
        self.tmp = tmp or tempfile.mkdtemp(prefix="fakekube-")
        self._own_tmp = tmp is None or proc is not None
        self.url = "%s://127.0.0.1:%d" % ("https" if tls_ca else "http", port)

    # ---- lifecycle -------------------------------------------------------------------
    @classmethod
    def start(cls, *args, tls=False, token=None, grace_scale=None, replacement_ready_ms=None):
        """Start fake_apiserver.py as a subprocess and wait for `LISTENING <port>`."""
        tmp = tempfile.mkdtemp(prefix="fakekube-")
        args = list(args) + ["--exit-with-parent"]
        ca = None
        if tls:
            ca = os.path.join(tmp, "tls.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                            "-subj", "/CN=fake-apiserver", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                            "-keyout", ca, "-out", ca], check=True, capture_output=True)
            args += ["--tls-cert", ca]
        if token:
            args += ["--token", token]
        if grace_scale is not None:
            args += ["--grace-scale", str(grace_scale)]
        if replacement_ready_ms is not None:
            args += ["--replacement-ready-ms", str(replacement_ready_ms)]
        port_file = os.path.join(tmp, "port")
        proc = subprocess.Popen([sys.executable, FAKE_APISERVER, "--port", "0", "--port-file", port_file] + args,
                                stdout=subprocess.PIPE, stderr=None, text=True)
        line = proc.stdout.readline()
        if not line.startswith("LISTENING "):
            proc.kill()
            raise RuntimeError("fake_apiserver did not start: %r" % line)
        return cls(int(line.split()[1]), ca, token, proc, tmp)

    @classmethod
    def attach(cls, url, tls_ca=None, token=None):
        """Control a fake that is already running."""
        u = urllib.parse.urlsplit(url)
        return cls(u.port, tls_ca if u.scheme == "https" else None, token)

    def close(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()
            self.proc = None
        if self._own_tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- HTTP ------------------------------------------------------------------------
    def connection(self, timeout=30):
        if self.ca:
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                               context=ssl.create_default_context(cafile=self.ca))
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, content_type="application/json", headers=None, token=None):
        """Raw request: returns (status, headers dict, parsed JSON or text)."""
        conn = self.connection()
        try:
            h = dict(headers or {})
            data = None
            if body is not None:
                data = body if isinstance(body, (bytes, str)) else json.dumps(body)
                h["Content-Type"] = content_type
            tok = token or self.token
            if tok:
                h["Authorization"] = "Bearer " + tok
            conn.request(method, path, body=data, headers=h)
            resp = conn.getresponse()
            raw = resp.read()
            ctype = resp.getheader("Content-Type", "")
            parsed = json.loads(raw) if raw and ctype.startswith("application/json") else raw.decode()
            return resp.status, dict(resp.getheaders()), parsed
        finally:
            conn.close()

    def ok(self, method, path, body=None, content_type="application/json", expect=(200, 201)):
        status, _, out = self.request(method, path, body, content_type)
        if status not in expect:
            raise ControlError(method, path, status, out)
        return out

    # ---- Kubernetes shortcuts --------------------------------------------------------
    def node(self, name):
        return self.ok("GET", "/api/v1/nodes/" + name)

    def pods_on(self, node):
        return self.ok("GET", "/api/v1/pods?fieldSelector=spec.nodeName%3D" + urllib.parse.quote(node))["items"]

    def pod(self, ns, name):
        """The pod, or None when it is gone (404)."""
        status, _, body = self.request("GET", "/api/v1/namespaces/%s/pods/%s" % (ns, name))
        if status == 404:
            return None
        if status != 200:
            raise ControlError("GET", "pod", status, body)
        return body

    def condition(self, node, ctype):
        for c in self.node(node)["status"].get("conditions", []):
            if c["type"] == ctype:
                return c
        return None

    def events(self, namespace="default", **field_selector):
        fs = ",".join("%s=%s" % kv for kv in field_selector.items())
        q = "?fieldSelector=" + urllib.parse.quote(fs) if fs else ""
        return self.ok("GET", "/api/v1/namespaces/%s/events%s" % (namespace, q))["items"]

    def evict(self, ns, name, grace=None):
        body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": ns}}
        if grace is not None:
            body["deleteOptions"] = {"gracePeriodSeconds": grace}
        return self.request("POST", "/api/v1/namespaces/%s/pods/%s/eviction" % (ns, name), body)

    # ---- control API -----------------------------------------------------------------
    def seed(self, **spec):
        return self.ok("POST", "/fake/seed", spec)

    def seed_many(self, specs):
        return self.ok("POST", "/fake/seed", list(specs))

    def create(self, *objects):
        return self.ok("POST", "/fake/objects", list(objects))["items"]

    def objects(self, kind, **filters):
        q = urllib.parse.urlencode(dict(filters, kind=kind))
        return self.ok("GET", "/fake/objects?" + q)["items"]

    def fault(self, **spec):
        """e.g. fault(method="PATCH", path="^/api/v1/nodes/n1$", status=409, count=1)."""
        return self.ok("POST", "/fake/faults", spec)["faults"][0]

    def faults(self):
        return self.ok("GET", "/fake/faults")["faults"]

    def clear_faults(self):
        return self.ok("DELETE", "/fake/faults")

    def requests(self, since=0, method=None, path=None, resource=None, verb=None):
        q = {"since": since}
        if method:
            q["method"] = method
        if path:
            q["path"] = path
        items = self.ok("GET", "/fake/requests?" + urllib.parse.urlencode(q))["items"]
        return [e for e in items if (resource is None or e["resource"] == resource)
                and (verb is None or e["verb"] == verb)]

    def last_request_seq(self):
        return self.ok("GET", "/fake/requests?since=%d" % (1 << 62))["last"]

    def stats(self):
        return self.ok("GET", "/fake/stats")

    def set_tokens(self, *tokens):
        return self.ok("POST", "/fake/tokens", {"tokens": list(tokens)})

    # -- the node's other writers (fakeapi/neighbours.py) --------------------------------------
    def condition_writer(self, node, ctype, status, reason, message, interval_ms=200):
        """node-problem-detector: re-asserts this condition every interval_ms. Returns its id."""
        spec = {"node": node, "type": ctype, "status": status, "reason": reason, "message": message,
                "intervalMs": interval_ms}
        return self.ok("POST", "/fake/conditionwriters", spec)["conditionWriters"][0]["id"]

    def update_condition_writer(self, wid, **fields):
        return self.ok("PUT", "/fake/conditionwriters/%d" % wid, fields)

    def condition_writers(self):
        """[{id, node, type, status, reason, message, heartbeats, overwrites, transitions}]"""
        return self.ok("GET", "/fake/conditionwriters")["conditionWriters"]

    def karpenter_repair(self, toleration_ms=0):
        """Karpenter's node repair: force-deletes the pods of a node with PreemptionScheduled=True."""
        return self.ok("POST", "/fake/karpenter", {"enabled": True, "tolerationMs": toleration_ms})

    def karpenter_repairs(self):
        """[{node, t, conditionReason, conditionMessage, podsForceDeleted}]"""
        repair = self.ok("GET", "/fake/karpenter")["karpenterRepair"]
        return repair["repairs"] if repair else []

    def config(self, **settings):
        """graceScale, replacementReadyMs, unschedulableTaintMs, maxListPage at run time."""
        return self.ok("POST", "/fake/config", settings)

    def reset(self):
        return self.ok("POST", "/fake/reset", {})

    wait_for = staticmethod(wait_for)

    # ---- kubectl and kubeconfig ------------------------------------------------------
    def write_kubeconfig(self, path=None, token=None, namespace="default"):
        """A kubeconfig pointing at this fake (for the agent's kubernetes.kubeconfig)."""
        path = path or os.path.join(self.tmp, "kubeconfig")
        cluster = {"server": self.url}
        if self.ca:
            cluster["certificate-authority"] = self.ca
        user = {}
        if token or self.token:
            user["token"] = token or self.token
        cfg = {"apiVersion": "v1", "kind": "Config", "current-context": "fake",
               "clusters": [{"name": "fake", "cluster": cluster}],
               "users": [{"name": "fake", "user": user}],
               "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake", "namespace": namespace}}]}
        with open(path, "w") as f:
            json.dump(cfg, f, indent=2)  # JSON is valid YAML
        return path

    def kubectl(self, *args, timeout=120, check=True, kubectl="kubectl"):
        """Run the real kubectl against the fake (isolated HOME and discovery cache)."""
        env = dict(os.environ, KUBECONFIG="/dev/null", HOME=self.tmp)
        cmd = [shutil.which(kubectl) or "/usr/bin/kubectl", "--server", self.url,
               "--cache-dir", os.path.join(self.tmp, "kube-cache")]
        if self.ca:
            cmd += ["--certificate-authority", self.ca]
        if self.token:
            cmd += ["--token", self.token]
        p = subprocess.run(cmd + list(args), env=env, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise AssertionError("kubectl %s failed (%d):\n%s\n%s" % (" ".join(args), p.returncode, p.stdout,
                                                                      p.stderr))
        return p
