#!/usr/bin/env python3
"""The real agent against the fake IMDS and fake API server: which scheduled events it acts on
and what it does to the Node (docs/configuration.md, docs/interface.md, docs/metrics.md).

Run: python3 tests/integration/agent_scheduled_events_test.py (AKSNODE_BINARY = the agent).
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import AgentTestCase, main, wait_until  # noqa: E402

SCHEDULED_EVENT_TAINT = "aks-node-agent/scheduled-event"
VMSS_VM = "aks-pool-12345678-vmss_3"
VMSS_NODE = "aks-pool-12345678-vmss000003"
VMSS_PROVIDER_ID = ("azure:///subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"
                    "mc_rg_cluster_westeurope/providers/Microsoft.Compute/virtualMachineScaleSets/"
                    "aks-pool-12345678-vmss/virtualMachines/3")


def rfc1123(epoch: float) -> str:
    """NotBefore as node-problem-detector's condition messages write it."""
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(int(epoch)))


class EventHelpers:

    def polls_after(self, imds, t_mono: float) -> int:
        return len([r for r in imds.requests(since=t_mono, endpoint="scheduledevents") if r.get("status") == 200])

    def wait_polls(self, imds, n: int = 3) -> None:
        """Wait until the agent has seen the current IMDS document n more times (a successful poll
        is the only thing that can make it act, so after n polls it has had every chance)."""
        t = time.monotonic()
        wait_until(lambda: self.polls_after(imds, t) >= n, 15, f"{n} more IMDS polls")

    def assert_untouched(self, since_seq: int, node_name: str = None) -> None:
        node = self.node(node_name)
        self.assertFalse(node["spec"].get("unschedulable"), "node was cordoned")
        self.assertFalse(self.has_taint(node, SCHEDULED_EVENT_TAINT), self.taints(node))
        self.assertIsNone(self.agent_state(node))
        spec_patches = [r for r in self.mutating_requests(since_seq)
                        if r["method"] == "PATCH" and r["resource"] == "nodes"]
        self.assertEqual(spec_patches, [], "the agent patched the node spec/metadata")


