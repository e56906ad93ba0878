#!/usr/bin/env bash
# Configures and builds into build/ (or $AKSNODE_BUILD_DIR). Extra arguments go to cmake.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${AKSNODE_BUILD_DIR:-$here/build}
type=${AKSNODE_BUILD_TYPE:-RelWithDebInfo}
# ccache: share hits between clones in different folders (CI builds a fresh clone).
export CCACHE_BASEDIR="$here" CCACHE_NOHASHDIR=1
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="$type" "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
