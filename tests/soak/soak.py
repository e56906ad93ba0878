#!/usr/bin/env python3
"""Soak test: the real aks-node-agent against the fakes for N minutes, faults injected in rotation.

    python3 tests/soak/soak.py --minutes 10 [--binary build/aks-node-agent]

The agent polls the fake IMDS every 200 ms and talks to the fake API server, probes a disk
and a cache directory and checks a workload-identity token file every second. A fixed cycle of
steps injects one kind of trouble after another (arch/FAULTS.md):

    quiet            no fault, no event; the node is re-seeded with pods (the "quiet" samples)
    imds-500         IMDS answers 500
    imds-hang        IMDS accepts the request and never answers (the agent times out after 1 s)
    imds-malformed   200 with invalid JSON (garbage / unclosed / trailing, in turn)
    imds-huge        200 with a 2 MiB document (Content-Length, then chunked, in turn)
    imds-broken      connection reset, truncated body, 429, 410 (in turn)
    preempt          a Preempt event for this VM appears (the agent taints, cordons, drains);
                     the API server answers 409 to node PATCHes a few times
    preempt-gone     the event disappears; the API server answers 500 to everything
    reboot           a Reboot event appears (drain, then acknowledgement); evictions get 429
                     with Retry-After
    reboot-gone      the event disappears; API GETs are reset mid-body; IMDS sends wrong types
    imds-odd         unknown event types, unreadable NotBefore, a slow IMDS (in turn)

and the token file goes valid -> garbage -> missing -> expired at every step. Every few seconds
the script samples the agent's RSS (/proc/PID/status VmRSS), its open file descriptors
(/proc/PID/fd, sockets counted apart) and its threads (/proc/PID/status Threads), and checks
/healthz.

Verdict (after a warm-up, so that pools, caches and allocator arenas have reached their size):
  * RSS: the largest RSS of the last full cycle may exceed that of the first cycle after the
    warm-up by at most --rss-growth-mib (default 8 MiB); the slope is printed too;
  * fds: the count at the end of each quiet step (nothing in flight but the keep-alive pool)
    may not grow from the first such point after the warm-up to the last one by more than
    --fd-slack (default 2);
  * threads: never more than the warm-up minimum plus one per disk/cache path (the per-path
    probe worker, which exists only while a probe runs), and back to that minimum at the end;
  * the agent never exits, /healthz keeps answering 200, no sanitizer or heap report in its log.
Exit 0 when all hold, 1 otherwise. A JSON summary goes to --json if given.
Not part of ctest (it runs for minutes); run it by hand or from a nightly job.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "fakes"))

from imds_control import FakeImds  # noqa: E402
from fakeapi.client import FakeKube  # noqa: E402

VM_NAME = "aks-spot-soak"
NODE_NAME = "aks-spot-soak"
ISSUER = "https://oidc.soak.example/issuer/"
CLIENT_ID = "0a1b2c3d-0000-4000-8000-00000000c1d0"
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SUBJECT = "system:serviceaccount:aks-node-agent:aks-node-agent"
CRASH_MARKS = ("AddressSanitizer", "LeakSanitizer", "ThreadSanitizer", "runtime error", "malloc",
               "corrupted", "double free", "terminate called", "Segmentation", "Aborted", "free():")


# -- the token file -----------------------------------------------------------------------------

def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(lifetime_s: int) -> str:
    """A token shaped like the kubelet's projection (signature not checked: verifySignature off)."""
    now = int(time.time())
    header = {"alg": "RS256", "kid": "soak", "typ": "JWT"}
    claims = {"aud": ["api://AzureADTokenExchange"], "iss": ISSUER, "sub": SUBJECT,
              "iat": now - 60, "nbf": now - 60, "exp": now + lifetime_s,
              "kubernetes.io": {"namespace": "aks-node-agent", "serviceaccount": {"name": "aks-node-agent"}}}
    return ".".join([_b64url(json.dumps(header).encode()), _b64url(json.dumps(claims).encode()),
                     _b64url(os.urandom(256))])


