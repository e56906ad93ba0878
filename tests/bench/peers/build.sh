#!/usr/bin/env bash
# Builds the Go peers the agent is compared with, pinned, from the Go module proxy, into the
# same cache as the control plane (~/.cache/aks-node-agent/e2e/peers-<version>/), and prints
# where they are. When the proxy does not serve a module, says so and exits 3: the benchmark
# then reports that peer as "not run" with this message.
#
#   maksim-paskal/aks-node-termination-handler v1.0.19 (binary `cmd`)
#   webdevops/azure-scheduledevents-manager   v0.0.0-20260312181532-7377c5e119c5
set -uo pipefail
cache=${AKSNODE_E2E_CACHE:-$HOME/.cache/aks-node-agent/e2e}
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
peers=(
  "aks-node-termination-handler github.com/maksim-paskal/aks-node-termination-handler/cmd@v1.0.19"
  "azure-scheduledevents-manager github.com/webdevops/azure-scheduledevents-manager@v0.0.0-20260312181532-7377c5e119c5"
)
missing=()
for p in "${peers[@]}"; do
  read -r name pkg <<<"$p"
  dir="$cache/peers-${pkg##*@}"
  if [ ! -x "$dir/$name" ]; then
    mkdir -p "$dir"
    if ! out=$(GOBIN="$dir/tmp" go install "$pkg" 2>&1); then
      missing+=("$name: $(echo "$out" | grep -oE '[0-9]{3} [A-Za-z ]+' | head -1 || true)")
      continue
    fi
    mv "$dir/tmp/"* "$dir/$name" && rmdir "$dir/tmp"
  fi
  mkdir -p "$cache/bin" && ln -sfn "$dir/$name" "$cache/bin/$name"
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "peers not served by the Go module proxy on $(date -u +%F): ${missing[*]}" >&2
  exit 3
fi
echo "$cache/bin"
