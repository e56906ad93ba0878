#pragma once
// The real test of the whole chain: present the projected token to Microsoft Entra ID as a
// client assertion (client credentials grant, workload identity federation) and see
// whether an access token comes back. The access token is dropped as soon as its
// presence is established; the answer's AADSTS code becomes a reason.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "agent/core/result.h"
#include "agent/http/http_client.h"

namespace aksnode::identity {

struct ExchangeParams {
  std::string authorityHost;  // https://login.microsoftonline.com/ (slash optional)
  std::string tenantId;
  std::string clientId;
  std::string scope;
  std::chrono::milliseconds timeout{10'000};
  bool allowInsecureHttp = false;  // test-only: the fake Entra ID may serve plain HTTP
};

struct ExchangeOutcome {
  bool ok = false;
  // Bounded `result` label of aksnode_identity_exchange_total: "ok", "AADSTS<code>" for
  // kKnownAadstsCodes, "AADSTS_other", "http_error" or "unreachable"; "" when no request
  // was sent (ExchangeNotConfigured) and nothing is to be counted.
  std::string metricResult;
  // CamelCase reason when !ok: NoMatchingFederatedIdentity, IssuerMismatch, ...,
  // "AADSTS<n>" for other codes, ExchangeHttpError, ExchangeUnreachable,
  // ExchangeBadResponse, ExchangeNotConfigured.
  std::string reason;
  std::string message;  // human-readable, from Entra's error_description (redacted, bounded)
  int httpStatus = 0;
  std::optional<std::int64_t> aadstsCode;
  std::string oauthError;             // "invalid_client", "invalid_request", ...
  std::optional<std::int64_t> expiresIn;  // of the (discarded) access token
};

// AADSTS codes that get their own metric label (everything else is AADSTS_other, so the
// label set stays bounded whatever Entra ID answers).
inline constexpr std::int64_t kKnownAadstsCodes[] = {70021, 700211, 700212, 700213,
                                                     700024, 700016, 90061, 70023};

// Reason for an AADSTS code: 70021 NoMatchingFederatedIdentity, 700211 IssuerMismatch,
// 700212 AudienceMismatch, 700213 SubjectMismatch, 700024 AssertionExpired,
// 700016 ApplicationNotFound, 90061 IssuerUnreachable, 70023 TokenLifetimeTooLong,
// otherwise "AADSTS<code>".
std::string aadstsReason(std::int64_t code);
// "AADSTS<code>" for a known code, else "AADSTS_other".
std::string aadstsMetricLabel(std::int64_t code);
// Every value metricResult can take: for initialising the label set to 0.
std::span<const std::string> exchangeMetricResults();
// Every reason ExchangeOutcome can carry except the unbounded "AADSTS<n>"; with
// "AADSTS_other" for those. For the aksnode_identity_checks_total label set.
std::span<const std::string> exchangeCheckReasons();

// application/x-www-form-urlencoded value encoding (RFC 3986 unreserved kept, space as %20).
std::string formEncode(std::string_view value);

// The POST to {authorityHost}{tenantId}/oauth2/v2.0/token. A failure saying why when the
// parameters cannot make a safe request (no tenant, tenant with URL syntax in it,
// non-https authority).
Result<HttpRequest> buildExchangeRequest(const ExchangeParams& params, std::string_view assertion);

// Interprets Entra ID's answer (pure; `assertion` is only used to redact it from any text
// that is kept). Wipes the response body, which may hold an access token.
ExchangeOutcome interpretExchangeResponse(HttpResult& result, std::string_view assertion);

// buildExchangeRequest + send + interpretExchangeResponse. Takes its own copy of the
// assertion (the coroutine may outlive the caller's buffer) and wipes it when done.
boost::asio::awaitable<ExchangeOutcome> exchangeToken(HttpClient& http, ExchangeParams params,
                                                      std::string assertion);

}  // namespace aksnode::identity
