#!/usr/bin/env python3
"""Fault matrix of the real agent, part two (arch/FAULTS.md): the node's own disks
and the workload identity token go bad, IMDS is down, and a 250-pod drain list comes in pages.

Disks are real filesystems, not mocks: a 4 MiB tmpfs filled to the last block (full), the same
remounted read-only, and an ext4 image on a loop device frozen with fsfreeze(8) (every write
blocks in the kernel until the thaw: a hung disk as the agent sees one). These rows need root
and mount(2); elsewhere they are skipped, saying why.

Each row asserts that the agent keeps running (and still acts on a Preempt where that proves the
event loop was not stalled), reports the fault (metric, node condition, Event, log) and recovers
when the fault ends.

Run: python3 tests/integration/agent_probe_faults_test.py (AKSNODE_BINARY = the agent).
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import AgentTestCase, FakeImds, clean_env, free_port, main, wait_until  # noqa: E402

HEALTH = {"healthInterval": "200ms", "healthThreshold": 1}
ISSUER = "https://oidc.prod-aks.azure.com/00000000-0000-0000-0000-000000000000/"
AUDIENCE = "api://AzureADTokenExchange"
SUBJECT = "system:serviceaccount:e6data:engine"


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=30)


def _can_mount() -> str:
    """'' when this process may mount filesystems, else why not."""
    if os.geteuid() != 0:
        return "needs root (mount)"
    probe = tempfile.mkdtemp(prefix="aksnode-mount-probe-")
    try:
        r = _run("mount", "-t", "tmpfs", "-o", "size=64k", "aksnode-probe", probe)
        if r.returncode != 0:
            return "mount -t tmpfs refused: " + r.stderr.strip()
        _run("umount", probe)
        return ""
    finally:
        os.rmdir(probe)


class DiskFaultsTest(AgentTestCase):
    """A full, a read-only and a hung disk, each on a real filesystem."""

    @classmethod
    def setUpClass(cls) -> None:
        why = _can_mount()
        if why:
            raise unittest.SkipTest(why)
        super().setUpClass()

    def setUp(self) -> None:
        super().setUp()
        self.frozen = None

    def tearDown(self) -> None:
        # Thaw before the agents are stopped: a thread blocked on a frozen filesystem cannot
        # exit, and neither can its process.
        self.thaw()
        super().tearDown()

    def mount(self, *argv: str) -> str:
        point = tempfile.mkdtemp(prefix="aksnode-disk-")
        r = _run("mount", *argv, point)
        if r.returncode != 0:
            os.rmdir(point)
            self.skipTest(f"mount {' '.join(argv)} failed: {r.stderr.strip()}")
        self.addCleanup(os.rmdir, point)
        self.addCleanup(_run, "umount", "-l", point)
        return point

    def thaw(self) -> None:
        if self.frozen:
            _run("fsfreeze", "-u", self.frozen)
            self.frozen = None

    def disk_config(self, path: str) -> dict:
        return {"disks": [{"path": path, "minFreeRatio": 0.10, "minFreeInodesRatio": 0.05, "writeProbe": True,
                           "maxProbeLatency": "500ms"}], **HEALTH}

    def healthy(self, agent, path: str):
        return agent.metric("aksnode_disk_healthy", path=path)

    def assert_recovers(self, agent, path: str) -> None:
        wait_until(lambda: self.healthy(agent, path) == 1, 15, "aksnode_disk_healthy back to 1")
        cond = self.wait_condition("LocalDiskProblem", "False", 15)
        self.assertEqual(cond["reason"], "LocalDiskHealthy")
        wait_until(lambda: self.node_events("DiskRecovered"), 10, "DiskRecovered Event")
        line = agent.wait_log(lambda l: l.get("reason") == "DiskRecovered", 10, "a DiskRecovered log line")
        self.assertIn(path, line["message"])

    def assert_preempt_still_acted_on(self, agent) -> None:
        """The event loop was not held up by the disk: a Preempt is still cordoned at once."""
        ev = self.imds.add_event("Preempt", not_before_in=30)
        node = self.wait_node(lambda n: n["spec"].get("unschedulable"), 10, "cordon while the disk is bad")
        self.assertEqual(self.agent_state(node)["eventId"], ev["EventId"])
        self.imds.clear()

    def test_disk_full(self):
        self.seed(pods=0, daemonsets=1)
        path = self.mount("-t", "tmpfs", "-o", "size=4m,nr_inodes=4096", "aksnode-ssd")
        agent = self.start_agent(self.disk_config(path))
        wait_until(lambda: self.healthy(agent, path) == 1, 10, "disk healthy at first")
        size = agent.metric("aksnode_disk_size_bytes", path=path)
        self.assertEqual(size, 4 << 20)

        # Fill it to the last block, as a runaway spill would.
        filler = os.path.join(path, "spill")
        r = _run("dd", "if=/dev/zero", f"of={filler}", "bs=64k")
        self.assertNotEqual(r.returncode, 0, "dd filled 4 MiB without ENOSPC: not a full disk")
        self.assertIn("No space left", r.stderr)

        wait_until(lambda: self.healthy(agent, path) == 0, 10, "aksnode_disk_healthy 0")
        self.assertEqual(agent.metric("aksnode_disk_free_bytes", path=path), 0)
        cond = self.wait_condition("LocalDiskProblem", "True", 10)
        self.assertEqual(cond["reason"], "LowSpace", cond)
        self.assertIn(path, cond["message"])
        event = wait_until(lambda: self.node_events("DiskUnhealthy"), 10, "DiskUnhealthy Event")[0]
        self.assertEqual(event["type"], "Warning")
        self.assertEqual(agent.metric("aksnode_disk_read_only", path=path), 0)
        self.assertEqual(agent.get("/healthz")[0], 200)
        self.assert_preempt_still_acted_on(agent)

        os.unlink(filler)
        self.assert_recovers(agent, path)
        self.assert_no_crash(agent)

    def test_condition_of_a_disk_removed_from_the_config_is_cleared(self):
        self.seed(pods=0, daemonsets=1)
        path = self.mount("-t", "tmpfs", "-o", "size=1m", "aksnode-ssd")
        self.assertNotEqual(_run("dd", "if=/dev/zero", f"of={path}/spill", "bs=64k").returncode, 0)
        first = self.start_agent(self.disk_config(path))
        self.assertEqual(self.wait_condition("LocalDiskProblem", "True", 10)["reason"], "LowSpace")
        self.assertEqual(first.terminate(5), 0)
        # The operator drops the disk from the config: the problem must not be claimed forever.
        second = self.start_agent({"disks": [], **HEALTH})
        cond = self.wait_condition("LocalDiskProblem", "False", 10)
        self.assertEqual(cond["reason"], "NotMonitored")
        self.assertIsNone(self.condition(self.node(), "CacheProblem"), "a condition never set appeared")
        self.assert_no_crash(second)

    def test_disk_read_only(self):
        self.seed(pods=0, daemonsets=1)
        path = self.mount("-t", "tmpfs", "-o", "size=4m", "aksnode-ssd")
        agent = self.start_agent(self.disk_config(path))
        wait_until(lambda: self.healthy(agent, path) == 1, 10, "disk healthy at first")

        # What the kernel does to ext4 on an I/O error with errors=remount-ro.
        self.assertEqual(_run("mount", "-o", "remount,ro", path).returncode, 0)
        wait_until(lambda: agent.metric("aksnode_disk_read_only", path=path) == 1, 10, "aksnode_disk_read_only 1")
        self.assertEqual(self.healthy(agent, path), 0)
        cond = self.wait_condition("LocalDiskProblem", "True", 10)
        self.assertEqual(cond["reason"], "ReadOnly", cond)
        wait_until(lambda: self.node_events("DiskUnhealthy"), 10, "DiskUnhealthy Event")
        self.assertEqual(agent.get("/healthz")[0], 200)

        self.assertEqual(_run("mount", "-o", "remount,rw", path).returncode, 0)
        wait_until(lambda: agent.metric("aksnode_disk_read_only", path=path) == 0, 10, "aksnode_disk_read_only 0")
        self.assert_recovers(agent, path)
        self.assert_no_crash(agent)

    def test_disk_hung(self):
        if not shutil.which("fsfreeze") or not shutil.which("mkfs.ext4"):
            self.skipTest("needs fsfreeze and mkfs.ext4 (util-linux, e2fsprogs)")
        self.seed(pods=0, daemonsets=1)
        image = os.path.join(self.workdir, "ssd.img")
        with open(image, "wb") as f:
            f.truncate(16 << 20)
        r = _run("mkfs.ext4", "-q", "-F", image)
        self.assertEqual(r.returncode, 0, r.stderr)
        path = self.mount("-o", "loop", image)
        agent = self.start_agent(self.disk_config(path))
        wait_until(lambda: self.healthy(agent, path) == 1, 10, "disk healthy at first")
        rounds = agent.metric("aksnode_disk_probe_duration_seconds_count", path=path)

        # Freeze: the probe's next write(2)/fsync(2) blocks in the kernel until the thaw.
        r = _run("fsfreeze", "-f", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.frozen = path
        cond = self.wait_condition("LocalDiskProblem", "True", 15)
        self.assertEqual(cond["reason"], "ProbeHung", cond)
        self.assertEqual(self.healthy(agent, path), 0)
        wait_until(lambda: self.node_events("DiskUnhealthy"), 10, "DiskUnhealthy Event")
        self.assertGreater(agent.metric("aksnode_disk_probe_duration_seconds_count", path=path), rounds)
        # The loop still turns: /healthz, /metrics and the scheduled-events path all answer.
        self.assertEqual(agent.get("/healthz")[0], 200)
        self.assert_preempt_still_acted_on(agent)
        # Still stuck (one thread, not one per round): the agent keeps reporting ProbeHung.
        threads_during = len(os.listdir(f"/proc/{agent.proc.pid}/task"))
        agent.wait_log(lambda l: l.get("reason") == "ProbeHung", 10, "a ProbeHung log line")

        self.thaw()
        self.assert_recovers(agent, path)
        threads_after = len(os.listdir(f"/proc/{agent.proc.pid}/task"))
        sys.stderr.write(f"\n  [numbers] threads while the disk hung: {threads_during}, after the thaw: "
                         f"{threads_after}\n")
        self.assertLessEqual(threads_during, threads_after + 1, "a thread per probe round piled up")
        self.assert_no_crash(agent)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(exp_in: float = 3600, iat_offset: float = -60, **claims) -> str:
    """A projected service-account token as the kubelet writes it (RS256 header; the signature
    is not checked here: verifySignature is off in these rows)."""
    now = int(time.time())
    body = {"aud": [AUDIENCE], "iss": ISSUER, "sub": SUBJECT, "iat": now + int(iat_offset),
            "nbf": now + int(iat_offset), "exp": now + int(exp_in)}
    body.update(claims)
    header = {"alg": "RS256", "kid": "test-key", "typ": "JWT"}
    return ".".join([b64url(json.dumps(header).encode()), b64url(json.dumps(body).encode()),
                     b64url(b"\x01" * 256)])


class IdentityFaultsTest(AgentTestCase):
    """The projected token missing, unreadable, garbage, expired; each then fixed."""

    def setUp(self) -> None:
        super().setUp()
        self.token_dir = os.path.join(self.workdir, "token")
        os.mkdir(self.token_dir)
        self.token_file = os.path.join(self.token_dir, "azure-identity-token")

    def write_token(self, text: str) -> None:
        # The kubelet's atomic writer: a new file renamed over the old one.
        tmp = self.token_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, self.token_file)

    CLIENT_ID = "11111111-2222-3333-4444-555555555555"
    TENANT_ID = "66666666-7777-8888-9999-000000000000"

    def webhook_env(self) -> dict:
        """What the workload identity webhook injects into the agent's own pod."""
        return clean_env(AZURE_CLIENT_ID=self.CLIENT_ID, AZURE_TENANT_ID=self.TENANT_ID,
                         AZURE_FEDERATED_TOKEN_FILE=self.token_file,
                         AZURE_AUTHORITY_HOST="https://login.microsoftonline.com/")

    def identity_config(self) -> dict:
        return {"identity": {"enabled": True, "tokenFile": self.token_file,
                             "clientId": self.CLIENT_ID, "tenantId": self.TENANT_ID,
                             "expectedIssuer": ISSUER, "expectedSubject": SUBJECT,
                             "minRemainingValidity": "10m", "clockSkew": "60s"}, **HEALTH}

    def checks(self, agent, reason: str) -> float:
        return agent.metric("aksnode_identity_checks_total", result=reason) or 0

    def fault_row(self, reason: str, user=None) -> None:
        self.seed(pods=0, daemonsets=1)
        agent = self.start_agent(self.identity_config(), env=self.webhook_env(), user=user)
        wait_until(lambda: self.checks(agent, reason) >= 2, 10, f"identity_checks_total{{result={reason!r}}} >= 2")
        self.assertEqual(agent.metric("aksnode_identity_token_valid"), 0)
        cond = self.wait_condition("WorkloadIdentityProblem", "True", 10)
        self.assertEqual(cond["reason"], reason, cond)
        event = wait_until(lambda: self.node_events("IdentityInvalid"), 10, "IdentityInvalid Event")[0]
        self.assertEqual(event["type"], "Warning")
        line = agent.wait_log(lambda l: l.get("reason") == reason, 10, f"a log line with reason {reason}")
        self.assertIn(self.token_file, json.dumps(line))
        self.assertEqual(agent.get("/healthz")[0], 200)

        # Fixed: the kubelet writes a good token.
        if os.path.isdir(self.token_file):
            os.rmdir(self.token_file)
        token = jwt()
        self.write_token(token)
        wait_until(lambda: agent.metric("aksnode_identity_token_valid") == 1, 10, "token valid again")
        cond = self.wait_condition("WorkloadIdentityProblem", "False", 10)
        self.assertEqual(cond["reason"], "WorkloadIdentityHealthy")
        wait_until(lambda: self.node_events("IdentityRecovered"), 10, "IdentityRecovered Event")
        self.assertGreaterEqual(self.checks(agent, "ok"), 1)
        # The token itself is never logged, exported or written to the Node.
        secret = token.split(".")[2]
        with open(agent.log_path, "rb") as f:
            self.assertNotIn(secret.encode(), f.read())
        self.assertNotIn(secret, agent.get("/metrics")[1])
        self.assertNotIn(secret, agent.get("/status")[1])
        self.assertNotIn(secret, json.dumps(self.node()) + json.dumps(self.node_events()))
        self.assert_no_crash(agent)

    def test_token_missing(self):
        self.fault_row("TokenFileMissing")

    def test_token_unreadable(self):
        self.write_token(jwt())
        os.chmod(self.token_file, 0)
        # Root reads a mode-000 file anyway: prove EACCES with the agent as nobody.
        self.fault_row("TokenFileUnreadable", user=65534 if os.geteuid() == 0 else None)

    def test_token_path_is_a_directory(self):
        os.mkdir(self.token_file)
        self.fault_row("TokenFileUnreadable")

    def test_token_is_a_fifo_that_nobody_writes(self):
        # open(2) of a FIFO blocks until a writer comes, unless O_NONBLOCK: must not hang the probe.
        os.mkfifo(self.token_file)
        self.fault_row("TokenFileUnreadable")

    def test_token_garbage(self):
        self.write_token("this is not a JWT \x00\xff\n")
        self.fault_row("TokenMalformed")

    def test_token_expired(self):
        self.write_token(jwt(exp_in=-3600, iat_offset=-7200))
        self.fault_row("TokenExpired")


