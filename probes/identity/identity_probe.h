#pragma once
// The workload identity probe (arch/ARCHITECTURE.md "Health probes"): every healthInterval it reads
// the projected token named by AZURE_FEDERATED_TOKEN_FILE, applies checkToken (token_check.h),
// optionally verifies the RS256 signature against the issuer's published keys (jwks_cache.h), and
// every exchange.interval presents the token to Entra ID (token_exchange.h).
//
// One ProbeResult per check: kind "identity", target the token file, reason the first
// failure in this order: a token failure (token_check.h order, signature failures before
// NotRotated/TokenExpiringSoon), then the last exchange failure, then NotRotated /
// TokenExpiringSoon. The token's text never leaves this object: not in results, metrics
// or logs.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/http/http_client.h"
#include "agent/core/time_source.h"
#include "probes/identity/identity_environment.h"
#include "probes/identity/token_check.h"
#include "probes/identity/token_exchange.h"
#include "probes/probe.h"

namespace aksnode {
class Metrics;
}

namespace aksnode::identity {

class JwksCache;

// `identity:` on the Node: WorkloadIdentityProblem, IdentityInvalid/IdentityRecovered, never
// taints.
extern const ProbeSpec kIdentityProbe;

struct IdentityProbeOptions {
  // Test-only: accept http:// issuers, jwks_uri and authority hosts (the fakes). Production
  // wiring leaves it false: keys and tokens only over verified TLS.
  bool allowInsecureHttp = false;
  std::chrono::milliseconds discoveryTimeout{5000};
  std::chrono::milliseconds exchangeTimeout{10'000};
  // Environment lookup (the config loader's EnvLookup); empty = processEnvironment().
  EnvLookup env;
};

class IdentityProbe final : public HealthCheck {
 public:
  // Initialises the identity metric label sets (every check reason and exchange result
  // at 0), so construct it at start-up.
  IdentityProbe(IdentityConfig config, HttpClient& http, const TimeSource& time, Metrics& metrics,
                IdentityProbeOptions options = {});
  ~IdentityProbe() override;
  IdentityProbe(const IdentityProbe&) = delete;
  IdentityProbe& operator=(const IdentityProbe&) = delete;

  const ProbeSpec& spec() const override { return kIdentityProbe; }
  // Bounded: one small non-blocking file read, at most two discovery GETs and one POST,
  // each with its own deadline. Not re-entrant: the app awaits one check before the next.
  boost::asio::awaitable<std::vector<ProbeResult>> check() override;

 private:
  struct Verdict {
    identity::TokenReason reason = identity::TokenReason::Ok;
    std::string message;
  };
  boost::asio::awaitable<Verdict> verifySignature(const identity::Jwt& jwt);
  bool exchangeDue(MonotonicTime now) const;
  void recordExchange(const identity::ExchangeOutcome& outcome, SystemTime at);
  void logTransition(const ProbeResult& result);

  IdentityConfig config_;
  HttpClient& http_;
  const TimeSource& time_;
  Metrics& metrics_;
  IdentityProbeOptions options_;
  std::unique_ptr<identity::JwksCache> jwks_;
  identity::RotationState rotation_;

  std::optional<identity::ExchangeOutcome> lastExchange_;
  std::optional<SystemTime> lastExchangeAt_;
  std::optional<MonotonicTime> nextExchange_;
  int rotationsAtLastExchange_ = 0;

  bool firstCheck_ = true;
  std::string lastReason_;  // "" while healthy, for logging transitions only
};

}  // namespace aksnode::identity
