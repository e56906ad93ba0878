#pragma once
// Checks for the shapes of configuration strings: URLs, host:port, Kubernetes names, paths.
// Pure functions on untrusted text; the loader turns their answers into key-path errors, and the
// app reuses parseHostPort to bind the metrics server.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace aksnode {

struct HostPort {
  std::string host;  // an IPv4 address, or an IPv6 address without brackets
  std::uint16_t port = 0;
  bool operator==(const HostPort&) const = default;
};

// "host:port" with port 0..65535 and an IP address as host: "0.0.0.0:9810", "[::1]:9810".
// The host is required (use 0.0.0.0 or [::] for every interface). Names ("localhost:9810")
// are refused: nothing resolves them. The one parser for metrics.address, used by the config
// loader (--check-config and start-up, exit 2) and by the metrics server when it binds.
Result<HostPort> parseHostPort(std::string_view text);

struct HttpUrlRules {
  bool allowPath = true;  // false: only "" or "/" after the authority
  bool allowQuery = false;  // webhook URLs carry their credential in the query (Teams: sig=...)
};
// Success when text is an absolute http:// or https:// URL with a host, no user info, no query
// (unless rules.allowQuery) and no fragment (and a valid port if any); else why not. The reason
// never quotes the text (a webhook URL is a credential).
Result<void> checkHttpUrl(std::string_view text, HttpUrlRules rules = {});

// A URL as it may be shown: scheme and authority kept, anything after them (the path and query
// that carry a webhook's credential) replaced by "/[redacted]"; "[redacted]" when text is not a
// URL at all.
std::string redactedUrl(std::string_view text);

// RFC 1123 host name: dot-separated labels of letters, digits and '-', 1..253 characters.
bool isHostName(std::string_view text);
// Kubernetes object names (node names): lowercase RFC 1123 subdomain, at most 253 characters.
bool isDnsSubdomain(std::string_view text);
// Kubernetes namespace names: lowercase RFC 1123 label, at most 63 characters.
bool isDnsLabel(std::string_view text);

// Starts with "/" and contains no control characters.
bool isAbsolutePath(std::string_view text);
// The path with "." segments, repeated and trailing slashes removed (for duplicate detection):
// "/mnt//a/./b/" -> "/mnt/a/b". Does not resolve "..", which may cross a symlink.
std::string normalizePathForComparison(std::string_view path);

}  // namespace aksnode
