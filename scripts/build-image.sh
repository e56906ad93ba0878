#!/usr/bin/env bash
# Build the aks-node-agent container image from ./Dockerfile with buildah, with
# no Docker engine and no image registry: the Debian base images are made
# locally with debootstrap (the steps are below; the Dockerfile's FROM names
# the images this script makes). Then check the image: the agent's --version and an ldd
# check run inside it as the non-root user 65532.
#
# usage: scripts/build-image.sh [--arch amd64|arm64] [--tag NAME:TAG] [--committed]
#                               [--output FILE.tar] [--no-check] [--rebuild-base]
#   --committed  build the committed HEAD (a local clone) instead of the
#             working tree, e.g. while others edit it or in CI
#   --output  also write the image as an OCI archive (for `skopeo copy` /
#             `crane push` to a registry, or `ctr images import` on a node)
# env: DEBIAN_MIRROR (default: the first URI of this machine's apt sources,
#      else http://deb.debian.org/debian), KEEP_WORKDIR=1
#
# Needs root and the Debian packages buildah, podman, debootstrap (installed
# with apt-get when missing). Exit: 0 built (and checked), 1 failure,
# 77 cannot run here (not root / packages not installable).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ARCH="$(dpkg --print-architecture 2>/dev/null || echo amd64)"
VERSION="$(sed -n 's/^project(aks-node-agent VERSION \([0-9.]*\).*/\1/p' "$REPO/CMakeLists.txt" 2>/dev/null | head -n1)"
VERSION="${VERSION:-0.0.0}"
TAG=""
OUTPUT=""
CHECK=1
REBUILD_BASE=0
COMMITTED=0
SUITE=bookworm

while [ $# -gt 0 ]; do
  case "$1" in
    --arch) ARCH="$2"; shift 2 ;;
    --tag) TAG="$2"; shift 2 ;;
    --output) OUTPUT="$2"; shift 2 ;;
    --no-check) CHECK=0; shift ;;
    --rebuild-base) REBUILD_BASE=1; shift ;;
    --committed) COMMITTED=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
TAG="${TAG:-localhost/aks-node-agent:$VERSION-$ARCH}"

log() { printf '[build-image %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
skip() { log "SKIP: $*"; exit 77; }

[ "$(id -u)" = 0 ] || skip "needs root (buildah --isolation chroot, debootstrap)"

missing=()
for tool in buildah podman debootstrap; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]} with apt-get"
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"; } >&2 \
    || skip "cannot install ${missing[*]}"
fi

HOST_ARCH="$(dpkg --print-architecture)"
if [ "$ARCH" != "$HOST_ARCH" ]; then
  # The Dockerfile cross-compiles (build stage on BUILDPLATFORM), but the
  # runtime stage needs a $ARCH base image under the same name as the
  # $HOST_ARCH one, i.e. a registry manifest list: use
  #   docker buildx build --platform linux/amd64,linux/arm64 .
  # The arm64 binary itself is built and tested under qemu by the ARM64 check.
  skip "local image builds are for the host arch ($HOST_ARCH) only; use docker buildx for linux/$ARCH"
fi

MIRROR="${DEBIAN_MIRROR:-}"
if [ -z "$MIRROR" ]; then
  MIRROR="$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)"
  MIRROR="${MIRROR:-http://deb.debian.org/debian}"
fi

