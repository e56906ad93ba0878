#pragma once
// Reading and writing the timestamps IMDS puts in NotBefore.
//
// Microsoft documents NotBefore as RFC 1123 ("Mon, 19 Sep 2016 18:29:47 GMT"), but its own mock
// server (Azure-Samples/scheduled-events-mock-server) writes ISO 8601 ("2026-11-26T19:20:10Z"),
// so both are read. Parsing is strict about ranges (month 1-12, a day that exists in that month,
// 00:00:00-23:59:60, years 1900-2199) and about trailing garbage, but ignores the day-of-week
// name: Microsoft's own sample says "Mon, 11 Apr 2026", a Saturday, and a wrong weekday is no
// reason to lose an eviction notice.
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/time_source.h"

namespace aksnode {

// Accepts, after trimming surrounding whitespace:
//   RFC 1123 / RFC 822:  "Tue, 09 Aug 2022 17:07:32 GMT"  (weekday optional and ignored, 1- or
//                        2-digit day, month names in any case, seconds optional, zone GMT, UT,
//                        UTC, Z, +hhmm or +hh:mm, or none = UTC)
//   RFC 850:             "Tuesday, 09-Aug-22 17:07:32 GMT" (two-digit year: 70-99 = 19xx, else 20xx)
//   asctime:             "Tue Aug  9 17:07:32 2022"        (UTC)
//   ISO 8601 / RFC 3339: "2022-08-09T17:07:32Z", "2022-08-09 17:07:32.123456+01:00",
//                        "2022-08-09T17:07:32" (no zone = UTC), "T"/"t"/space separator,
//                        fractional seconds with '.' or ',' (digits past nanoseconds dropped),
//                        offsets +hh:mm, +hhmm, +hh, Z/z.
// Anything else is nullopt. Never throws.
std::optional<SystemTime> parseHttpDate(std::string_view text);

// The same, for one format family only (tests, and callers that know what they expect).
std::optional<SystemTime> parseRfc1123Date(std::string_view text);  // RFC 1123, RFC 850, asctime
std::optional<SystemTime> parseIso8601Date(std::string_view text);

// "2026-11-26T19:20:10Z": UTC, whole seconds (rounded down), as Kubernetes writes times; with
// fractionDigits (1 to 9) that many digits of the second, rounded down ("…:10.123456Z", a
// Kubernetes MicroTime with 6). The one RFC 3339 formatter of the agent.
std::string formatRfc3339(SystemTime t, int fractionDigits = 0);
// The same for whole seconds since the epoch (a JWT's exp, iat, nbf), years 0 to 9999.
std::string formatRfc3339(std::chrono::sys_seconds t);
// "Thu, 26 Nov 2026 19:20:10 GMT": what IMDS documents for NotBefore (used by tests and fakes).
std::string formatRfc1123(SystemTime t);

}  // namespace aksnode
