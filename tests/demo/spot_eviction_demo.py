#!/usr/bin/env python3
"""The main job, on a laptop: the real aks-node-agent saves a spot node's pods from an eviction.

Starts a fake Azure IMDS, a fake Kubernetes API server seeded with a busy spot node (Deployments,
a StatefulSet, a PodDisruptionBudget, DaemonSet pods, the spot taint), real Prometheus scraping
the agent, and the real agent; then injects a Scheduled Event for this VM and prints what
happened, in order, from the agent's JSON log and the API server's request log, with the key
metrics (from the agent's /metrics and from Prometheus, to prove it scraped them).

    tests/demo/spot_eviction_demo.py [--event-type Preempt] [--pods 30] [--not-before 30] [--keep]

Exit code 0 only when the node ended as the event type calls for: for Preempt (and the other
`drain` types) cordoned, drained (only DaemonSet, mirror and agent pods left), and the condition
set (PreemptionScheduled=True for Preempt, VMEventScheduled=True for every type). Everything
started here is stopped on success, failure and Ctrl-C.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from typing import Any, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (CHILDREN, Agent, FakeImds, FakeKube, FakeWebhook, Prometheus, agent_binary,  # noqa: E402
                     install_signal_handlers, metric_value, seed_realistic_node, vmss_names, wait_until,
                     workload_pods_left)

EVENT_TYPES = ["Preempt", "Terminate", "Reboot", "Redeploy", "Freeze"]
# The demo's json webhook (docs/notifications.md): a path that stands for a real webhook's secret.
WEBHOOK_PATH = "/hooks/aks-node-agent/demo-webhook-secret-0123456789"
DEFAULT_ACTIONS = {"Preempt": "drain", "Terminate": "drain", "Reboot": "drain", "Redeploy": "drain",
                   "Freeze": "notify"}  # docs/configuration.md defaults, which the demo keeps

USE_COLOUR = sys.stdout.isatty() and os.environ.get("NO_COLOR") is None


def c(text: str, code: str) -> str:
    return f"\033[{code}m{text}\033[0m" if USE_COLOUR else text


def say(text: str = "") -> None:
    print(text, flush=True)


def parse_wall(stamp: str) -> Optional[float]:
    """The agent's log time, 2026-11-26T20:04:05.229Z, as a unix time."""
    try:
        return dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc).timestamp()
    except (ValueError, TypeError):
        return None


class Timeline:
    """Entries (monotonic time, kind, text), printed relative to the moment the event appeared."""

    def __init__(self, t0: float):
        self.t0 = t0
        self.entries: list[tuple[float, int, str, str]] = []

    def add(self, t: float, kind: str, text: str) -> None:
        self.entries.append((t, len(self.entries), kind, text))

    def print(self) -> None:
        colours = {"imds": "36", "node": "33", "evict": "32", "blocked": "35", "drain": "1;32", "cond": "34",
                   "fail": "1;31", "info": "0", "notice": "1;36"}
        for t, _, kind, text in sorted(self.entries):
            say(f"  {c('t+%7.3fs' % (t - self.t0), '2')}  {c(text, colours.get(kind, '0'))}")


