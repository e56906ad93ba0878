"""Everything a real cluster does *behind* the API: graceful deletion, the eviction
subresource with PodDisruptionBudgets, and just enough ReplicaSet / StatefulSet /
DaemonSet / scheduler / node-lifecycle behaviour for a drain to play out like it
does on AKS.

Timing is driven by one background thread (Timers) so request threads never sleep.
All state changes go through Store.put/remove under the store lock.
"""

import heapq
import itertools
import math
import threading
import time

from .selectors import LabelSelector
from .store import (DAEMONSETS, DEPLOYMENTS, NODES, PDBS, PODS, REPLICASETS, STATEFULSETS, Store,
                    controller_ref, key_of)
from .util import ApiError, clone, new_uid, now_rfc3339, rand_suffix, success_status

UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"


class Timers:
    """A single scheduler thread running callbacks at monotonic deadlines."""

    def __init__(self):
        self.cv = threading.Condition()
        self.heap = []
        self.seq = itertools.count()
        self.epoch = 0
        self.thread = threading.Thread(target=self._run, name="fake-apiserver-timers", daemon=True)
        self.thread.start()

    def after(self, delay_s, fn):
        with self.cv:
            heapq.heappush(self.heap, (time.monotonic() + max(0.0, delay_s), next(self.seq), self.epoch, fn))
            self.cv.notify()

    def clear(self):
        """Drop pending work (used by /fake/reset); running callbacks finish."""
        with self.cv:
            self.epoch += 1
            self.heap.clear()

    def pending(self):
        with self.cv:
            return len(self.heap)

    def _run(self):
        while True:
            with self.cv:
                while not self.heap or self.heap[0][0] > time.monotonic():
                    timeout = None if not self.heap else self.heap[0][0] - time.monotonic()
                    self.cv.wait(timeout)
                _, _, epoch, fn = heapq.heappop(self.heap)
                if epoch != self.epoch:
                    continue
            try:
                fn()
            except Exception as e:  # a bug in a callback must not stop the clock
                import traceback
                traceback.print_exc()
                print("fake-apiserver: timer callback failed: %s" % e, flush=True)


# ---- pod helpers -------------------------------------------------------------------------

def meta(o):
    return o.get("metadata") or {}


def is_ready(pod):
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def is_healthy(pod):
    """What the disruption controller counts: Running, Ready, not terminating."""
    return (not meta(pod).get("deletionTimestamp") and (pod.get("status") or {}).get("phase") == "Running"
            and is_ready(pod))


