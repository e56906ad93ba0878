"""The other writers on an AKS node, so tests see what the agent lives with (arch/ARCHITECTURE.md,
"Neighbours"; docs/operators.md):

- ConditionWriter: node-problem-detector. It owns a node condition and re-asserts its value on
  every heartbeat (status, reason, message; lastHeartbeatTime always, lastTransitionTime only
  when the status changes, as NPD does). When it finds a value it did not write it counts an
  overwrite: with the agent fighting it, `overwrites` grows and lastTransitionTime flips.
- KarpenterRepair: Karpenter's node repair for Azure. A node whose PreemptionScheduled
  condition is True for longer than the toleration (Karpenter Azure: 0) is repaired at once:
  every pod still on it (DaemonSet and mirror pods aside) is force-deleted, PodDisruptionBudgets
  bypassed. Each repair is recorded with the pods it force-deleted, so a test can tell a node
  the agent drained first (nothing left to force-delete) from one handed over too early.

One background thread ticks both every 50 ms; all changes go through the store under its lock.
"""

import threading
import time

from .store import NODES, PODS
from .util import ApiError, clone, now_rfc3339

TICK_S = 0.05


def _conditions(node):
    return (node.get("status") or {}).get("conditions") or []


def _find(node, ctype):
    for c in _conditions(node):
        if c.get("type") == ctype:
            return c
    return None


class ConditionWriter:
    FIELDS = ("node", "type", "status", "reason", "message", "intervalMs")

    def __init__(self, wid, spec):
        if not isinstance(spec, dict):
            raise ApiError.bad_request("a condition writer is a JSON object")
        unknown = set(spec) - set(self.FIELDS)
        if unknown:
            raise ApiError.bad_request("unknown condition writer fields: %s" % ", ".join(sorted(unknown)))
        for field in ("node", "type", "status", "reason", "message"):
            if not isinstance(spec.get(field), str):
                raise ApiError.bad_request("condition writer needs %s (a string)" % field)
        self.id = wid
        self.spec = dict(spec)
        self.interval = float(spec.get("intervalMs", 200)) / 1000.0
        self.next_at = 0.0
        self.heartbeats = 0
        self.overwrites = []  # what it found instead of its own value: {t, status, reason, message}
        self.transitions = 0  # lastTransitionTime changes made by someone else
        self._last_transition = None

    def update(self, spec):
        for field in ("status", "reason", "message"):
            if isinstance(spec.get(field), str):
                self.spec[field] = spec[field]
        if "intervalMs" in spec:
            self.interval = float(spec["intervalMs"]) / 1000.0

    def tick(self, store, now):
        if now < self.next_at:
            return
        self.next_at = now + self.interval
        node = store.raw(NODES, "", self.spec["node"])
        if node is None:
            return
        have = _find(node, self.spec["type"])
        want = {"type": self.spec["type"], "status": self.spec["status"], "reason": self.spec["reason"],
                "message": self.spec["message"]}
        stamp = now_rfc3339()
        transition = stamp
        if have is not None:
            mine = all(have.get(k) == want[k] for k in ("status", "reason", "message"))
            if not mine and self.heartbeats > 0:
                self.overwrites.append({"t": now, "status": have.get("status"), "reason": have.get("reason"),
                                        "message": have.get("message")})
            if have.get("status") == want["status"] and have.get("lastTransitionTime"):
                transition = have["lastTransitionTime"]
            if self._last_transition not in (None, have.get("lastTransitionTime")):
                self.transitions += 1
        want["lastHeartbeatTime"] = stamp
        want["lastTransitionTime"] = transition
        self._last_transition = transition
        n = clone(node)
        conds = [c for c in _conditions(n) if c.get("type") != want["type"]]
        conds.append(want)
        n.setdefault("status", {})["conditions"] = conds
        store.put(NODES, n)
        self.heartbeats += 1

    def describe(self):
        return dict(self.spec, id=self.id, heartbeats=self.heartbeats, overwrites=list(self.overwrites),
                    transitions=self.transitions, intervalMs=self.interval * 1000.0)


class KarpenterRepair:
    FIELDS = ("enabled", "tolerationMs", "condition")

    def __init__(self, spec):
        spec = spec or {}
        unknown = set(spec) - set(self.FIELDS)
        if unknown:
            raise ApiError.bad_request("unknown karpenter repair fields: %s" % ", ".join(sorted(unknown)))
        self.enabled = bool(spec.get("enabled", True))
        self.toleration = float(spec.get("tolerationMs", 0)) / 1000.0
        self.condition = spec.get("condition", "PreemptionScheduled")
        self.true_since = {}  # node -> monotonic time the condition was first seen True
        self.repaired = set()
        self.repairs = []

    def tick(self, store, now):
        if not self.enabled:
            return
        for node in store.all(NODES):
            name = node["metadata"]["name"]
            c = _find(node, self.condition)
            if c is None or c.get("status") != "True":
                self.true_since.pop(name, None)
                self.repaired.discard(name)
                continue
            since = self.true_since.setdefault(name, now)
            if name in self.repaired or now - since < self.toleration:
                continue
            self.repaired.add(name)
            deleted = []
            for pod in list(store.pods_on_node(name)):
                meta = pod.get("metadata") or {}
                owner = next((r for r in meta.get("ownerReferences") or [] if r.get("controller")), {})
                if owner.get("kind") == "DaemonSet" or "kubernetes.io/config.mirror" in (meta.get("annotations") or {}):
                    continue
                # Force delete: no grace period, no PodDisruptionBudget; controllers replace the pod.
                store.remove(PODS, meta.get("namespace", ""), meta["name"])
                deleted.append("%s/%s" % (meta.get("namespace", ""), meta["name"]))
            self.repairs.append({"node": name, "t": now, "conditionReason": c.get("reason"),
                                 "conditionMessage": c.get("message"), "podsForceDeleted": deleted})

    def describe(self):
        return {"enabled": self.enabled, "tolerationMs": self.toleration * 1000.0, "condition": self.condition,
                "repairs": list(self.repairs)}


class Neighbours:
    def __init__(self, store):
        self.store = store
        self.writers = []
        self.next_id = 1
        self.repair = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="neighbours", daemon=True)
        self.thread.start()

    def reset(self):
        with self.store.lock:
            self.writers = []
            self.repair = None

    def add_writer(self, spec):
        with self.store.lock:
            w = ConditionWriter(self.next_id, spec)
            self.next_id += 1
            self.writers.append(w)
            return w.describe()

    def update_writer(self, wid, spec):
        with self.store.lock:
            for w in self.writers:
                if w.id == wid:
                    w.update(spec or {})
                    return w.describe()
        raise ApiError.not_found("conditionwriters", str(wid))

    def remove_writers(self, wid=None):
        with self.store.lock:
            self.writers = [w for w in self.writers if wid is not None and w.id != wid]

    def set_repair(self, spec):
        with self.store.lock:
            self.repair = KarpenterRepair(spec) if spec is not None else None
            return self.describe()

    def describe(self):
        with self.store.lock:
            return {"conditionWriters": [w.describe() for w in self.writers],
                    "karpenterRepair": self.repair.describe() if self.repair else None}

    def _run(self):
        while not self.stop.wait(TICK_S):
            now = time.monotonic()
            with self.store.lock:
                for w in list(self.writers):
                    w.tick(self.store, now)
                if self.repair is not None:
                    self.repair.tick(self.store, now)
