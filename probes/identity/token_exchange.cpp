#include "probes/identity/token_exchange.h"

#include <openssl/crypto.h>

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "probes/identity/safe_text.h"

namespace aksnode::identity {

namespace json = boost::json;

std::string aadstsReason(std::int64_t code) {
  switch (code) {
    case 70021: return "NoMatchingFederatedIdentity";
    case 700211: return "IssuerMismatch";
    case 700212: return "AudienceMismatch";
    case 700213: return "SubjectMismatch";
    case 700024: return "AssertionExpired";
    case 700016: return "ApplicationNotFound";
    case 90061: return "IssuerUnreachable";
    case 70023: return "TokenLifetimeTooLong";
    default: return "AADSTS" + std::to_string(code);
  }
}

std::string aadstsMetricLabel(std::int64_t code) {
  const bool known = std::find(std::begin(kKnownAadstsCodes), std::end(kKnownAadstsCodes), code) !=
                     std::end(kKnownAadstsCodes);
  return known ? "AADSTS" + std::to_string(code) : "AADSTS_other";
}

std::span<const std::string> exchangeMetricResults() {
  static const std::vector<std::string> results = [] {
    std::vector<std::string> r{"ok", "http_error", "unreachable", "AADSTS_other"};
    for (std::int64_t code : kKnownAadstsCodes) r.push_back("AADSTS" + std::to_string(code));
    return r;
  }();
  return results;
}

std::span<const std::string> exchangeCheckReasons() {
  static const std::vector<std::string> reasons = [] {
    std::vector<std::string> r{"ExchangeHttpError", "ExchangeUnreachable", "ExchangeBadResponse",
                               "ExchangeNotConfigured", "AADSTS_other"};
    for (std::int64_t code : kKnownAadstsCodes) r.push_back(aadstsReason(code));
    return r;
  }();
  return reasons;
}

std::string formEncode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size() + value.size() / 4);
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0F]);
    }
  }
  return out;
}

namespace {

bool startsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const char c = text[i];
    if (((c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c) != prefix[i]) return false;
  }
  return true;
}

// A tenant is a GUID or a domain name ("contoso.onmicrosoft.com"): nothing that could
// change the URL's path or host.
bool validTenant(std::string_view tenant) {
  if (tenant.empty() || tenant.size() > 128) return false;
  return std::all_of(tenant.begin(), tenant.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.';
  });
}

// The part of error_description worth keeping: Entra separates the sentence from
// "Trace ID: ... Correlation ID: ... Timestamp: ..." with CR LF; both halves are useful
// (support asks for the trace id), so they are joined on one line.
std::string describe(std::string_view description, std::string_view assertion) {
  std::string text(description);
  for (std::size_t pos; (pos = text.find("\r\n")) != std::string::npos;) text.replace(pos, 2, " ");
  return printable(redact(std::move(text), assertion), 600);
}

std::optional<std::int64_t> codeFromDescription(std::string_view description) {
  const std::size_t pos = description.find("AADSTS");
  if (pos == std::string_view::npos) return std::nullopt;
  std::int64_t code = 0;
  std::size_t i = pos + 6;
  std::size_t digits = 0;
  for (; i < description.size() && description[i] >= '0' && description[i] <= '9' && digits < 12; ++i, ++digits) {
    code = code * 10 + (description[i] - '0');
  }
  if (digits == 0) return std::nullopt;
  return code;
}

void wipe(std::string& secret) {
  if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
  secret.clear();
}

ExchangeOutcome failure(std::string metric, std::string reason, std::string message) {
  ExchangeOutcome o;
  o.metricResult = std::move(metric);
  o.reason = std::move(reason);
  o.message = std::move(message);
  return o;
}

std::optional<json::object> parseObject(std::string_view body) {
  json::parse_options options;
  options.max_depth = 16;
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(body.data(), body.size()), ec, {}, options);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

std::optional<std::int64_t> integerMember(const json::object& obj, const char* key) {
  const json::value* v = obj.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() <= 1'000'000'000'000ULL) return static_cast<std::int64_t>(v->as_uint64());
  if (v->is_double() && std::isfinite(v->as_double()) && std::fabs(v->as_double()) < 1e12) {
    return static_cast<std::int64_t>(v->as_double());
  }
  if (v->is_string()) {  // the v1 endpoint sent expires_in as a string
    const auto& s = v->as_string();
    if (s.empty() || s.size() > 12) return std::nullopt;
    std::int64_t n = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + (c - '0');
    }
    return n;
  }
  return std::nullopt;
}

