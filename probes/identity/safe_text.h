#pragma once
// Text that came from the token file, the issuer or Entra ID ends up in log lines, node
// conditions and /status. These helpers keep it printable and bounded, and make sure the
// token itself can never ride along.
#include <cstddef>
#include <string>
#include <string_view>

namespace aksnode::identity {

// Printable ASCII only (control and non-ASCII bytes become '?'), at most maxBytes,
// with "..." when cut. For claim values (iss, sub, aud) and Entra's error_description.
std::string printable(std::string_view text, std::size_t maxBytes = 256);

// Replaces every occurrence of the secret, and of each of its dot-separated parts longer
// than 16 bytes (a JWT's signature alone is still secret), with "[redacted]".
std::string redact(std::string text, std::string_view secret);

}  // namespace aksnode::identity

namespace aksnode::identity {

// "2027-01-15T08:00:00Z" for a unix time in seconds (exp, iat, nbf in messages): formatRfc3339.
std::string rfc3339(long long unixSeconds);

}  // namespace aksnode::identity