WORK="$(mktemp -d /tmp/aks-node-agent-image.XXXXXX)"
CTR=""
cleanup() {
  [ -n "$CTR" ] && buildah rm "$CTR" >/dev/null 2>&1 || true
  if [ "${KEEP_WORKDIR:-0}" = 1 ]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

start=$(date +%s)

# 1. Base images: debootstrap'ed Debian, tagged as the names the FROM lines use.
BASE_LOCAL="localhost/debian:$SUITE-$ARCH"
if [ "$REBUILD_BASE" = 1 ] || ! buildah inspect --type image "$BASE_LOCAL" >/dev/null 2>&1; then
  log "debootstrap --variant=minbase --arch $ARCH $SUITE from $MIRROR (about a minute)"
  debootstrap --variant=minbase --arch "$ARCH" "$SUITE" "$WORK/rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -n 20 "$WORK/debootstrap.log" >&2; log "debootstrap failed"; exit 1; }
  # Same shape as the official images: no apt caches, no docs needed.
  rm -rf "$WORK/rootfs/var/cache/apt/archives/"*.deb "$WORK/rootfs/var/lib/apt/lists/"*
  tar -C "$WORK/rootfs" -c . | podman import --arch "$ARCH" - "$BASE_LOCAL" >/dev/null
  rm -rf "$WORK/rootfs"
fi
# One minbase image serves both FROM lines (debian:SUITE and debian:SUITE-slim).
buildah tag "$BASE_LOCAL" "docker.io/library/debian:$SUITE" "docker.io/library/debian:$SUITE-slim"
base_done=$(date +%s)

# 2. Build from the Dockerfile.
CONTEXT="$REPO"
if [ "$COMMITTED" = 1 ]; then
  # A local clone keeps .git (cmake/version.cmake reads the commit from it).
  git clone --quiet --shared "$REPO" "$WORK/context"
  CONTEXT="$WORK/context"
  log "context: committed HEAD $(git -C "$CONTEXT" rev-parse --short HEAD)"
fi
REVISION="$(git -C "$CONTEXT" rev-parse HEAD 2>/dev/null || echo unknown)"
CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
log "buildah bud --platform linux/$ARCH -t $TAG (the C++ build takes several minutes)"
bud_args=(--pull=never --isolation chroot --layers=false
  --platform "linux/$ARCH"
  --build-arg "TARGETARCH=$ARCH" --build-arg "BUILDARCH=$HOST_ARCH"
  --build-arg "TARGETPLATFORM=linux/$ARCH" --build-arg "BUILDPLATFORM=linux/$HOST_ARCH"
  --build-arg "VERSION=$VERSION" --build-arg "REVISION=$REVISION" --build-arg "CREATED=$CREATED"
  -f "$CONTEXT/Dockerfile" -t "$TAG")
buildah bud "${bud_args[@]}" "$CONTEXT" >"$WORK/bud.log" 2>&1 \
  || { tail -n 60 "$WORK/bud.log" >&2; log "buildah bud failed (log: $WORK/bud.log)"; KEEP_WORKDIR=1; exit 1; }
grep -A20 '^runtime packages:' "$WORK/bud.log" | sed -n '1,12p' >&2 || true
build_done=$(date +%s)

# 3. Check the image.
if [ "$CHECK" = 1 ]; then
  user="$(buildah inspect --type image --format '{{.OCIv1.Config.User}}' "$TAG")"
  [ "$user" = "65532:65532" ] || { log "image USER is '$user', expected 65532:65532"; exit 1; }
  entry="$(buildah inspect --type image --format '{{.OCIv1.Config.Entrypoint}}' "$TAG")"
  log "image: user $user, entrypoint $entry"
  CTR="$(buildah from --pull=never "$TAG")"
  log "--version inside the image as uid 65532:"
  buildah run --isolation chroot --user 65532:65532 "$CTR" -- /usr/local/bin/aks-node-agent --version >&2 \
    || { log "--version failed inside the image"; exit 1; }
  ldd_out="$(buildah run --isolation chroot --user 65532:65532 "$CTR" -- ldd /usr/local/bin/aks-node-agent)"
  printf '%s\n' "$ldd_out" >&2
  if printf '%s\n' "$ldd_out" | grep -q 'not found'; then log "missing shared libraries"; exit 1; fi
  buildah run --isolation chroot --user 65532:65532 "$CTR" -- sh -c 'command -v setfacl >/dev/null' \
    || { log "setfacl missing (grant-probe-access init container)"; exit 1; }
  buildah rm "$CTR" >/dev/null; CTR=""
fi

if [ -n "$OUTPUT" ]; then
  buildah push "$TAG" "oci-archive:$OUTPUT:$TAG" >/dev/null
  log "wrote $OUTPUT"
fi

size="$(buildah inspect --type image --format '{{.Size}}' "$TAG" 2>/dev/null || true)"
[ -n "$size" ] || size="$(podman image inspect --format '{{.Size}}' "$TAG" 2>/dev/null || echo '?')"
end=$(date +%s)
log "OK: $TAG, size ${size} bytes; base $((base_done - start)) s, build $((build_done - base_done)) s, check $((end - build_done)) s, total $((end - start)) s"