def build_timeline(t0: float, wall_offset: float, event: dict, vm: str, node: str, imds: Any, kube: FakeKube,
                   agent: Agent, pdb: Optional[str], kube_since: int, hooks: FakeWebhook) -> Timeline:
    """Merge the IMDS request log, the API server request log and the agent's log into one story.
    wall_offset converts the agent's wall-clock log times to this process's monotonic clock."""
    tl = Timeline(t0)
    ev_id = event["EventId"]
    tl.add(t0, "imds", f"{event['EventType']} event {ev_id[:8]}… for VM {vm} is visible in IMDS "
                       f"(NotBefore {event.get('NotBefore') or 'now'})")

    polls = [r for r in imds.requests(since=t0 - 0.001, endpoint="scheduledevents")
             if r.get("method") == "GET" and r.get("status") == 200]
    if polls:
        tl.add(polls[0]["t_mono"], "imds", "the agent's next IMDS poll returns it")

    def agent_t(line: dict) -> float:
        w = parse_wall(line["rec"].get("time"))
        return (w - wall_offset) if w is not None else line["mono"]

    for line in agent.find("scheduled event for this VM"):
        if line["rec"].get("eventId") == ev_id:
            tl.add(agent_t(line), "imds", "agent: scheduled event for this VM "
                                          f"({line['rec'].get('eventType')}, {line['rec'].get('eventStatus', '')})"
                   .replace(", )", ")"))
            break

    reqs = kube.requests(since=kube_since)
    node_path = f"/api/v1/nodes/{node}"
    first_patch_done = False
    attempts: dict[str, int] = {}
    blocked_lines = 0
    for r in reqs:
        done = r["t"] + r.get("durationMs", 0) / 1000.0
        if r["method"] == "PATCH" and r["path"] == node_path:
            if r["status"] == 409:
                tl.add(done, "node", "PATCH node → 409 Conflict; re-read and retry")
                continue
            if r["status"] != 200:
                tl.add(done, "fail", f"PATCH node → HTTP {r['status']}")
                continue
            if not first_patch_done:
                first_patch_done = True
                taints = [l["rec"].get("added") for l in agent.find("node taints updated") if l["rec"].get("added")]
                cordon = agent.find("node cordoned")
                latency = ""
                if cordon:
                    latency = " (agent's detection latency %.0f ms)" % (
                        1000 * float(cordon[0]["rec"].get("detectionLatencySeconds", 0)))
                if taints:
                    tl.add(done, "node", f"tainted {taints[0]}")
                if cordon:
                    tl.add(done, "node", f"cordoned: spec.unschedulable=true accepted by the API server{latency}")
                if not taints and not cordon:
                    tl.add(done, "node", "node annotated (aks-node-agent/state)")
            else:
                finished = [agent_t(l) for l in agent.find("drain succeeded") + agent.find("drain failed")]
                phase = "draining"
                if finished and done >= min(finished):
                    phase = "drained" if agent.find("drain succeeded") else "failed"
                tl.add(done, "node", f"annotation aks-node-agent/state: phase {phase}")
        elif r["method"] == "PATCH" and r["path"] == node_path + "/status" and r["status"] == 200:
            # The agent's log line for this PATCH: the first one logged after it was received
            # (the one at start-up wrote other conditions).
            conds = [l for l in agent.find("node conditions updated") if agent_t(l) >= r["t"] - 0.05]
            what = conds[0]["rec"].get("conditions") if conds else "conditions"
            tl.add(done, "cond", f"node conditions written: {what}")
        elif r.get("resource") == "pods/eviction" and r["method"] == "POST":
            name = r.get("name") or r["path"].rsplit("/", 2)[-2]
            ns = r["path"].split("/namespaces/")[1].split("/")[0] if "/namespaces/" in r["path"] else ""
            key = f"{ns}/{name}"
            attempts[key] = attempts.get(key, 0) + 1
            if r["status"] == 201:
                retry = f" (after {attempts[key] - 1} PDB refusals)" if attempts[key] > 1 else ""
                tl.add(done, "evict", f"evicted {key}{retry}")
            elif r["status"] == 429:
                blocked_lines += 1
                tl.add(done, "blocked", f"eviction of {key} refused: 429, PodDisruptionBudget {pdb or ''} "
                                        f"allows no disruption now; agent retries")
            else:
                tl.add(done, "fail", f"eviction of {key} → HTTP {r['status']}")
        elif r["method"] == "POST" and r.get("resource") == "events" and r["status"] in (200, 201):
            pass  # summarised below from the stored Events

    for line in agent.find("drain started"):
        rec = line["rec"]
        if "podsToEvict" in rec:
            tl.add(agent_t(line), "drain", f"drain started: {rec['podsToEvict']} pods to evict, "
                                           f"{rec.get('skipped', 0)} skipped (DaemonSet, mirror, own pod), "
                                           f"{rec.get('parallelism')} in flight at most, "
                                           f"deadline in {int(rec.get('deadlineInMs', 0)) / 1000:.1f}s")
    gone = agent.find("pod gone")
    if gone:
        tl.add(agent_t(gone[-1]), "info", f"all {len(gone)} evicted pods are gone from the node (last one)")
    for line in agent.find("drain succeeded"):
        rec = line["rec"]
        tl.add(agent_t(line), "drain", f"DRAINED: {rec.get('evicted')} pods evicted in "
                                       f"{float(rec.get('seconds', 0)):.2f}s")
    for line in agent.find("drain failed"):
        rec = line["rec"]
        tl.add(agent_t(line), "fail", f"DRAIN FAILED ({rec.get('result')}): {rec.get('message')}")
    for line in agent.find("scheduled event acknowledged"):
        tl.add(agent_t(line), "imds", "agent approved the event in IMDS (StartRequests)")
    cordon_done = cordon_accepted(reqs, node_path)
    for call in hooks.calls(WEBHOOK_PATH):
        body = call.get("json") or {}
        if body.get("eventId") not in (ev_id, ""):
            continue
        after = ""
        if body.get("reason") == "ScheduledEvent" and cordon_done is not None:
            after = f"; cordon accepted -> notice received {(call['t_mono'] - cordon_done) * 1000:+.1f} ms"
        tl.add(call["t_mono"], "notice", f"webhook notice received by the local receiver: {body.get('reason')} "
                                         f"(HTTP {call.get('status')}){after}")
    return tl


