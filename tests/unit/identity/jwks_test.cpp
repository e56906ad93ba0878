#include "probes/identity/jwks.h"

#include <gtest/gtest.h>

#include "identity_test_support.h"
#include "probes/identity/jwks_cache.h"
#include "probes/identity/jwt.h"

namespace aksnode::identity {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using testing::kIssuer;
using testing::TestKey;

// --- RS256 -------------------------------------------------------------------------------

TEST(Rs256, VerifiesWhatOpenSslSignedAndNothingElse) {
  const TestKey& k = TestKey::get("kid-1");
  const TestKey& other = TestKey::get("kid-2");
  const std::string token = testing::signToken(k, testing::standardClaims(1'800'000'000));
  const auto parsed = parseJwt(token);
  ASSERT_TRUE(parsed.ok());
  const Jwt& jwt = *parsed.jwt;

  auto keys = parseJwks(testing::jwksJson({&k, &other}));
  ASSERT_TRUE(keys.ok()) << keys.error();
  ASSERT_EQ(keys->keys.size(), 2u);
  EXPECT_TRUE(verifyRs256(keys->keys.at("kid-1").get(), jwt.signingInput, jwt.signature));
  EXPECT_FALSE(verifyRs256(keys->keys.at("kid-2").get(), jwt.signingInput, jwt.signature));

  // One flipped bit in the signed data or in the signature.
  std::string tampered = jwt.signingInput;
  tampered[tampered.size() - 3] ^= 0x01;
  EXPECT_FALSE(verifyRs256(keys->keys.at("kid-1").get(), tampered, jwt.signature));
  std::string badSig = jwt.signature;
  badSig[10] ^= 0x01;
  EXPECT_FALSE(verifyRs256(keys->keys.at("kid-1").get(), jwt.signingInput, badSig));
  // Truncated, empty, null key.
  EXPECT_FALSE(verifyRs256(keys->keys.at("kid-1").get(), jwt.signingInput, jwt.signature.substr(1)));
  EXPECT_FALSE(verifyRs256(keys->keys.at("kid-1").get(), jwt.signingInput, ""));
  EXPECT_FALSE(verifyRs256(nullptr, jwt.signingInput, jwt.signature));
}

TEST(Rs256, AcceptsLargerKeys) {
  const TestKey& big = TestKey::get("kid-3072", 3072);
  const std::string token = testing::signToken(big, testing::standardClaims(1));
  const auto parsed = parseJwt(token);
  auto keys = parseJwks(testing::jwksJson({&big}));
  ASSERT_EQ(keys->keys.count("kid-3072"), 1u) << (keys->skipped.empty() ? "" : keys->skipped[0]);
  EXPECT_TRUE(verifyRs256(keys->keys.at("kid-3072").get(), parsed.jwt->signingInput, parsed.jwt->signature));
}

TEST(RsaKey, RejectsWeakOrNonsenseNumbers) {
  const TestKey& k = TestKey::get("kid-1");
  const std::string n = k.bignumParam("n");
  const std::string e65537("\x01\x00\x01", 3);
  const auto good = rsaPublicKeyFromComponents(n, e65537);
  ASSERT_TRUE(good) << good.error();
  EXPECT_TRUE(good.value());
  const auto small = rsaPublicKeyFromComponents(n.substr(0, 128), e65537);
  EXPECT_FALSE(small);
  EXPECT_NE(small.error().find("1024 bits"), std::string::npos) << small.error();
  EXPECT_FALSE(rsaPublicKeyFromComponents(n, std::string("\x01", 1)));  // e = 1
  EXPECT_FALSE(rsaPublicKeyFromComponents(n, std::string("\x02", 1)));  // even e
  EXPECT_FALSE(rsaPublicKeyFromComponents(n, ""));
  EXPECT_FALSE(rsaPublicKeyFromComponents(std::string(5000, '\xff'), std::string("\x03", 1)));
  EXPECT_FALSE(rsaPublicKeyFromComponents(n, std::string(9, '\x01')));
}

// --- JWKS and discovery documents ----------------------------------------------------------

TEST(Jwks, SkipsKeysItCannotUseAndSaysWhy) {
  const TestKey& k = TestKey::get("kid-1");
  json::object good = k.jwk();
  json::object noKid = k.jwk();
  noKid.erase("kid");
  json::object ec = {{"kty", "EC"}, {"kid", "ec"}, {"crv", "P-256"}, {"x", "AA"}, {"y", "AA"}};
  json::object enc = k.jwk();
  enc["kid"] = "enc";
  enc["use"] = "enc";
  json::object ps = k.jwk();
  ps["kid"] = "ps";
  ps["alg"] = "PS256";
  json::object badN = k.jwk();
  badN["kid"] = "bad-n";
  badN["n"] = "not+base64url";
  json::object dup = k.jwk();
  json::object noAlgNoUse = k.jwk();
  noAlgNoUse["kid"] = "bare";
  noAlgNoUse.erase("alg");
  noAlgNoUse.erase("use");
  const std::string doc = json::serialize(json::object{
      {"keys", json::array{good, noKid, ec, enc, ps, badN, dup, noAlgNoUse, 42}}});
  const auto r = parseJwks(doc);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->keys.size(), 2u);
  EXPECT_EQ(r->keys.count("kid-1"), 1u);
  EXPECT_EQ(r->keys.count("bare"), 1u);
  ASSERT_EQ(r->skipped.size(), 7u);
  const std::string all = [&] { std::string s; for (auto& x : r->skipped) s += x + "|"; return s; }();
  for (const char* why : {"no kid", "kty is not RSA", "use is not sig", "alg is not RS256",
                          "not base64url", "duplicate kid", "not an object"}) {
    EXPECT_NE(all.find(why), std::string::npos) << why << " in " << all;
  }
}

TEST(Jwks, RejectsUnusableDocuments) {
  EXPECT_FALSE(parseJwks("").ok());
  EXPECT_FALSE(parseJwks("[]").ok());
  EXPECT_FALSE(parseJwks("{\"keys\": {}}").ok());
  EXPECT_FALSE(parseJwks("{\"keys\": [").ok());
  EXPECT_FALSE(parseJwks(std::string(kMaxJwksBytes + 1, ' ')).ok());
  EXPECT_TRUE(parseJwks("{\"keys\": []}").ok());
  EXPECT_TRUE(parseJwks("{\"keys\": []}")->keys.empty());
}

TEST(Discovery, UrlHandlesTheTrailingSlash) {
  EXPECT_EQ(discoveryUrl("https://oidc.example/abc/"), "https://oidc.example/abc/.well-known/openid-configuration");
  EXPECT_EQ(discoveryUrl("https://oidc.example/abc"), "https://oidc.example/abc/.well-known/openid-configuration");
  EXPECT_EQ(discoveryUrl("https://oidc.example"), "https://oidc.example/.well-known/openid-configuration");
}

TEST(Discovery, ParsesIssuerAndJwksUri) {
  auto d = parseDiscovery(testing::discoveryJson(kIssuer, "https://x/openid/v1/jwks"));
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->issuer, kIssuer);
  EXPECT_EQ(d->jwksUri, "https://x/openid/v1/jwks");
  const auto noJwksUri = parseDiscovery(R"({"issuer":"x"})");
  EXPECT_FALSE(noJwksUri);
  EXPECT_NE(noJwksUri.error().find("jwks_uri"), std::string::npos);
  EXPECT_FALSE(parseDiscovery(R"({"issuer":1,"jwks_uri":"x"})"));
  EXPECT_FALSE(parseDiscovery("<html>"));
}

// --- the cache, against a scripted issuer --------------------------------------------------

class JwksCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    http.on(configUrl, 200, testing::discoveryJson(kIssuer, jwksUrl));
    http.on(jwksUrl, 200, testing::jwksJson({&TestKey::get("kid-1")}));
  }
  KeyLookup find(const std::string& kid, const std::string& issuer = kIssuer) {
    return testing::runSync(cache.find(issuer, kid));
  }
  const std::string configUrl = std::string(kIssuer) + ".well-known/openid-configuration";
  const std::string jwksUrl = std::string(kIssuer) + "openid/v1/jwks";
  testing::ScriptedHttpClient http;
  SimulatedTimeSource time;
  JwksCache cache{http, time, JwksCache::Options{}};
};