class ImdsDownTest(AgentTestCase):
    """IMDS not listening at all (a node whose 169.254.169.254 route is broken), then back."""

    def test_imds_down_then_up(self):
        self.seed(pods=0, daemonsets=1)
        port = free_port()
        agent = self.start_agent({"imds": {"endpoint": f"http://127.0.0.1:{port}"}})
        count = lambda: agent.metric("aksnode_imds_requests_total", endpoint="scheduledevents",  # noqa: E731
                                     imds_endpoint="scheduledevents",
                                     result="unreachable") or 0
        wait_until(lambda: count() >= 2, 15, 'imds_requests_total{result="unreachable"} >= 2')
        code, body = agent.get("/readyz")
        self.assertEqual(code, 503)
        self.assertIn("IMDS", body)
        self.assertEqual(agent.status()["imds"]["lastResult"], "unreachable")
        self.assertEqual(agent.get("/healthz")[0], 200)
        agent.wait_log("IMDS Scheduled Events poll failed")

        imds = FakeImds.start(self.VM_NAME, "--port", str(port))
        try:
            agent.wait_log("IMDS Scheduled Events poll recovered", 15)
            self.wait_ready(agent)
            ev = imds.add_event("Preempt", not_before_in=30)
            node = self.wait_node(lambda n: n["spec"].get("unschedulable"), 10, "cordon once IMDS is back")
            self.assertEqual(self.agent_state(node)["eventId"], ev["EventId"])
        finally:
            imds.stop()
        self.assert_no_crash(agent)


