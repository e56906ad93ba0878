#!/usr/bin/env python3
"""Input files that are not regular files (arch/FAULTS.md, "Attacks on the running binary").

A FIFO, a device or a socket given as the config or the kubeconfig is refused with a clear
error. Before the fix `--check-config --config FIFO` waited forever for a writer, and
`kubernetes.kubeconfig: FIFO` blocked the agent's only thread at start-up (no /healthz).

Run: python3 tests/integration/agent_special_files_test.py (AKSNODE_BINARY = the agent).
"""

import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import AgentTestCase, main, run_agent_command, wait_until  # noqa: E402

# Far longer than a refusal takes; a blocked open never returns.
COMMAND_TIMEOUT = 20


class SpecialFilesTest(AgentTestCase):
    START_KUBE = False

    def fifo(self, name: str) -> str:
        path = os.path.join(self.workdir, name)
        os.mkfifo(path)
        return path

    def check_config(self, path: str) -> subprocess.CompletedProcess:
        try:
            return run_agent_command(["--check-config", "--config", path], timeout=COMMAND_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.fail(f"--check-config --config {path} did not return in {COMMAND_TIMEOUT}s")

    def test_check_config_refuses_a_fifo(self):
        r = self.check_config(self.fifo("config.yaml"))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("FIFO", r.stderr)
        self.assertEqual(r.stdout, "")

    def test_check_config_refuses_a_character_device(self):
        r = self.check_config("/dev/zero")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("character device", r.stderr)

    def test_check_config_refuses_a_socket(self):
        path = os.path.join(self.workdir, "config.sock")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.bind(path)
            s.listen(1)
            r = self.check_config(path)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("socket", r.stderr)

    def test_kubeconfig_fifo_is_refused_and_the_agent_keeps_serving(self):
        fifo = self.fifo("kubeconfig")
        agent = self.start_agent(kubeconfig=fifo)  # waits for /healthz 200
        status, body = agent.get("/readyz")
        self.assertEqual(status, 503)
        self.assertIn("FIFO", body)
        self.assertIn("FIFO", agent.status()["kubernetes"]["lastError"])
        # IMDS is still watched.
        wait_until(lambda: agent.metric("aksnode_imds_requests_total", endpoint="scheduledevents",
                                        imds_endpoint="scheduledevents", result="ok"),
                   10, "an IMDS poll")
        self.assert_no_crash(agent)


if __name__ == "__main__":
    main()
