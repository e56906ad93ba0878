#include "probes/identity/jwt.h"

#include <gtest/gtest.h>

#include "identity_test_support.h"

namespace aksnode::identity {
namespace {

namespace json = boost::json;
using testing::encodeSegments;

// Token with an arbitrary (unverified) signature: the parser does not verify.
std::string token(const json::object& header, const json::object& claims, std::string sig = "c2ln") {
  return encodeSegments(header, claims) + "." + sig;
}
json::object header() { return {{"alg", "RS256"}, {"kid", "key-1"}, {"typ", "JWT"}}; }

TEST(Jwt, ParsesAKubernetesServiceAccountToken) {
  const auto claims = testing::standardClaims(1'800'000'000);
  const JwtParseResult r = parseJwt(token(header(), claims));
  ASSERT_TRUE(r.ok()) << r.detail;
  const Jwt& jwt = *r.jwt;
  EXPECT_EQ(jwt.header.alg, "RS256");
  EXPECT_EQ(jwt.header.kid, "key-1");
  EXPECT_EQ(jwt.header.typ, "JWT");
  EXPECT_EQ(jwt.claims.iss, testing::kIssuer);
  EXPECT_EQ(jwt.claims.sub, testing::kSubject);
  EXPECT_EQ(jwt.claims.aud, std::vector<std::string>{testing::kAudience});
  EXPECT_EQ(jwt.claims.iat, 1'800'000'000);
  EXPECT_EQ(jwt.claims.exp, 1'800'003'600);
  EXPECT_EQ(jwt.claims.nbf, 1'800'000'000);
  ASSERT_TRUE(jwt.claims.kubernetes);
  EXPECT_EQ(jwt.claims.kubernetes->namespaceName, "aks-node-agent");
  EXPECT_EQ(jwt.claims.kubernetes->podName, "aks-node-agent-x7k2p");
  EXPECT_EQ(jwt.claims.kubernetes->podUid, "pod-uid");
  EXPECT_EQ(jwt.claims.kubernetes->serviceAccountName, "aks-node-agent");
  EXPECT_EQ(jwt.claims.kubernetes->nodeName, "aks-spot-12345678-vmss000001");
  EXPECT_EQ(jwt.signature, "sig");
  EXPECT_EQ(jwt.signingInput, encodeSegments(header(), claims));
}

TEST(Jwt, AudienceMayBeAStringOrAnArray) {
  auto claims = testing::standardClaims(1'800'000'000);
  claims["aud"] = "api://AzureADTokenExchange";
  auto r = parseJwt(token(header(), claims));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.jwt->claims.aud, std::vector<std::string>{"api://AzureADTokenExchange"});
  claims["aud"] = json::array{"a", "b"};
  r = parseJwt(token(header(), claims));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.jwt->claims.aud, (std::vector<std::string>{"a", "b"}));
}

TEST(Jwt, NumericDatesAcceptIntegersAndFractions) {
  auto claims = testing::standardClaims(1'800'000'000);
  claims["exp"] = 1'800'003'600.75;
  claims["iat"] = static_cast<std::uint64_t>(1'800'000'000);
  const auto r = parseJwt(token(header(), claims));
  ASSERT_TRUE(r.ok()) << r.detail;
  EXPECT_EQ(r.jwt->claims.exp, 1'800'003'600);
  EXPECT_EQ(r.jwt->claims.iat, 1'800'000'000);
}

TEST(Jwt, MissingOptionalClaimsAreAbsentNotErrors) {
  const auto r = parseJwt(token(json::object{{"alg", "RS256"}}, json::object{}));
  ASSERT_TRUE(r.ok()) << r.detail;
  EXPECT_FALSE(r.jwt->claims.iss);
  EXPECT_FALSE(r.jwt->claims.exp);
  EXPECT_TRUE(r.jwt->claims.aud.empty());
  EXPECT_FALSE(r.jwt->claims.kubernetes);
  EXPECT_EQ(r.jwt->header.kid, "");
}

struct Bad {
  const char* name;
  std::function<std::string()> make;
  JwtError error;
  const char* detailContains;
};
// gtest prints the case by name, not as a byte dump.
inline void PrintTo(const Bad& c, std::ostream* os) { *os << c.name; }

std::string withClaim(const char* key, json::value v) {
  auto claims = testing::standardClaims(1'800'000'000);
  claims[key] = std::move(v);
  return token(header(), claims);
}

class JwtRejects : public ::testing::TestWithParam<Bad> {};

TEST_P(JwtRejects, WithATypedReason) {
  const auto& c = GetParam();
  const auto r = parseJwt(c.make());
  EXPECT_EQ(r.error, c.error) << c.name << ": " << r.detail;
  EXPECT_NE(r.detail.find(c.detailContains), std::string::npos) << r.detail;
  EXPECT_FALSE(r.jwt);
}

const std::string kGood = token(header(), testing::standardClaims(1'800'000'000));

std::string paramName(const ::testing::TestParamInfo<Bad>& param) {
  std::string n = param.param.name;
  for (char& c : n) if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, JwtRejects,
    ::testing::Values(
        Bad{"empty", [] { return std::string(); }, JwtError::Empty, "empty"},
        Bad{"garbage", [] { return std::string("not a token"); }, JwtError::NotThreeParts, "three"},
        Bad{"two parts", [] { return kGood.substr(0, kGood.rfind('.')); }, JwtError::NotThreeParts, "three"},
        Bad{"four parts", [] { return kGood + ".c2ln"; }, JwtError::NotThreeParts, "three"},
        Bad{"empty header", [] { return kGood.substr(kGood.find('.')); }, JwtError::NotThreeParts, "three"},
        Bad{"too large", [] { return std::string(kMaxTokenBytes + 1, 'a'); }, JwtError::TooLarge, "64 KiB"},
        Bad{"padding in header", [] { return "eyJhbGciOiJSUzI1NiJ9=." + kGood.substr(kGood.find('.') + 1); },
            JwtError::BadBase64, "header"},
        Bad{"standard base64 in payload", [] { return base64UrlEncode("{}") + ".e30+.c2ln"; },
            JwtError::BadBase64, "payload"},
        Bad{"standard base64 in signature", [] { return token(header(), {}, "ab+/"); },
            JwtError::BadBase64, "signature"},
        Bad{"whitespace inside", [] { std::string s = kGood; s.insert(10, " "); return s; }, JwtError::BadBase64, "header"},
        Bad{"header not JSON", [] { return base64UrlEncode("{alg:RS256}") + "." + base64UrlEncode("{}") + ".c2ln"; },
            JwtError::HeaderNotJsonObject, "header"},
        Bad{"header is an array", [] { return base64UrlEncode("[]") + "." + base64UrlEncode("{}") + ".c2ln"; },
            JwtError::HeaderNotJsonObject, "header"},
        Bad{"payload is a string", [] { return base64UrlEncode("{}") + "." + base64UrlEncode("\"x\"") + ".c2ln"; },
            JwtError::PayloadNotJsonObject, "payload"},
        Bad{"payload trailing garbage", [] { return base64UrlEncode("{}") + "." + base64UrlEncode("{} x") + ".c2ln"; },
            JwtError::PayloadNotJsonObject, "payload"},
        Bad{"payload too deep", [] {
              std::string deep = "{\"a\":" + std::string(40, '[') + std::string(40, ']') + "}";
              return base64UrlEncode("{}") + "." + base64UrlEncode(deep) + ".c2ln"; },
            JwtError::PayloadNotJsonObject, "payload"},
        Bad{"alg is a number", [] { return token(json::object{{"alg", 256}}, {}); }, JwtError::BadHeaderField, "alg"},
        Bad{"kid is null", [] { return token(json::object{{"alg", "RS256"}, {"kid", nullptr}}, {}); }, JwtError::BadHeaderField, "kid"},
        Bad{"exp is a string", [] { return withClaim("exp", "1800003600"); }, JwtError::BadClaimType, "exp"},
        Bad{"nbf is a bool", [] { return withClaim("nbf", true); }, JwtError::BadClaimType, "nbf"},
        Bad{"iat is an object", [] { return withClaim("iat", json::object{}); }, JwtError::BadClaimType, "iat"},
        Bad{"exp is negative", [] { return withClaim("exp", -1); }, JwtError::BadClaimType, "exp"},
        Bad{"exp beyond year 9999", [] { return withClaim("exp", 1e300); }, JwtError::BadClaimType, "exp"},
        Bad{"exp huge unsigned", [] { return withClaim("exp", std::uint64_t{18'000'000'000'000'000'000ULL}); }, JwtError::BadClaimType, "exp"},
        Bad{"iss is a number", [] { return withClaim("iss", 1); }, JwtError::BadClaimType, "iss"},
        Bad{"sub is an array", [] { return withClaim("sub", json::array{"a"}); }, JwtError::BadClaimType, "sub"},
        Bad{"aud is a number", [] { return withClaim("aud", 1); }, JwtError::BadClaimType, "aud"},
        Bad{"aud array with a number", [] { return withClaim("aud", json::array{"a", 1}); }, JwtError::BadClaimType, "aud"},
        Bad{"kubernetes.io is a string", [] { return withClaim("kubernetes.io", "x"); }, JwtError::BadClaimType, "kubernetes.io"},
        Bad{"pod name is a number", [] { return withClaim("kubernetes.io", json::object{{"pod", json::object{{"name", 1}}}}); },
            JwtError::BadClaimType, "kubernetes.io"},
        Bad{"alg none, empty signature", [] { return encodeSegments(json::object{{"alg", "none"}}, testing::standardClaims(1)) + "."; },
            JwtError::EmptySignature, "alg none"},
        Bad{"empty signature", [] { return encodeSegments(header(), testing::standardClaims(1)) + "."; },
            JwtError::EmptySignature, "empty signature"}),
    paramName);

TEST(Jwt, AlgNoneIsRecognisedInAnyCase) {
  EXPECT_TRUE(isAlgNone("none"));
  EXPECT_TRUE(isAlgNone("NONE"));
  EXPECT_TRUE(isAlgNone("nOnE"));
  EXPECT_FALSE(isAlgNone("RS256"));
  EXPECT_FALSE(isAlgNone("non"));
  EXPECT_FALSE(isAlgNone("none "));
}

TEST(Jwt, DetailNeverQuotesTokenContent) {
  auto claims = testing::standardClaims(1'800'000'000);
  claims["exp"] = "SECRET-LOOKING-VALUE";
  const auto r = parseJwt(token(header(), claims));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.detail.find("SECRET"), std::string::npos);
}

}  // namespace
}  // namespace aksnode::identity
