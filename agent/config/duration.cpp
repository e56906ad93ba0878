#include "agent/config/duration.h"

#include <array>
#include <cctype>
#include <limits>

#include "agent/config/quote.h"

namespace aksnode {
namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// A decimal number "123" or "1.25" at the front of text.
struct Number {
  std::string_view integerDigits;
  std::string_view fractionDigits;
  std::size_t length = 0;  // characters consumed
};

// Reads digits[.digits]; fails when there are no integer digits or a '.' has no digits after it.
bool readNumber(std::string_view text, Number& out) {
  std::size_t i = 0;
  while (i < text.size() && isDigit(text[i])) ++i;
  if (i == 0) return false;
  out.integerDigits = text.substr(0, i);
  out.fractionDigits = {};
  if (i < text.size() && text[i] == '.') {
    const std::size_t start = ++i;
    while (i < text.size() && isDigit(text[i])) ++i;
    if (i == start) return false;
    out.fractionDigits = text.substr(start, i - start);
  }
  out.length = i;
  return true;
}

// "<expected>, got \"<text>\"", then " (<why>)" when there is a reason.
std::string expectedError(std::string_view expected, std::string_view text, std::string_view why) {
  std::string message(expected);
  message += ", got ";
  message += quoteForMessage(text);
  if (!why.empty()) {
    message += " (";
    message += why;
    message += ")";
  }
  return message;
}

std::string durationError(std::string_view text, std::string_view why = {}) {
  return expectedError(kDurationExpected, text, why);
}

struct DurationUnit {
  std::string_view name;
  std::int64_t milliseconds;
};
// Largest first: the order parts must appear in. "ms" precedes "m" so the longer name wins.
constexpr std::array<DurationUnit, 4> kDurationUnits{{
    {"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}, {"ms", 1}}};

// Index into kDurationUnits of the unit at the front of text, or -1.
int readDurationUnit(std::string_view text, std::size_t& length) {
  if (text.starts_with("ms")) {
    length = 2;
    return 3;
  }
  if (text.empty()) return -1;
  length = 1;
  switch (text.front()) {
    case 'h': return 0;
    case 'm': return 1;
    case 's': return 2;
    default: return -1;
  }
}

}  // namespace

Result<Duration> parseDuration(std::string_view text) {
  using Out = Result<Duration>;
  if (text.empty()) return Out::failure(durationError(text, "empty"));
  if (text.front() == '-') {
    return Out::failure(durationError(text, "negative durations are not allowed"));
  }
  constexpr std::int64_t kMax = kMaxDuration.count();
  std::int64_t total = 0;
  int previousUnit = -1;
  std::string_view rest = text;
  while (!rest.empty()) {
    Number number;
    if (!readNumber(rest, number)) return Out::failure(durationError(text));
    rest.remove_prefix(number.length);
    std::size_t unitLength = 0;
    const int unit = readDurationUnit(rest, unitLength);
    if (unit < 0) {
      return Out::failure(
          durationError(text, rest.empty() ? "missing unit: ms, s, m or h" : "unknown unit"));
    }
    if (unit <= previousUnit) {
      return Out::failure(durationError(text, "units must each appear once, largest first"));
    }
    previousUnit = unit;
    rest.remove_prefix(unitLength);

    const std::int64_t unitMs = kDurationUnits[static_cast<std::size_t>(unit)].milliseconds;
    // Integer part: stop as soon as it exceeds the maximum, so no arithmetic can overflow.
    std::int64_t whole = 0;
    for (char c : number.integerDigits) {
      whole = whole * 10 + (c - '0');
      if (whole > kMax) return Out::failure(durationError(text, "too long"));
    }
    if (whole > (kMax - total) / unitMs) return Out::failure(durationError(text, "too long"));
    total += whole * unitMs;
    // Fraction: at most 9 digits, so digits * unitMs (< 10^9 * 3.6e6) fits in 64 bits.
    if (!number.fractionDigits.empty()) {
      if (number.fractionDigits.size() > 9) {
        return Out::failure(durationError(text, "too many decimal places"));
      }
      std::int64_t fraction = 0;
      std::int64_t scale = 1;
      for (char c : number.fractionDigits) {
        fraction = fraction * 10 + (c - '0');
        scale *= 10;
      }
      const std::int64_t scaled = fraction * unitMs;
      if (scaled % scale != 0) {
        return Out::failure(durationError(text, "finer than a millisecond"));
      }
      if (scaled / scale > kMax - total) return Out::failure(durationError(text, "too long"));
      total += scaled / scale;
    }
  }
  return Out::success(Duration{total});
}

std::string formatDuration(Duration duration) {
  std::int64_t ms = duration.count();
  if (ms == 0) return "0s";
  std::string out;
  // Negative values are not produced by the parser; written for diagnostics only. The magnitude
  // is taken part by part so that the minimum int64 does not overflow.
  const bool negative = ms < 0;
  if (negative) out += '-';
  for (const DurationUnit& unit : kDurationUnits) {
    std::int64_t count = ms / unit.milliseconds;
    ms %= unit.milliseconds;
    if (count == 0) continue;
    if (count < 0) count = -count;
    out += std::to_string(count);
    out += unit.name;
  }
  return out;
}

namespace {

std::string bytesError(std::string_view text, std::string_view why = {}) {
  return expectedError(kBytesExpected, text, why);
}

struct ByteSuffix {
  std::string_view name;
  std::uint64_t multiplier;
};
constexpr std::uint64_t power(std::uint64_t base, int exponent) {
  std::uint64_t result = 1;
  for (int i = 0; i < exponent; ++i) result *= base;
  return result;
}
constexpr std::uint64_t kKi = 1024;
constexpr std::uint64_t kK = 1000;
// Binary first: formatBytes prefers them; parseBytes matches whole suffixes so order is free.
constexpr std::array<ByteSuffix, 12> kByteSuffixes{{
    {"Ei", power(kKi, 6)}, {"Pi", power(kKi, 5)}, {"Ti", power(kKi, 4)}, {"Gi", power(kKi, 3)}, {"Mi", power(kKi, 2)},
    {"Ki", kKi},           {"E", power(kK, 6)},   {"P", power(kK, 5)},   {"T", power(kK, 4)},   {"G", power(kK, 3)},
    {"M", power(kK, 2)},   {"k", kK},
}};

// 128-bit arithmetic keeps "digits * multiplier" exact before the range check.
__extension__ using Uint128 = unsigned __int128;

}  // namespace

Result<std::uint64_t> parseBytes(std::string_view text) {
  using Out = Result<std::uint64_t>;
  if (text.empty()) return Out::failure(bytesError(text, "empty"));
  if (text.front() == '-') return Out::failure(bytesError(text, "negative sizes are not allowed"));
  Number number;
  if (!readNumber(text, number)) return Out::failure(bytesError(text));
  const std::string_view suffixText = text.substr(number.length);
  std::uint64_t multiplier = 1;
  if (!suffixText.empty()) {
    bool found = false;
    for (const ByteSuffix& suffix : kByteSuffixes) {
      if (suffix.name == suffixText) {
        multiplier = suffix.multiplier;
        found = true;
        break;
      }
    }
    if (!found) {
      return Out::failure(bytesError(text, "unknown suffix; use Ki Mi Gi Ti Pi Ei or k M G T P E"));
    }
  }
  constexpr Uint128 kMax = std::numeric_limits<std::uint64_t>::max();
  Uint128 whole = 0;
  for (char c : number.integerDigits) {
    whole = whole * 10 + static_cast<Uint128>(c - '0');
    if (whole > kMax) return Out::failure(bytesError(text, "too large"));
  }
  Uint128 total = whole * multiplier;  // < 2^64 * 2^60: fits
  if (total > kMax) return Out::failure(bytesError(text, "too large"));
  if (!number.fractionDigits.empty()) {
    // 18 digits keep fraction * multiplier below 10^18 * 2^60 < 2^128.
    if (number.fractionDigits.size() > 18) {
      return Out::failure(bytesError(text, "too many decimal places"));
    }
    Uint128 fraction = 0;
    Uint128 scale = 1;
    for (char c : number.fractionDigits) {
      fraction = fraction * 10 + static_cast<Uint128>(c - '0');
      scale *= 10;
    }
    // Round a part of a byte up, as Kubernetes does for quantities.
    total += (fraction * multiplier + scale - 1) / scale;
    if (total > kMax) return Out::failure(bytesError(text, "too large"));
  }
  return Out::success(static_cast<std::uint64_t>(total));
}

std::string formatBytes(std::uint64_t bytes) {
  // The exact suffix with the smallest number in front wins ("10G", not "9765625Ki"); binary
  // suffixes come first in the table, so they win ties.
  std::uint64_t best = bytes;
  std::string_view bestSuffix;
  if (bytes != 0) {
    for (const ByteSuffix& suffix : kByteSuffixes) {
      if (bytes % suffix.multiplier == 0 && bytes / suffix.multiplier < best) {
        best = bytes / suffix.multiplier;
        bestSuffix = suffix.name;
      }
    }
  }
  return std::to_string(best) + std::string(bestSuffix);
}

}  // namespace aksnode
