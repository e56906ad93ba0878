#include "probes/identity/identity_probe.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>

#include <cstdio>
#include <filesystem>

#include "identity_test_support.h"
#include "support/temp_dir.h"
#include "metrics/metrics.h"

namespace aksnode::identity {
namespace {

namespace json = boost::json;
namespace it = identity::testing;
using namespace std::chrono_literals;
using it::TestKey;

const std::string kConfigUrl = std::string(it::kIssuer) + ".well-known/openid-configuration";
const std::string kJwksUrl = std::string(it::kIssuer) + "openid/v1/jwks";
const std::string kTokenUrl = std::string(it::kAuthority) + it::kTenantId + "/oauth2/v2.0/token";
constexpr const char* kAccessTokenAnswer =
    R"({"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"ACCESS.TOKEN.VALUE"})";

// Members are public: the table-driven cases below set the fixture up from free lambdas.
class IdentityProbeTest : public ::testing::Test {
 public:
  IdentityProbeTest() {
    tokenPath = dir.file("azure-identity-token");
    config.tokenFile = tokenPath;
    config.clientId = it::kClientId;
    config.tenantId = it::kTenantId;
    config.authorityHost = it::kAuthority;
    config.expectedIssuer = it::kIssuer;
    config.expectedSubject = it::kSubject;
    env = {{"AZURE_CLIENT_ID", it::kClientId},
           {"AZURE_TENANT_ID", it::kTenantId},
           {"AZURE_FEDERATED_TOKEN_FILE", tokenPath},
           {"AZURE_AUTHORITY_HOST", it::kAuthority}};
    http.on(kConfigUrl, 200, it::discoveryJson(it::kIssuer, kJwksUrl));
    http.on(kJwksUrl, 200, it::jwksJson({&TestKey::get("kid-1")}));
    http.on(kTokenUrl, 200, kAccessTokenAnswer);
  }

  IdentityProbe& probe() {
    if (!probe_) {
      IdentityProbeOptions options;
      options.env = [this](const std::string& name) -> std::optional<std::string> {
        auto found = env.find(name);
        if (found == env.end()) return std::nullopt;
        return found->second;
      };
      probe_ = std::make_unique<IdentityProbe>(config, http, time, metrics, options);
    }
    return *probe_;
  }

  ProbeResult check() {
    auto results = it::runSync(probe().check());
    EXPECT_EQ(results.size(), 1u);
    seen.push_back(results.at(0));
    return results.at(0);
  }

  // Writes like the kubelet's atomic writer: new file, then rename over the old one.
  std::string writeToken(const std::string& text) {
    const std::string tmp = dir.write("token.tmp", text);
    std::filesystem::rename(tmp, tokenPath);
    tokens.push_back(text);
    return text;
  }
  std::string freshToken(std::chrono::seconds age = 0s, const std::function<void(json::object&)>& edit = {},
                         const TestKey& key = TestKey::get("kid-1"), json::object header = {}) {
    auto claims = it::standardClaims(it::unixSeconds(time.systemTime()) - age.count());
    if (edit) edit(claims);
    return it::signToken(key, claims, std::move(header));
  }

  double checks(const std::string& result) { return metrics.identityCheck(result).Value(); }
  double exchanges(const std::string& result) { return metrics.identityExchange(result).Value(); }

  aksnode::testing::TempDir dir;
  std::string tokenPath;
  IdentityConfig config;
  std::map<std::string, std::string> env;
  it::ScriptedHttpClient http;
  SimulatedTimeSource time;
  Metrics metrics{Config{}};
  std::vector<ProbeResult> seen;
  std::vector<std::string> tokens;

 private:
  std::unique_ptr<IdentityProbe> probe_;
};

