#!/usr/bin/env python3
"""The real agent among the real neighbours of an AKS node (arch/ARCHITECTURE.md, "Neighbours";
docs/operators.md), each played by the fakes: node-problem-detector re-asserting its conditions,
Karpenter's node repair acting on PreemptionScheduled, an API server that enforces eviction UID preconditions, answers 429 with
Retry-After when overloaded and serves LISTs from its watch cache, a kubelet that stops
reporting Ready, and an IMDS whose first Scheduled Events call enables the service slowly.

Run: python3 tests/integration/agent_neighbours_test.py (AKSNODE_BINARY = the agent).
"""

import email.utils
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import AgentTestCase, main, wait_until  # noqa: E402

OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"
NPD_IDLE = ("False", "NoVMEventScheduled", "VM has no scheduled event")


def rfc1123(epoch: float) -> str:
    return email.utils.formatdate(int(epoch), usegmt=True)


def pdb_refusal() -> str:
    """A PodDisruptionBudget's 429, exactly as the eviction subresource writes it."""
    return json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                       "message": "Cannot evict pod as it would violate the pod's disruption budget.",
                       "reason": "TooManyRequests",
                       "details": {"causes": [{"reason": "DisruptionBudget",
                                               "message": "The disruption budget db needs 1 healthy pods and has 1 currently"}]},
                       "code": 429})


