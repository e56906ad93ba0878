# A small resident footprint (arch/PERFORMANCE.md, "Footprint"). The agent runs on every node, so
# its idle RSS is paid once per node. Measured (tests/bench/run_bench.py --only footprint): most
# of the RSS is file-backed code pages, and the kernel maps code in 64 KiB fault-around blocks,
# so what counts is how much code there is and how scattered the used part is:
# * the agent's own code (Asio/Beast coroutines, JSON) is built with -Os and one section per
#   function, and the linker drops the unreferenced ones (--gc-sections);
# * spdlog and fmt are compiled header-only into agent/core/logging.cpp (the one file that includes
#   them) instead of two shared libraries that are mostly unused; OpenSSL, Boost.JSON/URL and
#   yaml-cpp link their Debian archives, so only the members the agent uses come in (a shared
#   libcrypto keeps ~1.4 MiB of its own resident; linked in, the agent as a whole is 0.5 MiB
#   smaller). The container image is rebuilt for OpenSSL updates either way.
# libstdc++ and glibc stay shared: prometheus-cpp (no archive in Debian) needs the shared
# libstdc++, and one process must not carry two copies of it.
#
# Off for sanitizer builds, which want their own optimisation level and runtimes.
include(CMakeDependentOption)
cmake_dependent_option(AKSNODE_SMALL_FOOTPRINT "Build for a small resident footprint" ON
                       "NOT AKSNODE_SANITIZE" OFF)
if(AKSNODE_SMALL_FOOTPRINT)
  message(STATUS "aks-node-agent: -Os, --gc-sections, static OpenSSL/Boost/yaml-cpp, header-only spdlog/fmt")
  set(OPENSSL_USE_STATIC_LIBS TRUE)
  set(Boost_USE_STATIC_LIBS ON)
  set(AKSNODE_YAML_STATIC ON)
  set(AKSNODE_SPDLOG_HEADER_ONLY ON)
  string(REGEX REPLACE "-O[0-3s]" "-Os" CMAKE_CXX_FLAGS_RELWITHDEBINFO "${CMAKE_CXX_FLAGS_RELWITHDEBINFO}")
  string(REGEX REPLACE "-O[0-3s]" "-Os" CMAKE_CXX_FLAGS_RELEASE "${CMAKE_CXX_FLAGS_RELEASE}")
  add_compile_options(-ffunction-sections -fdata-sections)
endif()

function(aksnode_small_footprint target)
  if(AKSNODE_SMALL_FOOTPRINT)
    target_link_options(${target} PRIVATE -Wl,--gc-sections -Wl,-O1 -Wl,--as-needed)
  endif()
endfunction()
