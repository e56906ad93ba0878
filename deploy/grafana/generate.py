#!/usr/bin/env python3
"""Generate aks-node-agent.json, the Grafana dashboard for aks-node-agent.

Edit this file, then run `python3 deploy/grafana/generate.py` (tests/deploy
checks that the JSON is up to date, that every query names only metric
families and labels of docs/metrics.md, and that every query parses in promtool).
`--stdout` prints instead of writing.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "aks-node-agent.json")
DS = {"type": "prometheus", "uid": "${datasource}"}
# cluster: the convention of the Kubernetes mixins for one Grafana over many clusters (an
# external label or a relabelling that adds `cluster`). With a single cluster the series
# have no such label and the variable's "All" (.*) matches them.
SEL = 'job="aks-node-agent", cluster=~"$cluster", node=~"$node"'
# Labels of the agent's own are those no scrape config sets (imds_endpoint, pod_namespace, not
# endpoint, namespace), so the panels work with honorLabels on or off (docs/metrics.md).
UP = 'up{job="aks-node-agent", cluster=~"$cluster"}'


class Layout:
    def __init__(self):
        self.y = 0
        self.x = 0
        self.row_h = 0
        self.panels = []
        self.next_id = 1

    def _place(self, w, h):
        if self.x + w > 24:
            self.y += self.row_h
            self.x = 0
            self.row_h = 0
        pos = {"h": h, "w": w, "x": self.x, "y": self.y}
        self.x += w
        self.row_h = max(self.row_h, h)
        return pos

    def row(self, title):
        if self.x:
            self.y += self.row_h
        self.x = 0
        self.row_h = 0
        self.panels.append({"type": "row", "title": title, "id": self._id(), "collapsed": False,
                            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}, "panels": []})
        self.y += 1

    def _id(self):
        i = self.next_id
        self.next_id += 1
        return i

    def add(self, panel, w, h):
        panel["id"] = self._id()
        panel["gridPos"] = self._place(w, h)
        panel["datasource"] = DS
        self.panels.append(panel)


def target(expr, legend="", ref="A", instant=False):
    t = {"datasource": DS, "expr": expr, "legendFormat": legend or "__auto", "refId": ref,
         "range": not instant, "instant": instant}
    if instant:
        t["format"] = "table" if legend == "__table" else "time_series"
        if legend == "__table":
            t["legendFormat"] = "__auto"
    return t


def targets(*specs, instant=False):
    return [target(e, l, chr(ord("A") + i), instant) for i, (e, l) in enumerate(specs)]


def timeseries(title, specs, unit="short", desc="", stack=False, draw="line", minv=None, maxv=None,
               thresholds=None):
    defaults = {"unit": unit, "custom": {"drawStyle": draw, "lineWidth": 1, "fillOpacity": 10,
                                         "showPoints": "never", "spanNulls": False,
                                         "stacking": {"mode": "normal" if stack else "none", "group": "A"}}}
    if minv is not None:
        defaults["min"] = minv
    if maxv is not None:
        defaults["max"] = maxv
    if thresholds:
        defaults["thresholds"] = thresholds
    return {"type": "timeseries", "title": title, "description": desc,
            "targets": targets(*specs),
            "fieldConfig": {"defaults": defaults, "overrides": []},
            "options": {"legend": {"displayMode": "table", "placement": "bottom", "calcs": ["lastNotNull", "max"]},
                        "tooltip": {"mode": "multi", "sort": "desc"}}}


def stat(title, expr, unit="short", desc="", thresholds=None, legend=""):
    steps = thresholds or [{"color": "green", "value": None}]
    return {"type": "stat", "title": title, "description": desc,
            "targets": [target(expr, legend, "A", instant=True)],
            "fieldConfig": {"defaults": {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps},
                                         "noValue": "0"}, "overrides": []},
            "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                        "colorMode": "background", "graphMode": "none", "textMode": "auto",
                        "justifyMode": "auto", "orientation": "auto"}}


def bad_if_above(limit=0, color="red"):
    return [{"color": "green", "value": None}, {"color": color, "value": limit + 1e-9 if limit == 0 else limit}]


def state_timeline(title, specs, desc="", mapping=None):
    mappings = mapping or []
    return {"type": "state-timeline", "title": title, "description": desc,
            "targets": targets(*specs),
            "fieldConfig": {"defaults": {"mappings": mappings, "thresholds": {"mode": "absolute", "steps": [
                {"color": "red", "value": None}, {"color": "green", "value": 1}]},
                "color": {"mode": "thresholds"}, "custom": {"fillOpacity": 80, "lineWidth": 0}},
                "overrides": []},
            "options": {"showValue": "never", "mergeValues": True, "rowHeight": 0.9,
                        "legend": {"displayMode": "list", "placement": "bottom", "showLegend": False}}}


def healthy_mapping(good="healthy", bad="unhealthy"):
    return [{"type": "value", "options": {"0": {"text": bad, "color": "red", "index": 0},
                                           "1": {"text": good, "color": "green", "index": 1}}}]


def table(title, expr, desc="", hide=("Time", "Value", "__name__")):
    return {"type": "table", "title": title, "description": desc,
            "targets": [target(expr, "__table", "A", instant=True)],
            "fieldConfig": {"defaults": {}, "overrides": []},
            "options": {"showHeader": True, "cellHeight": "sm"},
            "transformations": [{"id": "organize", "options": {
                "excludeByName": {k: True for k in hide}, "indexByName": {}, "renameByName": {}}}]}


def quantiles(metric, by="", rng="$__rate_interval", fn="rate"):
    grp = f"le{', ' + by if by else ''}"
    leg = f"{{{{{by}}}}} " if by else ""
    return [(f'histogram_quantile({q}, sum by ({grp}) ({fn}({metric}_bucket{{{SEL}}}[{rng}])))', f"{leg}p{int(q * 100)}")
            for q in (0.5, 0.9, 0.99)]


def build():
    L = Layout()

    L.row("Fleet")
    L.add(stat("Agents up", f"count({UP} == 1)", desc="Scrape targets answering."), 4, 4)
    L.add(stat("Agents down", f"count({UP} == 0)", thresholds=bad_if_above()), 4, 4)
    L.add(stat("Evictions pending", f"sum(aksnode_eviction_pending{{{SEL}}})", thresholds=bad_if_above(0, "orange"),
               desc="Nodes with a Preempt or Terminate event pending for their VM."), 4, 4)
    L.add(stat("Nodes cordoned", f"sum(aksnode_node_cordoned{{{SEL}}})", thresholds=bad_if_above(0, "orange")), 4, 4)
    L.add(stat("Drains not successful (range)",
               f'sum(increase(aksnode_drain_duration_seconds_count{{{SEL}, result!="success"}}[$__range]))',
               thresholds=bad_if_above()), 4, 4)
    L.add(stat("Unhealthy disks / caches",
               f"count(aksnode_disk_healthy{{{SEL}}} == 0 or aksnode_cache_healthy{{{SEL}}} == 0)",
               thresholds=bad_if_above()), 4, 4)

    L.row("Scheduled events and evictions")
    L.add(timeseries("Eviction pending", [(f"aksnode_eviction_pending{{{SEL}}}", "{{node}}")], draw="line",
                     minv=0, maxv=1, desc="1 while a Preempt or Terminate event is pending for the node's VM."), 8, 8)
    L.add(timeseries("Seconds until NotBefore",
                     [(f"(aksnode_eviction_not_before_timestamp_seconds{{{SEL}}} > 0) - time()", "{{node}}")],
                     unit="s", desc="Earliest pending NotBefore minus now (negative: passed)."), 8, 8)
    L.add(timeseries("Scheduled events pending by type",
                     [(f"sum by (event_type, event_status) (aksnode_scheduled_events{{{SEL}}})",
                       "{{event_type}} {{event_status}}")], stack=True), 8, 8)
    L.add(timeseries("Events seen",
                     [(f"sum by (event_type) (increase(aksnode_scheduled_events_seen_total{{{SEL}}}[$__rate_interval]))",
                       "{{event_type}}")], draw="bars", stack=True), 8, 8)
    L.add(timeseries("Detection latency (event seen to cordon accepted)",
                     quantiles("aksnode_event_detection_latency_seconds", rng="$__range", fn="increase"),
                     unit="s", desc="Quantiles over the whole selected range (events are rare)."), 8, 8)
    L.add(timeseries("IMDS document incarnation", [(f"aksnode_imds_document_incarnation{{{SEL}}}", "{{node}}")]),
          8, 8)

    L.row("Drains")
    L.add(timeseries("Drain duration", quantiles("aksnode_drain_duration_seconds", by="result", rng="$__range",
                                                 fn="increase"), unit="s",
                     desc="Quantiles over the selected range, by result."), 8, 8)
    L.add(timeseries("Drains by result",
                     [(f"sum by (result) (increase(aksnode_drain_duration_seconds_count{{{SEL}}}[$__rate_interval]))",
                       "{{result}}")], draw="bars", stack=True), 8, 8)
    L.add(timeseries("Pods remaining", [(f"aksnode_drain_pods_remaining{{{SEL}}}", "{{node}}")]), 8, 8)
    L.add(timeseries("Pod evictions by result",
                     [(f"sum by (result) (rate(aksnode_pod_evictions_total{{{SEL}}}[$__rate_interval]))", "{{result}}")],
                     unit="reqps", stack=True, desc="blocked_pdb: HTTP 429 from a PodDisruptionBudget, retried."), 8, 8)
    L.add(timeseries("Actions",
                     [(f"sum by (action, result, dry_run) (increase(aksnode_actions_total{{{SEL}}}[$__rate_interval]))",
                       "{{action}} {{result}} dry_run={{dry_run}}")], draw="bars", stack=True), 8, 8)
    L.add(timeseries("Node cordoned", [(f"aksnode_node_cordoned{{{SEL}}}", "{{node}}")], minv=0, maxv=1), 8, 8)

    L.row("Azure IMDS and Kubernetes API")
    L.add(timeseries("IMDS requests by result",
                     [(f"sum by (imds_endpoint, result) (rate(aksnode_imds_requests_total{{{SEL}}}[$__rate_interval]))",
                       "{{imds_endpoint}} {{result}}")], unit="reqps", stack=True), 8, 8)
    L.add(timeseries("IMDS error ratio",
                     [(f'sum by (node) (rate(aksnode_imds_requests_total{{{SEL}, result!="ok"}}[$__rate_interval]))'
                       f" / sum by (node) (rate(aksnode_imds_requests_total{{{SEL}}}[$__rate_interval]))", "{{node}}")],
                     unit="percentunit", minv=0), 8, 8)
    L.add(timeseries("IMDS latency", quantiles("aksnode_imds_request_duration_seconds", by="imds_endpoint"), unit="s"), 8, 8)
    L.add(timeseries("Kubernetes API requests by code",
                     [(f"sum by (code) (rate(aksnode_kube_requests_total{{{SEL}}}[$__rate_interval]))", "{{code}}")],
                     unit="reqps", stack=True,
                     desc="4xx includes the 404s of evicted pods being gone; 429 includes PDB refusals."), 12, 8)
    L.add(timeseries("Kubernetes API requests by verb and resource",
                     [(f"sum by (verb, resource) (rate(aksnode_kube_requests_total{{{SEL}}}[$__rate_interval]))",
                       "{{verb}} {{resource}}")], unit="reqps", stack=True), 12, 8)

    L.row("Local disks and caches")
    L.add(state_timeline("Disk health", [(f"aksnode_disk_healthy{{{SEL}}}", "{{node}} {{path}}")],
                         mapping=healthy_mapping()), 12, 8)
    L.add(state_timeline("Cache health", [(f"aksnode_cache_healthy{{{SEL}}}", "{{node}} {{path}}")],
                         mapping=healthy_mapping()), 12, 8)
    L.add(state_timeline("Disk writable", [(f"1 - aksnode_disk_read_only{{{SEL}}}", "{{node}} {{path}}")],
                         mapping=healthy_mapping("read-write", "read-only")), 8, 8)
    L.add(timeseries("Disk free bytes", [(f"aksnode_disk_free_bytes{{{SEL}}}", "{{node}} {{path}}")], unit="bytes"),
          8, 8)
    L.add(timeseries("Disk free ratio (space, inodes)",
                     [(f"aksnode_disk_free_bytes{{{SEL}}} / (aksnode_disk_size_bytes{{{SEL}}} > 0)",
                       "{{node}} {{path}} space"),
                      (f"aksnode_disk_free_inodes_ratio{{{SEL}}}", "{{node}} {{path}} inodes")],
                     unit="percentunit", minv=0, maxv=1), 8, 8)
    L.add(timeseries("Disk probe latency", quantiles("aksnode_disk_probe_duration_seconds", by="path"), unit="s"),
          12, 8)
    L.add(timeseries("Cache used bytes", [(f"aksnode_cache_used_bytes{{{SEL}}}", "{{node}} {{path}}")], unit="bytes"),
          12, 8)

    L.row("Workload identity")
    L.add(state_timeline("Token valid", [(f"aksnode_identity_token_valid{{{SEL}}}", "{{node}}")],
                         mapping=healthy_mapping("valid", "invalid")), 8, 8)
    L.add(timeseries("Token time to expiry",
                     [(f"(aksnode_identity_token_expiry_timestamp_seconds{{{SEL}}} > 0) - time()",
                       "{{node}}")], unit="s",
                     thresholds={"mode": "absolute", "steps": [{"color": "red", "value": None},
                                                               {"color": "green", "value": 600}]}), 8, 8)
    L.add(timeseries("Token checks by result",
                     [(f"sum by (result) (increase(aksnode_identity_checks_total{{{SEL}}}[$__rate_interval]))",
                       "{{result}}")], draw="bars", stack=True), 8, 8)
    L.add(timeseries("Token exchange by result",
                     [(f"sum by (result) (increase(aksnode_identity_exchange_total{{{SEL}}}[$__rate_interval]))",
                       "{{result}}")], draw="bars", stack=True,
                     desc="Entra ID token requests (identity.exchange): ok, AADSTS<code>, http_error, unreachable."),
          12, 8)
    L.add(timeseries("Misconfigured workload identity pods",
                     [(f"sum by (pod_namespace) (aksnode_identity_pods_misconfigured{{{SEL}}})", "{{pod_namespace}}")],
                     stack=True), 12, 8)

    L.row("Webhook notifications")
    # aksnode_notifications_total{webhook,result} and aksnode_notifications_dropped_total{webhook}
    # (docs/metrics.md); the alert AKSNodeNotificationsFailing fires on any lost one.
    L.add(timeseries("Webhook notices by result",
                     [(f"sum by (webhook, result) (increase(aksnode_notifications_total{{{SEL}}}[$__rate_interval]))",
                       "{{webhook}} {{result}}")], draw="bars", stack=True,
                     desc="How each notice ended: ok (2xx), error (refused, TLS, or failed on every attempt), "
                          "timeout (no answer within the webhook's timeout). docs/notifications.md."), 12, 8)
    L.add(timeseries("Webhook notices lost",
                     [(f'sum by (webhook) (increase(aksnode_notifications_total{{{SEL}, result!="ok"}}[$__rate_interval]))',
                       "{{webhook}} failed"),
                      (f"sum by (webhook) (increase(aksnode_notifications_dropped_total{{{SEL}}}[$__rate_interval]))",
                       "{{webhook}} dropped")], draw="bars", stack=True,
                     desc="Notices the channel never got: error or timeout, or dropped unsent from a full queue "
                          "(32). AKSNodeNotificationsFailing, docs/runbooks.md."), 12, 8)

    L.row("Agents")
    L.add(table("Agent versions", f"aksnode_build_info{{{SEL}}}",
                hide=("Time", "Value", "__name__", "job", "endpoint")), 24, 8)
    return L.panels


def dashboard():
    return {
        "__inputs": [],
        "annotations": {"list": [{
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True,
            "hide": True, "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard"}]},
        "description": "aks-node-agent: spot evictions and scheduled events, drains, IMDS, local disks and caches, "
                       "workload identity, webhook notifications. Metrics: docs/metrics.md.",
        "editable": True,
        "graphTooltip": 1,
        "links": [],
        "panels": build(),
        "refresh": "30s",
        "schemaVersion": 39,
        "tags": ["aks", "aks-node-agent", "kubernetes"],
        "templating": {"list": [
            {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
             "current": {}, "hide": 0, "refresh": 1, "regex": "", "includeAll": False, "multi": False,
             "options": []},
            {"name": "cluster", "label": "Cluster", "type": "query", "datasource": DS,
             "definition": "label_values(aksnode_build_info, cluster)",
             "query": {"query": "label_values(aksnode_build_info, cluster)", "refId": "cluster"},
             "current": {}, "hide": 0, "includeAll": True, "allValue": ".*", "multi": False,
             "refresh": 2, "regex": "", "sort": 1, "options": []},
            {"name": "node", "label": "Node", "type": "query", "datasource": DS,
             "definition": 'label_values(aksnode_build_info{cluster=~"$cluster"}, node)',
             "query": {"query": 'label_values(aksnode_build_info{cluster=~"$cluster"}, node)', "refId": "node"},
             "current": {}, "hide": 0, "includeAll": True, "allValue": ".*", "multi": True,
             "refresh": 2, "regex": "", "sort": 1, "options": []},
        ]},
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "timezone": "browser",
        "title": "aks-node-agent",
        "uid": "aks-node-agent",
        "version": 1,
    }


def render():
    return json.dumps(dashboard(), indent=2, sort_keys=False) + "\n"


if __name__ == "__main__":
    text = render()
    if "--stdout" in sys.argv[1:]:
        sys.stdout.write(text)
    else:
        with open(OUT, "w") as f:
            f.write(text)
        print("wrote", os.path.relpath(OUT))