TEST_F(IdentityProbeTest, HealthyTokenWithSignatureAndExchange) {
  config.verifySignature = true;
  config.exchange.enabled = true;
  writeToken(freshToken(600s));
  const ProbeResult r = check();
  EXPECT_TRUE(r.healthy) << r.reason << ": " << r.message;
  EXPECT_EQ(r.kind, "identity");
  EXPECT_EQ(r.target, tokenPath);
  EXPECT_EQ(r.reason, "");
  EXPECT_EQ(r.at, time.systemTime());
  const json::object& d = r.details;
  EXPECT_EQ(d.at("iss").as_string(), it::kIssuer);
  EXPECT_EQ(d.at("sub").as_string(), it::kSubject);
  EXPECT_EQ(d.at("aud").as_array().at(0).as_string(), it::kAudience);
  EXPECT_EQ(d.at("exp").as_int64(), it::unixSeconds(time.systemTime()) + 3000);
  EXPECT_EQ(d.at("remainingSeconds").as_int64(), 3000);
  EXPECT_EQ(d.at("lifetimeSeconds").as_int64(), 3600);
  EXPECT_EQ(d.at("kid").as_string(), "kid-1");
  EXPECT_TRUE(d.at("signatureVerified").as_bool());
  EXPECT_EQ(d.at("lastExchange").as_object().at("result").as_string(), "ok");
  EXPECT_EQ(d.at("kubernetes").as_object().at("serviceAccount").as_string(), "aks-node-agent");
  EXPECT_NE(r.message.find("Entra ID issued an access token for it 0 s ago"), std::string::npos) << r.message;

  EXPECT_EQ(metrics.identityTokenValid().Value(), 1);
  EXPECT_EQ(metrics.identityTokenExpiry().Value(), static_cast<double>(it::unixSeconds(time.systemTime()) + 3000));
  EXPECT_EQ(checks("ok"), 1);
  EXPECT_EQ(exchanges("ok"), 1);

  // The exchange request carried the token as the client assertion.
  ASSERT_EQ(http.count(kTokenUrl), 1);
  const auto& post = http.requests.back();
  EXPECT_EQ(post.method, "POST");
  EXPECT_NE(post.body.find("client_assertion=" + tokens.back()), std::string::npos);
  EXPECT_NE(post.body.find("grant_type=client_credentials"), std::string::npos);
}

TEST_F(IdentityProbeTest, EveryLabelSetIsInitialisedAtConstruction) {
  probe();
  const std::string text = metrics.serialize();
  for (const char* series :
       {R"(aksnode_identity_checks_total{result="ok"} 0)", R"(aksnode_identity_checks_total{result="TokenExpired"} 0)",
        R"(aksnode_identity_checks_total{result="IssuerTrailingSlashMismatch"} 0)",
        R"(aksnode_identity_checks_total{result="NoMatchingFederatedIdentity"} 0)",
        R"(aksnode_identity_checks_total{result="AADSTS_other"} 0)",
        R"(aksnode_identity_exchange_total{result="AADSTS70021"} 0)",
        R"(aksnode_identity_exchange_total{result="AADSTS_other"} 0)",
        R"(aksnode_identity_exchange_total{result="unreachable"} 0)"}) {
    EXPECT_NE(text.find(series), std::string::npos) << series;
  }
}

// --- every reason through the probe ----------------------------------------------------------

struct ProbeCase {
  const char* name;
  std::function<void(IdentityProbeTest&)> setUp;
  const char* reason;
};
// gtest prints the case by name, not as a byte dump.
inline void PrintTo(const ProbeCase& c, std::ostream* os) { *os << c.name; }

class ProbeReasons : public IdentityProbeTest, public ::testing::WithParamInterface<ProbeCase> {};

TEST_P(ProbeReasons, ReachResultAndMetrics) {
  const auto& c = GetParam();
  config.verifySignature = true;
  c.setUp(*this);
  const ProbeResult r = check();
  EXPECT_FALSE(r.healthy);
  EXPECT_EQ(r.reason, c.reason) << r.message;
  EXPECT_FALSE(r.message.empty());
  EXPECT_EQ(checks(c.reason), 1);
  EXPECT_EQ(checks("ok"), 0);
  EXPECT_EQ(metrics.identityTokenValid().Value(), 0);
}

