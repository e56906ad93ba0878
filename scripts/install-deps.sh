#!/usr/bin/env bash
# Installs whatever Debian bookworm packages the build, the tests and the demo need and
# are missing. Idempotent: on a machine that has them all it does nothing (no apt-get update).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev prometheus-cpp-dev libspdlog-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev
  python3 python3-yaml openssl curl
  prometheus yamllint
)
# kubectl: the machine's own (Google's package) if present, else Debian's kubernetes-client.
command -v kubectl >/dev/null 2>&1 || PACKAGES+=(kubernetes-client)
# Optional extras: clang for the fuzzers, node/npm for the manifest schema check.
if [ "${AKSNODE_WITH_FUZZ:-0}" = 1 ]; then PACKAGES+=(clang libclang-rt-14-dev); fi

# Installed for this machine's own architecture: an :arm64 cross-build set-up can replace the
# native -dev packages that are not co-installable (prometheus-cpp-dev, libyaml-cpp-dev), and a
# plain `dpkg-query PKG` would then find the foreign one and call it installed.
native=$(dpkg --print-architecture)
installed() {
  local arch
  arch=$(dpkg-query -W -f='${Architecture}' "$1" 2>/dev/null | head -c 16) || return 1
  if [ "$arch" = all ]; then
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
  else
    dpkg-query -W -f='${Status}' "$1:$native" 2>/dev/null | grep -q "install ok installed"
  fi
}
missing=()
for p in "${PACKAGES[@]}"; do
  if ! installed "$p"; then
    if [ "$(dpkg-query -W -f='${Architecture}' "$p" 2>/dev/null | head -c 16)" = all ]; then
      missing+=("$p")
    else
      missing+=("$p:$native")
    fi
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: everything is installed"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