def cordon_accepted(reqs: list, node_path: str) -> Optional[float]:
    """When the API server answered the first successful node PATCH (the cordon), if any."""
    for r in reqs:
        if r["method"] == "PATCH" and r["path"] == node_path and r["status"] == 200:
            return r["t"] + r.get("durationMs", 0) / 1000.0
    return None


def check_outcome(kube: FakeKube, node: str, event_type: str, action: str, agent: Agent) -> list[str]:
    """What is wrong with the end state ([] = the node ended as it should)."""
    problems = []
    n = kube.node(node)
    conds = {x["type"]: x for x in n["status"].get("conditions", [])}
    if action in ("cordon", "drain") and not n["spec"].get("unschedulable"):
        problems.append("the node is not cordoned")
    if action == "drain":
        left = workload_pods_left(kube.pods_on(node))
        if left:
            problems.append(f"{len(left)} workload pods still on the node: "
                            + ", ".join(p["metadata"]["name"] for p in left[:5]))
    vme = conds.get("VMEventScheduled", {})
    if vme.get("status") != "True":
        problems.append(f"VMEventScheduled is {vme.get('status')!r}, expected True")
    if event_type == "Preempt":
        ps = conds.get("PreemptionScheduled", {})
        if ps.get("status") != "True":
            problems.append(f"PreemptionScheduled is {ps.get('status')!r}, expected True")
    reason = agent.exit_reason()
    if reason:
        problems.append(reason)
    return problems


def print_state(kube: FakeKube, node: str) -> None:
    n = kube.node(node)
    conds = {x["type"]: x for x in n["status"].get("conditions", [])}
    pods = kube.pods_on(node)
    left = workload_pods_left(pods)
    say(c("Node at the end", "1"))
    say(f"  spec.unschedulable   {n['spec'].get('unschedulable', False)}")
    for t in n["spec"].get("taints", []):
        say(f"  taint                {t['key']}={t.get('value', '')}:{t['effect']}")
    for ctype in ("PreemptionScheduled", "VMEventScheduled"):
        if ctype in conds:
            x = conds[ctype]
            say(f"  condition            {ctype}={x['status']} ({x.get('reason')}: {x.get('message')})")
    state = (n["metadata"].get("annotations") or {}).get("aks-node-agent/state")
    if state:
        say(f"  annotation           aks-node-agent/state={state}")
    say(f"  pods left            {len(pods)} ({len(pods) - len(left)} DaemonSet/agent pods, {len(left)} workload)")
    events = kube.events(namespace="default")
    reasons = [e.get("reason") for e in events if (e.get("involvedObject") or {}).get("name") == node
               and (e.get("source") or {}).get("component") == "aks-node-agent"]
    if reasons:
        counts: dict[str, int] = {}
        for r in reasons:
            counts[r] = counts.get(r, 0) + 1
        say("  Kubernetes Events    " + ", ".join(f"{r}×{k}" if k > 1 else r for r, k in counts.items()))


