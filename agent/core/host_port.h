#pragma once
// The one way to take "host:port" apart and put it together: the metrics.address validator,
// NO_PROXY entries, proxy and origin addresses, the in-cluster API server URL. Callers add
// their own rules on top (an IP address only, a port required, a port of 1 or more).
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace aksnode {

struct HostPortText {
  std::string_view host;                 // without the brackets of "[v6]"
  std::optional<std::string_view> port;  // the text after the colon ("" for "host:"), if any
  bool bracketed = false;                // written as "[host]"
};

// "host:port", "[v6]:port", "host", "[v6]", or an IPv6 address without brackets (then all of it
// is the host: no port is possible). nullopt for a '[' without its ']' or for anything but
// ":port" after the ']'. The parts are not checked.
inline std::optional<HostPortText> splitHostPort(std::string_view text) {
  HostPortText out;
  if (text.starts_with('[')) {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = text.substr(1, close - 1);
    out.bracketed = true;
    const std::string_view rest = text.substr(close + 1);
    if (rest.empty()) return out;
    if (rest.front() != ':') return std::nullopt;
    out.port = rest.substr(1);
    return out;
  }
  if (std::count(text.begin(), text.end(), ':') != 1) {
    out.host = text;
    return out;
  }
  const std::size_t colon = text.find(':');
  out.host = text.substr(0, colon);
  out.port = text.substr(colon + 1);
  return out;
}

// A port written in decimal, 0..65535, without sign or spaces (at most 5 digits: "08080").
inline std::optional<std::uint16_t> parsePortNumber(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

// "host:port", with an IPv6 address in brackets ("[fd00::1]:443"); a host already in brackets
// is kept as it is.
inline std::string joinHostPort(std::string_view host, std::string_view port) {
  const bool bracket = host.find(':') != std::string_view::npos && !host.starts_with('[');
  std::string out;
  out.reserve(host.size() + port.size() + 3);
  if (bracket) out += '[';
  out += host;
  if (bracket) out += ']';
  out += ':';
  out += port;
  return out;
}

}  // namespace aksnode