std::string caseName(const ::testing::TestParamInfo<ProbeCase>& param) {
  std::string n = param.param.name;
  for (char& ch : n) if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ProbeReasons,
    ::testing::Values(
        ProbeCase{"missing file", [](IdentityProbeTest&) {}, "TokenFileMissing"},
        ProbeCase{"missing directory", [](IdentityProbeTest& f) {
                    f.config.tokenFile = f.env["AZURE_FEDERATED_TOKEN_FILE"] = f.dir.file("no/such/dir/token"); },
                  "TokenFileMissing"},
        ProbeCase{"path is a directory", [](IdentityProbeTest& f) {
                    std::filesystem::create_directory(f.tokenPath); }, "TokenFileUnreadable"},
        ProbeCase{"path is a FIFO without writer", [](IdentityProbeTest& f) {
                    ASSERT_EQ(::mkfifo(f.tokenPath.c_str(), 0600), 0); }, "TokenFileUnreadable"},
        ProbeCase{"path is /dev/zero", [](IdentityProbeTest& f) {
                    f.config.tokenFile = f.env["AZURE_FEDERATED_TOKEN_FILE"] = "/dev/zero"; }, "TokenFileUnreadable"},
        ProbeCase{"file larger than 64 KiB", [](IdentityProbeTest& f) {
                    f.writeToken(std::string(70 * 1024, 'a')); }, "TokenMalformed"},
        ProbeCase{"empty file", [](IdentityProbeTest& f) { f.writeToken(""); }, "TokenMalformed"},
        ProbeCase{"garbage", [](IdentityProbeTest& f) { f.writeToken("garbage\n"); }, "TokenMalformed"},
        ProbeCase{"alg none", [](IdentityProbeTest& f) {
                    f.writeToken(it::encodeSegments(json::object{{"alg", "none"}}, it::standardClaims(it::unixSeconds(f.time.systemTime()))) + "."); },
                  "TokenMalformed"},
        ProbeCase{"env not injected", [](IdentityProbeTest& f) { f.writeToken(f.freshToken()); f.env.clear(); }, "EnvMissing"},
        ProbeCase{"expired", [](IdentityProbeTest& f) { f.writeToken(f.freshToken(2h)); }, "TokenExpired"},
        ProbeCase{"not yet valid", [](IdentityProbeTest& f) {
                    f.writeToken(f.freshToken(0s, [&](json::object& c) { c["nbf"] = it::unixSeconds(f.time.systemTime()) + 600; })); },
                  "TokenNotYetValid"},
        ProbeCase{"wrong audience", [](IdentityProbeTest& f) {
                    f.writeToken(f.freshToken(0s, [](json::object& c) { c["aud"] = "sts.amazonaws.com"; })); }, "AudienceMismatch"},
        ProbeCase{"issuer without trailing slash", [](IdentityProbeTest& f) {
                    f.writeToken(f.freshToken(0s, [](json::object& c) { std::string i = it::kIssuer; i.pop_back(); c["iss"] = i; })); },
                  "IssuerTrailingSlashMismatch"},
        ProbeCase{"expected issuer with extra slash", [](IdentityProbeTest& f) {
                    f.config.expectedIssuer += "/"; f.writeToken(f.freshToken()); }, "IssuerTrailingSlashMismatch"},
        ProbeCase{"other issuer", [](IdentityProbeTest& f) {
                    f.writeToken(f.freshToken(0s, [](json::object& c) { c["iss"] = "https://oidc.other.example/"; })); }, "IssuerMismatch"},
        ProbeCase{"wrong subject", [](IdentityProbeTest& f) {
                    f.writeToken(f.freshToken(0s, [](json::object& c) { c["sub"] = "system:serviceaccount:default:default"; })); },
                  "SubjectMismatch"},
        ProbeCase{"bad signature", [](IdentityProbeTest& f) {
                    // Signed by another key but claiming kid-1.
                    f.writeToken(f.freshToken(0s, {}, TestKey::get("kid-2"), json::object{{"alg", "RS256"}, {"kid", "kid-1"}})); },
                  "SignatureInvalid"},
        ProbeCase{"tampered payload", [](IdentityProbeTest& f) {
                    std::string good = f.freshToken();
                    const auto p1 = good.find('.') + 1, p2 = good.rfind('.');
                    auto claims = it::standardClaims(it::unixSeconds(f.time.systemTime()));
                    claims["sub"] = it::kSubject;
                    claims["exp"] = claims["exp"].as_int64() + 86400;  // extend the lifetime
                    good.replace(p1, p2 - p1, identity::base64UrlEncode(json::serialize(claims)));
                    f.writeToken(good); },
                  "SignatureInvalid"},
        ProbeCase{"HS256", [](IdentityProbeTest& f) {
                    f.writeToken(f.freshToken(0s, {}, TestKey::get("kid-1"), json::object{{"alg", "HS256"}, {"kid", "kid-1"}})); },
                  "SignatureInvalid"},
        ProbeCase{"unknown kid", [](IdentityProbeTest& f) {
                    f.writeToken(f.freshToken(0s, {}, TestKey::get("kid-rotated"))); }, "KeyNotFound"},
        ProbeCase{"discovery down", [](IdentityProbeTest& f) {
                    f.http.clear(kConfigUrl); f.http.failWith(kConfigUrl, HttpError::Unreachable, "connection refused");
                    f.writeToken(f.freshToken()); }, "DiscoveryFailed"},
        ProbeCase{"plain http issuer refused", [](IdentityProbeTest& f) {
                    f.config.expectedIssuer = "http://issuer.example/";
                    f.writeToken(f.freshToken(0s, [](json::object& c) { c["iss"] = "http://issuer.example/"; })); },
                  "DiscoveryFailed"},
        ProbeCase{"expiring soon", [](IdentityProbeTest& f) { f.writeToken(f.freshToken(3100s)); }, "TokenExpiringSoon"}),
    caseName);

