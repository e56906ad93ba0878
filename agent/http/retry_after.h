#pragma once
// The Retry-After header (RFC 9110 section 10.2.3), for the IMDS and Kubernetes clients alike.
#include <chrono>
#include <optional>
#include <string_view>

#include "agent/core/time_source.h"

namespace aksnode {

// The wait Retry-After asks for, counted from `now`:
//   delay-seconds  "120"                             -> 120 s
//   HTTP-date      "Wed, 21 Oct 2015 07:28:00 GMT"   -> that time minus now, rounded up; 0 if past
// Surrounding whitespace is ignored; anything else (negative, fractional, junk) is nullopt.
// Values are capped at one day so that callers can add them to time points without overflow;
// each caller applies its own, smaller cap.
std::optional<std::chrono::seconds> parseRetryAfter(std::string_view value, SystemTime now);

}  // namespace aksnode
