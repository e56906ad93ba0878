#!/usr/bin/env bash
# Installs whatever Debian bookworm packages the build, the tests and the demo need and
# are missing. Idempotent: on a machine that has them all it does nothing (no apt-get update).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev prometheus-cpp-dev libspdlog-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev
  python3 openssl curl
  prometheus yamllint
)
# kubectl: the machine's own (Google's package) if present, else Debian's kubernetes-client.
command -v kubectl >/dev/null 2>&1 || PACKAGES+=(kubernetes-client)
# Optional extras: clang for the fuzzers, node/npm for the manifest schema check.
if [ "${AKSNODE_WITH_FUZZ:-0}" = 1 ]; then PACKAGES+=(clang libclang-rt-14-dev); fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
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
