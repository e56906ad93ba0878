# Debian bookworm: libspdlog-dev (built against the packaged fmt, libfmt-dev).
find_package(spdlog REQUIRED CONFIG)
find_package(fmt REQUIRED CONFIG)
if(AKSNODE_SPDLOG_HEADER_ONLY)
  # Header-only spdlog over header-only fmt (cmake/footprint.cmake): no libspdlog/libfmt at run time.
  add_library(aksnode_spdlog INTERFACE)
  get_target_property(spdlog_includes spdlog::spdlog_header_only INTERFACE_INCLUDE_DIRECTORIES)
  target_include_directories(aksnode_spdlog SYSTEM INTERFACE ${spdlog_includes})
  target_compile_definitions(aksnode_spdlog INTERFACE SPDLOG_FMT_EXTERNAL)
  target_link_libraries(aksnode_spdlog INTERFACE fmt::fmt-header-only Threads::Threads)
else()
  add_library(aksnode_spdlog INTERFACE)
  target_link_libraries(aksnode_spdlog INTERFACE spdlog::spdlog)
endif()
