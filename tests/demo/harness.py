"""Shared plumbing for the demo and the benchmarks: child processes that always get cleaned up,
the real agent with its JSON log captured, real Prometheus, a realistic spot node, and small
parsers for Prometheus text and the fakes' request logs.

Standard library only. Every child process is started in its own session (process group), so
that cleanup can kill the whole group (a shell wrapper's children included); cleanup runs from
`finally` blocks, from atexit, and from the SIGTERM/SIGHUP handlers installed by
`install_signal_handlers()` (SIGINT stays Python's KeyboardInterrupt, which unwinds through the
same `finally` blocks).
"""

from __future__ import annotations

import atexit
import copy
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, Optional

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAKES = os.path.join(REPO, "tests", "fakes")
if FAKES not in sys.path:
    sys.path.insert(0, FAKES)

from fakeapi.client import FakeKube  # noqa: E402  (re-exported for callers)
from imds_control import FakeImds  # noqa: E402
from webhook_control import FakeWebhook  # noqa: E402  (the local receiver of the agent's notices)

__all__ = ["REPO", "FakeKube", "FakeImds", "FakeWebhook", "Children", "CHILDREN", "Agent", "Prometheus", "free_port",
           "install_signal_handlers", "wait_until", "parse_prometheus_text", "metric_value",
           "seed_realistic_node", "workload_pods_left", "http_get", "agent_binary", "vmss_names",
           "proc_status", "proc_cpu_seconds", "add_deployment"]


# ---- child processes ----------------------------------------------------------------------


class Children:
    """Every process we start, killed as a process group on cleanup (idempotent)."""

    def __init__(self) -> None:
        self._procs: list[subprocess.Popen] = []
        self._lock = threading.Lock()
        self._cleanups: list[Callable[[], None]] = []

    def spawn(self, cmd: list[str], **kw: Any) -> subprocess.Popen:
        kw.setdefault("stdin", subprocess.DEVNULL)
        proc = subprocess.Popen(cmd, start_new_session=True, **kw)
        with self._lock:
            self._procs.append(proc)
        return proc

    def adopt(self, proc: subprocess.Popen) -> subprocess.Popen:
        """Track a process someone else started (it may share our process group: kill only it)."""
        with self._lock:
            self._procs.append(proc)
        return proc

    def on_cleanup(self, fn: Callable[[], None]) -> None:
        self._cleanups.append(fn)

    def stop(self, proc: subprocess.Popen, timeout: float = 5.0) -> Optional[int]:
        if proc.poll() is None:
            self._signal(proc, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(proc, signal.SIGKILL)
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    pass
        with self._lock:
            if proc in self._procs:
                self._procs.remove(proc)
        return proc.returncode

    @staticmethod
    def _signal(proc: subprocess.Popen, sig: int) -> None:
        try:
            if os.getpgid(proc.pid) == proc.pid:
                os.killpg(proc.pid, sig)  # its own group: the whole group
            else:
                proc.send_signal(sig)
        except (ProcessLookupError, PermissionError):
            pass

    def cleanup(self) -> None:
        """Processes first (they may still write into directories), then the callbacks, newest first."""
        with self._lock:
            procs = list(reversed(self._procs))
        for p in procs:
            if p.poll() is None:
                self._signal(p, signal.SIGTERM)
        deadline = time.monotonic() + 5
        for p in procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._signal(p, signal.SIGKILL)
                try:
                    p.wait(2)
                except subprocess.TimeoutExpired:
                    pass
        with self._lock:
            self._procs.clear()
        while self._cleanups:
            fn = self._cleanups.pop()
            try:
                fn()
            except Exception:  # noqa: BLE001 - cleanup must go on
                pass


CHILDREN = Children()
atexit.register(CHILDREN.cleanup)


def install_signal_handlers() -> None:
    """SIGTERM and SIGHUP unwind like Ctrl-C does, so `finally` blocks and atexit run."""

    def handler(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred: Callable[[], Any], timeout: float, what: str, interval: float = 0.02,
               abort: Optional[Callable[[], Optional[str]]] = None) -> Any:
    """Poll pred until truthy (returned). `abort` returns a reason to stop early (e.g. the agent died)."""
    deadline = time.monotonic() + timeout
    last_exc: Optional[BaseException] = None
    while True:
        try:
            value = pred()
            if value:
                return value
        except (OSError, ValueError, KeyError, AssertionError) as exc:
            last_exc = exc
        if abort is not None:
            reason = abort()
            if reason:
                raise RuntimeError(f"while waiting for {what}: {reason}")
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}"
                               + (f" (last error: {last_exc})" if last_exc else ""))
        time.sleep(interval)  # polling interval, not synchronisation


