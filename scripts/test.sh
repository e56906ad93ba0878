#!/usr/bin/env bash
# Every test: installs what is missing, builds, then runs ctest (unit, integration against
# the fakes and the real binary, deployment artefacts). Ends with ctest's summary.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/install-deps.sh"
"$here/scripts/build.sh"
build=${AKSNODE_BUILD_DIR:-$here/build}
cd "$build"
ctest --output-on-failure --no-tests=error -j "${AKSNODE_TEST_JOBS:-2}" --timeout 300 "$@"