def write_token(path: str, kind: str) -> None:
    """valid | garbage | missing | expired, written atomically like the kubelet's symlink swap."""
    if kind == "missing":
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        return
    text = {"valid": lambda: make_token(3600), "expired": lambda: make_token(-600),
            "garbage": lambda: "not.a-token\x00\xff" * 50}[kind]()
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write(text)
    os.replace(tmp, path)


# -- the agent process --------------------------------------------------------------------------

class Agent:
    def __init__(self, binary: str, workdir: str, config: dict, extra_env: dict):
        self.config_path = os.path.join(workdir, "agent-config.yaml")
        self.log_path = os.path.join(workdir, "agent.log")
        with open(self.config_path, "w") as f:
            json.dump(config, f, indent=2)  # JSON is YAML
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("KUBERNETES_", "AZURE_")) and k not in ("KUBECONFIG", "NODE_NAME")}
        env.update(extra_env)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([binary, "--config", self.config_path, "--node-name", NODE_NAME,
                                      "--log-format", "json", "--log-level", "info"],
                                     stdout=subprocess.DEVNULL, stderr=self._log, stdin=subprocess.DEVNULL,
                                     env=env)
        self.port: Optional[int] = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_lines(self) -> list:
        with open(self.log_path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        return text.splitlines()

    def wait_serving(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"agent exited with {self.proc.returncode}:\n" + "\n".join(self.log_lines()[-30:]))
            for line in self.log_lines():
                try:
                    doc = json.loads(line)
                except ValueError:
                    continue
                if isinstance(doc, dict) and str(doc.get("msg", "")).startswith("serving /metrics"):
                    self.port = int(doc["port"])
                    return
            time.sleep(0.1)  # polling the log for the start-up line
        raise RuntimeError("the agent did not announce its metrics port")

    def get(self, path: str, timeout: float = 5.0) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=timeout) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")

    def stop(self, timeout: float = 10.0) -> Optional[int]:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        self._log.close()
        return self.proc.returncode

    def crash_lines(self) -> list:
        out = []
        for line in self.log_lines():
            if line.startswith("{"):
                continue  # the agent's own structured lines; reports come from the runtime as text
            if any(m in line for m in CRASH_MARKS):
                out.append(line)
        return out


# -- sampling -----------------------------------------------------------------------------------

def read_proc(pid: int) -> dict:
    """RSS and its anonymous part (KiB), threads, fds, sockets of pid, from /proc."""
    rss = anon = threads = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("RssAnon:"):
                anon = int(line.split()[1])  # the heap: what a leak grows (VmRSS also counts library pages)
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    fds = sockets = 0
    fd_dir = f"/proc/{pid}/fd"
    for name in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, name))
        except OSError:
            continue  # closed between listdir and readlink
        fds += 1
        if target.startswith("socket:"):
            sockets += 1
    return {"rss_kib": rss, "anon_kib": anon, "threads": threads, "fds": fds, "sockets": sockets}


class Sampler(threading.Thread):
    """Samples the agent every `interval` seconds; also checks /healthz."""

    def __init__(self, agent: Agent, interval: float, t0: float):
        super().__init__(daemon=True)
        self.agent, self.interval, self.t0 = agent, interval, t0
        self.samples: list = []
        self.step = ("start", -1)
        self.health_failures: list = []
        self.stop_event = threading.Event()
        self.lock = threading.Lock()

    def sample(self, quiet: bool = False) -> Optional[dict]:
        if not self.agent.alive():
            return None
        s = read_proc(self.agent.pid)
        s.update(t=time.monotonic() - self.t0, step=self.step[0], cycle=self.step[1], quiet=quiet)
        with self.lock:
            self.samples.append(s)
        return s

    def run(self) -> None:
        while not self.stop_event.wait(self.interval):
            if self.sample() is None:
                return
            try:
                status, body = self.agent.get("/healthz", timeout=5)
                if status != 200:
                    self.health_failures.append((round(time.monotonic() - self.t0, 1), status, body[:200]))
            except OSError as exc:
                self.health_failures.append((round(time.monotonic() - self.t0, 1), "error", str(exc)))


