#!/usr/bin/env bash
# ARM64 for real on an amd64 Debian bookworm machine: cross-compiles the agent and the unit
# tests with Debian's cross toolchain (cmake/toolchains/aarch64-linux-gnu.cmake), runs the unit
# tests under user-mode qemu, and checks the agent is an aarch64 binary that starts.
#   scripts/arm64-test.sh              # install what is missing, build, test
#   scripts/arm64-test.sh -R unit.kube # extra arguments go to ctest
# Env: AKSNODE_ARM64_BUILD_DIR (default build-arm64), AKSNODE_BUILD_TYPE (RelWithDebInfo),
#      AKSNODE_BUILD_JOBS (nproc), AKSNODE_TEST_JOBS (2), AKSNODE_ARM64_DEB_CACHE (<build>/debs).
# Never replaces a native (amd64) package: apt gets only :arm64 packages that are co-installable
# (and is asked first whether it would remove anything); prometheus-cpp-dev and libyaml-cpp-dev
# are unpacked into <build>/sysroot instead. Fails if a native -dev package that was installed
# at the start is gone at the end.
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
native=$(dpkg --print-architecture)
# Host tools, then the :arm64 variants of the libraries cmake/deps/*.cmake look for.
HOST_PACKAGES=(cmake ninja-build ccache pkg-config git file python3
  crossbuild-essential-arm64 qemu-user-static)
# Installed with apt: each is Multi-Arch: same AND so is everything it depends on, so the :arm64
# package sits beside its amd64 sibling. The runtime libraries of the overlay packages below are
# here too: the unit tests load them under qemu.
ARM64_LIBS=(libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libssl-dev
  libspdlog-dev libgtest-dev libgmock-dev
  libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0 libprometheus-cpp-push1.0
  libcivetweb-dev libcurl4-openssl-dev zlib1g-dev libyaml-cpp0.7)
# NOT co-installable, never given to apt: installing them :arm64 REMOVES the amd64 -dev packages
# the normal build needs. libyaml-cpp-dev has no Multi-Arch field; prometheus-cpp-dev is
# Multi-Arch: same but depends on civetweb (an executable, Multi-Arch: no). These are downloaded
# and unpacked (dpkg -x, no dpkg database entry) into $overlay, which the toolchain file adds as
# a find root. Their runtime libraries are unpacked there too: the imported targets in their
# CMake files point next to the config files, i.e. into the overlay.
OVERLAY_PACKAGES=(prometheus-cpp-dev libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0
  libprometheus-cpp-push1.0 libyaml-cpp-dev libyaml-cpp0.7)
overlay=$build/sysroot
deb_cache=${AKSNODE_ARM64_DEB_CACHE:-$build/debs}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
# The native -dev packages installed now must still be installed at the end (checked below).
native_before=()
for p in "${ARM64_LIBS[@]}" "${OVERLAY_PACKAGES[@]}"; do
  installed "$p:$native" && native_before+=("$p:$native")
done
check_native_intact() {
  local lost=() p
  for p in "${native_before[@]}"; do installed "$p" || lost+=("$p"); done
  if [ ${#lost[@]} -gt 0 ]; then
    echo "arm64-test: BROKEN: the $native packages ${lost[*]} are no longer installed" \
      "(reinstall them: apt-get install ${lost[*]%:*})" >&2
    return 1
  fi
}

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
missing=()
for p in "${HOST_PACKAGES[@]}" "${ARM64_LIBS[@]/%/:arm64}"; do
  installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "arm64-test: every apt package is installed"
else
  echo "arm64-test: installing ${missing[*]}"
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    $SUDO dpkg --add-architecture arm64
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  # Refuse anything that would remove a package (an :arm64 package that is not co-installable
  # replaces its $native sibling): ask apt first, install only if it removes nothing.
  removals=$(apt-get install -s -q --no-install-recommends "${missing[@]}" | sed -n 's/^Remv //p')
  if [ -n "$removals" ]; then
    echo "arm64-test: refusing to install: apt would remove:" >&2
    echo "$removals" >&2
    exit 1
  fi
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The overlay: the candidate version of each package, downloaded once into $deb_cache, unpacked
# again only when the set of .deb files changes.
mkdir -p "$deb_cache"
debs=()
to_download=()
for p in "${OVERLAY_PACKAGES[@]}"; do
  version=$(apt-cache show --no-all-versions "$p:arm64" | sed -n 's/^Version: //p' | head -n1)
  [ -n "$version" ] || { echo "arm64-test: apt knows no $p:arm64 (apt-get update?)" >&2; exit 1; }
  deb=$deb_cache/${p}_${version//:/%3a}_arm64.deb
  debs+=("$deb")
  [ -s "$deb" ] || to_download+=("$p:arm64=$version")
done
if [ ${#to_download[@]} -gt 0 ]; then
  echo "arm64-test: downloading ${to_download[*]}"
  # apt-get download as root warns that the _apt user cannot write here: harmless.
  (cd "$deb_cache" && apt-get download -q "${to_download[@]}")
fi
stamp=$(printf '%s\n' "${debs[@]##*/}")
if [ ! -f "$overlay/.debs" ] || [ "$(cat "$overlay/.debs")" != "$stamp" ]; then
  echo "arm64-test: unpacking ${#debs[@]} packages into $overlay"
  rm -rf "$overlay"
  mkdir -p "$overlay"
  for deb in "${debs[@]}"; do dpkg -x "$deb" "$overlay"; done
  printf '%s\n' "$stamp" >"$overlay/.debs"
fi
check_native_intact
t1=$(now)

# ------------------------------------------------------------------------- configure+build ---
# pkg-config must read the arm64 .pc files (else FindOpenSSL returns the amd64 libssl).
export PKG_CONFIG_LIBDIR=/usr/lib/$triplet/pkgconfig:/usr/share/pkgconfig
# ccache: share hits between clones in different folders, as scripts/build.sh does.
export CCACHE_BASEDIR="$here" CCACHE_NOHASHDIR=1
# -U: a build dir configured before the overlay existed has these pointing into /usr.
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
  -DAKSNODE_ARM64_OVERLAY="$overlay" -Uprometheus-cpp_DIR -Uyaml-cpp_DIR \
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
# -L /: the loader of libc6:arm64, matching the libc the binary loads (see the toolchain file).
qemu-aarch64-static -L / "$agent" --version

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
ctest -L unit --output-on-failure --no-tests=error -j "${AKSNODE_TEST_JOBS:-2}" --timeout 300 \
  "${exclude_args[@]}" "$@" || status=$?
t3=$(now)
check_native_intact || status=1

echo "arm64-test: wall times: install $(elapsed "$t0" "$t1"), configure+build $(elapsed "$t1" "$t2"), unit tests under qemu $(elapsed "$t2" "$t3")"
exit "$status"
