"""Shared helper for the integration tests of the real aks-node-agent binary against the fakes.

Python standard library only. What it gives a test:

    from agent_harness import AgentTestCase, wait_until

    class MyTest(AgentTestCase):
        VM_NAME = "aks-spot-1"             # compute.name the fake IMDS reports
        NODE_NAME = "aks-spot-1"           # the Node the fake API server holds

        def test_x(self):
            self.seed(pods=5)                          # POST /fake/seed for NODE_NAME
            agent = self.start_agent(config={"drain": {"timeout": "20s"}})
            ev = self.imds.add_event("Preempt", not_before_in=30)
            wait_until(lambda: self.node()["spec"].get("unschedulable"), 10, "cordon")
            self.assertEqual(agent.metrics().value("aksnode_eviction_pending"), 1)

* The fakes (fake_imds.py, fake_apiserver.py) start once per test class and are reset before
  every test; each test starts its own agent(s), which are stopped after the test.
* The agent is AKSNODE_BINARY (ctest sets it), else <repo>/build/aks-node-agent. Its metrics
  server listens on 127.0.0.1:0; the port is read from its start-up log line, so there is no
  race for a free port. Logs are JSON lines on stderr, kept in a file and parsed on demand.
* Every process started here dies with the test process (PR_SET_PDEATHSIG) and is stopped
  in tearDown / at exit in any case.
* Synchronisation is by polling observable state (wait_until), never by sleeping.
"""

from __future__ import annotations

import atexit
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from typing import Any, Callable, Iterable, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.environ.get("AKSNODE_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "fakes"))

from imds_control import FakeImds  # noqa: E402
from fakeapi.client import FakeKube  # noqa: E402


def agent_binary() -> str:
    path = os.environ.get("AKSNODE_BINARY") or os.path.join(REPO, "build", "aks-node-agent")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"agent binary {path} not found: build it or set AKSNODE_BINARY")
    return path


_sanitized: Optional[bool] = None


def sanitized_binary() -> bool:
    """True for an ASan/TSan build of the agent: its memory figures (shadow memory, the
    quarantine of freed blocks) say nothing about the agent's own, so memory bounds do not
    apply to it; every other assertion does."""
    global _sanitized
    if _sanitized is None:
        with open(agent_binary(), "rb") as f:
            data = f.read()
        _sanitized = b"__asan_init" in data or b"__tsan_init" in data
    return _sanitized


# -- waiting ----------------------------------------------------------------------------------

def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition",
               interval: float = 0.05) -> Any:
    """Poll predicate until it returns something truthy and return that; AssertionError at the
    deadline, naming what was awaited and the last value or exception seen."""
    deadline = time.monotonic() + timeout
    last: Any = None
    last_exc: Optional[BaseException] = None
    while True:
        try:
            last = predicate()
            last_exc = None
            if last:
                return last
        except (OSError, ValueError, KeyError, TypeError, IndexError, AssertionError, urllib.error.URLError) as exc:
            last_exc = exc
        if time.monotonic() >= deadline:
            detail = f"last error: {last_exc!r}" if last_exc else f"last value: {last!r}"
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what} ({detail[:2000]})")
        time.sleep(interval)  # polling interval, not synchronisation


class AgentDied(Exception):
    """An agent that should be running exited: no point waiting any longer."""


def free_port() -> int:
    """A port that was free a moment ago (for things that cannot listen on port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- Prometheus text --------------------------------------------------------------------------

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$')
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')


def _unescape(v: str) -> str:
    return v.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def parse_metrics(text: str) -> dict:
    """{(name, ((label, value), ...sorted)): float} from Prometheus text format 0.0.4."""
    out: dict = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise ValueError(f"unparseable metrics line: {line!r}")
        name, labels_text, value = m.groups()
        labels = tuple(sorted((k, _unescape(v)) for k, v in _LABEL.findall(labels_text or "")))
        out[(name, labels)] = float(value)
    return out


class Metrics:
    """One scrape of /metrics."""

    def __init__(self, text: str):
        self.text = text
        self.samples = parse_metrics(text)

    def series(self, name: str, **labels: str) -> dict:
        """Every series of name whose labels include the given ones: {labels tuple: value}."""
        want = set(labels.items())
        return {lab: v for (n, lab), v in self.samples.items() if n == name and want <= set(lab)}

    def value(self, name: str, **labels: str) -> Optional[float]:
        """The value of the one series of name with exactly these labels (None if absent)."""
        return self.samples.get((name, tuple(sorted(labels.items()))))

    def sum(self, name: str, **labels: str) -> float:
        """The sum over every series of name whose labels include the given ones."""
        return sum(self.series(name, **labels).values())

    def has(self, name: str) -> bool:
        return any(n == name for n, _ in self.samples)


# -- processes ----------------------------------------------------------------------------------

_live_processes: list = []
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


@atexit.register
def _kill_leftovers() -> None:
    for p in list(_live_processes):
        if p.poll() is None:
            p.kill()
            p.wait()


def run_agent_command(args: list, timeout: float = 30, env: Optional[dict] = None,
                      input_text: Optional[str] = None) -> subprocess.CompletedProcess:
    """Run the binary to completion (--version, --check-config, --once)."""
    return subprocess.run([agent_binary()] + list(args), capture_output=True, text=True, timeout=timeout,
                          env=env if env is not None else clean_env(), input=input_text,
                          preexec_fn=_die_with_parent)


def clean_env(**extra: str) -> dict:
    """The environment for the agent: the test's, minus anything that would point it at a real
    cluster or identity, plus extra."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KUBERNETES_", "AZURE_", "NODE_NAME", "POD_NAME", "POD_NAMESPACE"))
           and k not in ("KUBECONFIG",)}
    env.update(extra)
    return env


