#!/usr/bin/env python3
"""/healthz keeps answering under a connection flood (arch/FAULTS.md, "Attacks on the running binary").

Before the fix the metrics server kept at most 128 connections, refused newcomers and let idle
ones live 10 s: 130 idle sockets made /healthz answer 1 time in 40, 150 slowloris connections
made it fail for ~10 s, and nothing was logged or counted. Now the connection that has waited
longest for its request is shed for a newcomer, headers have a short deadline, and
`aksnode_http_server_connections_shed_total{reason}` counts what was closed.

Each test holds 2,000 attacking connections (re-opened as soon as the agent closes one) while
it probes /healthz like the kubelet does (a new connection per probe, a 2 s timeout).

Run: python3 tests/integration/agent_connection_flood_test.py (AKSNODE_BINARY = the agent).
"""

import errno
import http.client
import os
import resource
import selectors
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import AgentTestCase, main, wait_until  # noqa: E402

ATTACKERS = 2000
PROBES = 40
PROBE_TIMEOUT = 2.0
FLOOD_SECONDS_MAX = 60.0  # a bound on the attacker loop, whatever happens


def raise_fd_limit(needed: int) -> None:
    """The attackers need a descriptor each; the soft limit is often 1024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise unittest.SkipTest(f"RLIMIT_NOFILE hard limit {hard} < {needed}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


class Flood(threading.Thread):
    """ATTACKERS connections to the port, re-opened when closed. slowloris: each sends a partial
    request and one more header byte now and then; otherwise they send nothing."""

    def __init__(self, port: int, slowloris: bool):
        super().__init__(daemon=True)
        self.port, self.slowloris = port, slowloris
        self.stop_flag = threading.Event()
        self.ready = threading.Event()
        self.opened = 0
        self.closed_by_peer = 0
        self.sel = selectors.DefaultSelector()

    def open_one(self) -> None:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex(("127.0.0.1", self.port))
        if err not in (0, errno.EINPROGRESS):
            s.close()
            return
        self.sel.register(s, selectors.EVENT_READ, {"sent": False})
        self.opened += 1

    def run(self) -> None:
        deadline = time.monotonic() + FLOOD_SECONDS_MAX
        try:
            for _ in range(ATTACKERS):
                self.open_one()
            self.ready.set()
            last_drip = time.monotonic()
            while not self.stop_flag.is_set() and time.monotonic() < deadline:
                for key, _ in self.sel.select(timeout=0.2):
                    s = key.fileobj
                    try:
                        data = s.recv(4096)
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:
                        data = b""
                    if not data:  # the agent closed it: come back at once
                        self.sel.unregister(s)
                        s.close()
                        self.closed_by_peer += 1
                        self.open_one()
                if self.slowloris and time.monotonic() - last_drip >= 1.0:
                    last_drip = time.monotonic()
                    for key in list(self.sel.get_map().values()):
                        s, state = key.fileobj, key.data
                        try:
                            s.send(b"X-a: b\r\n" if state["sent"] else b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                            state["sent"] = True
                        except OSError:
                            pass
        finally:
            self.ready.set()
            for key in list(self.sel.get_map().values()):
                key.fileobj.close()
            self.sel.close()


def probe(port: int) -> tuple:
    t0 = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=PROBE_TIMEOUT)
    try:
        conn.request("GET", "/healthz")
        status = conn.getresponse().status
    except OSError:
        status = None
    finally:
        conn.close()
    return status, time.monotonic() - t0


class ConnectionFloodTest(AgentTestCase):
    START_KUBE = False

    @classmethod
    def setUpClass(cls) -> None:
        raise_fd_limit(ATTACKERS + 1024)
        super().setUpClass()

    def flood_and_probe(self, slowloris: bool) -> None:
        agent = self.start_agent(kubeconfig="")
        flood = Flood(agent.port, slowloris)
        flood.start()
        try:
            self.assertTrue(flood.ready.wait(30), "attackers not connected")
            # The flood is churning: the agent is closing attackers' connections for newcomers.
            wait_until(lambda: flood.closed_by_peer >= 128, 30, "the agent closing attackers' connections")
            results = []
            for _ in range(PROBES):
                results.append(probe(agent.port))
                time.sleep(0.05)  # probe pacing, not synchronisation
            ok = [t for s, t in results if s == 200]
            kind = "slowloris" if slowloris else "idle"
            print(f"\n  {ATTACKERS} {kind} connections: /healthz {len(ok)}/{PROBES} answered, "
                  f"slowest {max(t for _, t in results):.3f}s, agent closed {flood.closed_by_peer}",
                  file=sys.stderr)
            self.assertEqual(len(ok), PROBES, f"/healthz failed {PROBES - len(ok)} of {PROBES} times")
        finally:
            flood.stop_flag.set()
            flood.join(FLOOD_SECONDS_MAX)
        shed = agent.metrics().series("aksnode_http_server_connections_shed_total")
        self.assertGreater(sum(shed.values()), 0, shed)
        self.assertTrue(agent.find_log(lambda l: l.get("msg", "").startswith("metrics server closed a connection")))
        self.assert_no_crash(agent)
        return shed

    def test_two_thousand_idle_connections(self):
        shed = self.flood_and_probe(slowloris=False)
        self.assertGreater(shed.get((("reason", "idle"),), 0), 0)

    def test_two_thousand_slowloris_connections(self):
        shed = self.flood_and_probe(slowloris=True)
        self.assertGreater(shed.get((("reason", "idle"),), 0) + shed.get((("reason", "header_timeout"),), 0), 0)


if __name__ == "__main__":
    main()
