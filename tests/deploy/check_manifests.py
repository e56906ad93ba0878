#!/usr/bin/env python3
"""Semantic checks of deploy/ (called by deploy_test.sh after the renders).

usage: check_manifests.py REPO RENDER_DIR
RENDER_DIR holds base.yaml, overlay-e6data.yaml, monitoring.yaml,
monitoring-servicemonitor.yaml (kubectl kustomize output).

Checks: RBAC verbs exactly the allowed list; the DaemonSet's required fields
(hostNetwork, tolerations, securityContext, probes, ...); config keys and
paths; monitoring objects; PrometheusRule == plain rule file; every alert has
a firing and a not-firing promtool test and a runbook section; every aksnode_
metric (and label) in the alerts and the dashboard is in docs/metrics.md (which
tests/integration/agent_metrics_doc_test.py holds to the agent's /metrics); no
alert or panel uses a label of the agent that a target label shadows when
honorLabels is off (endpoint, namespace) where a twin exists; every dashboard
query parses (promtool). Prints one line per failure.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import metrics_doc  # noqa: E402  (docs/metrics.md as data, shared with the integration test)

FAILURES = []


def fail(msg):
    FAILURES.append(msg)
    print("FAIL:", msg)


def check(cond, msg):
    if not cond:
        fail(msg)
    return cond


def load_all(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def find(objs, kind, name=None):
    return [o for o in objs if o.get("kind") == kind and (name is None or o["metadata"]["name"] == name)]


RECOMMENDED = ["app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
               "app.kubernetes.io/component", "app.kubernetes.io/part-of", "app.kubernetes.io/managed-by"]

# (apiGroup, resource, verb): the agent's code paths, nothing more.
ALLOWED_RBAC = {
    ("", "nodes", "get"), ("", "nodes", "patch"),
    ("", "nodes/status", "patch"),
    ("", "pods", "list"),
    ("", "pods/eviction", "create"),
    ("", "events", "create"),
    ("coordination.k8s.io", "leases", "get"), ("coordination.k8s.io", "leases", "create"),
    ("coordination.k8s.io", "leases", "update"),
}
# KubeClient method (agent/kube/kube_client.h) -> the grant its request needs.
KUBE_CLIENT_GRANTS = {
    "getNode": ("", "nodes", "get"), "patchNode": ("", "nodes", "patch"),
    "patchNodeStatus": ("", "nodes/status", "patch"),
    "listPods": ("", "pods", "list"), "getPod": ("", "pods", "get"),
    "evictPod": ("", "pods/eviction", "create"),
    "createEvent": ("", "events", "create"), "patchEvent": ("", "events", "patch"),
    "getLease": ("coordination.k8s.io", "leases", "get"),
    "createLease": ("coordination.k8s.io", "leases", "create"),
    "updateLease": ("coordination.k8s.io", "leases", "update"),
}
# Namespaced Roles: where each lives and the one resource it grants.
ROLES = {"aks-node-agent-events": ("default", "events"), "aks-node-agent-leases": ("aks-node-agent", "leases")}
NS = "aks-node-agent"
SA = "aks-node-agent"
RUNBOOK_BASE = "https://github.com/e6data/aks-node-agent/blob/main/docs/runbooks.md"
TARGET_LABELS = {"job", "instance", "node", "pod", "namespace", "container", "le", "cluster"}
# The agent's labels that the operator's target labels shadow (exported_* with honorLabels
# off), and their twins (docs/metrics.md): alerts and dashboard must use the twin.
SHADOWED = {"endpoint": "imds_endpoint", "namespace": "pod_namespace"}


# ------------------------------------------------------------------ contract
def contract_path(repo):
    return os.path.normpath(os.path.join(repo, "..", "shared", "CONTRACT.md"))


def doc_metrics(repo):
    """{family: {"type": ..., "labels": {label: set(values) or None}}} from docs/metrics.md."""
    return metrics_doc.load(os.path.join(repo, "docs", "metrics.md"))


# A config that reaches every key: one disk, one cache, one webhook with `url`, one with `urlFile`.
LOADER_PROBE_CONFIG = """
disks: [{path: /mnt}]
caches: [{path: /mnt/cache}]
notifications:
  webhooks:
    - {name: a, url: "https://hooks.example.invalid/a"}
    - {name: b, urlFile: %s}
