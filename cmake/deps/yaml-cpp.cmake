# Debian bookworm: libyaml-cpp-dev.
find_package(yaml-cpp REQUIRED CONFIG)
if(TARGET yaml-cpp::yaml-cpp)
  set(AKSNODE_YAML_TARGET yaml-cpp::yaml-cpp)
else()
  set(AKSNODE_YAML_TARGET yaml-cpp)
endif()