def deep_merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for k, v in override.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


class AgentProcess:
    """One running aks-node-agent with its config file, log file and HTTP endpoints."""

    def __init__(self, workdir: str, config: dict, args: Iterable[str] = (), env: Optional[dict] = None,
                 name: str = "agent", user: Optional[int] = None):
        self.workdir = workdir
        self.config = config
        self.config_path = os.path.join(workdir, f"{name}-config.yaml")
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.stdout_path = os.path.join(workdir, f"{name}.stdout")
        with open(self.config_path, "w") as f:
            json.dump(config, f, indent=2)  # JSON is YAML
        self.args = [agent_binary(), "--config", self.config_path, "--log-format", "json"] + list(args)
        self._log = open(self.log_path, "wb")
        self._stdout = open(self.stdout_path, "wb")
        self.started_at = time.monotonic()
        if user is not None:
            # Run as another uid (a root test process proving a permission error): it must be
            # able to reach its config in the workdir; the log files are opened here already.
            os.chmod(workdir, 0o755)
            os.chmod(self.config_path, 0o644)
        self.proc = subprocess.Popen(self.args, stdout=self._stdout, stderr=self._log, stdin=subprocess.DEVNULL,
                                     env=env if env is not None else clean_env(), preexec_fn=_die_with_parent,
                                     user=user)
        _live_processes.append(self.proc)
        self.port: Optional[int] = None
        self.exit_seconds: Optional[float] = None
        self.expect_exit = False  # set when the test stops it on purpose

    def check_alive(self) -> None:
        """Raise AgentDied (which wait_until does not swallow) if it exited unexpectedly."""
        if not self.expect_exit and self.proc.poll() is not None:
            raise AgentDied(f"agent exited with {self.proc.returncode}; log tail:\n{self.log_tail(40)}")

    # -- lifecycle -------------------------------------------------------------------------------

    def wait_serving(self, timeout: float = 15.0) -> "AgentProcess":
        """Wait until the metrics server announced its port and /healthz answers 200."""
        def announced():
            if self.proc.poll() is not None:
                raise RuntimeError(f"agent exited with {self.proc.returncode} during start-up:\n{self.log_tail()}")
            line = self.find_log(lambda e: e.get("msg", "").startswith("serving /metrics"))
            return line and int(line["port"])
        try:
            self.port = wait_until(announced, timeout, "the agent's metrics server")
            wait_until(lambda: self.get("/healthz")[0] == 200, timeout, "/healthz 200")
        except RuntimeError as exc:
            raise AssertionError(str(exc)) from None
        return self

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal(self, sig: int) -> None:
        self.expect_exit = True
        if self.alive():
            self.proc.send_signal(sig)

    def terminate(self, timeout: float = 10.0) -> Optional[int]:
        """SIGTERM; returns the exit code (SIGKILL and None if it did not exit in time).
        exit_seconds is how long it took."""
        self.expect_exit = True
        if self.proc.poll() is None:
            t0 = time.monotonic()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
                self.exit_seconds = time.monotonic() - t0
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        self._close_files()
        return self.proc.returncode

    def kill(self) -> None:
        self.expect_exit = True
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close_files()

    def _close_files(self) -> None:
        for f in (self._log, self._stdout):
            if not f.closed:
                f.close()
        if self.proc in _live_processes and self.proc.poll() is not None:
            _live_processes.remove(self.proc)

    # -- HTTP ------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self.port, "wait_serving() first"
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str, timeout: float = 5.0) -> tuple:
        """(status, body text) of GET path on the agent's HTTP server."""
        self.check_alive()
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")

    def metrics(self) -> Metrics:
        status, body = self.get("/metrics")
        if status != 200:
            raise AssertionError(f"/metrics answered {status}")
        return Metrics(body)

    def status(self) -> dict:
        status, body = self.get("/status")
        if status != 200:
            raise AssertionError(f"/status answered {status}")
        return json.loads(body)

    def metric(self, name: str, **labels: str) -> Optional[float]:
        return self.metrics().value(name, **labels)

    # -- logs ------------------------------------------------------------------------------------

    def log_lines(self) -> list:
        """Every log line so far, parsed (a line that is not JSON becomes {"msg": ..., "raw": True})."""
        out = []
        with open(self.log_path, "rb") as f:
            data = f.read().decode("utf-8", "replace")
        for line in data.splitlines():
            line = line.strip()
            if not line:
                continue
            try:
                doc = json.loads(line)
                if not isinstance(doc, dict):
                    raise ValueError
            except ValueError:
                doc = {"msg": line, "raw": True}
            out.append(doc)
        return out

    def find_log(self, predicate: Callable[[dict], bool]) -> Optional[dict]:
        for line in self.log_lines():
            if predicate(line):
                return line
        return None

    def logs_with(self, msg: str) -> list:
        return [l for l in self.log_lines() if msg in l.get("msg", "")]

    def wait_log(self, predicate, timeout: float = 10.0, what: Optional[str] = None) -> dict:
        """Wait for a log line: predicate is a message substring or a function of the parsed line."""
        pred = predicate if callable(predicate) else (lambda l: predicate in l.get("msg", ""))
        return wait_until(lambda: self.find_log(pred), timeout, what or f"log line {predicate!r}")

    def log_tail(self, n: int = 60) -> str:
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def crash_lines(self) -> list:
        """Lines that show a crash: glibc heap checks, sanitizers, terminate()."""
        marks = ("malloc", "corrupted", "double free", "AddressSanitizer", "runtime error",
                 "terminate called", "Segmentation", "Aborted", "free():")
        return [l["msg"] for l in self.log_lines() if l.get("raw") and any(m in l["msg"] for m in marks)]