TEST_F(JwksCacheTest, FetchesOnceAndServesFromCache) {
  EXPECT_EQ(find("kid-1").status, KeyLookup::Status::Found);
  EXPECT_EQ(find("kid-1").status, KeyLookup::Status::Found);
  time.advance(30min);
  EXPECT_EQ(find("kid-1").status, KeyLookup::Status::Found);
  EXPECT_EQ(http.count(configUrl), 1);
  EXPECT_EQ(http.count(jwksUrl), 1);
  ASSERT_FALSE(http.requests.empty());
  EXPECT_EQ(http.requests[0].method, "GET");
  EXPECT_LE(http.requests[0].bodyLimit, kMaxDiscoveryBytes);
}

TEST_F(JwksCacheTest, UnknownKidRefreshesAtMostOncePerMinute) {
  EXPECT_EQ(find("kid-1").status, KeyLookup::Status::Found);
  time.advance(61s);
  auto r = find("kid-unknown");
  EXPECT_EQ(r.status, KeyLookup::Status::KeyNotFound);
  EXPECT_NE(r.message.find("kid-unknown"), std::string::npos);
  EXPECT_EQ(cache.fetchCount(), 2);
  // Hammering with the bogus kid within the minute causes no request.
  for (int i = 0; i < 10; ++i) {
    time.advance(5s);
    EXPECT_EQ(find("kid-unknown").status, KeyLookup::Status::KeyNotFound);
  }
  EXPECT_EQ(cache.fetchCount(), 2);
  time.advance(10s);
  EXPECT_EQ(find("kid-unknown").status, KeyLookup::Status::KeyNotFound);
  EXPECT_EQ(cache.fetchCount(), 3);
  // Known keys keep working throughout.
  EXPECT_EQ(find("kid-1").status, KeyLookup::Status::Found);
}

