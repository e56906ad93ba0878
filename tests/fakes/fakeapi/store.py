"""The object store.

Invariants that make it both simple and fast under ~100 concurrent clients:
  * one lock guards everything; every write bumps a single global resourceVersion
    (a decimal string on the object and on every list, like etcd's revision);
  * stored objects are never mutated in place (copy-on-write), so a reader may take
    references under the lock and serialise them after releasing it;
  * secondary indexes (namespace, pod node, pod owner) keep per-request work
    proportional to what the request touches, not to the whole cluster.
"""

import base64
import bisect
import collections
import json
import threading

from . import resources
from .selectors import FieldSelector, LabelSelector
from .util import ApiError, clone, new_uid, now_rfc3339, rand_suffix

PODS = "/pods"
NODES = "/nodes"
EVENTS = resources.CORE_EVENTS
NAMESPACES = "/namespaces"
PDBS = "policy/poddisruptionbudgets"
DAEMONSETS = "apps/daemonsets"
REPLICASETS = "apps/replicasets"
STATEFULSETS = "apps/statefulsets"
DEPLOYMENTS = "apps/deployments"

NAMESPACED = {r.storage: r.namespaced for r in resources.RESOURCES}
RES_BY_STORAGE = {}
for _r in resources.RESOURCES:
    RES_BY_STORAGE.setdefault(_r.storage, _r)


def key_of(ns, name):
    return "%s/%s" % (ns, name) if ns else name


