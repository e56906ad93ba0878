#!/usr/bin/env bash
# Checks everything under deploy/, offline:
#   1. yamllint (deploy/.yamllint)
#   2. kubectl kustomize of base, monitoring (+ ServiceMonitor and Azure
#      Managed Prometheus variants), grafana, overlays/e6data
#   3. generated files up to date (deploy/render.sh --check): the single-file
#      deploy/aks-node-agent.yaml, the PrometheusRule, the dashboard JSON, the
#      Helm chart's copies of the RBAC, rules and dashboard (the chart itself:
#      helm_chart_test.sh)
#   4. promtool check rules + promtool test rules (every alert fires and not)
#   5. semantic checks (check_manifests.py): RBAC verbs exactly the allowed
#      list, DaemonSet fields, config keys vs CONTRACT.md section 2, every
#      aksnode_ metric/label of alerts and dashboard in docs/metrics.md,
#      dashboard queries parse, runbook section per alert
#   6. schema validation of every rendered object (kubernetes-models,
#      @kubernetes-models/prometheus-operator), installed into
#      tests/deploy/node_modules on first use
# Exit: 0 pass; 1 failure; 77 skip = everything else passed but npm (the
# schema validators) could not be installed.
# Needs: kubectl, promtool (Debian prometheus), yamllint, python3 + PyYAML, node + npm.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
FAILED=()
SKIPPED=()

step() { printf '\n=== %s\n' "$*"; }
ok() { printf 'ok: %s\n' "$*"; }
bad() { printf 'FAIL: %s\n' "$*"; FAILED+=("$*"); }

for tool in kubectl promtool yamllint python3 node npm; do
  command -v "$tool" >/dev/null || bad "$tool not found (kubectl; apt-get install prometheus yamllint python3-yaml nodejs npm)"
done
if [ ${#FAILED[@]} -gt 0 ]; then echo "deploy_test: missing tools"; exit 1; fi

step "yamllint"
if yamllint -c "$REPO/deploy/.yamllint" "$REPO/deploy"; then ok yamllint; else bad yamllint; fi

step "kubectl kustomize"
for pair in base:base monitoring:monitoring monitoring/servicemonitor:monitoring-servicemonitor \
            overlays/azure-managed-prometheus:monitoring-azure-managed grafana:grafana overlays/e6data:overlay-e6data; do
  dir="${pair%%:*}"; out="$TMP/${pair#*:}.yaml"
  if kubectl kustomize "$REPO/deploy/$dir" > "$out" 2> "$TMP/err"; then
    ok "deploy/$dir renders ($(grep -c '^kind:' "$out") objects)"
  else
    bad "kubectl kustomize deploy/$dir: $(cat "$TMP/err")"
  fi
done

step "generated files up to date"
if "$REPO/deploy/render.sh" --check; then ok "deploy/render.sh --check"; else bad "generated files out of date (run deploy/render.sh)"; fi

step "promtool"
RULES="$REPO/deploy/monitoring/rules"
if promtool check rules "$RULES/aks-node-agent.rules.yaml"; then ok "promtool check rules"; else bad "promtool check rules"; fi
if (cd "$RULES" && promtool test rules aks-node-agent.rules.test.yaml); then ok "promtool test rules"; else bad "promtool test rules"; fi

step "semantic checks"
if python3 "$HERE/check_manifests.py" "$REPO" "$TMP"; then ok check_manifests; else bad check_manifests; fi

step "schema validation"
if [ ! -d "$HERE/node_modules/kubernetes-models" ] || [ ! -d "$HERE/node_modules/@kubernetes-models/prometheus-operator" ]; then
  echo "installing the validators into tests/deploy/node_modules (npm install)"
  if ! (cd "$HERE" && timeout 300 npm install --no-audit --no-fund --loglevel=error) > "$TMP/npm.log" 2>&1; then
    cat "$TMP/npm.log"
    if grep -qiE 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ECONNRESET|network|proxy' "$TMP/npm.log"; then
      SKIPPED+=("schema validation: npm registry unreachable")
    else
      bad "npm install failed"
    fi
  fi
fi
if [ -d "$HERE/node_modules/kubernetes-models" ]; then
  # azmonitoring.coreos.com/v1 is prometheus-operator's schema in another API group.
  sed 's#^apiVersion: azmonitoring.coreos.com/v1#apiVersion: monitoring.coreos.com/v1#' \
    "$TMP/monitoring-azure-managed.yaml" > "$TMP/monitoring-azure-managed-as-po.yaml"
  if (cd "$HERE" && node validate-schemas.mjs "$TMP"/base.yaml "$TMP"/monitoring.yaml \
        "$TMP"/monitoring-azure-managed-as-po.yaml \
        "$TMP"/monitoring-servicemonitor.yaml "$TMP"/grafana.yaml "$TMP"/overlay-e6data.yaml \
        "$REPO/deploy/aks-node-agent.yaml"); then
    ok "schemas"
  else
    bad "schema validation"
  fi
fi

echo
if [ ${#FAILED[@]} -gt 0 ]; then
  printf 'deploy_test: FAILED (%d):\n' "${#FAILED[@]}"; printf '  - %s\n' "${FAILED[@]}"
  exit 1
fi
if [ ${#SKIPPED[@]} -gt 0 ]; then
  printf 'deploy_test: SKIP: %s (everything else passed)\n' "${SKIPPED[@]}"
  exit 77
fi
echo "deploy_test: all checks passed"
