#!/usr/bin/env python3
"""The Helm chart on a real control plane: kubectl apply --dry-run=server of the
rendered chart, then helm install, upgrade and uninstall, with a kwok node so that the
DaemonSet really schedules a pod.

    AKSNODE_E2E_BIN=$(tests/e2e/cluster/build.sh | tail -1) python3 tests/e2e/helm_test.py

The PodMonitor/ServiceMonitor/PrometheusRule CRDs do not exist on this control plane: the
server dry run renders with those toggles off (tests/deploy/helm_chart_test.sh validates the
monitoring objects against the prometheus-operator schemas). Ends with `N passed, N failed`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "cluster"))

from cluster import ControlPlane, wait_for  # noqa: E402
from nodes import AksNode  # noqa: E402

CHART = os.path.join(REPO, "deploy", "helm", "aks-node-agent")
NS = "aks-node-agent"
RELEASE = "aks-node-agent"
NO_CRDS = ["--set", "podMonitor.enabled=false", "--set", "serviceMonitor.enabled=false",
           "--set", "prometheusRule.enabled=false"]
results = {"passed": 0, "failed": 0}


def check(cond: object, what: str) -> None:
    results["passed" if cond else "failed"] += 1
    print(f"{'ok  ' if cond else 'FAIL'} {what}", flush=True)


class Helm:
    def __init__(self, binary: str, kubeconfig: str, home: str):
        self.binary = binary
        self.env = dict(os.environ, KUBECONFIG=kubeconfig, HELM_CACHE_HOME=f"{home}/cache",
                        HELM_CONFIG_HOME=f"{home}/config", HELM_DATA_HOME=f"{home}/data")

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        r = subprocess.run([self.binary, *args], env=self.env, capture_output=True, text=True, timeout=300)
        if check and r.returncode != 0:
            raise RuntimeError(f"helm {' '.join(args)} failed ({r.returncode}):\n{r.stderr}{r.stdout}")
        return r


def get(cp: ControlPlane, path: str) -> tuple[int, dict]:
    return cp.api.get(path)


def ds(cp: ControlPlane) -> dict:
    status, body = get(cp, f"/apis/apps/v1/namespaces/{NS}/daemonsets/{RELEASE}")
    return body if status == 200 else {}


def agent_pods(cp: ControlPlane) -> list:
    status, body = get(cp, f"/api/v1/namespaces/{NS}/pods?labelSelector=app.kubernetes.io/instance%3D{RELEASE}")
    return body.get("items", []) if status == 200 else []


def rolled_out(cp: ControlPlane, generation: int) -> bool:
    d = ds(cp)
    st = d.get("status", {})
    return (st.get("observedGeneration", 0) >= generation and st.get("desiredNumberScheduled") == 1
            and st.get("updatedNumberScheduled") == 1 and st.get("numberReady") == 1)


OBJECTS = [  # (what, API path) of everything the chart installs with default values
    ("DaemonSet", f"/apis/apps/v1/namespaces/{NS}/daemonsets/{RELEASE}"),
    ("ServiceAccount", f"/api/v1/namespaces/{NS}/serviceaccounts/{RELEASE}"),
    ("ConfigMap", f"/api/v1/namespaces/{NS}/configmaps/{RELEASE}-config"),
    ("Service", f"/api/v1/namespaces/{NS}/services/{RELEASE}"),
    ("ClusterRole", f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{RELEASE}"),
    ("ClusterRoleBinding", f"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/{RELEASE}"),
    ("Role", f"/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles/{RELEASE}-events"),
    ("RoleBinding", f"/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings/{RELEASE}-events"),
]
DASHBOARD = f"/api/v1/namespaces/{NS}/configmaps/{RELEASE}-dashboard"


def run(cp: ControlPlane, helm: Helm, work: str) -> None:
    print(f"control plane {cp.version().get('gitVersion')}, {helm('version', '--short').stdout.strip()}")
    # The namespace with the Pod Security labels of deploy/base/namespace.yaml (hostNetwork).
    cp.kubectl("apply", "-f", os.path.join(REPO, "deploy", "base", "namespace.yaml"))
    node = AksNode("helm", 1)
    cp.kubectl("apply", "-f", "-", input=json.dumps(node.manifest()))
    wait_for(lambda: any(c["type"] == "Ready" and c["status"] == "True"
                         for c in get(cp, f"/api/v1/nodes/{node.name}")[1].get("status", {}).get("conditions", [])),
             120, f"node {node.name} Ready (kwok)", cp.check)

    # -- server-side dry run of the rendered chart ------------------------------------------
    for label, extra in (("default values", []),
                         ("every toggle on (monitoring CRs off)",
                          ["-f", os.path.join(REPO, "tests/deploy/helm/all-on.yaml"), "--set", "grafanaDashboard.namespace="]
                          + NO_CRDS)):
        rendered = helm("template", RELEASE, CHART, "-n", NS, *extra).stdout
        # No -n: the Role/RoleBinding for Events live in namespace default.
        r = cp.kubectl("apply", "--dry-run=server", "-f", "-", input=rendered, check=False)
        check(r.returncode == 0 and "(server dry run)" in r.stdout,
              f"kubectl apply --dry-run=server, {label}: {r.stdout.count('(server dry run)')} objects accepted"
              + ("" if r.returncode == 0 else f"\n{r.stderr}"))

    # -- bad values never reach the cluster --------------------------------------------------
    r = helm("install", RELEASE, CHART, "-n", NS, "--set", "tolerance=x", check=False)
    check(r.returncode != 0 and "additional properties 'tolerance' not allowed" in r.stderr,
          "helm install with an unknown key is rejected by values.schema.json")
    check(helm("list", "-n", NS, "-q").stdout.strip() == "", "no release left by the rejected install")

    # -- install -----------------------------------------------------------------------------
    r = helm("install", RELEASE, CHART, "-n", NS, "--wait", "--timeout", "3m")
    print("--- helm install output\n" + r.stdout.rstrip() + "\n---")
    check("STATUS: deployed" in r.stdout, "helm install: STATUS deployed")
    for what, path in OBJECTS:
        check(get(cp, path)[0] == 200, f"installed: {what}")
    wait_for(lambda: rolled_out(cp, 1), 120, "the agent pod Ready on the kwok node", cp.check)
    pods = agent_pods(cp)
    check(len(pods) == 1 and pods[0]["spec"].get("nodeName") == node.name,
          f"one agent pod, on node {node.name} (affinity, tolerations of the spot taint)")
    sa = f"system:serviceaccount:{NS}:{RELEASE}"
    for verb, res, sub, ns, want in (("patch", "nodes", "", "", "yes"), ("create", "pods", "eviction", "", "yes"),
                                     ("create", "events", "", "default", "yes"), ("delete", "pods", "", "", "no"),
                                     ("list", "secrets", "", "", "no")):
        r = cp.kubectl("auth", "can-i", verb, res, "--as", sa, *(["--subresource", sub] if sub else []),
                       *(["-n", ns] if ns else ["-A"]), check=False)
        check(r.stdout.strip() == want,
              f"RBAC: {sa} can-i {verb} {res}{'/' + sub if sub else ''}: {r.stdout.strip()} (want {want})")

    # -- upgrade: a config value changes the ConfigMap and rolls the DaemonSet ---------------
    before = ds(cp)
    old_sum = before["spec"]["template"]["metadata"]["annotations"].get("checksum/config")
    old_pod = pods[0]["metadata"]["uid"]
    r = helm("upgrade", RELEASE, CHART, "-n", NS, "--reuse-values", "--set", "config.drain.timeout=90s",
             "--set", "image.tag=0.1.1", "--set", "grafanaDashboard.enabled=true",
             "--set", "grafanaDashboard.folder=Kubernetes", "--wait", "--timeout", "3m")
    check("has been upgraded" in r.stdout and "REVISION: 2" in r.stdout, "helm upgrade: revision 2")
    after = ds(cp)
    new_sum = after["spec"]["template"]["metadata"]["annotations"].get("checksum/config")
    check(after["metadata"]["generation"] > before["metadata"]["generation"] and new_sum != old_sum,
          f"DaemonSet changed: generation {before['metadata']['generation']} -> {after['metadata']['generation']}, "
          "checksum/config changed")
    check(after["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/e6data/aks-node-agent:0.1.1",
          "DaemonSet image is the new tag")
    cm = get(cp, f"/api/v1/namespaces/{NS}/configmaps/{RELEASE}-config")[1]
    check("timeout: 90s" in cm["data"]["config.yaml"], "ConfigMap config.yaml has drain.timeout 90s")
    status, dash = get(cp, DASHBOARD)
    check(status == 200 and dash["metadata"]["labels"].get("grafana_dashboard") == "1"
          and dash["metadata"]["annotations"].get("grafana_folder") == "Kubernetes",
          "upgrade with grafanaDashboard.enabled: dashboard ConfigMap (grafana_dashboard=1, grafana_folder)")
    wait_for(lambda: rolled_out(cp, after["metadata"]["generation"])
             and [p["metadata"]["uid"] for p in agent_pods(cp)] not in ([], [old_pod]),
             180, "the agent pod replaced by the rolling update", cp.check)
    pods = agent_pods(cp)
    check(len(pods) == 1 and pods[0]["metadata"]["annotations"].get("checksum/config") == new_sum,
          "the running pod carries the new config checksum")
    hist = json.loads(helm("history", RELEASE, "-n", NS, "-o", "json").stdout)
    check([h["status"] for h in hist] == ["superseded", "deployed"], "helm history: superseded, deployed")

    # -- uninstall: everything gone ----------------------------------------------------------
    r = helm("uninstall", RELEASE, "-n", NS, "--wait", "--timeout", "3m")
    check("uninstalled" in r.stdout, "helm uninstall")
    for what, path in OBJECTS + [("dashboard ConfigMap", DASHBOARD)]:
        wait_for(lambda p=path: get(cp, p)[0] == 404, 60, f"{what} deleted", cp.check)
        check(True, f"uninstalled: {what} gone")
    wait_for(lambda: not agent_pods(cp), 120, "the agent pods gone", cp.check)
    check(True, "uninstalled: agent pods gone")
    check(helm("list", "-n", NS, "-q").stdout.strip() == "", "helm list: no release left (any status)")
    status, secrets = get(cp, f"/api/v1/namespaces/{NS}/secrets?labelSelector=owner%3Dhelm")
    check(status == 200 and not secrets.get("items"), "no Helm release Secret left")


def main() -> int:
    bin_dir = os.environ.get("AKSNODE_E2E_BIN")
    if not bin_dir:
        print("AKSNODE_E2E_BIN not set (tests/e2e/cluster/build.sh | tail -1)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="aksnode-helm-") as work:
        cp = ControlPlane.start(bin_dir, os.path.join(work, "cp"))
        try:
            run(cp, Helm(os.path.join(bin_dir, "helm"), cp.admin_kubeconfig, os.path.join(work, "helm")), work)
        except Exception:  # noqa: BLE001 - reported as a failure with its traceback
            traceback.print_exc()
            check(False, "the scenario ran to completion")
        finally:
            cp.stop()
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
