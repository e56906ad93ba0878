#!/usr/bin/env python3
"""The real agent's node actions against the fake API server: drain with kubectl semantics,
PodDisruptionBudgets, deadlines, conflicts, restart mid-drain, dry run, Events
(docs/interface.md, docs/metrics.md).

Run: python3 tests/integration/agent_node_actions_test.py (AKSNODE_BINARY = the agent).
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import AgentTestCase, clean_env, main, wait_until  # noqa: E402

SCHEDULED_EVENT_TAINT = "aks-node-agent/scheduled-event"
AGENT_EVENT_REASONS = {"ScheduledEvent", "Cordoned", "DrainStarted", "DrainSucceeded", "DrainFailed",
                       "EvictionBlocked", "EventAcknowledged", "Uncordoned", "DiskUnhealthy", "DiskRecovered",
                       "IdentityInvalid", "IdentityRecovered"}


def pod_key(p: dict) -> str:
    return p["metadata"]["namespace"] + "/" + p["metadata"]["name"]


class NodeActionsTest(AgentTestCase):

    def workload_pods(self) -> list:
        return [p for p in self.kube.pods_on(self.NODE_NAME) if p["metadata"]["namespace"] == "workloads"
                and p.get("status", {}).get("phase") not in ("Succeeded", "Failed")]

    def evictions(self, since: int = 0) -> list:
        return self.kube.requests(since=since, resource="pods/eviction", method="POST")

    def test_drain_30_pods_with_kubectl_semantics(self):
        seeded = self.seed(pods=22, statefulset=3, daemonsets=3, mirror=True, finished=2, agentPod=True,
                           extraNodes=["spare-1", "spare-2"])
        p = seeded["pods"]
        must_stay = set(p["daemonset"]) | set(p["mirror"]) | set(p["agent"]) | \
            {"workloads/" + n for n in p["finished"]}
        must_go = {"workloads/" + n for n in p["replicaset"] + p["statefulset"]}
        self.assertEqual(len(must_stay) + len(must_go), 32)
        agent_ns, agent_pod = p["agent"][0].split("/")
        agent = self.start_agent(env=clean_env(POD_NAMESPACE=agent_ns, POD_NAME=agent_pod))
        self.wait_ready(agent)
        # Every eviction is held 200 ms by the API server: one at a time, 25 of them would
        # never overlap; in parallel (drain.parallelism 32) they are in flight together.
        self.kube.fault(method="POST", path=r"/eviction$", delayMs=200, count=1000)
        seq = self.kube.last_request_seq()
        t0 = time.monotonic()
        ev = self.imds.add_event("Preempt", not_before_in=60)
        node = self.wait_phase("drained", 45)
        t_drained = time.monotonic()

        left = {pod_key(x) for x in self.kube.pods_on(self.NODE_NAME)}
        self.assertEqual(left, must_stay)
        evicted = {r["path"].split("/")[4] + "/" + r["name"] for r in self.evictions(seq)}
        self.assertEqual(evicted, must_go, "evictions issued for the wrong pods")
        # StatefulSet pods come back under the same name elsewhere (the agent waited for the new UID).
        for name in p["statefulset"]:
            replacement = self.kube.pod("workloads", name)
            if replacement is not None:
                self.assertNotEqual(replacement["spec"].get("nodeName"), self.NODE_NAME)

        cordon = min(r["t"] for r in self.kube.requests(since=seq, method="PATCH") if r["resource"] == "nodes")
        ev_times = sorted(r["t"] for r in self.evictions(seq))
        sys.stderr.write(
            f"\n  [numbers] 30-pod drain: event added -> cordon PATCH {cordon - t0:.3f}s, -> first eviction "
            f"{ev_times[0] - t0:.3f}s, -> last eviction issued {ev_times[-1] - t0:.3f}s, -> phase drained "
            f"observed {t_drained - t0:.3f}s (evictions spread over {(ev_times[-1] - ev_times[0]) * 1000:.0f} ms)\n")
        # Evictions go out in parallel, not one after the other: the most in flight at once.
        spans = [(r["t"], r["t"] + r["durationMs"] / 1000) for r in self.evictions(seq)]
        in_flight = max(sum(1 for a, b in spans if a <= start < b) for start, _ in spans)
        sys.stderr.write(f"  [numbers] evictions in flight at once: {in_flight} of {len(spans)}\n")
        self.assertGreater(in_flight, 1, "evictions were issued one at a time")

        self.assertTrue(node["spec"]["unschedulable"])
        self.assertTrue(self.has_taint(node, SCHEDULED_EVENT_TAINT, "Preempt", "NoSchedule"))
        m = agent.metrics()
        self.assertEqual(m.value("aksnode_pod_evictions_total", result="evicted"), len(must_go))
        self.assertEqual(m.value("aksnode_drain_duration_seconds_count", result="success"), 1)
        self.assertEqual(m.value("aksnode_drain_pods_remaining"), 0)
        self.assertEqual(m.value("aksnode_actions_total", action="drain", result="success", dry_run="false"), 1)
        self.assertGreater(m.sum("aksnode_kube_requests_total", resource="pods/eviction", code="2xx"), 0)
        st = agent.status()
        self.assertEqual(st["drain"]["result"], "success")
        self.assertEqual(st["currentAction"]["eventId"], ev["EventId"])

        # Events: core/v1, namespace default, about the Node (with its UID), from aks-node-agent.
        wait_until(lambda: self.node_events("DrainSucceeded"), 10, "DrainSucceeded Event")
        events = self.node_events()
        reasons = {e["reason"] for e in events}
        self.assertLessEqual({"ScheduledEvent", "Cordoned", "DrainStarted", "DrainSucceeded"}, reasons)
        self.assertLessEqual(reasons, AGENT_EVENT_REASONS)
        for e in events:
            self.assertEqual(e["metadata"]["namespace"], "default")
            self.assertEqual(e.get("apiVersion", "v1"), "v1")
            io = e["involvedObject"]
            self.assertEqual((io["kind"], io["name"], io["uid"]), ("Node", self.NODE_NAME, seeded["uid"]))
            self.assertEqual(e["source"]["component"], "aks-node-agent")
        event_posts = self.kube.requests(since=seq, method="POST", path="^/api/v1/namespaces/default/events$")
        self.assertGreaterEqual(len(event_posts), 4)
        self.assert_no_crash(agent)

    def test_own_pod_is_never_evicted(self):
        seeded = self.seed(pods=1, bare=2, daemonsets=0, extraNodes=["spare-1"])
        own, other = seeded["pods"]["bare"]
        agent = self.start_agent(env=clean_env(POD_NAMESPACE="workloads", POD_NAME=own))
        self.wait_ready(agent)
        seq = self.kube.last_request_seq()
        self.imds.add_event("Reboot", not_before_in=120)
        self.wait_phase("drained")
        self.assertIsNotNone(self.kube.pod("workloads", own))
        self.assertIsNone(self.kube.pod("workloads", other))
        self.assertNotIn(own, {r["name"] for r in self.evictions(seq)})

    def test_pdb_drains_one_by_one(self):
        n = 5
        self.seed(pods=n, pdb={"maxUnavailable": 1}, extraNodes=["spare-1"])
        agent = self.start_agent()
        self.wait_ready(agent)
        seq = self.kube.last_request_seq()
        t0 = time.monotonic()
        self.imds.add_event("Preempt", not_before_in=60)
        self.wait_phase("drained", 45)
        t_drained = time.monotonic()
        self.assertEqual(self.workload_pods(), [])
        ev = self.evictions(seq)
        ok = sorted(r["t"] for r in ev if r["status"] == 201)
        blocked = [r for r in ev if r["status"] == 429]
        self.assertEqual(len(ok), n)
        self.assertGreater(len(blocked), 0)
        # One disruption at a time: each eviction is allowed only once the previous pod's
        # replacement is Ready (>= 0.3 s grace + 0.2 s start-up in the fake).
        gaps = [b - a for a, b in zip(ok, ok[1:])]
        self.assertTrue(all(g > 0.2 for g in gaps), f"evictions not one by one: gaps {gaps}")
        sys.stderr.write(f"\n  [numbers] PDB maxUnavailable=1, {n} pods: drained {t_drained - t0:.2f}s after the "
                         f"event, {len(blocked)} evictions answered 429\n")
        m = agent.metrics()
        self.assertGreater(m.value("aksnode_pod_evictions_total", result="blocked_pdb"), 0)
        self.assertEqual(m.value("aksnode_pod_evictions_total", result="evicted"), n)
        blocked_events = wait_until(lambda: self.node_events("EvictionBlocked"), 10, "EvictionBlocked Event")
        self.assertIn("DisruptionBudget", blocked_events[0]["message"])
        self.assertEqual(blocked_events[0]["type"], "Warning")

    def test_deadline_too_short_fails_the_drain(self):
        # No spare node: the first evicted pod's replacement stays Pending, so the PDB blocks the rest.
        self.seed(pods=3, pdb={"maxUnavailable": 1})
        agent = self.start_agent({"drain": {"timeout": "3s"}})
        self.wait_ready(agent)
        self.imds.add_event("Reboot", not_before_in=120)
        # While it runs, /status names the pods the PDB blocks.
        st = wait_until(lambda: (s := agent.status()).get("drain") and s["drain"].get("blocked") and s, 10,
                        "/status drain.blocked")
        self.assertIn("DisruptionBudget", st["drain"]["blocked"][0]["reason"] + st["drain"]["blocked"][0]["message"])
        node = self.wait_phase("failed", 20)
        self.assertTrue(node["spec"]["unschedulable"])
        failed = wait_until(lambda: self.node_events("DrainFailed"), 10, "DrainFailed Event")
        self.assertIn("timeout", failed[0]["message"])
        m = agent.metrics()
        self.assertEqual(m.value("aksnode_drain_duration_seconds_count", result="timeout"), 1)
        self.assertEqual(m.value("aksnode_drain_duration_seconds_count", result="success"), 0)
        self.assertEqual(m.value("aksnode_drain_pods_remaining"), 2)
        self.assertGreater(m.value("aksnode_pod_evictions_total", result="blocked_pdb"), 0)
        self.assertEqual(m.value("aksnode_actions_total", action="drain", result="error", dry_run="false"), 1)
        st = agent.status()
        self.assertEqual(st["drain"]["result"], "timeout")
        self.assertEqual(st["drain"]["podsRemaining"], 2)
        log = agent.wait_log("drain failed")
        self.assertEqual(log["result"], "timeout")
        # A failed drain is not retried in a loop: the phase stays failed.
        self.assertEqual(len(self.node_events("DrainStarted")), 1)
        self.assert_no_crash(agent)

    def test_conflict_storm_on_node_patch_converges_and_keeps_others_taints(self):
        self.seed(pods=2, otherTaints=[{"key": "example.com/dedicated", "value": "batch", "effect": "NoSchedule"}])
        self.kube.ok("PATCH", f"/api/v1/nodes/{self.NODE_NAME}",
                     {"metadata": {"annotations": {"example.com/owner": "team-a"}}},
                     content_type="application/strategic-merge-patch+json")
        agent = self.start_agent()
        self.wait_ready(agent)
        self.kube.fault(method="PATCH", path=f"^/api/v1/nodes/{self.NODE_NAME}$", status=409, count=6)
        seq = self.kube.last_request_seq()
        self.imds.add_event("Reboot", not_before_in=120)
        node = self.wait_phase("drained", 30)
        conflicts = [r for r in self.kube.requests(since=seq, method="PATCH") if r["status"] == 409]
        # The 6 injected ones, plus any real one (the lifecycle controller's taint after the cordon).
        self.assertGreaterEqual(len(conflicts), 6)
        self.assertTrue(node["spec"]["unschedulable"])
        self.assertTrue(self.has_taint(node, SCHEDULED_EVENT_TAINT, "Reboot", "NoSchedule"))
        self.assertTrue(self.has_taint(node, "kubernetes.azure.com/scalesetpriority", "spot", "NoSchedule"))
        self.assertTrue(self.has_taint(node, "example.com/dedicated", "batch", "NoSchedule"))
        # The node lifecycle controller's taint, written right after the cordon, also survives.
        node = self.wait_node(lambda n: self.has_taint(n, "node.kubernetes.io/unschedulable"), 5,
                              "the lifecycle controller's unschedulable taint")
        self.assertTrue(self.has_taint(node, "example.com/dedicated", "batch", "NoSchedule"))
        self.assertEqual(node["metadata"]["annotations"].get("example.com/owner"), "team-a")
        self.assertEqual(len(self.node_events("Cordoned")), 1)
        self.assert_no_crash(agent)

    def test_long_conflict_storm_converges(self):
        # More conflicts in a row than one reconcile pass retries (9): a later pass gets through.
        # That it comes after the short backoff and not the 10 s resync is asserted on simulated
        # time in tests/unit/engine (PersistentConflictsGiveUpThePassAndHealLater); here the
        # real binary shows it converges, and the time it took is reported, not asserted.
        self.seed(pods=1)
        agent = self.start_agent()
        self.wait_ready(agent)
        seq = self.kube.last_request_seq()
        self.kube.fault(method="PATCH", path=f"^/api/v1/nodes/{self.NODE_NAME}$", status=409, count=20)
        t0 = time.monotonic()
        self.imds.add_event("Preempt", not_before_in=30)
        self.wait_node(lambda n: n["spec"].get("unschedulable"), 30, "cordon through the storm")
        elapsed = time.monotonic() - t0
        sys.stderr.write(f"\n  [numbers] cordon through 20 consecutive 409s: {elapsed:.2f}s after the event\n")
        patches = [r for r in self.kube.requests(since=seq, method="PATCH")
                   if r["path"] == f"/api/v1/nodes/{self.NODE_NAME}"]
        self.assertEqual([r["status"] for r in patches[:20]], [409] * 20)
        self.assertEqual(patches[20]["status"], 200)
        self.assert_no_crash(agent)

    def test_restart_mid_drain_resumes(self):
        n = 6
        self.seed(pods=n, pdb={"maxUnavailable": 1}, extraNodes=["spare-1"])
        first = self.start_agent({"drain": {"evictionRetryInterval": "1s"}})
        self.wait_ready(first)
        seq = self.kube.last_request_seq()
        ev = self.imds.add_event("Preempt", not_before_in=60)
        self.wait_phase("draining", 15)
        wait_until(lambda: [r for r in self.evictions(seq) if r["status"] == 201], 10, "a first eviction")
        rc = first.terminate(5)
        self.assertEqual(rc, 0, first.log_tail())
        self.assertLess(first.exit_seconds, 2.0, "SIGTERM during a drain took too long")
        state = self.agent_state(self.node())
        since = state["since"]
        self.assertEqual((state["eventId"], state["phase"], state["cordonedByAgent"]),
                         (ev["EventId"], "draining", True))
        self.assertGreater(len(self.workload_pods()), 0, "drain finished before the restart: test proves nothing")

        second = self.start_agent({"drain": {"evictionRetryInterval": "500ms"}})
        second.wait_log("drain started", 15)
        node = self.wait_phase("drained", 45)
        self.assertEqual(self.workload_pods(), [])
        state = self.agent_state(node)
        self.assertEqual((state["eventId"], state["cordonedByAgent"]), (ev["EventId"], True))
        self.assertEqual(state["since"], since, "the second agent started the event over")
        # The second agent did not cordon again (the node already was, by the agent).
        self.assertEqual(len(self.node_events("Cordoned")), 1)
        self.assertEqual(second.metric("aksnode_actions_total", action="cordon", result="success", dry_run="false"), 0)
        self.assertEqual(second.metric("aksnode_drain_duration_seconds_count", result="success"), 1)
        self.assert_no_crash(second)

    def annotate_as_if_acted(self, event_type: str, phase: str = "drained") -> None:
        """The node as an agent left it before the VM went down (state annotation, taint, cordon)."""
        state = {"eventId": "0B5D6A3E-0000-4000-8000-000000000001", "eventType": event_type, "phase": phase,
                 "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 120)),
                 "cordonedByAgent": True}
        taints = self.taints(self.node()) + [{"key": SCHEDULED_EVENT_TAINT, "value": event_type,
                                              "effect": "NoSchedule"}]
        self.kube.ok("PATCH", f"/api/v1/nodes/{self.NODE_NAME}",
                     {"metadata": {"annotations": {"aks-node-agent/state": json.dumps(state)}},
                      "spec": {"unschedulable": True, "taints": taints}},
                     content_type="application/merge-patch+json")

    def test_agent_started_after_a_reboot_cleans_up(self):
        self.seed(pods=1)
        self.annotate_as_if_acted("Reboot")
        agent = self.start_agent()
        node = self.wait_node(lambda n: not n["spec"].get("unschedulable") and self.agent_state(n) is None
                              and not self.has_taint(n, SCHEDULED_EVENT_TAINT), 15, "clean-up after the reboot")
        self.assertTrue(self.has_taint(node, "kubernetes.azure.com/scalesetpriority", "spot"))
        wait_until(lambda: self.node_events("Uncordoned"), 10, "Uncordoned Event")
        self.assert_no_crash(agent)

    def test_restarted_agent_keeps_a_fatal_events_cordon(self):
        # A Preempt/Terminate that is no longer listed most likely ends with the VM: a new agent
        # must not uncordon (kFatalUndoAfter, 10 minutes).
        self.seed(pods=1)
        self.annotate_as_if_acted("Preempt")
        agent = self.start_agent()
        self.wait_ready(agent)
        t = time.monotonic()
        wait_until(lambda: len(self.imds.requests(since=t, endpoint="scheduledevents")) >= 4, 15, "4 more polls")
        node = self.node()
        self.assertTrue(node["spec"].get("unschedulable"))
        self.assertEqual(self.agent_state(node)["eventType"], "Preempt")
        self.assertTrue(self.has_taint(node, SCHEDULED_EVENT_TAINT, "Preempt"))
        self.assertEqual(self.node_events("Uncordoned"), [])
        self.assertEqual(agent.metric("aksnode_eviction_pending"), 0)

    def test_preempt_that_vanishes_keeps_the_cordon_but_clears_the_pending_state(self):
        self.seed(pods=1, extraNodes=["spare-1"])
        agent = self.start_agent()
        self.wait_ready(agent)
        ev = self.imds.add_event("Preempt", not_before_in=30)
        self.wait_phase("drained")
        self.assertEqual(agent.metric("aksnode_eviction_pending"), 1)
        self.imds.delete_event(ev["EventId"])
        wait_until(lambda: agent.metric("aksnode_eviction_pending") == 0, 10, "eviction_pending 0")
        self.assertEqual(agent.metric("aksnode_eviction_not_before_timestamp_seconds"), 0)
        self.assertEqual(agent.status()["pendingEvents"], [])
        self.wait_condition("PreemptionScheduled", "False")
        self.wait_condition("VMEventScheduled", "False")
        t = time.monotonic()
        wait_until(lambda: len(self.imds.requests(since=t, endpoint="scheduledevents")) >= 3, 15, "3 more polls")
        node = self.node()
        self.assertTrue(node["spec"]["unschedulable"], "uncordoned a node whose Preempt just vanished")
        self.assertEqual(self.agent_state(node)["eventId"], ev["EventId"])
        self.assert_no_crash(agent)

    def test_out_of_service_taint_after_a_preempt_drain(self):
        self.seed(pods=2, extraNodes=["spare-1"])
        agent = self.start_agent({"drain": {"outOfServiceTaintAfterDrain": True}})
        self.wait_ready(agent)
        self.imds.add_event("Preempt", not_before_in=30)
        self.wait_phase(("drained", "acknowledged"))
        # Only once the VM is really down (the kubelet stopped posting Ready); see also
        # agent_neighbours_test.test_out_of_service_taint_only_once_the_node_is_not_ready.
        st, _, out = self.kube.request("PATCH", f"/api/v1/nodes/{self.NODE_NAME}/status",
                                       {"status": {"conditions": [{"type": "Ready", "status": "Unknown",
                                                                   "reason": "NodeStatusUnknown",
                                                                   "message": "Kubelet stopped posting node status."}]}},
                                       content_type="application/strategic-merge-patch+json")
        self.assertEqual(st, 200, out)
        node = self.wait_node(lambda n: self.has_taint(n, "node.kubernetes.io/out-of-service", "nodeshutdown",
                                                       "NoExecute"), 20, "out-of-service taint")
        self.assertIn(self.agent_state(node)["phase"], ("drained", "acknowledged"))
        self.assertEqual(self.workload_pods(), [])
        self.assert_no_crash(agent)

    def test_dry_run_mutates_nothing(self):
        self.seed(pods=3, pdb={"maxUnavailable": 1}, extraNodes=["spare-1"])
        seq = self.kube.last_request_seq()
        agent = self.start_agent({"imds": {"acknowledgeAfterDrain": ["Preempt", "Reboot"]}}, args=["--dry-run"])
        self.wait_ready(agent)
        self.imds.add_event("Preempt", not_before_in=60)
        agent.wait_log("dry run: would patch the node", 10)
        agent.wait_log("dry run: would acknowledge the scheduled event", 15)
        wait_until(lambda: agent.metric("aksnode_actions_total", action="cordon", result="success",
                                        dry_run="true") == 1, 10, "cordon counted with dry_run=true")
        m = agent.metrics()
        self.assertEqual(m.value("aksnode_actions_total", action="drain", result="success", dry_run="true"), 1)
        self.assertEqual(m.value("aksnode_actions_total", action="taint", result="success", dry_run="true"), 1)
        self.assertEqual(m.value("aksnode_actions_total", action="cordon", result="success", dry_run="false"), 0)
        self.assertEqual(m.value("aksnode_eviction_pending"), 1)
        # Give it more polls and a few reconcile passes to misbehave.
        t = time.monotonic()
        wait_until(lambda: len(self.imds.requests(since=t, endpoint="scheduledevents")) >= 4, 15, "4 more polls")
        mutations = self.mutating_requests(seq)
        self.assertEqual(mutations, [], "dry run sent mutating requests")
        self.assertGreater(len(self.kube.requests(since=seq, method="GET")), 0, "the agent never read the node")
        self.assertEqual(self.imds.acks(), [])
        node = self.node()
        self.assertFalse(node["spec"].get("unschedulable"))
        self.assertIsNone(self.agent_state(node))
        self.assertEqual(len(self.workload_pods()), 3)
        self.assertEqual(self.node_events(), [])
        self.assertTrue(agent.find_log(lambda l: l.get("msg") == "node event" and l.get("dryRun") is True))


if __name__ == "__main__":
    main()
