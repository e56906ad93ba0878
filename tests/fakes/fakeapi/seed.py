"""Realistic AKS objects for tests: POST /fake/seed.

A seeded node looks like an AKS spot node (labels, providerID, capacity, the
node-problem-detector conditions AKS adds, the spot taint) and carries the pod
mix a drain has to sort out: ReplicaSet pods (optionally under a PDB),
StatefulSet pods, DaemonSet pods, a mirror pod, finished Job pods, pods with
emptyDir, bare pods, and optionally the agent's own pod.
"""

import itertools

from .store import (DAEMONSETS, DEPLOYMENTS, NODES, PDBS, PODS, REPLICASETS, STATEFULSETS, Store)
from .util import ApiError, clone, new_uid, now_rfc3339, rand_hash, rand_suffix

KUBE_VERSION = "v1.31.2"
SPOT_TAINT = {"key": "kubernetes.azure.com/scalesetpriority", "value": "spot", "effect": "NoSchedule"}
SPOT_TOLERATION = {"key": "kubernetes.azure.com/scalesetpriority", "operator": "Equal", "value": "spot",
                   "effect": "NoSchedule"}
# Tolerations the DaemonSet controller adds to every DaemonSet pod.
DS_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
    {"operator": "Exists"},
]
DAEMONSET_NAMES = ["kube-proxy", "azure-cns", "cloud-node-manager", "csi-azuredisk-node", "csi-azurefile-node",
                   "azure-ip-masq-agent", "konnectivity-agent-node", "ama-logs"]


def _ref(api_version, kind, obj):
    return {"apiVersion": api_version, "kind": kind, "name": obj["metadata"]["name"], "uid": obj["metadata"]["uid"],
            "controller": True, "blockOwnerDeletion": True}


