"""meta.k8s.io/v1 Table rendering, so `kubectl get` prints the columns it prints
against a real cluster (kubectl only falls back to NAME/AGE for non-Table answers).

Each *_table is (column definitions, cells(obj) function); the column names,
types and priorities copy pkg/printers/internalversion/printers.go. Priority 1
columns are the ones `-o wide` adds.
"""

from .util import age, parse_time


def col(name, typ="string", desc="", priority=0, fmt=""):
    return {"name": name, "type": typ, "format": fmt, "description": desc, "priority": priority}


NAME = col("Name", fmt="name", desc="Name must be unique within a namespace.")
AGE = col("Age", desc="CreationTimestamp is a timestamp representing the server time when this object was created.")


def _meta(o):
    return o.get("metadata") or {}


def _ts_age(o):
    return age(_meta(o).get("creationTimestamp"))


def _none(v):
    return v if v not in (None, "", []) else "<none>"


# ---- default ---------------------------------------------------------------------------

default_table = ([NAME, col("Created At", "date", "CreationTimestamp")],
                 lambda o: [_meta(o).get("name", ""), _meta(o).get("creationTimestamp", "")])


# ---- nodes -----------------------------------------------------------------------------

def _node_cells(o):
    st, spec, labels = o.get("status") or {}, o.get("spec") or {}, _meta(o).get("labels") or {}
    ready = "Unknown"
    for c in st.get("conditions") or []:
        if c.get("type") == "Ready":
            ready = "Ready" if c.get("status") == "True" else "NotReady"
    status = ready + (",SchedulingDisabled" if spec.get("unschedulable") else "")
    roles = []
    for k, v in labels.items():
        if k.startswith("node-role.kubernetes.io/"):
            roles.append(k.split("/", 1)[1])
        elif k == "kubernetes.io/role" and v:
            roles.append(v)
    addrs = {a.get("type"): a.get("address") for a in st.get("addresses") or []}
    info = st.get("nodeInfo") or {}
    return [_meta(o).get("name", ""), status, ",".join(sorted(set(roles))) or "<none>", _ts_age(o),
            info.get("kubeletVersion", ""), _none(addrs.get("InternalIP")), _none(addrs.get("ExternalIP")),
            info.get("osImage", "<unknown>"), info.get("kernelVersion", "<unknown>"),
            info.get("containerRuntimeVersion", "<unknown>")]


node_table = ([NAME, col("Status", desc="The status of the node"), col("Roles", desc="The roles of the node"), AGE,
               col("Version", desc="Kubelet Version reported by the node."),
               col("Internal-IP", priority=1, desc="List of internal IPs in the node."),
               col("External-IP", priority=1, desc="List of external IPs in the node."),
               col("OS-Image", priority=1, desc="OS Image reported by the node."),
               col("Kernel-Version", priority=1, desc="Kernel Version reported by the node."),
               col("Container-Runtime", priority=1, desc="Container Runtime Version reported by the node.")],
              _node_cells)


# ---- pods ------------------------------------------------------------------------------

