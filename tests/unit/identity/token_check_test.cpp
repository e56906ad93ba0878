#include "probes/identity/token_check.h"

#include <gtest/gtest.h>

#include "identity_test_support.h"

namespace aksnode::identity {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using testing::kAudience;
using testing::kIssuer;
using testing::kSubject;

constexpr const char* kPath = "/var/run/secrets/azure/tokens/azure-identity-token";

IdentityConfig baseConfig() {
  IdentityConfig c;
  c.tokenFile = kPath;
  c.clientId = testing::kClientId;
  c.tenantId = testing::kTenantId;
  c.authorityHost = testing::kAuthority;
  c.expectedIssuer = kIssuer;
  c.expectedSubject = kSubject;
  return c;
}

using EnvMap = std::map<std::string, std::string>;
EnvMap baseEnv() {
  return {{"AZURE_CLIENT_ID", testing::kClientId},
          {"AZURE_TENANT_ID", testing::kTenantId},
          {"AZURE_FEDERATED_TOKEN_FILE", kPath},
          {"AZURE_AUTHORITY_HOST", testing::kAuthority}};
}
EnvLookup lookupIn(EnvMap env) {
  return [env = std::move(env)](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
}

TokenFile readFile(std::string text) {
  TokenFile f;
  f.status = TokenFile::Status::Read;
  f.path = kPath;
  f.text = std::move(text);
  return f;
}

const testing::TestKey& key() { return testing::TestKey::get("kid-1"); }

// Signs the standard claims for a token issued `age` ago, after `edit` changed them.
std::string tokenIssued(SystemTime now, std::chrono::seconds age,
                        const std::function<void(json::object&)>& edit = {}, std::int64_t lifetime = 3600) {
  auto claims = testing::standardClaims(testing::unixSeconds(now) - age.count(), lifetime);
  if (edit) edit(claims);
  return testing::signToken(key(), claims);
}

struct Case {
  const char* name;
  std::function<TokenFile(SystemTime now)> file;
  TokenReason expected;
  const char* messageContains = "";
  std::function<void(IdentityConfig&)> config = {};
  std::function<void(EnvMap&)> env = {};
};
// gtest prints the case by name, not as a byte dump.
inline void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

TokenFile fresh(SystemTime now) { return readFile(tokenIssued(now, 600s)); }

class CheckTokenReasons : public ::testing::TestWithParam<Case> {};

TEST_P(CheckTokenReasons, ReportsTheRootCause) {
  const Case& c = GetParam();
  SimulatedTimeSource time;
  IdentityConfig config = baseConfig();
  if (c.config) c.config(config);
  EnvMap env = baseEnv();
  if (c.env) c.env(env);
  RotationState state;
  const TokenFile file = c.file(time.systemTime());
  const TokenCheckResult r = checkToken(file, config, lookupIn(env), time.systemTime(), state);
  EXPECT_EQ(toString(r.reason), std::string(toString(c.expected))) << r.message;
  EXPECT_NE(r.message.find(c.messageContains), std::string::npos) << r.message;
  EXPECT_FALSE(r.message.empty());
  // Whatever the reason, the message never carries the token or its signature.
  const std::string_view text = trimToken(file.text);
  if (!text.empty()) {
    EXPECT_EQ(r.message.find(text), std::string::npos);
    if (const auto dot = text.rfind('.'); dot != std::string_view::npos && text.size() - dot > 17) {
      EXPECT_EQ(r.message.find(text.substr(dot + 1)), std::string::npos);
    }
  }
}

std::string name(const ::testing::TestParamInfo<Case>& param) {
  std::string n = param.param.name;
  for (char& ch : n) if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(
    Table, CheckTokenReasons,
    ::testing::Values(
        Case{"fresh token", fresh, TokenReason::Ok, "s left"},
        Case{"trailing newline ignored", [](SystemTime now) { return readFile(tokenIssued(now, 600s) + "\n"); }, TokenReason::Ok},
        Case{"no expectations configured", fresh, TokenReason::Ok, "",
             [](IdentityConfig& c) { c.expectedIssuer.clear(); c.expectedSubject.clear(); }},
        // Environment.
        Case{"AZURE_CLIENT_ID unset", fresh, TokenReason::EnvMissing, "AZURE_CLIENT_ID", {},
             [](EnvMap& e) { e.erase("AZURE_CLIENT_ID"); }},
        Case{"all four unset", fresh, TokenReason::EnvMissing,
             "AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST", {},
             [](EnvMap& e) { e.clear(); }},
        Case{"AZURE_AUTHORITY_HOST empty", fresh, TokenReason::EnvMissing, "AZURE_AUTHORITY_HOST", {},
             [](EnvMap& e) { e["AZURE_AUTHORITY_HOST"] = ""; }},
        Case{"tenant differs from config", fresh, TokenReason::EnvMissing, "identity.tenantId", {},
             [](EnvMap& e) { e["AZURE_TENANT_ID"] = "11111111-2222-3333-4444-555555555555"; }},
        Case{"token file differs from config", fresh, TokenReason::EnvMissing, "identity.tokenFile", {},
             [](EnvMap& e) { e["AZURE_FEDERATED_TOKEN_FILE"] = "/var/run/secrets/tokens/azure-identity-token"; }},
        Case{"client id differs only in case", fresh, TokenReason::Ok, "", {},
             [](EnvMap& e) { e["AZURE_CLIENT_ID"] = "0A1B2C3D-0000-4000-8000-00000000C1D0"; }},
        Case{"authority differs only by trailing slash", fresh, TokenReason::Ok, "", {},
             [](EnvMap& e) { e["AZURE_AUTHORITY_HOST"] = "https://login.microsoftonline.com"; }},
        Case{"config empty, env fills in", fresh, TokenReason::Ok, "",
             [](IdentityConfig& c) { c.clientId.clear(); c.tenantId.clear(); c.tokenFile.clear(); }},
        // File.
        Case{"file missing", [](SystemTime) { TokenFile f; f.status = TokenFile::Status::Missing; f.path = kPath; f.error = "No such file or directory"; return f; },
             TokenReason::TokenFileMissing, "does not exist"},
        Case{"file unreadable", [](SystemTime) { TokenFile f; f.status = TokenFile::Status::Unreadable; f.path = kPath; f.error = "Permission denied"; return f; },
             TokenReason::TokenFileUnreadable, "Permission denied"},
        Case{"file too large", [](SystemTime) { TokenFile f; f.status = TokenFile::Status::TooLarge; f.path = kPath; f.error = "larger than 65536 bytes"; return f; },
             TokenReason::TokenMalformed, "larger than"},
        // Malformed.
        Case{"empty file", [](SystemTime) { return readFile(""); }, TokenReason::TokenMalformed, "empty"},
        Case{"whitespace only", [](SystemTime) { return readFile(" \n\t\n"); }, TokenReason::TokenMalformed, "empty"},
        Case{"garbage", [](SystemTime) { return readFile("this is not a jwt"); }, TokenReason::TokenMalformed, "not a valid JWT"},
        Case{"binary garbage", [](SystemTime) { return readFile(std::string("\x00\xff.\x01.\x02", 6)); }, TokenReason::TokenMalformed, "base64url"},
        Case{"alg none unsigned", [](SystemTime now) {
               return readFile(testing::encodeSegments(json::object{{"alg", "none"}}, testing::standardClaims(testing::unixSeconds(now))) + "."); },
             TokenReason::TokenMalformed, "alg none"},
        Case{"alg none with a signature", [](SystemTime now) {
               return readFile(testing::encodeSegments(json::object{{"alg", "none"}, {"kid", "k"}}, testing::standardClaims(testing::unixSeconds(now))) + ".c2lnbmF0dXJl"); },
             TokenReason::TokenMalformed, "alg none"},
        Case{"no kid", [](SystemTime now) {
               return readFile(testing::signToken(key(), testing::standardClaims(testing::unixSeconds(now)), json::object{{"alg", "RS256"}})); },
             TokenReason::TokenMalformed, "no kid"},
        Case{"no alg", [](SystemTime now) {
               return readFile(testing::signToken(key(), testing::standardClaims(testing::unixSeconds(now)), json::object{{"kid", "kid-1"}})); },
             TokenReason::TokenMalformed, "no alg"},
        Case{"no iss", [](SystemTime now) { return readFile(tokenIssued(now, 60s, [](json::object& c) { c.erase("iss"); })); },
             TokenReason::TokenMalformed, "no iss"},
        Case{"no sub", [](SystemTime now) { return readFile(tokenIssued(now, 60s, [](json::object& c) { c.erase("sub"); })); },
             TokenReason::TokenMalformed, "no sub"},
        Case{"no exp", [](SystemTime now) { return readFile(tokenIssued(now, 60s, [](json::object& c) { c.erase("exp"); })); },
             TokenReason::TokenMalformed, "no exp"},
        Case{"exp as a string", [](SystemTime now) { return readFile(tokenIssued(now, 60s, [](json::object& c) { c["exp"] = "1800003600"; })); },
             TokenReason::TokenMalformed, "exp"},
        // Time.
        Case{"expired", [](SystemTime now) { return readFile(tokenIssued(now, 3700s)); }, TokenReason::TokenExpired, "expired at"},
        Case{"expired beyond skew by 1 s", [](SystemTime now) { return readFile(tokenIssued(now, 3660s)); }, TokenReason::TokenExpired},
        Case{"expired within skew is only expiring", [](SystemTime now) { return readFile(tokenIssued(now, 3659s)); }, TokenReason::TokenExpiringSoon},
        Case{"nbf in the future", [](SystemTime now) { return readFile(tokenIssued(now, 0s, [&](json::object& c) { c["nbf"] = testing::unixSeconds(now) + 120; })); },
             TokenReason::TokenNotYetValid, "not valid before"},
        Case{"nbf within skew", [](SystemTime now) { return readFile(tokenIssued(now, 0s, [&](json::object& c) { c["nbf"] = testing::unixSeconds(now) + 60; })); },
             TokenReason::Ok},
        Case{"iat in the future", [](SystemTime now) { return readFile(tokenIssued(now, -300s, [](json::object& c) { c.erase("nbf"); })); },
             TokenReason::TokenNotYetValid, "ahead of this node's clock"},
        Case{"zero skew is exact", [](SystemTime now) { return readFile(tokenIssued(now, 0s, [&](json::object& c) { c["nbf"] = testing::unixSeconds(now) + 1; })); },
             TokenReason::TokenNotYetValid, "", [](IdentityConfig& c) { c.clockSkew = Duration{0}; }},
        Case{"expiring soon", [](SystemTime now) { return readFile(tokenIssued(now, 3100s)); }, TokenReason::TokenExpiringSoon, "minRemainingValidity"},
        Case{"just enough remaining", [](SystemTime now) { return readFile(tokenIssued(now, 3000s)); }, TokenReason::Ok},
        // Identity.
        Case{"wrong audience", [](SystemTime now) { return readFile(tokenIssued(now, 60s, [](json::object& c) { c["aud"] = json::array{"https://kubernetes.default.svc"}; })); },
             TokenReason::AudienceMismatch, "https://kubernetes.default.svc"},
        Case{"no audience", [](SystemTime now) { return readFile(tokenIssued(now, 60s, [](json::object& c) { c.erase("aud"); })); },
             TokenReason::AudienceMismatch, "(none)"},
        Case{"audience among several", [](SystemTime now) { return readFile(tokenIssued(now, 60s, [](json::object& c) { c["aud"] = json::array{"x", kAudience}; })); },
             TokenReason::Ok},
        Case{"audience as a plain string", [](SystemTime now) { return readFile(tokenIssued(now, 60s, [](json::object& c) { c["aud"] = kAudience; })); },
             TokenReason::Ok},
        Case{"issuer lacks the trailing slash", [](SystemTime now) {
               return readFile(tokenIssued(now, 60s, [](json::object& c) { std::string i = kIssuer; i.pop_back(); c["iss"] = i; })); },
             TokenReason::IssuerTrailingSlashMismatch, "AADSTS70021"},
        Case{"expected issuer lacks the trailing slash", fresh, TokenReason::IssuerTrailingSlashMismatch, "trailing slash",
             [](IdentityConfig& c) { c.expectedIssuer.pop_back(); }},
        Case{"other issuer", [](SystemTime now) { return readFile(tokenIssued(now, 60s, [](json::object& c) { c["iss"] = "https://kubernetes.default.svc.cluster.local"; })); },
             TokenReason::IssuerMismatch, "kubernetes.default.svc.cluster.local"},
        Case{"issuer differs in case", [](SystemTime now) {
               return readFile(tokenIssued(now, 60s, [](json::object& c) { c["iss"] = "https://EASTUS.oic.prod-aks.azure.com/x/"; })); },
             TokenReason::IssuerMismatch},
        Case{"wrong subject", [](SystemTime now) { return readFile(tokenIssued(now, 60s, [](json::object& c) { c["sub"] = "system:serviceaccount:default:default"; })); },
             TokenReason::SubjectMismatch, "system:serviceaccount:default:default"}),
    name);

// Order: the root cause wins when several checks fail.
TEST(CheckToken, EarlierReasonsWin) {
  SimulatedTimeSource time;
  const auto now = time.systemTime();
  RotationState state;
  IdentityConfig config = baseConfig();
  // Expired and wrong audience and wrong issuer: expired is reported.
  auto text = tokenIssued(now, 7200s, [](json::object& c) { c["aud"] = "x"; c["iss"] = "https://other/"; });
  EXPECT_EQ(checkToken(readFile(text), config, lookupIn(baseEnv()), now, state).reason, TokenReason::TokenExpired);
  // Env missing beats a missing file.
  TokenFile missing;
  missing.status = TokenFile::Status::Missing;
  EXPECT_EQ(checkToken(missing, config, lookupIn({}), now, state).reason, TokenReason::EnvMissing);
  // Audience before issuer before subject.
  text = tokenIssued(now, 60s, [](json::object& c) { c["aud"] = "x"; c["iss"] = "https://other/"; c["sub"] = "s"; });
  EXPECT_EQ(checkToken(readFile(text), config, lookupIn(baseEnv()), now, state).reason, TokenReason::AudienceMismatch);
  text = tokenIssued(now, 60s, [](json::object& c) { c["iss"] = "https://other/"; c["sub"] = "s"; });
  EXPECT_EQ(checkToken(readFile(text), config, lookupIn(baseEnv()), now, state).reason, TokenReason::IssuerMismatch);
}

TEST(CheckToken, FactsCarryThePublicClaims) {
  SimulatedTimeSource time;
  const auto now = time.systemTime();
  RotationState state;
  const auto r = checkToken(readFile(tokenIssued(now, 600s)), baseConfig(), lookupIn(baseEnv()), now, state);
  ASSERT_TRUE(r.ok()) << r.message;
  ASSERT_TRUE(r.facts);
  EXPECT_EQ(r.facts->iss, kIssuer);
  EXPECT_EQ(r.facts->sub, kSubject);
  EXPECT_EQ(r.facts->kid, "kid-1");
  EXPECT_EQ(r.facts->lifetimeSeconds, 3600);
  EXPECT_EQ(r.facts->remainingSeconds, 3000);
  EXPECT_EQ(r.facts->refreshDue, testing::unixSeconds(now) - 600 + 2880);
  EXPECT_TRUE(r.jwt);
  EXPECT_EQ(r.environment.authorityHost, testing::kAuthority);
}

// --- rotation -------------------------------------------------------------------------

class Rotation : public ::testing::Test {
 protected:
  TokenCheckResult check(const std::string& text) {
    return checkToken(readFile(text), config, lookupIn(baseEnv()), time.systemTime(), state);
  }
  SimulatedTimeSource time;
  IdentityConfig config = baseConfig();
  RotationState state;
};

TEST_F(Rotation, KubeletRotatingOnTimeNeverRaisesAnAlarm) {
  // Token A issued now; the kubelet replaces it at 80 % (48 min) plus a minute of volume
  // sync; checks every 30 s for three lifetimes.
  std::string current = tokenIssued(time.systemTime(), 0s);
  auto issuedAt = time.systemTime();
  for (int i = 0; i < 3 * 120; ++i) {
    if (time.systemTime() - issuedAt >= 48min + 60s) {
      current = tokenIssued(time.systemTime(), 0s);
      issuedAt = time.systemTime();
    }
    const auto r = check(current);
    ASSERT_TRUE(r.ok()) << "at check " << i << ": " << r.message;
    time.advance(30s);
  }
  EXPECT_GE(state.rotationsObserved, 3);
  EXPECT_TRUE(state.lastRotation);
}

TEST_F(Rotation, AStuckTokenIsNotRotatedBeforeItExpiresSoon) {
  const std::string stuck = tokenIssued(time.systemTime(), 0s);
  const auto issued = time.systemTime();
  // Fine until the refresh point plus the grace period.
  time.advance(48min);
  EXPECT_TRUE(check(stuck).ok());
  time.advance(89s);
  EXPECT_TRUE(check(stuck).ok());
  time.advance(1s);
  auto r = check(stuck);
  EXPECT_EQ(r.reason, TokenReason::NotRotated) << r.message;
  EXPECT_NE(r.message.find("80 %"), std::string::npos);
  // NotRotated stays the reason while the token runs out (it names the cause)...
  time.setSystemTime(issued + 55min);
  EXPECT_EQ(check(stuck).reason, TokenReason::NotRotated);
  // ...until it has expired.
  time.setSystemTime(issued + 61min + 1s);
  EXPECT_EQ(check(stuck).reason, TokenReason::TokenExpired);
  // The kubelet finally writes a new token: healthy at once.
  EXPECT_TRUE(check(tokenIssued(time.systemTime(), 0s)).ok());
  EXPECT_EQ(state.rotationsObserved, 1);
}

TEST_F(Rotation, AStaleTokenFoundAtStartUpGetsOneGracePeriod) {
  // A 24 h token (refresh due at 19.2 h) first seen 20 h after issue.
  const std::string stale = tokenIssued(time.systemTime(), 20h, {}, 86400);
  EXPECT_TRUE(check(stale).ok());
  time.advance(60s);
  EXPECT_TRUE(check(stale).ok());
  time.advance(30s);
  EXPECT_EQ(check(stale).reason, TokenReason::NotRotated);
}

TEST_F(Rotation, NewContentRestartsTheWatch) {
  const std::string a = tokenIssued(time.systemTime(), 20h, {}, 86400);
  EXPECT_TRUE(check(a).ok());
  time.advance(80s);
  // Different bytes but an equally stale token (e.g. re-signed): watched afresh.
  const std::string b = tokenIssued(time.systemTime(), 20h, [](json::object& c) { c["jti"] = "b"; }, 86400);
  EXPECT_TRUE(check(b).ok());
  time.advance(80s);
  EXPECT_TRUE(check(b).ok());
  time.advance(10s);
  EXPECT_EQ(check(b).reason, TokenReason::NotRotated);
}

TEST_F(Rotation, KubeletRefreshesLongLivedTokensAfter24Hours) {
  // 48 h lifetime: due at 24 h, not 38.4 h.
  const std::string t = tokenIssued(time.systemTime(), 0s, {}, 48 * 3600);
  EXPECT_TRUE(check(t).ok());
  time.advance(24h + 89s);
  EXPECT_TRUE(check(t).ok());
  time.advance(1s);
  EXPECT_EQ(check(t).reason, TokenReason::NotRotated);
}

TEST_F(Rotation, ALargeClockSkewWidensTheGrace) {
  config.clockSkew = Duration{300'000};
  const std::string t = tokenIssued(time.systemTime(), 0s);
  EXPECT_TRUE(check(t).ok());
  time.advance(48min + 299s);
  // 421 s left: already TokenExpiringSoon, but the 300 s grace has not run out.
  auto r = check(t);
  EXPECT_EQ(r.reason, TokenReason::TokenExpiringSoon) << r.message;
  EXPECT_NE(r.reason, TokenReason::NotRotated) << r.message;
  time.advance(1s);
  EXPECT_EQ(check(t).reason, TokenReason::NotRotated);
}

TEST(TrimToken, StripsSurroundingWhitespaceOnly) {
  EXPECT_EQ(trimToken("  a.b.c \r\n"), "a.b.c");
  EXPECT_EQ(trimToken("a. b.c"), "a. b.c");
  EXPECT_EQ(trimToken("\n\n"), "");
}

}  // namespace
}  // namespace aksnode::identity
