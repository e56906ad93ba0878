"""The resource registry: what the fake serves, as discovery and as storage.

One Resource per (group, version, plural). Discovery documents, field selectors and
table printing all come from here, so adding a resource is one entry.
"""

from . import tables


def _meta_fields(o):
    m = o.get("metadata") or {}
    return {"metadata.name": m.get("name", ""), "metadata.namespace": m.get("namespace", "")}


def _bool(v):
    return "true" if v else "false"


def pod_fields(o):
    f = _meta_fields(o)
    spec, st = o.get("spec") or {}, o.get("status") or {}
    f.update({
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.restartPolicy": spec.get("restartPolicy", ""),
        "spec.schedulerName": spec.get("schedulerName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", ""),
        "spec.hostNetwork": _bool(spec.get("hostNetwork")),
        "status.phase": st.get("phase", ""),
        "status.podIP": st.get("podIP", ""),
        "status.nominatedNodeName": st.get("nominatedNodeName", ""),
    })
    return f


def node_fields(o):
    f = _meta_fields(o)
    f["spec.unschedulable"] = _bool((o.get("spec") or {}).get("unschedulable"))
    return f


def event_fields(o):
    f = _meta_fields(o)
    io = o.get("involvedObject") or {}
    for k in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"):
        f["involvedObject." + k] = io.get(k, "")
    f["reason"] = o.get("reason", "")
    f["reportingComponent"] = o.get("reportingComponent", "")
    f["source"] = (o.get("source") or {}).get("component", "")
    f["type"] = o.get("type", "")
    return f


def ns_fields(o):
    f = _meta_fields(o)
    f["status.phase"] = (o.get("status") or {}).get("phase", "")
    return f


class Resource:
    def __init__(self, group, version, plural, kind, namespaced, short=(), subresources=(),
                 fields=_meta_fields, table=tables.default_table, categories=(), storage=None,
                 verbs=("create", "delete", "get", "list", "patch", "update"), singular=None):
        self.group, self.version, self.plural, self.kind = group, version, plural, kind
        self.namespaced = namespaced
        self.short = list(short)
        self.subresources = list(subresources)  # e.g. ["status"]
        self.fields = fields
        self.table = table
        self.categories = list(categories)
        self.verbs = list(verbs)
        self.singular = singular or kind.lower()
        # Objects are stored under `storage`; events.k8s.io/v1 events share core events.
        self.storage = storage or (group + "/" + plural)

    @property
    def api_version(self):
        return self.version if not self.group else "%s/%s" % (self.group, self.version)

    def supported_fields(self):
        return set(self.fields({"metadata": {}}).keys())


CORE_EVENTS = "/events"

RESOURCES = [
    Resource("", "v1", "nodes", "Node", False, ["no"], ["status"], node_fields, tables.node_table),
    Resource("", "v1", "pods", "Pod", True, ["po"], ["status", "eviction"], pod_fields, tables.pod_table,
             categories=["all"]),
    Resource("", "v1", "events", "Event", True, ["ev"], [], event_fields, tables.event_table),
    Resource("", "v1", "namespaces", "Namespace", False, ["ns"], ["status"], ns_fields, tables.namespace_table),
    Resource("apps", "v1", "daemonsets", "DaemonSet", True, ["ds"], ["status"], table=tables.daemonset_table,
             categories=["all"]),
    Resource("apps", "v1", "replicasets", "ReplicaSet", True, ["rs"], ["status"], table=tables.replicaset_table,
             categories=["all"]),
    Resource("apps", "v1", "statefulsets", "StatefulSet", True, ["sts"], ["status"], table=tables.statefulset_table,
             categories=["all"]),
    Resource("apps", "v1", "deployments", "Deployment", True, ["deploy"], ["status"], table=tables.deployment_table,
             categories=["all"]),
    Resource("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ["pdb"], ["status"],
             table=tables.pdb_table),
    Resource("events.k8s.io", "v1", "events", "Event", True, ["ev"], [], event_fields, tables.event_table,
             storage=CORE_EVENTS),
    # Node leases of the agents (one acting agent per node); update is a compare-and-swap on
    # metadata.resourceVersion like every write of the store.
    Resource("coordination.k8s.io", "v1", "leases", "Lease", True, [], []),
]

BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}
BY_KIND = {}
for _r in RESOURCES:
    BY_KIND.setdefault(_r.kind.lower(), _r)  # first wins: core Event over events.k8s.io
    BY_KIND.setdefault(_r.plural, _r)
    for _s in _r.short:
        BY_KIND.setdefault(_s, _r)


def groups():
    """Ordered {group: [versions]} for discovery; core ("") first."""
    out = {}
    for r in RESOURCES:
        out.setdefault(r.group, [])
        if r.version not in out[r.group]:
            out[r.group].append(r.version)
    return out


def resource_list(group, version):
    """meta/v1 APIResourceList for /api/v1 or /apis/G/V (legacy, non-aggregated discovery)."""
    items = []
    for r in RESOURCES:
        if r.group != group or r.version != version:
            continue
        e = {"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced, "kind": r.kind,
             "verbs": sorted(r.verbs)}
        if r.short:
            e["shortNames"] = r.short
        if r.categories:
            e["categories"] = r.categories
        e["storageVersionHash"] = "fake" + r.kind
        items.append(e)
        for sub in r.subresources:
            if sub == "eviction":
                # kubectl drain's CheckEvictionSupport looks for exactly this entry:
                # pods/eviction in group policy, version v1, kind Eviction.
                items.append({"name": "pods/eviction", "singularName": "", "namespaced": True,
                              "group": "policy", "version": "v1", "kind": "Eviction", "verbs": ["create"]})
            else:
                items.append({"name": "%s/%s" % (r.plural, sub), "singularName": "", "namespaced": r.namespaced,
                              "kind": r.kind, "verbs": ["get", "patch", "update"]})
    gv = version if not group else "%s/%s" % (group, version)
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": items}


def api_group(group):
    vers = groups().get(group)
    if vers is None:
        return None
    vs = [{"groupVersion": "%s/%s" % (group, v), "version": v} for v in vers]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": vs, "preferredVersion": vs[0]}


def api_group_list():
    # Inside an APIGroupList the groups carry no kind/apiVersion.
    out = []
    for g in groups():
        if g:
            ag = api_group(g)
            out.append({"name": ag["name"], "versions": ag["versions"], "preferredVersion": ag["preferredVersion"]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": out}
