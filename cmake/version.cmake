# Version, commit, build type and target arch baked into agent/build_info.h (--version, aksnode_build_info).
# -DAKSNODE_GIT_COMMIT=... overrides (image builds without .git in the context).
set(AKSNODE_GIT_COMMIT "" CACHE STRING "Commit baked into the binary; empty = git rev-parse HEAD")
if(NOT AKSNODE_GIT_COMMIT)
execute_process(COMMAND git rev-parse --short=12 HEAD
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} OUTPUT_VARIABLE AKSNODE_GIT_COMMIT
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()
if(NOT AKSNODE_GIT_COMMIT)
  set(AKSNODE_GIT_COMMIT "unknown")
endif()
set(AKSNODE_ARCH ${CMAKE_SYSTEM_PROCESSOR})
if(AKSNODE_ARCH MATCHES "x86_64|AMD64")
  set(AKSNODE_ARCH amd64)
elseif(AKSNODE_ARCH MATCHES "aarch64|arm64")
  set(AKSNODE_ARCH arm64)
endif()
configure_file(${CMAKE_SOURCE_DIR}/agent/core/build_info.h.in ${CMAKE_BINARY_DIR}/generated/build_info.h @ONLY)