TEST_F(IdentityProbeTest, UnreadableFileForNonRoot) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads mode 000 files";
  writeToken(freshToken());
  ::chmod(tokenPath.c_str(), 0);
  EXPECT_EQ(check().reason, "TokenFileUnreadable");
}

TEST_F(IdentityProbeTest, EmptyTokenFilePathIsEnvMissing) {
  config.tokenFile.clear();
  env.erase("AZURE_FEDERATED_TOKEN_FILE");
  const ProbeResult r = check();
  EXPECT_EQ(r.reason, "EnvMissing");
  EXPECT_NE(r.message.find("AZURE_FEDERATED_TOKEN_FILE"), std::string::npos);
}

TEST_F(IdentityProbeTest, NotRotatedWhileRunningThenRecovered) {
  writeToken(freshToken());
  for (int i = 0; i < 97; ++i) {  // 48 min 30 s of checks every 30 s
    ASSERT_TRUE(check().healthy) << i << ": " << seen.back().message;
    time.advance(30s);
  }
  time.advance(60s);  // refresh due + 90 s
  EXPECT_EQ(check().reason, "NotRotated");
  EXPECT_EQ(checks("NotRotated"), 1);
  writeToken(freshToken());
  const ProbeResult r = check();
  EXPECT_TRUE(r.healthy) << r.message;
  EXPECT_EQ(r.details.at("rotationsObserved").as_int64(), 1);
}

TEST_F(IdentityProbeTest, RotationOnTimeIsNeverAnAlarm) {
  config.verifySignature = true;
  config.exchange.enabled = true;
  writeToken(freshToken());
  auto issued = time.systemTime();
  for (int i = 0; i < 3 * 120; ++i) {
    if (time.systemTime() - issued >= 49min) {
      writeToken(freshToken());
      issued = time.systemTime();
    }
    const ProbeResult r = check();
    ASSERT_TRUE(r.healthy) << "check " << i << ": " << r.reason << " " << r.message;
    time.advance(30s);
  }
  EXPECT_EQ(checks("ok"), 360);
  // One discovery (keys cached for an hour, refreshed on age), exchanges every 5 min.
  EXPECT_LE(http.count(kConfigUrl), 4);
  EXPECT_EQ(http.count(kTokenUrl), 36);
  EXPECT_EQ(exchanges("ok"), 36);
}

// --- exchange -------------------------------------------------------------------------------

