#!/usr/bin/env bash
# Runs every libFuzzer target for a fixed time each and prints how many inputs each executed.
#
#   scripts/fuzz.sh [seconds-per-target] [target ...]      (default 60 s, every target)
#
# Installs clang and its runtimes if missing, configures build-fuzz/ (or $AKSNODE_FUZZ_BUILD_DIR)
# with clang, ASan+UBSan and -DAKSNODE_BUILD_FUZZERS=ON, builds the targets, then runs each on a
# scratch copy of its seed corpus (tests/fuzz/corpus/<area>/; the checked-in seeds are never
# rewritten). A finding (crash, leak, timeout, sanitizer report, out-of-memory) keeps the input as
# build-fuzz/findings/<target>/crash-* (or leak-*, timeout-*, oom-*) and makes the script exit 1.
# Reproduce one with: build-fuzz/fuzz/<target> build-fuzz/findings/<target>/crash-...
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
build=${AKSNODE_FUZZ_BUILD_DIR:-$here/build-fuzz}
jobs=${AKSNODE_BUILD_JOBS:-2}

case "$seconds" in
  ''|*[!0-9]*) echo "usage: scripts/fuzz.sh [seconds-per-target] [target ...]" >&2; exit 2 ;;
esac

# target -> seed corpus directory under tests/fuzz/corpus/
declare -A corpus=(
  [config_fuzz]=config
  [scheduled_events_fuzz]=scheduled_events
  [instance_metadata_fuzz]=instance_metadata
  [jwt_fuzz]=jwt
  [jwks_fuzz]=jwks
  [kube_json_fuzz]=kube
  [kubeconfig_fuzz]=kubeconfig
)
if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for source in "$here"/tests/fuzz/*_fuzz.cpp; do
    targets+=("$(basename "$source" .cpp)")
  done
fi
for t in "${targets[@]}"; do
  if [ -z "${corpus[$t]:-}" ]; then
    echo "fuzz.sh: no seed corpus known for '$t' (add it to the table in scripts/fuzz.sh)" >&2
    exit 2
  fi
done

# Build dependencies plus clang and libclang-rt-14-dev (libFuzzer, ASan, UBSan), if missing.
AKSNODE_WITH_FUZZ=1 "$here/scripts/install-deps.sh" >/dev/null

# RelWithDebInfo: optimised like production (fast executions), symbols for the reports.
# The unit tests and the binary are not needed here: they have their own sanitizer build.
CXX=clang++ cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DAKSNODE_BUILD_FUZZERS=ON -DAKSNODE_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target "${targets[@]}" -j "$jobs"

work="$build/fuzz-run"
findings="$build/findings"
mkdir -p "$work" "$findings"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
rows=()
for t in "${targets[@]}"; do
  seeds="$here/tests/fuzz/corpus/${corpus[$t]}"
  scratch="$work/$t"
  rm -rf "$scratch"
  mkdir -p "$scratch" "$findings/$t"
  cp -r "$seeds"/. "$scratch"/
  log="$work/$t.log"
  echo "fuzz.sh: $t for ${seconds}s (seeds: tests/fuzz/corpus/${corpus[$t]}, log: $log)"
  # -timeout: one input taking 10 s is a hang finding (the agent polls every second).
  # -rss_limit_mb: a few MiB of input must never cost GiBs.
  # -max_len: inputs up to 64 KiB (every parser also has its own 1 MiB limit, tested elsewhere).
  # -print_final_stats: the execution count below comes from stat::number_of_executed_units.
  set +e
  "$build/fuzz/$t" "$scratch" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$findings/$t/" >"$log" 2>&1
  rc=$?
  set -e
  executions=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)
  if [ -z "$executions" ]; then  # older libFuzzer, or it died before the stats: "#N DONE ..."
    executions=$(sed -n 's/^#\([0-9]*\).*DONE.*/\1/p' "$log" | tail -1)
  fi
  coverage=$(sed -n 's/^#[0-9]*.*\bcov: \([0-9]*\).*/\1/p' "$log" | tail -1)
  corpus_size=$(find "$scratch" -type f | wc -l)
  result=ok
  if [ $rc -ne 0 ]; then
    result="FINDING (exit $rc)"
    failed+=("$t")
    echo "fuzz.sh: $t found something; last lines of $log:" >&2
    grep -E "ERROR|SUMMARY|runtime error|Test unit written|==[0-9]+==" "$log" | head -20 >&2 || tail -20 "$log" >&2
  fi
  rows+=("$(printf '%-24s %8ss %14s %8s %8s  %s' "$t" "$seconds" "${executions:-?}" "${coverage:-?}" \
    "$corpus_size" "$result")")
done

echo
printf '%-24s %9s %14s %8s %8s  %s\n' target budget executions cov corpus result
for row in "${rows[@]}"; do echo "$row"; done
if [ ${#failed[@]} -gt 0 ]; then
  echo
  echo "fuzz.sh: findings in ${failed[*]}; inputs kept in $findings/<target>/" >&2
  exit 1
fi
