# Warnings apply to our own targets only (aksnode_add_warnings), never to Debian's headers.
function(aksnode_add_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual -Wformat=2
    -Wno-missing-field-initializers)  # C++20 designated initializers leave the rest at their defaults
  # Not -Wnull-dereference: at -O2 GCC 12 reports it inside Asio's scheduler after inlining.
  if(AKSNODE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
