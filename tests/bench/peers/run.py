#!/usr/bin/env python3
"""The agent and the alternatives, one at a time, on the same real control plane.

    tests/bench/peers/run.py [--only a,b,c,d] [--fleet 100] [--idle 300] [--markdown FILE]

Every tool runs on identical set-ups: the e2e suite's real kube-apiserver (RBAC), etcd,
controller-manager, scheduler and kwok (tests/e2e/cluster), the project's fake IMDS, fresh
Nodes and pods seeded the same way for each tool. Scenarios (issue 17):

  a  Preempt with 30 pods, 3 of them behind a PDB allowing one disruption, NotBefore in 30 s
  b  Preempt with 250 pods, no PDB
  c  N nodes preempted at once, one process per node (default N = 100, 3 pods each)
  d  idle for --idle seconds (default 300) with an API server connection: RSS, CPU per hour

Tools:
  agent         the real binary (AKSNODE_BINARY or build/aks-node-agent), the shipped ConfigMap's
                config, running as the shipped ServiceAccount.
  poll+kubectl  what a team writes without an agent, and what webdevops/azure-scheduledevents-manager
                does internally: poll IMDS every 1 s, and on an event for this VM run
                `kubectl drain --ignore-daemonsets --delete-emptydir-data --force`.
  aks-node-termination-handler, azure-scheduledevents-manager: the Go peers. tests/bench/peers/build.sh
                builds them from the Go module proxy when it serves them; on 2026-12-03 the proxy
                answered 403 for both modules (every version), so their columns say "not run" and why.

Times come from watches on the API server (cordon seen, each pod's deletionTimestamp), API
requests from the audit log (the tool's own ServiceAccount), RSS and CPU from /proc.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
import urllib.request
from typing import Any, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))

import e2e_support  # noqa: E402
from e2e_support import AGENT_NS, ENV, E2ECase, start_world, stop_world, wait_until  # noqa: E402
from e2e_test import eviction_latency  # noqa: E402
from nodes import AksNode, deployment, pdb, statefulset  # noqa: E402

BENCH_SA = "bench-kubectl"  # in the agent's namespace, so the audit policy records it
PEERS = ["aks-node-termination-handler", "azure-scheduledevents-manager"]


def log(msg: str) -> None:
    print(f"[peers {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def proc_status(pid: int) -> dict:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if v.strip().endswith("kB"):
                out[k] = int(v.split()[0])
    return out


def proc_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Stage(E2ECase):
    """An E2ECase used outside unittest: its helpers (nodes, namespaces, agents, cleanup)."""

    def runTest(self) -> None:  # unittest wants one; the bench calls the helpers itself
        pass


class Observer:
    """Watches one node and its pods from the moment the event is injected."""

    def __init__(self, stage: Stage, ns: str, node: str, guarded: Optional[str] = None, guarded_min: int = 0):
        self.stage, self.node = stage, node
        self.t0 = 0.0
        self.cordon: Optional[float] = None
        self.evicted: dict = {}
        self.violations = 0
        self.stop = threading.Event()
        api = stage.api

        def on_node(kind: str, obj: dict) -> None:
            if self.cordon is None and obj["spec"].get("unschedulable"):
                self.cordon = time.monotonic()
        ready: dict = {}

        def on_pod(kind: str, pod: dict) -> None:
            now = time.monotonic()
            uid = pod["metadata"]["uid"]
            if pod["spec"].get("nodeName") == node and (pod["metadata"].get("deletionTimestamp") or kind == "DELETED"):
                self.evicted.setdefault(uid, now)
            if guarded and pod["metadata"].get("labels", {}).get("app") == guarded:
                conds = pod.get("status", {}).get("conditions", [])
                up = kind != "DELETED" and not pod["metadata"].get("deletionTimestamp") and any(
                    c["type"] == "Ready" and c["status"] == "True" for c in conds)
                ready[uid] = up
                if sum(ready.values()) < guarded_min and self.t0:
                    self.violations += 1
        for path, fn in ((f"/api/v1/nodes?fieldSelector=metadata.name%3D{node}", on_node),
                         (f"/api/v1/namespaces/{ns}/pods", on_pod)):
            started = threading.Event()

            def run(path=path, fn=fn, started=started) -> None:
                started.set()
                api.watch(path, fn, self.stop)
            stage.in_background(run)
            started.wait(5)

    def start(self) -> None:
        self.t0 = time.monotonic()

    def rel(self, t: Optional[float]) -> Optional[float]:
        return None if t is None else t - self.t0


def on_node_now(stage: Stage, ns: str, node: str) -> int:
    return len([p for p in stage.api.pods(ns, node=node) if not p["metadata"].get("deletionTimestamp")])


def audit_count(user: str, since: float) -> int:
    """Requests by `user` after wall-clock `since` (audit stageTimestamp is RFC 3339)."""
    n = 0
    for ev in ENV.cp.audit(user):
        ts = ev.get("requestReceivedTimestamp", "")
        try:
            t = time.mktime(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
        except ValueError:
            continue
        if t >= int(since):
            n += 1
    return n


# ---- the tools -------------------------------------------------------------------------------


class AgentTool:
    name = "agent"
    user = e2e_support.AGENT_USER

    def __init__(self, parallelism: int = 32):
        self.parallelism = parallelism

    def start(self, stage: Stage, node: AksNode) -> dict:
        agent = stage.start_agent(node, {"drain": {"timeout": "60s", "parallelism": self.parallelism},
                                         "imds": {"pollInterval": "1s", "timeout": "2s"}})
        return {"pid": agent.proc.pid, "agent": agent}

    def finished(self, stage: Stage, node: AksNode, handle: dict) -> bool:
        return (stage.annotation_state(node.name) or {}).get("phase") in ("drained", "drainFailed")


class PollKubectlTool:
    """A 1 s IMDS poll loop that runs `kubectl drain` on the first event for its VM."""
    name = "poll+kubectl"
    user = f"system:serviceaccount:{AGENT_NS}:{BENCH_SA}"

    def start(self, stage: Stage, node: AksNode) -> dict:
        url = ENV.imds.vm(node.vm_name).url + "/metadata/scheduledevents?api-version=2020-07-01"
        handle: dict = {"done": threading.Event(), "stop": threading.Event(), "pid": None}

        def loop() -> None:
            while not handle["stop"].is_set():
                try:
                    req = urllib.request.Request(url, headers={"Metadata": "true"})
                    doc = json.loads(urllib.request.urlopen(req, timeout=2).read())
                    if any(node.vm_name in e.get("Resources", []) for e in doc.get("Events", [])):
                        ENV.cp.kubectl("drain", node.name, "--ignore-daemonsets", "--delete-emptydir-data",
                                       "--force", "--timeout=120s", kubeconfig=BENCH_KUBECONFIG[0],
                                       timeout=150, check=False)
                        handle["done"].set()
                        return
                except (OSError, ValueError):
                    pass
                handle["stop"].wait(1.0)
        stage.in_background(loop)
        return handle

    def finished(self, stage: Stage, node: AksNode, handle: dict) -> bool:
        return handle["done"].is_set()


BENCH_KUBECONFIG: list = [""]


def bench_identity() -> None:
    """A cluster-admin ServiceAccount in the agent's namespace for kubectl (audited like the agent)."""
    ENV.cp.kubectl("create", "serviceaccount", BENCH_SA, "-n", AGENT_NS, check=False)
    ENV.cp.kubectl("create", "clusterrolebinding", BENCH_SA, "--clusterrole=cluster-admin",
                   f"--serviceaccount={AGENT_NS}:{BENCH_SA}", check=False)
    token = ENV.cp.kubectl("create", "token", BENCH_SA, "-n", AGENT_NS, "--duration=3h").stdout.strip()
    from pki import kubeconfig
    BENCH_KUBECONFIG[0] = kubeconfig(ENV.cp.pki, ENV.cp.server, BENCH_SA,
                                     os.path.join(ENV.work, "bench.kubeconfig"), token=token)


