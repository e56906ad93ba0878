#!/usr/bin/env bash
# The Helm chart deploy/helm/aks-node-agent, offline:
#   1. helm lint (strict) with default values, with every toggle on, Azure Managed Prometheus
#   2. one source of truth: helm template with default values renders the same objects as
#      kubectl kustomize deploy/base (check_helm_equivalence.py)
#   3. toggles render what they say (monitors, rule runbook URLs, dashboard, extraEnv, ...)
#   4. values.schema.json rejects bad values (wrong types, unknown keys) at template time
#   5. schema validation of every rendered object (validate-schemas.mjs, if installed)
#   6. helm package into $HELM_PACKAGE_DIR (default build/helm) and render from the .tgz
# helm: $HELM, or built from Go modules by tests/e2e/cluster/build.sh (cached).
# Exit 0 pass; 1 failure; 77 skip (no helm and no Go, outside CI).
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CHART="$REPO/deploy/helm/aks-node-agent"
PKG_DIR="${HELM_PACKAGE_DIR:-$REPO/build/helm}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
passed=0 failed=0
ok() { printf 'ok: %s\n' "$*"; passed=$((passed + 1)); }
bad() { printf 'FAIL: %s\n' "$*"; failed=$((failed + 1)); }

if [ -z "${HELM:-}" ]; then
  if ! command -v go >/dev/null && [ -z "${CI:-}" ]; then echo "no helm and no go: skipped"; exit 77; fi
  bin=$("$REPO/tests/e2e/cluster/build.sh" | tail -1) || { echo "build.sh failed"; exit 1; }
  HELM="$bin/helm"
fi
export HELM_CACHE_HOME="$TMP/cache" HELM_CONFIG_HOME="$TMP/config" HELM_DATA_HOME="$TMP/data"
"$HELM" version --short
tmpl() { "$HELM" template aks-node-agent "$CHART" --namespace aks-node-agent "$@"; }

echo "=== helm lint"
for v in "" "$HERE/helm/all-on.yaml" "$HERE/helm/azure-managed.yaml"; do
  if "$HELM" lint --strict "$CHART" ${v:+-f "$v"} > "$TMP/lint" 2>&1; then
    ok "helm lint --strict ${v:+-f ${v#"$REPO"/}}"
  else
    cat "$TMP/lint"; bad "helm lint ${v:-(defaults)}"
  fi
done

echo "=== defaults = deploy/base"
tmpl > "$TMP/defaults.yaml" && kubectl kustomize "$REPO/deploy/base" > "$TMP/base.yaml"
if python3 "$HERE/check_helm_equivalence.py" "$TMP/base.yaml" "$TMP/defaults.yaml"; then
  ok "helm template (defaults) = kubectl kustomize deploy/base"
else
  bad "chart and deploy/base differ"
fi
n=$(grep -cE '^kind: (PodMonitor|ServiceMonitor|PrometheusRule)$' "$TMP/defaults.yaml")
[ "$n" = 0 ] && ok "defaults render no monitoring CRs" || bad "defaults render $n monitoring CRs"

echo "=== toggles"
tmpl -f "$HERE/helm/all-on.yaml" > "$TMP/all-on.yaml" || bad "helm template all-on"
tmpl -f "$HERE/helm/azure-managed.yaml" > "$TMP/azure.yaml" || bad "helm template azure-managed"
python3 "$HERE/check_helm_toggles.py" "$TMP/all-on.yaml" "$TMP/azure.yaml" "$REPO" > "$TMP/toggles" 2>&1
rc=$?; cat "$TMP/toggles"
[ $rc = 0 ] && ok "toggles render what they say" || bad "toggles"
if "$HELM" template spot "$CHART" -n ops --set prometheusRule.enabled=true --show-only templates/prometheusrule.yaml |
   grep -c 'daemonset="spot-aks-node-agent"' | grep -qx 2; then
  ok "release spot: AKSNodeAgentNotRunningOnAllNodes selects daemonset=\"spot-aks-node-agent\""
else
  bad "PrometheusRule does not follow the DaemonSet's name"
fi
if tmpl --set image.tag=9.9.9 | grep -q 'image: ghcr.io/e6data/aks-node-agent:9.9.9'; then ok "image.tag"; else bad "image.tag"; fi

echo "=== the rendered config.yaml passes the agent's own --check-config"
AGENT="${AKSNODE_BINARY:-$REPO/build/aks-node-agent}"
if [ -x "$AGENT" ]; then
  for f in defaults all-on azure; do
    python3 -c 'import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-config"):
        sys.stdout.write(d["data"]["config.yaml"])' "$TMP/$f.yaml" > "$TMP/$f-config.yaml"
    if NODE_NAME=node-1 "$AGENT" --check-config --config "$TMP/$f-config.yaml" > "$TMP/cc" 2>&1; then
      ok "aks-node-agent --check-config: config.yaml of the $f render"
    else
      cat "$TMP/cc"; bad "aks-node-agent --check-config rejects the config.yaml of the $f render"
    fi
  done
