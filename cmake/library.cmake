# The agent's libraries are layers (arch/ARCHITECTURE.md, "Layers"): each may include only its
# own headers and those of the layers it links. CMake enforces it: a library's sources see no
# include root but the ones its DEPS bring (and their DEPS, transitively), each of which holds a
# link to one layer's folder only. An include of a higher layer is then "No such file", at
# compile time, not a convention. scripts/check_layers.py says the same in CI without a build.
#
# aksnode_library(NAME DIR folder [FILES file...] [DEPS target...])
#   DIR      folder below the source root: every .cpp in it is compiled (globbed, so adding a
#            file needs no CMake edit) and every header in it is this layer's public interface.
#   FILES    single files, below the source root, that form the layer when it has no folder of
#            its own (probes/probe.h, probe.cpp): .cpp compiled, headers the interface.
#   DEPS     the layers (and outside libraries) below this one that it uses.
function(aksnode_library name)
  cmake_parse_arguments(ARG "" "DIR" "DEPS;FILES" ${ARGN})
  set(root ${CMAKE_BINARY_DIR}/layers/${name})
  set(sources "")
  if(ARG_DIR)
    file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/${ARG_DIR}/*.cpp)
    aksnode_layer_link(${root} ${ARG_DIR})
  endif()
  foreach(file ${ARG_FILES})
    if(file MATCHES "\\.cpp$")
      list(APPEND sources ${CMAKE_SOURCE_DIR}/${file})
    else()
      aksnode_layer_link(${root} ${file})
    endif()
  endforeach()
  if(sources)
    add_library(${name} STATIC ${sources})
    target_include_directories(${name} PUBLIC ${root})
    target_link_libraries(${name} PUBLIC ${ARG_DEPS})
    aksnode_add_warnings(${name})
  else()
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${root})
    target_link_libraries(${name} INTERFACE ${ARG_DEPS})
  endif()
endfunction()

# A symbolic link ROOT/PATH -> SOURCE_DIR/PATH, so that "PATH/x.h" resolves below ROOT.
function(aksnode_layer_link root path)
  get_filename_component(parent ${root}/${path} DIRECTORY)
  file(MAKE_DIRECTORY ${parent})
  file(CREATE_LINK ${CMAKE_SOURCE_DIR}/${path} ${root}/${path} SYMBOLIC)
endfunction()