class NeighboursTest(AgentTestCase):

    def agent_requests(self, since=0, **kw) -> list:
        return [r for r in self.kube.requests(since=since, **kw) if (r.get("userAgent") or "").startswith("aks-node-agent")]

    def writer(self, wid) -> dict:
        return next(w for w in self.kube.condition_writers() if w["id"] == wid)

    def wait_heartbeats(self, wid, more: int = 3) -> None:
        target = self.writer(wid)["heartbeats"] + more
        wait_until(lambda: self.writer(wid)["heartbeats"] >= target, 10, f"{more} more NPD heartbeats")

    # -- 1. node-problem-detector owns VMEventScheduled ------------------------------------------

    def test_no_tug_of_war_with_node_problem_detector(self):
        self.seed(pods=2)
        npd = self.kube.condition_writer(self.NODE_NAME, "VMEventScheduled", *NPD_IDLE, interval_ms=100)
        agent = self.start_agent()
        self.wait_ready(agent)
        # The agent's first pass wrote its conditions (PreemptionScheduled did not exist before).
        self.wait_node(lambda n: self.condition(n, "PreemptionScheduled"), 10, "the agent's first condition write")
        # ... and a resync (a fresh GET of the node, conditions recomputed) has happened since.
        gets = len(self.agent_requests(method="GET", path=r"^/api/v1/nodes/"))
        wait_until(lambda: len(self.agent_requests(method="GET", path=r"^/api/v1/nodes/")) > gets, 15, "a resync")
        self.wait_heartbeats(npd)
        w = self.writer(npd)
        self.assertEqual(w["overwrites"], [], "the agent rewrote node-problem-detector's condition")
        self.assertEqual(w["transitions"], 0)
        self.assertEqual(agent.status()["conditionsLeftToOthers"], [])

        # An event: NPD sees it too (a moment later or earlier: the two poll IMDS independently,
        # and may disagree that long), then both say True in the same shape and stay agreed.
        ev = self.imds.add_event("Reboot", not_before_in=600)
        msg = f"Reboot Scheduled: {rfc1123(ev['notBeforeEpoch'])}. EventId: {ev['EventId']}"
        self.kube.update_condition_writer(npd, status="True", reason="VMEventScheduled", message=msg)
        self.wait_phase("drained")
        settled = len(self.writer(npd)["overwrites"])
        gets = len(self.agent_requests(method="GET", path=r"^/api/v1/nodes/"))
        wait_until(lambda: len(self.agent_requests(method="GET", path=r"^/api/v1/nodes/")) > gets, 15, "a resync")
        self.wait_heartbeats(npd)
        self.assertEqual(len(self.writer(npd)["overwrites"]), settled, self.writer(npd)["overwrites"])
        c = self.condition(self.node(), "VMEventScheduled")
        self.assertEqual((c["status"], c["reason"], c["message"]), ("True", "VMEventScheduled", msg))

    def test_condition_in_another_shape_is_left_alone_and_reported(self):
        self.seed(pods=2, extraNodes=["spare-1"])
        custom = ("False", "NoMaintenance", "maintenance checker: nothing planned")
        npd = self.kube.condition_writer(self.NODE_NAME, "VMEventScheduled", *custom, interval_ms=100)
        agent = self.start_agent()
        self.wait_ready(agent)
        self.imds.add_event("Preempt", not_before_in=60)
        self.wait_phase("drained", 30)  # the agent still acts on the event
        self.wait_condition("PreemptionScheduled", "True")
        self.wait_heartbeats(npd)
        self.assertEqual(self.writer(npd)["overwrites"], [])
        left = agent.status()["conditionsLeftToOthers"]
        self.assertEqual([(c["type"], c["reason"]) for c in left], [("VMEventScheduled", "NoMaintenance")])
        self.assertEqual(len(agent.logs_with("node condition belongs to another writer; leaving it alone")), 1)

    def test_vm_event_scheduled_never_is_not_written(self):
        self.seed(pods=0)
        agent = self.start_agent({"conditions": {"vmEventScheduled": "never"}})
        self.wait_ready(agent)
        self.imds.add_event("Freeze", not_before_in=600)
        wait_until(lambda: self.node_events("ScheduledEvent"), 10, "ScheduledEvent Event")
        self.wait_condition("PreemptionScheduled", "False")
        c = self.condition(self.node(), "VMEventScheduled")
        self.assertEqual((c["status"], c["reason"]), NPD_IDLE[:2], "the seeded (NPD) value stays as it was")

    # -- 2. Karpenter's node repair acts on PreemptionScheduled ----------------------------------

    def test_preemption_scheduled_is_set_only_after_the_drain(self):
        self.seed(pods=6, pdb=True, extraNodes=["spare-1", "spare-2"])
        self.kube.karpenter_repair(toleration_ms=0)
        agent = self.start_agent()
        self.wait_ready(agent)
        ev = self.imds.add_event("Preempt", not_before_in=60)
        wait_until(lambda: self.kube.karpenter_repairs(), 45, "Karpenter's repair")
        repair = self.kube.karpenter_repairs()[0]
        self.assertEqual(repair["podsForceDeleted"], [], "PreemptionScheduled=True before the drain ended: "
                                                          "Karpenter force-deleted pods past their PDB")
        self.assertEqual(repair["conditionReason"], "SpotEvictionIncoming")
        self.assertEqual(repair["conditionMessage"],
                         f"Preempt Scheduled: {rfc1123(ev['notBeforeEpoch'])}. EventId: {ev['EventId']}")
        self.assertEqual(self.agent_state(self.node())["phase"], "drained")
        accepted = [r for r in self.agent_requests(method="POST") if r.get("resource") == "pods/eviction"
                    and r["status"] == 201]
        self.assertEqual(len(accepted), 6, "every workload pod left through the Eviction API")
        self.assert_no_crash(agent)

    def test_node_problem_detector_setting_preemption_first_is_not_fought(self):
        self.seed(pods=3, extraNodes=["spare-1"])
        agent = self.start_agent()
        self.wait_ready(agent)
        # Slow evictions: the drain takes a while, NPD sets the condition meanwhile.
        self.kube.fault(method="POST", path=r"/eviction$", delayMs=300, count=100)
        ev = self.imds.add_event("Preempt", not_before_in=60)
        msg = f"Preempt Scheduled: {rfc1123(ev['notBeforeEpoch'])}. EventId: {ev['EventId']}"
        # The agent has seen it (and said False: not before its drain ended); NPD sets True now.
        self.wait_node(lambda n: "True once its drain has ended" in
                       (self.condition(n, "PreemptionScheduled") or {}).get("message", ""), 10, "the agent's False")
        self.assertNotEqual(self.agent_state(self.node())["phase"], "drained")
        npd = self.kube.condition_writer(self.NODE_NAME, "PreemptionScheduled", "True", "SpotEvictionIncoming", msg,
                                         interval_ms=100)
        self.wait_phase("drained", 30)
        self.wait_heartbeats(npd)
        self.assertEqual(self.writer(npd)["overwrites"], [])
        c = self.condition(self.node(), "PreemptionScheduled")
        self.assertEqual((c["status"], c["message"]), ("True", msg))

    # -- 4. evictions carry the pod's UID ---------------------------------------------------------

    def test_pod_recreated_elsewhere_under_the_same_name_is_not_evicted_by_a_retry(self):
        seeded = self.seed(pods=0, statefulset=1, extraNodes=["spare-1"])
        name = seeded["pods"]["statefulset"][0]
        old_uid = self.kube.pod("workloads", name)["metadata"]["uid"]
        # Its budget refuses the eviction for now.
        self.kube.fault(method="POST", path=rf"/pods/{name}/eviction$", status=429, body=pdb_refusal(), count=-1)
        agent = self.start_agent()
        self.wait_ready(agent)
        self.imds.add_event("Preempt", not_before_in=60)
        wait_until(lambda: self.agent_requests(method="POST", path=rf"/pods/{name}/eviction$"), 10, "first eviction")
        # Meanwhile someone deletes the pod; its StatefulSet recreates it, same name, on spare-1.
        self.kube.request("DELETE", f"/fake/objects?kind=pod&namespace=workloads&name={name}&controllers=true")
        new = wait_until(lambda: (p := self.kube.pod("workloads", name)) and p["metadata"]["uid"] != old_uid and p,
                         10, "the recreated pod")
        self.assertEqual(new["spec"]["nodeName"], "spare-1")
        seq = self.kube.last_request_seq()
        self.kube.clear_faults()
        self.wait_phase("drained", 30)
        retries = [r for r in self.agent_requests(seq, method="POST", path=rf"/pods/{name}/eviction$")]
        self.assertTrue(retries, "no retry after the budget allowed it")
        self.assertEqual({r["status"] for r in retries}, {409}, "the retry must fail its UID precondition")
        again = self.kube.pod("workloads", name)
        self.assertEqual(again["metadata"]["uid"], new["metadata"]["uid"])
        self.assertIsNone(again["metadata"].get("deletionTimestamp"), "the agent evicted another node's pod")
        self.assertEqual(agent.metric("aksnode_pod_evictions_total", result="evicted"), 0)
        self.assertGreaterEqual(agent.metric("aksnode_pod_evictions_total", result="not_found"), 1)

    # -- 7. repeated pod LISTs come from the watch cache -----------------------------------------

    def test_only_the_first_pod_list_of_a_drain_is_a_quorum_read(self):
        self.seed(pods=3, gracePeriodSeconds=300, extraNodes=["spare-1"])  # 3 s each with grace scale 0.01
        agent = self.start_agent()
        self.wait_ready(agent)
        seq = self.kube.last_request_seq()
        self.imds.add_event("Preempt", not_before_in=60)
        self.wait_phase("drained", 30)
        lists = [r for r in self.agent_requests(seq, method="GET") if r["path"] == "/api/v1/pods"]
        self.assertGreaterEqual(len(lists), 3, "the drain should have waited through several gone-checks")
        self.assertNotIn("resourceVersion=", lists[0]["query"])
        for r in lists[1:]:
            self.assertIn("resourceVersion=0", r["query"], r)

    # -- 8. an overloaded API server's Retry-After ------------------------------------------------

    def test_eviction_429_without_a_budget_honours_retry_after(self):
        self.seed(pods=1, extraNodes=["spare-1"])
        agent = self.start_agent()  # drain.evictionRetryInterval 500ms
        self.wait_ready(agent)
        self.kube.fault(method="POST", path=r"/eviction$", status=429, retryAfter=3, count=1)
        self.imds.add_event("Preempt", not_before_in=60)
        self.wait_phase("drained", 30)
        posts = [r for r in self.agent_requests(method="POST") if r.get("resource") == "pods/eviction"]
        self.assertEqual([r["status"] for r in posts], [429, 201])
        self.assertGreaterEqual(posts[1]["t"] - posts[0]["t"], 3.0 - 0.05, "retried before Retry-After")

    # -- 5. the out-of-service taint needs a node that is really down ----------------------------

    def test_out_of_service_taint_only_once_the_node_is_not_ready(self):
        self.seed(pods=2, extraNodes=["spare-1"])
        self.imds.ack_behaviour(auto_start=False)
        agent = self.start_agent({"drain": {"outOfServiceTaintAfterDrain": True}})
        self.wait_ready(agent)
        self.imds.add_event("Preempt", not_before_in=120)
        self.wait_phase("drained", 30)
        # PreemptionScheduled=True is written in the pass after the drained phase, after the
        # node patch that would have added the taint.
        self.wait_condition("PreemptionScheduled", "True")
        self.assertFalse(self.has_taint(self.node(), OUT_OF_SERVICE), "out-of-service on a Ready kubelet")

        def set_ready(status, reason):
            body = {"status": {"conditions": [{"type": "Ready", "status": status, "reason": reason,
                                               "message": reason}]}}
            st, _, out = self.kube.request("PATCH", f"/api/v1/nodes/{self.NODE_NAME}/status", body,
                                           content_type="application/strategic-merge-patch+json")
            self.assertEqual(st, 200, out)

        set_ready("Unknown", "NodeStatusUnknown")
        node = self.wait_node(lambda n: self.has_taint(n, OUT_OF_SERVICE), 15, "out-of-service taint")
        self.assertTrue(self.has_taint(node, OUT_OF_SERVICE, "nodeshutdown", "NoExecute"))
        set_ready("True", "KubeletReady")
        self.wait_node(lambda n: not self.has_taint(n, OUT_OF_SERVICE), 15, "out-of-service taint removed")
        self.assert_no_crash(agent)

    # -- 6. the first Scheduled Events call enables the service ----------------------------------

    def test_slow_first_scheduled_events_call_enables_the_service(self):
        self.seed(pods=0)
        self.imds.settings(firstCallDelayMs=3000)  # the harness's imds.timeout is 1s
        agent = self.start_agent()
        code, body = agent.get("/readyz")
        self.assertEqual(code, 503)
        wait_until(lambda: "first IMDS Scheduled Events answer" in agent.get("/readyz")[1], 5,
                   "/readyz saying it waits for the first call")
        self.assertIn("enables the service", agent.get("/readyz")[1])
        self.wait_ready(agent, 15)
        stats = self.imds.stats()
        self.assertTrue(stats["serviceEnabled"])
        self.assertEqual(stats["firstCallsAbandoned"], 0, "the agent gave up on the enabling call")
        # Afterwards the normal grid: later polls are answered at once.
        n = len(self.imds.requests(endpoint="scheduledevents"))
        wait_until(lambda: len(self.imds.requests(endpoint="scheduledevents")) >= n + 3, 5, "3 more polls")
        later = self.imds.requests(endpoint="scheduledevents")[1:]
        self.assertTrue(all(r.get("firstCallDelayMs") is None for r in later), later)


if __name__ == "__main__":
    main()
