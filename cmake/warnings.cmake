# Warnings apply to our own targets only (aksnode_add_warnings), never to Debian's headers.
function(aksnode_add_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual -Wformat=2
    -Wno-missing-field-initializers)  # C++20 designated initializers leave the rest at their defaults
  # Not -Wnull-dereference: at -O2 GCC 12 reports it inside Asio's scheduler after inlining.
  # GCC 12's flow-based warnings give false positives at -O2 on Asio coroutine frames
  # (mismatched-new-delete) and on std::string concatenation (restrict); off for GCC only.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-mismatched-new-delete -Wno-restrict)
  endif()
  if(AKSNODE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
