# Debian bookworm: libgtest-dev, libgmock-dev.
find_package(GTest REQUIRED)
include(GoogleTest)
