#!/usr/bin/env bash
# Every test: installs what is missing, builds, then runs ctest (unit, integration against
# the fakes and the real binary, deployment artefacts). Ends with ctest's summary.
#
#   scripts/test.sh                 the normal build and every test
#   scripts/test.sh --with-asan     first the same unit and integration tests on an ASan+UBSan
#                                   build (scripts/sanitize.sh address), then the above; fails if
#                                   either fails. CI runs this (.ci/run).
# Other arguments go to ctest.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
asan=0
args=()
for arg in "$@"; do
  case "$arg" in
    --with-asan) asan=1 ;;
    *) args+=("$arg") ;;
  esac
done
"$here/scripts/install-deps.sh"
asan_rc=0
if [ "$asan" = 1 ]; then
  echo "== ASan+UBSan: unit and integration tests (scripts/sanitize.sh address)"
  "$here/scripts/sanitize.sh" address || asan_rc=$?
  echo "== The normal build: every test"
fi
"$here/scripts/build.sh"
build=${AKSNODE_BUILD_DIR:-$here/build}
cd "$build"
rc=0
ctest --output-on-failure --no-tests=error -j "${AKSNODE_TEST_JOBS:-2}" --timeout 300 ${args[@]+"${args[@]}"} || rc=$?
# Nothing is printed after ctest's summary; the exit status carries the ASan result too.
[ "$rc" -ne 0 ] && exit "$rc"
exit "$asan_rc"