# -- the fault rotation -------------------------------------------------------------------------

class Rotation:
    """The steps of one cycle; each step starts from a clean slate of faults."""

    def __init__(self, imds: FakeImds, kube: FakeKube, token_path: str):
        self.imds, self.kube, self.token_path = imds, kube, token_path
        self.n = 0  # how many times any step has run: picks variants in turn
        self.event_ids: list = []
        self.token_kinds = ["valid", "garbage", "missing", "expired"]
        self.steps: list = [
            ("quiet", self.quiet),
            ("imds-500", lambda: imds.fault("status", status=500)),
            ("imds-hang", lambda: imds.fault("hang")),
            ("imds-malformed", lambda: imds.fault("malformed", variant=self.pick(["garbage", "unclosed", "trailing"]))),
            ("imds-huge", lambda: imds.fault("huge", sizeBytes=2 << 20,
                                             **self.pick([{}, {"transfer": "chunked"}]))),
            ("imds-broken", self.imds_broken),
            ("preempt", self.preempt),
            ("preempt-gone", self.preempt_gone),
            ("reboot", self.reboot),
            ("reboot-gone", self.reboot_gone),
            ("imds-odd", self.imds_odd),
        ]

    def pick(self, options: list) -> Any:
        return options[self.n % len(options)]

    def clear(self) -> None:
        self.imds.clear_faults()
        self.kube.clear_faults()

    def run_step(self, index: int) -> str:
        name, action = self.steps[index]
        self.clear()
        write_token(self.token_path, self.token_kinds[self.n % len(self.token_kinds)])
        action()
        self.n += 1
        return name

    def end_events(self) -> None:
        for eid in self.event_ids:
            try:
                self.imds.delete_event(eid)
            except Exception:  # already ended (acknowledged, then gone): that is fine
                pass
        self.event_ids = []

    def quiet(self) -> None:
        self.end_events()
        self.imds.clear()
        # Fresh pods to drain in this cycle (seeding again replaces the node and its pods).
        self.kube.seed(node=NODE_NAME, pods=16, pdb={"maxUnavailable": 2}, daemonsets=2, emptyDir=2,
                       finished=1, extraNodes=["spare-1", "spare-2"])

    def imds_broken(self) -> None:
        variant = self.pick(["reset", "truncated", "429", "410"])
        if variant in ("reset", "truncated"):
            self.imds.fault(variant)
        else:
            self.imds.fault("status", status=int(variant))

    def preempt(self) -> None:
        self.kube.fault(method="PATCH", path=f"^/api/v1/nodes/{NODE_NAME}$", status=409, count=5)
        self.event_ids.append(self.imds.add_event("Preempt", not_before_in=45)["EventId"])

    def preempt_gone(self) -> None:
        self.end_events()
        self.kube.fault(path="^/api", status=500, count=-1)

    def reboot(self) -> None:
        self.kube.fault(method="POST", path="/eviction$", status=429, retryAfter=1, count=6)
        self.event_ids.append(self.imds.add_event("Reboot", not_before_in=45)["EventId"])

    def reboot_gone(self) -> None:
        self.end_events()
        self.kube.fault(method="GET", path="^/api", reset=True, count=4)
        self.imds.fault("wrong_types", variant=self.pick(["mixed", "events_object", "incarnation_huge",
                                                          "resources_numbers"]))

    def imds_odd(self) -> None:
        variant = self.pick(["unknown", "bad_not_before", "slow"])
        if variant == "unknown":
            self.imds.fault("unknown_event_type", eventType="Hibernate")
        elif variant == "bad_not_before":
            self.imds.fault("bad_not_before", notBefore="soon")
        else:
            self.imds.fault("slow", delayMs=1500)


# -- what the agent saw (its own metrics) ---------------------------------------------------------

