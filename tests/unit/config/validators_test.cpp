#include "agent/config/validators.h"

#include <gtest/gtest.h>

#include "agent/config/suggest.h"

namespace aksnode {
namespace {

TEST(ParseHostPort, AcceptsIpv4AndIpv6) {
  EXPECT_EQ(parseHostPort("0.0.0.0:9810").value(), (HostPort{"0.0.0.0", 9810}));
  EXPECT_EQ(parseHostPort("127.0.0.1:0").value(), (HostPort{"127.0.0.1", 0}));
  EXPECT_EQ(parseHostPort("[::]:65535").value(), (HostPort{"::", 65535}));
  EXPECT_EQ(parseHostPort("[::1]:9810").value(), (HostPort{"::1", 9810}));
  EXPECT_EQ(parseHostPort("[fe80::1:2]:80").value(), (HostPort{"fe80::1:2", 80}));
}

TEST(ParseHostPort, RefusesNamesBecauseNothingResolvesThem) {
  // --check-config once accepted these and the agent then failed to bind: one parser, one answer.
  for (const char* text : {"localhost:9810", "metrics.example.com:1"}) {
    const Result<HostPort> parsed = parseHostPort(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_NE(parsed.error().find("a name is not resolved"), std::string::npos) << parsed.error();
  }
}

TEST(ParseHostPort, RefusesTheRest) {
  for (const char* text : {"", ":9810", "0.0.0.0", "0.0.0.0:", "0.0.0.0:65536", "0.0.0.0:-1", "0.0.0.0:+80",
                           "0.0.0.0:99999999999", "0.0.0.0:80x", "::1:9810", "[::1]", "[::1]9810", "[::1:9810",
                           "[nope]:80", "256.0.0.1:80", "1.2.3:80", "bad_host:80", "-x:80", "host name:80",
                           "0.0.0.0:9810 "}) {
    const Result<HostPort> parsed = parseHostPort(text);
    EXPECT_FALSE(parsed.ok()) << text;
    if (!parsed.ok()) {
      EXPECT_TRUE(parsed.error().starts_with("expected host:port")) << parsed.error();
    }
  }
}

TEST(CheckHttpUrl, AcceptsHttpAndHttps) {
  for (const char* text : {"http://169.254.169.254", "http://169.254.169.254/", "http://127.0.0.1:8080",
                           "https://login.microsoftonline.com/", "http://[::1]:8080/", "HTTP://example.com",
                           "https://oidc.prod-aks.azure.com/tenant/guid/"}) {
    EXPECT_TRUE(checkHttpUrl(text).ok()) << text;
  }
}

TEST(CheckHttpUrl, RefusesOtherUrls) {
  for (const char* text : {"", "169.254.169.254", "ftp://example.com", "http://", "http:///path",
                           "http://user@example.com", "http://example.com?x=1", "http://example.com#f",
                           "http://example.com:99999", "http://exa_mple.com", "http://example.com:",
                           "file:///etc/passwd", "http://ex ample.com", "http://%41.com"}) {
    EXPECT_FALSE(checkHttpUrl(text).ok()) << text;
  }
}

TEST(CheckHttpUrl, PathsCanBeRefused) {
  EXPECT_TRUE(checkHttpUrl("http://127.0.0.1:1/", {.allowPath = false}).ok());
  EXPECT_FALSE(checkHttpUrl("http://127.0.0.1:1/metadata", {.allowPath = false}).ok());
}

TEST(Names, FollowKubernetesRules) {
  EXPECT_TRUE(isDnsSubdomain("aks-pool-12345678-vmss000003"));
  EXPECT_TRUE(isDnsSubdomain("node.example.com"));
  EXPECT_FALSE(isDnsSubdomain(""));
  EXPECT_FALSE(isDnsSubdomain("Node"));
  EXPECT_FALSE(isDnsSubdomain("-node"));
  EXPECT_FALSE(isDnsSubdomain("node..x"));
  EXPECT_FALSE(isDnsSubdomain(std::string(254, 'a')));
  EXPECT_TRUE(isDnsLabel("kube-system"));
  EXPECT_FALSE(isDnsLabel("kube.system"));
  EXPECT_FALSE(isDnsLabel(std::string(64, 'a')));
  EXPECT_TRUE(isHostName("Login.Microsoftonline.com"));
}

TEST(Paths, AbsoluteAndNormalised) {
  EXPECT_TRUE(isAbsolutePath("/mnt"));
  EXPECT_FALSE(isAbsolutePath("mnt"));
  EXPECT_FALSE(isAbsolutePath(""));
  EXPECT_FALSE(isAbsolutePath("/mnt\n"));
  EXPECT_EQ(normalizePathForComparison("/mnt/"), "/mnt");
  EXPECT_EQ(normalizePathForComparison("//mnt//a/./b/"), "/mnt/a/b");
  EXPECT_EQ(normalizePathForComparison("/"), "/");
  EXPECT_EQ(normalizePathForComparison("/a/../b"), "/a/../b");
}

TEST(Suggest, FindsCloseKeysOnly) {
  const std::string_view keys[] = {"pollInterval", "timeout", "endpoint", "qps", "burst"};
  EXPECT_EQ(closestMatch("pollIntervall", keys), "pollInterval");
  EXPECT_EQ(closestMatch("PollInterval", keys), "pollInterval");
  EXPECT_EQ(closestMatch("timeuot", keys), "timeout");
  EXPECT_EQ(closestMatch("qsp", keys), "qps");
  EXPECT_EQ(closestMatch("endpoitn", keys), "endpoint");
  EXPECT_EQ(closestMatch("colour", keys), std::nullopt);
  EXPECT_EQ(closestMatch("", keys), std::nullopt);
  EXPECT_EQ(editDistance("abc", "abc"), 0U);
  EXPECT_EQ(editDistance("ab", "ba"), 1U);
  EXPECT_EQ(editDistance("", "abc"), 3U);
  EXPECT_EQ(editDistance("kitten", "sitting"), 3U);
}

}  // namespace
}  // namespace aksnode
