#pragma once
// Outbound HTTP proxies from the environment, as AKS's HTTP proxy feature sets them in every
// pod: HTTPS_PROXY / HTTP_PROXY / NO_PROXY, either case. Pure: the environment is injected
// (agent/config/env_expand.h EnvLookup) and proxyFor() only reads the parsed configuration.
// No Beast or Asio here; http_client_impl.cpp is the only user that opens connections.
//
// Which variable:
//   * https:// targets use HTTPS_PROXY, http:// targets HTTP_PROXY; no fallback from one to the
//     other, and ALL_PROXY is not read (Go's net/http does the same).
//   * When both spellings are set and non-empty, the lowercase one wins (curl, wget and Python's
//     urllib do this; Go's httpproxy prefers the uppercase one). AKS sets both to the same value.
//     An empty value counts as unset.
//
// Proxy URLs: `http://[user:pass@]host[:port][/]`; `host:port` without a scheme means http://;
// the port defaults to 80 (as Go). An https:// proxy (TLS to the proxy itself), socks5:// and
// anything unparseable are rejected: the variable is recorded as unusable, requests that would
// use it fail with the reason (never silently direct: a cluster that sets a proxy usually has
// no other way out), and the app logs the reason at start-up. userinfo becomes a
// `Proxy-Authorization: Basic` header; the credentials are registered with
// agent/core/secret_redaction.h and never appear in display() or any message made here.
//
// NO_PROXY, with the rules of Go's golang.org/x/net/http/httpproxy:
//   * entries separated by commas and/or whitespace; empty entries ignored; case-insensitive;
//   * `*` alone: every host is direct;
//   * an IP literal (IPv6 with or without brackets) matches that address; a CIDR (`10.0.0.0/8`,
//     `fd00::/8`) matches every address in it; IPv4-mapped IPv6 targets match IPv4 entries;
//   * `example.com` matches example.com and every subdomain (on a dot: not notexample.com);
//     `.example.com` and `*.example.com` match every subdomain only, not example.com itself;
//   * `host:port` / `[v6]:port` entries match only that port (the target's default port counts:
//     `example.com:443` matches https://example.com/);
//   * `localhost` and loopback addresses (127.0.0.0/8, ::1) are always direct, whatever the
//     variables say (Go does the same: a proxy cannot reach this node's loopback);
//   * domain entries never match IP literals (Go would let `.0.0.1` match 127.0.0.1);
//   * a trailing dot of the target host is ignored (`example.com.` is example.com).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/env_expand.h"

namespace aksnode {

// Where one request goes instead of its origin.
struct ProxyTarget {
  std::string host;           // without brackets for IPv6
  std::string port;           // decimal
  std::string authorization;  // "Basic <base64>" from the URL's userinfo, or ""
  std::string variable;       // which variable named it ("https_proxy", "HTTP_PROXY")
  // Non-empty: the variable is set but unusable (why, without the value); the request must fail.
  std::string error;

  // "http://host:port" (brackets for IPv6), never the credentials: for logs and messages.
  std::string display() const;
  bool operator==(const ProxyTarget&) const = default;
};

class ProxyConfig {
 public:
  // No proxy at all (IMDS, tests): proxyFor() is always nullopt.
  ProxyConfig() = default;

  // Reads HTTPS_PROXY/https_proxy, HTTP_PROXY/http_proxy and NO_PROXY/no_proxy.
  static ProxyConfig fromEnvironment(const EnvLookup& env);
  // The same from explicit values ("" = unset); the names are used in messages only.
  static ProxyConfig fromValues(std::string_view httpsProxy, std::string_view httpProxy, std::string_view noProxy,
                                std::string_view httpsName = "HTTPS_PROXY", std::string_view httpName = "HTTP_PROXY",
                                std::string_view noProxyName = "NO_PROXY");

  // The proxy for an absolute http(s) URL, or nullopt for a direct connection (no proxy set for
  // its scheme, NO_PROXY matches, loopback, or the URL cannot be parsed: the client reports a
  // bad URL itself).
  std::optional<ProxyTarget> proxyFor(std::string_view url) const;
  // The same for an origin already split up: host without brackets, port decimal.
  std::optional<ProxyTarget> proxyFor(bool https, std::string_view host, std::string_view port) const;

  // True when neither proxy variable is set (nothing will ever be proxied).
  bool direct() const { return !https_ && !http_; }
  const std::optional<ProxyTarget>& httpsProxy() const { return https_; }
  const std::optional<ProxyTarget>& httpProxy() const { return http_; }
  // The NO_PROXY entries as understood (lowercase, normalised), for the start-up log.
  std::vector<std::string> noProxyEntries() const;
  const std::string& noProxyVariable() const { return noProxyName_; }

  // One NO_PROXY entry, parsed (public for the tests).
  struct Entry {
    enum class Kind { All, Domain, Address, Cidr };
    Kind kind = Kind::Domain;
    std::string text;        // normalised: "example.com", "10.0.0.0/8", "::1"
    std::string domain;      // Domain: without leading dots
    bool includesSelf = true;  // Domain: `example.com` (true) or `.example.com` (false)
    std::uint8_t address[16]{};  // Address/Cidr: 16 bytes, IPv4 as IPv4-mapped IPv6
    unsigned prefix = 128;   // Cidr: prefix length in the 128-bit space
    std::string port;        // "" = any port
  };

 private:
  std::optional<ProxyTarget> https_;
  std::optional<ProxyTarget> http_;
  std::vector<Entry> noProxy_;
  bool noProxyAll_ = false;
  std::string noProxyName_;
};

// Parses one proxy variable's value (exposed for tests). Never nullopt for a non-empty value:
// an unusable one comes back with `error` set.
std::optional<ProxyTarget> parseProxyUrl(std::string_view value, std::string_view variable);

}  // namespace aksnode