def print_metrics(agent: Agent, prom: Prometheus, event_type: str) -> None:
    say(c("Key metrics", "1"))
    m = agent.metrics()
    lat_sum = metric_value(m, "aksnode_event_detection_latency_seconds_sum")
    lat_count = metric_value(m, "aksnode_event_detection_latency_seconds_count")
    drain_sum = metric_value(m, "aksnode_drain_duration_seconds_sum")
    rows = [
        ("aksnode_eviction_pending", "%g" % metric_value(m, "aksnode_eviction_pending")),
        ("aksnode_node_cordoned", "%g" % metric_value(m, "aksnode_node_cordoned")),
        ("aksnode_scheduled_events_seen_total", "%g" % metric_value(m, "aksnode_scheduled_events_seen_total",
                                                                     event_type=event_type)
         + f'{{event_type="{event_type}"}}'),
        ("aksnode_event_detection_latency_seconds", ("%.3f s (sum/count of %g)" % (lat_sum / lat_count, lat_count))
         if lat_count else "no observation"),
        ("aksnode_drain_duration_seconds", "%.2f s (sum)" % drain_sum),
        ("aksnode_pod_evictions_total", ", ".join(
            "%s=%g" % (r, metric_value(m, "aksnode_pod_evictions_total", result=r))
            for r in ("evicted", "blocked_pdb", "not_found", "error"))),
        ("aksnode_kube_requests_total", "%g API requests" % metric_value(m, "aksnode_kube_requests_total")),
        ("aksnode_notifications_total", ", ".join(
            "%s=%g" % (r, metric_value(m, "aksnode_notifications_total", webhook="demo", result=r))
            for r in ("ok", "error", "timeout")) + '{webhook="demo"}'),
        ("aksnode_imds_requests_total", "%g polls" % metric_value(m, "aksnode_imds_requests_total",
                                                                  endpoint="scheduledevents")),
    ]
    say("  from the agent's /metrics:")
    for name, value in rows:
        say(f"    {name:<46} {value}")

    # Prometheus scrapes every second; wait until it has caught up with what the agent's own
    # /metrics said above (the cordon, the event, every eviction), or the two lists disagree.
    evicted_here = metric_value(m, "aksnode_pod_evictions_total", result="evicted")

    def scraped():
        v = prom.scalar("max(aksnode_node_cordoned) + max(aksnode_scheduled_events_seen_total)")
        e = prom.scalar('sum(aksnode_pod_evictions_total{result="evicted"})')
        return v is not None and v >= 1 and e is not None and e >= evicted_here
    queries = [
        ("aksnode_eviction_pending", "max(aksnode_eviction_pending)"),
        ("max_over_time(aksnode_eviction_pending[5m])", "max(max_over_time(aksnode_eviction_pending[5m]))"),
        ("detection latency p50 (histogram_quantile)",
         "histogram_quantile(0.5, sum by (le) (aksnode_event_detection_latency_seconds_bucket))"),
        ("detection latency p99 (histogram_quantile)",
         "histogram_quantile(0.99, sum by (le) (aksnode_event_detection_latency_seconds_bucket))"),
        ("pods evicted", 'sum(aksnode_pod_evictions_total{result="evicted"})'),
        ("up{job=\"aks-node-agent\"}", 'up{job="aks-node-agent"}'),
    ]
    try:
        wait_until(scraped, 15, "Prometheus to scrape the agent after the event", interval=0.25)
        say(f"  from Prometheus ({prom.url}), PromQL:")
        for label, q in queries:
            v = prom.scalar(q)
            shown = "no data" if v is None or v != v else ("%.3f" % v if "latency" in label else "%g" % v)
            say(f"    {label:<46} {shown}")
    except (TimeoutError, RuntimeError) as e:
        say(c(f"  Prometheus has not scraped the agent: {e}", "31"))


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--event-type", choices=EVENT_TYPES, default="Preempt")
    ap.add_argument("--pods", type=int, default=30, help="workload pods on the node (default 30, at least 4)")
    ap.add_argument("--not-before", type=float, default=30, help="seconds from now to the event's NotBefore")
    ap.add_argument("--keep", action="store_true", help="leave everything running until Ctrl-C")
    ap.add_argument("--binary", default=agent_binary(), help="the agent (default build/aks-node-agent)")
    ap.add_argument("--grace-scale", type=float, default=0.02,
                    help="fake pod termination: grace period x this (default 0.02: 30 s → 0.6 s)")
    args = ap.parse_args(argv)
    if args.pods < 4:
        ap.error("--pods must be at least 4")
    if not os.access(args.binary, os.X_OK):
        ap.error(f"no agent binary at {args.binary} (run scripts/build.sh, or set AKSNODE_BINARY)")
    install_signal_handlers()
    workdir = tempfile.mkdtemp(prefix="aksnode-demo-")
    CHILDREN.on_cleanup(lambda: shutil.rmtree(workdir, ignore_errors=True))
    vm, node = vmss_names("spot", 3)
    action = DEFAULT_ACTIONS[args.event_type]
    ok = False
    try:
        ok = run(args, workdir, vm, node, action)
    except KeyboardInterrupt:
        say(c("\ninterrupted: stopping everything", "33"))
        return 130
    except Exception as e:  # noqa: BLE001 - report, clean up, fail
        say(c(f"\nDEMO FAILED: {e}", "1;31"))
        if os.environ.get("AKSNODE_DEMO_DEBUG"):
            traceback.print_exc()
        return 1
    finally:
        CHILDREN.cleanup()
    return 0 if ok else 1