else
  echo "no agent binary ($AGENT; AKSNODE_BINARY): --check-config not run"
fi

echo "=== values.schema.json rejects bad values"
reject() {  # reject WHAT EXPECTED-IN-ERROR HELM-ARGS...
  local what=$1 expect=$2; shift 2
  if tmpl "$@" > /dev/null 2> "$TMP/err"; then
    bad "schema accepted $what"
  elif grep -q -- "$expect" "$TMP/err"; then
    ok "rejected $what: $(grep -m1 -o -- "$expect.*" "$TMP/err" | cut -c1-100)"
  else
    cat "$TMP/err"; bad "rejected $what, but not for the expected reason ($expect)"
  fi
}
reject "an unknown top-level key" "additional properties 'tolerance' not allowed" --set tolerance=x
reject "image.pullPolicy Sometimes" "pullPolicy" --set image.pullPolicy=Sometimes
reject "podMonitor.enabled as a string" "podMonitor" --set-string podMonitor.enabled=yes
vals() { local f; f=$(mktemp -p "$TMP" values-XXXX.yaml); printf '%s\n' "$1" > "$f"; echo "$f"; }
reject "tolerations as a map" "/tolerations': got object, want array" -f "$(vals 'tolerations: {key: x}')"
reject "resources.limits as a string" "/resources/limits': got string, want object" -f "$(vals 'resources: {limits: big}')"
reject "terminationGracePeriodSeconds as a string" "got string, want integer" -f "$(vals 'terminationGracePeriodSeconds: "5"')"
reject "an unknown key under serviceAccount" "additional properties 'annotation' not allowed" --set serviceAccount.annotation.x=y
reject "a relative runbookBaseUrl" "runbookBaseUrl" --set runbookBaseUrl=docs/runbooks.md
reject "an unknown config section" "additional properties 'imdss' not allowed" --set config.imdss.pollInterval=1s
reject "a bad duration in config" "healthInterval" --set config.healthInterval=30
reject "a relative disk path" "path" --set 'config.disks[0].path=mnt'
reject "a webhook format the agent does not know" "format" --set 'notifications.webhooks[0].name=a' \
  --set 'notifications.webhooks[0].format=discord'
reject "a webhook name that is no metric label" "name" --set 'notifications.webhooks[0].name=a b'
reject "a webhook Secret URL that is not http(s)" "urls" --set 'notifications.secret.urls.a=ftp://x'
# The schema's config keys are exactly the loader's (its --check-config output: top level, disks[], caches[]).
if python3 - "$REPO" "$CHART/values.schema.json" <<'PY'
import json, os, sys
sys.path.insert(0, os.path.join(sys.argv[1], "tests", "deploy"))
from check_manifests import contract_config
contract = contract_config(sys.argv[1])
if contract is None:
    print("no agent binary: config keys not compared"); sys.exit(0)
cfg = json.load(open(sys.argv[2]))["properties"]["config"]["properties"]
pairs = [("config", set(cfg), set(contract))] + [
    (f"config.{k}[]", set(cfg[k]["items"]["properties"]), set(contract[k][0])) for k in ("disks", "caches")]
bad = [f"{w}: schema-only {sorted(a - b)}, contract-only {sorted(b - a)}" for w, a, b in pairs if a != b]
print("\n".join(bad) or "schema config keys = the loader's")
sys.exit(1 if bad else 0)
PY
then ok "values.schema.json config keys = the loader's"; else bad "values.schema.json config keys differ from the loader's"; fi
reject "extraEnv without a name" "missing property 'name'" -f "$(vals 'extraEnv: [{value: x}]')"

echo "=== object schemas"
if [ -d "$HERE/node_modules/kubernetes-models" ]; then
  # azmonitoring.coreos.com/v1 monitors are a subset of prometheus-operator's: check them
  # against that schema.
  sed 's#^apiVersion: azmonitoring.coreos.com/v1#apiVersion: monitoring.coreos.com/v1#' "$TMP/azure.yaml" > "$TMP/azure-as-po.yaml"
  if (cd "$HERE" && node validate-schemas.mjs "$TMP/defaults.yaml" "$TMP/all-on.yaml" "$TMP/azure-as-po.yaml"); then
    ok "every rendered object valid"
  else
    bad "schema validation"
  fi
else
  echo "tests/deploy/node_modules missing (deploy_test.sh installs it): object schemas not checked"
fi

echo "=== helm package"
mkdir -p "$PKG_DIR"
ver=$(awk '/^version:/ {print $2}' "$CHART/Chart.yaml")
rm -f "$PKG_DIR/aks-node-agent-$ver.tgz"
if "$HELM" package "$CHART" --destination "$PKG_DIR" && [ -s "$PKG_DIR/aks-node-agent-$ver.tgz" ] &&
   "$HELM" template aks-node-agent "$PKG_DIR/aks-node-agent-$ver.tgz" -n aks-node-agent | cmp -s - "$TMP/defaults.yaml"; then
  ok "helm package: $PKG_DIR/aks-node-agent-$ver.tgz renders the same as the chart directory"
else
  bad "helm package"
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