class ScheduledEventsTest(EventHelpers, AgentTestCase):

    # -- own VM vs. others -----------------------------------------------------------------------

    def test_preempt_for_own_vm_taints_cordons_and_sets_conditions(self):
        self.seed(pods=4, daemonsets=1, extraNodes=["spare-1"])
        agent = self.start_agent()
        self.wait_ready(agent)
        m = agent.metrics()
        self.assertEqual(m.value("aksnode_eviction_pending"), 0)
        self.assertEqual(m.value("aksnode_node_cordoned"), 0)

        seq = self.kube.last_request_seq()
        t0 = time.monotonic()
        ev = self.imds.add_event("Preempt", not_before_in=30)
        t_pending = wait_until(lambda: agent.metric("aksnode_eviction_pending") == 1 and time.monotonic(), 10,
                               "aksnode_eviction_pending 1")
        st = agent.status()
        self.assertEqual([e["eventId"] for e in st["pendingEvents"]], [ev["EventId"]])
        self.assertEqual(st["pendingEvents"][0]["eventType"], "Preempt")
        self.assertEqual(st["vmResourceName"], self.VM_NAME)

        node = self.wait_node(lambda n: n["spec"].get("unschedulable"), 10, "cordon")
        t_cordon = time.monotonic()
        sys.stderr.write(f"\n  [numbers] Preempt added to IMDS -> eviction_pending {t_pending - t0:.3f}s, "
                         f"-> node cordoned (observed) {t_cordon - t0:.3f}s\n")
        # The cordon is within one poll interval (500 ms) plus the API round trips.
        self.assertLess(t_cordon - t0, 3.0)
        # Both fakes log arrival times on CLOCK_MONOTONIC: first poll that served the event ->
        # the cordon PATCH reaching the API server.
        served = min(r["t_mono"] for r in self.imds.requests(since=t0, endpoint="scheduledevents")
                     if r.get("status") == 200)
        patch = min(r["t"] for r in self.kube.requests(since=seq, method="PATCH") if r["resource"] == "nodes")
        sys.stderr.write(f"  [numbers] first poll serving the event -> cordon PATCH at the API server "
                         f"{(patch - served) * 1000:.1f} ms\n")
        self.assertGreaterEqual(patch, served)
        self.assertLess(patch - served, 1.0)
        node = self.wait_node(lambda n: self.has_taint(n, SCHEDULED_EVENT_TAINT), 5, "scheduled-event taint")
        self.assertTrue(self.has_taint(node, SCHEDULED_EVENT_TAINT, "Preempt", "NoSchedule"), self.taints(node))
        # The fake's spot taint (someone else's) is kept.
        self.assertTrue(self.has_taint(node, "kubernetes.azure.com/scalesetpriority", "spot", "NoSchedule"))
        state = self.agent_state(node)
        self.assertEqual(state["eventId"], ev["EventId"])
        self.assertEqual(state["eventType"], "Preempt")
        self.assertTrue(state["cordonedByAgent"])
        self.assertIn(state["phase"], ("cordoned", "draining", "drained"))

        vme = self.wait_condition("VMEventScheduled", "True")
        self.assertEqual(vme["reason"], "VMEventScheduled")
        self.assertEqual(vme["message"], f"Preempt Scheduled: {rfc1123(ev['notBeforeEpoch'])}. EventId: {ev['EventId']}")

        m = agent.metrics()
        self.assertEqual(m.value("aksnode_node_cordoned"), 1)
        self.assertEqual(m.value("aksnode_scheduled_events_seen_total", event_type="Preempt"), 1)
        self.assertEqual(m.value("aksnode_scheduled_events", event_type="Preempt", event_status="Scheduled"), 1)
        self.assertAlmostEqual(m.value("aksnode_eviction_not_before_timestamp_seconds"),
                               int(ev["notBeforeEpoch"]), delta=1.0)
        self.assertEqual(m.value("aksnode_event_detection_latency_seconds_count"), 1)
        self.assertGreaterEqual(m.sum("aksnode_actions_total", action="cordon", result="success", dry_run="false"), 1)
        latency = agent.wait_log("node cordoned")["detectionLatencySeconds"]
        sys.stderr.write(f"  [numbers] agent-reported detection latency (first poll -> cordon accepted) "
                         f"{latency:.3f}s\n")
        self.assertLess(latency, 2.0)
        # The drain of the 4 pods finishes; the agent must survive it. Then, and only then,
        # PreemptionScheduled (Karpenter's node repair force-deletes on it).
        self.wait_phase("drained")
        pre = self.wait_condition("PreemptionScheduled", "True")
        self.assertEqual(pre["reason"], "SpotEvictionIncoming")
        self.assertEqual(pre["message"], vme["message"])
        self.assertEqual(sorted(p["metadata"]["namespace"] for p in self.kube.pods_on(self.NODE_NAME)),
                         ["kube-system"])  # only the DaemonSet pod is left
        self.assert_no_crash(agent)
        self.assertEqual(agent.get("/healthz")[0], 200)

    def test_availability_set_event_naming_only_others_is_ignored(self):
        self.seed(pods=2)
        agent = self.start_agent()
        self.wait_ready(agent)
        seq = self.kube.last_request_seq()
        # Created through this VM's control API, so this VM receives it although Resources name others.
        self.imds.add_event("Reboot", not_before_in=120, resources=["avset-vm-1", "avset-vm-2", "aks-spot-10"])
        wait_until(lambda: agent.metric("aksnode_scheduled_events_ignored_total", reason="other_vm") == 1, 10,
                   "ignored{reason=other_vm} 1")
        self.wait_polls(self.imds)
        self.assert_untouched(seq)
        self.assertEqual(self.condition(self.node(), "VMEventScheduled")["status"], "False")

    def test_unknown_event_type_is_ignored(self):
        self.seed(pods=2)
        agent = self.start_agent()
        self.wait_ready(agent)
        seq = self.kube.last_request_seq()
        self.imds.add_event("Hibernate", not_before_in=60)
        wait_until(lambda: agent.metric("aksnode_scheduled_events_ignored_total", reason="unknown_type") == 1, 10,
                   "ignored{reason=unknown_type} 1")
        self.wait_polls(self.imds)
        self.assert_untouched(seq)
        self.assertEqual(agent.metric("aksnode_eviction_pending"), 0)
        self.assert_no_crash(agent)

    def test_unreadable_not_before_is_treated_as_imminent(self):
        self.seed(pods=2, extraNodes=["spare-1"])
        agent = self.start_agent()
        self.wait_ready(agent)
        ev = self.imds.add_event("Preempt", not_before="soon")
        node = self.wait_node(lambda n: n["spec"].get("unschedulable"), 10, "cordon")
        self.assertEqual(self.agent_state(node)["eventId"], ev["EventId"])
        pending = agent.status()["pendingEvents"]
        self.assertEqual(len(pending), 1)
        self.assertTrue(pending[0]["imminent"])
        self.assertTrue(pending[0]["notBeforeUnreadable"])
        self.assertEqual(agent.metric("aksnode_eviction_pending"), 1)
        self.wait_phase(("drained", "failed"))
        pre = self.wait_condition("PreemptionScheduled", "True")
        self.assertIn(ev["EventId"], pre["message"])
        self.assert_no_crash(agent)

    # -- actions per type ------------------------------------------------------------------------

    def test_freeze_only_notifies(self):
        self.seed(pods=2)
        agent = self.start_agent()
        self.wait_ready(agent)
        seq = self.kube.last_request_seq()
        ev = self.imds.add_event("Freeze", not_before_in=120)
        c = self.wait_condition("VMEventScheduled", "True")
        self.assertEqual(c["reason"], "VMEventScheduled")
        self.assertEqual(c["message"], f"Freeze Scheduled: {rfc1123(ev['notBeforeEpoch'])}. EventId: {ev['EventId']}")
        self.assertEqual(self.condition(self.node(), "PreemptionScheduled")["status"], "False")
        wait_until(lambda: self.node_events("ScheduledEvent"), 10, "ScheduledEvent Event")
        self.wait_polls(self.imds)
        self.assert_untouched(seq)
        self.assertEqual(len(self.kube.pods_on(self.NODE_NAME)), 2 + 2)  # 2 DaemonSet pods by default
        self.assertEqual(agent.metric("aksnode_eviction_pending"), 0)
        self.assertEqual(agent.metric("aksnode_scheduled_events_seen_total", event_type="Freeze"), 1)

    def test_reboot_is_drained_then_undone_when_it_ends(self):
        self.seed(pods=3, extraNodes=["spare-1"])
        agent = self.start_agent()
        self.wait_ready(agent)
        ev = self.imds.add_event("Reboot", not_before_in=120)
        node = self.wait_phase("drained")
        self.assertTrue(node["spec"]["unschedulable"])
        self.assertTrue(self.has_taint(node, SCHEDULED_EVENT_TAINT, "Reboot", "NoSchedule"))
        self.assertTrue(self.condition(node, "VMEventScheduled")["message"].startswith("Reboot Scheduled: "))
        self.assertEqual(self.condition(node, "PreemptionScheduled")["status"], "False")
        self.assertEqual(agent.metric("aksnode_eviction_pending"), 0)  # Reboot is not an eviction
        self.assertEqual([p["metadata"]["namespace"] for p in self.kube.pods_on(self.NODE_NAME)
                          if p["metadata"]["namespace"] == "workloads"], [])

        self.imds.delete_event(ev["EventId"])
        self.wait_node(lambda n: not n["spec"].get("unschedulable"), 10, "uncordon")
        node = self.wait_node(lambda n: self.agent_state(n) is None and not self.has_taint(n, SCHEDULED_EVENT_TAINT),
                              5, "taint and annotation gone")
        self.assertTrue(self.has_taint(node, "kubernetes.azure.com/scalesetpriority"))
        wait_until(lambda: self.node_events("Uncordoned"), 5, "Uncordoned Event")
        c = self.wait_condition("VMEventScheduled", "False")
        self.assertEqual(c["reason"], "NoVMEventScheduled")
        m = agent.metrics()
        self.assertEqual(m.value("aksnode_node_cordoned"), 0)
        self.assertEqual(m.value("aksnode_actions_total", action="uncordon", result="success", dry_run="false"), 1)
        self.assert_no_crash(agent)

    def test_node_cordoned_by_someone_else_stays_cordoned(self):
        self.seed(pods=2)
        self.kube.ok("PATCH", f"/api/v1/nodes/{self.NODE_NAME}", {"spec": {"unschedulable": True}},
                     content_type="application/strategic-merge-patch+json")
        agent = self.start_agent()
        self.wait_ready(agent)
        ev = self.imds.add_event("Reboot", not_before_in=120)
        node = self.wait_phase("drained")
        self.assertFalse(self.agent_state(node)["cordonedByAgent"])
        self.imds.delete_event(ev["EventId"])
        node = self.wait_node(lambda n: self.agent_state(n) is None, 10, "annotation removed")
        self.assertFalse(self.has_taint(node, SCHEDULED_EVENT_TAINT))
        self.assertTrue(node["spec"].get("unschedulable"), "the admin's cordon was undone")
        self.wait_polls(self.imds)
        self.assertTrue(self.node()["spec"].get("unschedulable"))
        self.assertEqual(self.node_events("Uncordoned"), [])
        self.assertEqual(agent.metric("aksnode_actions_total", action="uncordon", result="success", dry_run="false"), 0)

    def test_reissued_event_id_keeps_the_node_cordoned(self):
        self.seed(pods=2)
        agent = self.start_agent()
        self.wait_ready(agent)
        ev = self.imds.add_event("Reboot", not_before_in=120)
        self.wait_phase("drained")
        new = self.imds.replace_event(ev["EventId"])
        self.assertNotEqual(new["EventId"], ev["EventId"])
        node = self.wait_node(lambda n: (self.agent_state(n) or {}).get("eventId") == new["EventId"], 10,
                              "annotation follows the new id")
        self.assertTrue(node["spec"]["unschedulable"])
        self.assertTrue(self.agent_state(node)["cordonedByAgent"])
        self.assertTrue(self.has_taint(node, SCHEDULED_EVENT_TAINT, "Reboot"))
        self.wait_phase("drained")
        self.wait_polls(self.imds)
        self.assertTrue(self.node()["spec"]["unschedulable"])
        self.assertEqual(self.node_events("Uncordoned"), [])
        self.assertEqual(agent.metric("aksnode_actions_total", action="uncordon", result="success", dry_run="false"), 0)
        self.assertEqual(agent.metric("aksnode_scheduled_events_seen_total", event_type="Reboot"), 2)
        self.assert_no_crash(agent)

    # -- acknowledgement -------------------------------------------------------------------------

    def test_acknowledge_after_drain_only_when_this_vm_is_the_only_resource(self):
        self.seed(pods=2)
        self.imds.ack_behaviour(end_after_ms=1000)
        agent = self.start_agent({"imds": {"acknowledgeAfterDrain": ["Reboot"]}})
        self.wait_ready(agent)

        # Another VM in Resources: approving would reboot it too, so never.
        shared = self.imds.add_event("Reboot", not_before_in=120, resources=[self.VM_NAME, "aks-spot-2"])
        self.wait_phase("drained")
        self.wait_polls(self.imds, 4)
        self.assertEqual(self.imds.acks(), [])
        self.assertEqual(self.agent_state(self.node())["phase"], "drained")
        self.imds.delete_event(shared["EventId"])
        self.wait_node(lambda n: self.agent_state(n) is None, 10, "undo after the shared event")

        own = self.imds.add_event("Reboot", not_before_in=120)
        acks = wait_until(lambda: self.imds.acks(), 30, "StartRequests")
        self.assertEqual(len(acks), 1)
        self.assertEqual(acks[0]["eventIds"], [own["EventId"]])
        self.assertEqual(acks[0]["StartRequests"], [{"EventId": own["EventId"]}])
        wait_until(lambda: self.node_events("EventAcknowledged"), 10, "EventAcknowledged Event")
        self.assertEqual(agent.metric("aksnode_actions_total", action="acknowledge", result="success",
                                      dry_run="false"), 1)
        # Started, then gone after 1 s (the VM rebooted): the agent undoes its cordon.
        self.wait_node(lambda n: not n["spec"].get("unschedulable") and self.agent_state(n) is None, 15,
                       "uncordon after the acknowledged Reboot ended")
        self.assertEqual(len(self.imds.acks()), 1, "acknowledged more than once")
        self.assertEqual(len(self.imds.requests(endpoint="acknowledge")), 1)

    # -- which VM is this ------------------------------------------------------------------------

    def test_resource_name_from_config(self):
        self.seed(pods=1)
        agent = self.start_agent({"imds": {"resourceName": "custom-vm-7"}})
        self.wait_ready(agent)
        st = agent.status()
        self.assertEqual((st["vmResourceName"], st["vmResourceNameSource"]), ("custom-vm-7", "config"))
        seq = self.kube.last_request_seq()
        # compute.name (aks-spot-1) is not this VM's name any more.
        self.imds.add_event("Preempt", not_before_in=60, resources=[self.VM_NAME])
        wait_until(lambda: agent.metric("aksnode_scheduled_events_ignored_total", reason="other_vm") == 1, 10,
                   "ignored{reason=other_vm}")
        self.wait_polls(self.imds)
        self.assert_untouched(seq)
        self.imds.clear()
        ev = self.imds.add_event("Preempt", not_before_in=60, resources=["custom-vm-7"])
        node = self.wait_node(lambda n: n["spec"].get("unschedulable"), 10, "cordon")
        self.assertEqual(self.agent_state(node)["eventId"], ev["EventId"])


