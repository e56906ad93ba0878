"""What every end-to-end scenario shares: one real control plane for the whole run, the
shipped manifests installed with `kubectl apply -k deploy/base`, one fake IMDS, and the real
agent binary running as the shipped ServiceAccount.

The control plane is started once (setUpModule in e2e_test.py) because it takes ~10 s; each
scenario works on its own Nodes and namespace, so scenarios do not see each other's pods.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from typing import Any, Callable, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "cluster"))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.path.insert(0, os.path.join(REPO, "tests", "fakes"))

import yaml  # noqa: E402  (python3-yaml: the shipped config is YAML)

from agent_harness import AgentProcess, clean_env, deep_merge, wait_until  # noqa: E402
from cluster import ControlPlane  # noqa: E402
from imds_control import FakeImds  # noqa: E402
from kube_api import STRATEGIC  # noqa: E402
from nodes import AksNode  # noqa: E402

AGENT_NS = "aks-node-agent"
AGENT_SA = "aks-node-agent"
AGENT_USER = f"system:serviceaccount:{AGENT_NS}:{AGENT_SA}"
AGENT_FIELD_MANAGER_HINT = "aks-node-agent"


_HTTP_403 = re.compile(r"(?<![0-9A-Za-z.:-])403(?![0-9A-Za-z-])")


class Env:
    """The shared world of one run."""
    cp: ControlPlane
    imds: FakeImds
    work: str
    shipped_config: dict
    agent_kubeconfig: str
    version: dict


ENV = Env()


def start_world() -> None:
    bin_dir = os.environ.get("AKSNODE_E2E_BIN")
    if not bin_dir:
        bin_dir = subprocess.run([os.path.join(HERE, "cluster", "build.sh")], check=True,
                                 capture_output=True, text=True).stdout.strip().splitlines()[-1]
    ENV.work = tempfile.mkdtemp(prefix="aksnode-e2e-")
    t0 = time.monotonic()
    ENV.cp = ControlPlane.start(bin_dir, os.path.join(ENV.work, "cluster"))
    version = ENV.version = ENV.cp.version()
    print(f"e2e: control plane {version.get('gitVersion')} ({version.get('platform')}) up in "
          f"{time.monotonic() - t0:.1f} s at {ENV.cp.server}; logs in {ENV.cp.dir}", flush=True)
    # The real manifests: Namespace, ServiceAccount, ClusterRole(+Binding), events Role,
    # ConfigMap, DaemonSet, Service.
    ENV.cp.kubectl("apply", "-k", os.path.join(REPO, "deploy", "base"))
    cms = ENV.cp.api.must("GET", f"/api/v1/namespaces/{AGENT_NS}/configmaps")["items"]
    cm = next(c for c in cms if c["metadata"]["name"].startswith("aks-node-agent-config"))
    ENV.shipped_config = yaml.safe_load(cm["data"]["config.yaml"])
    token = ENV.cp.kubectl("create", "token", AGENT_SA, "-n", AGENT_NS, "--duration=3h").stdout.strip()
    from pki import kubeconfig
    ENV.agent_kubeconfig = kubeconfig(ENV.cp.pki, ENV.cp.server, AGENT_SA,
                                      os.path.join(ENV.work, "agent.kubeconfig"), token=token)
    ENV.imds = FakeImds.start("aks-e2e-default_0")


def stop_world() -> None:
    imds = getattr(ENV, "imds", None)
    if imds:
        imds.stop()
    cp = getattr(ENV, "cp", None)
    if cp:
        cp.stop()


def agent_config(imds_url: str, node: str, overrides: Optional[dict] = None) -> dict:
    """The shipped ConfigMap's config, pointed at the fake IMDS and the loopback API server,
    with the probes that need a real node's disks and identity off, plus overrides."""
    cfg = deep_merge(ENV.shipped_config, {
        "nodeName": node,
        "imds": {"endpoint": imds_url, "pollInterval": "500ms", "timeout": "1s"},
        "kubernetes": {"kubeconfig": ENV.agent_kubeconfig},
        "drain": {"evictionRetryInterval": "500ms"},
        "disks": [], "caches": [],
        "identity": {"enabled": False},
        "metrics": {"address": "127.0.0.1:0"},
    })
    return deep_merge(cfg, overrides or {})


