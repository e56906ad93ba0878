# Debian bookworm: prometheus-cpp-dev. Only core: we serve the text format from our own Beast server.
find_package(prometheus-cpp REQUIRED CONFIG)
