#pragma once
// Strict base64url (RFC 4648 section 5) for JWT segments and JWK members.
// Strict because the input is untrusted: any character outside the URL-safe alphabet,
// a length that cannot come from an encoder (4n+1), padding in the wrong place or
// non-zero trailing bits is rejected instead of being silently skipped or repaired.
#include <optional>
#include <string>
#include <string_view>

namespace aksnode::identity {

// Decodes unpadded base64url; correct '=' padding is accepted too (some JWKS publishers
// pad), anything else is an error (std::nullopt).
std::optional<std::string> base64UrlDecode(std::string_view text);

// Unpadded base64url, as JWS compact serialisation uses it.
std::string base64UrlEncode(std::string_view bytes);

}  // namespace aksnode::identity