def http_get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def agent_binary() -> str:
    return os.environ.get("AKSNODE_BINARY") or os.path.join(
        os.environ.get("AKSNODE_BUILD_DIR") or os.path.join(REPO, "build"), "aks-node-agent")


def vmss_names(pool: str, index: int, pool_id: str = "26371903") -> tuple[str, str]:
    """(Azure VM name as in event Resources, Kubernetes node name) of a VMSS instance, as on AKS."""
    vm = f"aks-{pool}-{pool_id}-vmss_{index}"
    return vm, f"aks-{pool}-{pool_id}-vmss{index:06d}"


def parse_agent_time(line: dict) -> Optional[float]:
    """Unix time of an agent log line's "time" field (2026-11-26T20:04:05.229Z)."""
    import datetime as dt
    try:
        stamp = (line.get("rec") or {}).get("time")
        return dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc).timestamp()
    except (TypeError, ValueError):
        return None


# ---- the agent ----------------------------------------------------------------------------


class Agent:
    """The real aks-node-agent, JSON log captured line by line with arrival times."""

    def __init__(self, binary: str, config: dict, node_name: str, workdir: str, name: str = "agent",
                 env: Optional[dict] = None, log_level: str = "info", keep_msgs: Optional[set] = None,
                 children: Children = CHILDREN):
        self.binary = binary
        self.node_name = node_name
        self.children = children
        self.config_path = os.path.join(workdir, f"{name}.yaml")
        self.log_path = os.path.join(workdir, f"{name}.log")
        with open(self.config_path, "w") as f:
            json.dump(config, f, indent=2)  # JSON is YAML
        self.env = dict(os.environ, **(env or {}))
        self.log_level = log_level
        self.keep_msgs = keep_msgs  # None: keep every line; else only these messages (and errors)
        self.lines: list[dict] = []  # {"mono", "wall", "rec" (parsed JSON or None), "raw"}
        self.port: Optional[int] = None
        self.proc: Optional[subprocess.Popen] = None
        self._cond = threading.Condition()
        self._reader: Optional[threading.Thread] = None

    def start(self, wait_ready: bool = True, timeout: float = 30.0) -> "Agent":
        cmd = [self.binary, "--config", self.config_path, "--node-name", self.node_name,
               "--log-format", "json", "--log-level", self.log_level]
        self.proc = self.children.spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=self.env)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if wait_ready:
            self.wait_serving(timeout)
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        with open(self.log_path, "wb") as out:
            for raw in self.proc.stdout:
                mono, wall = time.monotonic(), time.time()
                out.write(raw)
                out.flush()
                text = raw.decode("utf-8", "replace").rstrip("\n")
                rec = None
                if text.startswith("{"):
                    try:
                        rec = json.loads(text)
                    except ValueError:
                        rec = None
                if rec is not None and rec.get("msg") == "serving /metrics /healthz /readyz /status":
                    self.port = int(rec.get("port", 0)) or None
                with self._cond:
                    if (self.keep_msgs is None or rec is None or rec.get("msg") in self.keep_msgs
                            or rec.get("level") in ("error", "critical")):
                        self.lines.append({"mono": mono, "wall": wall, "rec": rec, "raw": text})
                    self._cond.notify_all()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def exit_reason(self) -> Optional[str]:
        """None while running; else how it ended and the last lines it printed."""
        if self.proc is None or self.proc.poll() is None:
            return None
        code = self.proc.returncode
        how = f"killed by signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
        tail = "\n".join("    " + l["raw"][:300] for l in self.lines[-5:])
        return f"the agent exited ({how}); last output:\n{tail}"

    def wait_serving(self, timeout: float = 30.0) -> None:
        wait_until(lambda: self.port and http_get(self.url + "/healthz", 2)[0] == 200, timeout,
                   "the agent's /healthz", abort=self.exit_reason)

    def wait_ready(self, timeout: float = 30.0) -> None:
        wait_until(lambda: http_get(self.url + "/readyz", 2)[0] == 200, timeout, "the agent's /readyz",
                   abort=self.exit_reason)

    def find(self, msg: str, **fields: Any) -> list[dict]:
        with self._cond:
            out = []
            for line in self.lines:
                rec = line["rec"]
                if rec and rec.get("msg") == msg and all(rec.get(k) == v for k, v in fields.items()):
                    out.append(line)
            return out

    def wait_log(self, msg: str, timeout: float, **fields: Any) -> dict:
        return wait_until(lambda: (self.find(msg, **fields) or [None])[0], timeout, f"agent log '{msg}'",
                          interval=0.01, abort=self.exit_reason)

    def metrics(self) -> dict:
        status, text = http_get(self.url + "/metrics")
        if status != 200:
            raise RuntimeError(f"/metrics answered {status}")
        return parse_prometheus_text(text)

    def line_time(self, line: dict, wall_offset: float) -> float:
        """A log line's own timestamp (wall clock, ms) on the monotonic clock; wall_offset = wall - mono."""
        w = parse_agent_time(line)
        return line["mono"] if w is None else w - wall_offset

    def pid_status(self) -> dict:
        """/proc/PID/status values in KiB (VmRSS, VmHWM...)."""
        return proc_status(self.proc.pid) if self.proc else {}

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.proc.pid) if self.proc else 0.0

    def status(self) -> Any:
        return json.loads(http_get(self.url + "/status")[1])

    def stop(self, timeout: float = 5.0) -> Optional[int]:
        if self.proc is None:
            return None
        code = self.children.stop(self.proc, timeout)
        if self._reader:
            self._reader.join(2)
        return code


