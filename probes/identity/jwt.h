#pragma once
// Parsing a JWS compact token (the projected Kubernetes service-account token) into typed
// header and claims. Parsing only: no signature check (jwks.h), no policy (token_check.h).
// The input is untrusted: size and JSON depth are bounded, every claim is type-checked,
// and nothing here throws.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aksnode::identity {

// A projected token is ~1 KiB; 64 KiB is far beyond any real one.
inline constexpr std::size_t kMaxTokenBytes = 64 * 1024;
// Header and claims of a service-account token nest 3 deep (kubernetes.io.pod.name).
inline constexpr std::size_t kMaxJsonDepth = 16;

enum class JwtError {
  None,
  Empty,
  TooLarge,
  NotThreeParts,       // not exactly header.payload.signature
  BadBase64,           // a segment is not strict base64url
  HeaderNotJsonObject, // invalid JSON, too deep, or not an object
  PayloadNotJsonObject,
  BadHeaderField,      // alg/kid/typ present with a non-string type
  BadClaimType,        // e.g. exp as a string, aud as a number
  EmptySignature,
};
const char* toString(JwtError error);

struct JwtHeader {
  std::string alg;  // "" when absent
  std::string kid;  // "" when absent
  std::string typ;  // "" when absent
};

// The `kubernetes.io` claim of a bound service-account token (all "" when absent).
struct KubernetesClaims {
  std::string namespaceName;
  std::string podName;
  std::string podUid;
  std::string serviceAccountName;
  std::string serviceAccountUid;
  std::string nodeName;
};

struct JwtClaims {
  std::optional<std::string> iss;
  std::optional<std::string> sub;
  std::vector<std::string> aud;  // a single string becomes one element
  // NumericDate seconds; fractions are truncated toward negative infinity.
  std::optional<std::int64_t> exp;
  std::optional<std::int64_t> nbf;
  std::optional<std::int64_t> iat;
  std::optional<KubernetesClaims> kubernetes;
};

struct Jwt {
  JwtHeader header;
  JwtClaims claims;
  // Secret material: the exact bytes the signature covers ("<header>.<payload>") and the
  // decoded signature. Used only by the RS256 verifier; never log or export them.
  std::string signingInput;
  std::string signature;
};

// Not a Result<Jwt>: besides the message it carries the typed JwtError, which says which
// rule the token broke (the parser's contract, asserted case by case by its tests).
struct JwtParseResult {
  JwtError error = JwtError::None;
  // Which part failed, for the message ("claim exp is not a number"); never token content.
  std::string detail;
  std::optional<Jwt> jwt;
  bool ok() const { return error == JwtError::None; }
};

// alg "none" in any letter case (RFC 7518 section 3.6): an unsecured token.
bool isAlgNone(std::string_view alg);

// Parses the token exactly as given (callers trim the file's trailing newline first).
JwtParseResult parseJwt(std::string_view text);

}  // namespace aksnode::identity
