# Debian bookworm: libspdlog-dev (built against the packaged fmt).
find_package(spdlog REQUIRED CONFIG)