std::string stringMember(const json::object& obj, const char* key) {
  const json::value* v = obj.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

Result<HttpRequest> buildExchangeRequest(const ExchangeParams& params, std::string_view assertion) {
  using Request = Result<HttpRequest>;
  const bool https = startsWithIgnoreCase(params.authorityHost, "https://");
  const bool http = startsWithIgnoreCase(params.authorityHost, "http://");
  if (!https && !(http && params.allowInsecureHttp)) {
    return Request::failure("identity.authorityHost \"" + printable(params.authorityHost) +
                            "\" is not an https:// URL");
  }
  if (params.authorityHost.find_first_of("?#") != std::string::npos) {
    return Request::failure("identity.authorityHost \"" + printable(params.authorityHost) +
                            "\" has a query or fragment");
  }
  if (!validTenant(params.tenantId)) {
    return Request::failure("identity.tenantId \"" + printable(params.tenantId) +
                            "\" is not a tenant id or domain");
  }
  if (params.clientId.empty()) return Request::failure("identity.clientId is empty");
  if (assertion.empty()) return Request::failure("no token to present");
  HttpRequest request;
  request.method = "POST";
  request.url = params.authorityHost;
  if (request.url.back() != '/') request.url.push_back('/');
  request.url += params.tenantId + "/oauth2/v2.0/token";
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  request.timeout = params.timeout;
  request.bodyLimit = 64 * 1024;
  request.body = "client_id=" + formEncode(params.clientId) + "&scope=" + formEncode(params.scope) +
                 "&grant_type=client_credentials"
                 "&client_assertion_type=" +
                 formEncode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
                 "&client_assertion=" + formEncode(assertion);
  return Request::success(std::move(request));
}

ExchangeOutcome interpretExchangeResponse(HttpResult& result, std::string_view assertion) {
  if (!result.ok()) {
    const bool transport = result.error == HttpError::Timeout || result.error == HttpError::Unreachable ||
                           result.error == HttpError::Tls || result.error == HttpError::BadUrl ||
                           result.error == HttpError::Cancelled;
    std::string message = std::string("token endpoint ") + (transport ? "unreachable: " : "request failed: ") +
                          toString(result.error);
    if (!result.errorMessage.empty()) message += " (" + printable(redact(result.errorMessage, assertion)) + ")";
    wipe(result.response.body);
    return transport ? failure("unreachable", "ExchangeUnreachable", std::move(message))
                     : failure("http_error", "ExchangeHttpError", std::move(message));
  }

  const int status = result.response.status;
  std::optional<json::object> body = parseObject(result.response.body);
  wipe(result.response.body);

  if (status == 200) {
    ExchangeOutcome outcome;
    outcome.httpStatus = status;
    json::value* token = body ? body->if_contains("access_token") : nullptr;
    if (token && token->is_string() && !token->as_string().empty()) {
      // Established that a token was issued; now make sure no copy of it survives.
      json::string& text = token->as_string();
      OPENSSL_cleanse(text.data(), text.size());
      outcome.ok = true;
      outcome.metricResult = "ok";
      outcome.expiresIn = integerMember(*body, "expires_in");
      outcome.message = "Entra ID issued an access token" +
                        (outcome.expiresIn ? " valid for " + std::to_string(*outcome.expiresIn) + " s" : std::string());
      return outcome;
    }
    outcome = failure("http_error", "ExchangeBadResponse", "token endpoint answered 200 without an access_token");
    outcome.httpStatus = status;
    return outcome;
  }

  ExchangeOutcome outcome;
  std::string description;
  std::string oauthError;
  std::optional<std::int64_t> code;
  if (body) {
    description = stringMember(*body, "error_description");
    oauthError = printable(stringMember(*body, "error"), 64);
    if (const json::value* codes = body->if_contains("error_codes");
        codes && codes->is_array() && !codes->as_array().empty()) {
      const json::value& first = codes->as_array().front();
      if (first.is_int64() && first.as_int64() > 0) code = first.as_int64();
      if (first.is_uint64() && first.as_uint64() < 1'000'000'000'000ULL) code = static_cast<std::int64_t>(first.as_uint64());
    }
    if (!code) code = codeFromDescription(description);
  }
  if (code) {
    outcome = failure(aadstsMetricLabel(*code), aadstsReason(*code),
                      description.empty() ? "AADSTS" + std::to_string(*code) : describe(description, assertion));
    outcome.aadstsCode = code;
  } else {
    outcome = failure("http_error", "ExchangeHttpError",
                      "token endpoint answered HTTP " + std::to_string(status) +
                          (description.empty() ? std::string() : ": " + describe(description, assertion)));
  }
  outcome.httpStatus = status;
  outcome.oauthError = std::move(oauthError);
  return outcome;
}

boost::asio::awaitable<ExchangeOutcome> exchangeToken(HttpClient& http, ExchangeParams params,
                                                      std::string assertion) {
  Result<HttpRequest> request = buildExchangeRequest(params, assertion);
  if (!request) {
    wipe(assertion);
    // Nothing was sent, so nothing for aksnode_identity_exchange_total (metricResult "").
    co_return failure("", "ExchangeNotConfigured", request.error());
  }
  HttpResult result = co_await http.send(std::move(request).value());
  ExchangeOutcome outcome = interpretExchangeResponse(result, assertion);
  wipe(assertion);
  co_return outcome;
}

}  // namespace aksnode::identity