TEST_F(IdentityProbeTest, ExchangeFailureIsTheReasonAndIsRetriedOnInterval) {
  config.exchange.enabled = true;
  http.clear(kTokenUrl);
  http.on(kTokenUrl, 400,
          R"({"error":"invalid_request","error_description":"AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: 'x'.\r\nTrace ID: t\r\nCorrelation ID: c","error_codes":[70021]})");
  writeToken(freshToken());
  ProbeResult r = check();
  EXPECT_FALSE(r.healthy);
  EXPECT_EQ(r.reason, "NoMatchingFederatedIdentity");
  EXPECT_NE(r.message.find("AADSTS70021"), std::string::npos) << r.message;
  EXPECT_EQ(r.details.at("lastExchange").as_object().at("aadstsCode").as_int64(), 70021);
  EXPECT_EQ(exchanges("AADSTS70021"), 1);
  EXPECT_EQ(checks("NoMatchingFederatedIdentity"), 1);
  // The token itself is fine.
  EXPECT_EQ(metrics.identityTokenValid().Value(), 1);

  // Within the interval: no new request, the verdict stands.
  time.advance(30s);
  EXPECT_EQ(check().reason, "NoMatchingFederatedIdentity");
  EXPECT_EQ(http.count(kTokenUrl), 1);

  // Federated credential fixed; next exchange after the interval succeeds.
  http.clear(kTokenUrl);
  http.on(kTokenUrl, 200, kAccessTokenAnswer);
  time.advance(5min);
  r = check();
  EXPECT_TRUE(r.healthy) << r.message;
  EXPECT_EQ(http.count(kTokenUrl), 2);
  EXPECT_EQ(exchanges("ok"), 1);
}

TEST_F(IdentityProbeTest, FailedExchangeIsRetriedAsSoonAsTheTokenRotates) {
  config.exchange.enabled = true;
  http.clear(kTokenUrl);
  http.on(kTokenUrl, 401, R"({"error":"invalid_client","error_description":"AADSTS700024: Client assertion is not within its valid time range.","error_codes":[700024]})");
  http.on(kTokenUrl, 200, kAccessTokenAnswer);
  writeToken(freshToken());
  EXPECT_EQ(check().reason, "AssertionExpired");
  time.advance(30s);
  writeToken(freshToken());
  EXPECT_TRUE(check().healthy);
  EXPECT_EQ(http.count(kTokenUrl), 2);
}

TEST_F(IdentityProbeTest, UnknownAadstsCodesKeepLabelsBounded) {
  config.exchange.enabled = true;
  http.clear(kTokenUrl);
  http.on(kTokenUrl, 400, R"({"error":"invalid_client","error_description":"AADSTS7002138: something new","error_codes":[7002138]})");
  writeToken(freshToken());
  const ProbeResult r = check();
  EXPECT_EQ(r.reason, "AADSTS7002138");  // the precise code stays in the result
  EXPECT_EQ(checks("AADSTS_other"), 1);  // but not in a label
  EXPECT_EQ(exchanges("AADSTS_other"), 1);
  EXPECT_EQ(metrics.serialize().find("7002138"), std::string::npos);
}

TEST_F(IdentityProbeTest, EntraUnreachable) {
  config.exchange.enabled = true;
  http.clear(kTokenUrl);
  http.failWith(kTokenUrl, HttpError::Timeout, "deadline exceeded");
  writeToken(freshToken());
  EXPECT_EQ(check().reason, "ExchangeUnreachable");
  EXPECT_EQ(exchanges("unreachable"), 1);
}

TEST_F(IdentityProbeTest, ExchangeIsSkippedForAnExpiredToken) {
  config.exchange.enabled = true;
  writeToken(freshToken(3h));
  EXPECT_EQ(check().reason, "TokenExpired");
  EXPECT_EQ(http.count(kTokenUrl), 0);
}

TEST_F(IdentityProbeTest, TokenFailureOutranksExchangeFailure) {
  config.exchange.enabled = true;
  http.clear(kTokenUrl);
  http.on(kTokenUrl, 400, R"({"error":"invalid_client","error_description":"AADSTS700213: No matching federated identity record found for presented assertion subject","error_codes":[700213]})");
  writeToken(freshToken(0s, [](json::object& c) { c["sub"] = "system:serviceaccount:x:y"; }));
  const ProbeResult r = check();
  EXPECT_EQ(r.reason, "SubjectMismatch");
  // Entra's verdict is still recorded.
  EXPECT_EQ(r.details.at("lastExchange").as_object().at("result").as_string(), "SubjectMismatch");
  EXPECT_EQ(exchanges("AADSTS700213"), 1);
}

