#pragma once
// Finds the issuer's public key for a token's kid: OIDC discovery, then the JWKS it names,
// both through the injected HttpClient, cached by kid.
//
// Refresh policy: the key set is fetched on first use, when a kid is unknown (the cluster
// rotated its signing key) and when older than maxAge (a key removed by the issuer stops
// being trusted); never more often than minRefreshInterval, so a token with a bogus kid
// cannot turn the agent into a load generator against the issuer.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "agent/core/result.h"
#include "agent/core/time_source.h"
#include "agent/http/http_client.h"
#include "probes/identity/rsa_key.h"

namespace aksnode::identity {

struct KeyLookup {
  enum class Status { Found, KeyNotFound, DiscoveryFailed };
  Status status = Status::DiscoveryFailed;
  PublicKey key;        // set when Found
  std::string message;  // why not, for the probe's message (URLs and kids, nothing secret)
};

class JwksCache {
 public:
  struct Options {
    // Test-only: allow http:// issuers and jwks_uri (the fakes serve plain HTTP too).
    bool allowInsecureHttp = false;
    std::chrono::milliseconds timeout{5000};
    std::chrono::seconds minRefreshInterval{60};
    std::chrono::seconds maxAge{3600};
  };

  JwksCache(HttpClient& http, const TimeSource& time, Options options);

  // The key for `kid` from `issuer` (the token's iss, exactly). Single caller at a time
  // (the probe runs its checks one after another).
  boost::asio::awaitable<KeyLookup> find(std::string issuer, std::string kid);

  // Observability and tests.
  int fetchCount() const { return fetches_; }
  std::size_t keyCount() const { return keys_.size(); }

 private:
  // Fetches discovery and JWKS; on success replaces keys_, else says why.
  boost::asio::awaitable<Result<void>> refresh(const std::string& issuer);
  // The body of a 200 answer to GET `url`, or why there is none.
  boost::asio::awaitable<Result<std::string>> get(const std::string& url, std::size_t limit);
  bool allowedUrl(const std::string& url) const;

  HttpClient& http_;
  const TimeSource& time_;
  Options options_;
  std::string issuer_;                       // whose keys are cached
  std::map<std::string, PublicKey> keys_;
  std::optional<MonotonicTime> lastAttempt_;
  std::optional<MonotonicTime> lastSuccess_;
  std::optional<std::string> lastError_;     // why the last refresh failed; unset after a success
  int fetches_ = 0;
};

}  // namespace aksnode::identity
