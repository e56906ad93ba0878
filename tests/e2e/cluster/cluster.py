"""A real Kubernetes control plane on loopback: etcd, kube-apiserver (RBAC and Node
authorizer, service-account issuer), kube-controller-manager (every default controller),
kube-scheduler and kwok (simulated kubelets), on free ports, with a self-made PKI.

    from cluster import ControlPlane
    with ControlPlane.start(bin_dir, work_dir) as cp:      # bin_dir from build.sh
        cp.kubectl("get", "nodes")
        cp.api.get("/api/v1/nodes")

Every process started here is stopped by its PID (SIGTERM, then SIGKILL) and dies with the
test process in any case (PR_SET_PDEATHSIG). Python standard library and openssl only.

    python3 tests/e2e/cluster/cluster.py BIN_DIR WORK_DIR     # start, print how to use, wait for ^C
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Callable, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from kube_api import KubeApi  # noqa: E402
from pki import Pki, kubeconfig, make_pki  # noqa: E402

SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"

# Every request of a service account in namespace aks-node-agent (the agent under test),
# with its body: the suite checks what the agent actually sent (eviction preconditions,
# LISTs served from the watch cache), which no client-side log can prove.
AUDIT_POLICY = """apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Request
    userGroups: ["system:serviceaccounts:aks-node-agent"]
  - level: None
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def wait_for(predicate: Callable[[], object], timeout: float, what: str,
             check: Optional[Callable[[], None]] = None) -> object:
    """Poll until predicate() is truthy; check() may raise to stop early (a process died)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        if check:
            check()
        try:
            last = predicate()
            if last:
                return last
        except (OSError, ValueError, KeyError) as exc:
            last = exc
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")
        time.sleep(0.1)  # polling interval


class ControlPlane:
    def __init__(self, bin_dir: str, work_dir: str):
        self.bin_dir = bin_dir
        self.dir = work_dir
        self.procs: list[tuple[str, subprocess.Popen]] = []
        os.makedirs(self.dir, exist_ok=True)
        self.pki: Pki = make_pki(os.path.join(self.dir, "pki"))
        self.port = free_port()
        self.server = f"https://127.0.0.1:{self.port}"
        self.kubeconfigs = {
            user: kubeconfig(self.pki, self.server, user, os.path.join(self.dir, f"{user}.kubeconfig"))
            for user in ("admin", "controller-manager", "scheduler", "kwok")
        }
        self.admin_kubeconfig = self.kubeconfigs["admin"]
        self.api = KubeApi(self.server, self.pki.ca, self.pki.cert("admin"), self.pki.key("admin"))

    # -- lifecycle ------------------------------------------------------------------------------

    @classmethod
    def start(cls, bin_dir: str, work_dir: str, timeout: float = 120) -> "ControlPlane":
        cp = cls(bin_dir, work_dir)
        try:
            cp._start_etcd(timeout)
            cp._start_apiserver(timeout)
            cp._start_controllers()
            cp._start_kwok()
            # The ServiceAccount controller makes `default` in each namespace; pods are refused
            # before it exists.
            wait_for(lambda: cp.api.get("/api/v1/namespaces/default/serviceaccounts/default")[0] == 200,
                     timeout, "the default ServiceAccount (controller-manager running)", cp.check)
        except BaseException:
            cp.stop()
            raise
        return cp

    def __enter__(self) -> "ControlPlane":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(os.path.join(self.dir, f"{name}.log"), "wb")
        proc = subprocess.Popen([os.path.join(self.bin_dir, args[0])] + args[1:], stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                preexec_fn=_die_with_parent, cwd=self.dir)
        log.close()
        self.procs.append((name, proc))
        return proc

    def check(self) -> None:
        """Raise if a component exited (its log tail says why)."""
        for name, proc in self.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log_tail(name)}")

    def log_tail(self, name: str, n: int = 30) -> str:
        try:
            with open(os.path.join(self.dir, f"{name}.log"), "rb") as f:
                return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop what was started, newest first, by PID: SIGTERM, then SIGKILL after 10 s."""
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for name, proc in reversed(self.procs):
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()

    # -- components -----------------------------------------------------------------------------

    def _start_etcd(self, timeout: float) -> None:
        client, peer = free_port(), free_port()
        self.etcd_url = f"http://127.0.0.1:{client}"
        self._spawn("etcd", [
            "etcd", "--name=e2e", f"--data-dir={os.path.join(self.dir, 'etcd')}",
            f"--listen-client-urls={self.etcd_url}", f"--advertise-client-urls={self.etcd_url}",
            f"--listen-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-cluster=e2e=http://127.0.0.1:{peer}",
            "--unsafe-no-fsync", "--log-level=warn", "--quota-backend-bytes=4294967296",
        ])

        def healthy() -> bool:
            import urllib.request
            with urllib.request.urlopen(self.etcd_url + "/health", timeout=2) as r:
                return b'"true"' in r.read()
        wait_for(healthy, timeout, "etcd /health", self.check)

    def _start_apiserver(self, timeout: float) -> None:
        p = self.pki
        policy = os.path.join(self.dir, "audit-policy.yaml")
        with open(policy, "w") as f:
            f.write(AUDIT_POLICY)
        self.audit_log = os.path.join(self.dir, "audit.log")
        self._spawn("kube-apiserver", [
            "kube-apiserver", f"--etcd-servers={self.etcd_url}",
            "--bind-address=127.0.0.1", f"--secure-port={self.port}", "--advertise-address=127.0.0.1",
            # A loopback advertise address is refused by the Endpoints reconciler.
            "--endpoint-reconciler-type=none",
            f"--tls-cert-file={p.cert('apiserver')}", f"--tls-private-key-file={p.key('apiserver')}",
            f"--client-ca-file={p.ca}",
            # RBAC is what enforces the ClusterRole the project ships.
            "--authorization-mode=Node,RBAC",
            "--service-cluster-ip-range=10.0.0.0/24",
            f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
            f"--service-account-key-file={p.path('sa.pub')}",
            f"--service-account-signing-key-file={p.path('sa.key')}",
            f"--cert-dir={os.path.join(self.dir, 'apiserver-certs')}",
            f"--audit-policy-file={policy}", f"--audit-log-path={self.audit_log}",
            "--audit-log-format=json", "--audit-log-mode=blocking",
            "--profiling=false", "--v=1",
        ])
        wait_for(lambda: self.api.get("/readyz")[0] == 200, timeout, "kube-apiserver /readyz", self.check)

    def _start_controllers(self) -> None:
        p = self.pki
        kcm = self.kubeconfigs["controller-manager"]
        self._spawn("kube-controller-manager", [
            "kube-controller-manager", f"--kubeconfig={kcm}",
            f"--authentication-kubeconfig={kcm}", f"--authorization-kubeconfig={kcm}",
            "--bind-address=127.0.0.1", f"--secure-port={free_port()}", "--leader-elect=false",
            "--use-service-account-credentials",
            f"--service-account-private-key-file={p.path('sa.key')}", f"--root-ca-file={p.ca}",
            # Every default controller: disruption (PDB status), replicaset, statefulset,
            # daemonset, node-lifecycle, taint-eviction, podgc, serviceaccount, ...
            "--controllers=*",
            # Creating 250 replicas at the default 20 QPS takes 12 s of the suite's time.
            "--kube-api-qps=500", "--kube-api-burst=1000", "--concurrent-replicaset-syncs=10",
            "--v=1",
        ])
        sch = self.kubeconfigs["scheduler"]
        self._spawn("kube-scheduler", [
            "kube-scheduler", f"--kubeconfig={sch}",
            f"--authentication-kubeconfig={sch}", f"--authorization-kubeconfig={sch}",
            "--bind-address=127.0.0.1", f"--secure-port={free_port()}", "--leader-elect=false",
            "--kube-api-qps=500", "--kube-api-burst=1000", "--v=1",
        ])

    def _start_kwok(self) -> None:
        self._spawn("kwok", [
            "kwok", f"--kubeconfig={self.kubeconfigs['kwok']}",
            f"--config={os.path.join(self.bin_dir, 'kwok-stages.yaml')}",
            "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            "--node-ip=127.0.0.1", "--node-lease-duration-seconds=40",
            f"--server-address=127.0.0.1:{free_port()}",
        ])

    # -- clients --------------------------------------------------------------------------------

    def kubectl(self, *args: str, kubeconfig: Optional[str] = None, input: Optional[str] = None,
                check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        env = dict(os.environ, KUBECONFIG=kubeconfig or self.admin_kubeconfig)
        r = subprocess.run([os.path.join(self.bin_dir, "kubectl"), *args], env=env, input=input,
                           capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed ({r.returncode}):\n{r.stderr}{r.stdout}")
        return r

    def audit(self, user: str) -> list:
        """The audit events of `user` so far (blocking mode: written before the answer)."""
        out = []
        with open(self.audit_log, "rb") as f:
            for line in f:
                ev = json.loads(line)
                if ev.get("user", {}).get("username") == user:
                    out.append(ev)
        return out

    def version(self) -> dict:
        status, body = self.api.get("/version")
        assert status == 200, body
        return body


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with ControlPlane.start(sys.argv[1], sys.argv[2]) as cp:
        print(f"control plane up: {cp.version().get('gitVersion')} at {cp.server}")
        print(f"export KUBECONFIG={cp.admin_kubeconfig}")
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