TEST_F(JwksCacheTest, PicksUpARotatedSigningKey) {
  EXPECT_EQ(find("kid-1").status, KeyLookup::Status::Found);
  // The cluster rotates its service-account signing key: kid-2 appears, kid-1 stays a while.
  http.clear(jwksUrl);
  http.on(jwksUrl, 200, testing::jwksJson({&TestKey::get("kid-2"), &TestKey::get("kid-1")}));
  time.advance(2min);
  auto r = find("kid-2");
  ASSERT_EQ(r.status, KeyLookup::Status::Found);
  EXPECT_EQ(cache.keyCount(), 2u);
  // Later kid-1 is withdrawn; after maxAge the cache no longer trusts it.
  http.clear(jwksUrl);
  http.on(jwksUrl, 200, testing::jwksJson({&TestKey::get("kid-2")}));
  time.advance(61min);
  EXPECT_EQ(find("kid-1").status, KeyLookup::Status::KeyNotFound);
}

TEST_F(JwksCacheTest, DiscoveryFailuresAreReportedWithTheirCause) {
  http.clear(configUrl);
  http.on(configUrl, 503, "upstream unavailable");
  auto r = find("kid-1");
  EXPECT_EQ(r.status, KeyLookup::Status::DiscoveryFailed);
  EXPECT_NE(r.message.find("HTTP 503"), std::string::npos) << r.message;
  // Rate-limited: the failure is remembered, not retried.
  time.advance(30s);
  EXPECT_EQ(find("kid-1").status, KeyLookup::Status::DiscoveryFailed);
  EXPECT_EQ(cache.fetchCount(), 1);
  // Recovered issuer.
  http.clear(configUrl);
  http.on(configUrl, 200, testing::discoveryJson(kIssuer, jwksUrl));
  time.advance(31s);
  EXPECT_EQ(find("kid-1").status, KeyLookup::Status::Found);
}

