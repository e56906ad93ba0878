#!/usr/bin/env python3
"""Bad configurations fail fast and small, and --check-config refuses what a run refuses
(arch/FAULTS.md, "Attacks on the running binary": the configuration rows).

* A 1 MiB `l: [a,a,...]` peaked at 246 MiB before exit 2: the YAML node count is bounded by a
  streaming pass before any tree is built.
* `kubernetes.qps: 1e-300` (or 1e308) was accepted and the agent never cordoned; unknown YAML
  tags were read as strings.
* `--check-config --node-name $'a\\nb'` passed, and the agent then refused that name.

Run: python3 tests/integration/agent_config_bounds_test.py (AKSNODE_BINARY = the agent).
"""

import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import (AgentTestCase, sanitized_binary, _die_with_parent, agent_binary, clean_env, main,  # noqa: E402
                           run_agent_command)

MIB = 1024 * 1024


def run_with_peak_rss(args: list, timeout: float = 60) -> tuple:
    """(exit code, stderr, peak RSS in KiB, seconds): the child is reaped with wait4, whose
    rusage is that one child's (Popen does not expose it)."""
    t0 = time.monotonic()
    proc = subprocess.Popen([agent_binary()] + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=clean_env(), preexec_fn=_die_with_parent)
    killer = threading.Timer(timeout, proc.kill)  # a hang ends as a failure, not a stuck test
    killer.start()
    try:
        stderr = proc.stderr.read().decode("utf-8", "replace")
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        killer.cancel()
        proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, stderr, usage.ru_maxrss, time.monotonic() - t0


class ConfigBoundsTest(AgentTestCase):
    START_KUBE = False

    def write(self, name: str, text: str) -> str:
        path = os.path.join(self.workdir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_a_mebibyte_yaml_list_fails_fast_and_small(self):
        text = "l: [a" + ",a" * ((MIB - 8) // 2) + "]\n"
        self.assertLessEqual(len(text), MIB)
        code, stderr, peak_kib, seconds = run_with_peak_rss(["--check-config", "--config", self.write("l.yaml", text)])
        print(f"\n  1 MiB `l: [a,a,...]`: exit {code} after {seconds:.2f}s, peak RSS {peak_kib / 1024:.1f} MiB",
              file=sys.stderr)
        self.assertEqual(code, 2, stderr)
        self.assertIn("more than 10000 YAML nodes", stderr)
        if not sanitized_binary():
            self.assertLess(peak_kib, 64 * 1024, "peak RSS over 64 MiB (246 MiB before the bound)")

    def check_config_refuses(self, yaml_text: str, *expected: str) -> None:
        r = run_agent_command(["--check-config", "--config", self.write("c.yaml", yaml_text)])
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        for e in expected:
            self.assertIn(e, r.stderr)

    def test_qps_out_of_range_is_refused(self):
        for qps in ("1e-300", "1e308", "0.001"):
            with self.subTest(qps=qps):
                self.check_config_refuses(f"kubernetes:\n  qps: {qps}\n", "kubernetes.qps", "between 1 and 10000")
        r = run_agent_command(["--check-config", "--config", self.write("ok.yaml", "kubernetes:\n  qps: 5\n")])
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_unknown_yaml_tags_are_refused(self):
        self.check_config_refuses("kubernetes:\n  kubeconfig: !vault kube/config\n", "unknown YAML tag")
        r = run_agent_command(["--check-config", "--config",
                               self.write("str.yaml", "kubernetes:\n  kubeconfig: !!str /etc/kc\n")])
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_check_config_refuses_a_node_name_the_agent_refuses(self):
        cfg = self.write("c.yaml", "")
        for bad in ("a\nb", "Not_A_Node", "a..b"):
            with self.subTest(name=bad):
                check = run_agent_command(["--check-config", "--config", cfg, "--node-name", bad])
                self.assertEqual(check.returncode, 2, check.stdout)
                self.assertIn("--node-name", check.stderr)
        ok = run_agent_command(["--check-config", "--config", cfg, "--node-name", "aks-spot-1"])
        self.assertEqual(ok.returncode, 0, ok.stderr)
        # And without any node name it is still only a check of the config.
        self.assertEqual(run_agent_command(["--check-config", "--config", cfg]).returncode, 0)


if __name__ == "__main__":
    main()
