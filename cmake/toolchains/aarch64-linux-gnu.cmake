# Cross-compile for linux/arm64 on an amd64 Debian bookworm machine, with Debian's own cross
# toolchain and multiarch `:arm64` library packages (no sysroot to assemble):
#   dpkg --add-architecture arm64 && apt-get update
#   apt-get install crossbuild-essential-arm64 qemu-user-static libboost1.81-dev:arm64 ...
#   (only co-installable ones; see AKSNODE_ARM64_OVERLAY below for prometheus-cpp and yaml-cpp)
#   PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig \
#     cmake -S . -B build-arm64 -G Ninja \
#       -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
#       -DAKSNODE_ARM64_OVERLAY=$PWD/build-arm64/sysroot
# scripts/arm64-test.sh does all of that, builds, and runs the unit tests under qemu.
# The Dockerfile passes the same settings inline on its cmake line (keep the two in step).

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(AKSNODE_CROSS_TRIPLET aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${AKSNODE_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${AKSNODE_CROSS_TRIPLET}-g++)

# Multiarch: the :arm64 packages put their libraries in /usr/lib/aarch64-linux-gnu and their
# CMake config files in /usr/lib/aarch64-linux-gnu/cmake. CMake only looks in lib/<arch> when it
# knows the architecture (the compiler does not tell it for a cross compiler).
set(CMAKE_LIBRARY_ARCHITECTURE ${AKSNODE_CROSS_TRIPLET})

# "/" must be a root: the multiarch libraries and the (architecture-independent) headers live in
# the host's /usr, not in a separate sysroot. /usr/aarch64-linux-gnu holds the cross libc.
set(CMAKE_FIND_ROOT_PATH / /usr/${AKSNODE_CROSS_TRIPLET})

# AKSNODE_ARM64_OVERLAY: a directory holding :arm64 packages unpacked with `dpkg -x` (their files
# under usr/...), for the -dev packages that cannot be installed :arm64 beside their amd64
# sibling (prometheus-cpp-dev, libyaml-cpp-dev: apt would remove the amd64 ones).
# scripts/arm64-test.sh fills build-arm64/sysroot and passes it. First root, so its
# usr/lib/aarch64-linux-gnu/cmake/<pkg> config files are found before anything else.
if(NOT DEFINED AKSNODE_ARM64_OVERLAY AND DEFINED ENV{AKSNODE_ARM64_OVERLAY})
  set(AKSNODE_ARM64_OVERLAY "$ENV{AKSNODE_ARM64_OVERLAY}")
endif()
if(AKSNODE_ARM64_OVERLAY)
  set(AKSNODE_ARM64_OVERLAY "${AKSNODE_ARM64_OVERLAY}" CACHE PATH
    "dpkg -x'ed :arm64 packages that are not co-installable with their amd64 siblings")
  list(PREPEND CMAKE_FIND_ROOT_PATH "${AKSNODE_ARM64_OVERLAY}")
  # try_compile projects read this toolchain file again: hand them the value too.
  list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES AKSNODE_ARM64_OVERLAY)
endif()
# Programs (ccache, python3, git, protoc-like tools) run on the build machine: host ones.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# Libraries, headers and packages: only under the roots above, where CMAKE_LIBRARY_ARCHITECTURE
# makes lib/aarch64-linux-gnu win over lib/x86_64-linux-gnu.
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config must read the arm64 .pc files, otherwise FindOpenSSL (which asks pkg-config first)
# hands back the amd64 libssl and the link fails. scripts/arm64-test.sh exports this; setting it
# here too covers a plain `cmake --build` whose re-configure runs without the script's env.
if(NOT DEFINED ENV{PKG_CONFIG_LIBDIR})
  set(ENV{PKG_CONFIG_LIBDIR}
    /usr/lib/${AKSNODE_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig)
endif()

# Run target binaries (gtest_discover_tests at build time, ctest, add_custom_command on a target)
# under user-mode qemu. `-L /`, NOT `-L /usr/aarch64-linux-gnu`: the binaries find libc.so.6 in
# /lib/aarch64-linux-gnu (libc6:arm64, pulled in by the :arm64 libraries), so the loader must be
# that package's /lib/ld-linux-aarch64.so.1. With -L /usr/aarch64-linux-gnu qemu loads the cross
# toolchain's ld.so (libc6-arm64-cross, another Debian revision: 2.36-8cross1 against
# 2.36-9+deb12u14 here) beside the other libc, and the first pthread_create spins forever
# (seen: every test that starts a thread timed out; a 3-line std::thread program hangs too).
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static -L /)
