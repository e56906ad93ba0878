#include "probes/identity/identity_probe.h"

#include <openssl/crypto.h>

#include <boost/json/array.hpp>

#include "agent/core/secret_redaction.h"
#include "agent/core/logging.h"
#include "metrics/metrics.h"
#include "probes/identity/jwks_cache.h"
#include "probes/identity/rsa_key.h"
#include "probes/identity/safe_text.h"
#include "probes/identity/token_file.h"

namespace aksnode::identity {

namespace {

namespace json = boost::json;

// aksnode_identity_checks_total must keep a bounded label set whatever Entra ID answers.
std::string checkLabel(const std::string& reason) {
  if (reason.empty()) return "ok";
  if (reason.rfind("AADSTS", 0) == 0) return "AADSTS_other";  // mapped codes have names
  return reason;
}

json::object factsToJson(const identity::TokenFacts& f) {
  json::object d;
  d["iss"] = identity::printable(f.iss);
  d["sub"] = identity::printable(f.sub);
  json::array aud;
  for (std::size_t i = 0; i < f.aud.size() && i < 8; ++i) aud.emplace_back(identity::printable(f.aud[i]));
  d["aud"] = std::move(aud);
  d["alg"] = f.alg;
  d["kid"] = f.kid;
  if (f.exp) {
    d["exp"] = *f.exp;
    d["expiresAt"] = identity::rfc3339(*f.exp);
  }
  if (f.iat) {
    d["iat"] = *f.iat;
    d["issuedAt"] = identity::rfc3339(*f.iat);
  }
  if (f.nbf) d["nbf"] = *f.nbf;
  if (f.remainingSeconds) d["remainingSeconds"] = *f.remainingSeconds;
  if (f.lifetimeSeconds) d["lifetimeSeconds"] = *f.lifetimeSeconds;
  if (f.refreshDue) d["refreshDueAt"] = identity::rfc3339(*f.refreshDue);
  if (f.kubernetes) {
    json::object k;
    k["namespace"] = identity::printable(f.kubernetes->namespaceName);
    k["serviceAccount"] = identity::printable(f.kubernetes->serviceAccountName);
    k["pod"] = identity::printable(f.kubernetes->podName);
    k["node"] = identity::printable(f.kubernetes->nodeName);
    d["kubernetes"] = std::move(k);
  }
  return d;
}

json::object exchangeToJson(const identity::ExchangeOutcome& o, SystemTime at) {
  json::object e;
  e["result"] = o.ok ? "ok" : o.reason;
  e["at"] = identity::rfc3339(std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count());
  if (o.httpStatus) e["httpStatus"] = o.httpStatus;
  if (o.aadstsCode) e["aadstsCode"] = *o.aadstsCode;
  if (!o.oauthError.empty()) e["error"] = o.oauthError;
  if (o.expiresIn) e["accessTokenExpiresIn"] = *o.expiresIn;
  e["message"] = o.message;
  return e;
}

}  // namespace

constinit const ProbeSpec kIdentityProbe{
    .kind = "identity",
    .conditionType = "WorkloadIdentityProblem",
    .healthyReason = "WorkloadIdentityHealthy",
    .healthyMessage = "The workload identity token projection passes every check",
    .unhealthyEvent = "IdentityInvalid",
    .unhealthyEventMessage = [](const ProbeResult& r) { return r.reason + ": " + r.message; },
    .recoveredEvent = "IdentityRecovered",
    .recoveredEventMessage = [](const ProbeResult&) {
      return std::string("Workload identity token passes every check again");
    },
    .mayTaint = false,
    .monitored = [](const Config& c) { return c.identity.enabled; },
};

IdentityProbe::IdentityProbe(IdentityConfig config, HttpClient& http, const TimeSource& time,
                             Metrics& metrics, IdentityProbeOptions options)
    : config_(std::move(config)), http_(http), time_(time), metrics_(metrics), options_(std::move(options)) {
  if (!options_.env) options_.env = processEnvironment();
  identity::JwksCache::Options cacheOptions;
  cacheOptions.allowInsecureHttp = options_.allowInsecureHttp;
  cacheOptions.timeout = options_.discoveryTimeout;
  jwks_ = std::make_unique<identity::JwksCache>(http_, time_, cacheOptions);

  // docs/metrics.md: every known label set exposed from start-up at 0.
  metrics_.identityTokenValid();
  metrics_.identityTokenExpiry();
  metrics_.identityCheck("ok");
  for (TokenReason r : identity::allTokenReasons()) {
    if (r != TokenReason::Ok) metrics_.identityCheck(identity::toString(r));
  }
  for (const std::string& r : identity::exchangeCheckReasons()) metrics_.identityCheck(r);
  for (const std::string& r : identity::exchangeMetricResults()) metrics_.identityExchange(r);
}

IdentityProbe::~IdentityProbe() = default;

boost::asio::awaitable<IdentityProbe::Verdict> IdentityProbe::verifySignature(const identity::Jwt& jwt) {
  Verdict v;
  // Kubernetes signs with RS256 unless configured with an EC key, and Entra ID accepts
  // RS256 assertions; anything else cannot be the token the webhook set up.
  if (jwt.header.alg != "RS256") {
    v.reason = TokenReason::SignatureInvalid;
    v.message = "token alg \"" + identity::printable(jwt.header.alg, 32) + "\" is not RS256";
    co_return v;
  }
  const std::string issuer = jwt.claims.iss.value_or("");
  identity::KeyLookup lookup = co_await jwks_->find(issuer, jwt.header.kid);
  switch (lookup.status) {
    case identity::KeyLookup::Status::DiscoveryFailed:
      v.reason = TokenReason::DiscoveryFailed;
      v.message = "cannot get the signing keys of issuer \"" + identity::printable(issuer) + "\": " +
                  lookup.message + " (Entra ID needs the same documents: expect AADSTS90061)";
      co_return v;
    case identity::KeyLookup::Status::KeyNotFound:
      v.reason = TokenReason::KeyNotFound;
      v.message = lookup.message + " for issuer \"" + identity::printable(issuer) + "\"";
      co_return v;
    case identity::KeyLookup::Status::Found: break;
  }
  if (!identity::verifyRs256(lookup.key.get(), jwt.signingInput, jwt.signature)) {
    v.reason = TokenReason::SignatureInvalid;
    v.message = "RS256 signature does not verify with the key \"" + identity::printable(jwt.header.kid, 128) +
                "\" published by issuer \"" + identity::printable(issuer) + "\"";
  }
  co_return v;
}

bool IdentityProbe::exchangeDue(MonotonicTime now) const {
  if (!nextExchange_ || now >= *nextExchange_) return true;
  // A failed exchange is retried as soon as the kubelet rotated the token (e.g. after
  // AADSTS700024 on a stale token), not an interval later: no lingering false alarm.
  return lastExchange_ && !lastExchange_->ok && rotation_.rotationsObserved != rotationsAtLastExchange_;
}

void IdentityProbe::recordExchange(const identity::ExchangeOutcome& outcome, SystemTime at) {
  if (!outcome.metricResult.empty()) metrics_.identityExchange(outcome.metricResult).Increment();
  const bool changed = !lastExchange_ || lastExchange_->ok != outcome.ok || lastExchange_->reason != outcome.reason;
  if (outcome.ok) {
    (changed ? log::info : log::debug)("identity: token exchange with Entra ID succeeded",
                                       {{"expiresIn", static_cast<long long>(outcome.expiresIn.value_or(0))}});
  } else {
    (changed ? log::warn : log::debug)(
        "identity: token exchange with Entra ID failed",
        {{"reason", outcome.reason},
         {"result", outcome.metricResult},
         {"httpStatus", outcome.httpStatus},
         {"error", outcome.oauthError},
         {"message", outcome.message}});
  }
  lastExchange_ = outcome;
  lastExchangeAt_ = at;
  rotationsAtLastExchange_ = rotation_.rotationsObserved;
}

void IdentityProbe::logTransition(const ProbeResult& result) {
  const bool changed = firstCheck_ || result.reason != lastReason_;
  firstCheck_ = false;
  lastReason_ = result.reason;
  if (!changed) {
    log::debug("identity: check", {{"reason", result.healthy ? "ok" : result.reason}, {"message", result.message}});
    return;
  }
  if (result.healthy) {
    log::info("identity: workload identity token healthy", {{"tokenFile", result.target}, {"message", result.message}});
  } else {
    log::warn("identity: workload identity check failed",
              {{"tokenFile", result.target}, {"reason", result.reason}, {"message", result.message}});
  }
}

boost::asio::awaitable<std::vector<ProbeResult>> IdentityProbe::check() {
  const SystemTime now = time_.systemTime();
  const identity::IdentityEnvironment env = identity::inspectEnvironment(config_, options_.env);
  identity::TokenFile file = identity::readTokenFile(env.tokenFile);
  // The token (also the client assertion sent to Entra ID) and so its signature: cut out of
  // every log line and served text, whatever path outside text takes to get there.
  if (file.status == identity::TokenFile::Status::Read) secrets::remember("identity-token", file.text);
  identity::TokenCheckResult token = identity::checkToken(file, config_, options_.env, now, rotation_);

  std::string reason = token.ok() ? "" : identity::toString(token.reason);
  std::string message = token.message;
  TokenReason tokenReason = token.reason;
  std::optional<bool> signatureVerified;

  const bool usable = token.jwt && (token.ok() || identity::isSoftFailure(token.reason));
  if (config_.verifySignature && usable) {
    Verdict verdict = co_await verifySignature(*token.jwt);
    signatureVerified = verdict.reason == TokenReason::Ok;
    if (verdict.reason != TokenReason::Ok) {
      tokenReason = verdict.reason;
      reason = identity::toString(verdict.reason);
      message = std::move(verdict.message);
    }
  }

  // Entra ID's verdict is worth having whenever the token is inside its validity window,
  // even when a local expectation (issuer, subject) disagrees: it says which side is wrong.
  const bool inWindow = token.jwt && token.reason != TokenReason::TokenExpired &&
                        token.reason != TokenReason::TokenNotYetValid;
  if (config_.exchange.enabled && inWindow && exchangeDue(time_.monotonicTime())) {
    identity::ExchangeParams params;
    params.authorityHost = env.authorityHost;
    params.tenantId = env.tenantId;
    params.clientId = env.clientId;
    params.scope = config_.exchange.scope;
    params.timeout = options_.exchangeTimeout;
    params.allowInsecureHttp = options_.allowInsecureHttp;
    identity::ExchangeOutcome outcome =
        co_await identity::exchangeToken(http_, params, std::string(identity::trimToken(file.text)));
    nextExchange_ = time_.monotonicTime() + config_.exchange.interval;
    recordExchange(outcome, time_.systemTime());
  }
  // The token text is no longer needed; do not leave it in freed memory.
  if (!file.text.empty()) OPENSSL_cleanse(file.text.data(), file.text.size());
  if (token.jwt) {
    OPENSSL_cleanse(token.jwt->signature.data(), token.jwt->signature.size());
    OPENSSL_cleanse(token.jwt->signingInput.data(), token.jwt->signingInput.size());
  }

  const bool tokenHardFailure = tokenReason != TokenReason::Ok && !identity::isSoftFailure(tokenReason);
  if (config_.exchange.enabled && !tokenHardFailure && lastExchange_ && !lastExchange_->ok) {
    reason = lastExchange_->reason;
    message = "token exchange with Entra ID failed: " + lastExchange_->message;
  } else if (reason.empty() && config_.exchange.enabled && lastExchange_) {
    message += "; Entra ID issued an access token for it " +
               std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - *lastExchangeAt_).count()) +
               " s ago";
  }

  ProbeResult result = ProbeResult::forSpec(kIdentityProbe);
  result.target = env.tokenFile;
  result.at = now;
  result.healthy = reason.empty();
  result.reason = reason;
  result.message = std::move(message);
  json::object& d = result.details;
  if (token.facts) d = factsToJson(*token.facts);
  d["tokenFile"] = identity::printable(env.tokenFile, 512);
  d["tokenValid"] = tokenReason == TokenReason::Ok;
  d["rotationsObserved"] = rotation_.rotationsObserved;
  if (rotation_.lastRotation) {
    d["lastRotationAt"] = identity::rfc3339(
        std::chrono::duration_cast<std::chrono::seconds>(rotation_.lastRotation->time_since_epoch()).count());
  }
  if (signatureVerified) d["signatureVerified"] = *signatureVerified;
  if (config_.exchange.enabled && lastExchange_) d["lastExchange"] = exchangeToJson(*lastExchange_, *lastExchangeAt_);

  metrics_.identityTokenValid().Set(tokenReason == TokenReason::Ok ? 1 : 0);
  metrics_.identityTokenExpiry().Set(token.facts && token.facts->exp ? static_cast<double>(*token.facts->exp) : 0);
  metrics_.identityCheck(checkLabel(result.reason)).Increment();
  logTransition(result);

  std::vector<ProbeResult> results;
  results.push_back(std::move(result));
  co_return results;
}

}  // namespace aksnode::identity
