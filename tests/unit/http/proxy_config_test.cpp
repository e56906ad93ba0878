// agent/http/proxy_config.h: which proxy a URL goes through, table-driven, with the NO_PROXY
// rules of Go's golang.org/x/net/http/httpproxy (and the documented differences), proxy URL
// parsing and hostile values.
#include "agent/http/proxy_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>

#include "agent/core/secret_redaction.h"

namespace aksnode {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

EnvLookup envOf(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// "" = direct, else the proxy's display().
std::string route(const ProxyConfig& c, const std::string& url) {
  auto p = c.proxyFor(url);
  if (!p) return "";
  return p->error.empty() ? p->display() : "error";
}

struct Case {
  const char* noProxy;
  const char* url;
  bool proxied;
};

TEST(ProxyConfigTest, NoProxyMatchingTable) {
  const Case cases[] = {
      // nothing excluded
      {"", "https://login.microsoftonline.com/x", true},
      {"", "http://example.com/", true},
      // `*`
      {"*", "https://example.com/", false},
      {"*", "http://10.1.2.3/", false},
      {"foo.com, *", "https://example.com/", false},
      {"*.", "https://example.com/", true},  // not `*`: a domain that matches nothing
      // exact host and subdomains
      {"example.com", "https://example.com/", false},
      {"example.com", "https://api.example.com/", false},
      {"example.com", "https://a.b.example.com:8443/", false},
      {"example.com", "https://notexample.com/", true},
      {"example.com", "https://example.com.evil.org/", true},
      {"example.com", "https://example.co/", true},
      // leading dot and *. : subdomains only (Go)
      {".example.com", "https://api.example.com/", false},
      {".example.com", "https://example.com/", true},
      {"*.example.com", "https://api.example.com/", false},
      {"*.example.com", "https://example.com/", true},
      {"..example.com", "https://api.example.com/", false},
      // case-insensitive, both sides
      {"EXAMPLE.Com", "https://API.example.COM/", false},
      {"example.com", "HTTPS://Example.Com/", false},
      // trailing dots
      {"example.com.", "https://example.com/", false},
      {"example.com", "https://example.com./", false},
      // ports
      {"example.com:443", "https://example.com/", false},
      {"example.com:443", "https://example.com:443/", false},
      {"example.com:443", "https://example.com:8443/", true},
      {"example.com:80", "http://example.com/", false},
      {"example.com:0443", "https://example.com/", false},
      {"example.com:99999", "https://example.com/", true},  // bad port: entry ignored
      {"example.com:abc", "https://example.com/", true},
      // IPv4 literals and CIDR
      {"10.0.0.1", "http://10.0.0.1/", false},
      {"10.0.0.1", "http://10.0.0.2/", true},
      {"10.0.0.1:8080", "http://10.0.0.1:8080/", false},
      {"10.0.0.1:8080", "http://10.0.0.1/", true},
      {"10.0.0.0/8", "https://10.200.3.4/", false},
      {"10.0.0.0/8", "https://11.0.0.1/", true},
      {"192.168.1.0/24", "https://192.168.1.255/", false},
      {"192.168.1.0/24", "https://192.168.2.1/", true},
      {"192.168.1.128/25", "https://192.168.1.127/", true},
      {"192.168.1.128/25", "https://192.168.1.200/", false},
      {"0.0.0.0/0", "https://8.8.8.8/", false},
      {"10.0.0.0/33", "https://10.0.0.1/", true},  // invalid prefix: ignored
      {"10.0.0.0/8", "https://ten.example/", true},  // a CIDR never matches a name
      {"10.0.0.0/8", "https://[::ffff:10.1.2.3]/", false},  // IPv4-mapped IPv6
      // IPv6 literals, with and without brackets, CIDR
      {"fd00::1", "https://[fd00::1]/", false},
      {"[fd00::1]", "https://[fd00::1]/", false},
      {"[fd00::1]:443", "https://[fd00::1]/", false},
      {"[fd00::1]:443", "https://[fd00::1]:8443/", true},
      {"fd00::1", "https://[fd00::2]/", true},
      {"FD00:0:0::1", "https://[fd00::1]/", false},
      {"fd00::/8", "https://[fd12:3456::1]/", false},
      {"fd00::/8", "https://[fe80::1]/", true},
      {"[fd00::]/16", "https://[fd00:1::1]/", false},
      {"fd00::/129", "https://[fd00::1]/", true},
      // a domain entry never matches an IP literal (Go would let ".0.0.1" match 127.0.0.1)
      {".0.0.2", "https://10.0.0.2/", true},
      // separators and empty entries
      {" , ,, example.com ,", "https://example.com/", false},
      {"a.org b.org\texample.com", "https://example.com/", false},
      {"a.org,b.org", "https://example.com/", true},
      // the AKS default list
      {"localhost,127.0.0.1,169.254.169.254,168.63.129.16,konnectivity,10.0.0.0/16,.svc,.cluster.local",
       "https://kubernetes.default.svc/", false},
      {"localhost,127.0.0.1,169.254.169.254,168.63.129.16,konnectivity,10.0.0.0/16,.svc,.cluster.local",
       "https://login.microsoftonline.com/", true},
      // garbage entries are skipped, the rest still works
      {"[::1,example.com", "https://example.com/", false},
      {"[fd00::1]x, example.com", "https://example.com/", false},
      {"/8,:443,[]:80,:,*.,.", "https://example.com/", true},
  };
  for (const auto& c : cases) {
    const ProxyConfig config = ProxyConfig::fromValues("http://proxy:3128", "http://proxy:3128", c.noProxy);
    EXPECT_EQ(route(config, c.url), c.proxied ? "http://proxy:3128" : "")
        << "NO_PROXY=\"" << c.noProxy << "\" url=" << c.url;
  }
}

TEST(ProxyConfigTest, LoopbackAndLocalhostAreAlwaysDirect) {
  const ProxyConfig config = ProxyConfig::fromValues("http://proxy:3128", "http://proxy:3128", "");
  for (const char* url : {"http://localhost/", "https://localhost:6443/", "http://LOCALHOST./", "http://127.0.0.1:8080/",
                          "http://127.1.2.3/", "https://[::1]:443/", "https://[::ffff:127.0.0.1]/"}) {
    EXPECT_EQ(route(config, url), "") << url;
  }
  // Not loopback: proxied.
  for (const char* url : {"http://localhost.example.com/", "http://128.0.0.1/", "https://[::2]/", "http://0.0.0.0/"}) {
    EXPECT_EQ(route(config, url), "http://proxy:3128") << url;
  }
}

TEST(ProxyConfigTest, SchemePicksTheVariableWithoutFallback) {
  const ProxyConfig onlyHttps = ProxyConfig::fromValues("http://secure-proxy:3128", "", "");
  EXPECT_EQ(route(onlyHttps, "https://example.com/"), "http://secure-proxy:3128");
  EXPECT_EQ(route(onlyHttps, "http://example.com/"), "");
  const ProxyConfig onlyHttp = ProxyConfig::fromValues("", "http://plain-proxy:8080", "");
  EXPECT_EQ(route(onlyHttp, "https://example.com/"), "");
  EXPECT_EQ(route(onlyHttp, "http://example.com/"), "http://plain-proxy:8080");
  // Not http(s), unparseable or without a host: direct (the client reports the bad URL).
  for (const char* url : {"ftp://example.com/", "not a url", "", "http://", "https:///path"}) {
    EXPECT_EQ(route(onlyHttp, url), "") << url;
  }
  EXPECT_TRUE(ProxyConfig().direct());
  EXPECT_EQ(route(ProxyConfig(), "https://example.com/"), "");
}

TEST(ProxyConfigTest, EnvironmentLowercaseWinsAndEmptyIsUnset) {
  auto both = ProxyConfig::fromEnvironment(envOf({{"HTTPS_PROXY", "http://upper:1"},
                                                  {"https_proxy", "http://lower:2"},
                                                  {"HTTP_PROXY", "http://upper:3"},
                                                  {"http_proxy", "http://lower:4"},
                                                  {"NO_PROXY", "upper.example"},
                                                  {"no_proxy", "lower.example"}}));
  ASSERT_TRUE(both.httpsProxy());
  EXPECT_EQ(both.httpsProxy()->display(), "http://lower:2");
  EXPECT_EQ(both.httpsProxy()->variable, "https_proxy");
  EXPECT_EQ(both.httpProxy()->display(), "http://lower:4");
  EXPECT_EQ(both.noProxyVariable(), "no_proxy");
  EXPECT_EQ(route(both, "https://lower.example/"), "");
  EXPECT_EQ(route(both, "https://upper.example/"), "http://lower:2");

  auto upper = ProxyConfig::fromEnvironment(envOf({{"HTTPS_PROXY", "http://upper:1"},
                                                   {"https_proxy", ""},
                                                   {"NO_PROXY", "upper.example"},
                                                   {"no_proxy", ""}}));
  ASSERT_TRUE(upper.httpsProxy());
  EXPECT_EQ(upper.httpsProxy()->display(), "http://upper:1");
  EXPECT_EQ(upper.httpsProxy()->variable, "HTTPS_PROXY");
  EXPECT_FALSE(upper.httpProxy());
  EXPECT_EQ(route(upper, "https://upper.example/"), "");

  EXPECT_TRUE(ProxyConfig::fromEnvironment(envOf({})).direct());
  EXPECT_TRUE(ProxyConfig::fromEnvironment(emptyEnvironment()).direct());
  EXPECT_TRUE(ProxyConfig::fromEnvironment(EnvLookup{}).direct());
}

struct UrlCase {
  const char* value;
  const char* display;  // "" when unusable
  const char* errorContains;
};

TEST(ProxyConfigTest, ProxyUrls) {
  const UrlCase cases[] = {
      {"http://proxy.corp:3128", "http://proxy.corp:3128", ""},
      {"http://proxy.corp:3128/", "http://proxy.corp:3128", ""},
      {"HTTP://Proxy.Corp:3128", "http://proxy.corp:3128", ""},
      {"http://proxy.corp", "http://proxy.corp:80", ""},
      {"proxy.corp:3128", "http://proxy.corp:3128", ""},
      {"proxy.corp", "http://proxy.corp:80", ""},
      {"10.0.0.5:3128", "http://10.0.0.5:3128", ""},
      {"http://[fd00::5]:3128", "http://[fd00::5]:3128", ""},
      {"[fd00::5]:3128", "http://[fd00::5]:3128", ""},
      {"http://user:pass@proxy:3128", "http://proxy:3128", ""},
      {"user:pass@proxy:3128", "http://proxy:3128", ""},
      {"https://proxy.corp:443", "", "https:// proxy"},
      {"socks5://proxy:1080", "", "unsupported proxy scheme \"socks5\""},
      {"http://proxy:0", "", "invalid port"},
      {"http://proxy:65536", "", "invalid port"},
      {"http://proxy:port", "", "invalid port"},
      {"http://", "", "not a proxy URL"},
      {"://", "", "not a proxy URL"},
      {"http://proxy corp:3128", "", "spaces or control"},
      {"http://proxy\n:3128", "", "spaces or control"},
      {"%%%", "", "not a proxy URL"},
  };
  for (const auto& c : cases) {
    auto t = parseProxyUrl(c.value, "HTTPS_PROXY");
    ASSERT_TRUE(t) << c.value;
    if (*c.display) {
      EXPECT_EQ(t->error, "") << c.value;
      EXPECT_EQ(t->display(), c.display) << c.value;
    } else {
      EXPECT_THAT(t->error, HasSubstr(c.errorContains)) << c.value;
      EXPECT_THAT(t->error, HasSubstr("HTTPS_PROXY")) << c.value;
    }
  }
  EXPECT_FALSE(parseProxyUrl("", "HTTPS_PROXY"));
}

TEST(ProxyConfigTest, UnusableProxyFailsRequestsInsteadOfGoingDirect) {
  const ProxyConfig config = ProxyConfig::fromValues("https://proxy:443", "", "no.example");
  auto p = config.proxyFor("https://login.microsoftonline.com/");
  ASSERT_TRUE(p);
  EXPECT_THAT(p->error, HasSubstr("https:// proxy"));
  EXPECT_FALSE(config.proxyFor("https://no.example/"));  // NO_PROXY still applies
  EXPECT_FALSE(config.proxyFor("https://127.0.0.1/"));
}

TEST(ProxyConfigTest, CredentialsBecomeBasicAuthAndAreNeverShown) {
  secrets::forgetAllForTests();
  const std::string password = "s3cr3t-proxy-password";
  auto t = parseProxyUrl("http://agent%40corp:" + password + "@proxy.corp:3128", "HTTPS_PROXY");
  ASSERT_TRUE(t);
  ASSERT_EQ(t->error, "");
  // base64("agent@corp:s3cr3t-proxy-password")
  EXPECT_EQ(t->authorization, "Basic YWdlbnRAY29ycDpzM2NyM3QtcHJveHktcGFzc3dvcmQ=");
  EXPECT_THAT(t->display(), Not(HasSubstr("s3cr3t")));
  EXPECT_THAT(t->display(), Not(HasSubstr("agent")));
  // Registered: a proxy echoing the header or the URL is redacted in logs and /status.
  EXPECT_THAT(secrets::redactSecrets("407 for " + password), Not(HasSubstr(password)));
  EXPECT_THAT(secrets::redactSecrets("Proxy-Authorization: " + t->authorization),
              Not(HasSubstr("YWdlbnRAY29ycDpzM2NyM3QtcHJveHktcGFzc3dvcmQ")));
  // Even an unusable URL's error never quotes the value.
  auto bad = parseProxyUrl("https://proxyuser42:" + password + "@proxy.corp:3128", "HTTPS_PROXY");
  ASSERT_TRUE(bad);
  EXPECT_THAT(bad->error, Not(HasSubstr(password)));
  EXPECT_THAT(bad->error, Not(HasSubstr("proxyuser42")));
  auto garbage = parseProxyUrl("agent:" + password + "@@@:/", "HTTPS_PROXY");
  ASSERT_TRUE(garbage);
  EXPECT_THAT(garbage->error, Not(HasSubstr(password)));
  secrets::forgetAllForTests();

  // Short credentials and no password still work.
  EXPECT_EQ(parseProxyUrl("http://a:b@p:1", "X")->authorization, "Basic YTpi");
  EXPECT_EQ(parseProxyUrl("http://ab@p:1", "X")->authorization, "Basic YWI6");
  EXPECT_EQ(parseProxyUrl("http://p:1", "X")->authorization, "");
}

TEST(ProxyConfigTest, HostileValues) {
  // A huge proxy URL is refused, not parsed.
  auto huge = parseProxyUrl("http://" + std::string(1 << 20, 'a') + ":3128", "HTTPS_PROXY");
  ASSERT_TRUE(huge);
  EXPECT_THAT(huge->error, HasSubstr("longer than"));
  // Binary garbage.
  std::string garbage;
  for (int i = 0; i < 256; ++i) garbage.push_back(static_cast<char>(i));
  auto g = parseProxyUrl(garbage, "HTTPS_PROXY");
  ASSERT_TRUE(g);
  EXPECT_NE(g->error, "");

  // A 1 MiB NO_PROXY of many entries parses and matches quickly; its last entry still counts.
  std::string many;
  for (int i = 0; i < 60000; ++i) many += "host" + std::to_string(i) + ".example,";
  many += "last.example";
  const auto t0 = std::chrono::steady_clock::now();
  const ProxyConfig big = ProxyConfig::fromValues("http://proxy:3128", "", many);
  EXPECT_EQ(route(big, "https://a.last.example/"), "");
  EXPECT_EQ(route(big, "https://other.example/"), "http://proxy:3128");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_EQ(big.noProxyEntries().size(), 60001u);

  // One enormous entry, separators only, garbage bytes, brackets everywhere: no crash, and the
  // proxy is used.
  for (const std::string& no : {std::string(1 << 20, 'x'), std::string(1 << 16, ','), garbage,
                                std::string(1000, '['), std::string("[[]]:::///***")}) {
    const ProxyConfig c = ProxyConfig::fromValues("http://proxy:3128", "", no);
    EXPECT_EQ(route(c, "https://example.com/"), "http://proxy:3128");
  }
  // A hostile URL to route.
  const ProxyConfig c = ProxyConfig::fromValues("http://proxy:3128", "", "example.com");
  EXPECT_EQ(route(c, "https://" + std::string(100000, 'a') + ".example.com/"), "");
  EXPECT_EQ(route(c, "https://[::1"), "");
}

}  // namespace
}  // namespace aksnode
