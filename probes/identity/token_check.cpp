#include "probes/identity/token_check.h"

#include <openssl/evp.h>

#include <algorithm>

#include "probes/identity/safe_text.h"

namespace aksnode::identity {

namespace {

using std::chrono::duration_cast;
using std::chrono::seconds;

std::int64_t unixSeconds(SystemTime t) {
  return duration_cast<seconds>(t.time_since_epoch()).count();
}

std::array<unsigned char, 32> sha256(std::string_view text) {
  std::array<unsigned char, 32> digest{};
  unsigned int length = 0;
  // EVP_Digest cannot fail for SHA-256 short of memory exhaustion; a zero digest then
  // only makes rotation tracking see "changed", which is harmless.
  EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return digest;
}

std::string quoted(std::string_view text) { return "\"" + printable(text) + "\""; }

std::string audienceList(const std::vector<std::string>& aud) {
  if (aud.empty()) return "(none)";
  std::string out;
  for (std::size_t i = 0; i < aud.size() && i < 8; ++i) {
    if (i) out += ", ";
    out += quoted(aud[i]);
  }
  if (aud.size() > 8) out += ", ...";
  return out;
}

std::string_view withoutTrailingSlashes(std::string_view s) {
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return s;
}

TokenFacts factsOf(const Jwt& jwt, std::int64_t now) {
  TokenFacts f;
  f.alg = printable(jwt.header.alg, 32);
  f.kid = printable(jwt.header.kid, 128);
  f.iss = jwt.claims.iss.value_or("");
  f.sub = jwt.claims.sub.value_or("");
  f.aud = jwt.claims.aud;
  f.exp = jwt.claims.exp;
  f.nbf = jwt.claims.nbf;
  f.iat = jwt.claims.iat;
  f.kubernetes = jwt.claims.kubernetes;
  if (f.exp) f.remainingSeconds = *f.exp - now;
  if (f.exp && f.iat && *f.exp > *f.iat) {
    const std::int64_t lifetime = *f.exp - *f.iat;
    f.lifetimeSeconds = lifetime;
    const std::int64_t maxAge = duration_cast<seconds>(kKubeletMaxTokenAge).count();
    f.refreshDue = *f.iat + std::min(lifetime * 4 / 5, maxAge);
  }
  return f;
}

void trackRotation(RotationState& state, std::string_view token, SystemTime now) {
  const auto hash = sha256(token);
  if (state.seen && state.hash == hash) return;
  if (state.seen) {
    ++state.rotationsObserved;
    state.lastRotation = now;
  }
  state.seen = true;
  state.hash = hash;
  state.firstSeen = now;
}

}  // namespace

std::string_view trimToken(std::string_view text) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

TokenCheckResult checkToken(const TokenFile& file, const IdentityConfig& config,
                            const EnvLookup& env, SystemTime now, RotationState& state) {
  TokenCheckResult result;
  auto fail = [&](TokenReason reason, std::string message) -> TokenCheckResult& {
    result.reason = reason;
    result.message = std::move(message);
    return result;
  };

  result.environment = inspectEnvironment(config, env);
  if (!result.environment.ok()) return fail(TokenReason::EnvMissing, result.environment.problem);

  switch (file.status) {
    case TokenFile::Status::Missing:
      return fail(TokenReason::TokenFileMissing,
                  "token file " + quoted(file.path) + " does not exist (" + file.error +
                      "): is the projected service account token volume mounted?");
    case TokenFile::Status::Unreadable:
      return fail(TokenReason::TokenFileUnreadable,
                  "token file " + quoted(file.path) + " cannot be read: " + file.error);
    case TokenFile::Status::TooLarge:
      return fail(TokenReason::TokenMalformed,
                  "token file " + quoted(file.path) + " is " + file.error + ": not a token");
    case TokenFile::Status::Read: break;
  }

  const std::string_view text = trimToken(file.text);
  if (text.empty()) return fail(TokenReason::TokenMalformed, "token file " + quoted(file.path) + " is empty");
  JwtParseResult parsed = parseJwt(text);
  if (!parsed.ok()) {
    return fail(TokenReason::TokenMalformed, "token in " + quoted(file.path) + " is not a valid JWT: " + parsed.detail);
  }
  const Jwt& jwt = *parsed.jwt;
  const std::int64_t nowSeconds = unixSeconds(now);
  result.facts = factsOf(jwt, nowSeconds);
  trackRotation(state, text, now);
  const TokenFacts& facts = *result.facts;

  if (jwt.header.alg.empty()) return fail(TokenReason::TokenMalformed, "token header has no alg");
  if (isAlgNone(jwt.header.alg)) return fail(TokenReason::TokenMalformed, "token is unsigned (alg none)");
  if (jwt.header.kid.empty()) return fail(TokenReason::TokenMalformed, "token header has no kid");
  if (!jwt.claims.iss || jwt.claims.iss->empty()) return fail(TokenReason::TokenMalformed, "token has no iss claim");
  if (!jwt.claims.sub || jwt.claims.sub->empty()) return fail(TokenReason::TokenMalformed, "token has no sub claim");
  if (!jwt.claims.exp) return fail(TokenReason::TokenMalformed, "token has no exp claim");
  result.jwt = std::move(parsed.jwt);

  const std::int64_t skew = duration_cast<seconds>(config.clockSkew).count();
  const std::int64_t exp = *facts.exp;
  if (nowSeconds >= exp + skew) {
    return fail(TokenReason::TokenExpired, "token expired at " + rfc3339(exp) + " (" +
                                               std::to_string(nowSeconds - exp) +
                                               " s ago): the kubelet is not refreshing it");
  }
  if (facts.nbf && *facts.nbf > nowSeconds + skew) {
    return fail(TokenReason::TokenNotYetValid,
                "token is not valid before " + rfc3339(*facts.nbf) + " (nbf is " +
                    std::to_string(*facts.nbf - nowSeconds) + " s ahead of this node's clock)");
  }
  if (facts.iat && *facts.iat > nowSeconds + skew) {
    return fail(TokenReason::TokenNotYetValid,
                "token was issued at " + rfc3339(*facts.iat) + ", " +
                    std::to_string(*facts.iat - nowSeconds) +
                    " s ahead of this node's clock: check time synchronisation");
  }

  if (!config.expectedAudience.empty() &&
      std::find(facts.aud.begin(), facts.aud.end(), config.expectedAudience) == facts.aud.end()) {
    return fail(TokenReason::AudienceMismatch, "token audience " + audienceList(facts.aud) +
                                                   " does not contain identity.expectedAudience " +
                                                   quoted(config.expectedAudience));
  }
  if (!config.expectedIssuer.empty() && facts.iss != config.expectedIssuer) {
    if (withoutTrailingSlashes(facts.iss) == withoutTrailingSlashes(config.expectedIssuer)) {
      return fail(TokenReason::IssuerTrailingSlashMismatch,
                  "token issuer " + quoted(facts.iss) + " differs from identity.expectedIssuer " +
                      quoted(config.expectedIssuer) +
                      " only by a trailing slash; Entra ID compares issuers exactly, so a "
                      "federated credential written like the expected value fails with AADSTS70021");
    }
    return fail(TokenReason::IssuerMismatch, "token issuer " + quoted(facts.iss) +
                                                 " is not identity.expectedIssuer " +
                                                 quoted(config.expectedIssuer));
  }
  if (!config.expectedSubject.empty() && facts.sub != config.expectedSubject) {
    return fail(TokenReason::SubjectMismatch, "token subject " + quoted(facts.sub) +
                                                  " is not identity.expectedSubject " +
                                                  quoted(config.expectedSubject));
  }

  if (facts.refreshDue) {
    // Judged on the same content having been in place since before the refresh point, on
    // our clock, so a token that rotates on time never raises a false alarm and a stale
    // token found at start-up gets one grace period for the kubelet to act.
    const seconds grace = std::max(kRotationGrace, duration_cast<seconds>(config.clockSkew));
    const std::int64_t watchedFrom = std::max(*facts.refreshDue, unixSeconds(state.firstSeen));
    if (nowSeconds >= watchedFrom + grace.count()) {
      return fail(TokenReason::NotRotated,
                  "token issued at " + rfc3339(*facts.iat) + " with a lifetime of " +
                      std::to_string(*facts.lifetimeSeconds) + " s should have been replaced by the kubelet at " +
                      rfc3339(*facts.refreshDue) + " (80 % of its lifetime) but is unchanged; it expires at " +
                      rfc3339(exp));
    }
  }
  const std::int64_t minRemaining = duration_cast<seconds>(config.minRemainingValidity).count();
  if (exp - nowSeconds < minRemaining) {
    return fail(TokenReason::TokenExpiringSoon,
                "token expires at " + rfc3339(exp) + ", in " + std::to_string(exp - nowSeconds) +
                    " s, less than identity.minRemainingValidity (" + std::to_string(minRemaining) + " s)");
  }

  result.message = "token valid until " + rfc3339(exp) + " (" + std::to_string(exp - nowSeconds) +
                   " s left), issuer " + quoted(facts.iss) + ", subject " + quoted(facts.sub);
  return result;
}

}  // namespace aksnode::identity
