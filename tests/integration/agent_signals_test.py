#!/usr/bin/env python3
"""Signals other than SIGTERM/SIGINT never kill the agent silently (arch/FAULTS.md, "Attacks on the
running binary").

SIGPIPE is ignored (a write to a closed socket or log pipe is an error, not a death); SIGHUP,
SIGUSR1, SIGUSR2, SIGQUIT and SIGALRM are logged and ignored. Before the fix each of them
killed the process without a log line (SIGQUIT with a core dump).

Run: python3 tests/integration/agent_signals_test.py (AKSNODE_BINARY = the agent).
"""

import os
import signal
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import (AgentTestCase, _die_with_parent, agent_binary, clean_env, free_port,  # noqa: E402
                           main, wait_until)

LOGGED_AND_IGNORED = (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGQUIT, signal.SIGALRM)


class SignalsTest(AgentTestCase):
    START_KUBE = False

    def test_sigpipe_is_ignored(self):
        agent = self.start_agent(kubeconfig="")
        agent.proc.send_signal(signal.SIGPIPE)
        # Still serving after the signal was delivered: /healthz answers a request made after it.
        self.assertEqual(agent.get("/healthz")[0], 200)
        self.assertIsNone(agent.proc.poll())

    def test_other_signals_are_logged_and_ignored(self):
        agent = self.start_agent(kubeconfig="")
        for sig in LOGGED_AND_IGNORED:
            with self.subTest(signal=sig.name):
                agent.proc.send_signal(sig)
                agent.wait_log(lambda l, n=sig.name: l.get("msg", "").startswith("signal ignored")
                               and l.get("signal") == n, 5, f"a log line for {sig.name}")
                self.assertEqual(agent.get("/healthz")[0], 200)
        self.assert_no_crash(agent)
        # SIGTERM still stops it, cleanly.
        self.assertEqual(agent.terminate(5), 0, agent.log_tail())

    def test_log_pipe_closed_by_its_reader(self):
        # The log collector goes away: every later log line is a write to a pipe without a
        # reader. With SIGPIPE's default action the first such line killed the agent.
        port = free_port()
        cfg = os.path.join(self.workdir, "c.yaml")
        with open(cfg, "w") as f:
            f.write(f'imds: {{endpoint: "{self.imds.url}", pollInterval: 500ms, timeout: 1s}}\n'
                    f'metrics: {{address: "127.0.0.1:{port}"}}\ndisks: []\ncaches: []\n'
                    'identity: {enabled: false}\n')
        proc = subprocess.Popen([agent_binary(), "--config", cfg, "--node-name", self.NODE_NAME],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                env=clean_env(), preexec_fn=_die_with_parent)
        try:
            def healthz():
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    return r.status == 200
            wait_until(healthz, 15, "/healthz 200")
            proc.stderr.close()
            # Make it log: one IMDS failure (a warning), then its recovery (an info line).
            self.imds.fault("status", status=500, count=1)
            n = len(self.imds.requests(endpoint="scheduledevents"))
            wait_until(lambda: len(self.imds.requests(endpoint="scheduledevents")) > n + 2, 10,
                       "IMDS polls after the log pipe closed")
            self.assertIsNone(proc.poll(), f"agent died with {proc.returncode}")
            self.assertTrue(healthz())
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(5), 0)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    main()
