# -DAKSNODE_SANITIZE=address,undefined  or  -DAKSNODE_SANITIZE=thread
if(AKSNODE_SANITIZE)
  message(STATUS "aks-node-agent: building with -fsanitize=${AKSNODE_SANITIZE}")
  add_compile_options(-fsanitize=${AKSNODE_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${AKSNODE_SANITIZE})
  if(AKSNODE_SANITIZE MATCHES "thread" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 warns that TSan does not model atomic_thread_fence (used inside Asio).
    add_compile_options(-Wno-tsan)
  endif()
endif()
