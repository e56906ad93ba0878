#include "agent/config/validators.h"

#include <boost/url/ipv4_address.hpp>
#include <boost/url/ipv6_address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <vector>

#include "agent/config/quote.h"
#include "agent/core/host_port.h"

namespace aksnode {
namespace {

bool isLower(char c) { return c >= 'a' && c <= 'z'; }
bool isUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }

// One RFC 1123 label: 1..63 of [A-Za-z0-9-] (lowercase only when lowercaseOnly), no '-' at
// either end.
bool isLabel(std::string_view label, bool lowercaseOnly) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    const bool ok = isLower(c) || isDigit(c) || c == '-' || (!lowercaseOnly && isUpper(c));
    if (!ok) return false;
  }
  return true;
}

bool isDottedName(std::string_view text, bool lowercaseOnly) {
  if (text.empty() || text.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = text.find('.', start);
    const std::string_view label = text.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (!isLabel(label, lowercaseOnly)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

}  // namespace

bool isHostName(std::string_view text) { return isDottedName(text, false); }
bool isDnsSubdomain(std::string_view text) { return isDottedName(text, true); }
bool isDnsLabel(std::string_view text) { return isLabel(text, true); }

Result<HostPort> parseHostPort(std::string_view text) {
  using Out = Result<HostPort>;
  const std::string expected =
      "expected host:port with an IP address like 0.0.0.0:9810, 127.0.0.1:9810 or [::]:9810 (port 0 to 65535), got " +
      quoteForMessage(text);
  const std::optional<HostPortText> split = splitHostPort(text);
  if (!split) return Out::failure(expected);
  HostPort out;
  if (split->bracketed) {
    if (!split->port) return Out::failure(expected);
    if (!boost::urls::parse_ipv6_address(split->host)) {
      return Out::failure(expected + " (not an IPv6 address in the brackets)");
    }
    out.host = std::string(split->host);
  } else {
    const std::string_view host = split->host;
    if (host.find(':') != std::string_view::npos) {
      return Out::failure(expected + " (write IPv6 addresses in brackets)");
    }
    if (!split->port || host.empty()) return Out::failure(expected);
    // An IP address, never a name: the server binds without resolving anything, so a name
    // accepted here would only fail later, at start-up.
    const bool ipv4 = static_cast<bool>(boost::urls::parse_ipv4_address(host));
    if (!ipv4 && host.find_first_not_of("0123456789.") == std::string_view::npos) {
      return Out::failure(expected + " (bad IPv4 address)");
    }
    if (!ipv4 && isHostName(host)) {
      return Out::failure(expected + " (a name is not resolved: write an IP address, e.g. 127.0.0.1 for " +
                             quoteForMessage(host) + ")");
    }
    if (!ipv4) return Out::failure(expected + " (bad host)");
    out.host = std::string(host);
  }
  const std::optional<std::uint16_t> port = parsePortNumber(*split->port);
  if (!port) return Out::failure(expected + " (bad port)");
  out.port = *port;
  return Out::success(std::move(out));
}

Result<void> checkHttpUrl(std::string_view text, HttpUrlRules rules) {
  const auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) return Result<void>::failure("not a URL");
  const boost::urls::url_view url = *parsed;
  if (url.scheme_id() != boost::urls::scheme::http && url.scheme_id() != boost::urls::scheme::https) {
    return Result<void>::failure("the scheme must be http or https");
  }
  if (!url.has_authority() || url.encoded_host().empty()) return Result<void>::failure("no host");
  if (url.has_userinfo()) return Result<void>::failure("user info (user@) is not allowed");
  switch (url.host_type()) {
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::ipv6:
      break;
    case boost::urls::host_type::name:
      if (!isHostName(url.encoded_host())) return Result<void>::failure("bad host name");
      break;
    default:
      return Result<void>::failure("bad host");
  }
  if (url.has_port() && !parsePortNumber(url.port())) return Result<void>::failure("bad port");
  if (url.has_query() && !rules.allowQuery) return Result<void>::failure("a query (?...) is not allowed");
  if (url.has_fragment()) return Result<void>::failure("a fragment (#...) is not allowed");
  if (!rules.allowPath && !url.encoded_path().empty() && url.encoded_path() != "/") {
    return Result<void>::failure("a path is not allowed");
  }
  return Result<void>::success();
}

std::string redactedUrl(std::string_view text) {
  const auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed || !parsed->has_authority()) return "[redacted]";
  const boost::urls::url_view url = *parsed;
  if (url.has_userinfo()) return std::string(url.scheme()) + "://[redacted]";
  std::string out = std::string(url.scheme()) + "://" + std::string(url.encoded_host_and_port());
  const bool more = (!url.encoded_path().empty() && url.encoded_path() != "/") || url.has_query() || url.has_fragment();
  return more ? out + "/[redacted]" : out;
}

bool isAbsolutePath(std::string_view text) {
  if (!text.starts_with('/')) return false;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return false;
  }
  return true;
}

std::string normalizePathForComparison(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    const std::string_view segment = path.substr(start, slash - start);
    if (!segment.empty() && segment != ".") segments.push_back(segment);
    start = slash + 1;
  }
  std::string out;
  for (std::string_view segment : segments) {
    out += '/';
    out += segment;
  }
  if (out.empty()) out = "/";
  return out;
}

}  // namespace aksnode