class Seeder:
    def __init__(self, store: Store, controller):
        self.store = store
        self.controller = controller
        self.node_index = {}
        self.counter = itertools.count(4)
        self.seeded = {}  # node -> [(storage, ns, name)] of workload objects created for it

    def reset(self):
        self.seeded.clear()

    # ---- objects -------------------------------------------------------------------
    def node_object(self, name, spec):
        idx = self.node_index.setdefault(name, next(self.counter))
        spot = spec.get("spot", True)
        pool = spec.get("agentPool") or ("spot" if spot else "nodepool1")
        labels = {
            "agentpool": pool, "kubernetes.azure.com/agentpool": pool,
            "kubernetes.azure.com/cluster": "MC_rg-e6data_aks-e6data_eastus",
            "kubernetes.azure.com/mode": "user", "kubernetes.azure.com/os-sku": "Ubuntu",
            "kubernetes.azure.com/node-image-version": "AKSUbuntu-2204gen2containerd-202411.12.0",
            "kubernetes.azure.com/role": "agent", "kubernetes.io/role": "agent", "node-role.kubernetes.io/agent": "",
            "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
            "beta.kubernetes.io/instance-type": "Standard_D8ds_v5",
            "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
            "node.kubernetes.io/instance-type": "Standard_D8ds_v5",
            "topology.kubernetes.io/region": "eastus", "topology.kubernetes.io/zone": "0",
            "topology.disk.csi.azure.com/zone": "",
        }
        if spot:
            labels["kubernetes.azure.com/scalesetpriority"] = "spot"
        labels.update(spec.get("labels") or {})
        taints = ([dict(SPOT_TAINT)] if spot else []) + list(spec.get("otherTaints") or [])
        provider = spec.get("providerID") or (
            "azure:///subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/mc_rg-e6data_aks-e6data_eastus"
            "/providers/Microsoft.Compute/virtualMachines/%s" % name)
        now = now_rfc3339()

        def cond(t, status, reason, msg):
            return {"type": t, "status": status, "lastHeartbeatTime": now, "lastTransitionTime": now,
                    "reason": reason, "message": msg}

        ready = spec.get("ready", True)
        node = {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "uid": new_uid(), "creationTimestamp": now, "labels": labels,
                         "annotations": {
                             "node.alpha.kubernetes.io/ttl": "0",
                             "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                             "csi.volume.kubernetes.io/nodeid":
                                 '{"disk.csi.azure.com":"%s","file.csi.azure.com":"%s"}' % (name, name)}},
            "spec": {"podCIDR": "10.244.%d.0/24" % (idx % 250), "podCIDRs": ["10.244.%d.0/24" % (idx % 250)],
                     "providerID": provider},
            "status": {
                "capacity": {"cpu": "8", "ephemeral-storage": "129886128Ki", "hugepages-1Gi": "0",
                             "hugepages-2Mi": "0", "memory": "32863952Ki", "pods": "250"},
                "allocatable": {"cpu": "7820m", "ephemeral-storage": "119703055367", "hugepages-1Gi": "0",
                                "hugepages-2Mi": "0", "memory": "28362448Ki", "pods": "250"},
                # AKS node-problem-detector conditions come first, the kubelet's last.
                "conditions": [
                    cond("KernelDeadlock", "False", "KernelHasNoDeadlock", "kernel has no deadlock"),
                    cond("FilesystemCorruptionProblem", "False", "FilesystemIsOK", "Filesystem is healthy"),
                    cond("ContainerRuntimeProblem", "False", "ContainerRuntimeIsUp", "container runtime service is up"),
                    cond("VMEventScheduled", "False", "NoVMEventScheduled", "VM has no scheduled event"),
                    cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                    cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                    cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                    cond("Ready", "True" if ready else "False", "KubeletReady" if ready else "KubeletNotReady",
                         "kubelet is posting ready status" if ready else "container runtime is down"),
                ],
                "addresses": [{"type": "InternalIP", "address": "10.224.%d.%d" % (idx // 250, idx % 250)},
                              {"type": "Hostname", "address": name}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {"architecture": "amd64", "bootID": new_uid(),
                             "containerRuntimeVersion": "containerd://1.7.23-1",
                             "kernelVersion": "5.15.0-1074-azure", "kubeProxyVersion": KUBE_VERSION,
                             "kubeletVersion": KUBE_VERSION, "machineID": rand_hash(32),
                             "operatingSystem": "linux", "osImage": "Ubuntu 22.04.5 LTS", "systemUUID": new_uid()},
            },
        }
        if taints:
            node["spec"]["taints"] = taints
        return node

    def pod_object(self, ns, name, node, labels, owner=None, grace=30, containers=None, annotations=None,
                   phase="Running", volumes=None, tolerations=None, host_network=False, sa="default",
                   generate_name=None):
        now = now_rfc3339()
        containers = containers or [{"name": "app", "image": "mcr.microsoft.com/azurelinux/base/nginx:1.25",
                                     "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]
        if volumes:
            containers = clone(containers)
            containers[0]["volumeMounts"] = [{"name": v["name"], "mountPath": "/data/" + v["name"]} for v in volumes]
        i = next(self.controller.ip_counter)
        pod_ip = self.controller._node_ip(node) if host_network else "10.244.%d.%d" % ((i // 250) % 250, i % 250 + 2)
        running = phase == "Running"
        cstat = []
        for c in containers:
            if running:
                state = {"running": {"startedAt": now}}
            else:
                state = {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": now, "finishedAt": now,
                                        "containerID": "containerd://" + rand_hash(64)}}
            cstat.append({"name": c["name"], "image": c["image"], "imageID": "", "ready": running,
                          "started": running, "restartCount": 0, "state": state,
                          "containerID": "containerd://" + rand_hash(64)})
        conds = [{"type": t, "status": "True" if (running or t in ("Initialized", "PodScheduled")) else "False",
                  "lastProbeTime": None, "lastTransitionTime": now}
                 for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")]
        if not running:
            for c in conds:
                if c["type"] in ("Ready", "ContainersReady"):
                    c["reason"] = "PodCompleted"
        meta = {"name": name, "namespace": ns, "uid": new_uid(), "creationTimestamp": now, "labels": dict(labels)}
        if generate_name:
            meta["generateName"] = generate_name
        if annotations:
            meta["annotations"] = dict(annotations)
        if owner:
            meta["ownerReferences"] = [owner]
        spec = {"nodeName": node, "containers": containers, "restartPolicy": "Always" if running else "Never",
                "terminationGracePeriodSeconds": grace, "dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler",
                "serviceAccountName": sa, "serviceAccount": sa, "priority": 0, "enableServiceLinks": True,
                "preemptionPolicy": "PreemptLowerPriority",
                "tolerations": list(tolerations or []) + [
                    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
                     "tolerationSeconds": 300},
                    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
                     "tolerationSeconds": 300}]}
        if volumes:
            spec["volumes"] = volumes
        if host_network:
            spec["hostNetwork"] = True
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec,
                "status": {"phase": phase, "conditions": conds, "hostIP": self.controller._node_ip(node),
                           "podIP": pod_ip, "podIPs": [{"ip": pod_ip}], "startTime": now, "qosClass": "Burstable",
                           "containerStatuses": cstat}}

    def _workload(self, storage, api_version, kind, ns, name, replicas, labels, owner=None):
        obj = {"apiVersion": api_version, "kind": kind,
               "metadata": {"name": name, "namespace": ns, "uid": new_uid(), "creationTimestamp": now_rfc3339(),
                            "generation": 1, "labels": dict(labels)},
               "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                        "template": {"metadata": {"labels": dict(labels)},
                                     "spec": {"containers": [{"name": "app",
                                                              "image": "mcr.microsoft.com/azurelinux/base/nginx:1.25"}]}}}}
        if owner:
            obj["metadata"]["ownerReferences"] = [owner]
        if kind == "StatefulSet":
            obj["spec"]["serviceName"] = name
        self.store.put(storage, obj)
        return obj

    def ensure_daemonset(self, ns, name, extra_labels=None):
        ds = self.store.raw(DAEMONSETS, ns, name)
        if ds is not None:
            return ds
        self.store.ensure_namespace(ns)
        labels = {"k8s-app": name}
        labels.update(extra_labels or {})
        ds = {"apiVersion": "apps/v1", "kind": "DaemonSet",
              "metadata": {"name": name, "namespace": ns, "uid": new_uid(), "creationTimestamp": now_rfc3339(),
                           "generation": 1, "labels": dict(labels)},
              "spec": {"selector": {"matchLabels": dict(labels)},
                       "template": {"metadata": {"labels": dict(labels)},
                                    "spec": {"containers": [{"name": name, "image": "mcr.microsoft.com/oss/%s:v1" % name}],
                                             "tolerations": DS_TOLERATIONS}},
                       "updateStrategy": {"type": "RollingUpdate"}}}
        return self.store.put(DAEMONSETS, ds)

    def ensure_plain_node(self, name, spec=None):
        if self.store.raw(NODES, "", name) is None:
            self.store.put(NODES, self.node_object(name, dict({"spot": False}, **(spec or {}))))

    # ---- seeding ---------------------------------------------------------------------
    def _unseed(self, node):
        """Remove what a previous seed of `node` created, without triggering controllers."""
        st = self.store
        for storage, ns, name in self.seeded.pop(node, []):
            obj = st.raw(storage, ns, name)
            if obj is None:
                continue
            for p in st.pods_of_owner(obj["metadata"]["uid"]):
                st.remove(PODS, p["metadata"]["namespace"], p["metadata"]["name"], notify=False)
            st.remove(storage, ns, name, notify=False)
        for p in st.pods_on_node(node):
            st.remove(PODS, p["metadata"]["namespace"], p["metadata"]["name"], notify=False)
        st.remove(NODES, "", node, notify=False)

    def seed(self, spec):
        if not isinstance(spec, dict) or not isinstance(spec.get("node"), str) or not spec["node"]:
            raise ApiError.bad_request('seed needs {"node": "<name>", ...}')
        node_name = spec["node"]
        st = self.store

        def as_count(key, default=0):
            v = spec.get(key, default)
            if v is True:
                return 1
            if v is False or v is None:
                return 0
            if not isinstance(v, int) or v < 0:
                raise ApiError.bad_request("seed: %s must be a non-negative integer or boolean" % key)
            return v

        n_pods, n_ds = as_count("pods", 10), as_count("daemonsets", 2)
        n_sts, n_fin, n_bare = as_count("statefulset"), as_count("finished"), as_count("bare")
        n_empty = as_count("emptyDir")
        ns = spec.get("namespace") or "workloads"
        grace = int(spec.get("gracePeriodSeconds", 30))
        app = "web-" + node_name
        tolerations = [SPOT_TOLERATION]
        out = {"node": node_name, "namespace": ns,
               "pods": {"replicaset": [], "statefulset": [], "daemonset": [], "mirror": [], "finished": [],
                        "bare": [], "agent": []}}
        with st.lock:
            self._unseed(node_name)
            created = []
            node = self.node_object(node_name, spec)
            st.put(NODES, node)
            out["uid"] = node["metadata"]["uid"]
            for extra in spec.get("extraNodes") or []:
                self.ensure_plain_node(extra)
            st.ensure_namespace(ns)

            if n_pods:
                labels = {"app": app}
                dep = self._workload(DEPLOYMENTS, "apps/v1", "Deployment", ns, app, n_pods, labels)
                h = rand_hash(10)
                rs_labels = dict(labels, **{"pod-template-hash": h})
                rs = self._workload(REPLICASETS, "apps/v1", "ReplicaSet", ns, "%s-%s" % (app, h), n_pods, rs_labels,
                                    _ref("apps/v1", "Deployment", dep))
                created += [(DEPLOYMENTS, ns, app), (REPLICASETS, ns, rs["metadata"]["name"])]
                for i in range(n_pods):
                    gen = rs["metadata"]["name"] + "-"
                    vols = [{"name": "scratch", "emptyDir": {}}] if i < n_empty else None
                    p = self.pod_object(ns, gen + rand_suffix(), node_name, rs_labels, _ref("apps/v1", "ReplicaSet", rs),
                                        grace, volumes=vols, tolerations=tolerations, generate_name=gen)
                    st.put(PODS, p, notify=False)
                    out["pods"]["replicaset"].append(p["metadata"]["name"])
                pdb_spec = spec.get("pdb")
                if pdb_spec:
                    pspec = {"maxUnavailable": 1} if pdb_spec is True else dict(pdb_spec)
                    pspec.setdefault("selector", {"matchLabels": dict(labels)})
                    pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                           "metadata": {"name": app + "-pdb", "namespace": ns, "uid": new_uid(),
                                        "creationTimestamp": now_rfc3339(), "generation": 1},
                           "spec": pspec}
                    st.put(PDBS, pdb)
                    created.append((PDBS, ns, app + "-pdb"))
                    out["pdb"] = app + "-pdb"

            if n_sts:
                sname = "db-" + node_name
                labels = {"app": sname}
                sts = self._workload(STATEFULSETS, "apps/v1", "StatefulSet", ns, sname, n_sts, labels)
                created.append((STATEFULSETS, ns, sname))
                for i in range(n_sts):
                    pname = "%s-%d" % (sname, i)
                    p = self.pod_object(ns, pname, node_name,
                                        dict(labels, **{"statefulset.kubernetes.io/pod-name": pname,
                                                        "controller-revision-hash": sname + "-" + rand_hash(10),
                                                        "apps.kubernetes.io/pod-index": str(i)}),
                                        _ref("apps/v1", "StatefulSet", sts), grace, tolerations=tolerations,
                                        generate_name=sname + "-")
                    st.put(PODS, p, notify=False)
                    out["pods"]["statefulset"].append(pname)

            names = DAEMONSET_NAMES + ["ds-%d" % i for i in range(len(DAEMONSET_NAMES), n_ds)]
            for dname in names[:n_ds]:
                ds = self.ensure_daemonset("kube-system", dname)
                p = self.pod_object("kube-system", dname + "-" + rand_suffix(), node_name,
                                    dict(ds["spec"]["selector"]["matchLabels"], **{"controller-revision-hash": rand_hash(10)}),
                                    _ref("apps/v1", "DaemonSet", ds), 30, tolerations=DS_TOLERATIONS,
                                    host_network=dname in ("kube-proxy", "azure-cns", "cloud-node-manager"),
                                    generate_name=dname + "-")
                st.put(PODS, p, notify=False)
                out["pods"]["daemonset"].append("kube-system/" + p["metadata"]["name"])

            if spec.get("agentPod"):
                ds = self.ensure_daemonset("aks-node-agent", "aks-node-agent",
                                           {"app.kubernetes.io/name": "aks-node-agent"})
                p = self.pod_object("aks-node-agent", "aks-node-agent-" + rand_suffix(), node_name,
                                    dict(ds["spec"]["selector"]["matchLabels"]), _ref("apps/v1", "DaemonSet", ds), 30,
                                    tolerations=DS_TOLERATIONS, host_network=True, sa="aks-node-agent",
                                    generate_name="aks-node-agent-")
                st.put(PODS, p, notify=False)
                out["pods"]["agent"].append("aks-node-agent/" + p["metadata"]["name"])

            if spec.get("mirror"):
                name = "static-web-" + node_name
                p = self.pod_object("kube-system", name, node_name, {"component": "static-web", "tier": "node"},
                                    {"apiVersion": "v1", "kind": "Node", "name": node_name,
                                     "uid": node["metadata"]["uid"], "controller": True},
                                    30, annotations={"kubernetes.io/config.mirror": rand_hash(32),
                                                     "kubernetes.io/config.hash": rand_hash(32),
                                                     "kubernetes.io/config.source": "file",
                                                     "kubernetes.io/config.seen": now_rfc3339()},
                                    host_network=True)
                st.put(PODS, p, notify=False)
                out["pods"]["mirror"].append("kube-system/" + name)

            for i in range(n_fin):
                jname = "job-%s-%d" % (node_name, i)
                job_uid = new_uid()
                p = self.pod_object(ns, jname + "-" + rand_suffix(), node_name,
                                    {"job-name": jname, "batch.kubernetes.io/job-name": jname,
                                     "batch.kubernetes.io/controller-uid": job_uid},
                                    {"apiVersion": "batch/v1", "kind": "Job", "name": jname, "uid": job_uid,
                                     "controller": True, "blockOwnerDeletion": True},
                                    grace, phase="Succeeded", tolerations=tolerations, generate_name=jname + "-")
                st.put(PODS, p, notify=False)
                out["pods"]["finished"].append(p["metadata"]["name"])

            for i in range(n_bare):
                name = "bare-%s-%d" % (node_name, i)
                p = self.pod_object(ns, name, node_name, {"run": name}, None, grace, tolerations=tolerations)
                st.put(PODS, p, notify=False)
                out["pods"]["bare"].append(name)

            self.seeded[node_name] = created
            out["resourceVersion"] = str(st.rv)
        return out