def controller_ref(o):
    for ref in (o.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


class Store:
    def __init__(self):
        self.lock = threading.RLock()
        self.rv = 0
        self.objs = {}         # storage -> {key: obj}
        self.keys = {}         # storage -> sorted [key]
        self.by_ns = {}        # storage -> {ns: set(key)}
        self.pods_by_node = {}  # node name -> set(pod key)
        self.pods_by_owner = {}  # owner uid -> set(pod key)
        self.observers = []    # fn(storage, old, new), called under the lock
        self.decorators = {}   # storage -> fn(obj) -> obj with live status (PDB, workloads)
        # Watch support: recent changes (rv, type, storage, obj) and a condition to wait on.
        # The condition has its own lock so watchers never contend for the store lock.
        self.history = collections.deque(maxlen=20000)
        self.changed = threading.Condition(threading.Lock())
        self.change_seq = 0  # bumped under `changed`; lets watchers wait without lost wake-ups
        # storage -> {key: (obj, json text of the list item)}. Objects are immutable, so a
        # cached text stays valid while the very same object (identity) is stored; lists of
        # hundreds of pods are then joined from cached strings instead of re-serialised.
        self.json_cache = {}

    # ---- low level (caller holds the lock) --------------------------------------------
    def next_rv(self):
        self.rv += 1
        return str(self.rv)

    def _table(self, storage):
        return self.objs.setdefault(storage, {})

    def raw(self, storage, ns, name):
        return self.objs.get(storage, {}).get(key_of(ns, name))

    def put(self, storage, obj, notify=True):
        """Insert or replace `obj` (a fresh dict the caller no longer mutates)."""
        meta = obj.setdefault("metadata", {})
        ns = meta.get("namespace", "") if NAMESPACED.get(storage) else ""
        k = key_of(ns, meta["name"])
        table = self._table(storage)
        old = table.get(k)
        meta["resourceVersion"] = self.next_rv()
        table[k] = obj
        if old is None:
            bisect.insort(self.keys.setdefault(storage, []), k)
            if ns:
                self.by_ns.setdefault(storage, {}).setdefault(ns, set()).add(k)
        if storage == PODS:
            self._reindex_pod(k, old, obj)
        self._record("ADDED" if old is None else "MODIFIED", storage, obj)
        if notify:
            for fn in self.observers:
                fn(storage, old, obj)
        return obj

    def _record(self, etype, storage, obj):
        self.history.append((self.rv, etype, storage, obj))
        with self.changed:
            self.change_seq += 1
            self.changed.notify_all()

    def changes_since(self, rv):
        """History entries newer than rv; None when rv is older than the history kept (410)."""
        with self.lock:
            if self.history and rv < self.history[0][0] - 1:
                return None
            # Scan from the end: watchers are nearly always close to the head.
            out = []
            for e in reversed(self.history):
                if e[0] <= rv:
                    break
                out.append(e)
            out.reverse()
            return out

    def remove(self, storage, ns, name, notify=True):
        k = key_of(ns if NAMESPACED.get(storage) else "", name)
        table = self._table(storage)
        old = table.pop(k, None)
        if old is None:
            return None
        self.json_cache.get(storage, {}).pop(k, None)
        self.next_rv()  # a delete is a write: the next list must show a newer revision
        keys = self.keys.get(storage, [])
        i = bisect.bisect_left(keys, k)
        if i < len(keys) and keys[i] == k:
            del keys[i]
        if ns and storage in self.by_ns:
            self.by_ns[storage].get(ns, set()).discard(k)
        if storage == PODS:
            self._reindex_pod(k, old, None)
        gone = dict(old)
        gone["metadata"] = dict(old.get("metadata") or {}, resourceVersion=str(self.rv))
        self._record("DELETED", storage, gone)
        if notify:
            for fn in self.observers:
                fn(storage, old, None)
        return old

    def _reindex_pod(self, k, old, new):
        def node(o):
            return ((o or {}).get("spec") or {}).get("nodeName") or ""

        def owner(o):
            ref = controller_ref(o or {})
            return ref.get("uid") if ref else None

        if old is not None:
            if node(old):
                self.pods_by_node.get(node(old), set()).discard(k)
            if owner(old):
                self.pods_by_owner.get(owner(old), set()).discard(k)
        if new is not None:
            if node(new):
                self.pods_by_node.setdefault(node(new), set()).add(k)
            if owner(new):
                self.pods_by_owner.setdefault(owner(new), set()).add(k)

    def pods_in_ns(self, ns):
        t = self.objs.get(PODS, {})
        return [t[k] for k in self.by_ns.get(PODS, {}).get(ns, ()) if k in t]

    def pods_on_node(self, node):
        t = self.objs.get(PODS, {})
        return [t[k] for k in self.pods_by_node.get(node, ()) if k in t]

    def pods_of_owner(self, uid):
        t = self.objs.get(PODS, {})
        return [t[k] for k in self.pods_by_owner.get(uid, ()) if k in t]

    def all(self, storage):
        t = self.objs.get(storage, {})
        return [t[k] for k in self.keys.get(storage, [])]

    def list_item_json(self, storage, obj):
        """JSON text of `obj` as a list item (no kind/apiVersion, as a real server sends)."""
        if storage in self.decorators:
            return None  # live status: computed per read, nothing to cache
        meta = obj.get("metadata") or {}
        k = key_of(meta.get("namespace", "") if NAMESPACED.get(storage) else "", meta.get("name", ""))
        cache = self.json_cache.setdefault(storage, {})
        hit = cache.get(k)
        if hit is not None and hit[0] is obj:
            return hit[1]
        text = json.dumps({f: v for f, v in obj.items() if f not in ("kind", "apiVersion")}, separators=(",", ":"))
        if self.objs.get(storage, {}).get(k) is obj:
            cache[k] = (obj, text)
        return text

    def decorate(self, storage, obj):
        fn = self.decorators.get(storage)
        return fn(obj) if fn else obj

    def ensure_namespace(self, ns):
        if ns and self.raw(NAMESPACES, "", ns) is None:
            self.put(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace",
                                  "metadata": {"name": ns, "uid": new_uid(), "creationTimestamp": now_rfc3339(),
                                               "labels": {"kubernetes.io/metadata.name": ns}},
                                  "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})

    def reset(self):
        with self.lock:
            self.history.clear()
            self.json_cache.clear()
            self.objs.clear()
            self.keys.clear()
            self.by_ns.clear()
            self.pods_by_node.clear()
            self.pods_by_owner.clear()
            for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
                self.ensure_namespace(ns)

    # ---- API-level operations --------------------------------------------------------
    def get(self, res, ns, name):
        with self.lock:
            o = self.raw(res.storage, ns, name)
            if o is None:
                raise ApiError.not_found(res.plural, name, res.group)
            return self.decorate(res.storage, o)

    def list(self, res, ns, label_selector="", field_selector="", limit=0, cont=""):
        """Returns (items, list metadata). Items are ordered by key, like etcd."""
        ls = LabelSelector.parse(label_selector)
        fs = FieldSelector.parse(field_selector)
        fs.validate(res.supported_fields(), res.kind)
        start_after, list_rv = "", None
        if cont:
            try:
                tok = json.loads(base64.urlsafe_b64decode(cont.encode() + b"=="))
                start_after, list_rv = tok["start"], tok["rv"]
            except Exception:
                raise ApiError.bad_request("continue key is not valid: incorrect encoded start resourceVersion "
                                           "(version meta.k8s.io/v1)")
        with self.lock:
            rv = list_rv or str(self.rv)
            table = self.objs.get(res.storage, {})
            node = fs.value_for("spec.nodeName") if res.storage == PODS else None
            if node is not None:
                keys = sorted(k for k in self.pods_by_node.get(node, ()) if not ns or k.startswith(ns + "/"))
            elif ns:
                keys = sorted(self.by_ns.get(res.storage, {}).get(ns, ()))
            else:
                keys = self.keys.get(res.storage, [])
            if start_after:
                keys = keys[bisect.bisect_right(keys, start_after):]
            out, more, last = [], False, None
            for k in keys:
                o = table.get(k)
                if o is None:
                    continue
                if not ls.matches((o.get("metadata") or {}).get("labels")) or not fs.matches(res.fields(o)):
                    continue
                if limit and len(out) >= limit:
                    more = True
                    break
                out.append(self.decorate(res.storage, o))
                last = k
            remaining = None
            if more and not label_selector and not field_selector:
                remaining = len(keys) - bisect.bisect_right(keys, last)
        meta = {"resourceVersion": rv}
        if more:
            meta["continue"] = base64.urlsafe_b64encode(json.dumps({"rv": rv, "start": last}).encode()).decode().rstrip("=")
            if remaining:
                meta["remainingItemCount"] = remaining
        return out, meta

    def create(self, res, ns, obj, dry_run=False):
        if not isinstance(obj, dict):
            raise ApiError.bad_request("the body of the request is not a JSON object")
        obj = clone(obj)
        meta = obj.setdefault("metadata", {})
        if res.namespaced:
            if meta.get("namespace") and ns and meta["namespace"] != ns:
                raise ApiError.bad_request("the namespace of the provided object does not match the namespace sent "
                                           "on the request")
            meta["namespace"] = ns or meta.get("namespace") or "default"
        else:
            meta.pop("namespace", None)
        with self.lock:
            if not meta.get("name"):
                if meta.get("generateName"):
                    meta["name"] = meta["generateName"] + rand_suffix()
                else:
                    raise ApiError.invalid(res.kind, "", "metadata.name: Required value: name or generateName is required",
                                           res.group)
            if self.raw(res.storage, meta.get("namespace", ""), meta["name"]) is not None:
                raise ApiError.already_exists(res.plural, meta["name"], res.group)
            obj.setdefault("apiVersion", res.api_version)
            obj.setdefault("kind", res.kind)
            meta["uid"] = meta.get("uid") or new_uid()
            meta["creationTimestamp"] = meta.get("creationTimestamp") or now_rfc3339()
            if res.storage in (PDBS, DAEMONSETS, REPLICASETS, STATEFULSETS, DEPLOYMENTS):
                meta.setdefault("generation", 1)
            if dry_run:
                return self.decorate(res.storage, obj)
            if res.namespaced:
                self.ensure_namespace(meta["namespace"])
            self.put(res.storage, obj)
            return self.decorate(res.storage, obj)

    def _commit_update(self, res, old, new, subresource, dry_run):
        """Shared tail of PUT and PATCH: precondition, immutable fields, status split."""
        name = old["metadata"]["name"]
        want_rv = (new.get("metadata") or {}).get("resourceVersion")
        if want_rv and want_rv != old["metadata"]["resourceVersion"]:
            raise ApiError.conflict(res.plural, name, res.group)
        if not isinstance(new.get("metadata"), dict):
            new["metadata"] = {}
        if new["metadata"].get("name", name) != name:
            raise ApiError.bad_request("the name of the object (%s) does not match the name on the URL (%s)"
                                       % (new["metadata"].get("name"), name))
        if subresource == "status":
            # Only status changes through /status; everything else is the stored object's.
            out = dict(old)
            if "status" in new:
                out["status"] = new["status"]
            else:
                out.pop("status", None)
            out["metadata"] = dict(old["metadata"])
        else:
            out = new
            if "status" in res.subresources:
                # The main resource ignores status, like the real registry strategies.
                if "status" in old:
                    out["status"] = old["status"]
                else:
                    out.pop("status", None)
            meta = dict(new["metadata"])
            for f in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "namespace",
                      "generation"):
                if f in old["metadata"]:
                    meta[f] = old["metadata"][f]
                else:
                    meta.pop(f, None)
            meta["name"] = name
            if "generation" in old["metadata"] and (new.get("spec") != old.get("spec")):
                meta["generation"] = old["metadata"]["generation"] + 1
            out["metadata"] = meta
        out["apiVersion"] = old.get("apiVersion", res.api_version)
        out["kind"] = old.get("kind", res.kind)
        if dry_run:
            return self.decorate(res.storage, out)
        self.put(res.storage, out)
        return self.decorate(res.storage, out)

    def update(self, res, ns, name, body, subresource=None, dry_run=False):
        if not isinstance(body, dict):
            raise ApiError.bad_request("the body of the request is not a JSON object")
        with self.lock:
            old = self.raw(res.storage, ns, name)
            if old is None:
                raise ApiError.not_found(res.plural, name, res.group)
            return self._commit_update(res, old, clone(body), subresource, dry_run)

    def patch(self, res, ns, name, content_type, body, subresource=None, dry_run=False):
        from .patch import apply_patch
        with self.lock:
            old = self.raw(res.storage, ns, name)
            if old is None:
                raise ApiError.not_found(res.plural, name, res.group)
            # Patch the object as clients see it (with live status) so status patches
            # against computed fields behave.
            new = apply_patch(content_type, self.decorate(res.storage, old), body)
            if not isinstance(new, dict):
                raise ApiError.unprocessable("the patch does not produce an object")
            return self._commit_update(res, old, new, subresource, dry_run)

    def delete(self, res, ns, name, dry_run=False):
        with self.lock:
            old = self.raw(res.storage, ns, name)
            if old is None:
                raise ApiError.not_found(res.plural, name, res.group)
            if not dry_run:
                self.remove(res.storage, ns, name)
            return old