TEST_F(JwksCacheTest, TransportErrorsAndBadDocuments) {
  http.clear(configUrl);
  http.failWith(configUrl, HttpError::Timeout, "deadline");
  http.on(configUrl, 200, "<html>not json</html>");
  http.on(configUrl, 200, testing::discoveryJson(kIssuer, jwksUrl));
  http.clear(jwksUrl);
  http.on(jwksUrl, 200, R"({"keys":"nope"})");
  auto r = find("kid-1");
  EXPECT_EQ(r.status, KeyLookup::Status::DiscoveryFailed);
  EXPECT_NE(r.message.find("timeout"), std::string::npos) << r.message;
  time.advance(61s);
  r = find("kid-1");
  EXPECT_NE(r.message.find("invalid JSON"), std::string::npos) << r.message;
  time.advance(61s);
  r = find("kid-1");
  EXPECT_EQ(r.status, KeyLookup::Status::DiscoveryFailed);
  EXPECT_NE(r.message.find("keys"), std::string::npos) << r.message;
}

TEST_F(JwksCacheTest, DiscoveryMustNameTheSameIssuer) {
  std::string noSlash = kIssuer;
  noSlash.pop_back();
  http.clear(configUrl);
  http.on(configUrl, 200, testing::discoveryJson(noSlash, jwksUrl));
  auto r = find("kid-1");
  EXPECT_EQ(r.status, KeyLookup::Status::DiscoveryFailed);
  EXPECT_NE(r.message.find("names issuer"), std::string::npos) << r.message;
  EXPECT_EQ(http.count(jwksUrl), 0);
}

TEST_F(JwksCacheTest, IssuerWithoutTrailingSlashUsesTheSameDiscoveryPath) {
  std::string noSlash = kIssuer;
  noSlash.pop_back();
  http.clear(configUrl);
  http.on(configUrl, 200, testing::discoveryJson(noSlash, jwksUrl));
  EXPECT_EQ(find("kid-1", noSlash).status, KeyLookup::Status::Found);
  EXPECT_EQ(http.count(configUrl), 1);
}

TEST_F(JwksCacheTest, RefusesPlainHttpUnlessAllowedForTests) {
  const std::string httpIssuer = "http://127.0.0.1:8443/issuer/";
  auto r = find("kid-1", httpIssuer);
  EXPECT_EQ(r.status, KeyLookup::Status::DiscoveryFailed);
  EXPECT_NE(r.message.find("https"), std::string::npos);
  EXPECT_TRUE(http.requests.empty());

  // An https issuer whose jwks_uri is plain http is refused too.
  http.clear(configUrl);
  http.on(configUrl, 200, testing::discoveryJson(kIssuer, "http://x/jwks"));
  r = find("kid-1");
  EXPECT_EQ(r.status, KeyLookup::Status::DiscoveryFailed);
  EXPECT_NE(r.message.find("jwks_uri"), std::string::npos) << r.message;

  JwksCache::Options testOnly;
  testOnly.allowInsecureHttp = true;
  JwksCache insecure(http, time, testOnly);
  http.on(httpIssuer + ".well-known/openid-configuration", 200, testing::discoveryJson(httpIssuer, "http://x/jwks"));
  http.on("http://x/jwks", 200, testing::jwksJson({&TestKey::get("kid-1")}));
  EXPECT_EQ(testing::runSync(insecure.find(httpIssuer, "kid-1")).status, KeyLookup::Status::Found);
}

TEST_F(JwksCacheTest, ANewIssuerStartsFromScratch) {
  EXPECT_EQ(find("kid-1").status, KeyLookup::Status::Found);
  const std::string other = "https://other.example/";
  auto r = find("kid-1", other);  // nothing scripted: 404
  EXPECT_EQ(r.status, KeyLookup::Status::DiscoveryFailed);
  EXPECT_NE(r.message.find("404"), std::string::npos);
}

}  // namespace
}  // namespace aksnode::identity
