#!/usr/bin/env bash
# Configures and builds into build/ (or $AKSNODE_BUILD_DIR). Extra arguments go to cmake.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${AKSNODE_BUILD_DIR:-$here/build}
type=${AKSNODE_BUILD_TYPE:-RelWithDebInfo}
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="$type" "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
