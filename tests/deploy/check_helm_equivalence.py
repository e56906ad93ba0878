#!/usr/bin/env python3
"""One source of truth: the Helm chart with default values renders the same objects as
deploy/base.

usage: check_helm_equivalence.py KUSTOMIZE.yaml HELM.yaml

Compares DaemonSet, ServiceAccount, ClusterRole/Binding, Role/Binding, Service and the
ConfigMap (config.yaml parsed as YAML: the chart renders the `config` value, so comments and
key order differ). Ignored: the Namespace (helm installs into the release namespace), the
labels only one tool sets (app.kubernetes.io/managed-by, helm.sh/chart), the ConfigMap name's
hash suffix, and the chart's checksum/config pod annotation (what rolls the DaemonSet on a
config change, like kustomize's hash suffix). Prints each difference; exit 1 on any.
"""
import re
import sys

import yaml

KINDS = {"DaemonSet", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
         "Service", "ConfigMap"}
TOOL_LABELS = {"app.kubernetes.io/managed-by", "helm.sh/chart"}
TOOL_ANNOTATIONS = {"checksum/config"}
HASHED_CONFIGMAP = re.compile(r"^(aks-node-agent-config)-[a-z0-9]{10}$")


def strip_meta(meta):
    for key, drop in (("labels", TOOL_LABELS), ("annotations", TOOL_ANNOTATIONS)):
        m = {k: v for k, v in (meta.get(key) or {}).items() if k not in drop}
        if m:
            meta[key] = m
        else:
            meta.pop(key, None)


def unhash(name):
    m = HASHED_CONFIGMAP.match(name or "")
    return m.group(1) if m else name


def normalise(obj):
    strip_meta(obj["metadata"])
    obj["metadata"]["name"] = unhash(obj["metadata"]["name"])
    if obj["kind"] == "ConfigMap":
        obj["data"] = {k: yaml.safe_load(v) for k, v in obj.get("data", {}).items()}
    if obj["kind"] == "DaemonSet":
        tmpl = obj["spec"]["template"]
        strip_meta(tmpl["metadata"])
        for vol in tmpl["spec"].get("volumes", []):
            if "configMap" in vol:
                vol["configMap"]["name"] = unhash(vol["configMap"]["name"])
    return obj


def load(path):
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    return {(d["kind"], d["metadata"].get("namespace", ""), unhash(d["metadata"]["name"])): normalise(d)
            for d in docs if d["kind"] in KINDS}


def diff(a, b, path=""):
    """Yield (path, kustomize value, helm value) for every leaf that differs."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            yield from diff(a.get(k, "<absent>"), b.get(k, "<absent>"), f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            yield from diff(x, y, f"{path}[{i}]")
    elif a != b:
        yield path, a, b


def main():
    kust, helm = load(sys.argv[1]), load(sys.argv[2])
    bad = 0
    for key in sorted(set(kust) | set(helm)):
        if key not in helm:
            print(f"DIFF {key}: in deploy/base, not rendered by the chart")
            bad += 1
        elif key not in kust:
            print(f"DIFF {key}: rendered by the chart, not in deploy/base")
            bad += 1
        else:
            for path, a, b in diff(kust[key], helm[key]):
                print(f"DIFF {key[0]} {key[1]}/{key[2]} {path}: kustomize {a!r} != helm {b!r}")
                bad += 1
    print(f"helm template (defaults) vs kubectl kustomize deploy/base: {len(kust)} objects, {bad} differences")
    return 1 if bad or not kust else 0


if __name__ == "__main__":
    sys.exit(main())
