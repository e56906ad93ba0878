"""Node and workload objects that look like what runs on an AKS spot node pool.

A Node here is what AKS's cloud provider and kubelet register for a VM scale set instance:
an Azure providerID, the agent pool and spot labels, the spot taint AKS puts on every spot
pool (`kubernetes.azure.com/scalesetpriority=spot:NoSchedule`), arm64 (Dpsv5, Ampere Altra)
or amd64. The annotation `kwok.x-k8s.io/node: fake` hands it to kwok, which then plays its
kubelet (Ready, leases, pods Running, graceful deletions).
"""

from __future__ import annotations

SUBSCRIPTION = "00000000-0000-0000-0000-00000000e2e0"
RESOURCE_GROUP = "MC_e6data_e2e_westeurope"
SPOT_TAINT = {"key": "kubernetes.azure.com/scalesetpriority", "value": "spot", "effect": "NoSchedule"}
SPOT_TOLERATION = {"key": "kubernetes.azure.com/scalesetpriority", "operator": "Equal",
                   "value": "spot", "effect": "NoSchedule"}
VM_SIZES = {"arm64": "Standard_D4ps_v5", "amd64": "Standard_D4ds_v5"}


class AksNode:
    """One scale-set instance: `pool` and `instance` give the Node name
    (aks-<pool>-12345678-vmss00000<i>) and the VM name Scheduled Events use (…-vmss_<i>)."""

    def __init__(self, pool: str, instance: int, arch: str = "amd64"):
        self.pool, self.instance, self.arch = pool, instance, arch
        self.vmss = f"aks-{pool}-12345678-vmss"
        self.name = f"{self.vmss}{instance:06x}"
        self.vm_name = f"{self.vmss}_{instance}"

    @property
    def provider_id(self) -> str:
        return (f"azure:///subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}/providers/"
                f"Microsoft.Compute/virtualMachineScaleSets/{self.vmss}/virtualMachines/{self.instance}")

    def manifest(self, unschedulable: bool = False, extra_taints: list | None = None,
                 annotations: dict | None = None) -> dict:
        size = VM_SIZES[self.arch]
        return {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {
                "name": self.name,
                "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0",
                                **(annotations or {})},
                "labels": {
                    "kubernetes.io/hostname": self.name, "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": self.arch, "beta.kubernetes.io/arch": self.arch,
                    "node.kubernetes.io/instance-type": size,
                    "kubernetes.azure.com/agentpool": self.pool,
                    "kubernetes.azure.com/scalesetpriority": "spot",
                    "kubernetes.azure.com/mode": "user",
                    "karpenter.sh/capacity-type": "spot",
                    "topology.kubernetes.io/region": "westeurope",
                    "topology.kubernetes.io/zone": "westeurope-1",
                    "type": "kwok",
                },
            },
            "spec": {
                "providerID": self.provider_id,
                "unschedulable": unschedulable,
                "taints": [SPOT_TAINT] + list(extra_taints or []),
            },
            "status": {
                "allocatable": {"cpu": "4", "memory": "16Gi", "pods": "300"},
                "capacity": {"cpu": "4", "memory": "16Gi", "pods": "300"},
                "nodeInfo": {"architecture": self.arch, "operatingSystem": "linux",
                             "kubeletVersion": "v1.36.3"},
            },
        }


def pod_template(app: str, grace_seconds: int = 2) -> dict:
    """A pod template for a workload that tolerates the spot taint."""
    spec: dict = {
        "terminationGracePeriodSeconds": grace_seconds,
        "tolerations": [SPOT_TOLERATION],
        "containers": [{"name": "main", "image": "e6data/query-worker:e2e",
                        "resources": {"requests": {"cpu": "1m", "memory": "1Mi"}}}],
    }
    return {"metadata": {"labels": {"app": app}}, "spec": spec}


def deployment(ns: str, name: str, replicas: int, **kw) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": pod_template(name, **kw)}}


def statefulset(ns: str, name: str, replicas: int, **kw) -> dict:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": replicas, "serviceName": name, "podManagementPolicy": "Parallel",
                     "selector": {"matchLabels": {"app": name}}, "template": pod_template(name, **kw)}}


def daemonset(ns: str, name: str) -> dict:
    tpl = pod_template(name)
    tpl["spec"]["tolerations"] = [{"operator": "Exists"}]
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"selector": {"matchLabels": {"app": name}}, "template": tpl}}


def pdb(ns: str, name: str, app: str, max_unavailable: int | None = None,
        min_available: int | None = None) -> dict:
    spec: dict = {"selector": {"matchLabels": {"app": app}}}
    if max_unavailable is not None:
        spec["maxUnavailable"] = max_unavailable
    if min_available is not None:
        spec["minAvailable"] = min_available
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def namespace(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
