#!/usr/bin/env python3
"""Two agents for one node: one acts, the other stands by and takes over (arch/FAULTS.md, "Attacks
on the running binary").

Before the fix both cordoned, both drained and both wrote Events. Now they share the Lease
`aks-node-agent-<node>` (coordination.k8s.io/v1) in the agent's namespace: the holder acts,
the other keeps watching and takes over once the holder stops renewing (15 s on its own clock).

Run: python3 tests/integration/agent_node_lease_test.py (AKSNODE_BINARY = the agent).
"""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import AgentTestCase, clean_env, main, wait_until  # noqa: E402

LEASE_PATH = "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/aks-node-agent-{node}"


class NodeLeaseTest(AgentTestCase):

    def lease(self) -> dict:
        return self.kube.ok("GET", LEASE_PATH.format(ns="aks-node-agent", node=self.NODE_NAME))

    def start(self, pod: str):
        return self.start_agent(env=clean_env(POD_NAME=pod, POD_NAMESPACE="aks-node-agent"))

    def test_a_second_agent_stands_by_and_takes_over(self):
        self.seed(pods=4, daemonsets=1)
        first = self.start("agent-first")
        first.wait_log("acting for this node", 10)
        second = self.start("agent-second")
        second.wait_log("standing by", 10)
        self.assertEqual(self.lease()["spec"]["holderIdentity"], "agent-first")
        self.assertFalse(second.status()["lease"]["leader"])

        self.imds.add_event("Reboot", not_before_in=120)
        self.wait_phase("drained", 30)
        # Only the holder acted: the standby cordoned nothing, drained nothing, wrote no Event.
        for name, agent, want in (("first", first, 1), ("second", second, 0)):
            m = agent.metrics()
            self.assertEqual(m.value("aksnode_actions_total", action="cordon", result="success", dry_run="false"),
                             want, name)
            self.assertEqual(m.value("aksnode_actions_total", action="drain", result="success", dry_run="false"),
                             want, name)
        self.assertIsNone(second.find_log(lambda l: l.get("msg") == "node event"))
        started = self.node_events("DrainStarted")
        self.assertEqual(len(started), 1, started)

        # The holder dies without a word (no release): the standby takes over.
        first.signal(signal.SIGKILL)
        first.proc.wait(5)
        t0 = time.monotonic()
        second.wait_log("taking over this node's lease", 40)
        wait_until(lambda: second.status()["lease"]["leader"], 10, "the standby acting")
        print(f"\n  standby took over {time.monotonic() - t0:.1f}s after the holder was killed", file=sys.stderr)
        lease = self.lease()
        self.assertEqual(lease["spec"]["holderIdentity"], "agent-second")
        self.assertEqual(lease["spec"]["leaseTransitions"], 1)
        # And it acts: the node stays cordoned and the event is its to follow; ending it uncordons.
        self.imds.clear()
        self.wait_node(lambda n: not n["spec"].get("unschedulable"), 30, "uncordon by the new holder")
        self.assert_no_crash(second)


if __name__ == "__main__":
    main()
