#include "probes/identity/jwks_cache.h"

#include "agent/core/logging.h"
#include "probes/identity/jwks.h"
#include "probes/identity/safe_text.h"

namespace aksnode::identity {

namespace {

bool startsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const char c = text[i];
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    if (lower != prefix[i]) return false;
  }
  return true;
}

}  // namespace

JwksCache::JwksCache(HttpClient& http, const TimeSource& time, Options options)
    : http_(http), time_(time), options_(options) {}

bool JwksCache::allowedUrl(const std::string& url) const {
  if (startsWithIgnoreCase(url, "https://")) return true;
  return options_.allowInsecureHttp && startsWithIgnoreCase(url, "http://");
}

boost::asio::awaitable<std::optional<std::string>> JwksCache::get(const std::string& url,
                                                                  std::size_t limit,
                                                                  std::string& error) {
  HttpRequest request;
  request.method = "GET";
  request.url = url;
  request.headers = {{"Accept", "application/json"}};
  request.timeout = options_.timeout;
  request.bodyLimit = limit;
  HttpResult result = co_await http_.send(std::move(request));
  if (!result.ok()) {
    error = "GET " + printable(url) + " failed: " + toString(result.error) +
            (result.errorMessage.empty() ? "" : " (" + printable(result.errorMessage) + ")");
    co_return std::nullopt;
  }
  if (result.response.status != 200) {
    error = "GET " + printable(url) + " answered HTTP " + std::to_string(result.response.status);
    co_return std::nullopt;
  }
  co_return std::move(result.response.body);
}

boost::asio::awaitable<void> JwksCache::refresh(const std::string& issuer) {
  ++fetches_;
  lastAttempt_ = time_.monotonicTime();
  auto failed = [this](std::string why) { lastError_ = std::move(why); };

  const std::string configUrl = discoveryUrl(issuer);
  if (!allowedUrl(configUrl)) {
    failed("issuer " + printable(issuer) + " is not an https:// URL; refusing to fetch its keys");
    co_return;
  }
  std::string error;
  auto discoveryBody = co_await get(configUrl, kMaxDiscoveryBytes, error);
  if (!discoveryBody) {
    failed("OIDC discovery: " + error);
    co_return;
  }
  auto discovery = parseDiscovery(*discoveryBody, error);
  if (!discovery) {
    failed("OIDC discovery document at " + printable(configUrl) + " is unusable: " + error);
    co_return;
  }
  // Discovery 1.0 section 4.3: the document's issuer must be identical to the one the
  // token names. Entra ID applies the same rule, so this catches a trailing-slash
  // difference between the cluster's --service-account-issuer and its discovery document.
  if (discovery->issuer != issuer) {
    failed("OIDC discovery document at " + printable(configUrl) + " names issuer \"" +
           printable(discovery->issuer) + "\", not the token's \"" + printable(issuer) + "\"");
    co_return;
  }
  if (!allowedUrl(discovery->jwksUri)) {
    failed("jwks_uri " + printable(discovery->jwksUri) + " is not an https:// URL");
    co_return;
  }
  auto jwksBody = co_await get(discovery->jwksUri, kMaxJwksBytes, error);
  if (!jwksBody) {
    failed("JWKS: " + error);
    co_return;
  }
  JwksParseResult jwks = parseJwks(*jwksBody);
  if (!jwks.ok()) {
    failed("JWKS at " + printable(discovery->jwksUri) + " is unusable: " + jwks.error);
    co_return;
  }
  for (const auto& why : jwks.skipped) {
    log::debug("identity: JWKS key skipped", {{"jwksUri", discovery->jwksUri}, {"why", why}});
  }
  keys_ = std::move(jwks.keys);
  lastSuccess_ = lastAttempt_;
  lastError_.clear();
  log::info("identity: issuer keys fetched",
            {{"issuer", printable(issuer)}, {"keys", static_cast<unsigned long>(keys_.size())}});
}

boost::asio::awaitable<KeyLookup> JwksCache::find(std::string issuer, std::string kid) {
  if (issuer != issuer_) {
    // A different issuer (the config or the cluster changed): nothing cached applies.
    issuer_ = issuer;
    keys_.clear();
    lastAttempt_.reset();
    lastSuccess_.reset();
    lastError_.clear();
  }
  const MonotonicTime now = time_.monotonicTime();
  const bool stale = !lastSuccess_ || now - *lastSuccess_ >= options_.maxAge;
  const bool known = keys_.count(kid) > 0;
  const bool mayFetch = !lastAttempt_ || now - *lastAttempt_ >= options_.minRefreshInterval;
  if ((stale || !known) && mayFetch) co_await refresh(issuer);

  KeyLookup lookup;
  const bool fresh = lastSuccess_ && now - *lastSuccess_ < options_.maxAge;
  if (!lastError_.empty() && !(fresh && keys_.count(kid))) {
    // Last fetch failed, and there is no recent key to fall back on.
    lookup.status = KeyLookup::Status::DiscoveryFailed;
    lookup.message = lastError_;
    co_return lookup;
  }
  if (auto it = keys_.find(kid); it != keys_.end()) {
    lookup.status = KeyLookup::Status::Found;
    lookup.key = it->second;
    co_return lookup;
  }
  lookup.status = KeyLookup::Status::KeyNotFound;
  lookup.message = "the issuer's JWKS has no key with kid \"" + printable(kid, 128) + "\" (" +
                   std::to_string(keys_.size()) + " keys published)";
  co_return lookup;
}

}  // namespace aksnode::identity