# ---- scenarios -------------------------------------------------------------------------------


def drain_once(tool, pool: str, pods: int, with_pdb: bool) -> dict:
    stage = Stage()
    stage.setUp()
    try:
        ns = stage.namespace(f"{pool}")
        victim, spare = AksNode(pool, 1, "arm64"), AksNode(pool, 2, "amd64")
        objs: list = [deployment(ns, "w", pods - (3 if with_pdb else 0), grace_seconds=1)]
        if with_pdb:
            objs += [statefulset(ns, "db", 3, grace_seconds=1), pdb(ns, "db", "db", max_unavailable=1)]
        stage.fill_victim(victim, spare, ns, *objs, running=pods, pdbs=("db",) if with_pdb else (),
                          timeout=240)
        handle = tool.start(stage, victim)
        obs = Observer(stage, ns, victim.name, guarded="db" if with_pdb else None, guarded_min=2)
        since = time.time()
        server0 = eviction_latency(stage.api)
        obs.start()
        ENV.imds.vm(victim.vm_name).add_event("Preempt", not_before_in=30)
        at_not_before: dict = {}

        def count_at_not_before() -> None:
            time.sleep(max(0.0, obs.t0 + 30 - time.monotonic()))  # a measurement instant, not a sync
            at_not_before["n"] = on_node_now(stage, ns, victim.name)
        stage.in_background(count_at_not_before)
        wait_until(lambda: tool.finished(stage, victim, handle), 150, f"{tool.name} finished", 0.01)
        done = time.monotonic()
        wait_until(lambda: "n" in at_not_before, 40, "NotBefore passed")
        obs.stop.set()
        handle.get("stop", threading.Event()).set()
        last = max(obs.evicted.values()) if obs.evicted else None
        server1 = eviction_latency(stage.api)
        evictions = server1[1] - server0[1]
        server_mean = (server1[0] * server1[1] - server0[0] * server0[1]) / evictions if evictions else None
        return {"serverEvictionMean": server_mean, "cordonToLastEviction":
                (last - obs.cordon) if last and obs.cordon else None,"cordon": obs.rel(obs.cordon), "lastEviction": obs.rel(last), "finished": done - obs.t0,
                "evicted": len(obs.evicted), "atNotBefore": at_not_before["n"], "pdbViolations": obs.violations,
                "apiRequests": audit_count(tool.user, since)}
    finally:
        stage.tearDown()


