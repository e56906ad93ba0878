#pragma once
// Parsers for one configuration value: the expanded text of a scalar in, the value or the
// message that follows "path: " out ("expected true or false, got \"yes\""). Generic (types,
// ranges, shapes); the checks that belong to one key live in config_values.h.
#include <charconv>
#include <cmath>
#include <optional>
#include <string>

#include "agent/config/config.h"
#include "agent/config/duration.h"
#include "agent/config/quote.h"
#include "agent/config/utf8.h"
#include "agent/config/validators.h"
#include "agent/core/result.h"

namespace aksnode::config_reader {

// ", got \"<text>\"": the tail of every value error.
inline std::string got(const std::string& text) { return ", got " + quoteForMessage(text); }

// "<expected>, got ..." unless ok; text itself otherwise.
inline Result<std::string> textIf(bool ok, const std::string& text, const std::string& expected) {
  return ok ? Result<std::string>::success(text) : Result<std::string>::failure(expected + got(text));
}

// Any UTF-8 text without control characters.
inline Result<std::string> anyText(const std::string& text) {
  return textIf(isCleanText(text), text, "expected UTF-8 text without control characters");
}

// YAML 1.2 core schema booleans; YAML 1.1's yes/no/on/off are ambiguous and refused.
inline Result<bool> parseBool(const std::string& text) {
  if (text == "true" || text == "True" || text == "TRUE") return Result<bool>::success(true);
  if (text == "false" || text == "False" || text == "FALSE") return Result<bool>::success(false);
  return Result<bool>::failure("expected true or false" + got(text));
}

// A text check as a parser: ok when check(text) holds, else "expected <what>, got ...".
template <typename Check>
auto textWhere(Check check, std::string expected) {
  return [=](const std::string& text) { return textIf(check(text), text, expected); };
}

// A finite number of type T in [min, max].
template <typename T>
auto numberIn(T min, T max, std::string expected) {
  return [=](const std::string& text) -> Result<T> {
    T value{};
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(static_cast<double>(value)) ||
        value < min || value > max) {
      return Result<T>::failure(expected + got(text));
    }
    return Result<T>::success(value);
  };
}
inline auto integerIn(long long min, long long max, std::string expected) {
  return [parse = numberIn<long long>(min, max, std::move(expected))](const std::string& text) -> Result<int> {
    Result<long long> parsed = parse(text);
    if (!parsed) return Result<int>::failure(parsed.error());
    return Result<int>::success(static_cast<int>(parsed.value()));
  };
}

// A duration in [min, max]; why explains a minimum above zero.
inline auto durationIn(Duration min, Duration max = kMaxDuration, std::string why = {}) {
  return [=](const std::string& text) -> Result<Duration> {
    Result<Duration> parsed = parseDuration(text);
    if (!parsed) return parsed;
    if (parsed.value() > max) {
      return Result<Duration>::failure("expected a duration of at most " + formatDuration(max) + got(text));
    }
    if (parsed.value() >= min) return parsed;
    std::string message = min == Duration{1} ? "expected a duration greater than 0s"
                                              : "expected a duration of at least " + formatDuration(min);
    if (!why.empty()) message += " (" + why + ")";
    return Result<Duration>::failure(message + got(text));
  };
}
inline auto anyDuration() { return durationIn(Duration{0}); }
inline auto positiveDuration() { return durationIn(Duration{1}); }

// An http(s) URL (checkHttpUrl with rules); "" too when allowEmpty.
inline auto httpUrl(HttpUrlRules rules, std::string example, bool allowEmpty) {
  return [=](const std::string& text) -> Result<std::string> {
    if (allowEmpty && text.empty()) return Result<std::string>::success(text);
    if (const auto url = checkHttpUrl(text, rules); !url) {
      return Result<std::string>::failure("expected an http(s) URL like " + example + got(text) + " (" + url.error() +
                                          ")");
    }
    return Result<std::string>::success(text);
  };
}

// One of an enum's spellings, read by fromString; expected lists them.
template <typename E>
auto oneOf(std::optional<E> (*fromString)(const std::string&), std::string expected) {
  return [=](const std::string& text) -> Result<E> {
    if (const std::optional<E> value = fromString(text)) return Result<E>::success(*value);
    return Result<E>::failure(expected + got(text));
  };
}

}  // namespace aksnode::config_reader
