#!/usr/bin/env bash
# The main job in one command: installs what is missing, builds the agent if build/aks-node-agent
# is missing or older than its sources, then runs tests/demo/spot_eviction_demo.py: a fake IMDS,
# a fake API server with a busy spot node, real Prometheus and the real agent on loopback; a spot
# eviction is injected and the timeline printed. Everything it starts is stopped when it ends
# (also on failure and Ctrl-C).
#
#   scripts/demo.sh [--event-type Preempt|Terminate|Reboot|Redeploy|Freeze] [--pods N]
#                   [--not-before SECONDS] [--keep]
#
# AKSNODE_BUILD_DIR picks another build directory (as for scripts/build.sh); AKSNODE_BINARY runs a
# given binary without building.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

"$here/scripts/install-deps.sh"

if [ -n "${AKSNODE_BINARY:-}" ]; then
  binary=$AKSNODE_BINARY
else
  build=${AKSNODE_BUILD_DIR:-$here/build}
  binary=$build/aks-node-agent
  stale=""
  if [ ! -x "$binary" ]; then
    stale="missing"
  else
    # Any C++ source or build file newer than the binary means it is stale.
    newer=$(find "$here/agent" "$here/probes" "$here/metrics" "$here/cmake" "$here/CMakeLists.txt" \
              \( -name '*.cpp' -o -name '*.h' -o -name 'CMakeLists.txt' -o -name '*.cmake' -o -name '*.in' \) \
              -newer "$binary" -print -quit 2>/dev/null || true)
    [ -z "$newer" ] || stale="older than $newer"
  fi
  if [ -n "$stale" ]; then
    echo "demo: building $binary ($stale)"
    AKSNODE_BUILD_DIR=$build "$here/scripts/build.sh"
  fi
fi
export AKSNODE_BINARY=$binary
# exec: Ctrl-C goes straight to the demo, which stops everything it started.
exec python3 "$here/tests/demo/spot_eviction_demo.py" "$@"
