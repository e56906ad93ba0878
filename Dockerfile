# aks-node-agent container image.
#
# Multi-stage, multi-arch (linux/amd64, linux/arm64), built from Debian
# bookworm packages only:
#   docker buildx build --platform linux/amd64,linux/arm64 -t REGISTRY/aks-node-agent:TAG .
#   scripts/build-image.sh            # buildah, no Docker engine, local base image
#
# The build stage runs on the build machine's own platform (BUILDPLATFORM) and
# cross-compiles with Debian's cross toolchain when TARGETARCH differs, so an
# arm64 image needs no emulated compiler (only the runtime stage's apt-get runs
# under emulation). The runtime stage is debian:bookworm-slim plus exactly the
# packages that own the shared libraries the binary links (computed from its
# ELF NEEDED entries, so the list follows the CMake link lines), CA
# certificates (Entra ID / OIDC discovery over HTTPS) and `acl` (setfacl, used
# by the DaemonSet's grant-probe-access init container).

ARG DEBIAN_SUITE=bookworm

# ------------------------------------------------------------------ build ---
FROM --platform=$BUILDPLATFORM docker.io/library/debian:${DEBIAN_SUITE} AS build
# Set automatically by buildx/buildah from --platform; empty under a plain
# `docker build` without BuildKit, then the build machine's arch is used.
ARG TARGETARCH
ARG BUILDARCH
ARG CMAKE_BUILD_TYPE=Release
ENV DEBIAN_FRONTEND=noninteractive

# Build dependencies (the same Debian packages the project's CMake looks for).
# For a foreign TARGETARCH: the cross toolchain and the :TARGETARCH variants.
RUN set -eux; \
    host_arch="$(dpkg --print-architecture)"; \
    target_arch="${TARGETARCH:-$host_arch}"; \
    libs="libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libssl-dev prometheus-cpp-dev libspdlog-dev libyaml-cpp-dev"; \
    if [ "$target_arch" = "$host_arch" ]; then \
      apt-get update; \
      apt-get install -y --no-install-recommends cmake ninja-build g++ pkg-config git binutils $libs; \
    else \
      dpkg --add-architecture "$target_arch"; \
      apt-get update; \
      apt-get install -y --no-install-recommends cmake ninja-build pkg-config git binutils \
        "crossbuild-essential-$target_arch" $(for p in $libs; do printf '%s:%s ' "$p" "$target_arch"; done); \
    fi; \
    rm -rf /var/lib/apt/lists/*

WORKDIR /src
# .git is part of the context on purpose: cmake/version.cmake bakes the commit
# into --version and aksnode_build_info.
COPY . /src

RUN set -eux; \
    host_arch="$(dpkg --print-architecture)"; \
    target_arch="${TARGETARCH:-$host_arch}"; \
    case "$target_arch" in \
      amd64) triplet=x86_64-linux-gnu; cpu=x86_64 ;; \
      arm64) triplet=aarch64-linux-gnu; cpu=aarch64 ;; \
      *) echo "unsupported TARGETARCH $target_arch (amd64, arm64)" >&2; exit 1 ;; \
    esac; \
    cross=""; \
    if [ "$target_arch" != "$host_arch" ]; then \
      export PKG_CONFIG_LIBDIR="/usr/lib/$triplet/pkgconfig:/usr/share/pkgconfig"; \
      cross="-DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=$cpu \
        -DCMAKE_C_COMPILER=$triplet-gcc -DCMAKE_CXX_COMPILER=$triplet-g++ \
        -DCMAKE_LIBRARY_ARCHITECTURE=$triplet -DCMAKE_FIND_ROOT_PATH=/;/usr/$triplet \
        -DCMAKE_FIND_ROOT_PATH_MODE_PROGRAM=NEVER -DCMAKE_FIND_ROOT_PATH_MODE_LIBRARY=ONLY \
        -DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY -DCMAKE_FIND_ROOT_PATH_MODE_PACKAGE=ONLY"; \
    fi; \
    : "warnings are CI's job (AKSNODE_WERROR there); a compiler's false positive must not block an image"; \
    cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE="$CMAKE_BUILD_TYPE" -DAKSNODE_BUILD_TESTS=OFF -DAKSNODE_WERROR=OFF $cross; \
    cmake --build /build --target aks-node-agent; \
    bin="$(find /build -type f -name aks-node-agent -perm -u+x | head -n1)"; \
    test -n "$bin"; \
    mkdir -p /out; \
    "$triplet-strip" --strip-unneeded -o /out/aks-node-agent "$bin"; \
    : "runtime packages = the packages owning the libraries the binary links"; \
    for lib in $("$triplet-readelf" -d /out/aks-node-agent | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do \
      path="$(ls "/usr/lib/$triplet/$lib" "/lib/$triplet/$lib" 2>/dev/null | head -n1)"; \
      test -n "$path" || { echo "cannot find $lib" >&2; exit 1; }; \
      dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$path"; \
    done | cut -d: -f1 | sort -u > /out/runtime-packages.txt; \
    echo "runtime packages:"; cat /out/runtime-packages.txt

# ---------------------------------------------------------------- runtime ---
FROM docker.io/library/debian:${DEBIAN_SUITE}-slim AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
ENV DEBIAN_FRONTEND=noninteractive

COPY --from=build /out/runtime-packages.txt /usr/share/aks-node-agent/runtime-packages.txt
# Expected on bookworm: libssl3 libspdlog1.10 libfmt9 libyaml-cpp0.7
# libprometheus-cpp-core1.0 libboost-json1.81.0 libboost-url1.81.0 (plus libc6,
# libstdc++6, libgcc-s1, already in -slim).
RUN set -eux; \
    apt-get update; \
    xargs -a /usr/share/aks-node-agent/runtime-packages.txt \
      apt-get install -y --no-install-recommends ca-certificates acl; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/* /var/cache/debconf/*-old /var/log/apt /var/log/dpkg.log

COPY --from=build /out/aks-node-agent /usr/local/bin/aks-node-agent
# Fail the build if a library is missing (runs under emulation for a foreign arch).
RUN if ldd /usr/local/bin/aks-node-agent | grep 'not found'; then exit 1; fi

LABEL org.opencontainers.image.title="aks-node-agent" \
      org.opencontainers.image.description="AKS node agent: drains nodes before Azure spot evictions and scheduled events, checks local SSD/cache health and Azure Workload Identity, exports Prometheus metrics" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"

# 65532 = the DaemonSet's runAsUser (distroless "nonroot" convention).
USER 65532:65532
EXPOSE 9810
ENTRYPOINT ["/usr/local/bin/aks-node-agent"]