class ScaleSetVmTest(EventHelpers, AgentTestCase):
    """A VMSS instance: compute.name aks-pool-12345678-vmss_3, node aks-pool-12345678-vmss000003."""

    VM_NAME = VMSS_VM
    NODE_NAME = VMSS_NODE

    def test_sibling_vm_event_is_ignored(self):
        self.seed(pods=2, providerID=VMSS_PROVIDER_ID)
        agent = self.start_agent()
        self.wait_ready(agent)
        self.assertEqual(agent.status()["vmResourceName"], VMSS_VM)
        seq = self.kube.last_request_seq()
        # vmss_31 contains "vmss_3": only an exact element match may count.
        self.imds.add_event("Preempt", not_before_in=30, resources=["aks-pool-12345678-vmss_31"])
        wait_until(lambda: agent.metric("aksnode_scheduled_events_ignored_total", reason="other_vm") == 1, 10,
                   "ignored{reason=other_vm} 1")
        self.wait_polls(self.imds)
        self.assertEqual(agent.metric("aksnode_eviction_pending"), 0)
        self.assertEqual(agent.status()["pendingEvents"], [])
        self.assert_untouched(seq)
        # The ignored event is counted once, not once per poll.
        self.assertEqual(agent.metric("aksnode_scheduled_events_ignored_total", reason="other_vm"), 1)
        self.assertEqual(agent.metrics().sum("aksnode_scheduled_events_seen_total"), 0)
        self.assertTrue(agent.find_log(lambda l: l.get("reason") == "other_vm"), "no log line about the ignored event")

    def test_own_vm_from_provider_id_when_instance_metadata_fails(self):
        self.imds.fault("status", endpoint="instance", status=500)
        self.seed(pods=1, providerID=VMSS_PROVIDER_ID)
        agent = self.start_agent()
        st = wait_until(lambda: (s := agent.status())["vmResourceName"] and s, 15, "VM name from providerID")
        self.assertEqual((st["vmResourceName"], st["vmResourceNameSource"]), (VMSS_VM, "providerID"))
        self.assertGreaterEqual(agent.metric("aksnode_imds_requests_total", endpoint="instance",
                                             imds_endpoint="instance", result="http_error"), 1)
        ev = self.imds.add_event("Preempt", not_before_in=60)
        node = self.wait_node(lambda n: n["spec"].get("unschedulable"), 10, "cordon")
        self.assertEqual(self.agent_state(node)["eventId"], ev["EventId"])
        self.assert_no_crash(agent)


if __name__ == "__main__":
    main()
