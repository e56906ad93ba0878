#!/usr/bin/env python3
"""Peers that degrade the agent without breaking it (arch/FAULTS.md, "Attacks on the running binary").

* 409 on every node PATCH: 432 PATCH + 479 GET in 25 s, forever. Now the retries are spread
  and the passes back off.
* A hung node GET: the cordon waited behind 4 x 10 s attempts with only info-level lines. Now
  every call has a deadline and a late cordon is a warning.
* `--once` against a hung API server took 40 s.
* An IMDS that invents new event ids on every poll: one Kubernetes Event per id (1,250 POSTs in
  10 s) and one log line per id. Now rate-limited per reason, and log lines per message.

Wall-clock numbers are printed; the assertions are on counts, with wide margins.

Run: python3 tests/integration/agent_degraded_peers_test.py (AKSNODE_BINARY = the agent).
"""

import json
import os
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import AgentTestCase, main, run_agent_command, wait_until  # noqa: E402

NODE_PATH = "^/api/v1/nodes/{}$"


class DegradedPeersTest(AgentTestCase):

    def requests_in_window(self, seconds: float, **filters) -> list:
        """The fake API server's requests during the next `seconds` (a measurement window)."""
        seq = self.kube.last_request_seq()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.check_agents()
            time.sleep(0.2)  # measuring over a window, not waiting for an event
        return self.kube.requests(since=seq, **filters)

    def test_endless_409_on_the_node_patch_backs_off(self):
        self.seed(pods=0, daemonsets=1)
        agent = self.start_agent()
        self.wait_ready(agent)
        self.kube.fault(method="PATCH", path=NODE_PATH.format(self.NODE_NAME), status=409, count=-1)
        self.imds.add_event("Preempt", not_before_in=120)
        agent.wait_log("scheduled event for this VM", 10)
        window = 15.0
        reqs = self.requests_in_window(window)
        patches = [r for r in reqs if r["method"] == "PATCH" and r["path"] == f"/api/v1/nodes/{self.NODE_NAME}"]
        gets = [r for r in reqs if r["method"] == "GET" and r["path"] == f"/api/v1/nodes/{self.NODE_NAME}"]
        print(f"\n  endless 409: {len(patches)} PATCH + {len(gets)} GET in {window:.0f}s", file=sys.stderr)
        # Before: ~17 PATCH/s (432 + 479 in 25 s).
        self.assertGreater(len(patches), 0)
        self.assertLess(len(patches), 80)
        self.assertLess(len(gets), 100)
        agent.wait_log("cannot update the node", 1)
        self.kube.clear_faults()
        self.wait_node(lambda n: n["spec"].get("unschedulable"), 20, "cordon once the conflicts stop")
        self.assert_no_crash(agent)

    def test_hung_node_get_warns_that_the_cordon_is_late(self):
        self.seed(pods=0, daemonsets=1)
        # Hung from the start: the agent has never read its Node and cannot patch it blind.
        self.kube.fault(method="GET", path=NODE_PATH.format(self.NODE_NAME), delayMs=120000, count=-1)
        agent = self.start_agent()
        t0 = time.monotonic()
        self.imds.add_event("Preempt", not_before_in=60)
        line = agent.wait_log(lambda l: l.get("msg", "").startswith("cordon is late")
                              and l.get("level") in ("warn", "warning"),
                              30, "a warning that the cordon is late")
        print(f"\n  hung node GET: 'cordon is late' warned {time.monotonic() - t0:.1f}s after the event",
              file=sys.stderr)
        self.assertGreaterEqual(line["secondsSinceSeen"], 5)
        self.kube.clear_faults()
        self.wait_node(lambda n: n["spec"].get("unschedulable"), 30, "cordon once the API server answers")
        self.assert_no_crash(agent)

    def test_once_against_a_hung_api_server_is_bounded(self):
        self.seed(pods=0, daemonsets=1)
        self.kube.fault(method="GET", path=NODE_PATH.format(self.NODE_NAME), delayMs=120000, count=-1)
        cfg = os.path.join(self.workdir, "once.yaml")
        with open(cfg, "w") as f:
            json.dump(self.config(), f)
        t0 = time.monotonic()
        try:
            r = run_agent_command(["--config", cfg, "--once", "--node-name", self.NODE_NAME], timeout=25)
        except subprocess.TimeoutExpired:
            self.fail("--once against a hung API server did not finish in 25 s (it took 40 s before)")
        elapsed = time.monotonic() - t0
        print(f"\n  --once with a hung API server: {elapsed:.1f}s", file=sys.stderr)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        report = json.loads(r.stdout)
        self.assertFalse(report["kubernetes"]["ok"])
        self.assertTrue(report["imds"]["ok"])

    def test_new_event_ids_on_every_poll_are_rate_limited(self):
        self.seed(pods=0, daemonsets=1)
        agent = self.start_agent({"imds": {"actions": {"Freeze": "notify"}}})
        self.wait_ready(agent)
        documents, per_document = 10, 100
        for incarnation in range(1, documents + 1):
            events = [{"EventId": str(uuid.uuid4()).upper(), "EventType": "Freeze", "ResourceType": "VirtualMachine",
                       "Resources": [self.VM_NAME], "EventStatus": "Scheduled", "NotBefore": "",
                       "Description": "", "EventSource": "Platform", "DurationInSeconds": 5}
                      for _ in range(per_document)]
            self.imds.clear_faults()
            self.imds.fault("raw", status=200, body={"DocumentIncarnation": incarnation, "Events": events})
            served = len(self.imds.requests(endpoint="scheduledevents"))
            wait_until(lambda: len(self.imds.requests(endpoint="scheduledevents")) > served + 1, 10,
                       f"document {incarnation} served")
        self.imds.clear_faults()
        ids = documents * per_document
        posted = [r for r in self.kube.requests(method="POST") if "/events" in r["path"]]
        lines = agent.log_lines()
        print(f"\n  {ids} new event ids over {documents} polls: {len(posted)} Event POSTs, "
              f"{len(lines)} log lines", file=sys.stderr)
        # Before: one POST and one line per id.
        self.assertLess(len(posted), 60)
        self.assertLess(len(lines), 400)
        self.assertTrue(agent.find_log(lambda l: l.get("msg", "").startswith("node event dropped")))
        self.assert_no_crash(agent)


if __name__ == "__main__":
    main()
