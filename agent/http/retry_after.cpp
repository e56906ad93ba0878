#include "agent/http/retry_after.h"

#include <algorithm>

#include "agent/core/ascii.h"
#include "agent/http/http_date.h"

namespace aksnode {

namespace {
constexpr std::chrono::seconds kCap = std::chrono::hours(24);
}

std::optional<std::chrono::seconds> parseRetryAfter(std::string_view value, SystemTime now) {
  while (!value.empty() && ascii::isSpace(value.front())) value.remove_prefix(1);
  while (!value.empty() && ascii::isSpace(value.back())) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), ascii::isDigit)) {
    long long seconds = 0;
    for (char c : value) {
      seconds = seconds * 10 + (c - '0');
      if (seconds >= kCap.count()) return kCap;  // also stops overflow on a long digit string
    }
    return std::chrono::seconds(seconds);
  }
  // Only the RFC 1123 family: an HTTP-date is never ISO 8601.
  const std::optional<SystemTime> at = parseRfc1123Date(value);
  if (!at) return std::nullopt;
  if (*at <= now) return std::chrono::seconds(0);
  const auto wait = std::chrono::ceil<std::chrono::seconds>(*at - now);
  return std::min<std::chrono::seconds>(wait, kCap);
}

}  // namespace aksnode
