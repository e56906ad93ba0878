#!/usr/bin/env python3
"""Fault matrix of the real agent (arch/FAULTS.md): every fake IMDS fault mode and
the API server failing, absent or not configured. Each row asserts that the agent keeps running,
reports the fault (metric, log, /readyz or /status) and recovers when the fault ends.

Run: python3 tests/integration/agent_faults_test.py (AKSNODE_BINARY = the agent).
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import AgentTestCase, FakeKube, free_port, main, wait_until  # noqa: E402


def imds_count(agent, result: str, endpoint: str = "scheduledevents") -> float:
    return agent.metric("aksnode_imds_requests_total", endpoint=endpoint, imds_endpoint=endpoint,
                        result=result) or 0


class ImdsFaultsTest(AgentTestCase):
    """One row per fake IMDS fault mode on the Scheduled Events endpoint."""

    def fault_row(self, mode: str, result: str, min_failures: int = 2, **params) -> None:
        self.seed(pods=0, daemonsets=1)
        agent = self.start_agent()
        self.wait_ready(agent)
        before = imds_count(agent, result)
        self.imds.fault(mode, **params)
        # The right label moves, more than once (the agent keeps polling through the fault).
        wait_until(lambda: imds_count(agent, result) >= before + min_failures, 25,
                   f'imds_requests_total{{endpoint="scheduledevents",result="{result}"}} +{min_failures}')
        self.assertEqual(agent.get("/healthz")[0], 200, "event loop stalled during the fault")
        failed = agent.wait_log("IMDS Scheduled Events poll failed")
        self.assertEqual(failed.get("result"), result, failed)
        st = agent.status()
        self.assertEqual(st["imds"]["lastResult"], result)
        self.assertGreaterEqual(st["imds"]["consecutiveFailures"], min_failures)
        self.assertTrue(st["imds"]["lastError"])
        self.assertEqual(agent.metric("aksnode_eviction_pending"), 0)
        self.assertFalse(self.node()["spec"].get("unschedulable"), "acted on a faulty IMDS answer")

        self.imds.clear_faults()
        agent.wait_log("IMDS Scheduled Events poll recovered", 15)
        ev = self.imds.add_event("Preempt", not_before_in=30)
        node = self.wait_node(lambda n: n["spec"].get("unschedulable"), 10, "cordon after the fault cleared")
        self.assertEqual(self.agent_state(node)["eventId"], ev["EventId"])
        self.assertEqual(agent.metric("aksnode_eviction_pending"), 1)
        self.assert_no_crash(agent)

    def test_status_400(self):
        self.fault_row("status", "http_error", status=400)

    def test_status_404(self):
        self.fault_row("status", "http_error", status=404)

    def test_status_410(self):
        self.fault_row("status", "http_error", status=410)

    def test_status_429(self):
        self.fault_row("status", "throttled", status=429)

    def test_status_500(self):
        self.fault_row("status", "http_error", status=500)

    def test_slow_beyond_timeout(self):
        self.fault_row("slow", "timeout", delayMs=2500)

    def test_slow_dribbled_body_beyond_timeout(self):
        self.fault_row("slow", "timeout", delayMs=2500, dribble=True)

    def test_hang(self):
        self.fault_row("hang", "timeout")

    def test_connection_reset(self):
        self.fault_row("reset", "unreachable")

    def test_truncated(self):
        # Content-Length promises more than arrives, then the connection closes: a broken answer.
        self.fault_row("truncated", "bad_response")

    def test_malformed(self):
        self.fault_row("malformed", "bad_response")

    def test_malformed_trailing_garbage(self):
        self.fault_row("malformed", "bad_response", variant="trailing")

    def test_huge(self):
        self.fault_row("huge", "bad_response")

    def test_huge_chunked(self):
        self.fault_row("huge", "bad_response", transfer="chunked")

    def test_wrong_types(self):
        self.fault_row("wrong_types", "bad_response")

    def test_missing_fields(self):
        self.fault_row("missing_fields", "bad_response")

    def test_empty_body(self):
        self.fault_row("empty_body", "bad_response")

    def test_html(self):
        self.fault_row("html", "bad_response")

    def test_events_that_only_look_like_ours_are_not_acted_on(self):
        # Resources as a string containing the VM name, as numbers, or null: the event is skipped
        # alone (the document is fine), counted as invalid, never acted on.
        self.seed(pods=0, daemonsets=1)
        agent = self.start_agent()
        self.wait_ready(agent)
        seq = self.kube.last_request_seq()
        for variant in ("resources_string", "resources_numbers", "resources_null", "eventid_number"):
            with self.subTest(variant=variant):
                before = agent.metric("aksnode_scheduled_events_ignored_total", reason="invalid")
                fault = self.imds.fault("wrong_types", variant=variant)
                wait_until(lambda: agent.metric("aksnode_scheduled_events_ignored_total", reason="invalid") > before,
                           10, f"ignored{{reason=invalid}} for {variant}")
                self.assertEqual(agent.metric("aksnode_eviction_pending"), 0)
                self.imds.clear_faults(fault["id"])
        self.assertFalse(self.node()["spec"].get("unschedulable"))
        self.assertEqual([r for r in self.mutating_requests(seq) if r["resource"] == "nodes"], [])
        self.assertGreater(imds_count(agent, "ok"), 0)
        self.assert_no_crash(agent)


class KubeFaultsTest(AgentTestCase):
    """The API server failing, absent, or not configured."""

    def test_api_server_not_running(self):
        port = free_port()
        kubeconfig = os.path.join(self.workdir, "dead-kubeconfig")
        with open(kubeconfig, "w") as f:
            f.write('{"apiVersion":"v1","kind":"Config","current-context":"c",'
                    f'"clusters":[{{"name":"c","cluster":{{"server":"http://127.0.0.1:{port}"}}}}],'
                    '"users":[{"name":"u","user":{}}],'
                    '"contexts":[{"name":"c","context":{"cluster":"c","user":"u"}}]}')
        agent = self.start_agent(kubeconfig=kubeconfig)
        wait_until(lambda: imds_count(agent, "ok") >= 2, 10, "IMDS polls")
        code, body = agent.get("/readyz")
        self.assertEqual(code, 503)
        self.assertIn("Kubernetes API server", body)
        wait_until(lambda: agent.metrics().sum("aksnode_kube_requests_total", code="error") >= 2, 15,
                   "failed API server requests counted")
        self.imds.add_event("Preempt", not_before_in=30)
        wait_until(lambda: agent.metric("aksnode_eviction_pending") == 1, 10, "eviction_pending 1 without an API server")
        st = agent.status()
        self.assertEqual(len(st["pendingEvents"]), 1)
        self.assertFalse(st["kubernetes"]["ready"])
        self.assertTrue(st["kubernetes"]["lastError"])
        self.assertEqual(agent.get("/healthz")[0], 200)
        self.assertEqual(agent.get("/readyz")[0], 503)
        agent.wait_log("cannot read the node")
        self.assert_no_crash(agent)

    def test_api_server_killed_then_back(self):
        port = free_port()
        kube = FakeKube.start("--port", str(port), grace_scale=0.01)
        try:
            kube.seed(node=self.NODE_NAME, pods=0, daemonsets=1)
            kubeconfig = kube.write_kubeconfig(os.path.join(self.workdir, "own-kubeconfig"))
            agent = self.start_agent(kubeconfig=kubeconfig)
            self.wait_ready(agent)
        finally:
            kube.close()
        # Down: the event arrives while nobody can be told.
        errors = agent.metrics().sum("aksnode_kube_requests_total", code="error")
        self.imds.add_event("Preempt", not_before_in=30)
        wait_until(lambda: agent.metric("aksnode_eviction_pending") == 1, 10, "eviction_pending 1")
        wait_until(lambda: agent.metrics().sum("aksnode_kube_requests_total", code="error") > errors, 15,
                   "failed requests to the dead API server counted")
        self.assertEqual(agent.get("/healthz")[0], 200)
        wait_until(lambda: agent.status()["kubernetes"]["lastError"], 15, "/status kubernetes.lastError")
        t_down = time.monotonic()
        # Back on the same address (state lost, like a restored control plane from backup).
        kube = FakeKube.start("--port", str(port), grace_scale=0.01)
        try:
            kube.seed(node=self.NODE_NAME, pods=0, daemonsets=1)
            wait_until(lambda: kube.node(self.NODE_NAME)["spec"].get("unschedulable"), 15,
                       "cordon once the API server is back")
            sys.stderr.write(f"\n  [numbers] API server back -> cordon {time.monotonic() - t_down:.2f}s "
                             f"(reconcile backoff caps at 5 s)\n")
            self.assertEqual(agent.get("/readyz")[0], 200)
            self.assert_no_crash(agent)
        finally:
            kube.close()

    def _wait_cordon_through(self, agent, what: str) -> dict:
        self.imds.add_event("Preempt", not_before_in=30)
        return self.wait_node(lambda n: n["spec"].get("unschedulable") and self.agent_state(n), 20, what)

    def test_patch_500_is_retried(self):
        self.seed(pods=0, daemonsets=1)
        agent = self.start_agent()
        self.wait_ready(agent)
        seq = self.kube.last_request_seq()
        self.kube.fault(method="PATCH", path=f"^/api/v1/nodes/{self.NODE_NAME}$", status=500, count=3)
        self._wait_cordon_through(agent, "cordon through three 500s")
        answers = [r["status"] for r in self.kube.requests(since=seq, method="PATCH") if r["resource"] == "nodes"]
        self.assertEqual(answers[:3], [500, 500, 500])
        self.assertIn(200, answers[3:])
        self.assertGreaterEqual(agent.metric("aksnode_kube_requests_total", verb="patch", resource="nodes",
                                             code="5xx"), 3)
        self.assert_no_crash(agent)

    def test_patch_429_with_retry_after_is_honoured(self):
        self.seed(pods=0, daemonsets=1)
        agent = self.start_agent()
        self.wait_ready(agent)
        seq = self.kube.last_request_seq()
        self.kube.fault(method="PATCH", path=f"^/api/v1/nodes/{self.NODE_NAME}$", status=429, retryAfter=1, count=1)
        self._wait_cordon_through(agent, "cordon after a 429")
        patches = [r for r in self.kube.requests(since=seq, method="PATCH") if r["resource"] == "nodes"]
        self.assertEqual(patches[0]["status"], 429)
        self.assertEqual(patches[1]["status"], 200)
        gap = patches[1]["t"] - patches[0]["t"]
        self.assertGreaterEqual(gap, 0.9, "Retry-After: 1 not honoured")
        self.assertLess(gap, 5.0)
        self.assertEqual(agent.metric("aksnode_kube_requests_total", verb="patch", resource="nodes", code="429"), 1)
        self.assert_no_crash(agent)

    def test_patch_403_is_reported_then_recovers(self):
        self.seed(pods=0, daemonsets=1)
        agent = self.start_agent()
        self.wait_ready(agent)
        self.kube.fault(method="PATCH", path=f"^/api/v1/nodes/{self.NODE_NAME}$", status=403, count=2)
        self._wait_cordon_through(agent, "cordon once the 403s stop")
        line = agent.wait_log("cannot update the node")
        self.assertIn("403", line["error"])
        m = agent.metrics()
        self.assertGreaterEqual(m.value("aksnode_actions_total", action="cordon", result="error", dry_run="false"), 1)
        self.assertEqual(m.value("aksnode_actions_total", action="cordon", result="success", dry_run="false"), 1)
        self.assertEqual(m.value("aksnode_kube_requests_total", verb="patch", resource="nodes", code="4xx"), 2)
        self.assert_no_crash(agent)

    def test_get_node_connection_reset_mid_body(self):
        self.seed(pods=0, daemonsets=1)
        self.kube.fault(method="GET", path=f"^/api/v1/nodes/{self.NODE_NAME}$", reset=True, count=3)
        agent = self.start_agent()
        self.wait_ready(agent)
        self.assertEqual([f for f in self.kube.faults() if f.get("remaining", 0) > 0], [])
        self._wait_cordon_through(agent, "cordon after resets")
        self.assert_no_crash(agent)

    def test_token_rotation_after_401(self):
        token_file = os.path.join(self.workdir, "token")
        with open(token_file, "w") as f:
            f.write("token-1\n")
        kubeconfig = os.path.join(self.workdir, "token-kubeconfig")
        with open(kubeconfig, "w") as f:
            f.write('{"apiVersion":"v1","kind":"Config","current-context":"c",'
                    f'"clusters":[{{"name":"c","cluster":{{"server":"{self.kube.url}"}}}}],'
                    f'"users":[{{"name":"u","user":{{"tokenFile":"{token_file}"}}}}],'
                    '"contexts":[{"name":"c","context":{"cluster":"c","user":"u"}}]}')
        self.seed(pods=0, daemonsets=1)
        self.kube.set_tokens("token-1")
        self.addCleanup(setattr, self.kube, "token", None)
        self.kube.token = "token-1"  # what the test's own requests send
        agent = self.start_agent(kubeconfig=kubeconfig)
        self.wait_ready(agent)
        # Rotate: the server accepts only the new token, the file already holds it.
        with open(token_file + ".new", "w") as f:
            f.write("token-2\n")
        os.replace(token_file + ".new", token_file)
        self.kube.set_tokens("token-2")
        self.kube.token = "token-2"
        seq = self.kube.last_request_seq()
        self._wait_cordon_through(agent, "cordon with the rotated token")
        agent_requests = [r for r in self.kube.requests(since=seq) if r["userAgent"].startswith("aks-node-agent")]
        self.assertIn(401, [r["status"] for r in agent_requests], "the old token was never refused: test is void")
        patches = [r["status"] for r in agent_requests if r["method"] == "PATCH"]
        self.assertIn(200, patches)
        self.assert_no_crash(agent)

    def test_not_configured_at_all(self):
        agent = self.start_agent(kubeconfig="")
        wait_until(lambda: imds_count(agent, "ok") >= 1, 10, "IMDS polls")
        code, body = agent.get("/readyz")
        self.assertEqual(code, 503)
        self.assertIn("not configured", body)
        self.imds.add_event("Preempt", not_before_in=30)
        wait_until(lambda: agent.metric("aksnode_eviction_pending") == 1, 10, "eviction_pending 1")
        m = agent.metrics()
        self.assertTrue(m.has("aksnode_build_info"))
        self.assertEqual(m.value("aksnode_scheduled_events_seen_total", event_type="Preempt"), 1)
        self.assertEqual(m.sum("aksnode_kube_requests_total"), 0)
        st = agent.status()
        self.assertFalse(st["kubernetes"]["configured"])
        self.assertIn("not configured", st["kubernetes"]["lastError"])
        self.assertEqual(len(st["pendingEvents"]), 1)
        self.assertEqual(agent.get("/healthz")[0], 200)
        agent.wait_log("no Kubernetes API server configured")
        self.assertEqual(self.kube.requests(), [], "the agent talked to an API server it was not given")
        self.assert_no_crash(agent)


if __name__ == "__main__":
    main()
