#pragma once
// Durations ("500ms", "2s", "5m", "1h", "1m30s") and byte sizes ("200Gi", "10G", "1024") as
// they appear in the configuration (docs/configuration.md), parsed from untrusted text.
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/config/config.h"
#include "agent/core/result.h"

namespace aksnode {

// Every duration error message starts with this (docs/interface.md quotes it).
inline constexpr std::string_view kDurationExpected = "expected a duration like 30s";
// Every byte size error message starts with this.
inline constexpr std::string_view kBytesExpected = "expected a byte size like 200Gi";

// Ten years: long enough for any setting, short enough that converting to nanoseconds or adding
// to a time point can never overflow.
inline constexpr Duration kMaxDuration{10LL * 365 * 24 * 3600 * 1000};

// One or more <number><unit> parts, units ms, s, m, h, each at most once and largest first
// ("1h30m", "1m30s", "2s500ms"); a number may have a decimal fraction ("1.5s") as long as the
// total is a whole number of milliseconds. "0s" is fine. Rejected: an empty string, a sign,
// spaces, a number without a unit, unknown units, more than kMaxDuration.
Result<Duration> parseDuration(std::string_view text);

// The shortest text parseDuration reads back as the same value: "0s", "500ms", "1m30s", "2h".
// Negative values (never produced by parseDuration) are written with a leading "-".
std::string formatDuration(Duration duration);

// A Kubernetes-style quantity of bytes: a non-negative decimal number with an optional suffix,
// binary Ki Mi Gi Ti Pi Ei (powers of 1024) or decimal k M G T P E (powers of 1000).
// "1.5Ti" is fine; a fraction of a byte is rounded up (as Kubernetes does). Rejected: signs,
// exponents, spaces, unknown suffixes, more than 2^64-1 bytes.
Result<std::uint64_t> parseBytes(std::string_view text);

// Text parseBytes reads back as the same value, with the exact suffix that leaves the smallest
// number (binary on a tie): 0 -> "0", 1024 -> "1Ki", 1649267441664 -> "1536Gi", 10^10 -> "10G".
std::string formatBytes(std::uint64_t bytes);

}  // namespace aksnode