def is_terminal(pod):
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def tolerates(tolerations, taint):
    for t in tolerations or []:
        if t.get("effect") and t.get("effect") != taint.get("effect"):
            continue
        op = t.get("operator") or "Equal"
        if not t.get("key"):
            if op == "Exists":
                return True
            continue
        if t.get("key") != taint.get("key"):
            continue
        if op == "Exists" or (t.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def scaled(value, total, round_up):
    """intstr.GetScaledValueFromIntOrPercent."""
    if isinstance(value, int):
        return value
    s = str(value)
    if s.endswith("%"):
        pct = int(s[:-1])
        v = pct * total / 100.0
        return int(math.ceil(v)) if round_up else int(math.floor(v))
    return int(s)


class Controller:
    def __init__(self, store: Store, grace_scale=0.0, replacement_ready_ms=200, unschedulable_taint_ms=100):
        self.store = store
        self.grace_scale = grace_scale
        self.replacement_ready_ms = replacement_ready_ms
        self.unschedulable_taint_ms = unschedulable_taint_ms
        self.timers = Timers()
        self.pending = set()  # keys of pods waiting for a schedulable node
        self.ip_counter = itertools.count(10)
        store.observers.append(self._observe)
        store.decorators[PDBS] = self.decorate_pdb
        store.decorators[DAEMONSETS] = self.decorate_ds
        store.decorators[REPLICASETS] = self.decorate_rs
        store.decorators[STATEFULSETS] = self.decorate_sts
        store.decorators[DEPLOYMENTS] = self.decorate_deploy

    def reset(self):
        self.timers.clear()
        self.pending.clear()

    # ---- live status (what the real controllers would have written) ------------------
    def pdb_pods(self, pdb):
        """Pods a PDB covers for the disruption controller (policy/v1: {} selects all)."""
        sel = LabelSelector.from_object((pdb.get("spec") or {}).get("selector"))
        if sel is None:
            return []
        return [p for p in self.store.pods_in_ns(meta(pdb).get("namespace", "")) if sel.matches(meta(p).get("labels"))]

    def _expected_scale(self, pods):
        """disruption controller's getExpectedScale: the sum of the owning controllers'
        spec.replicas. Pods without a controller are "unmanaged" and skipped; a pod whose
        controller is not a stored Deployment/ReplicaSet/StatefulSet makes the budget fail
        safe. Returns (expected, error message or None)."""
        seen, total = set(), 0
        for p in pods:
            ref = controller_ref(p)
            if not ref:
                continue
            ns = meta(p).get("namespace", "")
            owner_storage = {"ReplicaSet": REPLICASETS, "StatefulSet": STATEFULSETS,
                             "Deployment": DEPLOYMENTS}.get(ref.get("kind"))
            owner = self.store.raw(owner_storage, ns, ref.get("name")) if owner_storage else None
            if owner is None or meta(owner).get("uid") != ref.get("uid"):
                return None, 'found no controllers for pod "%s"' % meta(p).get("name")
            if ref["kind"] == "ReplicaSet":
                dref = controller_ref(owner)  # a Deployment's ReplicaSet: the Deployment's scale
                if dref and dref.get("kind") == "Deployment":
                    dep = self.store.raw(DEPLOYMENTS, ns, dref.get("name"))
                    if dep is not None:
                        owner = dep
            uid = meta(owner).get("uid")
            if uid not in seen:
                seen.add(uid)
                total += int((owner.get("spec") or {}).get("replicas", 1))
        return total, None

    def pdb_status(self, pdb):
        spec = pdb.get("spec") or {}
        pods = self.pdb_pods(pdb)
        healthy = sum(1 for p in pods if is_healthy(p))
        mn, mx = spec.get("minAvailable"), spec.get("maxUnavailable")
        expected, desired, err = len(pods), 0, None
        try:
            if mx is not None:
                expected, err = self._expected_scale(pods)
                if err is None:
                    desired = max(0, expected - scaled(mx, expected, True))
            elif mn is not None and isinstance(mn, int):
                expected, desired = len(pods), mn
            elif mn is not None:
                expected, err = self._expected_scale(pods)
                if err is None:
                    desired = scaled(mn, expected, True)
        except (ValueError, TypeError) as e:
            err = str(e)
        ok = err is None
        if not ok:
            expected = 0
        allowed = healthy - desired if ok and expected > 0 else 0
        allowed = max(0, allowed)
        gen = meta(pdb).get("generation", 1)
        st = {"observedGeneration": gen, "disruptionsAllowed": allowed, "currentHealthy": healthy,
              "desiredHealthy": desired, "expectedPods": expected,
              "conditions": [{"type": "DisruptionAllowed", "status": "True" if allowed > 0 else "False",
                              "reason": "SufficientPods" if allowed > 0 else "InsufficientPods",
                              "message": "" if ok else err,
                              "observedGeneration": gen,
                              "lastTransitionTime": meta(pdb).get("creationTimestamp", now_rfc3339())}]}
        if not ok:
            st["conditions"][0]["reason"] = "SyncFailed"
        return st

    def decorate_pdb(self, pdb):
        out = dict(pdb)
        out["status"] = self.pdb_status(pdb)
        return out

    def _owned(self, obj):
        return self.store.pods_of_owner(meta(obj).get("uid"))

    def decorate_ds(self, ds):
        pods = [p for p in self._owned(ds) if not meta(p).get("deletionTimestamp")]
        ready = sum(1 for p in pods if is_ready(p))
        nodes = len(self.store.objs.get(NODES, {}))
        out = dict(ds)
        out["status"] = {"currentNumberScheduled": len(pods), "desiredNumberScheduled": max(nodes, len(pods)),
                         "numberMisscheduled": 0, "numberReady": ready, "numberAvailable": ready,
                         "numberUnavailable": max(0, max(nodes, len(pods)) - ready),
                         "updatedNumberScheduled": len(pods), "observedGeneration": meta(ds).get("generation", 1)}
        return out

    def _replica_status(self, obj, pods):
        pods = [p for p in pods if not meta(p).get("deletionTimestamp")]
        ready = sum(1 for p in pods if is_ready(p))
        return {"replicas": len(pods), "readyReplicas": ready, "availableReplicas": ready,
                "observedGeneration": meta(obj).get("generation", 1)}

    def decorate_rs(self, rs):
        out = dict(rs)
        st = self._replica_status(rs, self._owned(rs))
        st["fullyLabeledReplicas"] = st["replicas"]
        out["status"] = st
        return out

    def decorate_sts(self, sts):
        out = dict(sts)
        st = self._replica_status(sts, self._owned(sts))
        st.update({"currentReplicas": st["replicas"], "updatedReplicas": st["replicas"]})
        out["status"] = st
        return out

    def decorate_deploy(self, dep):
        ns, uid = meta(dep).get("namespace", ""), meta(dep).get("uid")
        pods = []
        for rs in self.store.all(REPLICASETS):
            ref = controller_ref(rs)
            if meta(rs).get("namespace") == ns and ref and ref.get("uid") == uid:
                pods.extend(self._owned(rs))
        out = dict(dep)
        st = self._replica_status(dep, pods)
        st["updatedReplicas"] = st["replicas"]
        st["unavailableReplicas"] = max(0, int((dep.get("spec") or {}).get("replicas", 1)) - st["readyReplicas"])
        out["status"] = st
        return out

    # ---- graceful deletion -----------------------------------------------------------
    def delete_pod(self, ns, name, grace=None, preconditions=None, dry_run=False):
        """DELETE semantics of the pod registry; returns the pod as the server would."""
        st = self.store
        with st.lock:
            pod = st.raw(PODS, ns, name)
            if pod is None:
                raise ApiError.not_found("pods", name)
            pre = preconditions or {}
            if pre.get("uid") and pre["uid"] != meta(pod).get("uid"):
                raise ApiError.conflict("pods", name, msg="Precondition failed: UID in precondition: %s, UID in object "
                                        "meta: %s" % (pre["uid"], meta(pod).get("uid")))
            if pre.get("resourceVersion") and pre["resourceVersion"] != meta(pod).get("resourceVersion"):
                raise ApiError.conflict("pods", name, msg="Precondition failed: ResourceVersion in precondition: %s, "
                                        "ResourceVersion in object meta: %s" % (pre["resourceVersion"],
                                                                              meta(pod).get("resourceVersion")))
            if grace is None:
                grace = (pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
            grace = max(0, int(grace))
            # Unscheduled or finished pods go at once (pod strategy CheckGracefulDelete).
            if not (pod.get("spec") or {}).get("nodeName") or is_terminal(pod):
                grace = 0
            out = clone(pod)
            if meta(pod).get("deletionTimestamp"):
                old_grace = meta(pod).get("deletionGracePeriodSeconds", 0)
                if grace >= old_grace:
                    return pod  # deleting again never lengthens the grace period
            out["metadata"]["deletionTimestamp"] = meta(pod).get("deletionTimestamp") or now_rfc3339()
            out["metadata"]["deletionGracePeriodSeconds"] = grace
            if dry_run:
                return out
            if grace == 0:
                st.remove(PODS, ns, name)
                return out
            st.put(PODS, out)
            uid = meta(out).get("uid")
            self.timers.after(grace * self.grace_scale, lambda: self._finish_termination(ns, name, uid))
            return out

    def _finish_termination(self, ns, name, uid):
        with self.store.lock:
            pod = self.store.raw(PODS, ns, name)
            if pod is not None and meta(pod).get("uid") == uid and meta(pod).get("deletionTimestamp"):
                self.store.remove(PODS, ns, name)

    # ---- eviction subresource --------------------------------------------------------
    def matching_pdbs(self, pod):
        """Eviction's getPodDisruptionBudgets: here nil *and* empty selectors match nothing."""
        ns = meta(pod).get("namespace", "")
        out = []
        for k in sorted(self.store.by_ns.get(PDBS, {}).get(ns, ())):
            pdb = self.store.objs[PDBS].get(k)
            if pdb is None:
                continue
            try:
                sel = LabelSelector.from_object((pdb.get("spec") or {}).get("selector"))
            except ApiError:
                continue
            if sel is None or sel.empty or not sel.matches(meta(pod).get("labels")):
                continue
            out.append(pdb)
        return out

    def evict(self, ns, name, body, dry_run=False):
        """POST pods/NAME/eviction. Returns (http code, body) or raises ApiError."""
        if not isinstance(body, dict):
            raise ApiError.bad_request("not a Eviction object")
        if body.get("kind") not in (None, "Eviction"):
            raise ApiError.bad_request("not a Eviction object: %s" % body.get("kind"))
        if body.get("apiVersion") not in (None, "policy/v1", "policy/v1beta1"):
            raise ApiError.bad_request("unsupported Eviction version %s" % body.get("apiVersion"))
        if (body.get("metadata") or {}).get("name") != name:
            raise ApiError.bad_request("name in URL does not match name in Eviction object")
        opts = body.get("deleteOptions") or {}
        if not isinstance(opts, dict):
            raise ApiError.bad_request("deleteOptions must be an object")
        grace = opts.get("gracePeriodSeconds")
        dry_run = dry_run or bool(opts.get("dryRun"))
        pre = opts.get("preconditions") or {}
        st = self.store
        with st.lock:
            pod = st.raw(PODS, ns, name)
            if pod is None:
                raise ApiError.not_found("pods", name)
            phase = (pod.get("status") or {}).get("phase")
            ignore_pdb = phase in ("Succeeded", "Failed", "Pending") or meta(pod).get("deletionTimestamp")
            if not ignore_pdb:
                pdbs = self.matching_pdbs(pod)
                if len(pdbs) > 1:
                    # The real handler returns this Status as its result: code 500, no reason.
                    return 500, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                 "message": "This pod has more than one PodDisruptionBudget, which the eviction "
                                            "subresource does not support.", "code": 500}
                if pdbs:
                    pdb = pdbs[0]
                    ps = self.pdb_status(pdb)
                    policy = (pdb.get("spec") or {}).get("unhealthyPodEvictionPolicy")
                    unready_ok = not is_ready(pod) and (
                        policy == "AlwaysAllow" or (ps["currentHealthy"] >= ps["desiredHealthy"] > 0))
                    if not unready_ok and ps["disruptionsAllowed"] <= 0:
                        raise ApiError.too_many_requests(
                            "Cannot evict pod as it would violate the pod's disruption budget.",
                            causes=[{"reason": "DisruptionBudget",
                                     "message": "The disruption budget %s needs %d healthy pods and has %d currently"
                                                % (meta(pdb)["name"], ps["desiredHealthy"], ps["currentHealthy"])}])
                if not dry_run and not meta(pod).get("deletionTimestamp"):
                    # PodDisruptionConditions (GA in 1.31): the evicted pod is marked first.
                    marked = clone(pod)
                    conds = [c for c in marked.setdefault("status", {}).get("conditions") or []
                             if c.get("type") != "DisruptionTarget"]
                    conds.append({"type": "DisruptionTarget", "status": "True", "reason": "EvictionByEvictionAPI",
                                  "message": "Eviction API: evicting", "lastProbeTime": None,
                                  "lastTransitionTime": now_rfc3339()})
                    marked["status"]["conditions"] = conds
                    st.put(PODS, marked)
            self.delete_pod(ns, name, grace, pre, dry_run)
        return 201, success_status(201)

    # ---- scheduler -------------------------------------------------------------------
    def pick_node(self, pod, avoid=None):
        best, best_n = None, None
        spec = pod.get("spec") or {}
        sel = spec.get("nodeSelector") or {}
        for node in self.store.all(NODES):
            name = meta(node)["name"]
            if name == avoid or (node.get("spec") or {}).get("unschedulable"):
                continue
            if not any(c.get("type") == "Ready" and c.get("status") == "True"
                       for c in (node.get("status") or {}).get("conditions") or []):
                continue
            if any(t.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(spec.get("tolerations"), t)
                   for t in (node.get("spec") or {}).get("taints") or []):
                continue
            labels = meta(node).get("labels") or {}
            if any(labels.get(k) != v for k, v in sel.items()):
                continue
            n = len(self.store.pods_by_node.get(name, ()))
            if best is None or n < best_n:
                best, best_n = name, n
        return best

    def fresh_pod(self, template, name, node):
        """A newly created pod from `template`: new uid, Pending until the kubelet 'starts' it."""
        p = clone(template)
        m = p["metadata"]
        for f in ("deletionTimestamp", "deletionGracePeriodSeconds", "resourceVersion"):
            m.pop(f, None)
        m["name"], m["uid"], m["creationTimestamp"] = name, new_uid(), now_rfc3339()
        p.setdefault("spec", {})
        if node:
            p["spec"]["nodeName"] = node
        else:
            p["spec"].pop("nodeName", None)
        now = now_rfc3339()
        containers = p["spec"].get("containers") or []
        p["status"] = {
            "phase": "Pending", "qosClass": (template.get("status") or {}).get("qosClass", "BestEffort"),
            "conditions": [{"type": "PodScheduled", "status": "True" if node else "False", "lastProbeTime": None,
                            "lastTransitionTime": now}],
            "containerStatuses": [{"name": c.get("name", "app"), "image": c.get("image", ""), "imageID": "",
                                   "ready": False, "started": False, "restartCount": 0,
                                   "state": {"waiting": {"reason": "ContainerCreating"}}} for c in containers],
        }
        if not node:
            p["status"]["conditions"][0].update({"reason": "Unschedulable",
                                                 "message": "0/%d nodes are available." % len(self.store.objs.get(NODES, {}))})
            p["status"].pop("containerStatuses")
        return p

    def start_pod(self, ns, name, uid):
        """The kubelet side: make a scheduled pod Running and Ready."""
        with self.store.lock:
            pod = self.store.raw(PODS, ns, name)
            if pod is None or meta(pod).get("uid") != uid or meta(pod).get("deletionTimestamp"):
                return
            if not (pod.get("spec") or {}).get("nodeName"):
                return
            p = clone(pod)
            now = now_rfc3339()
            st = p.setdefault("status", {})
            st["phase"] = "Running"
            st["startTime"] = st.get("startTime") or now
            i = next(self.ip_counter)
            st["podIP"] = "10.244.%d.%d" % ((i // 250) % 250, i % 250 + 2)
            st["podIPs"] = [{"ip": st["podIP"]}]
            st["hostIP"] = self._node_ip(p["spec"]["nodeName"])
            st["conditions"] = [{"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": now}
                                for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                                          "PodScheduled")]
            st["containerStatuses"] = [{"name": c.get("name", "app"), "image": c.get("image", ""),
                                        "imageID": "", "containerID": "containerd://" + new_uid().replace("-", ""),
                                        "ready": True, "started": True, "restartCount": 0,
                                        "state": {"running": {"startedAt": now}}}
                                       for c in p["spec"].get("containers") or []]
            self.store.put(PODS, p)

    def _node_ip(self, node):
        n = self.store.raw(NODES, "", node)
        for a in ((n or {}).get("status") or {}).get("addresses") or []:
            if a.get("type") == "InternalIP":
                return a.get("address")
        return ""

    def create_replacement(self, template, name, avoid=None, node=None):
        """Create a replacement pod (controller side); scheduled unless no node fits."""
        ns = meta(template).get("namespace", "")
        if self.store.raw(PODS, ns, name) is not None:
            return None
        node = node or self.pick_node(template, avoid)
        p = self.fresh_pod(template, name, node)
        self.store.put(PODS, p)
        k = key_of(ns, name)
        if node:
            uid = p["metadata"]["uid"]
            self.timers.after(self.replacement_ready_ms / 1000.0, lambda: self.start_pod(ns, name, uid))
        else:
            self.pending.add(k)
        return p

    def _retry_pending(self):
        with self.store.lock:
            for k in sorted(self.pending):
                ns, name = k.split("/", 1)
                pod = self.store.raw(PODS, ns, name)
                if pod is None or (pod.get("spec") or {}).get("nodeName"):
                    self.pending.discard(k)
                    continue
                node = self.pick_node(pod)
                if not node:
                    continue
                self.pending.discard(k)
                p = clone(pod)
                p["spec"]["nodeName"] = node
                p["status"] = self.fresh_pod(pod, name, node)["status"]
                self.store.put(PODS, p)
                uid = meta(p)["uid"]
                self.timers.after(self.replacement_ready_ms / 1000.0,
                                  lambda ns=ns, name=name, uid=uid: self.start_pod(ns, name, uid))

    # ---- reactions to writes (called under the store lock) ---------------------------
    def _observe(self, storage, old, new):
        if storage == PODS:
            self._observe_pod(old, new)
        elif storage == NODES:
            self._observe_node(old, new)

    def _observe_pod(self, old, new):
        ref = controller_ref(new or old)
        if not ref:
            return
        kind = ref.get("kind")
        pod = new or old
        ns = meta(pod).get("namespace", "")
        # ReplicaSet: a terminating pod no longer counts as active -> replace at once.
        started_terminating = new is not None and meta(new).get("deletionTimestamp") and \
            not (old and meta(old).get("deletionTimestamp"))
        removed_abruptly = new is None and not meta(old).get("deletionTimestamp")
        if kind == "ReplicaSet" and (started_terminating or removed_abruptly) and not is_terminal(pod):
            rs = self.store.raw(REPLICASETS, ns, ref.get("name"))
            if rs is not None:
                active = sum(1 for p in self.store.pods_of_owner(ref.get("uid")) if not meta(p).get("deletionTimestamp"))
                if active >= int((rs.get("spec") or {}).get("replicas", 1)):
                    return
            gen = meta(pod).get("generateName") or (ref.get("name", "pod") + "-")
            name = gen + rand_suffix()
            self.create_replacement(pod, name, avoid=(pod.get("spec") or {}).get("nodeName"))
        # StatefulSet: the same identity comes back only once the old pod is gone.
        elif kind == "StatefulSet" and new is None:
            sts = self.store.raw(STATEFULSETS, ns, ref.get("name"))
            if sts is not None:
                try:
                    ordinal = int(meta(pod)["name"].rsplit("-", 1)[1])
                except (IndexError, ValueError):
                    ordinal = 0
                if ordinal >= int((sts.get("spec") or {}).get("replicas", 1)):
                    return
            self.create_replacement(pod, meta(pod)["name"], avoid=(pod.get("spec") or {}).get("nodeName"))
        # DaemonSet: recreated on the same node (it tolerates cordons) while the node exists.
        elif kind == "DaemonSet" and new is None:
            node = (pod.get("spec") or {}).get("nodeName")
            if node and self.store.raw(NODES, "", node) is not None:
                gen = meta(pod).get("generateName") or (ref.get("name", "ds") + "-")
                self.create_replacement(pod, gen + rand_suffix(), node=node)

    def _observe_node(self, old, new):
        if new is None:
            return
        was = bool(((old or {}).get("spec") or {}).get("unschedulable"))
        now = bool((new.get("spec") or {}).get("unschedulable"))
        name = meta(new)["name"]
        if (old is None or was != now) and self.unschedulable_taint_ms >= 0:
            self.timers.after(self.unschedulable_taint_ms / 1000.0, lambda: self._sync_unschedulable_taint(name))
        if self.pending:
            self.timers.after(0, self._retry_pending)

    def _sync_unschedulable_taint(self, name):
        """The node lifecycle controller mirrors spec.unschedulable as a NoSchedule taint.
        It is a separate write, so it bumps the node's resourceVersion after a cordon."""
        with self.store.lock:
            node = self.store.raw(NODES, "", name)
            if node is None:
                return
            want = bool((node.get("spec") or {}).get("unschedulable"))
            taints = (node.get("spec") or {}).get("taints") or []
            has = any(t.get("key") == UNSCHEDULABLE_TAINT for t in taints)
            if want == has:
                return
            n = clone(node)
            if want:
                n["spec"]["taints"] = taints + [{"key": UNSCHEDULABLE_TAINT, "effect": "NoSchedule"}]
            else:
                n["spec"]["taints"] = [t for t in taints if t.get("key") != UNSCHEDULABLE_TAINT]
                if not n["spec"]["taints"]:
                    del n["spec"]["taints"]
            self.store.put(NODES, n)
