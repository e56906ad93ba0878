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

boost::asio::awaitable<Result<std::string>> JwksCache::get(const std::string& url,
                                                           std::size_t limit) {
  HttpRequest request;
  request.method = "GET";
  request.url = url;
  request.headers = {{"Accept", "application/json"}};
  request.timeout = options_.timeout;
  request.bodyLimit = limit;
  HttpResult result = co_await http_.send(std::move(request));
  if (!result.ok()) {
    co_return Result<std::string>::failure(
        "GET " + printable(url) + " failed: " + toString(result.error) +
        (result.errorMessage.empty() ? "" : " (" + printable(result.errorMessage) + ")"));
  }
  if (result.response.status != 200) {
    co_return Result<std::string>::failure("GET " + printable(url) + " answered HTTP " +
                                           std::to_string(result.response.status));
  }
  co_return Result<std::string>::success(std::move(result.response.body));
}

boost::asio::awaitable<Result<void>> JwksCache::refresh(const std::string& issuer) {
  using Refresh = Result<void>;
  ++fetches_;
  lastAttempt_ = time_.monotonicTime();

  const std::string configUrl = discoveryUrl(issuer);
  if (!allowedUrl(configUrl)) {
    co_return Refresh::failure("issuer " + printable(issuer) +
                               " is not an https:// URL; refusing to fetch its keys");
  }
  const auto discoveryBody = co_await get(configUrl, kMaxDiscoveryBytes);
  if (!discoveryBody) co_return Refresh::failure("OIDC discovery: " + discoveryBody.error());
  const auto discovery = parseDiscovery(*discoveryBody);
  if (!discovery) {
    co_return Refresh::failure("OIDC discovery document at " + printable(configUrl) +
                               " is unusable: " + discovery.error());
  }
  // Discovery 1.0 section 4.3: the document's issuer must be identical to the one the
  // token names. Entra ID applies the same rule, so this catches a trailing-slash
  // difference between the cluster's --service-account-issuer and its discovery document.
  if (discovery->issuer != issuer) {
    co_return Refresh::failure("OIDC discovery document at " + printable(configUrl) +
                               " names issuer \"" + printable(discovery->issuer) +
                               "\", not the token's \"" + printable(issuer) + "\"");
  }
  if (!allowedUrl(discovery->jwksUri)) {
    co_return Refresh::failure("jwks_uri " + printable(discovery->jwksUri) + " is not an https:// URL");
  }
  const auto jwksBody = co_await get(discovery->jwksUri, kMaxJwksBytes);
  if (!jwksBody) co_return Refresh::failure("JWKS: " + jwksBody.error());
  auto jwks = parseJwks(*jwksBody);
  if (!jwks) {
    co_return Refresh::failure("JWKS at " + printable(discovery->jwksUri) + " is unusable: " +
                               jwks.error());
  }
  for (const auto& why : jwks->skipped) {
    log::debug("identity: JWKS key skipped", {{"jwksUri", discovery->jwksUri}, {"why", why}});
  }
  keys_ = std::move(jwks->keys);
  lastSuccess_ = lastAttempt_;
  log::info("identity: issuer keys fetched",
            {{"issuer", printable(issuer)}, {"keys", static_cast<unsigned long>(keys_.size())}});
  co_return Refresh::success();
}

boost::asio::awaitable<KeyLookup> JwksCache::find(std::string issuer, std::string kid) {
  if (issuer != issuer_) {
    // A different issuer (the config or the cluster changed): nothing cached applies.
    issuer_ = issuer;
    keys_.clear();
    lastAttempt_.reset();
    lastSuccess_.reset();
    lastError_.reset();
  }
  const MonotonicTime now = time_.monotonicTime();
  const bool stale = !lastSuccess_ || now - *lastSuccess_ >= options_.maxAge;
  const bool known = keys_.count(kid) > 0;
  const bool mayFetch = !lastAttempt_ || now - *lastAttempt_ >= options_.minRefreshInterval;
  if ((stale || !known) && mayFetch) {
    const Result<void> refreshed = co_await refresh(issuer);
    lastError_ = refreshed ? std::nullopt : std::optional<std::string>(refreshed.error());
  }

  KeyLookup lookup;
  const bool fresh = lastSuccess_ && now - *lastSuccess_ < options_.maxAge;
  if (lastError_ && !(fresh && keys_.count(kid))) {
    // Last fetch failed, and there is no recent key to fall back on.
    lookup.status = KeyLookup::Status::DiscoveryFailed;
    lookup.message = *lastError_;
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
