#!/usr/bin/env python3
"""A Node the agent cannot read faithfully is never patched (arch/FAULTS.md, "Attacks on the running binary").

The agent rebuilds the taint list from the live Node and sends the resourceVersion it read as
the concurrency check. Before the fix, `spec.taints` as an object read as "no taints" and the
PATCH carried only the agent's taint (deleting everyone else's); a garbage body had an empty
resourceVersion, so there was no concurrency check at all. Now: logged, counted
(`aksnode_node_unreadable_total`), retried, and the Node is left alone until it reads well.

Run: python3 tests/integration/agent_malformed_node_test.py (AKSNODE_BINARY = the agent).
"""

import copy
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import AgentTestCase, main, wait_until  # noqa: E402

OTHER_TAINT = {"key": "example.com/dedicated", "value": "gpu", "effect": "NoSchedule"}


class MalformedNodeTest(AgentTestCase):

    def node_patches(self, since: int = 0) -> list:
        return [r for r in self.mutating_requests(since)
                if r["method"] == "PATCH" and r["path"].startswith(f"/api/v1/nodes/{self.NODE_NAME}")]

    def check_not_patched_then_recovers(self, bad_node: dict) -> None:
        self.seed(pods=0, daemonsets=1, otherTaints=[OTHER_TAINT])
        self.kube.fault(method="GET", path=f"^/api/v1/nodes/{self.NODE_NAME}$", status=200, body=bad_node,
                        count=-1)
        agent = self.start_agent()
        self.imds.add_event("Preempt", not_before_in=60)
        agent.wait_log("scheduled event for this VM", 10)
        # Several reads refused (the retries), none followed by a PATCH. (Before the fix the
        # PATCH came at once, carrying only the agent's taint.)
        wait_until(lambda: self.node_patches() or (agent.metric("aksnode_node_unreadable_total") or 0) >= 3, 20,
                   "three unreadable Node answers, or a PATCH")
        self.assertEqual(self.node_patches(), [], "the agent patched a Node it could not read")
        line = agent.find_log(lambda l: l.get("msg", "").startswith("node not patched"))
        self.assertIsNotNone(line, agent.log_tail())
        self.assertIn("not patching", agent.status()["kubernetes"]["lastError"])
        # The API server heals: the agent cordons and keeps the other taint.
        self.kube.clear_faults()
        node = self.wait_node(lambda n: n["spec"].get("unschedulable"), 15, "cordon once the Node reads well")
        self.assertTrue(self.has_taint(node, OTHER_TAINT["key"], OTHER_TAINT["value"]), node["spec"])
        self.assert_no_crash(agent)

    def live_node(self) -> dict:
        self.seed(pods=0, daemonsets=1, otherTaints=[OTHER_TAINT])
        node = copy.deepcopy(self.node())
        self.kube.reset()
        self.kube.config(graceScale=self.GRACE_SCALE, unschedulableTaintMs=100)
        return node

    def test_taints_as_an_object(self):
        node = self.live_node()
        node["spec"]["taints"] = {"key": OTHER_TAINT["key"], "effect": "NoSchedule"}
        self.check_not_patched_then_recovers(node)

    def test_taint_entry_without_a_key(self):
        node = self.live_node()
        node["spec"]["taints"] = [{"value": "x", "effect": "NoSchedule"}, OTHER_TAINT]
        self.check_not_patched_then_recovers(node)

    def test_garbage_body_without_resource_version(self):
        self.check_not_patched_then_recovers({"metadata": {"name": self.NODE_NAME}, "garbage": [1, 2, 3]})

    def test_unschedulable_as_a_string(self):
        node = self.live_node()
        node["spec"]["unschedulable"] = "false"
        self.check_not_patched_then_recovers(node)


if __name__ == "__main__":
    main()