def fleet(tool, n: int) -> dict:
    stage = Stage()
    stage.setUp()
    try:
        pool = "fleet" + tool.name.replace("+", "")[:4]
        ns = stage.namespace(pool)
        nodes = [AksNode(pool, i + 1) for i in range(n)]
        stage.make_nodes(*nodes)
        stage.create(deployment(ns, "w", 3 * n, grace_seconds=1), nodes=[x.name for x in nodes])
        stage.wait_running(ns, 3 * n, timeout=300)
        handles = [tool.start(stage, x) for x in nodes]
        since = time.time()
        t0 = time.monotonic()
        for x in nodes:
            ENV.imds.vm(x.vm_name).add_event("Preempt", not_before_in=30)
        wait_until(lambda: all(stage.api.node(x.name)["spec"].get("unschedulable") for x in nodes), 120,
                   "every node cordoned", 0.05)
        cordoned = time.monotonic() - t0
        wait_until(lambda: all(tool.finished(stage, x, h) for x, h in zip(nodes, handles)), 300,
                   "every drain finished", 0.1)
        finished = time.monotonic() - t0
        for h in handles:
            h.get("stop", threading.Event()).set()
        return {"allCordoned": cordoned, "allFinished": finished,
                "apiRequestsPerNode": audit_count(tool.user, since) / n}
    finally:
        stage.tearDown()


