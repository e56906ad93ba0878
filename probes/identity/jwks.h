#pragma once
// The issuer's signing keys: the OIDC discovery document and the JWKS it points to
// (OpenID Connect Discovery 1.0, RFC 7517). Pure parsing of untrusted JSON; fetching and
// caching is JwksCache's job.
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"
#include "probes/identity/rsa_key.h"

namespace aksnode::identity {

// A cluster publishes one or two keys (two during a rotation of the signing key).
inline constexpr std::size_t kMaxJwksKeys = 64;
inline constexpr std::size_t kMaxJwksBytes = 256 * 1024;
inline constexpr std::size_t kMaxDiscoveryBytes = 64 * 1024;

// The usable keys of a JWKS document, and what was left out of it.
struct KeySet {
  std::map<std::string, PublicKey> keys;  // by kid; RS256-capable RSA signing keys only
  std::vector<std::string> skipped;       // "kid x: not RSA", for the log
};

// A failure when the document as a whole is unusable (not JSON, no "keys" array). Keys
// with kty other than RSA, use other than sig, alg other than RS256 or without a kid are
// skipped (not an error: JWKS may legitimately hold other keys).
Result<KeySet> parseJwks(std::string_view json);

struct OidcDiscovery {
  std::string issuer;
  std::string jwksUri;
};

// A failure when the document is not a JSON object with string `issuer` and `jwks_uri`.
Result<OidcDiscovery> parseDiscovery(std::string_view json);

// "{issuer without its terminating '/'}/.well-known/openid-configuration" (Discovery 1.0
// section 4: one terminating slash is removed before appending), so "https://x/a/" and
// "https://x/a" both map to "https://x/a/.well-known/openid-configuration".
std::string discoveryUrl(std::string_view issuer);

}  // namespace aksnode::identity
