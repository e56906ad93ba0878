# Debian bookworm: libssl-dev (OpenSSL 3). TLS for the API server and Entra ID, RS256 for JWKS.
find_package(OpenSSL 3 REQUIRED)