def idle(tool, seconds: int) -> dict:
    if tool.name != "agent":
        return {"note": "no resident process of its own (a poll loop and kubectl on demand)"}
    stage = Stage()
    stage.setUp()
    try:
        node = AksNode("idle", 1)
        stage.make_nodes(node)
        handle = tool.start(stage, node)
        pid = handle["pid"]
        wait_until(lambda: handle["agent"].metrics().sum("aksnode_imds_requests_total", endpoint="scheduledevents",
                                                         result="ok"), 30, "first poll")
        cpu0, t0 = proc_cpu_seconds(pid), time.monotonic()
        peak = 0
        rss = []
        stop = threading.Event()
        while not stop.wait(1.0) and time.monotonic() - t0 < seconds:  # a sampling period, not a sync
            st = proc_status(pid)
            rss.append((st.get("VmRSS", 0), st.get("RssAnon", 0), st.get("RssFile", 0)))
            peak = max(peak, st.get("VmHWM", 0))
        cpu = proc_cpu_seconds(pid) - cpu0
        el = time.monotonic() - t0
        rss.sort()
        mid = rss[len(rss) // 2]
        return {"rssKiB": mid[0], "anonKiB": mid[1], "fileKiB": mid[2], "peakKiB": peak,
                "cpuSecondsPerHour": cpu / el * 3600}
    finally:
        stage.tearDown()


def fmt(v: Any, unit: str = "s") -> str:
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if unit == "s":
        return f"{v:.2f} s"
    if unit == "MiB":
        return f"{v / 1024:.1f} MiB"
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.1f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="a,b,c,d")
    ap.add_argument("--fleet", type=int, default=100)
    ap.add_argument("--idle", type=int, default=300)
    ap.add_argument("--parallelism", default="64,128",
                    help="extra agent runs of scenario b with these drain.parallelism values (the default is 32)")
    ap.add_argument("--markdown")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    only = set(args.only.split(","))
    peer_status = subprocess.run([os.path.join(HERE, "build.sh")], capture_output=True, text=True)
    peers_note = (peer_status.stderr.strip().splitlines() or ["not built"])[-1]
    start_world()
    bench_identity()
    tools = [AgentTool(), PollKubectlTool()]
    res: dict = {t.name: {} for t in tools}
    def attempt(tool_name: str, scen: str, fn) -> None:
        """One scenario; a failure is reported in its cells, and the other scenarios still run."""
        try:
            res[tool_name][scen] = fn()
        except Exception as e:  # noqa: BLE001  (a benchmark reports, it does not stop)
            log(f"{tool_name}: scenario {scen} failed: {e}")
            res[tool_name][scen] = {"error": f"failed: {str(e)[:80]}"}

    try:
        for t in tools:
            if "a" in only:
                log(f"{t.name}: scenario a")
                attempt(t.name, "a", lambda t=t: drain_once(t, "pa" + t.name[:1], 30, True))
            if "b" in only:
                log(f"{t.name}: scenario b")
                attempt(t.name, "b", lambda t=t: drain_once(t, "pb" + t.name[:1], 250, False))
            if "c" in only:
                log(f"{t.name}: scenario c ({args.fleet} nodes)")
                attempt(t.name, "c", lambda t=t: fleet(t, args.fleet))
            if "d" in only:
                log(f"{t.name}: scenario d ({args.idle} s idle)")
                attempt(t.name, "d", lambda t=t: idle(t, args.idle))
        sweep = {}
        if "b" in only:
            for p in [int(x) for x in args.parallelism.split(",") if x]:
                log(f"agent: scenario b with drain.parallelism={p}")
                try:
                    sweep[p] = drain_once(AgentTool(p), f"pp{p}", 250, False)
                except Exception as e:  # noqa: BLE001
                    log(f"agent parallelism {p} failed: {e}")
    finally:
        stop_world()
    names = [t.name for t in tools] + PEERS
    rows = []

    def row(label: str, scen: str, key: str, unit: str = "s") -> None:
        if scen not in only:
            return
        vals = [res[t.name].get(scen, {}).get("error") or fmt(res[t.name].get(scen, {}).get(key), unit)
                for t in tools]
        rows.append([f"({scen}) {label}"] + vals + ["not run"] * len(PEERS))
    for s in ("a", "b"):
        row("IMDS event -> cordon accepted", s, "cordon")
        row("IMDS event -> last eviction accepted", s, "lastEviction")
        row("IMDS event -> drain finished", s, "finished")
        row("pods still on the node at NotBefore (30 s)", s, "atNotBefore", "n")
        row("API requests by the tool", s, "apiRequests", "n")
    row("PDB violations (must be 0)", "a", "pdbViolations", "n")
    row("cordon -> last eviction accepted", "b", "cordonToLastEviction")
    row("API server's own latency per eviction (mean)", "b", "serverEvictionMean")
    for p, r in sweep.items():
        rows.append([f"(b) agent, drain.parallelism={p}: cordon -> last eviction; server latency",
                     f"{fmt(r['cordonToLastEviction'])}; {fmt(r['serverEvictionMean'])}"] + [""] * (len(names) - 1))
    row(f"{args.fleet} nodes: event -> all cordoned", "c", "allCordoned")
    row(f"{args.fleet} nodes: event -> all drains finished", "c", "allFinished")
    row("API requests per drained node", "c", "apiRequestsPerNode", "n")
    row("RSS idle (median)", "d", "rssKiB", "MiB")
    row("  of which anonymous", "d", "anonKiB", "MiB")
    row("  of which file-backed", "d", "fileKiB", "MiB")
    row("RSS peak", "d", "peakKiB", "MiB")
    row("CPU seconds per hour idle", "d", "cpuSecondsPerHour", "n")
    lines = ["| scenario / figure | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    machine = f"{platform.machine()}, {os.cpu_count()} cores, kube-apiserver {ENV.version.get('gitVersion')}"
    table = "\n".join(lines) + f"\n\nPeers: {peers_note}\nMachine: {machine}\n"
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
