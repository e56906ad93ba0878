# -DAKSNODE_SANITIZE=address,undefined  or  -DAKSNODE_SANITIZE=thread
if(AKSNODE_SANITIZE)
  message(STATUS "aks-node-agent: building with -fsanitize=${AKSNODE_SANITIZE}")
  add_compile_options(-fsanitize=${AKSNODE_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${AKSNODE_SANITIZE})
endif()