class E2ECase(unittest.TestCase):
    """A scenario: its own namespace and nodes; agents stopped and checked afterwards."""

    def setUp(self) -> None:
        self.cp = ENV.cp
        self.api = ENV.cp.api
        self.workdir = tempfile.mkdtemp(prefix="agent-", dir=ENV.work)
        self.agents: list[AgentProcess] = []
        self.threads: list[threading.Thread] = []
        self.node_names: list[str] = []
        self.namespaces: list[str] = []

    def tearDown(self) -> None:
        for a in self.agents:
            a.terminate()
        for a in self.agents:
            # The agent needs nothing beyond the shipped RBAC: no 403 anywhere in its life.
            forbidden = [l for l in a.log_lines() if any(
                isinstance(v, str) and (_HTTP_403.search(v) or "forbidden" in v.lower())
                for k, v in l.items() if k != "time")]
            self.assertEqual(forbidden, [], f"the agent was refused by RBAC: {forbidden[:3]}")
        # Scenarios share the control plane: leave nothing that could attract another's pods.
        for ns in self.namespaces:
            self.api.request("DELETE", f"/api/v1/namespaces/{ns}")
        for name in self.node_names:
            self.api.request("DELETE", f"/api/v1/nodes/{name}")

    # -- cluster objects ---------------------------------------------------------------------

    def make_nodes(self, *nodes: AksNode, unschedulable: tuple = (), **kw) -> None:
        for n in nodes:
            self.api.must("POST", "/api/v1/nodes", n.manifest(unschedulable=n in unschedulable, **kw))
            self.node_names.append(n.name)
        for n in nodes:
            wait_until(lambda n=n: self.node_ready(n.name), 60, f"kwok to make {n.name} Ready")

    def fill_victim(self, victim: AksNode, spare: AksNode, ns: str, *objs: dict, running: int,
                    pdbs: tuple = (), timeout: float = 120) -> None:
        """The usual stage: `victim` and `spare` nodes, the workload placed on the victim (the
        spare stays cordoned until then), PDB statuses computed, then the spare opened for the
        replacements."""
        self.make_nodes(victim, spare, unschedulable=(spare,))
        self.create(*objs, nodes=[victim.name, spare.name])
        self.wait_running(ns, running, node=victim.name, timeout=timeout)
        for name in pdbs:
            self.wait_pdb_ready(ns, name)
        self.set_unschedulable(spare.name, False)

    def node_ready(self, name: str) -> bool:
        node = self.api.node(name)
        ready = [c for c in node.get("status", {}).get("conditions", []) if c["type"] == "Ready"]
        taints = [t["key"] for t in node["spec"].get("taints", [])]
        # node-lifecycle removes not-ready once it has seen the node Ready.
        return bool(ready and ready[0]["status"] == "True" and "node.kubernetes.io/not-ready" not in taints)

    def create(self, *objs: dict, nodes: Optional[list] = None) -> None:
        """Create objects; Deployments and StatefulSets are kept to `nodes` (default: this
        scenario's nodes) by required node affinity, since scenarios share one control plane."""
        for obj in objs:
            if obj["kind"] in ("Deployment", "StatefulSet") and (nodes or self.node_names):
                obj["spec"]["template"]["spec"]["affinity"] = {"nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{
                        "matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In",
                                              "values": list(nodes or self.node_names)}]}]}}}
            self.api.apply(obj)

    def namespace(self, name: str) -> str:
        from nodes import namespace
        self.create(namespace(name))
        self.namespaces.append(name)
        wait_until(lambda: self.api.get(f"/api/v1/namespaces/{name}/serviceaccounts/default")[0] == 200,
                   30, f"the default ServiceAccount of {name}")
        return name

    def set_unschedulable(self, node: str, value: bool) -> None:
        self.api.must("PATCH", f"/api/v1/nodes/{node}", {"spec": {"unschedulable": value}}, STRATEGIC)

    def running_pods(self, ns: str, node: Optional[str] = None, selector: Optional[str] = None) -> list:
        return [p for p in self.api.pods(ns, node=node, selector=selector)
                if p.get("status", {}).get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")]

    def wait_running(self, ns: str, count: int, node: Optional[str] = None, timeout: float = 120) -> list:
        return wait_until(lambda: (lambda ps: ps if len(ps) == count else None)(self.running_pods(ns, node)),
                          timeout, f"{count} Running pods in {ns}" + (f" on {node}" if node else ""))

    def wait_pdb_ready(self, ns: str, name: str, generation_of: Optional[str] = None) -> dict:
        """The disruption controller has computed the PDB's status (evictions answer 429 until)."""
        def ready():
            pdb = self.api.must("GET", f"/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets/{name}")
            st = pdb.get("status", {})
            return pdb if st.get("observedGeneration") == pdb["metadata"]["generation"] and \
                "expectedPods" in st else None
        return wait_until(ready, 60, f"PDB {ns}/{name} status")

    def condition(self, node: str, ctype: str) -> Optional[dict]:
        for c in self.api.node(node).get("status", {}).get("conditions", []):
            if c["type"] == ctype:
                return c
        return None

    def agent_events(self, node: str) -> list:
        evs = self.api.events("default", f"involvedObject.kind=Node,involvedObject.name={node}")
        return [e for e in evs if e.get("source", {}).get("component") == "aks-node-agent"
                or e.get("reportingComponent") == "aks-node-agent"]

    def annotation_state(self, node: str) -> Optional[dict]:
        raw = self.api.node(node)["metadata"].get("annotations", {}).get("aks-node-agent/state")
        return json.loads(raw) if raw else None

    # -- the agent ---------------------------------------------------------------------------

    def start_agent(self, node: AksNode, overrides: Optional[dict] = None, name: str = "agent",
                    pod_name: Optional[str] = None) -> AgentProcess:
        imds = ENV.imds.vm(node.vm_name)
        cfg = agent_config(imds.url, node.name, overrides)
        # The agent's own pod is the shipped DaemonSet's pod on this node (skipped by the drain).
        own = [p for p in self.api.pods(AGENT_NS, node=node.name)]
        env = clean_env()
        if own or pod_name:
            env.update(POD_NAME=pod_name or own[0]["metadata"]["name"], POD_NAMESPACE=AGENT_NS)
        agent = AgentProcess(self.workdir, cfg, env=env, name=f"{name}-{len(self.agents)}")
        self.agents.append(agent)
        agent.wait_serving(30)
        wait_until(lambda: agent.get("/readyz")[0] == 200, 30, "agent /readyz")
        return agent

    def in_background(self, fn: Callable[[], Any]) -> threading.Thread:
        t = threading.Thread(target=fn, daemon=True)
        t.start()
        self.threads.append(t)
        return t
