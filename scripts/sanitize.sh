#!/usr/bin/env bash
# Builds everything (libraries, unit tests, the binary) with sanitizers and runs the tests.
#
#   scripts/sanitize.sh address [--unit-only] [extra ctest args]   ASan+UBSan -> build-asan/
#   scripts/sanitize.sh thread  [--with-integration] [...]         TSan       -> build-tsan/
#
# address runs the unit tests and the integration tests (ctest sets AKSNODE_BINARY to the
# sanitized binary, so the real agent runs under ASan against the fakes); thread runs the unit
# tests only by default (TSan slows the agent 5-15x, and the integration tests have wall-clock
# deadlines such as "cordon within one poll"). The build directory can be moved with
# AKSNODE_SANITIZE_BUILD_DIR, the build parallelism with AKSNODE_BUILD_JOBS (default 2), the
# test parallelism with AKSNODE_TEST_JOBS (default 2).
#
# Any sanitizer report fails the run: -fno-sanitize-recover=all (cmake/sanitizers.cmake) and
# halt_on_error below. Suppressions live in scripts/sanitizers/, each with its reason.
# Prints the configure, build and test wall times at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-}
shift || true
case "$mode" in
  address) sanitize=address,undefined; default_dir=build-asan; integration=1 ;;
  thread)  sanitize=thread;            default_dir=build-tsan; integration=0 ;;
  *) echo "usage: scripts/sanitize.sh address|thread [--unit-only|--with-integration] [ctest args]" >&2
     exit 2 ;;
esac
ctest_args=()
for arg in "$@"; do
  case "$arg" in
    --unit-only) integration=0 ;;
    --with-integration) integration=1 ;;
    *) ctest_args+=("$arg") ;;
  esac
done
build=${AKSNODE_SANITIZE_BUILD_DIR:-$here/$default_dir}
jobs=${AKSNODE_BUILD_JOBS:-2}
test_jobs=${AKSNODE_TEST_JOBS:-2}

"$here/scripts/install-deps.sh" >/dev/null

seconds() { date +%s; }
t0=$(seconds)
# Debug: -O0 compiles fastest on a small machine, and keeps every frame in the reports.
# Tests on, fuzzers off, whatever an earlier configure of this directory left in its cache.
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DAKSNODE_SANITIZE="$sanitize" \
  -DAKSNODE_BUILD_TESTS=ON -DAKSNODE_BUILD_FUZZERS=OFF >/dev/null
t1=$(seconds)
cmake --build "$build" -j "$jobs"
t2=$(seconds)

supp="$here/scripts/sanitizers"
# Reports go to files (one per process) as well as failing the process: the integration tests
# SIGTERM the agent and do not all look at its exit code or stderr, so a leak found at its exit,
# or a report from a helper process, would otherwise pass unseen. Any file here fails the run.
reports="$build/sanitizer-reports"
rm -rf "$reports"
mkdir -p "$reports"
# ASan: leaks are findings; init-order and string checks are cheap and catch real bugs.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:check_initialization_order=1:strict_init_order=1:strict_string_checks=1:log_path=$reports/asan}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$supp/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:suppressions=$supp/ubsan.supp:log_path=$reports/ubsan}
# TSan: second_deadlock_stack gives both stacks of a lock-order inversion.
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp:log_path=$reports/tsan}

labels=unit
[ "$integration" = 1 ] && labels='unit|integration'
cd "$build"
set +e
ctest --output-on-failure --no-tests=error -j "$test_jobs" --timeout 900 -L "$labels" "${ctest_args[@]}"
rc=$?
set -e
t3=$(seconds)

found=$(find "$reports" -type f | sort)
if [ -n "$found" ]; then
  echo
  echo "sanitize.sh: sanitizer reports (each file is one process):"
  for f in $found; do
    echo "---- $f"
    head -60 "$f"
  done
  [ $rc -eq 0 ] && rc=1
fi

echo
echo "sanitize.sh $mode ($sanitize, labels $labels, build $build):"
printf '  configure %4ds\n  build     %4ds\n  tests     %4ds\n  total     %4ds\n' \
  $((t1 - t0)) $((t2 - t1)) $((t3 - t2)) $((t3 - t0))
reports_count=$(find "$reports" -type f | wc -l)
echo "  reports   $reports_count file(s) in $reports"
[ $rc -eq 0 ] && echo "  result    passed" || echo "  result    FAILED (exit $rc)"
exit $rc
