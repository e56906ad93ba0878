"""events.k8s.io/v1 <-> core/v1 Event conversion.

Both APIs are views of one storage on a real server; so they are here. Field
mapping follows k8s.io/kubernetes/pkg/apis/events/v1/conversion.go.
"""

_PAIRS = [  # (events.k8s.io/v1 field, core/v1 field)
    ("regarding", "involvedObject"), ("note", "message"), ("reportingController", "reportingComponent"),
    ("reportingInstance", "reportingInstance"), ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"), ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"), ("eventTime", "eventTime"), ("action", "action"), ("reason", "reason"),
    ("type", "type"), ("related", "related"), ("series", "series"),
]


def core_to_events(ev):
    out = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": ev.get("metadata") or {}}
    for new, old in _PAIRS:
        if ev.get(old) not in (None, ""):
            out[new] = ev[old]
    if "eventTime" not in out:
        out["eventTime"] = None
    return out


def events_to_core(ev):
    out = {"apiVersion": "v1", "kind": "Event", "metadata": ev.get("metadata") or {}}
    for new, old in _PAIRS:
        if ev.get(new) not in (None, ""):
            out[old] = ev[new]
    out.setdefault("involvedObject", {})
    return out