def run(args: argparse.Namespace, workdir: str, vm: str, node: str, action: str) -> bool:
    say(c(f"aks-node-agent demo: spot VM {vm} (node {node}) gets a {args.event_type} notice "
          f"{args.not_before:g}s ahead", "1"))
    say(f"  agent binary {args.binary}")
    say(f"  working directory {workdir}")

    imds = FakeImds.start(vm)
    CHILDREN.on_cleanup(imds.stop)
    kube = FakeKube.start(grace_scale=args.grace_scale)
    CHILDREN.on_cleanup(kube.close)
    seeded = seed_realistic_node(kube, node, args.pods, vm_name=vm)
    say(f"  fake IMDS {imds.url}, fake API server {kube.url} (pod grace periods x{args.grace_scale:g})")
    say(f"  node {node}: " + ", ".join(f"{k} {v}" for k, v in seeded["layout"].items() if v)
        + f", {len(seeded['daemonsets'])} DaemonSet pods, the agent's own pod; "
          f"{len(seeded['spares'])} spare nodes for the replacements")

    hooks = FakeWebhook.start()
    CHILDREN.on_cleanup(hooks.stop)
    say(f"  local webhook receiver {hooks.url('/hooks/…')} (the agent's json notices go there)")

    ns, _, pod_name = (seeded["agentPod"] or "/").partition("/")
    config = {
        "imds": {"endpoint": imds.url},
        "notifications": {"webhooks": [{"name": "demo", "url": hooks.url(WEBHOOK_PATH), "format": "json"}]},
        "kubernetes": {"kubeconfig": kube.write_kubeconfig(os.path.join(workdir, "kubeconfig"))},
        "metrics": {"address": "127.0.0.1:0"},
        "identity": {"enabled": False},
        "disks": [], "caches": [],
    }
    agent = Agent(args.binary, config, node, workdir, env={"POD_NAMESPACE": ns, "POD_NAME": pod_name})
    agent.start()
    agent.wait_ready(30)
    prom = Prometheus([f"127.0.0.1:{agent.port}"], workdir).start()
    wait_until(lambda: prom.scalar('up{job="aks-node-agent"}') == 1, 20, "Prometheus's first scrape of the agent",
               interval=0.2, abort=agent.exit_reason)
    say(f"  agent {agent.url} is ready (pid {agent.proc.pid}); Prometheus {prom.url} scrapes it every second")
    say()

    kube_since = kube.last_request_seq()
    wall_offset = time.time() - time.monotonic()
    t0 = time.monotonic()
    event = imds.add_event(args.event_type, not_before_in=args.not_before)
    say(f"injected {args.event_type} {event['EventId']} (action: {action}); waiting for the agent…")

    wanted = ["VMEventScheduled"] + (["PreemptionScheduled"] if args.event_type == "Preempt" else [])
    failure = None
    try:
        deadline = args.not_before + 20
        if action == "drain":
            wait_until(lambda: (agent.find("drain succeeded", eventId=event["EventId"])
                                       or agent.find("drain failed", eventId=event["EventId"])),
                              deadline, "the drain to finish", interval=0.05, abort=agent.exit_reason)

            def annotated():
                state = (kube.node(node)["metadata"].get("annotations") or {}).get("aks-node-agent/state", "")
                return '"phase":"drained"' in state or '"phase":"failed"' in state
            wait_until(annotated, 10, "the agent to record the drain's outcome on the node", abort=agent.exit_reason)
        elif action == "cordon":
            wait_until(lambda: kube.node(node)["spec"].get("unschedulable"), deadline, "the cordon",
                       abort=agent.exit_reason)
        wait_until(lambda: all((kube.condition(node, t) or {}).get("status") == "True" for t in wanted), 15,
                   "the node conditions " + ", ".join(wanted), abort=agent.exit_reason)
        # The notices leave as the agent records its Events: the event's, then the drain's result.
        reasons = ["ScheduledEvent"] + (["DrainSucceeded"] if action == "drain" else [])
        for reason in reasons:
            hooks.wait_calls(WEBHOOK_PATH, 1, 10, where=lambda call, r=reason: (call.get("json") or {}).get("reason") == r)
    except (TimeoutError, RuntimeError, AssertionError) as e:
        failure = str(e)

    say()
    say(c("Timeline (t+0 = the event appears in IMDS)", "1"))
    build_timeline(t0, wall_offset, event, vm, node, imds, kube, agent, seeded["pdb"], kube_since, hooks).print()
    say()
    print_state(kube, node)
    say()
    if agent.exit_reason() is None:
        print_metrics(agent, prom, args.event_type)
        say()
    problems = ([failure] if failure else []) + [p for p in check_outcome(kube, node, args.event_type, action, agent)
                                                 if p != failure and not (failure and p.startswith("the agent exited"))]
    say(c("Where to look" + ("" if args.keep else " (with --keep these stay up until Ctrl-C)"), "1"))
    say(f"  {agent.url}/status    drain progress, pending events, last probe results (JSON)")
    say(f"  {agent.url}/metrics   every aksnode_* metric")
    say(f"  {prom.url}/graph?g0.expr=aksnode_eviction_pending   Prometheus UI")
    say(f"  {agent.log_path}   the agent's JSON log")
    say()
    if problems:
        say(c("RESULT: FAILED", "1;31"))
        for p in problems:
            say(c(f"  - {p}", "31"))
    else:
        outcome = {"drain": "cordoned, drained", "cordon": "cordoned", "notify": "left schedulable (notify)"}[action]
        conds = " and ".join(f"{t}=True" for t in wanted)
        say(c(f"RESULT: OK: node {node} {outcome}, {conds}", "1;32"))
        drained = agent.find("drain succeeded")
        not_before = (imds.event(event["EventId"]) or {}).get("notBeforeEpoch")
        if drained and not_before:
            from harness import parse_agent_time
            margin = not_before - (parse_agent_time(drained[0]) or 0)
            say(c(f"  every workload pod was evicted and gone {margin:.1f}s before NotBefore", "32"))
    if args.keep:
        say(c("--keep: everything stays up; press Ctrl-C to stop and clean up", "33"))
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            say("stopping")
    return not problems


if __name__ == "__main__":
    sys.exit(main())
