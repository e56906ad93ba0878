#!/usr/bin/env python3
"""The README's main command works: tests/demo/spot_eviction_demo.py (what scripts/demo.sh runs)
against the real binary, real Prometheus and the fakes, non-interactively, with a small node.

Asserts the exit code, the timeline lines a user is promised (event visible, tainted, cordoned,
evictions, PDB refusals, drained, conditions), the metrics read back from Prometheus, and that
nothing it started is left running, after a normal end and after Ctrl-C.

Env: AKSNODE_BINARY (the agent), AKSNODE_SOURCE_DIR (the repository), as ctest sets them.
"""

import os
import re
import signal
import subprocess
import sys
import time
import unittest

SOURCE = os.environ.get("AKSNODE_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BINARY = os.environ.get("AKSNODE_BINARY") or os.path.join(SOURCE, "build", "aks-node-agent")
DEMO = os.path.join(SOURCE, "tests", "demo", "spot_eviction_demo.py")


def descendants(pid):
    """Every live process whose ancestry leads to pid."""
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        parents[int(entry)] = int(fields[1])
    out, frontier = set(), {pid}
    while frontier:
        children = {p for p, pp in parents.items() if pp in frontier and p not in out}
        out |= children
        frontier = children
    return out


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


class DemoTest(unittest.TestCase):
    def run_demo(self, *args, timeout=240):
        env = dict(os.environ, AKSNODE_BINARY=BINARY, NO_COLOR="1")
        p = subprocess.run([sys.executable, DEMO, *args], env=env, capture_output=True, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout + p.stderr

    def assert_nothing_left(self, out):
        agent_pid = int(re.search(r"is ready \(pid (\d+)\)", out).group(1))
        self.assertFalse(alive(agent_pid), "the agent is still running after the demo ended")
        workdir = re.search(r"working directory (\S+)", out).group(1)
        self.assertFalse(os.path.exists(workdir), "the demo left its working directory behind")

    def test_preempt_drains_the_node_and_tells_the_story(self):
        code, out = self.run_demo("--pods", "8", "--not-before", "20")
        self.assertEqual(code, 0, out)
        # The timeline, in the order it happened.
        expected = [
            r"t\+\s+0\.000s\s+Preempt event \S+ for VM aks-spot-\S+ is visible in IMDS",
            r"the agent's next IMDS poll returns it",
            r"tainted aks-node-agent/scheduled-event=Preempt:NoSchedule",
            r"cordoned: spec\.unschedulable=true accepted by the API server",
            r"node conditions written: .*PreemptionScheduled",
            r"drain started: 8 pods to evict, 5 skipped",
            r"evicted shop/checkout-",
            r"eviction of shop/checkout-\S+ refused: 429, PodDisruptionBudget checkout-pdb",
            r"evicted shop/checkout-\S+ \(after \d+ PDB refusals\)",
            r"DRAINED: 8 pods evicted in",
            r"annotation aks-node-agent/state: phase drained",
        ]
        # The local receiver got the eviction notice and the drain's result (docs/notifications.md).
        self.assertRegex(out, r"webhook notice received by the local receiver: ScheduledEvent \(HTTP 200\); "
                              r"cordon accepted -> notice received [+-]\d+\.\d ms")
        self.assertRegex(out, r"webhook notice received by the local receiver: DrainSucceeded \(HTTP 200\)")
        self.assertRegex(out, r"aksnode_notifications_total\s+ok=[2-9]\d*, error=0, timeout=0")
        notice_ms = float(re.search(r"cordon accepted -> notice received ([+-]\d+\.\d) ms", out).group(1))
        self.assertLess(abs(notice_ms), 1000, "the eviction notice did not leave within a second of the cordon")
        timeline = out[out.index("Timeline"):out.index("Node at the end")]
        for pattern in expected:
            self.assertRegex(timeline, pattern)
        times = [float(t) for t in re.findall(r"t\+\s*([0-9.]+)s", timeline)]
        self.assertEqual(times, sorted(times), "timeline out of order")
        cordon_t = float(re.search(r"t\+\s*([0-9.]+)s\s+cordoned", timeline).group(1))
        self.assertLess(cordon_t, 4.0, "cordon not within a few 1 s polls")
        self.assertEqual(len(re.findall(r"\bevicted shop/", timeline)), 8)
        # End state and the proof that Prometheus scraped the agent.
        self.assertRegex(out, r"condition\s+PreemptionScheduled=True \(SpotEvictionIncoming")
        self.assertRegex(out, r"pods left\s+5 \(5 DaemonSet/agent pods, 0 workload\)")
        self.assertRegex(out, r"from Prometheus \(http://127\.0\.0\.1:\d+\), PromQL:")
        self.assertRegex(out, r"max_over_time\(aksnode_eviction_pending\[5m\]\)\s+1\b")
        self.assertRegex(out, r"pods evicted\s+8\b")
        self.assertRegex(out, r"detection latency p99 \(histogram_quantile\)\s+0\.\d{3}")
        self.assertRegex(out, r"RESULT: OK: node \S+ cordoned, drained, VMEventScheduled=True and "
                              r"PreemptionScheduled=True")
        self.assert_nothing_left(out)

    def test_freeze_only_notifies(self):
        code, out = self.run_demo("--event-type", "Freeze", "--pods", "4", "--not-before", "20")
        self.assertEqual(code, 0, out)
        self.assertRegex(out, r"node conditions written: \S*VMEventScheduled")
        self.assertRegex(out, r"condition\s+VMEventScheduled=True \(VMEventScheduled: Freeze Scheduled: ")
        self.assertNotIn("cordoned: spec.unschedulable", out)
        self.assertRegex(out, r"spec\.unschedulable\s+False")
        self.assertIn("RESULT: OK: node", out)
        self.assertIn("left schedulable (notify), VMEventScheduled=True", out)
        self.assert_nothing_left(out)

    def test_ctrl_c_stops_everything(self):
        env = dict(os.environ, AKSNODE_BINARY=BINARY, NO_COLOR="1")
        p = subprocess.Popen([sys.executable, DEMO, "--pods", "4", "--not-before", "60", "--keep"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        out = []
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                line = p.stdout.readline()
                if not line:
                    break
                out.append(line)
                if line.startswith("injected "):
                    break
            text = "".join(out)
            self.assertIn("injected Preempt", text)
            started = descendants(p.pid)
            self.assertGreaterEqual(len(started), 4, "expected the fakes, Prometheus and the agent: " + text)
            p.send_signal(signal.SIGINT)
            rest, _ = p.communicate(timeout=30)
            text += rest
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertEqual(p.returncode, 130, text)
        self.assertIn("interrupted: stopping everything", text)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(alive(pid) for pid in started):
            time.sleep(0.1)  # polling for exits that have been signalled already
        self.assertEqual([pid for pid in started if alive(pid)], [], "processes left running after Ctrl-C")
        self.assert_nothing_left(text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
