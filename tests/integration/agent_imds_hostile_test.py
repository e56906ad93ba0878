#!/usr/bin/env python3
"""Hostile IMDS answers that used to blind or bloat the agent (arch/FAULTS.md, "Attacks on the
running binary").

* One 429 or 503 with `Retry-After: 1000000000` stopped polling for 300 s. A Retry-After may
  stretch the next poll by a few seconds at most: a Preempt announced right after it is acted
  on within a 30 s notice.
* A 1 MiB `{"Events":[0,0,...]}` (524k entries) took the agent from 9 to 218 MiB and wrote
  524,001 log lines per poll. It is one bad document now: counted `bad_response`, a few log
  lines, memory given back; the agent still acts on the next good document.

Run: python3 tests/integration/agent_imds_hostile_test.py (AKSNODE_BINARY = the agent).
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import AgentTestCase, main, sanitized_binary, wait_until  # noqa: E402

MIB = 1024 * 1024


def proc_status_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def zeros_document(size: int = MIB) -> str:
    head, tail = '{"DocumentIncarnation":1,"Events":[0', "]}"
    n = (size - len(head) - len(tail)) // 2
    return head + ",0" * n + tail


class RetryAfterTest(AgentTestCase):

    def polls(self) -> list:
        return self.imds.requests(endpoint="scheduledevents")

    def check_huge_retry_after(self, status: int) -> None:
        self.seed(pods=0, daemonsets=1)
        agent = self.start_agent()
        self.wait_ready(agent)
        self.imds.fault("status", status=status, count=1, headers={"Retry-After": "1000000000"})
        throttled = wait_until(lambda: [r for r in self.polls() if r.get("status") == status], 10,
                               f"the {status} answer")[0]
        # Azure announces a Preempt right after the throttled answer: the agent must see it
        # and cordon well inside the 30 s notice.
        self.imds.add_event("Preempt", not_before_in=30)
        self.wait_node(lambda n: n["spec"].get("unschedulable"), 25, "cordon after a huge Retry-After")
        after = [r for r in self.polls() if r["t_mono"] > throttled["t_mono"]]
        gap = after[0]["t_mono"] - throttled["t_mono"]
        print(f"\n  {status} with Retry-After 1e9: next poll after {gap:.2f}s", file=sys.stderr)
        # The poll schedule caps Retry-After at 5 s (unit-tested); 8 s leaves room for a slow box.
        self.assertLess(gap, 8.0)
        self.assert_no_crash(agent)

    def test_429_with_huge_retry_after(self):
        self.check_huge_retry_after(429)

    def test_503_with_huge_retry_after(self):
        self.check_huge_retry_after(503)


class HugeEventListTest(AgentTestCase):

    def test_one_mib_of_zero_events_is_one_bad_document(self):
        self.seed(pods=0, daemonsets=1)
        agent = self.start_agent()
        self.wait_ready(agent)
        rss_before = proc_status_kib(agent.proc.pid, "VmRSS")
        lines_before = len(agent.log_lines())
        body = zeros_document()
        self.assertLessEqual(len(body), MIB)
        self.imds.fault("raw", status=200, body=body)
        polls = 5
        wait_until(lambda: (agent.metric("aksnode_imds_requests_total", endpoint="scheduledevents",
                                         imds_endpoint="scheduledevents",
                                         result="bad_response") or 0) >= polls, 60, f"{polls} bad documents")
        hwm = proc_status_kib(agent.proc.pid, "VmHWM")
        rss = proc_status_kib(agent.proc.pid, "VmRSS")
        new_lines = len(agent.log_lines()) - lines_before
        print(f"\n  1 MiB zeros document x{polls}: RSS {rss_before / 1024:.1f} -> {rss / 1024:.1f} MiB, "
              f"peak {hwm / 1024:.1f} MiB, {new_lines} log lines", file=sys.stderr)
        # Before: 524,001 log lines per document and a 218 MiB peak.
        self.assertLess(new_lines, 20)
        if not sanitized_binary():
            self.assertLess(hwm, 64 * 1024, "peak RSS over 64 MiB")
            self.assertLess(rss, rss_before + 16 * 1024, "memory not given back")
        line = agent.find_log(lambda l: l.get("msg") == "IMDS Scheduled Events poll failed")
        self.assertIn("more than the 100", line["error"])
        # The next good document is acted on.
        self.imds.clear_faults()
        self.imds.add_event("Preempt", not_before_in=30)
        self.wait_node(lambda n: n["spec"].get("unschedulable"), 15, "cordon after the bad documents")
        self.assert_no_crash(agent)


if __name__ == "__main__":
    main()
