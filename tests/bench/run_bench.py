#!/usr/bin/env python3
"""aks-node-agent benchmarks: one runner, one table, one JSON file.

    tests/bench/run_bench.py [--binary build/aks-node-agent] [--out bench.json] [--markdown table.md]
                             [--only detection,drain,footprint,fleet] [--trials 30] [--fleet-size 100]

Sections (each against the fakes in tests/fakes, everything on loopback, compared within one run):

  detection  IMDS starts showing a Preempt for this VM -> the cordon PATCH accepted by the API
             server, at the default 1 s poll. Each trial is a fresh agent on a fresh node (a
             Preempt's cordon is kept for kFatalUndoAfter = 10 min, so a node cannot be reused), and
             the event is injected at a random phase of the poll grid. Times come from the fake API
             server's request log (arrival + duration = accepted) and the fake IMDS request log
             (t_mono), both CLOCK_MONOTONIC like this process.
  drain      30 and 250 pods, without and with a PDB (maxUnavailable: 1 over a 10-pod Deployment;
             the rest unprotected): the agent vs the real `kubectl drain --ignore-daemonsets
             --delete-emptydir-data --force`, each on a fresh fake API server seeded the same way.
             Times from the cordon being accepted to the last eviction issued (201) and to the drain
             finished (agent: its "drain finished" log line; kubectl: the process exit).
  footprint  RSS steady and peak (VmRSS/VmHWM) during a 250-pod drain, CPU per 1000 IMDS polls
             (pollInterval 200ms), binary size; Debian's prometheus-node-exporter in the same run:
             RSS and /metrics scrape latency under load (wrk, else a Python client).
  fleet      N agents as separate processes, one fake IMDS (per-VM paths, no rate limit), one fake
             API server with N seeded nodes; every VM gets a Preempt at once: time until all are
             cordoned, until all drains finished, API requests per node.

Medians and ratios; the machine is shared and noisy, so only compare numbers of one run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "demo"))
from harness import (CHILDREN, Agent, FakeImds, FakeKube, add_deployment, agent_binary,  # noqa: E402
                     free_port, http_get, install_signal_handlers, proc_cpu_seconds, proc_status, wait_until)

SECTIONS = ["detection", "drain", "footprint", "fleet"]
PDB_PODS = 10  # the PDB-covered Deployment in the drain scenarios


# ---- small helpers ------------------------------------------------------------------------


def pct(values: list[float], q: float) -> Optional[float]:
    """Nearest-rank percentile (q in 0..100); with 30 samples p99 is the maximum."""
    if not values:
        return None
    s = sorted(values)
    return s[max(0, math.ceil(q / 100 * len(s)) - 1)]


def med(values: list[float]) -> Optional[float]:
    return statistics.median(values) if values else None


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def agent_config(imds_url: str, kubeconfig: str, poll: str = "1s", **drain: Any) -> dict:
    cfg: dict[str, Any] = {
        "imds": {"endpoint": imds_url, "pollInterval": poll},
        "kubernetes": {"kubeconfig": kubeconfig},
        "metrics": {"address": "127.0.0.1:0"},
        "identity": {"enabled": False},
        "disks": [], "caches": [],
    }
    if drain:
        cfg["drain"] = drain
    return cfg


def first(items, pred: Callable[[Any], bool]):
    return next((x for x in items if pred(x)), None)


def accepted(req: dict) -> float:
    """When the API server answered a request (arrival + processing), monotonic."""
    return req["t"] + req.get("durationMs", 0) / 1000.0


def node_patches(reqs: list[dict], node: str) -> list[dict]:
    return [r for r in reqs if r["method"] == "PATCH" and r["path"] == f"/api/v1/nodes/{node}" and r["status"] == 200]


def machine_info() -> dict:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith(("model name", "cpu model")):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_kb = proc_meminfo().get("MemTotal", 0)
    return {"cpus": os.cpu_count(), "cpuModel": model, "arch": platform.machine(), "kernel": platform.release(),
            "memGiB": round(mem_kb / 1024 / 1024, 1), "loadAvgAtStart": list(os.getloadavg()),
            "python": platform.python_version()}


def proc_meminfo() -> dict:
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = int(v.split()[0])
    return out


def tool_version(cmd: list[str]) -> str:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        return (p.stdout or p.stderr).strip().splitlines()[0]
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return "unavailable"


class Rows:
    """The summary table: (section, measure, agent, reference, ratio, goal, met)."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, section: str, measure: str, agent: Any, unit: str = "", reference: Any = None,
            ref_name: str = "", ratio: Optional[float] = None, goal: str = "", met: Optional[bool] = None) -> None:
        self.rows.append({"section": section, "measure": measure, "agent": agent, "unit": unit,
                          "reference": reference, "referenceName": ref_name, "ratio": ratio, "goal": goal,
                          "met": met})

    @staticmethod
    def fmt(v: Any, unit: str = "") -> str:
        if v is None:
            return "-"
        if isinstance(v, float):
            s = f"{v:.3f}" if abs(v) < 10 else (f"{v:.1f}" if abs(v) < 1000 else f"{v:.0f}")
        else:
            s = str(v)
        return f"{s} {unit}".strip()

    def lines(self) -> list[list[str]]:
        out = []
        for r in self.rows:
            ref = self.fmt(r["reference"], r["unit"])
            if r["reference"] is not None and r["referenceName"]:
                ref += f" ({r['referenceName']})"
            goal = r["goal"] + ("" if r["met"] is None else (" ✔" if r["met"] else " ✘"))
            out.append([r["section"], r["measure"], self.fmt(r["agent"], r["unit"]), ref,
                        "-" if r["ratio"] is None else f"{r['ratio']:.2f}x", goal])
        return out

    HEAD = ["section", "measure", "aks-node-agent", "reference", "ratio", "goal"]

    def text(self) -> str:
        rows = [self.HEAD] + self.lines()
        widths = [max(len(r[i]) for r in rows) for i in range(len(self.HEAD))]
        out = []
        for n, r in enumerate(rows):
            out.append("  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip())
            if n == 0:
                out.append("  ".join("-" * w for w in widths))
        return "\n".join(out)

    def markdown(self) -> str:
        out = ["| " + " | ".join(self.HEAD) + " |", "|" + "---|" * len(self.HEAD)]
        for r in self.lines():
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
        return "\n".join(out)


# ---- 1. detection -------------------------------------------------------------------------


def bench_detection(args, workdir: str, rows: Rows) -> dict:
    trials = []
    with FakeImds.start("det-default") as imds, FakeKube.start() as kube:
        kc = kube.write_kubeconfig(os.path.join(workdir, "det-kubeconfig"))
        for i in range(args.trials):
            name = f"det-{i:03d}"
            kube.seed(node=name, pods=0, daemonsets=0)
            vm = imds.vm(name)
            agent = Agent(args.binary, agent_config(vm.url, kc), name, workdir, name=name,
                          keep_msgs={"node cordoned"})
            try:
                agent.start()
                agent.wait_ready()
                # A random phase against the agent's 1 s poll grid: sampling, not synchronisation.
                time.sleep(random.uniform(0, 1.0))
                since = kube.last_request_seq()
                t_before = time.monotonic()
                vm.add_event("Preempt", not_before_in=120)
                t_after = time.monotonic()
                cordon = wait_until(lambda: first(node_patches(kube.requests(since=since, method="PATCH"), name),
                                                  lambda r: True), 10, f"cordon of {name}", interval=0.01,
                                    abort=agent.exit_reason)
                line = agent.wait_log("node cordoned", 5)
                # The poll that returned the event: the last one that arrived before the cordon PATCH (the
                # agent patches within milliseconds of the answer; the next poll is a second later). A poll
                # that arrives while add_event is in flight may or may not see it, so "the first poll
                # after the add" would be wrong now and then.
                polls = [r["t_mono"] for r in vm.requests(since=t_before - 2, endpoint="scheduledevents")
                         if r["method"] == "GET" and r["t_mono"] < cordon["t"]]
                first_poll = max(polls, default=None)
                trial = {"node": name, "total": accepted(cordon) - t_before,
                         "pollWait": (first_poll - t_before) if first_poll else None,
                         "reaction": (accepted(cordon) - first_poll) if first_poll else None,
                         "agentMetric": float(line["rec"].get("detectionLatencySeconds", "nan")),
                         "addRoundTrip": t_after - t_before}
                trials.append(trial)
                log(f"detection {i + 1}/{args.trials}: {trial['total'] * 1000:.0f} ms "
                    f"(poll wait {trial['pollWait'] * 1000:.0f} ms, reaction {trial['reaction'] * 1000:.1f} ms)")
            finally:
                agent.stop()
    total = [t["total"] for t in trials]
    reaction = [t["reaction"] for t in trials if t["reaction"] is not None]
    metric = [t["agentMetric"] for t in trials]
    out = {"trials": trials, "pollInterval": 1.0,
           "total": {"p50": med(total), "p99": pct(total, 99), "min": min(total), "max": max(total)},
           "reaction": {"p50": med(reaction), "p99": pct(reaction, 99)},
           "agentMetric": {"p50": med(metric), "p99": pct(metric, 99)},
           "addRoundTripP50": med([t["addRoundTrip"] for t in trials])}
    goal_p99 = 1.0 + 0.050
    rows.add("detection", f"event in IMDS -> cordon accepted, p50 (n={len(total)})", out["total"]["p50"] * 1000, "ms")
    rows.add("detection", f"event in IMDS -> cordon accepted, p99 (n={len(total)})", out["total"]["p99"] * 1000, "ms",
             goal="< 1050 ms (poll + 50 ms)", met=out["total"]["p99"] < goal_p99)
    rows.add("detection", "poll returned it -> cordon accepted, p50", out["reaction"]["p50"] * 1000, "ms")
    rows.add("detection", "poll returned it -> cordon accepted, p99", out["reaction"]["p99"] * 1000, "ms")
    return out


# ---- 2. drain -----------------------------------------------------------------------------


def seed_drain_node(kube: FakeKube, node: str, pods: int, pdb: bool) -> None:
    spares = [f"spare-{i}" for i in range(5)]
    if not pdb:
        kube.seed(node=node, pods=pods, daemonsets=2, extraNodes=spares)
        return
    kube.seed(node=node, pods=pods - PDB_PODS, daemonsets=2, extraNodes=spares)
    template = first(kube.pods_on(node), lambda p: p["metadata"]["namespace"] == "workloads")
    add_deployment(kube, template, "workloads", "checkout", PDB_PODS, node)
    kube.create({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                 "metadata": {"name": "checkout-pdb", "namespace": "workloads"},
                 "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "checkout"}}}})


def drain_summary(reqs: list[dict], node: str, finished: float, cordon_acc: float) -> dict:
    ev = [r for r in reqs if r.get("resource") == "pods/eviction" and r["method"] == "POST"]
    ok = [r for r in ev if r["status"] == 201]
    return {"toLastEviction": (max(r["t"] for r in ok) - cordon_acc) if ok else None,
            "toFirstEviction": (min(r["t"] for r in ok) - cordon_acc) if ok else None,
            "toFinished": finished - cordon_acc, "evicted": len(ok),
            "refused429": sum(1 for r in ev if r["status"] == 429), "apiRequests": len(reqs)}


def agent_drain(args, workdir: str, pods: int, pdb: bool, sample_rss: bool = False) -> dict:
    node = f"drain-{pods}-{'pdb' if pdb else 'nopdb'}"
    with FakeImds.start(node) as imds, FakeKube.start(grace_scale=args.grace_scale) as kube:
        seed_drain_node(kube, node, pods, pdb)
        kc = kube.write_kubeconfig(os.path.join(workdir, node + "-kubeconfig"))
        agent = Agent(args.binary, agent_config(imds.url, kc), node, workdir, name=node,
                      keep_msgs={"drain finished", "node cordoned"})
        try:
            agent.start()
            agent.wait_ready()
            rss_idle, anon_idle, file_idle, pss_idle = [], [], [], []
            if sample_rss:
                end = time.monotonic() + 5
                while time.monotonic() < end:  # steady state: idle, polling every second
                    st = agent.pid_status()
                    rss_idle.append(st.get("VmRSS", 0))
                    anon_idle.append(st.get("RssAnon", 0))
                    file_idle.append(st.get("RssFile", 0))
                    pss_idle.append(pss_kib(agent.proc.pid))
                    time.sleep(0.1)
            since = kube.last_request_seq()
            wall_offset = time.time() - time.monotonic()
            cpu0 = agent.cpu_seconds()
            t0 = time.monotonic()
            imds.add_event("Preempt", not_before_in=300)
            rss_drain = []

            def finished():
                if sample_rss:
                    rss_drain.append(agent.pid_status().get("VmRSS", 0))
                return agent.find("drain finished")
            line = wait_until(finished, 200, f"the agent's drain of {node}", interval=0.02,
                              abort=agent.exit_reason)[0]
            status = agent.pid_status()
            if not status:
                raise RuntimeError(agent.exit_reason() or "the agent vanished during the drain")
            cpu_drain = agent.cpu_seconds() - cpu0
            t_fin = agent.line_time(line, wall_offset)
            reqs = kube.requests(since=since)
            cordon = first(node_patches(reqs, node), lambda r: True)
            out = drain_summary(reqs, node, t_fin, accepted(cordon))
            out.update({"result": line["rec"].get("result"), "eventToCordon": accepted(cordon) - t0,
                        "cpuSeconds": cpu_drain})
            if sample_rss:
                out.update({"rssIdleKiB": med(rss_idle), "rssAnonIdleKiB": med(anon_idle),
                            "rssFileIdleKiB": med(file_idle), "pssIdleKiB": med(pss_idle),
                            "rssDrainMaxKiB": max(rss_drain or [0]),
                            "vmHwmKiB": status.get("VmHWM")})
            time.sleep(0.5)  # let the post-drain node update run: a crash there must show up here
            if agent.exit_reason():
                out["crashedAfterDrain"] = agent.exit_reason()
            return out
        finally:
            agent.stop()


def kubectl_drain(args, workdir: str, pods: int, pdb: bool) -> dict:
    node = f"drain-{pods}-{'pdb' if pdb else 'nopdb'}"
    with FakeKube.start(grace_scale=args.grace_scale) as kube:
        seed_drain_node(kube, node, pods, pdb)
        kube.kubectl("get", "nodes", "-o", "name")  # discovery cache warm, as on an admin's machine
        since = kube.last_request_seq()
        t0 = time.monotonic()
        p = kube.kubectl("drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--force",
                         "--timeout=600s", timeout=900, check=False)
        t_end = time.monotonic()
        reqs = kube.requests(since=since)
        cordon = first(node_patches(reqs, node), lambda r: True)
        out = drain_summary(reqs, node, t_end, accepted(cordon))
        out.update({"exitCode": p.returncode, "startToCordon": accepted(cordon) - t0})
        if p.returncode != 0:
            out["stderr"] = p.stderr[-2000:]
        return out


def bench_drain(args, workdir: str, rows: Rows) -> dict:
    results = {}
    for pods in (30, 250):
        for pdb in (False, True):
            key = f"{pods} pods{' + PDB' if pdb else ''}"
            reps = args.drain_reps if not pdb else max(1, args.drain_reps_pdb)
            runs = {"agent": [], "kubectl": []}
            for rep in range(reps):
                a = agent_drain(args, workdir, pods, pdb)
                runs["agent"].append(a)
                log(f"drain {key} agent #{rep + 1}: last eviction {a['toLastEviction']:.3f}s, "
                    f"finished {a['toFinished']:.3f}s ({a['result']}, {a['refused429']} x 429)")
                k = kubectl_drain(args, workdir, pods, pdb)
                runs["kubectl"].append(k)
                log(f"drain {key} kubectl #{rep + 1}: last eviction {k['toLastEviction']:.3f}s, "
                    f"finished {k['toFinished']:.3f}s (exit {k['exitCode']}, {k['refused429']} x 429)")
            summary = {}
            for who in ("agent", "kubectl"):
                summary[who] = {m: med([r[m] for r in runs[who] if r.get(m) is not None])
                                for m in ("toLastEviction", "toFinished", "apiRequests", "refused429")}
            results[key] = {"runs": runs, "median": summary}
            a, k = summary["agent"], summary["kubectl"]
            goal, met = "", None
            if pods == 250 and not pdb:
                goal, met = "< 500 ms after cordon", a["toLastEviction"] < 0.5
            rows.add("drain", f"{key}: cordon -> last eviction issued", a["toLastEviction"], "s",
                     k["toLastEviction"], "kubectl drain", k["toLastEviction"] / a["toLastEviction"]
                     if a["toLastEviction"] else None, goal, met)
            goal, met = "", None
            if pdb:
                ratio = k["toFinished"] / a["toFinished"]
                goal, met = ">= 3x faster than kubectl", ratio >= 3
            rows.add("drain", f"{key}: cordon -> drain finished", a["toFinished"], "s", k["toFinished"],
                     "kubectl drain", k["toFinished"] / a["toFinished"], goal, met)
            crashed = [r["crashedAfterDrain"] for r in runs["agent"] if r.get("crashedAfterDrain")]
            if crashed:
                results[key]["agentCrashedAfterDrain"] = crashed
    return results


# ---- 3. footprint -------------------------------------------------------------------------


def run_wrk(url: str, seconds: int, connections: int) -> dict:
    wrk = shutil.which("wrk")
    if wrk:
        p = subprocess.run([wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url],
                           capture_output=True, text=True, timeout=seconds + 60)
        out = {"tool": "wrk", "raw": p.stdout}
        for q in ("50", "90", "99"):
            m = re.search(rf"^\s+{q}%\s+([0-9.]+)(us|ms|s)\s*$", p.stdout, re.M)
            if m:
                out[f"p{q}Ms"] = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
        m = re.search(r"Requests/sec:\s+([0-9.]+)", p.stdout)
        out["rps"] = float(m.group(1)) if m else None
        m = re.search(r"(\d+) requests in", p.stdout)
        out["requests"] = int(m.group(1)) if m else None
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", p.stdout)
        out["errors"] = int(errors.group(1)) if errors else 0
        return out
    # Fallback: `connections` threads doing back-to-back GETs.
    lat: list[float] = []
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def worker():
        import http.client
        u = urllib.request.urlparse(url)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        while time.monotonic() < end:
            t = time.monotonic()
            conn.request("GET", u.path)
            conn.getresponse().read()
            with lock:
                lat.append((time.monotonic() - t) * 1000)
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"tool": "python", "p50Ms": med(lat), "p90Ms": pct(lat, 90), "p99Ms": pct(lat, 99),
            "rps": len(lat) / seconds, "requests": len(lat), "errors": 0}


def image_size(name: str) -> Optional[dict]:
    """Size of the newest local image `name` (podman), and of the Dockerfile's runtime base."""
    podman = shutil.which("podman")
    if not podman or not name:
        return None

    def inspect(ref: str) -> Optional[int]:
        p = subprocess.run([podman, "image", "inspect", "--format", "{{.Size}}", ref], capture_output=True,
                           text=True, timeout=60)
        return int(p.stdout.strip()) if p.returncode == 0 and p.stdout.strip().isdigit() else None
    p = subprocess.run([podman, "images", "--sort", "created", "--format", "{{.Repository}}:{{.Tag}}",
                        "--filter", f"reference={name}"], capture_output=True, text=True, timeout=60)
    refs = [r for r in p.stdout.split() if r]
    if not refs:
        return None
    ref = refs[-1]
    size = inspect(ref)
    base = "docker.io/library/debian:bookworm-slim"
    base_size = inspect(base)
    if size is None:
        return None
    return {"name": ref, "bytes": size, "base": base, "baseBytes": base_size,
            "ownBytes": (size - base_size) if base_size else None}


def pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_steady(pid: int, seconds: float = 3.0) -> dict:
    """Medians of VmRSS, RssAnon, RssFile (KiB) sampled every 100 ms."""
    samples: dict[str, list] = {"VmRSS": [], "RssAnon": [], "RssFile": []}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        st = proc_status(pid)
        for k in samples:
            samples[k].append(st.get(k, 0))
        time.sleep(0.1)
    return {k: med(v) for k, v in samples.items()}


def bench_footprint(args, workdir: str, rows: Rows) -> dict:
    out: dict[str, Any] = {}
    # (a) CPU per 1000 polls, pollInterval 200ms, idle node.
    with FakeImds.start("fp-poll", rate_limit=False) as imds, FakeKube.start() as kube:
        kube.seed(node="fp-poll", pods=0, daemonsets=0)
        kc = kube.write_kubeconfig(os.path.join(workdir, "fp-kubeconfig"))
        agent = Agent(args.binary, agent_config(imds.url, kc, poll="200ms"), "fp-poll", workdir, name="fp-poll",
                      keep_msgs=set())
        try:
            agent.start()
            agent.wait_ready()
            time.sleep(2)  # past start-up (instance metadata, first node read)
            n0 = imds.stats()["requests"]
            c0 = agent.cpu_seconds()
            t0 = time.monotonic()
            wait_until(lambda: imds.stats()["requests"] - n0 >= args.polls, args.polls * 0.2 * 3 + 30,
                       f"{args.polls} polls", interval=0.5, abort=agent.exit_reason)
            polls = imds.stats()["requests"] - n0
            cpu = agent.cpu_seconds() - c0
            wall = time.monotonic() - t0
            out["polls"] = {"polls": polls, "cpuSeconds": cpu, "wallSeconds": wall,
                            "cpuMsPer1000Polls": cpu / polls * 1000 * 1000,
                            "cpuClock": "schedstat (ns)" if os.path.exists(f"/proc/{agent.proc.pid}/schedstat")
                            else "utime+stime (10 ms ticks)",
                            "coreShareAt1sPoll": cpu / polls,  # one poll per second
                            "rssKiB": agent.pid_status().get("VmRSS")}
        finally:
            agent.stop()
    p = out["polls"]
    rows.add("footprint", f"CPU per 1000 IMDS polls (200ms poll, {p['polls']} polls)", p["cpuMsPer1000Polls"], "ms")
    rows.add("footprint", "CPU at the default 1 s poll (idle node)", p["coreShareAt1sPoll"] * 100, "% of a core",
             goal="< 0.5 %", met=p["coreShareAt1sPoll"] * 100 < 0.5)

    # (b) RSS steady and peak around a 250-pod drain.
    d = agent_drain(args, workdir, 250, False, sample_rss=True)
    out["drain250"] = d
    rows.add("footprint", "RSS steady (idle, 1 s poll, 250-pod node)", d["rssIdleKiB"] / 1024, "MiB",
             goal="<= 8 MiB", met=d["rssIdleKiB"] / 1024 <= 8)
    rows.add("footprint", "  of which anonymous (heap, stacks: RssAnon)", d["rssAnonIdleKiB"] / 1024, "MiB")
    rows.add("footprint", "  of which file-backed (binary, shared libs: RssFile)", d["rssFileIdleKiB"] / 1024, "MiB")
    rows.add("footprint", "PSS steady (shared pages divided among their users)", d["pssIdleKiB"] / 1024, "MiB")
    rows.add("footprint", "RSS peak during a 250-pod drain (VmHWM)", d["vmHwmKiB"] / 1024, "MiB")
    rows.add("footprint", "CPU for the whole 250-pod drain", d["cpuSeconds"] * 1000, "ms")

    # (c) binary size.
    size = os.path.getsize(args.binary)
    stripped = None
    if shutil.which("strip"):
        tmp = os.path.join(workdir, "stripped")
        if subprocess.run(["strip", "-o", tmp, args.binary], capture_output=True).returncode == 0:
            stripped = os.path.getsize(tmp)
    out["binary"] = {"path": args.binary, "bytes": size, "strippedBytes": stripped}
    ne_bin = shutil.which("prometheus-node-exporter")
    ne_size = os.path.getsize(ne_bin) if ne_bin else None
    rows.add("footprint", "binary size (stripped)", (stripped or size) / 1024 / 1024, "MiB",
             ne_size / 1024 / 1024 if ne_size else None, "node-exporter",
             ((stripped or size) / ne_size) if ne_size else None)

    # (d) the container image, when one was built here (scripts/build-image.sh); not built by the bench.
    image = image_size(args.image)
    if image:
        out["image"] = image
        rows.add("footprint", f"container image {image['name']} (reference: its Debian base)",
                 image["bytes"] / 1e6, "MB", image.get("baseBytes", 0) / 1e6 if image.get("baseBytes") else None,
                 "base image")

    # (e) against prometheus-node-exporter: RSS and /metrics latency under load.
    if not ne_bin:
        log("prometheus-node-exporter not installed: skipping the comparison (apt-get install prometheus-node-exporter)")
        return out
    with FakeImds.start("fp-scrape") as imds, FakeKube.start() as kube:
        kube.seed(node="fp-scrape", pods=30, daemonsets=4)
        kc = kube.write_kubeconfig(os.path.join(workdir, "fp2-kubeconfig"))
        agent = Agent(args.binary, agent_config(imds.url, kc), "fp-scrape", workdir, name="fp-scrape",
                      keep_msgs=set())
        ne_port = free_port()
        ne = CHILDREN.spawn([ne_bin, f"--web.listen-address=127.0.0.1:{ne_port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            agent.start()
            agent.wait_ready()
            ne_url = f"http://127.0.0.1:{ne_port}/metrics"
            wait_until(lambda: http_get(ne_url, 5)[0] == 200, 20, "node-exporter /metrics", interval=0.2)
            a_url = agent.url + "/metrics"
            targets = {"agent": (a_url, agent.proc.pid), "node-exporter": (ne_url, ne.pid)}
            res: dict[str, Any] = {}
            for who, (url, pid) in targets.items():
                for _ in range(5):  # warm: first scrapes allocate
                    http_get(url)
                body = http_get(url)[1]
                steady = rss_steady(pid)
                res[who] = {"rssSteadyKiB": steady["VmRSS"], "rssAnonSteadyKiB": steady["RssAnon"],
                            "rssFileSteadyKiB": steady["RssFile"], "pssSteadyKiB": pss_kib(pid),
                            "metricsBytes": len(body.encode()),
                            "series": sum(1 for l in body.splitlines() if l and not l.startswith("#"))}
            for who, (url, pid) in targets.items():
                res[who]["load"] = run_wrk(url, args.wrk_seconds, args.wrk_connections)
                res[who]["vmHwmKiB"] = proc_status(pid).get("VmHWM")
                res[who]["rssAfterLoadKiB"] = proc_status(pid).get("VmRSS")
            out["vsNodeExporter"] = res
            a, n = res["agent"], res["node-exporter"]
            rows.add("footprint", "RSS steady, both idle after 5 scrapes", a["rssSteadyKiB"] / 1024, "MiB",
                     n["rssSteadyKiB"] / 1024, "node-exporter", a["rssSteadyKiB"] / n["rssSteadyKiB"])
            rows.add("footprint", "RssAnon steady (heap, stacks)", a["rssAnonSteadyKiB"] / 1024, "MiB",
                     n["rssAnonSteadyKiB"] / 1024, "node-exporter", a["rssAnonSteadyKiB"] / n["rssAnonSteadyKiB"])
            rows.add("footprint", f"RSS peak under /metrics load ({a['load']['tool']}, {args.wrk_connections} conns)",
                     a["vmHwmKiB"] / 1024, "MiB", n["vmHwmKiB"] / 1024, "node-exporter",
                     a["vmHwmKiB"] / n["vmHwmKiB"])
            for q in ("p50", "p99"):
                av, nv = a["load"].get(q + "Ms"), n["load"].get(q + "Ms")
                rows.add("footprint", f"/metrics latency under load, {q}", av, "ms", nv, "node-exporter",
                         (av / nv) if av and nv else None)
            rows.add("footprint", "/metrics requests per second under load", a["load"].get("rps"), "req/s",
                     n["load"].get("rps"), "node-exporter",
                     (a["load"]["rps"] / n["load"]["rps"]) if a["load"].get("rps") and n["load"].get("rps") else None)
            rows.add("footprint", "/metrics body (series)", f"{a['metricsBytes']} B ({a['series']})", "",
                     f"{n['metricsBytes']} B ({n['series']})", "node-exporter")
        finally:
            agent.stop()
            CHILDREN.stop(ne)
    return out


def status_by_kind(reqs: list[dict]) -> dict:
    """{"POST pods/eviction": {"201": 300, "429": 12}, ...}"""
    out: dict[str, dict] = {}
    for r in reqs:
        k = f"{r['method']} {r.get('resource') or r['path']}"
        d = out.setdefault(k, {})
        d[str(r["status"])] = d.get(str(r["status"]), 0) + 1
    return out


# ---- 4. fleet -----------------------------------------------------------------------------


def bench_fleet(args, workdir: str, rows: Rows) -> dict:
    n = args.fleet_size
    names = [f"fleet-{i:03d}" for i in range(n)]
    spares = [f"fleet-spare-{i}" for i in range(10)]
    with FakeImds.start("fleet-default", rate_limit=False) as imds, \
            FakeKube.start(grace_scale=args.grace_scale) as kube:
        kube.seed_many([{"node": name, "pods": args.fleet_pods, "daemonsets": 2, "extraNodes": spares}
                        for name in names])
        kc = kube.write_kubeconfig(os.path.join(workdir, "fleet-kubeconfig"))
        agents = [Agent(args.binary, agent_config(imds.vm(name).url, kc), name, workdir, name=name,
                        keep_msgs={"drain finished"}) for name in names]
        try:
            t_start = time.monotonic()
            for a in agents:
                a.start(wait_ready=False)
            for a in agents:
                a.wait_serving(120)
            for a in agents:
                a.wait_ready(120)
            startup = time.monotonic() - t_start
            rss = [a.pid_status().get("VmRSS", 0) for a in agents]
            log(f"fleet: {n} agents ready in {startup:.1f}s")
            since = kube.last_request_seq()
            wall_offset = time.time() - time.monotonic()
            t0 = time.monotonic()
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(lambda name: imds.vm(name).add_event("Preempt", not_before_in=30), names))
            injected = time.monotonic() - t0

            def all_finished():
                dead = [a.exit_reason() for a in agents if a.exit_reason()]
                if dead:
                    raise RuntimeError(f"{len(dead)} agents exited: {dead[0]}")
                return all(a.find("drain finished") for a in agents)
            wait_until(all_finished, 120, "every fleet drain to finish", interval=0.1)
            t_all = time.monotonic()
            reqs = kube.requests(since=since)
            cordon, finished, results = {}, {}, {}
            for a in agents:
                c = first(node_patches(reqs, a.node_name), lambda r: True)
                cordon[a.node_name] = accepted(c) - t0 if c else None
                line = a.find("drain finished")[0]
                finished[a.node_name] = a.line_time(line, wall_offset) - t0
                results[a.node_name] = line["rec"].get("result")
            window = [r for r in reqs if r["t"] <= t_all]
            per_node: dict[str, int] = {name: 0 for name in names}
            by_kind: dict[str, int] = {}
            for r in window:
                if r.get("node") in per_node:
                    per_node[r["node"]] += 1
                    k = f"{r['method']} {r.get('resource') or r['path']}"
                    by_kind[k] = by_kind.get(k, 0) + 1
            crashed = [a.exit_reason() for a in agents if a.exit_reason()]
            cv = [v for v in cordon.values() if v is not None]
            out = {"size": n, "podsPerNode": args.fleet_pods, "startupSeconds": startup,
                   "injectionSeconds": injected, "allCordoned": max(cv), "cordonP50": med(cv),
                   "allDrained": max(finished.values()), "drainedP50": med(list(finished.values())),
                   "results": {r: list(results.values()).count(r) for r in set(results.values())},
                   "apiRequestsPerNode": {"median": med(list(per_node.values())), "max": max(per_node.values()),
                                          "mean": sum(per_node.values()) / n},
                   "apiRequestsByKindPerNode": {k: v / n for k, v in sorted(by_kind.items())},
                   "unattributedRequests": sum(1 for r in window if r.get("node") not in per_node),
                   "apiRequestsTotalPerNode": len(window) / n,
                   "statusByKind": status_by_kind(window),
                   "rssMedianKiB": med(rss), "crashedAfterDrain": crashed}
        finally:
            for a in agents:
                if a.proc and a.proc.poll() is None:
                    CHILDREN._signal(a.proc, 15)
            for a in agents:
                a.stop()
    rows.add("fleet", f"{n} agents: Preempt injected -> every node cordoned", out["allCordoned"], "s")
    rows.add("fleet", f"{n} agents: cordon accepted, median node", out["cordonP50"], "s")
    rows.add("fleet", f"{n} agents: Preempt injected -> every drain finished", out["allDrained"], "s")
    rows.add("fleet", f"{n} agents: API requests per node (event to all drained)",
             out["apiRequestsPerNode"]["median"], "")
    rows.add("fleet", f"{n} agents: all API requests / {n} (incl. Events, which name no node)",
             out["apiRequestsTotalPerNode"], "")
    rows.add("fleet", f"{n} agents: drains succeeded", f"{out['results'].get('success', 0)}/{n}", "")
    return out


# ---- main ---------------------------------------------------------------------------------


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=agent_binary())
    ap.add_argument("--only", default=",".join(SECTIONS), help="comma-separated: " + ",".join(SECTIONS))
    ap.add_argument("--out", help="write the results as JSON")
    ap.add_argument("--markdown", help="write the table as Markdown")
    ap.add_argument("--trials", type=int, default=30, help="detection trials (default 30)")
    ap.add_argument("--drain-reps", type=int, default=3, help="repetitions of the drains without PDB (default 3)")
    ap.add_argument("--drain-reps-pdb", type=int, default=3, help="repetitions of the PDB drains (default 3)")
    ap.add_argument("--grace-scale", type=float, default=0.01,
                    help="fake pod grace periods x this (default 0.01: 30 s -> 0.3 s)")
    ap.add_argument("--polls", type=int, default=300, help="IMDS polls for the CPU figure (default 300)")
    ap.add_argument("--wrk-seconds", type=int, default=5)
    ap.add_argument("--wrk-connections", type=int, default=4)
    ap.add_argument("--image", default="localhost/aks-node-agent",
                    help="local container image to report the size of (built by scripts/build-image.sh)")
    ap.add_argument("--fleet-size", type=int, default=100)
    ap.add_argument("--fleet-pods", type=int, default=3, help="workload pods per fleet node (default 3)")
    args = ap.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    bad = [s for s in only if s not in SECTIONS]
    if bad:
        ap.error(f"unknown section(s) {bad}; choose from {SECTIONS}")
    if not os.access(args.binary, os.X_OK):
        ap.error(f"no agent binary at {args.binary}")
    install_signal_handlers()
    workdir = tempfile.mkdtemp(prefix="aksnode-bench-")
    CHILDREN.on_cleanup(lambda: shutil.rmtree(workdir, ignore_errors=True))
    rows = Rows()
    report: dict[str, Any] = {
        "command": " ".join([os.path.relpath(sys.argv[0], REPO)] + sys.argv[1:]),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine_info(),
        "binary": {"path": args.binary, "version": tool_version([args.binary, "--version"])},
        "kubectl": tool_version(["kubectl", "version", "--client"]),
        "nodeExporter": tool_version(["prometheus-node-exporter", "--version"]),
        "settings": {k: v for k, v in vars(args).items() if k not in ("out", "markdown")},
        "sections": {},
    }
    funcs = {"detection": bench_detection, "drain": bench_drain, "footprint": bench_footprint,
             "fleet": bench_fleet}
    code = 0
    try:
        for s in SECTIONS:
            if s not in only:
                continue
            log(f"section {s}")
            t = time.monotonic()
            try:
                report["sections"][s] = funcs[s](args, workdir, rows)
            except Exception as e:  # noqa: BLE001 - one broken section must not lose the others
                log(f"section {s} FAILED: {e}")
                import traceback
                traceback.print_exc()
                report["sections"][s] = {"error": str(e)}
                rows.add(s, "FAILED", str(e).splitlines()[0][:120])
                code = 1
            report["sections"][s]["_seconds"] = round(time.monotonic() - t, 1)
    except KeyboardInterrupt:
        log("interrupted")
        code = 130
    finally:
        CHILDREN.cleanup()
    report["machine"]["loadAvgAtEnd"] = list(os.getloadavg())
    report["rows"] = rows.rows
    m = report["machine"]
    print(f"\naks-node-agent benchmarks — {m['cpus']} CPUs ({m['cpuModel']}), {m['memGiB']} GiB, "
          f"load {m['loadAvgAtStart'][0]:.1f} at start, {m['loadAvgAtEnd'][0]:.1f} at end")
    print(f"binary: {report['binary']['version']}\n")
    print(rows.text())
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=2, default=str)
        print(f"\nJSON: {args.out}")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(rows.markdown() + "\n")
        print(f"Markdown: {args.markdown}")
    return code


if __name__ == "__main__":
    sys.exit(main())