def pod_status_reason(o):
    """A simplified printPod: Terminating / container waiting reason / phase."""
    st = o.get("status") or {}
    reason = st.get("reason") or st.get("phase") or "Unknown"
    for cs in st.get("containerStatuses") or []:
        state = cs.get("state") or {}
        if state.get("waiting", {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif state.get("terminated", {}).get("reason"):
            reason = state["terminated"]["reason"]
    if _meta(o).get("deletionTimestamp") and st.get("phase") not in ("Succeeded", "Failed"):
        reason = "Terminating"
    return reason


def _pod_cells(o):
    st, spec = o.get("status") or {}, o.get("spec") or {}
    css = st.get("containerStatuses") or []
    total = len(spec.get("containers") or [])
    ready = sum(1 for c in css if c.get("ready"))
    restarts = sum(int(c.get("restartCount") or 0) for c in css)
    gates = spec.get("readinessGates") or []
    return [_meta(o).get("name", ""), "%d/%d" % (ready, total), pod_status_reason(o), str(restarts), _ts_age(o),
            _none(st.get("podIP")), _none(spec.get("nodeName")), _none(st.get("nominatedNodeName")),
            "<none>" if not gates else "%d/%d" % (0, len(gates))]


pod_table = ([NAME, col("Ready", desc="The aggregate readiness state of this pod for accepting traffic."),
              col("Status", desc="The aggregate status of the containers in this pod."),
              col("Restarts", desc="The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
              AGE, col("IP", priority=1, desc="IP address allocated to the pod."),
              col("Node", priority=1, desc="Name of the node the pod is assigned to."),
              col("Nominated Node", priority=1, desc="Name of the node the pod is nominated to."),
              col("Readiness Gates", priority=1, desc="Pod readiness gates.")],
             _pod_cells)


# ---- events ----------------------------------------------------------------------------

def _event_cells(o):
    # Works for core/v1 and events.k8s.io/v1 (deprecated* fields) alike.
    first = (o.get("firstTimestamp") or o.get("deprecatedFirstTimestamp") or o.get("eventTime")
             or _meta(o).get("creationTimestamp"))
    last = o.get("lastTimestamp") or o.get("deprecatedLastTimestamp") or o.get("eventTime") or first
    count = int(o.get("count") or o.get("deprecatedCount") or (o.get("series") or {}).get("count") or 1)
    last_seen = age(last)
    if count > 1:
        last_seen = "%s (x%d over %s)" % (age(last), count, age(first))
    io = o.get("involvedObject") or o.get("regarding") or {}
    src = o.get("source") or o.get("deprecatedSource") or {}
    source = src.get("component") or o.get("reportingComponent") or o.get("reportingController") or ""
    if src.get("host"):
        source += ", " + src["host"]
    return [last_seen, o.get("type", ""), o.get("reason", ""),
            "%s/%s" % ((io.get("kind") or "").lower(), io.get("name", "")), io.get("fieldPath", ""), source,
            (o.get("message") or o.get("note") or "").strip(), age(first), count, _meta(o).get("name", "")]


event_table = ([col("Last Seen", desc="Time since the object last occurred"),
                col("Type", desc="Type of this event (Normal, Warning), new types could be added in the future."),
                col("Reason", desc="This should be a short, machine understandable string that gives the reason for this event being generated."),
                col("Object", desc="The object this Event is about."),
                col("Subobject", priority=1, desc="The field of the involved object this event is about."),
                col("Source", priority=1, desc="The component reporting this event."),
                col("Message", desc="A human-readable description of the status of this operation."),
                col("First Seen", priority=1, desc="The time at which the event was first recorded."),
                col("Count", "integer", priority=1, desc="The number of times this event has occurred."),
                dict(NAME, priority=1)],
               _event_cells)


def event_sort_key(o):
    """kubectl shows events oldest first only with --sort-by; the server keeps key order."""
    t = parse_time(o.get("lastTimestamp") or o.get("eventTime") or _meta(o).get("creationTimestamp"))
    return t.timestamp() if t else 0


# ---- workloads -------------------------------------------------------------------------

def _sel_str(o):
    sel = ((o.get("spec") or {}).get("selector") or {})
    parts = ["%s=%s" % kv for kv in sorted((sel.get("matchLabels") or {}).items())]
    for e in sel.get("matchExpressions") or []:
        parts.append("%s %s (%s)" % (e.get("key"), e.get("operator", "").lower(), ",".join(e.get("values") or [])))
    return ",".join(parts) or "<none>"


def _containers(o):
    cs = (((o.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
    return ",".join(c.get("name", "") for c in cs), ",".join(c.get("image", "") for c in cs)


def _ds_cells(o):
    st = o.get("status") or {}
    ns = (((o.get("spec") or {}).get("template") or {}).get("spec") or {}).get("nodeSelector") or {}
    cn, im = _containers(o)
    return [_meta(o).get("name", ""), st.get("desiredNumberScheduled", 0), st.get("currentNumberScheduled", 0),
            st.get("numberReady", 0), st.get("updatedNumberScheduled", 0), st.get("numberAvailable", 0),
            ",".join("%s=%s" % kv for kv in sorted(ns.items())) or "<none>", _ts_age(o), cn, im, _sel_str(o)]


daemonset_table = ([NAME, col("Desired", "integer"), col("Current", "integer"), col("Ready", "integer"),
                    col("Up-to-date", "integer"), col("Available", "integer"), col("Node Selector"), AGE,
                    col("Containers", priority=1), col("Images", priority=1), col("Selector", priority=1)],
                   _ds_cells)


def _rs_cells(o):
    st = o.get("status") or {}
    cn, im = _containers(o)
    return [_meta(o).get("name", ""), (o.get("spec") or {}).get("replicas", 1), st.get("replicas", 0),
            st.get("readyReplicas", 0), _ts_age(o), cn, im, _sel_str(o)]


replicaset_table = ([NAME, col("Desired", "integer"), col("Current", "integer"), col("Ready", "integer"), AGE,
                     col("Containers", priority=1), col("Images", priority=1), col("Selector", priority=1)],
                    _rs_cells)


def _sts_cells(o):
    st = o.get("status") or {}
    cn, im = _containers(o)
    return [_meta(o).get("name", ""), "%d/%d" % (st.get("readyReplicas", 0), (o.get("spec") or {}).get("replicas", 1)),
            _ts_age(o), cn, im]


statefulset_table = ([NAME, col("Ready"), AGE, col("Containers", priority=1), col("Images", priority=1)], _sts_cells)


def _deploy_cells(o):
    st = o.get("status") or {}
    cn, im = _containers(o)
    return [_meta(o).get("name", ""), "%d/%d" % (st.get("readyReplicas", 0), (o.get("spec") or {}).get("replicas", 1)),
            st.get("updatedReplicas", 0), st.get("availableReplicas", 0), _ts_age(o), cn, im, _sel_str(o)]


deployment_table = ([NAME, col("Ready"), col("Up-to-date", "integer"), col("Available", "integer"), AGE,
                     col("Containers", priority=1), col("Images", priority=1), col("Selector", priority=1)],
                    _deploy_cells)


def _pdb_cells(o):
    spec, st = o.get("spec") or {}, o.get("status") or {}
    mn, mx = spec.get("minAvailable"), spec.get("maxUnavailable")
    return [_meta(o).get("name", ""), "N/A" if mn is None else str(mn), "N/A" if mx is None else str(mx),
            st.get("disruptionsAllowed", 0), _ts_age(o)]


pdb_table = ([NAME, col("Min Available", desc="The minimum number of pods that must be available."),
              col("Max Unavailable", desc="The maximum number of pods that may be unavailable."),
              col("Allowed Disruptions", "integer", desc="Calculated number of pods that may be disrupted at this time."),
              AGE], _pdb_cells)


def _ns_cells(o):
    return [_meta(o).get("name", ""), (o.get("status") or {}).get("phase", "Active"), _ts_age(o)]


namespace_table = ([NAME, col("Status", desc="The status of the namespace"), AGE], _ns_cells)


def render(table, objs, list_meta, include_object="Metadata"):
    """Build the meta.k8s.io/v1 Table. Each row carries a PartialObjectMetadata so
    kubectl can add its NAMESPACE column (-A) and --show-labels."""
    cols, cells = table
    rows = []
    for o in objs:
        row = {"cells": cells(o)}
        if include_object == "Object":
            row["object"] = o
        elif include_object != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": o.get("metadata") or {}}
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta,
            "columnDefinitions": cols, "rows": rows}
