# Debian bookworm: libssl-dev (OpenSSL 3). TLS for the API server and Entra ID, RS256 for JWKS.
# OPENSSL_USE_STATIC_LIBS comes from cmake/footprint.cmake. FindOpenSSL caches the library paths
# it found, so a build directory that switches between the archive and the shared library
# forgets the old paths first.
set(aksnode_openssl_mode "${OPENSSL_USE_STATIC_LIBS}")
if(NOT DEFINED CACHE{AKSNODE_OPENSSL_MODE} OR NOT "${AKSNODE_OPENSSL_MODE}" STREQUAL "${aksnode_openssl_mode}")
  foreach(v OPENSSL_CRYPTO_LIBRARY OPENSSL_SSL_LIBRARY OPENSSL_INCLUDE_DIR)
    unset(${v} CACHE)
  endforeach()
endif()
set(AKSNODE_OPENSSL_MODE "${aksnode_openssl_mode}" CACHE INTERNAL "static (TRUE) or shared OpenSSL")
find_package(OpenSSL 3 REQUIRED)