def proc_status(pid: int) -> dict:
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if v.strip().endswith("kB"):
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


def proc_cpu_seconds(pid: int) -> float:
    """CPU time of the process, seconds: the sum of its threads' on-CPU time from schedstat
    (nanoseconds), else utime + stime from /proc/PID/stat (clock ticks, 10 ms granularity)."""
    try:
        total = 0
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        return total / 1e9
    except (OSError, ValueError, IndexError):
        pass
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---- Prometheus ---------------------------------------------------------------------------


class Prometheus:
    """Real Prometheus (Debian's /usr/bin/prometheus) scraping targets on loopback every second."""

    def __init__(self, targets: list[str], workdir: str, job: str = "aks-node-agent",
                 binary: str = "/usr/bin/prometheus", children: Children = CHILDREN):
        self.binary = shutil.which("prometheus") if not os.path.exists(binary) else binary
        self.workdir = os.path.join(workdir, "prometheus")
        os.makedirs(self.workdir, exist_ok=True)
        self.config_path = os.path.join(self.workdir, "prometheus.yml")
        with open(self.config_path, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n"
                    f"  - job_name: {job}\n"
                    "    static_configs:\n"
                    f"      - targets: [{', '.join(repr(t) for t in targets)}]\n")
        self.port = free_port()
        self.children = children
        self.proc: Optional[subprocess.Popen] = None
        self.log_path = os.path.join(self.workdir, "prometheus.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> "Prometheus":
        if not self.binary:
            raise RuntimeError("prometheus is not installed (scripts/install-deps.sh installs it)")
        log = open(self.log_path, "wb")
        self.proc = self.children.spawn(
            [self.binary, f"--config.file={self.config_path}",
             f"--storage.tsdb.path={os.path.join(self.workdir, 'data')}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_until(lambda: http_get(self.url + "/-/ready", 2)[0] == 200, timeout, "Prometheus /-/ready",
                   interval=0.1, abort=lambda: (f"prometheus exited ({self.proc.returncode}); see {self.log_path}"
                                                if self.proc.poll() is not None else None))
        return self

    def query(self, promql: str) -> list:
        status, body = http_get(self.url + "/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
        doc = json.loads(body)
        if status != 200 or doc.get("status") != "success":
            raise RuntimeError(f"PromQL {promql!r}: {status} {body[:200]}")
        return doc["data"]["result"]

    def scalar(self, promql: str) -> Optional[float]:
        result = self.query(promql)
        if not result:
            return None
        return float(result[0]["value"][1])

    def stop(self) -> None:
        if self.proc is not None:
            self.children.stop(self.proc)


# ---- Prometheus text ----------------------------------------------------------------------

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_prometheus_text(text: str) -> dict:
    """{(name, frozenset(labels.items())): value} of every sample."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            continue
        labels = frozenset(_LABEL.findall(m.group(3) or ""))
        try:
            out[(m.group(1), labels)] = float(m.group(4))
        except ValueError:
            continue
    return out


def metric_value(samples: dict, name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


# ---- a realistic spot node ----------------------------------------------------------------


def _clone_workload_pod(template: dict, ns: str, name: str, rs: dict, labels: dict) -> dict:
    pod = copy.deepcopy(template)
    pod["apiVersion"], pod["kind"] = "v1", "Pod"  # list items carry no kind
    meta = pod["metadata"]
    for k in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds"):
        meta.pop(k, None)
    meta.update({"name": name, "namespace": ns, "uid": _uid(), "labels": dict(labels),
                 "generateName": rs["metadata"]["name"] + "-",
                 "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs["metadata"]["name"],
                                      "uid": rs["metadata"]["uid"], "controller": True,
                                      "blockOwnerDeletion": True}]})
    return pod


def _uid() -> str:
    import uuid
    return str(uuid.uuid4())


def _suffix(n: int = 5) -> str:
    import random
    return "".join(random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(n))


def add_deployment(kube: FakeKube, template_pod: dict, ns: str, app: str, replicas: int, node: str) -> list[str]:
    """Deployment -> ReplicaSet -> `replicas` pods on `node`, cloned from a seeded pod."""
    h = "%010x" % (hash((app, node, time.time())) & 0xFFFFFFFFFF)
    labels = {"app": app}
    rs_labels = dict(labels, **{"pod-template-hash": h})
    dep = {"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": app, "namespace": ns, "uid": _uid(), "labels": dict(labels), "generation": 1},
           "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                    "template": {"metadata": {"labels": dict(labels)},
                                 "spec": {"containers": [{"name": "app", "image": template_pod["spec"]["containers"][0]["image"]}]}}}}
    rs = copy.deepcopy(dep)
    rs["kind"] = "ReplicaSet"
    rs["metadata"].update({"name": f"{app}-{h}", "uid": _uid(), "labels": dict(rs_labels),
                           "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": app,
                                                "uid": dep["metadata"]["uid"], "controller": True,
                                                "blockOwnerDeletion": True}]})
    rs["spec"]["selector"] = {"matchLabels": dict(rs_labels)}
    rs["spec"]["template"]["metadata"]["labels"] = dict(rs_labels)
    pods = [_clone_workload_pod(template_pod, ns, f"{app}-{h}-{_suffix()}", rs, rs_labels) for _ in range(replicas)]
    kube.create(dep, rs, *pods)
    return [p["metadata"]["name"] for p in pods]


def seed_realistic_node(kube: FakeKube, node: str, pods: int = 30, vm_name: Optional[str] = None,
                        spares: int = 3, grace_seconds: int = 30, pdb: bool = True) -> dict:
    """A spot node like a busy AKS one: `pods` workload pods from three Deployments and a
    StatefulSet, a PDB (maxUnavailable 1) over the small `checkout` Deployment, four DaemonSet
    pods, the agent's own DaemonSet pod, the spot taint; spare on-demand nodes for replacements.

    Returns {"layout": {workload: count}, "pdb": name, "agentPod": ns/name, "ns": namespace}."""
    if pods < 4:
        raise ValueError("--pods must be at least 4 (a StatefulSet pod and the 3-pod PDB-covered Deployment)")
    ns = "shop"
    sts = max(1, min(3, pods // 10))
    checkout = 3 if pdb else 0
    rest = pods - sts - checkout
    api = rest // 3
    web = rest - api
    provider = None
    if vm_name and "-vmss_" in vm_name:
        scale_set, index = vm_name.rsplit("_", 1)
        provider = ("azure:///subscriptions/9a4e6c2b-5e1f-4c3a-9d0e-2f6b8c1a7e53/resourceGroups/"
                    f"mc_rg-shop_aks-shop_westeurope/providers/Microsoft.Compute/virtualMachineScaleSets/{scale_set}"
                    f"/virtualMachines/{index}")
    spec: dict[str, Any] = {"node": node, "pods": max(web, 0), "statefulset": sts, "daemonsets": 4,
                            "agentPod": True, "namespace": ns, "gracePeriodSeconds": grace_seconds,
                            "extraNodes": [vmss_names("nodepool1", i, "11583062")[1] for i in range(spares)]}
    if provider:
        spec["providerID"] = provider
    out = kube.seed(**spec)
    layout = {f"web-{node} (Deployment)": web, f"db-{node} (StatefulSet)": sts}
    template = next(p for p in kube.pods_on(node) if p["metadata"]["namespace"] == ns)
    if api:
        add_deployment(kube, template, ns, "api", api, node)
        layout["api (Deployment)"] = api
    pdb_name = None
    if checkout:
        add_deployment(kube, template, ns, "checkout", checkout, node)
        layout["checkout (Deployment, PDB maxUnavailable=1)"] = checkout
        pdb_name = "checkout-pdb"
        kube.create({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                     "metadata": {"name": pdb_name, "namespace": ns, "uid": _uid(), "generation": 1},
                     "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "checkout"}}}})
    agent_pod = out["pods"]["agent"][0] if out["pods"]["agent"] else None
    return {"layout": layout, "pdb": pdb_name, "agentPod": agent_pod, "ns": ns,
            "daemonsets": out["pods"]["daemonset"], "spares": spec["extraNodes"]}


def workload_pods_left(pods: list[dict]) -> list[dict]:
    """Pods a drain must remove: not DaemonSet-owned, not mirror pods, not the agent's own."""
    left = []
    for p in pods:
        meta = p["metadata"]
        owners = meta.get("ownerReferences") or []
        if any(o.get("kind") == "DaemonSet" and o.get("controller") for o in owners):
            continue
        if "kubernetes.io/config.mirror" in (meta.get("annotations") or {}):
            continue
        left.append(p)
    return left
