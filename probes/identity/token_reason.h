#pragma once
// Why the workload identity check failed: the CamelCase reason that becomes the
// WorkloadIdentityProblem condition's reason, the `result` label of
// aksnode_identity_checks_total and ProbeResult::reason.
#include <span>

namespace aksnode::identity {

enum class TokenReason {
  Ok,
  EnvMissing,                   // webhook variables absent or inconsistent with the config
  TokenFileMissing,
  TokenFileUnreadable,
  TokenMalformed,               // not a JWT, bad JSON, wrong claim types, alg none, no kid
  TokenExpired,
  TokenNotYetValid,             // nbf or iat in the future (beyond clockSkew)
  AudienceMismatch,
  IssuerTrailingSlashMismatch,  // iss differs from expectedIssuer only by a trailing '/'
  IssuerMismatch,
  SubjectMismatch,
  SignatureInvalid,             // bad RS256 signature or an algorithm we do not accept
  KeyNotFound,                  // the issuer's JWKS has no key with the token's kid
  DiscoveryFailed,              // OIDC discovery or JWKS could not be fetched or read
  NotRotated,                   // past 80 % of its lifetime and the kubelet did not replace it
  TokenExpiringSoon,            // remaining validity below minRemainingValidity
};

// "Ok" or the CamelCase reason.
const char* toString(TokenReason reason);
// Every reason, Ok first: for initialising metric label sets.
std::span<const TokenReason> allTokenReasons();
// Reasons that still leave a usable token (the exchange with Entra ID can still succeed).
bool isSoftFailure(TokenReason reason);

}  // namespace aksnode::identity
