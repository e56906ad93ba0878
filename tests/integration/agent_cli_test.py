#!/usr/bin/env python3
"""The real agent's command line, exit codes, --once report, signals and HTTP surface
(docs/interface.md, docs/configuration.md).

Run: python3 tests/integration/agent_cli_test.py (AKSNODE_BINARY = the agent).
"""

import http.client
import json
import os
import re
import signal
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import AgentTestCase, clean_env, main, run_agent_command, wait_until  # noqa: E402


class CommandLineTest(AgentTestCase):

    def write(self, name: str, text: str) -> str:
        path = os.path.join(self.workdir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    # -- --version, flags --------------------------------------------------------------------------

    def test_version(self):
        r = run_agent_command(["--version"])
        self.assertEqual(r.returncode, 0, r.stderr)
        m = re.fullmatch(r"aks-node-agent (\S+) \(commit ([0-9a-f]{7,40}|unknown), (\w+), (amd64|arm64)\)\n", r.stdout)
        self.assertIsNotNone(m, f"--version printed {r.stdout!r}")
        self.assertRegex(m.group(1), r"^\d+\.\d+\.\d+")

    def test_unknown_flag_exits_2(self):
        r = run_agent_command(["--no-such-flag"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("--no-such-flag", r.stderr)
        self.assertEqual(r.stdout, "")

    def test_missing_node_name_exits_2(self):
        cfg = self.write("c.yaml", json.dumps(self.config()))
        r = run_agent_command(["--config", cfg], timeout=10)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("node", r.stderr.lower())

    # -- --check-config ---------------------------------------------------------------------------

    def test_check_config_valid_prints_effective_config(self):
        cfg = self.write("c.yaml", "imds:\n  endpoint: ${TEST_IMDS:-http://127.0.0.1:1}\n  pollInterval: 750ms\n"
                                   "drain:\n  timeout: 45s\n  skipNamespaces: [kube-system]\n")
        r = run_agent_command(["--config", cfg, "--check-config"], env=clean_env(TEST_IMDS="http://127.0.0.1:8080"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('endpoint: "http://127.0.0.1:8080"', r.stdout)  # ${VAR} expanded
        self.assertIn("pollInterval: 750ms", r.stdout)
        self.assertIn("timeout: 45s", r.stdout)
        self.assertIn("kube-system", r.stdout)
        # Defaults for everything not given.
        self.assertIn("Preempt: drain", r.stdout)
        self.assertIn("address: \"0.0.0.0:9810\"", r.stdout)
        # The printed config is itself a valid config that prints the same.
        again = self.write("again.yaml", r.stdout)
        r2 = run_agent_command(["--config", again, "--check-config"])
        self.assertEqual((r2.returncode, r2.stdout), (0, r.stdout), r2.stderr)

    def test_check_config_empty_file_is_valid(self):
        r = run_agent_command(["--config", self.write("empty.yaml", ""), "--check-config"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("pollInterval: 1s", r.stdout)

    def test_check_config_typo_exits_2_naming_the_key(self):
        cfg = self.write("typo.yaml", "imds:\n  pollIntervall: 1s\n")
        r = run_agent_command(["--config", cfg, "--check-config"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("imds.pollIntervall", r.stderr)
        self.assertIn("pollInterval", r.stderr.replace("pollIntervall", ""))  # the suggestion
        self.assertEqual(r.stdout, "")

    def test_check_config_bad_duration_exits_2_naming_the_key(self):
        cfg = self.write("bad.yaml", "drain:\n  timeout: thirty\n")
        r = run_agent_command(["--config", cfg, "--check-config"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("drain.timeout", r.stderr)
        self.assertIn("duration", r.stderr)

    def test_pod_grace_period_cap_zero_is_a_force_delete_and_refused(self):
        cfg = self.write("zero.yaml", "drain:\n  podGracePeriodCap: 0s\n")
        for args in (["--check-config"], ["--node-name", "n1"]):
            r = run_agent_command(["--config", cfg] + args, timeout=10)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn("drain.podGracePeriodCap: ", r.stderr)
            self.assertIn("force delete", r.stderr)
        ok = self.write("one.yaml", "drain:\n  podGracePeriodCap: 1s\n")
        r = run_agent_command(["--config", ok, "--check-config"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("podGracePeriodCap: 1s", r.stdout)

    def test_metrics_address_with_a_name_is_refused_by_check_config_and_at_start(self):
        # One parser: what --check-config accepts, the agent can bind.
        cfg = self.write("name.yaml", "metrics:\n  address: localhost:9810\n")
        for args in (["--check-config"], ["--node-name", "n1"]):
            r = run_agent_command(["--config", cfg] + args, timeout=10)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn("metrics.address: ", r.stderr)
            self.assertIn("IP address", r.stderr)

    def test_invalid_config_at_start_exits_2(self):
        cfg = self.write("bad.yaml", "kubernetes:\n  qps: lots\n")
        r = run_agent_command(["--config", cfg, "--node-name", "n1"], timeout=10)
        self.assertEqual(r.returncode, 2)
        self.assertIn("kubernetes.qps", r.stderr)

    # -- --once ----------------------------------------------------------------------------------

    def once_config(self, disk_path: str) -> str:
        cfg = self.config({"disks": [{"path": disk_path, "maxProbeLatency": "2s"}]})
        return self.write("once.yaml", json.dumps(cfg))

    def test_once_healthy(self):
        self.seed(pods=0, daemonsets=1)
        disk = os.path.join(self.workdir, "disk")
        os.mkdir(disk)
        ev = self.imds.add_event("Freeze", not_before_in=600)
        r = run_agent_command(["--config", self.once_config(disk), "--once", "--node-name", self.NODE_NAME])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        report = json.loads(r.stdout)
        self.assertIs(report["healthy"], True)
        self.assertEqual(report["node"], self.NODE_NAME)
        self.assertTrue(report["imds"]["ok"])
        self.assertEqual([e["eventId"] for e in report["imds"]["pendingEvents"]], [ev["EventId"]])
        self.assertEqual(report["vmResourceName"], self.VM_NAME)
        self.assertTrue(report["kubernetes"]["ok"])
        disks = [p for p in report["probes"] if p["kind"] == "disk"]
        self.assertEqual(len(disks), 1)
        self.assertTrue(disks[0]["healthy"], disks[0])
        self.assertEqual(disks[0]["target"], disk)
        # --once only reads: nothing written to the API server.
        self.assertEqual(self.mutating_requests(), [])

    def test_once_unhealthy_disk(self):
        self.seed(pods=0, daemonsets=1)
        missing = os.path.join(self.workdir, "no-such-mount")
        r = run_agent_command(["--config", self.once_config(missing), "--once", "--node-name", self.NODE_NAME])
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        report = json.loads(r.stdout)
        self.assertIs(report["healthy"], False)
        disks = [p for p in report["probes"] if p["kind"] == "disk"]
        self.assertEqual(len(disks), 1)
        self.assertFalse(disks[0]["healthy"])
        self.assertEqual(disks[0]["target"], missing)
        self.assertTrue(disks[0]["reason"])
        self.assertTrue(report["imds"]["ok"])  # only the disk is unhealthy

    def test_once_imds_down_is_unhealthy(self):
        self.imds.fault("status", status=500)
        self.imds.fault("status", endpoint="instance", status=500)
        r = run_agent_command(["--config", self.write("c.yaml", json.dumps(self.config(kubeconfig=""))), "--once"],
                              timeout=30)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        report = json.loads(r.stdout)
        self.assertFalse(report["healthy"])
        self.assertFalse(report["imds"]["ok"])
        self.assertEqual(report["imds"]["result"], "http_error")

    # -- signals and the process -------------------------------------------------------------------

    def test_sigterm_exits_0_within_2s(self):
        self.seed(pods=0, daemonsets=1)
        agent = self.start_agent()
        self.wait_ready(agent)
        rc = agent.terminate(5)
        self.assertEqual(rc, 0, agent.log_tail())
        self.assertLess(agent.exit_seconds, 2.0)
        agent.wait_log("aks-node-agent stopped", 1)

    def test_sigint_exits_0(self):
        agent = self.start_agent(kubeconfig="")
        agent.signal(signal.SIGINT)
        agent.proc.wait(5)
        self.assertEqual(agent.proc.returncode, 0, agent.log_tail())

    def test_sigterm_with_hung_imds_and_api_server_exits_within_2s(self):
        self.seed(pods=0, daemonsets=1)
        agent = self.start_agent({"imds": {"timeout": "30s"}})
        self.wait_ready(agent)
        # Both peers now hold requests open: the agent must abandon them. The event makes the
        # agent PATCH the node, which the API server holds for a minute.
        self.kube.fault(method="PATCH", path=f"^/api/v1/nodes/{self.NODE_NAME}$", delayMs=60000, count=-1)
        self.imds.add_event("Preempt", not_before_in=30)
        agent.wait_log("scheduled event for this VM", 10)
        self.imds.fault("hang")
        wait_until(lambda: any(r.get("fault") for r in self.imds.requests(endpoint="scheduledevents")), 10,
                   "a hung IMDS request")
        rc = agent.terminate(5)
        self.assertEqual(rc, 0, agent.log_tail())
        self.assertLess(agent.exit_seconds, 2.0)

    def test_metrics_port_in_use_exits_1(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            port = s.getsockname()[1]
            agent = self.start_agent({"metrics": {"address": f"127.0.0.1:{port}"}}, wait=False)
            agent.proc.wait(10)
        self.assertEqual(agent.proc.returncode, 1)
        self.assertTrue(agent.find_log(lambda l: l.get("level") == "error"), agent.log_tail())

    def test_node_name_from_environment(self):
        self.seed(pods=0, daemonsets=1)
        agent = self.start_agent(env=clean_env(NODE_NAME=self.NODE_NAME), node_name="")
        self.wait_ready(agent)
        self.assertEqual(agent.status()["nodeName"], self.NODE_NAME)

    # -- HTTP surface ----------------------------------------------------------------------------

    def test_http_endpoints(self):
        self.seed(pods=0, daemonsets=1)
        agent = self.start_agent()
        self.wait_ready(agent)
        self.assertEqual(agent.get("/healthz")[0], 200)
        self.assertEqual(agent.get("/readyz")[0], 200)
        self.assertEqual(agent.get("/nope")[0], 404)
        self.assertEqual(agent.get("/metrics/")[0], 404)
        status = agent.status()
        for key in ("node", "vmResourceName", "pendingEvents", "currentAction", "drain", "probes"):
            self.assertIn(key, status)
        m = agent.metrics()
        for family in ("aksnode_build_info", "aksnode_imds_requests_total", "aksnode_eviction_pending",
                       "aksnode_actions_total", "aksnode_drain_duration_seconds_count", "aksnode_pod_evictions_total",
                       "aksnode_kube_requests_total", "aksnode_node_cordoned",
                       "aksnode_eviction_not_before_timestamp_seconds"):
            self.assertTrue(m.has(family), f"{family} not exported from start-up")
        for result in ("ok", "http_error", "throttled", "timeout", "bad_response", "unreachable"):
            self.assertIsNotNone(m.value("aksnode_imds_requests_total", endpoint="scheduledevents",
                                         imds_endpoint="scheduledevents", result=result),
                                 result)
        # Headers over 8 KiB are refused; the server survives.
        conn = http.client.HTTPConnection("127.0.0.1", agent.port, timeout=5)
        try:
            conn.putrequest("GET", "/healthz")
            conn.putheader("X-Big", "a" * 9000)
            conn.endheaders()
            status = conn.getresponse().status
        except (ConnectionError, http.client.HTTPException):
            status = None  # closed without an answer: also a refusal
        finally:
            conn.close()
        self.assertNotEqual(status, 200)
        self.assertEqual(agent.get("/healthz")[0], 200)
        self.assert_no_crash(agent)


if __name__ == "__main__":
    main()
