#!/usr/bin/env bash
# The agent on a real Kubernetes control plane (tests/e2e): installs what is missing, builds
# the agent, builds kube-apiserver/controller-manager/scheduler/kubectl v1.36, etcd 3.6 and
# kwok from Go modules once (cached by version under ~/.cache/aks-node-agent/e2e; a cold build
# takes 15-30 min on 2 cores, a warm start seconds), starts them on loopback and runs every
# scenario with the real binary as the shipped ServiceAccount. Ends with "N passed, N failed".
#
#   scripts/e2e.sh                      everything
#   scripts/e2e.sh -k Restart           only scenarios whose name matches (unittest -k)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/install-deps.sh" >&2
"$here/scripts/build.sh" >&2
build=${AKSNODE_BUILD_DIR:-$here/build}
bin=$("$here/tests/e2e/cluster/build.sh" | tail -1)
export AKSNODE_BINARY="$build/aks-node-agent" AKSNODE_E2E_BIN="$bin" AKSNODE_SOURCE_DIR="$here"
exec python3 "$here/tests/e2e/e2e_test.py" "$@"