// --- the token never leaves the probe -----------------------------------------------------

TEST_F(IdentityProbeTest, TokenNeverAppearsInResultsMetricsOrLogs) {
  it::LogCapture logs;
  config.verifySignature = true;
  config.exchange.enabled = true;
  config.exchange.interval = Duration{1000};
  // Entra echoing the assertion back (it does not today, but nothing may depend on that).
  http.clear(kTokenUrl);
  std::string echoed;
  for (int round = 0; round < 12; ++round) {
    std::string token;
    switch (round) {
      case 0: token = freshToken(); break;
      case 1: token = freshToken(2h); break;                                                   // expired
      case 2: token = freshToken(0s, [](json::object& c) { c["aud"] = "x"; }); break;          // audience
      case 3: token = freshToken(0s, {}, TestKey::get("kid-2"), json::object{{"alg", "RS256"}, {"kid", "kid-1"}}); break;
      case 4: token = freshToken(0s, {}, TestKey::get("kid-unknown")); break;
      case 5: token = freshToken(3100s); break;                                                 // expiring
      case 6: token = freshToken(0s, [](json::object& c) { c["iss"] = "https://eastus.oic.prod-aks.azure.com/x"; }); break;
      case 7: token = freshToken() + "\n"; break;
      case 8: token = freshToken(0s, [](json::object& c) { c["exp"] = "soon"; }); break;       // malformed claim
      case 9: token = freshToken().substr(0, 200); break;                                       // truncated
      case 10: token = freshToken(); env["AZURE_CLIENT_ID"] = "other"; break;                   // env
      default: token = freshToken(); env["AZURE_CLIENT_ID"] = it::kClientId; break;
    }
    http.clear(kTokenUrl);
    http.on(kTokenUrl, 400, R"({"error":"invalid_request","error_description":"AADSTS50027: JWT token is invalid: )" +
                                std::string(identity::trimToken(token)) + R"(","error_codes":[50027]})");
    writeToken(token);
    check();
    time.advance(2s);
  }
  const std::string metricsText = metrics.serialize();
  const std::string logText = logs.text();
  ASSERT_FALSE(logText.empty());
  std::vector<std::string> needles;
  for (const std::string& t : tokens) {
    const std::string_view trimmed = identity::trimToken(t);
    if (trimmed.size() < 40) continue;
    needles.emplace_back(trimmed);
    const auto dot = trimmed.rfind('.');
    if (dot != std::string_view::npos && trimmed.size() - dot > 20) needles.emplace_back(trimmed.substr(dot + 1));
  }
  ASSERT_GE(needles.size(), 10u);
  ASSERT_EQ(seen.size(), 12u);
  for (const ProbeResult& r : seen) {
    const std::string all = r.message + " " + r.reason + " " + r.target + " " + json::serialize(r.details);
    for (const auto& n : needles) {
      ASSERT_EQ(all.find(n), std::string::npos) << "token in result " << r.reason;
    }
  }
  for (const auto& n : needles) {
    ASSERT_EQ(logText.find(n), std::string::npos) << "token in the log";
    ASSERT_EQ(metricsText.find(n), std::string::npos) << "token in the metrics";
  }
  // The log did capture the failures (so the test looked at real output).
  EXPECT_NE(logText.find("AADSTS50027"), std::string::npos);
  EXPECT_NE(logText.find("[redacted]"), std::string::npos);
  EXPECT_NE(logText.find("TokenExpired"), std::string::npos);
}

TEST_F(IdentityProbeTest, LogsOnlyOnTransitions) {
  it::LogCapture logs;
  writeToken(freshToken(2h));
  check();
  check();
  check();
  writeToken(freshToken());
  check();
  check();
  const std::string text = logs.text();
  auto count = [&](const std::string& needle) {
    int n = 0;
    for (std::size_t p = 0; (p = text.find(needle, p)) != std::string::npos; p += needle.size()) ++n;
    return n;
  };
  EXPECT_EQ(count("workload identity check failed"), 1);
  EXPECT_EQ(count("workload identity token healthy"), 1);
}

}  // namespace
}  // namespace aksnode::identity
