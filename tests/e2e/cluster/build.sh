#!/usr/bin/env bash
# Builds the real control plane from Go modules, once per version, into a cache outside the
# work tree, and prints the directory that holds the binaries (kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl, etcd, kwok, helm).
#
#   tests/e2e/cluster/build.sh            build what is missing, print the bin directory
#   AKSNODE_E2E_CACHE=DIR                 where the cache lives (default ~/.cache/aks-node-agent/e2e)
#
# Each tool is its own small module under build/ (kwok wants newer otel/grpc than Kubernetes,
# and one shared module breaks the Kubernetes build). The cache key is a hash of that module's
# go.mod and go.sum, the Go version, build tags and ldflags, so changing a pinned version rebuilds
# just that tool and a warm start takes well under a second. A cold build of Kubernetes
# takes 15-30 min on 2 cores.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${AKSNODE_E2E_CACHE:-$HOME/.cache/aks-node-agent/e2e}
export GOTOOLCHAIN=local GOFLAGS=-mod=readonly CGO_ENABLED=0
command -v go >/dev/null || { echo "build.sh: go is not on PATH (Go >= 1.26 is needed)" >&2; exit 1; }
gover=$(go env GOVERSION)
# One build at a time per cache: a second run (another suite, another clone) waits here and then
# finds the binaries built, instead of building the same tool beside the first.
mkdir -p "$cache"
exec 9>"$cache/.build.lock"
flock 9
flags_tags="selinux,notest"

# The key covers what decides the binary: the module's pins, the Go version, tags and ldflags.
key() {
  { cat "$here/build/$1/go.mod" "$here/build/$1/go.sum"; echo "$gover $flags_tags $2"; } \
    | sha256sum | cut -c1-12
}

# build TOOL_MODULE OUT_NAME PACKAGE [LDFLAGS]
build_one() {
  local mod=$1 name=$2 pkg=$3 ldflags=${4:-}
  local dir="$cache/$mod-$(key "$mod" "$ldflags")"
  mkdir -p "$dir"
  if [ ! -x "$dir/$name" ]; then
    echo "build.sh: building $name ($pkg) into $dir" >&2
    local start=$SECONDS
    (cd "$here/build/$mod" && go build -trimpath -tags "$flags_tags" -ldflags "-s -w $ldflags" \
      -o "$dir/$name.tmp.$$" "$pkg")
    mv -f "$dir/$name.tmp.$$" "$dir/$name"
    echo "build.sh: $name built in $((SECONDS - start)) s" >&2
  fi
  mkdir -p "$cache/bin"
  ln -sfn "$dir/$name" "$cache/bin/$name"
}

# Version stamp as upstream's hack/lib/version.sh does; without it /version says v0.0.0-master.
k8s_version=$(grep -oE 'k8s.io/kubernetes v[0-9.]+' "$here/build/kubernetes/go.mod" | awk '{print $2}')
minor=$(echo "$k8s_version" | cut -d. -f2)
stamp=""
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  stamp+=" -X $p.gitVersion=$k8s_version -X $p.gitMajor=1 -X $p.gitMinor=$minor"
  stamp+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
done

for t in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  build_one kubernetes "$t" "k8s.io/kubernetes/cmd/$t" "$stamp"
done
build_one etcd etcd go.etcd.io/etcd/server/v3
build_one kwok kwok sigs.k8s.io/kwok/cmd/kwok
# helm v4 for the chart tests; stamped so `helm version` reports the pinned release.
helm_version=$(grep -oE 'helm.sh/helm/v4 v[0-9.]+' "$here/build/helm/go.mod" | awk '{print $2}')
build_one helm helm helm.sh/helm/v4/cmd/helm "-X helm.sh/helm/v4/internal/version.version=$helm_version"
# kwok's own Stage objects (node initialise and heartbeat, pod ready/complete, and the
# deletion stage that honours the grace period) are kept beside the binary, so a warm start
# needs neither the module cache nor the network.
kwok_dir=$(dirname "$(readlink -f "$cache/bin/kwok")")
if [ ! -s "$kwok_dir/stages.yaml" ]; then
  src="$(cd "$here/build/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)/kustomize/stage"
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
           pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/general/pod-delete.yaml; do
    echo "---"; cat "$src/$f"
  done > "$kwok_dir/stages.yaml.tmp.$$"
  mv -f "$kwok_dir/stages.yaml.tmp.$$" "$kwok_dir/stages.yaml"
fi
ln -sfn "$kwok_dir/stages.yaml" "$cache/bin/kwok-stages.yaml"
echo "$cache/bin"