"""


def agent_binary(repo):
    path = os.environ.get("AKSNODE_BINARY") or os.path.join(repo, "build", "aks-node-agent")
    return path if os.access(path, os.X_OK) else None


def contract_config(repo):
    """Every configuration key the loader knows, with its default: the agent's own
    `--check-config` output for LOADER_PROBE_CONFIG (the effective config, every key printed).
    The keys come from the code, so the docs, the chart schema and the shipped configs are held
    to what the binary accepts. None (with a note) when the agent is not built."""
    binary = agent_binary(repo)
    if binary is None:
        print("note: no agent binary (build/aks-node-agent or AKSNODE_BINARY): config keys not checked")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        url_file = os.path.join(tmp, "url")
        with open(url_file, "w") as f:
            f.write("https://hooks.example.invalid/b\n")
        cfg_path = os.path.join(tmp, "config.yaml")
        with open(cfg_path, "w") as f:
            f.write(LOADER_PROBE_CONFIG % json.dumps(url_file))
        r = subprocess.run([binary, "--check-config", "--config", cfg_path], capture_output=True, text=True,
                           timeout=30, env={"PATH": os.environ.get("PATH", "")})
    if r.returncode != 0:
        fail(f"--check-config of the probe config failed ({r.returncode}): {r.stderr.strip()[:500]}")
        return None
    cfg = yaml.safe_load(r.stdout)
    # One webhook shows `url`, the other `urlFile`: merge them into one item of every key.
    hooks = cfg.get("notifications", {}).get("webhooks", [])
    if hooks:
        merged = {}
        for h in hooks:
            merged.update(h)
        cfg["notifications"]["webhooks"] = [merged]
    return cfg


def key_paths(obj, prefix=""):
    out = set()
    if isinstance(obj, dict):
        for k, v in obj.items():
            p = f"{prefix}.{k}" if prefix else str(k)
            out.add(p)
            out |= key_paths(v, p)
    elif isinstance(obj, list):
        for v in obj:
            out |= key_paths(v, prefix + "[]")
    return out


# --------------------------------------------------------------- PromQL bits
SELECTOR_NAMES = re.compile(r"\b(aksnode_[a-z_]+)\b")
SELECTOR = re.compile(r"\b(aksnode_[a-z_]+|up)\b\s*(\{([^}]*)\})?")
MATCHER = re.compile(r'([a-zA-Z_]+)\s*(=~|!~|!=|=)\s*"([^"]*)"')


def family_of(name, fams):
    if name in fams:
        return name
    for suf in ("_bucket", "_count", "_sum"):
        if name.endswith(suf) and name[: -len(suf)] in fams and "histogram" in fams[name[: -len(suf)]]["type"]:
            return name[: -len(suf)]
    return None


def check_expr_metrics(where, expr, fams):
    for m in SELECTOR.finditer(expr):
        name = m.group(1)
        if name == "up":
            continue
        fam = family_of(name, fams)
        if not check(fam is not None, f"{where}: metric {name} is not a family of docs/metrics.md"):
            continue
        allowed = fams[fam]["labels"]
        for lm in MATCHER.finditer(m.group(3) or ""):
            label, op, value = lm.groups()
            if label in SHADOWED and SHADOWED[label] in allowed:
                fail(f"{where}: {name}{{{label}}} is exported_{label} when honorLabels is off: "
                     f"use {SHADOWED[label]}")
                continue
            if label in TARGET_LABELS:
                continue
            if not check(label in allowed, f"{where}: {name} has no label {label!r} in docs/metrics.md"):
                continue
            values = allowed[label]
            if values and op in ("=", "!=", "=~", "!~"):
                for v in (value.split("|") if op in ("=~", "!~") else [value]):
                    check(v in values, f"{where}: {name}{{{label}}} value {v!r} not in docs/metrics.md {sorted(values)}")


def check_shadowed_grouping(where, text, fams):
    """`by (endpoint)`, `{{ $labels.namespace }}`, legend `{{namespace}}` on a family that has a
    twin of that label: with honorLabels off they name the target's label, not the agent's."""
    families = {family_of(n, fams) for n in SELECTOR_NAMES.findall(text)} - {None}
    twins = {lab for f in families for lab, twin in SHADOWED.items() if twin in fams[f]["labels"]}
    for lab in sorted(twins):
        for pat, what in ((r"\bby\s*\([^)]*\b%s\b" % lab, "by (...)"),
                          (r"\$labels\.%s\b" % lab, "$labels"), (r"\{\{\s*%s\s*\}\}" % lab, "legend")):
            check(not re.search(pat, text), f"{where}: {what} uses {lab!r}: use {SHADOWED[lab]} (honorLabels off)")


def promtool_parse(exprs):
    """Every expression parses: wrap them as recording rules for promtool."""
    rules = [{"record": f"check:expr_{i}", "expr": e} for i, e in enumerate(exprs)]
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, f)
        path = f.name
    try:
        r = subprocess.run(["promtool", "check", "rules", path], capture_output=True, text=True)
        check(r.returncode == 0, "dashboard queries do not parse:\n" + r.stdout + r.stderr)
    finally:
        os.unlink(path)


# ------------------------------------------------------------------ checks
def check_labels(objs, where):
    for o in objs:
        labels = o["metadata"].get("labels", {})
        for k in RECOMMENDED:
            check(k in labels, f"{where}: {o['kind']}/{o['metadata']['name']} lacks label {k}")
        ns = o["metadata"].get("namespace")
        check(ns != "kube-system", f"{where}: {o['kind']}/{o['metadata']['name']} in kube-system")


def grants_used_by_code(repo):
    """The grants of the KubeClient methods that agent/ and probes/ call (outside the
    implementations of KubeClient, which forward every method: kube_client_impl and the dry-run
    decorator dry_run_kube_client): RBAC must grant exactly these, so an unused verb (events
    patch) cannot linger."""
    used = set()
    call = re.compile(r"(?:->|\.)(%s)\(" % "|".join(KUBE_CLIENT_GRANTS))
    for top in ("agent", "probes"):
        for dirpath, _, files in os.walk(os.path.join(repo, top)):
            for name in files:
                if not name.endswith(".cpp") or "kube_client" in name:
                    continue
                with open(os.path.join(dirpath, name)) as f:
                    for m in call.finditer(f.read()):
                        used.add(KUBE_CLIENT_GRANTS[m.group(1)])
    return used


def check_rbac_matches_code(repo):
    used = grants_used_by_code(repo)
    check(used == ALLOWED_RBAC, f"RBAC allowed list differs from the KubeClient calls in agent/ and probes/: "
                                f"granted but unused {sorted(ALLOWED_RBAC - used)}, used but not granted "
                                f"{sorted(used - ALLOWED_RBAC)}")


def check_rbac(objs, where):
    got = set()
    for r in find(objs, "ClusterRole") + find(objs, "Role"):
        for rule in r.get("rules", []):
            check("nonResourceURLs" not in rule and "resourceNames" not in rule,
                  f"{where}: {r['kind']} {r['metadata']['name']}: unexpected nonResourceURLs/resourceNames")
            for g in rule.get("apiGroups", []):
                for res in rule.get("resources", []):
                    for v in rule.get("verbs", []):
                        check("*" not in (g, res, v), f"{where}: wildcard in {r['kind']} {r['metadata']['name']}")
                        got.add((g, res, v))
        if r["kind"] == "Role":
            want = ROLES.get(r["metadata"]["name"])
            check(want is not None, f"{where}: unexpected Role {r['metadata']['name']}")
            if want:
                check(r["metadata"].get("namespace") == want[0],
                      f"{where}: Role {r['metadata']['name']} should be in namespace {want[0]}")
                check({x["resources"][0] for x in r["rules"]} == {want[1]},
                      f"{where}: Role {r['metadata']['name']} should grant {want[1]} only")
    check(got == ALLOWED_RBAC, f"{where}: RBAC is not exactly the allowed list: extra {sorted(got - ALLOWED_RBAC)}, "
                               f"missing {sorted(ALLOWED_RBAC - got)}")
    for b in find(objs, "ClusterRoleBinding") + find(objs, "RoleBinding"):
        subs = b.get("subjects", [])
        check(subs == [{"kind": "ServiceAccount", "name": SA, "namespace": NS}],
              f"{where}: {b['kind']} {b['metadata']['name']} subjects {subs}")
    check(len(find(objs, "ClusterRoleBinding")) == 1 and len(find(objs, "RoleBinding")) == len(ROLES),
          f"{where}: expected one ClusterRoleBinding and one RoleBinding per Role")


def container_sc_ok(c, pod_sc, where):
    sc = c.get("securityContext", {})
    eff = dict(pod_sc)
    eff.update(sc)
    check(eff.get("runAsNonRoot") is True, f"{where}: {c['name']}: runAsNonRoot")
    check(eff.get("runAsUser") == 65532, f"{where}: {c['name']}: runAsUser 65532")
    check(sc.get("readOnlyRootFilesystem") is True, f"{where}: {c['name']}: readOnlyRootFilesystem")
    check(sc.get("allowPrivilegeEscalation") is False, f"{where}: {c['name']}: allowPrivilegeEscalation false")
    check(sc.get("privileged") in (None, False), f"{where}: {c['name']}: privileged")
    caps = sc.get("capabilities", {})
    check(caps.get("drop") == ["ALL"] and not caps.get("add"), f"{where}: {c['name']}: capabilities drop ALL, add none")
    check(eff.get("seccompProfile", {}).get("type") == "RuntimeDefault", f"{where}: {c['name']}: seccomp RuntimeDefault")


def check_daemonset(objs, where, overlay=False):
    dss = find(objs, "DaemonSet")
    if not check(len(dss) == 1, f"{where}: expected one DaemonSet"):
        return
    ds = dss[0]
    spec = ds["spec"]
    pod = spec["template"]["spec"]
    tlabels = spec["template"]["metadata"]["labels"]
    check(ds["metadata"]["namespace"] == NS, f"{where}: DaemonSet namespace")
    for k, v in spec["selector"]["matchLabels"].items():
        check(tlabels.get(k) == v, f"{where}: selector {k}={v} does not match the pod template")
    check(tlabels.get("azure.workload.identity/use") == "true", f"{where}: workload identity pod label")
    check(pod.get("serviceAccountName") == SA, f"{where}: serviceAccountName")
    check(pod.get("hostNetwork") is True, f"{where}: hostNetwork true")
    check(pod.get("dnsPolicy") == "ClusterFirstWithHostNet", f"{where}: dnsPolicy ClusterFirstWithHostNet")
    check(pod.get("priorityClassName") == "system-node-critical", f"{where}: priorityClassName system-node-critical")
    check(pod.get("terminationGracePeriodSeconds") == 5, f"{where}: terminationGracePeriodSeconds 5")
    check(pod.get("nodeSelector", {}).get("kubernetes.io/os") == "linux", f"{where}: nodeSelector kubernetes.io/os=linux")
    terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    exprs = [e for t in terms for e in t.get("matchExpressions", [])]
    arch = [e for e in exprs if e["key"] == "kubernetes.io/arch"]
    check(arch and arch[0]["operator"] == "In" and set(arch[0]["values"]) == {"amd64", "arm64"},
          f"{where}: node affinity kubernetes.io/arch In [amd64, arm64]")
    if overlay:
        check(any(e["key"] == "e6data-workspace-name" and e["operator"] == "Exists" for e in exprs),
              f"{where}: overlay must select the workspace pools (e6data-workspace-name Exists)")
    tol = pod.get("tolerations", [])
    for eff in ("NoSchedule", "NoExecute"):
        check(any(t.get("operator") == "Exists" and "key" not in t and t.get("effect") in (eff, None) for t in tol),
              f"{where}: no catch-all toleration for {eff}")
    for key in ("kubernetes.azure.com/scalesetpriority", "e6data-workspace-name"):
        check(any(t.get("key") == key and t.get("operator") == "Exists" for t in tol), f"{where}: toleration for {key}")
    us = spec.get("updateStrategy", {})
    check(us.get("type") == "RollingUpdate" and us.get("rollingUpdate", {}).get("maxUnavailable") == "10%",
          f"{where}: RollingUpdate maxUnavailable 10%")

    pod_sc = pod.get("securityContext", {})
    check(pod_sc.get("runAsNonRoot") is True and pod_sc.get("runAsUser") == 65532, f"{where}: pod securityContext")
    cs = [c for c in pod["containers"] if c["name"] == "agent"]
    if not check(len(pod["containers"]) == 1 and cs, f"{where}: one container named agent"):
        return
    c = cs[0]
    container_sc_ok(c, pod_sc, where)
    check(c.get("args") == ["--config", "/etc/aks-node-agent/config.yaml"], f"{where}: args --config ...")
    env = {e["name"]: e for e in c.get("env", [])}
    for name, field in (("NODE_NAME", "spec.nodeName"), ("POD_NAME", "metadata.name"),
                        ("POD_NAMESPACE", "metadata.namespace")):
        check(env.get(name, {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == field,
              f"{where}: env {name} from {field}")
    ports = c.get("ports", [])
    check(len(ports) == 1 and ports[0].get("name") == "metrics" and ports[0].get("containerPort") == 9810
          and ports[0].get("hostPort") == 9810, f"{where}: port metrics 9810 with hostPort 9810")
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"), ("startupProbe", "/healthz")):
        p = c.get(probe, {}).get("httpGet", {})
        check(p.get("path") == path and p.get("port") in ("metrics", 9810), f"{where}: {probe} on {path}")
    res = c.get("resources", {})
    for k in ("requests", "limits"):
        check("cpu" in res.get(k, {}) and "memory" in res.get(k, {}), f"{where}: resources.{k} cpu and memory")

    # Mounts: hostPath read-only except the write probe's /mnt.
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    rw_host = set()
    for m in c.get("volumeMounts", []):
        v = vols.get(m["name"], {})
        if "hostPath" in v and not m.get("readOnly"):
            rw_host.add(v["hostPath"]["path"])
    check(rw_host <= {"/mnt"}, f"{where}: read-write hostPath mounts other than /mnt: {sorted(rw_host - {'/mnt'})}")

    # Init containers: only the documented probe-access exception.
    for ic in pod.get("initContainers", []):
        check(ic["name"] == "grant-probe-access", f"{where}: unexpected init container {ic['name']}")
        sc = ic.get("securityContext", {})
        check(sc.get("allowPrivilegeEscalation") is False and sc.get("readOnlyRootFilesystem") is True
              and sc.get("capabilities", {}).get("drop") == ["ALL"]
              and set(sc.get("capabilities", {}).get("add", [])) <= {"FOWNER"}
              and sc.get("privileged") in (None, False)
              and sc.get("seccompProfile", {}).get("type") == "RuntimeDefault",
              f"{where}: grant-probe-access securityContext beyond the documented exception")

    # The config the pod mounts.
    cm_name = vols.get("config", {}).get("configMap", {}).get("name")
    cms = find(objs, "ConfigMap", cm_name)
    if not check(len(cms) == 1 and "config.yaml" in cms[0].get("data", {}), f"{where}: config ConfigMap {cm_name}"):
        return
    cfg = yaml.safe_load(cms[0]["data"]["config.yaml"])
    check(cfg.get("nodeName") == "${NODE_NAME}", f"{where}: config nodeName ${{NODE_NAME}}")
    check(cfg.get("metrics", {}).get("address") == "0.0.0.0:9810", f"{where}: config metrics.address 0.0.0.0:9810")
    paths = [d["path"] for d in cfg.get("disks", [])] + [d["path"] for d in cfg.get("caches", [])]
    check("/mnt" in paths and "/mnt/e6data-cache" in paths, f"{where}: disks /mnt and caches /mnt/e6data-cache")
    mounts = [m["mountPath"] for m in c.get("volumeMounts", [])]
    for p in paths:
        check(any(p == mp or p.startswith(mp.rstrip("/") + "/") for mp in mounts),
              f"{where}: config path {p} is not under a mount of the agent container")
    write_paths = {d["path"] for d in cfg.get("disks", []) + cfg.get("caches", []) if d.get("writeProbe", True)}
    for ic in pod.get("initContainers", []):
        ienv = {e["name"]: e.get("value") for e in ic.get("env", [])}
        check(set((ienv.get("PROBE_WRITE_PATHS") or "").split()) == write_paths,
              f"{where}: PROBE_WRITE_PATHS {ienv.get('PROBE_WRITE_PATHS')!r} != writeProbe paths {sorted(write_paths)}")
    return cfg


def webhook_keys(repo):
    """The keys of one notifications.webhooks entry, from CONTRACT.md section 2's comment on it
    (`webhooks: []  # each: {name, url | urlFile, format: ..., on: [...], timeout: 5s, ...}`):
    the YAML holds an empty list, so key_paths cannot see them."""
    path = contract_path(repo)
    if not os.path.exists(path):
        return set()
    m = re.search(r"^\s*webhooks:.*#\s*each:\s*\{([^}]*)\}", open(path).read(), re.M)
    if not m:
        return set()
    return {k for k in re.findall(r"(?:^|[,|])\s*([A-Za-z]+)", m.group(1))}


def check_config_keys(cfg, contract_cfg, where, repo=None):
    if contract_cfg is None:
        print(f"note: {where}: the loader's keys are unknown, config keys not checked")
        return
    allowed = key_paths(contract_cfg)
    allowed |= {f"notifications.webhooks[].{k}" for k in webhook_keys(repo)} if repo else set()
    for p in sorted(key_paths(cfg) - allowed):
        fail(f"{where}: config key {p} is not a key the agent's loader accepts")


WEBHOOKS_MOUNT = "/etc/aks-node-agent-webhooks"


def check_webhook_secret(objs, cfg, where):
    """The webhook URLs come from an optional Secret mounted read-only (docs/notifications.md),
    every urlFile of the config lies in that mount, and no URL sits in the ConfigMap."""
    ds = find(objs, "DaemonSet", "aks-node-agent")
    if not ds:
        return
    pod = ds[0]["spec"]["template"]["spec"]
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    secret = (vols.get("webhooks") or {}).get("secret") or {}
    check(secret.get("secretName") == "aks-node-agent-webhooks" and secret.get("optional") is True,
          f"{where}: optional Secret volume aks-node-agent-webhooks")
    agent = [c for c in pod["containers"] if c["name"] == "agent"][0]
    mounts = {m["name"]: m for m in agent.get("volumeMounts", [])}
    m = mounts.get("webhooks") or {}
    check(m.get("mountPath") == WEBHOOKS_MOUNT and m.get("readOnly") is True,
          f"{where}: webhooks Secret mounted read-only at {WEBHOOKS_MOUNT}")
    for w in (cfg.get("notifications") or {}).get("webhooks") or []:
        check("url" not in w, f"{where}: webhook {w.get('name')} has its URL in the ConfigMap (use urlFile)")
        check(str(w.get("urlFile", "")).startswith(WEBHOOKS_MOUNT + "/"),
              f"{where}: webhook {w.get('name')} urlFile outside {WEBHOOKS_MOUNT}")


def check_serviceaccount(objs, where):
    sas = find(objs, "ServiceAccount", SA)
    check(sas and "azure.workload.identity/client-id" in sas[0]["metadata"].get("annotations", {}),
          f"{where}: ServiceAccount with azure.workload.identity/client-id annotation")
    nss = find(objs, "Namespace", NS)
    check(len(nss) == 1, f"{where}: Namespace {NS}")
    svcs = find(objs, "Service", "aks-node-agent")
    check(svcs and svcs[0]["spec"].get("clusterIP") == "None", f"{where}: headless Service")


def check_monitoring(repo, objs, where, fams, runbook_anchors):
    rules_path = os.path.join(repo, "deploy/monitoring/rules/aks-node-agent.rules.yaml")
    plain = yaml.safe_load(open(rules_path))
    prs = find(objs, "PrometheusRule")
    if check(len(prs) == 1, f"{where}: one PrometheusRule"):
        check(prs[0]["spec"] == plain, f"{where}: PrometheusRule spec differs from {rules_path} (run deploy/render.sh)")
    mons = find(objs, "PodMonitor") + find(objs, "ServiceMonitor")
    if check(len(mons) == 1, f"{where}: exactly one PodMonitor or ServiceMonitor"):
        m = mons[0]
        eps = m["spec"].get("podMetricsEndpoints") or m["spec"].get("endpoints")
        check(m["spec"].get("jobLabel") == "app.kubernetes.io/name", f"{where}: jobLabel (job=aks-node-agent)")
        check(all(e.get("port") == "metrics" and e.get("honorLabels") is True for e in eps),
              f"{where}: endpoints on port metrics with honorLabels")
        check(all(any(r.get("targetLabel") == "node" and r.get("sourceLabels") == ["__meta_kubernetes_pod_node_name"]
                      for r in e.get("relabelings", [])) for e in eps), f"{where}: node relabelling")
    cms = [c for c in find(objs, "ConfigMap") if c["metadata"].get("labels", {}).get("grafana_dashboard") == "1"]
    if check(len(cms) == 1, f"{where}: dashboard ConfigMap labelled grafana_dashboard=1"):
        with open(os.path.join(repo, "deploy/grafana/aks-node-agent.json")) as f:
            check(json.loads(cms[0]["data"]["aks-node-agent.json"]) == json.load(f),
                  f"{where}: dashboard ConfigMap differs from deploy/grafana/aks-node-agent.json")


def check_rules(repo, fams, runbook_anchors):
    rdir = os.path.join(repo, "deploy/monitoring/rules")
    plain = yaml.safe_load(open(os.path.join(rdir, "aks-node-agent.rules.yaml")))
    tests = yaml.safe_load(open(os.path.join(rdir, "aks-node-agent.rules.test.yaml")))
    firing, quiet = set(), set()
    for t in tests["tests"]:
        for a in t.get("alert_rule_test", []):
            (firing if a.get("exp_alerts") else quiet).add(a["alertname"])
    alerts = []
    for g in plain["groups"]:
        for r in g["rules"]:
            if "alert" not in r:
                continue
            name = r["alert"]
            alerts.append(name)
            where = f"alert {name}"
            check(r.get("labels", {}).get("severity") in ("critical", "warning", "info"), f"{where}: severity")
            ann = r.get("annotations", {})
            for k in ("summary", "description", "runbook_url"):
                check(ann.get(k), f"{where}: annotation {k}")
            url = ann.get("runbook_url", "")
            check(url == f"{RUNBOOK_BASE}#{name.lower()}", f"{where}: runbook_url {url!r} (absolute)")
            # Static summaries group in Alertmanager; label values belong in the description.
            check("{{" not in ann.get("summary", ""), f"{where}: summary is not static text")
            if name == "AKSNodeSpotEvictionPending":
                check(r.get("labels", {}).get("severity") == "info", f"{where}: severity info (expected on spot)")
            if runbook_anchors is not None:
                check(name.lower() in runbook_anchors, f"{where}: no section '## {name}' in docs/runbooks.md")
            check(name in firing, f"{where}: no promtool test where it fires")
            check(name in quiet, f"{where}: no promtool test where it must not fire")
            if fams is not None:
                check_expr_metrics(where, r["expr"], fams)
                check_shadowed_grouping(where, r["expr"] + " " + ann.get("description", "") + " "
                                        + ann.get("summary", ""), fams)
    check(len(alerts) == len(set(alerts)), "duplicate alert names")
    required = {"AKSNodeSpotEvictionPending", "AKSNodeDrainFailed", "AKSNodeEvictionBlockedByPDB",
                "AKSNodeDrainBlockedNearDeadline", "AKSNodeLeftCordoned", "AKSNodeIMDSErrors",
                "AKSNodeIMDSUnreachable", "AKSNodeAgentDown", "AKSNodeAgentAbsent", "AKSNodeKubeAPIErrors",
                "AKSNodeDiskUnhealthy", "AKSNodeDiskReadOnly", "AKSNodeDiskNearlyFull", "AKSNodeCacheUnhealthy",
                "AKSNodeWorkloadIdentityTokenInvalid", "AKSNodeWorkloadIdentityExchangeFailing",
                "AKSNodeWorkloadIdentityTokenExpiringSoon", "AKSNodeNotificationsFailing"}
    check(required <= set(alerts), f"missing alerts: {sorted(required - set(alerts))}")
    return alerts


def check_dashboard(repo, fams):
    path = os.path.join(repo, "deploy/grafana/aks-node-agent.json")
    try:
        d = json.load(open(path))
    except ValueError as e:
        fail(f"{path}: invalid JSON: {e}")
        return
    check(35 <= d.get("schemaVersion", 0) <= 41, "dashboard schemaVersion ~39")
    vars_ = {v["name"]: v for v in d.get("templating", {}).get("list", [])}
    check(vars_.get("datasource", {}).get("type") == "datasource", "dashboard: datasource variable")
    nq = vars_.get("node", {}).get("query", {})
    nq = nq.get("query") if isinstance(nq, dict) else nq
    check(nq and re.match(r'label_values\(aksnode_build_info(\{cluster=~"\$cluster"\})?, *(node|instance)\)', nq),
          "dashboard: node variable")
    cq = vars_.get("cluster", {}).get("query", {})
    cq = cq.get("query") if isinstance(cq, dict) else cq
    check(cq == "label_values(aksnode_build_info, cluster)" and vars_["cluster"].get("allValue") == ".*",
          "dashboard: cluster variable (All = .*, so single-cluster series without the label match)")
    exprs, ids, legends = [], [], []

    def walk(panels):
        for p in panels:
            ids.append(p.get("id"))
            if p.get("type") != "row":
                check(p.get("datasource", {}).get("uid") == "${datasource}", f"dashboard panel {p.get('title')}: datasource")
            for t in p.get("targets", []):
                exprs.append((p.get("title"), t["expr"]))
                legends.append((p.get("title"), t["expr"] + " " + t.get("legendFormat", "")))
            walk(p.get("panels", []))

    walk(d.get("panels", []))
    check(len(ids) == len(set(ids)), "dashboard: duplicate panel ids")
    check(len(exprs) >= 20, "dashboard: too few queries")
    text = " ".join(e for _, e in exprs)
    for needed in ("aksnode_eviction_pending", "aksnode_eviction_not_before_timestamp_seconds",
                   "aksnode_event_detection_latency_seconds_bucket", "aksnode_drain_duration_seconds",
                   "aksnode_drain_pods_remaining", "aksnode_pod_evictions_total", "aksnode_actions_total",
                   "aksnode_imds_requests_total", "aksnode_imds_request_duration_seconds_bucket",
                   "aksnode_kube_requests_total", "aksnode_disk_healthy", "aksnode_cache_healthy",
                   "aksnode_disk_free_bytes", "aksnode_disk_probe_duration_seconds_bucket",
                   "aksnode_identity_token_valid", "aksnode_identity_token_expiry_timestamp_seconds",
                   "aksnode_identity_exchange_total", "aksnode_notifications_total",
                   "aksnode_notifications_dropped_total"):
        check(needed in text, f"dashboard: no panel uses {needed}")
    if fams is not None:
        for title, e in exprs:
            check_expr_metrics(f"dashboard panel {title!r}", e, fams)
        for title, e in legends:
            check_shadowed_grouping(f"dashboard panel {title!r}", e, fams)
    promtool_parse([e.replace("$__rate_interval", "1m").replace("$__range", "1h").replace("$node", ".*")
                    .replace("$cluster", ".*") for _, e in exprs])


def check_config_doc(repo, contract_cfg):
    """docs/configuration.md names every leaf key the loader prints (`a.b.key` or `.key`)."""
    path = os.path.join(repo, "docs/configuration.md")
    if contract_cfg is None or not os.path.exists(path):
        return
    doc = open(path).read()
    paths = key_paths(contract_cfg)
    for p in sorted(x for x in paths if not any(y.startswith(x + ".") or y.startswith(x + "[]") for y in paths)):
        leaf = [x for x in re.split(r"[.\[\]]+", p) if x][-1]
        check(re.search(r"[`.]" + re.escape(leaf) + "`", doc), f"docs/configuration.md: no entry for {p}")


def runbook_anchors(repo):
    path = os.path.join(repo, "docs/runbooks.md")
    if not os.path.exists(path):
        fail("docs/runbooks.md is missing")
        return None
    anchors = set()
    for line in open(path):
        m = re.match(r"#{1,6}\s+(.*?)\s*$", line)
        if m:
            a = re.sub(r"[^\w\- ]", "", m.group(1).lower()).replace(" ", "-")
            anchors.add(a)
    return anchors


def main():
    repo, rdir = sys.argv[1], sys.argv[2]
    fams = doc_metrics(repo)
    check(len(fams) > 20, "docs/metrics.md: no metric tables found")
    ccfg = contract_config(repo)
    anchors = runbook_anchors(repo)

    check_rbac_matches_code(repo)
    base = load_all(os.path.join(rdir, "base.yaml"))
    overlay = load_all(os.path.join(rdir, "overlay-e6data.yaml"))
    for objs, where, is_overlay in ((base, "base", False), (overlay, "overlay e6data", True)):
        check_labels(objs, where)
        check_rbac(objs, where)
        check_serviceaccount(objs, where)
        cfg = check_daemonset(objs, where, overlay=is_overlay)
        if cfg is not None:
            check_config_keys(cfg, ccfg, where, repo)
            check_webhook_secret(objs, cfg, where)
            if is_overlay:
                ident = cfg.get("identity", {})
                check(ident.get("expectedSubject") == f"system:serviceaccount:{NS}:{SA}",
                      f"{where}: identity.expectedSubject")
                check(ident.get("exchange", {}).get("enabled") is True, f"{where}: identity.exchange.enabled")
                check({"Reboot", "Redeploy"} <= set(cfg.get("imds", {}).get("acknowledgeAfterDrain", [])),
                      f"{where}: acknowledgeAfterDrain [Reboot, Redeploy]")
                check(any(c.get("path") == "/mnt/e6data-cache" and c.get("maxUsedBytes")
                          for c in cfg.get("caches", [])), f"{where}: e6data cache with maxUsedBytes")

    for name in ("monitoring", "monitoring-servicemonitor"):
        objs = load_all(os.path.join(rdir, name + ".yaml"))
        check_labels(objs, name)
        check_monitoring(repo, objs, name, fams, anchors)
    amp = load_all(os.path.join(rdir, "monitoring-azure-managed.yaml"))
    check_labels(amp, "monitoring-azure-managed")
    kinds = sorted((o["apiVersion"], o["kind"]) for o in amp)
    check(kinds == [("azmonitoring.coreos.com/v1", "PodMonitor"), ("v1", "ConfigMap")],
          f"monitoring-azure-managed: an azmonitoring.coreos.com/v1 PodMonitor and the dashboard, no PrometheusRule: {kinds}")
    pm = {o["kind"]: o for o in load_all(os.path.join(rdir, "monitoring.yaml"))}["PodMonitor"]
    apm = [o for o in amp if o["kind"] == "PodMonitor"]
    check(apm and apm[0]["spec"].get("labelLimit") == 63 and
          {k: v for k, v in apm[0]["spec"].items() if not k.startswith("label")} == pm["spec"],
          "monitoring-azure-managed: same PodMonitor spec as deploy/monitoring plus Azure's label limits")

    check_config_doc(repo, ccfg)
    alerts = check_rules(repo, fams, anchors)
    check_dashboard(repo, fams)

    if FAILURES:
        print(f"check_manifests: {len(FAILURES)} failure(s)")
        return 1
    print(f"check_manifests: OK ({len(alerts)} alerts, RBAC {len(ALLOWED_RBAC)} grants, base + e6data overlay)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