def parse_metrics(text: str) -> dict:
    """{(name, frozenset of (label, value))): value} from Prometheus text format."""
    out: dict = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        name, _, labels = head.partition("{")
        pairs = []
        for part in labels.rstrip("}").split('",') if labels else []:
            k, _, v = part.partition("=")
            pairs.append((k.strip(), v.strip().strip('"')))
        try:
            out[(name, frozenset(pairs))] = float(value)
        except ValueError:
            pass
    return out


def total(samples: dict, name: str, **labels: str) -> float:
    want = set(labels.items())
    return sum(v for (n, lab), v in samples.items() if n == name and want <= set(lab))


# Each line: what the rotation is meant to make the agent do, as seen in its metrics. A soak
# that never got there proves nothing about that path, so a zero here fails the run.
EXERCISED = [
    ("IMDS polls answered", "aksnode_imds_requests_total", {"endpoint": "scheduledevents", "result": "ok"}),
    ("IMDS HTTP errors", "aksnode_imds_requests_total", {"endpoint": "scheduledevents", "result": "http_error"}),
    ("IMDS bad responses", "aksnode_imds_requests_total", {"endpoint": "scheduledevents", "result": "bad_response"}),
    ("IMDS timeouts", "aksnode_imds_requests_total", {"endpoint": "scheduledevents", "result": "timeout"}),
    ("acknowledgements", "aksnode_imds_requests_total", {"endpoint": "acknowledge", "result": "ok"}),
    ("cordons", "aksnode_actions_total", {"action": "cordon", "result": "success"}),
    ("uncordons", "aksnode_actions_total", {"action": "uncordon", "result": "success"}),
    ("drains", "aksnode_drain_duration_seconds_count", {}),
    ("pods evicted", "aksnode_pod_evictions_total", {"result": "evicted"}),
    ("API server 5xx", "aksnode_kube_requests_total", {"code": "5xx"}),
    ("API server 429", "aksnode_kube_requests_total", {"code": "429"}),
    ("API server 409 (4xx)", "aksnode_kube_requests_total", {"code": "4xx"}),
    ("token checks ok", "aksnode_identity_checks_total", {"result": "ok"}),
    ("token checks failed", "aksnode_identity_checks_total", {}),
]


def exercised(metrics_text: str) -> tuple[dict, list]:
    samples = parse_metrics(metrics_text)
    seen, missing = {}, []
    for what, name, labels in EXERCISED:
        n = total(samples, name, **labels)
        if what == "token checks failed":
            n -= total(samples, name, result="ok")
        seen[what] = int(n)
        if n <= 0:
            missing.append(what)
    return seen, missing


# -- verdict ------------------------------------------------------------------------------------

def mib(kib: float) -> float:
    return kib / 1024.0


