#include "probes/identity/token_exchange.h"

#include <gtest/gtest.h>

#include <set>

#include "identity_test_support.h"

namespace aksnode::identity {
namespace {

// Shapes of real Microsoft Entra ID answers (error JSON as documented in "Microsoft Entra
// authentication and authorization error codes" and as quoted in azure-workload-identity
// issues #616 and #1200; ids replaced).
constexpr const char* kAadsts70021 = R"({"error":"invalid_request","error_description":"AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: 'https://kubernetes.default.svc.cluster.local'. Assertion Subject: 'system:serviceaccount:default:workload-identity-sa'. Assertion Audience: 'api://AzureADTokenExchange'. https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation\r\nTrace ID: 30b6df93-0000-0000-0000-bad0838f6f00\r\nCorrelation ID: dffc6012-0000-0000-0000-3e831069b3cc\r\nTimestamp: 2022-10-27 23:39:22Z","error_codes":[70021],"timestamp":"2022-10-27 23:39:22Z","trace_id":"30b6df93-0000-0000-0000-bad0838f6f00","correlation_id":"dffc6012-0000-0000-0000-3e831069b3cc","error_uri":"https://login.microsoftonline.com/error?code=70021"})";
constexpr const char* kAadsts700211 = R"({"error":"invalid_client","error_description":"AADSTS700211: No matching federated identity record found for presented assertion issuer 'https://oidc.prod-aks.azure.com/00000000-0000-0000-0000-000000000000/'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation Trace ID: 0a0a0a0a-0000-0000-0000-000000000000 Correlation ID: 0b0b0b0b-0000-0000-0000-000000000000 Timestamp: 2023-12-08 16:17:27Z","error_codes":[700211],"timestamp":"2023-12-08 16:17:27Z","trace_id":"0a0a0a0a-0000-0000-0000-000000000000","correlation_id":"0b0b0b0b-0000-0000-0000-000000000000","error_uri":"https://login.microsoftonline.com/error?code=700211"})";
constexpr const char* kAadsts700024 = R"({"error":"invalid_client","error_description":"AADSTS700024: Client assertion is not within its valid time range. Current time: 2024-01-01T10:00:00.0000000Z, assertion valid from 2024-01-01T08:00:00.0000000Z, expiry time of assertion 2024-01-01T09:00:00.0000000Z. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .\r\nTrace ID: 1\r\nCorrelation ID: 2\r\nTimestamp: 2024-01-01 10:00:00Z","error_codes":[700024],"timestamp":"2024-01-01 10:00:00Z","trace_id":"1","correlation_id":"2"})";
constexpr const char* kAadsts700016 = R"({"error":"unauthorized_client","error_description":"AADSTS700016: Application with identifier '0a1b2c3d-0000-4000-8000-00000000c1d0' was not found in the directory 'Contoso'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.\r\nTrace ID: 1\r\nCorrelation ID: 2\r\nTimestamp: 2024-01-01 10:00:00Z","error_codes":[700016],"timestamp":"2024-01-01 10:00:00Z","trace_id":"1","correlation_id":"2","error_uri":"https://login.microsoftonline.com/error?code=700016"})";
constexpr const char* kAadsts90061 = R"({"error":"invalid_request","error_description":"AADSTS90061: Request to External OIDC endpoint failed.\r\nTrace ID: 1\r\nCorrelation ID: 2\r\nTimestamp: 2024-01-01 10:00:00Z","error_codes":[90061],"timestamp":"2024-01-01 10:00:00Z"})";
constexpr const char* kAadsts70023 = R"({"error":"invalid_client","error_description":"AADSTS70023: The lifetime of the presented assertion is too long.\r\nTrace ID: 1\r\nCorrelation ID: 2","error_codes":[70023]})";
constexpr const char* kAadsts7002138 = R"({"error":"invalid_client","error_description":"AADSTS7002138: No matching federated identity record found for presented assertion subject 'system:serviceaccount:a:b'. The subject matches with case-insensitive comparison, but not with case-sensitive comparison.","error_codes":[7002138]})";
constexpr const char* kAadsts50013NoCodes = R"({"error":"invalid_client","error_description":"AADSTS50013: Assertion failed signature validation. [Reason - The key was not found.]"})";
constexpr const char* kSuccess = R"({"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.ACCESS-TOKEN-PAYLOAD.ACCESS-TOKEN-SIGNATURE"})";

HttpResult answer(int status, std::string body) {
  HttpResult r;
  r.response.status = status;
  r.response.body = std::move(body);
  return r;
}

struct MappingCase {
  int status;
  const char* body;
  const char* reason;
  const char* metric;
  std::int64_t code;
  const char* messageContains;
};

class ExchangeMapping : public ::testing::TestWithParam<MappingCase> {};

TEST_P(ExchangeMapping, MapsTheAadstsCode) {
  const auto& c = GetParam();
  HttpResult r = answer(c.status, c.body);
  const ExchangeOutcome o = interpretExchangeResponse(r, "the.assertion.text");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.reason, c.reason);
  EXPECT_EQ(o.metricResult, c.metric);
  EXPECT_EQ(o.aadstsCode, c.code);
  EXPECT_EQ(o.httpStatus, c.status);
  EXPECT_NE(o.message.find(c.messageContains), std::string::npos) << o.message;
  EXPECT_EQ(o.message.find('\r'), std::string::npos);
  EXPECT_TRUE(r.response.body.empty());
}

INSTANTIATE_TEST_SUITE_P(
    RealBodies, ExchangeMapping,
    ::testing::Values(
        MappingCase{400, kAadsts70021, "NoMatchingFederatedIdentity", "AADSTS70021", 70021, "Assertion Issuer: 'https://kubernetes.default.svc.cluster.local'"},
        MappingCase{401, kAadsts700211, "IssuerMismatch", "AADSTS700211", 700211, "presented assertion issuer"},
        MappingCase{401, kAadsts700024, "AssertionExpired", "AADSTS700024", 700024, "not within its valid time range"},
        MappingCase{400, kAadsts700016, "ApplicationNotFound", "AADSTS700016", 700016, "was not found in the directory"},
        MappingCase{400, kAadsts90061, "IssuerUnreachable", "AADSTS90061", 90061, "External OIDC endpoint"},
        MappingCase{401, kAadsts70023, "TokenLifetimeTooLong", "AADSTS70023", 70023, "too long"},
        MappingCase{401, kAadsts7002138, "AADSTS7002138", "AADSTS_other", 7002138, "case-sensitive"},
        MappingCase{401, kAadsts50013NoCodes, "AADSTS50013", "AADSTS_other", 50013, "signature validation"}));

TEST(Exchange, SuccessKeepsNoAccessToken) {
  HttpResult r = answer(200, kSuccess);
  const ExchangeOutcome o = interpretExchangeResponse(r, "a.b.c");
  EXPECT_TRUE(o.ok);
  EXPECT_EQ(o.metricResult, "ok");
  EXPECT_EQ(o.reason, "");
  EXPECT_EQ(o.expiresIn, 3599);
  EXPECT_TRUE(r.response.body.empty());
  EXPECT_EQ(o.message.find("ACCESS-TOKEN"), std::string::npos);
  EXPECT_EQ(o.message.find("eyJ0eXAi"), std::string::npos);
}

TEST(Exchange, NonAadstsFailures) {
  HttpResult empty200 = answer(200, R"({"token_type":"Bearer"})");
  auto o = interpretExchangeResponse(empty200, "x");
  EXPECT_EQ(o.reason, "ExchangeBadResponse");
  EXPECT_EQ(o.metricResult, "http_error");

  HttpResult html = answer(502, "<html>Bad Gateway</html>");
  o = interpretExchangeResponse(html, "x");
  EXPECT_EQ(o.reason, "ExchangeHttpError");
  EXPECT_EQ(o.metricResult, "http_error");
  EXPECT_NE(o.message.find("502"), std::string::npos);

  HttpResult throttled = answer(429, R"({"error":"temporarily_unavailable"})");
  EXPECT_EQ(interpretExchangeResponse(throttled, "x").metricResult, "http_error");

  for (HttpError e : {HttpError::Timeout, HttpError::Unreachable, HttpError::Tls}) {
    HttpResult r;
    r.error = e;
    o = interpretExchangeResponse(r, "x");
    EXPECT_EQ(o.metricResult, "unreachable");
    EXPECT_EQ(o.reason, "ExchangeUnreachable");
  }
  HttpResult tooBig;
  tooBig.error = HttpError::BodyTooLarge;
  EXPECT_EQ(interpretExchangeResponse(tooBig, "x").metricResult, "http_error");
}

TEST(Exchange, RedactsTheAssertionIfEchoed) {
  const std::string assertion = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU";
  HttpResult r = answer(400, R"({"error":"invalid_request","error_description":"AADSTS50027: JWT token is invalid or malformed: )" +
                                 assertion + R"( and signature c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU","error_codes":[50027]})");
  const auto o = interpretExchangeResponse(r, assertion);
  EXPECT_EQ(o.message.find(assertion), std::string::npos) << o.message;
  EXPECT_EQ(o.message.find("c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find("[redacted]"), std::string::npos);
}

TEST(Exchange, MetricLabelsAreBounded) {
  std::set<std::string> labels;
  for (const auto& l : exchangeMetricResults()) labels.insert(l);
  for (std::int64_t code : {70021, 700211, 700024, 700016, 90061, 70023, 700212, 700213}) {
    EXPECT_EQ(labels.count(aadstsMetricLabel(code)), 1u) << code;
  }
  for (std::int64_t code = 1; code < 10'000'000; code = code * 3 + 1) {
    EXPECT_EQ(labels.count(aadstsMetricLabel(code)), 1u) << code;
  }
  EXPECT_EQ(labels.count("ok"), 1u);
  EXPECT_EQ(labels.count("http_error"), 1u);
  EXPECT_EQ(labels.count("unreachable"), 1u);
}

TEST(Exchange, BuildsTheClientCredentialsRequest) {
  ExchangeParams p;
  p.authorityHost = "https://login.microsoftonline.com/";
  p.tenantId = testing::kTenantId;
  p.clientId = testing::kClientId;
  p.scope = "https://storage.azure.com/.default";
  auto req = buildExchangeRequest(p, "h.p.s");
  ASSERT_TRUE(req) << req.error();
  EXPECT_EQ(req->method, "POST");
  EXPECT_EQ(req->url, std::string("https://login.microsoftonline.com/") + testing::kTenantId + "/oauth2/v2.0/token");
  EXPECT_EQ(req->body,
            std::string("client_id=") + testing::kClientId +
                "&scope=https%3A%2F%2Fstorage.azure.com%2F.default&grant_type=client_credentials"
                "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
                "&client_assertion=h.p.s");
  bool form = false;
  for (const auto& [k, v] : req->headers) form |= k == "Content-Type" && v == "application/x-www-form-urlencoded";
  EXPECT_TRUE(form);

  p.authorityHost = "https://login.microsoftonline.us";  // no trailing slash
  req = buildExchangeRequest(p, "h.p.s");
  ASSERT_TRUE(req) << req.error();
  EXPECT_EQ(req->url, std::string("https://login.microsoftonline.us/") + testing::kTenantId + "/oauth2/v2.0/token");
}

TEST(Exchange, RefusesUnsafeParameters) {
  ExchangeParams p;
  p.authorityHost = "https://login.microsoftonline.com/";
  p.tenantId = testing::kTenantId;
  p.clientId = testing::kClientId;
  auto bad = [&](auto edit, const char* contains) {
    ExchangeParams q = p;
    edit(q);
    const auto req = buildExchangeRequest(q, "h.p.s");
    EXPECT_FALSE(req);
    EXPECT_NE(req.error().find(contains), std::string::npos) << req.error();
  };
  bad([](ExchangeParams& q) { q.authorityHost = "http://login.microsoftonline.com/"; }, "https");
  bad([](ExchangeParams& q) { q.authorityHost = "https://login.microsoftonline.com/?x=1"; }, "query");
  bad([](ExchangeParams& q) { q.tenantId = "../../evil"; }, "tenantId");
  bad([](ExchangeParams& q) { q.tenantId = "a/b"; }, "tenantId");
  bad([](ExchangeParams& q) { q.tenantId = ""; }, "tenantId");
  bad([](ExchangeParams& q) { q.clientId = ""; }, "clientId");
  EXPECT_FALSE(buildExchangeRequest(p, ""));
  p.authorityHost = "http://127.0.0.1:9999/";
  p.allowInsecureHttp = true;
  EXPECT_TRUE(buildExchangeRequest(p, "h.p.s"));
}

TEST(Exchange, FormEncoding) {
  EXPECT_EQ(formEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(formEncode("a b&c=d+e/f"), "a%20b%26c%3Dd%2Be%2Ff");
  EXPECT_EQ(formEncode("\xff"), "%FF");
}

TEST(Exchange, EndToEndThroughTheHttpClient) {
  testing::ScriptedHttpClient http;
  const std::string url = std::string("https://login.microsoftonline.com/") + testing::kTenantId + "/oauth2/v2.0/token";
  http.on(url, 400, kAadsts70021);
  ExchangeParams p;
  p.authorityHost = "https://login.microsoftonline.com/";
  p.tenantId = testing::kTenantId;
  p.clientId = testing::kClientId;
  p.scope = "https://storage.azure.com/.default";
  auto o = testing::runSync(exchangeToken(http, p, "h.p.s"));
  EXPECT_EQ(o.reason, "NoMatchingFederatedIdentity");
  ASSERT_EQ(http.requests.size(), 1u);
  EXPECT_EQ(http.requests[0].url, url);

  p.tenantId = "bad/tenant";
  o = testing::runSync(exchangeToken(http, p, "h.p.s"));
  EXPECT_EQ(o.reason, "ExchangeNotConfigured");
  EXPECT_EQ(o.metricResult, "");
  EXPECT_EQ(http.requests.size(), 1u);
}

}  // namespace
}  // namespace aksnode::identity