# -- the test base ------------------------------------------------------------------------------

def base_config(imds_url: str, kubeconfig: Optional[str]) -> dict:
    """A config for tests: fast polling (within IMDS's 5 requests/s), no disks/caches/identity,
    metrics on an ephemeral loopback port."""
    cfg: dict = {
        "imds": {"endpoint": imds_url, "pollInterval": "500ms", "timeout": "1s"},
        "kubernetes": {"kubeconfig": kubeconfig or ""},
        "drain": {"timeout": "60s", "deadlineMargin": "1s", "evictionRetryInterval": "500ms"},
        "disks": [],
        "caches": [],
        "identity": {"enabled": False},
        "metrics": {"address": "127.0.0.1:0"},
    }
    return cfg


class AgentTestCase(unittest.TestCase):
    """Fakes per class (reset before each test), agents per test, cleanup guaranteed."""

    VM_NAME = "aks-spot-1"
    NODE_NAME = "aks-spot-1"
    GRACE_SCALE = 0.01
    START_KUBE = True

    imds: FakeImds
    kube: Optional[FakeKube]

    @classmethod
    def setUpClass(cls) -> None:
        agent_binary()
        cls.imds = FakeImds.start(cls.VM_NAME)
        cls.kube = None
        try:
            if cls.START_KUBE:
                cls.kube = FakeKube.start(grace_scale=cls.GRACE_SCALE)
        except Exception:
            cls.imds.stop()
            raise

    @classmethod
    def tearDownClass(cls) -> None:
        if cls.kube:
            cls.kube.close()
        cls.imds.stop()

    def setUp(self) -> None:
        self.workdir = tempfile.mkdtemp(prefix="aksnode-it-")
        self.agents: list = []
        self.imds.reset()
        if self.kube:
            self.kube.reset()
            self.kube.config(graceScale=self.GRACE_SCALE, unschedulableTaintMs=100)
            self.kubeconfig = self.kube.write_kubeconfig(os.path.join(self.workdir, "kubeconfig"))
        else:
            self.kubeconfig = None

    def tearDown(self) -> None:
        failed = self._test_failed()
        for a in self.agents:
            a.terminate(5)
            crashes = a.crash_lines()
            if failed or crashes:
                sys.stderr.write(f"\n--- {self.id()}: agent log {a.log_path} (tail) ---\n{a.log_tail(80)}\n")
        if not failed:
            shutil.rmtree(self.workdir, ignore_errors=True)
        else:
            sys.stderr.write(f"--- kept {self.workdir}\n")

    def _test_failed(self) -> bool:
        # unittest records an error or failure in the result before tearDown runs.
        result = getattr(getattr(self, "_outcome", None), "result", None)
        if result is None:
            return False
        return any(t is self for t, _ in list(result.errors) + list(result.failures))

    # -- helpers ---------------------------------------------------------------------------------

    def seed(self, node: Optional[str] = None, **spec: Any) -> dict:
        assert self.kube
        return self.kube.seed(node=node or self.NODE_NAME, **spec)

    def node(self, name: Optional[str] = None) -> dict:
        assert self.kube
        return self.kube.node(name or self.NODE_NAME)

    def check_agents(self) -> None:
        """Fail at once if an agent of this test died (a crash must not look like a slow agent)."""
        for a in self.agents:
            a.check_alive()

    def wait_node(self, predicate: Callable[[dict], Any], timeout: float = 10.0, what: str = "node state",
                  name: Optional[str] = None) -> dict:
        """Poll the Node in the fake API server until predicate(node) holds; return the node."""
        def check():
            self.check_agents()
            n = self.node(name)
            return n if predicate(n) else None
        return wait_until(check, timeout, what)

    def wait_phase(self, phase: Any, timeout: float = 30.0, name: Optional[str] = None) -> dict:
        """Wait until the agent's state annotation has this phase (or one of these phases)."""
        phases = (phase,) if isinstance(phase, str) else tuple(phase)
        return self.wait_node(lambda n: (self.agent_state(n) or {}).get("phase") in phases, timeout,
                              f"annotation phase {'/'.join(phases)}", name)

    def wait_condition(self, ctype: str, status: str, timeout: float = 10.0, name: Optional[str] = None) -> dict:
        node = self.wait_node(lambda n: (self.condition(n, ctype) or {}).get("status") == status, timeout,
                              f"{ctype}={status}", name)
        return self.condition(node, ctype)

    def config(self, overrides: Optional[dict] = None, kubeconfig: Any = True) -> dict:
        kc = self.kubeconfig if kubeconfig is True else kubeconfig
        return deep_merge(base_config(self.imds.url, kc), overrides or {})

    def start_agent(self, config: Optional[dict] = None, args: Iterable[str] = (), env: Optional[dict] = None,
                    node_name: Optional[str] = None, kubeconfig: Any = True, wait: bool = True,
                    raw_config: Optional[dict] = None, user: Optional[int] = None) -> AgentProcess:
        """Start an agent for NODE_NAME (node_name="" passes no --node-name) with base_config +
        config; wait until /healthz is 200."""
        cfg = raw_config if raw_config is not None else self.config(config, kubeconfig)
        argv = ([] if node_name == "" else ["--node-name", node_name or self.NODE_NAME]) + list(args)
        agent = AgentProcess(self.workdir, cfg, argv, env, name=f"agent{len(self.agents)}", user=user)
        self.agents.append(agent)
        if wait:
            agent.wait_serving()
        return agent

    def wait_ready(self, agent: AgentProcess, timeout: float = 15.0) -> None:
        wait_until(lambda: agent.get("/readyz")[0] == 200, timeout, "/readyz 200")

    def assert_no_crash(self, agent: AgentProcess) -> None:
        self.assertTrue(agent.alive(), f"agent exited with {agent.proc.returncode}:\n{agent.log_tail()}")
        self.assertEqual(agent.crash_lines(), [])

    # Node inspection.
    @staticmethod
    def taints(node: dict) -> list:
        return node.get("spec", {}).get("taints") or []

    @staticmethod
    def has_taint(node: dict, key: str, value: Optional[str] = None, effect: Optional[str] = None) -> bool:
        return any(t.get("key") == key and (value is None or t.get("value") == value)
                   and (effect is None or t.get("effect") == effect) for t in AgentTestCase.taints(node))

    @staticmethod
    def condition(node: dict, ctype: str) -> Optional[dict]:
        for c in node.get("status", {}).get("conditions") or []:
            if c.get("type") == ctype:
                return c
        return None

    @staticmethod
    def agent_state(node: dict) -> Optional[dict]:
        raw = (node.get("metadata", {}).get("annotations") or {}).get("aks-node-agent/state")
        return json.loads(raw) if raw else None

    def node_events(self, reason: Optional[str] = None) -> list:
        assert self.kube
        items = self.kube.events("default")
        return [e for e in items if reason is None or e.get("reason") == reason]

    def mutating_requests(self, since: int = 0) -> list:
        assert self.kube
        return [r for r in self.kube.requests(since=since) if r["method"] in ("PATCH", "POST", "PUT", "DELETE")]


def main() -> None:
    """unittest.main with verbose output; exits non-zero on any failure."""
    unittest.main(verbosity=2)
