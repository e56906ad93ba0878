#!/usr/bin/env bash
# ARM64 for real on an amd64 Debian bookworm machine: cross-compiles the agent and the unit
# tests with Debian's cross toolchain (cmake/toolchains/aarch64-linux-gnu.cmake), runs the unit
# tests under user-mode qemu, and checks the agent is an aarch64 binary that starts.
#   scripts/arm64-test.sh              # install what is missing, build, test
#   scripts/arm64-test.sh -R unit.kube # extra arguments go to ctest
# Env: AKSNODE_ARM64_BUILD_DIR (default build-arm64), AKSNODE_BUILD_TYPE (RelWithDebInfo),
#      AKSNODE_BUILD_JOBS (nproc), AKSNODE_TEST_JOBS (2).
# Ends with the wall times of install, configure+build and test.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${AKSNODE_ARM64_BUILD_DIR:-$here/build-arm64}
type=${AKSNODE_BUILD_TYPE:-RelWithDebInfo}
triplet=aarch64-linux-gnu
toolchain=$here/cmake/toolchains/$triplet.cmake

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f s", b - a }'; }

# ------------------------------------------------------------------------------- install ---
t0=$(now)
# Host tools, then the :arm64 variants of the libraries cmake/deps/*.cmake look for.
HOST_PACKAGES=(cmake ninja-build ccache pkg-config git file python3
  crossbuild-essential-arm64 qemu-user-static)
ARM64_LIBS=(libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libssl-dev
  prometheus-cpp-dev libspdlog-dev libyaml-cpp-dev libgtest-dev libgmock-dev)
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
missing=()
for p in "${HOST_PACKAGES[@]}" "${ARM64_LIBS[@]/%/:arm64}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "arm64-test: everything is installed"
else
  echo "arm64-test: installing ${missing[*]}"
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    $SUDO dpkg --add-architecture arm64
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  # The :arm64 -dev packages pin their amd64 siblings (multiarch: same version on both
  # architectures), so apt may upgrade a few amd64 packages here.
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
t1=$(now)

# ------------------------------------------------------------------------- configure+build ---
# pkg-config must read the arm64 .pc files (else FindOpenSSL returns the amd64 libssl).
export PKG_CONFIG_LIBDIR=/usr/lib/$triplet/pkgconfig:/usr/share/pkgconfig
# ccache: share hits between clones in different folders, as scripts/build.sh does.
export CCACHE_BASEDIR="$here" CCACHE_NOHASHDIR=1
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
  -DCMAKE_BUILD_TYPE="$type" -DAKSNODE_BUILD_TESTS=ON >/dev/null
# Only the agent and the unit test binaries (the integration tests run the amd64 build).
mapfile -t unit_targets < <(ninja -C "$build" -t targets all | sed -n 's/^\(unit_[a-z_]*\): .*/\1/p' | sort -u)
[ ${#unit_targets[@]} -gt 0 ] || { echo "arm64-test: no unit_* targets" >&2; exit 1; }
# Building a unit_* target also lists its tests (gtest_discover_tests runs it through qemu).
cmake --build "$build" -j "${AKSNODE_BUILD_JOBS:-$(nproc)}" --target aks-node-agent "${unit_targets[@]}"
t2=$(now)

# ------------------------------------------------------------------------------ checks ---
agent=$build/aks-node-agent
file -L "$agent"
file -L "$agent" | grep -q 'ARM aarch64' || { echo "arm64-test: $agent is not aarch64" >&2; exit 1; }
qemu-aarch64-static -L /usr/$triplet "$agent" --version

# -------------------------------------------------------------------------------- test ---
# Unit tests that cannot work under qemu-user, each with the reason:
#   (none so far)
exclude=()
exclude_args=()
if [ ${#exclude[@]} -gt 0 ]; then
  exclude_args=(-E "$(IFS='|'; echo "${exclude[*]}")")
fi
cd "$build"
status=0
ctest -L unit --output-on-failure -j "${AKSNODE_TEST_JOBS:-2}" --timeout 300 \
  "${exclude_args[@]}" "$@" || status=$?
t3=$(now)

echo "arm64-test: wall times: install $(elapsed "$t0" "$t1"), configure+build $(elapsed "$t1" "$t2"), unit tests under qemu $(elapsed "$t2" "$t3")"
exit "$status"
