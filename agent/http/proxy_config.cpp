#include "agent/http/proxy_config.h"

#include <arpa/inet.h>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <array>
#include <cstring>

#include "agent/core/host_port.h"
#include "agent/core/secret_redaction.h"

namespace aksnode {

namespace {

// Longer proxy URLs are refused: no real proxy URL is near this, and the value ends up in
// headers and messages.
constexpr std::size_t kMaxProxyUrlLength = 4096;

using Bytes16 = std::array<std::uint8_t, 16>;

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string toLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

bool isSeparator(char c) { return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

bool allDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A port as written in a URL or entry: 1..65535, normalised to its decimal form ("0443" -> "443").
std::optional<std::string> normalisePort(std::string_view s) {
  const std::optional<std::uint16_t> port = parsePortNumber(s);
  if (!port || *port == 0) return std::nullopt;
  return std::to_string(*port);
}

// An IP literal (no brackets) as 16 bytes, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d).
std::optional<Bytes16> parseIp(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  std::string s(text);
  Bytes16 out{};
  if (s.find(':') == std::string::npos) {
    in_addr v4{};
    if (inet_pton(AF_INET, s.c_str(), &v4) != 1) return std::nullopt;
    out[10] = 0xff;
    out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) != 1) return std::nullopt;
  std::memcpy(out.data(), &v6, 16);
  return out;
}

bool isV4Mapped(const Bytes16& a) {
  for (int i = 0; i < 10; ++i) {
    if (a[static_cast<std::size_t>(i)] != 0) return false;
  }
  return a[10] == 0xff && a[11] == 0xff;
}

bool isLoopback(const Bytes16& a) {
  if (isV4Mapped(a)) return a[12] == 127;
  for (std::size_t i = 0; i < 15; ++i) {
    if (a[i] != 0) return false;
  }
  return a[15] == 1;
}

bool prefixMatches(const Bytes16& a, const std::uint8_t* b, unsigned prefix) {
  const unsigned full = prefix / 8;
  for (unsigned i = 0; i < full; ++i) {
    if (a[i] != b[i]) return false;
  }
  const unsigned rest = prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

ProxyTarget unusable(std::string_view variable, std::string why) {
  ProxyTarget t;
  t.variable = std::string(variable);
  t.error = std::string(variable) + " " + std::move(why);
  return t;
}

// Host as it is compared: lowercase, without brackets and without one trailing dot.
std::string normaliseHost(std::string_view host) {
  std::string h = toLower(host);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (!h.empty() && h.back() == '.') h.pop_back();
  return h;
}

std::optional<ProxyConfig::Entry> parseEntry(std::string_view raw) {
  using Entry = ProxyConfig::Entry;
  std::string text = toLower(raw);
  Entry e;
  e.text = text;
  if (text == "*") {
    e.kind = Entry::Kind::All;
    return e;
  }
  // CIDR: address/prefix (the address may be bracketed).
  if (auto slash = text.find('/'); slash != std::string::npos) {
    std::string addr = normaliseHost(text.substr(0, slash));
    std::string_view bits = std::string_view(text).substr(slash + 1);
    auto ip = parseIp(addr);
    if (!ip || !allDigits(bits) || bits.size() > 3) return std::nullopt;
    unsigned prefix = static_cast<unsigned>(std::stoul(std::string(bits)));
    const bool v4 = addr.find(':') == std::string::npos;
    if (prefix > (v4 ? 32U : 128U)) return std::nullopt;
    e.kind = Entry::Kind::Cidr;
    e.prefix = v4 ? prefix + 96 : prefix;
    std::memcpy(e.address, ip->data(), 16);
    return e;
  }
  // [v6]:port, [v6], host:port, host, bare v6.
  const std::optional<HostPortText> split = splitHostPort(text);
  if (!split) return std::nullopt;
  std::string host(split->host);
  std::string port;
  if (split->port) {
    auto p = normalisePort(*split->port);
    if (!p) return std::nullopt;
    port = *p;
  }
  if (!host.empty() && host.back() == '.') host.pop_back();
  if (host.empty()) return std::nullopt;
  e.port = port;
  if (auto ip = parseIp(host)) {
    e.kind = Entry::Kind::Address;
    std::memcpy(e.address, ip->data(), 16);
    return e;
  }
  e.kind = Entry::Kind::Domain;
  if (host.starts_with("*.")) host.erase(0, 1);
  if (host.front() == '.') {
    e.includesSelf = false;
    host.erase(0, host.find_first_not_of('.'));
  }
  if (host.empty() || host.find_first_of("[]/*") != std::string::npos) return std::nullopt;
  e.domain = host;
  return e;
}

std::optional<std::string> pick(const EnvLookup& env, const char* lowerName, const char* upperName,
                                std::string& usedName) {
  for (const char* name : {lowerName, upperName}) {
    auto v = env ? env(name) : std::nullopt;
    if (v && !v->empty()) {
      usedName = name;
      return v;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string ProxyTarget::display() const {
  if (host.empty()) return variable.empty() ? "(unusable proxy)" : variable + " (unusable)";
  return "http://" + joinHostPort(host, port);
}

std::optional<ProxyTarget> parseProxyUrl(std::string_view value, std::string_view variable) {
  if (value.empty()) return std::nullopt;
  if (value.size() > kMaxProxyUrlLength) {
    return unusable(variable, "is longer than " + std::to_string(kMaxProxyUrlLength) + " characters");
  }
  for (char c : value) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return unusable(variable, "contains spaces or control characters: not a proxy URL");
    }
  }
  // As Go: a value that is not an absolute URL with an authority (`proxy:3128`, `10.0.0.1:3128`,
  // `proxy`) is tried again as http://value.
  // Only when there is no "://": `http://proxy:port` is a broken URL, not host "http".
  std::string text(value);
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (value.find("://") == std::string_view::npos && (!parsed || !parsed->has_authority())) {
    text = "http://" + std::string(value);
    parsed = boost::urls::parse_absolute_uri(text);
  }
  if (!parsed || !parsed->has_authority() || parsed->encoded_host().empty()) {
    return unusable(variable, "is not a proxy URL (expected http://[user:password@]host:port)");
  }
  const boost::urls::url_view url = *parsed;
  const std::string scheme = toLower(url.scheme());
  if (scheme != "http") {
    std::string shown = scheme.substr(0, 16);
    if (scheme == "https") {
      return unusable(variable,
                      "names an https:// proxy (TLS to the proxy itself), which the agent does not support; use "
                      "http://: requests to https targets are still TLS end to end through CONNECT");
    }
    return unusable(variable, "has the unsupported proxy scheme \"" + shown + "\" (only http:// proxies)");
  }
  ProxyTarget t;
  t.variable = std::string(variable);
  if (url.host_type() == boost::urls::host_type::ipv6) {
    t.host = url.host_ipv6_address().to_string();
  } else if (url.host_type() == boost::urls::host_type::ipv4) {
    t.host = url.host_ipv4_address().to_string();
  } else if (url.host_type() == boost::urls::host_type::name) {
    t.host = toLower(url.host());
  } else {
    return unusable(variable, "has a host the agent cannot connect to (IPvFuture)");
  }
  if (t.host.empty() || t.host.find_first_of(" /\\@\r\n") != std::string::npos) {
    return unusable(variable, "has no usable host");
  }
  if (url.has_port()) {
    auto p = normalisePort(url.port());
    if (!p) return unusable(variable, "has an invalid port (1-65535)");
    t.port = *p;
  } else {
    t.port = "80";
  }
  if (url.has_userinfo()) {
    const std::string user = url.user();
    const std::string password = url.password();
    const std::string credentials = user + ":" + password;
    t.authorization = "Basic " + base64(credentials);
    // Never in a log line, /status or a message, even if a proxy or a library echoes it.
    const std::string slot = "proxy-" + toLower(variable);
    secrets::remember(slot + "-password", password);
    secrets::remember(slot + "-userinfo", std::string(url.encoded_userinfo()));
    secrets::remember(slot + "-credentials", credentials);
    secrets::remember(slot + "-authorization", t.authorization.substr(6));
  }
  return t;
}

ProxyConfig ProxyConfig::fromEnvironment(const EnvLookup& env) {
  std::string httpsName = "HTTPS_PROXY";
  std::string httpName = "HTTP_PROXY";
  std::string noName = "NO_PROXY";
  auto https = pick(env, "https_proxy", "HTTPS_PROXY", httpsName);
  auto http = pick(env, "http_proxy", "HTTP_PROXY", httpName);
  auto no = pick(env, "no_proxy", "NO_PROXY", noName);
  return fromValues(https.value_or(""), http.value_or(""), no.value_or(""), httpsName, httpName, noName);
}

ProxyConfig ProxyConfig::fromValues(std::string_view httpsProxy, std::string_view httpProxy, std::string_view noProxy,
                                    std::string_view httpsName, std::string_view httpName,
                                    std::string_view noProxyName) {
  ProxyConfig c;
  c.https_ = parseProxyUrl(httpsProxy, httpsName);
  c.http_ = parseProxyUrl(httpProxy, httpName);
  c.noProxyName_ = std::string(noProxyName);
  std::size_t i = 0;
  while (i < noProxy.size()) {
    while (i < noProxy.size() && isSeparator(noProxy[i])) ++i;
    std::size_t j = i;
    while (j < noProxy.size() && !isSeparator(noProxy[j])) ++j;
    if (j > i) {
      if (auto e = parseEntry(noProxy.substr(i, j - i))) {
        if (e->kind == Entry::Kind::All) c.noProxyAll_ = true;
        c.noProxy_.push_back(std::move(*e));
      }
    }
    i = j;
  }
  return c;
}

std::vector<std::string> ProxyConfig::noProxyEntries() const {
  std::vector<std::string> out;
  out.reserve(noProxy_.size());
  for (const auto& e : noProxy_) out.push_back(e.text);
  return out;
}

std::optional<ProxyTarget> ProxyConfig::proxyFor(std::string_view url) const {
  if (direct()) return std::nullopt;
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return std::nullopt;
  const std::string scheme = toLower(parsed->scheme());
  if (scheme != "http" && scheme != "https") return std::nullopt;
  const bool https = scheme == "https";
  std::string host = parsed->host_type() == boost::urls::host_type::ipv6 ? parsed->host_ipv6_address().to_string()
                                                                          : std::string(parsed->host());
  if (host.empty()) return std::nullopt;
  std::string port = parsed->has_port() ? std::string(parsed->port()) : (https ? "443" : "80");
  return proxyFor(https, host, port);
}

std::optional<ProxyTarget> ProxyConfig::proxyFor(bool https, std::string_view rawHost, std::string_view rawPort) const {
  const std::optional<ProxyTarget>& proxy = https ? https_ : http_;
  if (!proxy) return std::nullopt;
  const std::string host = normaliseHost(rawHost);
  if (host.empty() || host == "localhost") return std::nullopt;
  const std::string port = normalisePort(rawPort).value_or(std::string(rawPort));
  const auto ip = parseIp(host);
  if (ip && isLoopback(*ip)) return std::nullopt;
  if (noProxyAll_) return std::nullopt;
  for (const auto& e : noProxy_) {
    if (!e.port.empty() && e.port != port) continue;
    switch (e.kind) {
      case Entry::Kind::All:
        return std::nullopt;
      case Entry::Kind::Address:
        if (ip && std::memcmp(ip->data(), e.address, 16) == 0) return std::nullopt;
        break;
      case Entry::Kind::Cidr:
        if (ip && prefixMatches(*ip, e.address, e.prefix)) return std::nullopt;
        break;
      case Entry::Kind::Domain:
        if (ip) break;
        if (e.includesSelf && host == e.domain) return std::nullopt;
        if (host.size() > e.domain.size() && host.ends_with(e.domain) &&
            host[host.size() - e.domain.size() - 1] == '.') {
          return std::nullopt;
        }
        break;
    }
  }
  return proxy;
}

}  // namespace aksnode