class PagedDrainTest(AgentTestCase):
    """A 250-pod node whose pod list the API server returns in pages of 100."""

    def test_250_pods_over_three_pages(self):
        self.seed(pods=250, daemonsets=3, extraNodes=["spare-1"])
        self.kube.config(maxListPage=100)
        agent = self.start_agent()
        self.wait_ready(agent)
        seq = self.kube.last_request_seq()
        self.imds.add_event("Preempt", not_before_in=60)
        self.wait_phase("drained", 45)
        lists = [r for r in self.kube.requests(since=seq, method="GET")
                 if r["resource"] == "pods" and "fieldSelector" in (r.get("query") or "")]
        self.assertTrue(any("continue=" in r["query"] for r in lists), "the agent never followed a continue token")
        # The fake logs a request when its handler returns, which can be just after the agent's
        # LIST already shows the pod gone: wait for the log rather than read it once.

        names: set = set()

        def all_evicted() -> bool:
            evicted = self.kube.requests(since=seq, resource="pods/eviction", method="POST")
            names.clear()
            names.update(r["path"].split("/")[4] + "/" + r["name"] for r in evicted if r["status"] == 201)
            return len(names) >= 250
        try:
            wait_until(all_evicted, 5, "250 evictions in the fake's request log")
        except AssertionError:
            pass  # the count is reported below
        self.assertEqual(len(names), 250, "a pod on a later page was not evicted")
        left = [p for p in self.kube.pods_on(self.NODE_NAME) if p["metadata"]["namespace"] == "workloads"]
        self.assertEqual(left, [])
        self.assertEqual(agent.metric("aksnode_pod_evictions_total", result="evicted"), 250)
        self.assertEqual(agent.metric("aksnode_drain_pods_remaining"), 0)
        self.assert_no_crash(agent)


if __name__ == "__main__":
    main()
