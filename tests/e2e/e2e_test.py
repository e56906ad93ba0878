#!/usr/bin/env python3
"""The agent on a real control plane: kube-apiserver v1.36 with RBAC, etcd, the controllers
(disruption, replicaset, statefulset, daemonset, node-lifecycle, podgc), the scheduler, and
kwok playing the kubelets. The agent is the real binary, running as the shipped
ServiceAccount with the shipped ClusterRole; IMDS is the project's fake. Every assertion reads
what the API server holds.

    scripts/e2e.sh                       builds what is missing and runs this
    python3 tests/e2e/e2e_test.py -v     with AKSNODE_BINARY / AKSNODE_E2E_BIN set
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from e2e_support import AGENT_USER, ENV, E2ECase, start_world, stop_world, wait_until  # noqa: E402
from kube_api import STRATEGIC  # noqa: E402
from nodes import AksNode, daemonset, deployment, pdb, statefulset  # noqa: E402

OWN_TAINT = "aks-node-agent/scheduled-event"


def setUpModule() -> None:
    start_world()


def tearDownModule() -> None:
    stop_world()


def taint_keys(node: dict) -> set:
    return {t["key"] for t in node["spec"].get("taints", [])}


class PreemptDrainsThroughTheRealControllers(E2ECase):
    """Scenario 1: a Preempt with 30 pods from Deployments, a StatefulSet and a DaemonSet,
    3 of them behind a PDB that allows one disruption."""

    def test_preempt_drains_respecting_the_pdb_and_pods_move_to_another_node(self) -> None:
        victim, spare = AksNode("spot1", 1, "arm64"), AksNode("spot1", 2, "amd64")
        ns = self.namespace("s1")
        self.fill_victim(victim, spare, ns, deployment(ns, "web", 20), deployment(ns, "cache", 7),
                         statefulset(ns, "db", 3), daemonset(ns, "logs"), pdb(ns, "db", "db", max_unavailable=1),
                         running=20 + 7 + 3 + 1, pdbs=("db",))  # + 1 DaemonSet pod
        agent = self.start_agent(victim, {"drain": {"timeout": "60s"}})

        # Watch the PDB from outside while the drain runs: never more than one db pod down.
        min_ready = [3]
        lowest: list = []
        done = threading.Event()

        def watch_db() -> None:
            while not done.is_set():
                pods = self.api.pods(ns, selector="app=db")
                ready = [p for p in pods
                         if not p["metadata"].get("deletionTimestamp") and any(
                             c["type"] == "Ready" and c["status"] == "True"
                             for c in p.get("status", {}).get("conditions", []))]
                if len(ready) < min_ready[0]:
                    min_ready[0] = len(ready)
                    lowest[:] = [(p["metadata"]["name"], p["metadata"]["uid"][:8], p["spec"].get("nodeName"),
                                  p.get("status", {}).get("phase"), bool(p["metadata"].get("deletionTimestamp")),
                                  [(c["type"], c["status"]) for c in p.get("status", {}).get("conditions", [])])
                                 for p in pods]
                time.sleep(0.02)  # sampling interval
        self.in_background(watch_db)

        ev = ENV.imds.vm(victim.vm_name).add_event("Preempt", not_before_in=30)
        wait_until(lambda: self.api.node(victim.name)["spec"].get("unschedulable"), 10, "cordon")
        node = self.api.node(victim.name)
        self.assertIn({"key": OWN_TAINT, "value": "Preempt", "effect": "NoSchedule"}, node["spec"]["taints"])
        state = wait_until(lambda: (lambda s: s if s and s["phase"] == "drained" else None)(
            self.annotation_state(victim.name)), 60, "phase drained")
        done.set()
        self.assertEqual(state["eventId"], ev["EventId"])
        self.assertTrue(state["cordonedByAgent"])

        # Only the DaemonSet pods (ours and the shipped agent's) stay on the victim.
        left = [p for p in self.api.pods(node=victim.name) if not p["metadata"].get("deletionTimestamp")]
        owners = {p["metadata"]["ownerReferences"][0]["kind"] for p in left}
        self.assertEqual(owners, {"DaemonSet"}, [p["metadata"]["name"] for p in left])
        # The controllers replaced every evicted pod, and the scheduler put them on the spare.
        self.wait_running(ns, 30 + 1, node=spare.name)
        # The disruption controller really enforced the budget, and the agent saw it do so.
        self.assertGreaterEqual(min_ready[0], 2, f"more than one db pod was down at once: {lowest}")
        m = agent.metrics()
        self.assertGreater(m.sum("aksnode_pod_evictions_total", result="blocked_pdb"), 0)
        self.assertEqual(m.sum("aksnode_pod_evictions_total", result="evicted"), 30)

        # Conditions as docs/interface.md says, accepted by the real nodes/status validation.
        vm_cond = self.condition(victim.name, "VMEventScheduled")
        self.assertEqual((vm_cond["status"], vm_cond["reason"]), ("True", "VMEventScheduled"))
        self.assertRegex(vm_cond["message"], r"^Preempt Scheduled: \w{3}, \d\d \w{3} \d{4} [\d:]{8} GMT\. "
                                             r"EventId: " + ev["EventId"] + "$")
        pre = wait_until(lambda: self.condition(victim.name, "PreemptionScheduled"), 10,
                         "PreemptionScheduled once drained")
        self.assertEqual((pre["status"], pre["reason"]), ("True", "SpotEvictionIncoming"))
        # Events accepted by the real API server's validation, about this Node (with its UID).
        evs = self.agent_events(victim.name)
        reasons = {e["reason"] for e in evs}
        self.assertTrue({"ScheduledEvent", "Cordoned", "DrainStarted", "DrainSucceeded"} <= reasons, reasons)
        uid = node["metadata"]["uid"]
        self.assertTrue(all(e["involvedObject"].get("uid") == uid for e in evs))
        # While waiting for pods to go, the agent reads the pod list from the watch cache
        # (resourceVersion=0), not from etcd twice a second (a fleet of drains would multiply it).
        lists = [e["requestURI"] for e in self.cp.audit(AGENT_USER) if e["verb"] == "list"
                 and e["objectRef"].get("resource") == "pods" and victim.name in e["requestURI"]]
        self.assertGreater(len(lists), 1)
        quorum = [u for u in lists[1:] if "resourceVersion=0" not in u and "watch=" not in u]
        self.assertEqual(quorum, [], f"{len(quorum)} of {len(lists)} pod LISTs were quorum reads")


class DrainOf250Pods(E2ECase):
    """Scenario 2: 250 pods, the agent against `kubectl drain` on the same control plane."""

    PODS = 250

    def _fill(self, ns: str, victim: AksNode, spare: AksNode) -> None:
        self.fill_victim(victim, spare, ns, deployment(ns, "batch", self.PODS, grace_seconds=1),
                         running=self.PODS, timeout=240)

    def _watch_evictions(self, ns: str, node: str, marks: dict) -> threading.Event:
        """Record when each pod on node first shows a deletionTimestamp (eviction accepted),
        from a watch, so no short-lived state is missed."""
        stop = threading.Event()

        def on_event(kind: str, pod: dict) -> None:
            now = time.monotonic()
            if pod["metadata"].get("deletionTimestamp") or kind == "DELETED":
                marks.setdefault(pod["metadata"]["uid"], now)
            if kind == "DELETED":
                marks.setdefault("gone", {})[pod["metadata"]["uid"]] = now
        path = f"/api/v1/namespaces/{ns}/pods?fieldSelector=spec.nodeName%3D{node}"
        started = threading.Event()

        def run() -> None:
            started.set()
            self.api.watch(path, on_event, stop)
        self.in_background(run)
        started.wait(5)
        return stop

    def test_250_pods_agent_and_kubectl_drain(self) -> None:
        ns = self.namespace("s2")
        victim, spare = AksNode("spot2", 1, "arm64"), AksNode("spot2", 2, "amd64")
        self._fill(ns, victim, spare)
        agent = self.start_agent(victim, {"drain": {"timeout": "60s"}})
        marks: dict = {}
        stop = self._watch_evictions(ns, victim.name, marks)
        t0 = time.monotonic()
        ENV.imds.vm(victim.vm_name).add_event("Preempt", not_before_in=30)
        wait_until(lambda: self.api.node(victim.name)["spec"].get("unschedulable"), 10, "cordon", 0.005)
        t_cordon = time.monotonic() - t0
        wait_until(lambda: (self.annotation_state(victim.name) or {}).get("phase") == "drained", 60,
                   "drained", 0.01)
        t_done = time.monotonic() - t0
        wait_until(lambda: len(marks) >= self.PODS + 1, 10, "every eviction seen")
        stop.set()
        t_last = max(v for k, v in marks.items() if k != "gone") - t0
        t_gone = max(marks["gone"].values()) - t0
        evictions = eviction_latency(self.api)
        self.assertEqual(agent.metrics().sum("aksnode_pod_evictions_total", result="evicted"), self.PODS)

        # The same drain by kubectl on a second pair of nodes.
        ns2 = self.namespace("s2k")
        victim2, spare2 = AksNode("spot2", 3, "arm64"), AksNode("spot2", 4, "amd64")
        self._fill(ns2, victim2, spare2)
        marks2: dict = {}
        stop2 = self._watch_evictions(ns2, victim2.name, marks2)
        k0 = time.monotonic()
        self.cp.kubectl("drain", victim2.name, "--ignore-daemonsets", "--delete-emptydir-data",
                        "--timeout=300s", timeout=330)
        k_done = time.monotonic() - k0
        stop2.set()
        k_last = max(v for k, v in marks2.items() if k != "gone") - k0
        self.assertEqual(len(marks2) - ("gone" in marks2), self.PODS)
        print(f"\n[numbers] real API server {ENV.cp.version()['gitVersion']}, {self.PODS} pods: "
              f"agent: IMDS event -> cordon {t_cordon:.2f} s, -> last eviction accepted {t_last:.2f} s, "
              f"-> last pod gone {t_gone:.2f} s, -> drained {t_done:.2f} s "
              f"(cordon -> last eviction {t_last - t_cordon:.2f} s); API server eviction latency "
              f"mean {evictions[0] * 1000:.0f} ms over {evictions[1]:.0f} evictions; "
              f"kubectl drain: last eviction {k_last:.2f} s, finished {k_done:.2f} s; "
              f"ratio kubectl/agent: last eviction {k_last / max(t_last - t_cordon, 1e-3):.1f}x, "
              f"finished {k_done / max(t_done - t_cordon, 1e-3):.1f}x", flush=True)


def eviction_latency(api) -> tuple:
    """(mean seconds, count) of the API server's own latency for pods/eviction POSTs so far,
    from apiserver_request_duration_seconds: shows whether the server is the limit."""
    status, text = api.request("GET", "/metrics")
    total = count = 0.0
    for line in (text if isinstance(text, str) else "").splitlines():
        if line.startswith("apiserver_request_duration_seconds_") and 'subresource="eviction"' in line:
            name, value = line.rsplit(" ", 1)
            if name.startswith("apiserver_request_duration_seconds_sum"):
                total += float(value)
            elif name.startswith("apiserver_request_duration_seconds_count"):
                count += float(value)
    return (total / count if count else float("nan"), count)


class OthersChangesSurvive(E2ECase):
    """Scenario 3: others' taints and annotations survive; an admin cordon is never undone;
    a concurrent writer causes conflicts the agent resolves."""

    ADMIN_TAINT = {"key": "dedicated", "value": "analytics", "effect": "NoSchedule"}

    def test_foreign_taints_annotations_and_a_concurrent_writer(self) -> None:
        victim = AksNode("spot3", 1)
        self.make_nodes(victim, extra_taints=[self.ADMIN_TAINT], annotations={"example.com/owner": "team-a"})
        ns = self.namespace("s3")
        w = deployment(ns, "w", 5)
        w["spec"]["template"]["spec"]["tolerations"].append(dict(self.ADMIN_TAINT, operator="Equal"))
        self.create(w)
        self.wait_running(ns, 5, node=victim.name)
        agent = self.start_agent(victim, {"drain": {"timeout": "20s"}})
        stop = threading.Event()
        writes = [0]

        def writer() -> None:
            # Another controller re-writing taints all the time (read-modify-write with
            # resourceVersion, as a controller does), so the agent's patches meet 409s.
            i = 0
            while not stop.is_set():
                node = self.api.node(victim.name)
                taints = [t for t in node["spec"].get("taints", []) if t["key"] != "example.com/churn"]
                taints.append({"key": "example.com/churn", "value": str(i), "effect": "PreferNoSchedule"})
                status, _ = self.api.request("PATCH", f"/api/v1/nodes/{victim.name}", {
                    "metadata": {"resourceVersion": node["metadata"]["resourceVersion"]},
                    "spec": {"taints": taints}}, "application/merge-patch+json")
                if status == 200:
                    writes[0] += 1
                i += 1
        self.in_background(writer)
        ENV.imds.vm(victim.vm_name).add_event("Preempt", not_before_in=30)
        wait_until(lambda: (self.annotation_state(victim.name) or {}).get("phase") == "drained", 30, "drained")
        stop.set()
        node = self.api.node(victim.name)
        keys = taint_keys(node)
        self.assertTrue({"kubernetes.azure.com/scalesetpriority", "dedicated", "example.com/churn",
                         OWN_TAINT} <= keys, keys)
        self.assertEqual(node["metadata"]["annotations"].get("example.com/owner"), "team-a")
        self.assertTrue(node["spec"].get("unschedulable"))
        conflicts = agent.metrics().sum("aksnode_kube_requests_total", verb="patch", resource="nodes", code="4xx")
        print(f"\n[numbers] concurrent writer: {writes[0]} foreign taint writes, "
              f"{conflicts:.0f} agent PATCHes answered 4xx (409 Conflict)", flush=True)
        self.assertGreater(writes[0], 0)
        self.assertGreater(conflicts, 0, "the concurrent writer never made the agent's PATCH conflict")

    def test_an_admin_cordon_is_never_undone(self) -> None:
        node = AksNode("spot3", 2)
        self.make_nodes(node, unschedulable=(node,))
        self.start_agent(node)
        imds = ENV.imds.vm(node.vm_name)
        ev = imds.add_event("Reboot", not_before_in=300)
        wait_until(lambda: OWN_TAINT in taint_keys(self.api.node(node.name)), 10, "the agent's taint")
        state = wait_until(lambda: self.annotation_state(node.name), 10, "annotation")
        self.assertFalse(state["cordonedByAgent"])
        imds.delete_event(ev["EventId"])
        wait_until(lambda: OWN_TAINT not in taint_keys(self.api.node(node.name))
                   and self.annotation_state(node.name) is None, 20, "undo")
        self.assertTrue(self.api.node(node.name)["spec"].get("unschedulable"), "the admin's cordon was undone")


class RbacIsExactlyTheShippedRole(E2ECase):
    """Scenario 4: what the shipped ClusterRole allows and refuses, asked of the real RBAC."""

    def test_can_i(self) -> None:
        # (verb, resource[/subresource][, namespace]); `kubectl auth can-i create pods/eviction`
        # would ask about a pod named "eviction", hence --subresource.
        allowed = [("get", "nodes"), ("patch", "nodes"), ("patch", "nodes/status"), ("list", "pods"),
                   ("create", "pods/eviction"), ("create", "events", "default"),
                   ("get", "leases.coordination.k8s.io", "aks-node-agent"),
                   ("create", "leases.coordination.k8s.io", "aks-node-agent"),
                   ("update", "leases.coordination.k8s.io", "aks-node-agent")]
        refused = [("delete", "nodes"), ("get", "secrets"), ("list", "secrets"), ("delete", "pods"),
                   ("get", "pods"), ("patch", "events", "default"), ("get", "serviceaccounts"),
                   ("create", "pods"), ("list", "nodes"), ("update", "nodes"), ("update", "nodes/status"),
                   ("create", "events", "kube-system"), ("patch", "daemonsets.apps"), ("get", "configmaps"),
                   ("create", "pods/exec"), ("create", "serviceaccounts/token"),
                   ("delete", "leases.coordination.k8s.io", "aks-node-agent"),
                   ("update", "leases.coordination.k8s.io", "kube-node-lease")]
        for verb, res, *ns in allowed + refused:
            resource, _, sub = res.partition("/")
            args = ["auth", "can-i", verb, resource, f"--as={AGENT_USER}"] + \
                (["--subresource", sub] if sub else []) + (["-n", ns[0]] if ns else [])
            r = self.cp.kubectl(*args, check=False)
            want = "yes" if (verb, res, *ns) in allowed else "no"
            self.assertEqual(r.stdout.strip(), want, f"can-i {verb} {res} {ns}: {r.stdout}{r.stderr}")


class RestartMidDrain(E2ECase):
    """Scenario 5: SIGKILL in the middle of a drain; a new process resumes without uncordoning."""

    def test_sigkill_mid_drain_resumes(self) -> None:
        victim, spare = AksNode("spot5", 1), AksNode("spot5", 2)
        ns = self.namespace("s5")
        self.fill_victim(victim, spare, ns, deployment(ns, "free", 4), deployment(ns, "held", 2),
                         pdb(ns, "held", "held", min_available=2), running=6, pdbs=("held",))
        first = self.start_agent(victim, {"drain": {"timeout": "300s"}})
        ENV.imds.vm(victim.vm_name).add_event("Preempt", not_before_in=600)
        wait_until(lambda: first.metrics().sum("aksnode_pod_evictions_total", result="blocked_pdb") >= 2, 30,
                   "evictions blocked by the PDB")
        self.assertEqual(self.annotation_state(victim.name)["phase"], "draining")
        first.kill()

        # From the kill until the new agent has resumed, the node must never be uncordoned.
        uncordoned = threading.Event()
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                if not self.api.node(victim.name)["spec"].get("unschedulable"):
                    uncordoned.set()
                time.sleep(0.02)  # sampling interval
        self.in_background(watch)
        second = self.start_agent(victim, {"drain": {"timeout": "300s"}}, name="restarted")
        wait_until(lambda: second.metrics().sum("aksnode_pod_evictions_total", result="blocked_pdb") >= 1, 30,
                   "the restarted agent retrying the blocked evictions")
        self.api.must("DELETE", f"/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets/held")
        wait_until(lambda: (self.annotation_state(victim.name) or {}).get("phase") == "drained", 30, "drained")
        stop.set()
        self.assertFalse(uncordoned.is_set(), "the node was uncordoned across the restart")
        self.assertTrue(self.annotation_state(victim.name)["cordonedByAgent"])


class NonFatalEvents(E2ECase):
    """Scenario 6: a Reboot that ends is undone; a Freeze only notifies."""

    def test_reboot_that_ends_is_undone(self) -> None:
        node = AksNode("spot6", 1)
        self.make_nodes(node)
        self.start_agent(node)
        imds = ENV.imds.vm(node.vm_name)
        ev = imds.add_event("Reboot", not_before_in=300)
        wait_until(lambda: (self.annotation_state(node.name) or {}).get("phase") == "drained", 20, "drained")
        n = self.api.node(node.name)
        self.assertTrue(n["spec"]["unschedulable"])
        self.assertIn(OWN_TAINT, taint_keys(n))
        imds.delete_event(ev["EventId"])
        wait_until(lambda: not self.api.node(node.name)["spec"].get("unschedulable"), 20, "uncordon")
        n = self.api.node(node.name)
        self.assertNotIn(OWN_TAINT, taint_keys(n))
        self.assertNotIn("aks-node-agent/state", n["metadata"].get("annotations", {}))
        self.assertIn("Uncordoned", {e["reason"] for e in self.agent_events(node.name)})
        wait_until(lambda: self.condition(node.name, "VMEventScheduled")["status"] == "False", 10,
                   "VMEventScheduled False")

    def test_freeze_only_notifies(self) -> None:
        node = AksNode("spot6", 2)
        self.make_nodes(node)
        self.start_agent(node)
        ev = ENV.imds.vm(node.vm_name).add_event("Freeze", not_before_in=300)
        cond = wait_until(lambda: (lambda c: c if c and c["status"] == "True" else None)(
            self.condition(node.name, "VMEventScheduled")), 10, "VMEventScheduled True")
        self.assertEqual(cond["message"].split(":")[0], "Freeze Scheduled")
        self.assertIn(ev["EventId"], cond["message"])
        wait_until(lambda: "ScheduledEvent" in {e["reason"] for e in self.agent_events(node.name)}, 10,
                   "a ScheduledEvent Event")
        n = self.api.node(node.name)
        self.assertFalse(n["spec"].get("unschedulable"))
        self.assertNotIn(OWN_TAINT, taint_keys(n))


class NeighboursConditionsUntouched(E2ECase):
    """Scenario 7: node-problem-detector's conditions and the kubelet's are left alone."""

    NPD = [
        {"type": "KernelDeadlock", "status": "False", "reason": "KernelHasNoDeadlock",
         "message": "kernel has no deadlock"},
        # NPD's own VMEventScheduled (its custom plugin's words while it has seen an event).
        {"type": "VMEventScheduled", "status": "True", "reason": "VMEventScheduled",
         "message": "VM Event Scheduled: Reboot at Mon, 01 Jan 2035 00:00:00 GMT"},
    ]

    def test_conditions_of_other_writers_survive(self) -> None:
        node = AksNode("spot7", 1)
        self.make_nodes(node)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        conds = [dict(c, lastHeartbeatTime=now, lastTransitionTime=now) for c in self.NPD]
        self.api.must("PATCH", f"/api/v1/nodes/{node.name}/status?fieldManager=node-problem-detector",
                      {"status": {"conditions": conds}}, STRATEGIC)
        before = {c["type"]: c for c in self.api.node(node.name)["status"]["conditions"]}
        agent = self.start_agent(node)
        ENV.imds.vm(node.vm_name).add_event("Reboot", not_before_in=300)
        wait_until(lambda: (self.annotation_state(node.name) or {}).get("phase") == "drained", 20, "drained")
        after = {c["type"]: c for c in self.api.node(node.name)["status"]["conditions"]}
        self.assertEqual(after["KernelDeadlock"], before["KernelDeadlock"])
        self.assertEqual(after["Ready"]["status"], "True")
        self.assertEqual(after["Ready"]["reason"], before["Ready"]["reason"])
        # VMEventScheduled belongs to NPD here (its message is not one the agent writes).
        self.assertEqual(after["VMEventScheduled"], before["VMEventScheduled"])
        self.assertIn("VMEventScheduled", json.dumps(agent.status()))


class RecreatedStatefulSetPodIsNotEvicted(E2ECase):
    """Scenario 8: a StatefulSet pod deleted and recreated under the same name while its
    eviction was blocked; the new pod (another UID, on another node) is never evicted."""

    def test_uid_precondition(self) -> None:
        victim, spare = AksNode("spot8", 1), AksNode("spot8", 2)
        ns = self.namespace("s8")
        self.fill_victim(victim, spare, ns, statefulset(ns, "st", 2, grace_seconds=1),
                         pdb(ns, "st", "st", min_available=2), running=2, pdbs=("st",))
        agent = self.start_agent(victim, {"drain": {"timeout": "120s"}})
        ENV.imds.vm(victim.vm_name).add_event("Preempt", not_before_in=600)
        wait_until(lambda: agent.metrics().sum("aksnode_pod_evictions_total", result="blocked_pdb") >= 2, 30,
                   "st evictions blocked")
        old = self.api.must("GET", f"/api/v1/namespaces/{ns}/pods/st-0")
        self.api.must("DELETE", f"/api/v1/namespaces/{ns}/pods/st-0")
        new = wait_until(lambda: (lambda p: p if p and p["metadata"]["uid"] != old["metadata"]["uid"]
                                  and p.get("status", {}).get("phase") == "Running" else None)(
            self.api.get(f"/api/v1/namespaces/{ns}/pods/st-0")[1] if
            self.api.get(f"/api/v1/namespaces/{ns}/pods/st-0")[0] == 200 else None), 60, "st-0 recreated")
        self.assertEqual(new["spec"]["nodeName"], spare.name)
        # Let the budget go: a retry without the UID precondition would now evict the new st-0.
        self.api.must("DELETE", f"/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets/st")
        wait_until(lambda: (self.annotation_state(victim.name) or {}).get("phase") == "drained", 30, "drained")
        now = self.api.must("GET", f"/api/v1/namespaces/{ns}/pods/st-0")
        self.assertEqual(now["metadata"]["uid"], new["metadata"]["uid"])
        self.assertNotIn("deletionTimestamp", now["metadata"])
        # What the agent sent, as the API server recorded it: every eviction of st-0 named the
        # UID of the pod it meant, so no retry could ever reach the new one.
        sent = [e for e in self.cp.audit(AGENT_USER) if e["objectRef"].get("subresource") == "eviction"
                and e["objectRef"].get("namespace") == ns and e["objectRef"].get("name") == "st-0"]
        self.assertGreater(len(sent), 0)
        for e in sent:
            pre = (e.get("requestObject") or {}).get("deleteOptions", {}).get("preconditions", {})
            self.assertEqual(pre.get("uid"), old["metadata"]["uid"], e.get("requestObject"))


class TwoAgentsOneNode(E2ECase):
    """Two agents for one node (a rollout overlap, a stray copy): the per-node Lease in the
    agent's namespace lets one act; the other stands by, with the shipped Role for leases."""

    def test_only_the_lease_holder_drains(self) -> None:
        victim, spare = AksNode("spot9", 1), AksNode("spot9", 2)
        ns = self.namespace("s9")
        self.fill_victim(victim, spare, ns, deployment(ns, "w", 6), running=6)
        first = self.start_agent(victim, {"drain": {"timeout": "30s"}})
        # Another pod (a stray copy); a restarted container of the same pod keeps its name and
        # holds the lease at once, by design.
        second = self.start_agent(victim, {"drain": {"timeout": "30s"}}, name="second",
                                  pod_name="aks-node-agent-stray")
        ENV.imds.vm(victim.vm_name).add_event("Preempt", not_before_in=30)
        wait_until(lambda: (self.annotation_state(victim.name) or {}).get("phase") == "drained", 30, "drained")
        evicted = [a.metrics().sum("aksnode_pod_evictions_total", result="evicted") for a in (first, second)]
        self.assertEqual(sorted(evicted), [0, 6], f"evictions per agent: {evicted}")
        lease = self.api.must("GET", f"/apis/coordination.k8s.io/v1/namespaces/aks-node-agent/leases/"
                                     f"aks-node-agent-{victim.name}")
        self.assertTrue(lease["spec"].get("holderIdentity"))
        started = [e for e in self.agent_events(victim.name) if e["reason"] == "DrainStarted"]
        self.assertEqual(sum(e.get("count", 1) for e in started), 1, "both agents announced a drain")


class ImmediateResult(unittest.TextTestResult):
    """Prints a failure as it happens (a long run killed by CI's timeout still shows why)."""

    def addFailure(self, test, err) -> None:
        super().addFailure(test, err)
        self.stream.writeln(self._exc_info_to_string(err, test))
        self.stream.flush()

    def addError(self, test, err) -> None:
        super().addError(test, err)
        self.stream.writeln(self._exc_info_to_string(err, test))
        self.stream.flush()


def main() -> int:
    loader = unittest.TestLoader()
    args = sys.argv[1:]
    patterns = [f"*{args[i + 1]}*" for i, a in enumerate(args) if a == "-k" and i + 1 < len(args)]
    if patterns:
        loader.testNamePatterns = patterns
    suite = loader.loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout, resultclass=ImmediateResult).run(suite)
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"e2e: real API server /version: {getattr(ENV, 'version', {}).get('gitVersion', 'not reached')}")
    print(f"{passed} passed, {failed} failed" + (f", {len(result.skipped)} skipped" if result.skipped else ""))
    return 0 if failed == 0 and result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