def slope_kib_per_min(samples: list) -> float:
    if len(samples) < 2:
        return 0.0
    xs = [s["t"] / 60.0 for s in samples]
    ys = [s["rss_kib"] for s in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


def evaluate(samples: list, warmup_s: float, n_paths: int, args: argparse.Namespace) -> tuple[list, dict]:
    problems: list = []
    warm = [s for s in samples if s["t"] < warmup_s]
    post = [s for s in samples if s["t"] >= warmup_s]
    if not warm or not post:
        return ["not enough samples (run longer than the warm-up)"], {}
    cycles = sorted({s["cycle"] for s in post})
    # Only cycles that ran completely after the warm-up compare like with like.
    first_full = [c for c in cycles if min(s["t"] for s in samples if s["cycle"] == c) >= warmup_s]
    per_cycle = {}
    for c in cycles:
        cs = [s for s in post if s["cycle"] == c]
        quiet = [s for s in cs if s["quiet"]]
        per_cycle[c] = {"max_rss_kib": max(s["rss_kib"] for s in cs),
                        "max_anon_kib": max(s["anon_kib"] for s in cs),
                        "quiet_fds": quiet[-1]["fds"] if quiet else None,
                        "quiet_sockets": quiet[-1]["sockets"] if quiet else None,
                        "max_fds": max(s["fds"] for s in cs),
                        "min_threads": min(s["threads"] for s in cs),
                        "max_threads": max(s["threads"] for s in cs)}
    full = [c for c in first_full if c in per_cycle]
    complete = full[:-1] if len(full) > 1 and per_cycle[full[-1]]["quiet_fds"] is None else full
    summary: dict = {
        "samples": len(samples), "cycles_after_warmup": len(complete),
        "rss_mib": {"start": round(mib(samples[0]["rss_kib"]), 1),
                    "after_warmup": round(mib(post[0]["rss_kib"]), 1),
                    "end": round(mib(samples[-1]["rss_kib"]), 1),
                    "max": round(mib(max(s["rss_kib"] for s in samples)), 1),
                    "slope_kib_per_min_after_warmup": round(slope_kib_per_min(post), 1)},
        "anon_mib": {"start": round(mib(samples[0]["anon_kib"]), 1), "end": round(mib(samples[-1]["anon_kib"]), 1),
                     "max": round(mib(max(s["anon_kib"] for s in samples)), 1)},
        "fds": {"start": samples[0]["fds"], "end": samples[-1]["fds"], "max": max(s["fds"] for s in samples)},
        "sockets": {"start": samples[0]["sockets"], "end": samples[-1]["sockets"],
                    "max": max(s["sockets"] for s in samples)},
        "threads": {"start": samples[0]["threads"], "end": samples[-1]["threads"],
                    "max": max(s["threads"] for s in samples), "warmup_min": min(s["threads"] for s in warm)},
        "per_cycle": per_cycle,
    }
    if len(complete) < 2:
        problems.append("fewer than two complete cycles after the warm-up: run longer")
        return problems, summary
    first, last = per_cycle[complete[0]], per_cycle[complete[-1]]
    growth = mib(last["max_rss_kib"] - first["max_rss_kib"])
    summary["rss_mib"]["cycle_max_first"] = round(mib(first["max_rss_kib"]), 1)
    summary["rss_mib"]["cycle_max_last"] = round(mib(last["max_rss_kib"]), 1)
    summary["rss_mib"]["growth"] = round(growth, 2)
    summary["anon_mib"]["cycle_max_first"] = round(mib(first["max_anon_kib"]), 1)
    summary["anon_mib"]["cycle_max_last"] = round(mib(last["max_anon_kib"]), 1)
    if growth > args.rss_growth_mib:
        problems.append(f"RSS grew by {growth:.1f} MiB after the warm-up (cycle maxima "
                        f"{mib(first['max_rss_kib']):.1f} -> {mib(last['max_rss_kib']):.1f} MiB; "
                        f"limit {args.rss_growth_mib} MiB)")
    if first["quiet_fds"] is not None and last["quiet_fds"] is not None:
        summary["fds"]["quiet_first"], summary["fds"]["quiet_last"] = first["quiet_fds"], last["quiet_fds"]
        if last["quiet_fds"] > first["quiet_fds"] + args.fd_slack:
            problems.append(f"open fds at the quiet point grew {first['quiet_fds']} -> {last['quiet_fds']} "
                            f"(slack {args.fd_slack})")
    base_threads = summary["threads"]["warmup_min"]
    over = [s for s in post if s["threads"] > base_threads + n_paths]
    if over:
        problems.append(f"{len(over)} samples with more than {base_threads} + {n_paths} threads "
                        f"(max {max(s['threads'] for s in over)} at t={over[0]['t']:.0f}s, step {over[0]['step']})")
    if last["min_threads"] > base_threads:
        problems.append(f"threads did not come back to {base_threads} in the last cycle (min {last['min_threads']})")
    return problems, summary


# -- main ---------------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, required=True)
    ap.add_argument("--binary", default=os.environ.get("AKSNODE_BINARY") or os.path.join(REPO, "build", "aks-node-agent"))
    ap.add_argument("--step-seconds", type=float, default=5.0, help="length of each fault step (quiet: twice)")
    ap.add_argument("--sample-seconds", type=float, default=2.0)
    ap.add_argument("--warmup-seconds", type=float, default=None,
                    help="default: one full cycle plus 10 s")
    ap.add_argument("--rss-growth-mib", type=float, default=8.0)
    ap.add_argument("--fd-slack", type=int, default=2)
    ap.add_argument("--json", help="write the summary and every sample here")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (agent log, config)")
    args = ap.parse_args()
    if not os.access(args.binary, os.X_OK):
        print(f"soak: agent binary {args.binary} not found (build it, or --binary / AKSNODE_BINARY)", file=sys.stderr)
        return 2

    workdir = tempfile.mkdtemp(prefix="aksnode-soak-")
    disk_dir = os.path.join(workdir, "disk")
    cache_dir = os.path.join(workdir, "cache")
    os.makedirs(disk_dir)
    os.makedirs(cache_dir)
    token_path = os.path.join(workdir, "token")
    write_token(token_path, "valid")

    imds = FakeImds.start(VM_NAME, rate_limit=False)
    kube = FakeKube.start(grace_scale=0.01, replacement_ready_ms=200)
    agent = None
    sampler = None
    try:
        rotation = Rotation(imds, kube, token_path)
        imds.ack_behaviour(end_after_ms=2000)
        rotation.quiet()
        config = {
            "imds": {"endpoint": imds.url, "pollInterval": "200ms", "timeout": "1s",
                     "acknowledgeAfterDrain": ["Reboot"]},
            "kubernetes": {"kubeconfig": kube.write_kubeconfig(os.path.join(workdir, "kubeconfig"))},
            "drain": {"timeout": "30s", "deadlineMargin": "1s", "evictionRetryInterval": "300ms"},
            "disks": [{"path": disk_dir, "writeProbe": True, "maxProbeLatency": "500ms"}],
            "caches": [{"path": cache_dir, "maxUsedBytes": "1Gi", "writeProbe": True}],
            "healthInterval": "1s",
            "identity": {"enabled": True, "tokenFile": token_path, "clientId": CLIENT_ID, "tenantId": TENANT_ID,
                         "expectedIssuer": ISSUER, "expectedSubject": SUBJECT},
            "metrics": {"address": "127.0.0.1:0"},
        }
        n_paths = len(config["disks"]) + len(config["caches"])
        # What the workload identity webhook injects (the probe checks they agree with the config).
        webhook_env = {"AZURE_CLIENT_ID": CLIENT_ID, "AZURE_TENANT_ID": TENANT_ID,
                       "AZURE_FEDERATED_TOKEN_FILE": token_path,
                       "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.com/"}
        agent = Agent(args.binary, workdir, config, webhook_env)
        agent.wait_serving()
        t0 = time.monotonic()
        cycle_s = args.step_seconds * (len(rotation.steps) + 1)
        warmup = args.warmup_seconds if args.warmup_seconds is not None else cycle_s + 10
        duration = args.minutes * 60
        print(f"soak: agent pid {agent.pid}, {duration:.0f}s, cycle {cycle_s:.0f}s "
              f"({len(rotation.steps)} steps), warm-up {warmup:.0f}s, work dir {workdir}", flush=True)
        sampler = Sampler(agent, args.sample_seconds, t0)
        sampler.sample()
        sampler.start()

        cycle = 0
        step_errors: list = []
        while time.monotonic() - t0 < duration and agent.alive():
            for index in range(len(rotation.steps)):
                name = rotation.steps[index][0]
                sampler.step = (name, cycle)
                try:
                    rotation.run_step(index)
                except Exception as exc:  # a fake refusing a control call is a harness problem, not the agent's
                    step_errors.append(f"cycle {cycle} step {name}: {exc}")
                length = args.step_seconds * (2 if name == "quiet" else 1)
                end = time.monotonic() + length
                while time.monotonic() < end and agent.alive():
                    time.sleep(0.2)  # pacing the fault schedule, not synchronisation
                if name == "quiet":
                    sampler.sample(quiet=True)
                if not agent.alive():
                    break
            s = sampler.samples[-1]
            print(f"soak: t={s['t']:5.0f}s cycle {cycle}: rss {mib(s['rss_kib']):6.1f} MiB "
                  f"(anon {mib(s['anon_kib']):5.1f}), fds {s['fds']:3d} "
                  f"(sockets {s['sockets']:3d}), threads {s['threads']}", flush=True)
            cycle += 1
        sampler.stop_event.set()
        sampler.join()
        rotation.clear()
        rotation.end_events()

        problems: list = []
        alive = agent.alive()
        if not alive:
            problems.append(f"the agent exited with {agent.proc.returncode}")
        else:
            status, _ = agent.get("/metrics")
            if status != 200:
                problems.append(f"/metrics answered {status} at the end")
        metrics_text = agent.get("/metrics")[1] if alive else ""
        exit_code = agent.stop()
        if alive and exit_code != 0:
            problems.append(f"SIGTERM exit code {exit_code} (expected 0)")
        crashes = agent.crash_lines()
        if crashes:
            problems.append(f"{len(crashes)} crash/sanitizer lines in the agent's log, first: {crashes[0][:300]}")
        if sampler.health_failures:
            problems.append(f"/healthz failed {len(sampler.health_failures)} times, first: {sampler.health_failures[0]}")
        verdict, summary = evaluate(sampler.samples, warmup, n_paths, args)
        problems += verdict
        summary["step_errors"] = step_errors
        summary["minutes"] = args.minutes
        if metrics_text:
            summary["exercised"], missing = exercised(metrics_text)
            if missing:
                problems.append("the rotation never got the agent to: " + ", ".join(missing))
        report(summary, problems)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"summary": summary, "problems": problems, "samples": sampler.samples}, f, indent=1)
        return 1 if problems else 0
    finally:
        if sampler:
            sampler.stop_event.set()
        if agent and agent.alive():
            agent.stop()
        kube.close()
        imds.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def report(summary: dict, problems: list) -> None:
    r, f, so, th = summary.get("rss_mib", {}), summary.get("fds", {}), summary.get("sockets", {}), summary.get("threads", {})
    print()
    print(f"{'':10}{'start':>9}{'end':>9}{'max':>9}")
    if r:
        print(f"{'RSS MiB':10}{r['start']:9.1f}{r['end']:9.1f}{r['max']:9.1f}   after warm-up {r['after_warmup']:.1f}; "
              f"cycle max first/last {r.get('cycle_max_first', '?')}/{r.get('cycle_max_last', '?')} "
              f"(growth {r.get('growth', '?')}); slope {r['slope_kib_per_min_after_warmup']} KiB/min")
    a = summary.get("anon_mib", {})
    if a:
        print(f"{'anon MiB':10}{a['start']:9.1f}{a['end']:9.1f}{a['max']:9.1f}   cycle max first/last "
              f"{a.get('cycle_max_first', '?')}/{a.get('cycle_max_last', '?')}")
    if f:
        print(f"{'fds':10}{f['start']:9d}{f['end']:9d}{f['max']:9d}   quiet point first/last "
              f"{f.get('quiet_first', '?')}/{f.get('quiet_last', '?')}")
        print(f"{'sockets':10}{so['start']:9d}{so['end']:9d}{so['max']:9d}")
        print(f"{'threads':10}{th['start']:9d}{th['end']:9d}{th['max']:9d}   warm-up minimum {th['warmup_min']}")
    print(f"samples {summary.get('samples')}, complete cycles after warm-up {summary.get('cycles_after_warmup')}")
    if summary.get("exercised"):
        print("exercised (agent metrics): " + ", ".join(f"{k} {v}" for k, v in summary["exercised"].items()))
    for e in summary.get("step_errors", [])[:5]:
        print(f"harness: {e}")
    print("soak: " + ("PASSED" if not problems else "FAILED"))
    for p in problems:
        print(f"  - {p}")


if __name__ == "__main__":
    sys.exit(main())
