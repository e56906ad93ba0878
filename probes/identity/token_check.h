#pragma once
// The token policy as a pure function: file status + text, config, environment and "now"
// in; a reason, a message and the token's public facts out. No I/O, no clock, no logging:
// every reason is table-testable. Signature verification (network) and the exchange with
// Entra ID are layered on top by IdentityProbe.
//
// Order of the checks (the first failure wins, so the reason names the root cause):
//   EnvMissing, TokenFileMissing, TokenFileUnreadable, TokenMalformed, TokenExpired,
//   TokenNotYetValid, AudienceMismatch, IssuerTrailingSlashMismatch / IssuerMismatch,
//   SubjectMismatch, [signature: IdentityProbe], NotRotated, TokenExpiringSoon.
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/core/time_source.h"
#include "probes/identity/identity_environment.h"
#include "probes/identity/jwt.h"
#include "probes/identity/token_file.h"
#include "probes/identity/token_reason.h"

namespace aksnode::identity {

// The kubelet replaces a projected token once it is older than 80 % of its lifetime (or
// 24 h), then writes it on its next volume sync (about a minute later). A token is
// NotRotated only when it is still the same file content this long past that point, with
// clockSkew if larger.
inline constexpr std::chrono::seconds kRotationGrace{90};
inline constexpr std::chrono::hours kKubeletMaxTokenAge{24};

// What the probe remembers between checks to judge rotation. Holds a SHA-256 of the
// token, never the token.
struct RotationState {
  bool seen = false;
  std::array<unsigned char, 32> hash{};
  SystemTime firstSeen{};        // our clock, when this content first appeared
  int rotationsObserved = 0;     // content changes seen while running
  std::optional<SystemTime> lastRotation;
};

// Public facts of the token (no part of it that could be replayed).
struct TokenFacts {
  std::string alg;
  std::string kid;
  std::string iss;
  std::string sub;
  std::vector<std::string> aud;
  std::optional<std::int64_t> exp;
  std::optional<std::int64_t> nbf;
  std::optional<std::int64_t> iat;
  std::optional<std::int64_t> lifetimeSeconds;   // exp - iat
  std::optional<std::int64_t> remainingSeconds;  // exp - now
  std::optional<std::int64_t> refreshDue;        // unix seconds the kubelet should replace it
  std::optional<KubernetesClaims> kubernetes;
};

struct TokenCheckResult {
  TokenReason reason = TokenReason::Ok;
  std::string message;  // human-readable; may quote iss/sub/aud/exp, never the token
  std::optional<TokenFacts> facts;  // set once the token parsed
  // The parsed token (secret signing input and signature inside), for signature
  // verification; set once the token parsed.
  std::optional<Jwt> jwt;
  IdentityEnvironment environment;
  bool ok() const { return reason == TokenReason::Ok; }
};

// `file` is what readTokenFile returned for environment.tokenFile; leading and trailing
// whitespace of the text is ignored (a hand-written file often ends with a newline).
// `state` carries rotation tracking from one check to the next.
TokenCheckResult checkToken(const TokenFile& file, const IdentityConfig& config,
                            const EnvLookup& env, SystemTime now, RotationState& state);

// The text that was parsed (file text minus surrounding whitespace).
std::string_view trimToken(std::string_view text);

}  // namespace aksnode::identity
