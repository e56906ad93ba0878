#pragma once
// The outcome of parsing one untrusted value: the value, or a human-readable reason why not.
// (std::expected is C++23; this is the small subset the configuration code needs.)
#include <optional>
#include <string>
#include <utility>

namespace aksnode {

template <typename T>
class ParseResult {
 public:
  static ParseResult success(T value) {
    ParseResult result;
    result.value_ = std::move(value);
    return result;
  }
  static ParseResult failure(std::string error) {
    ParseResult result;
    result.error_ = std::move(error);
    return result;
  }

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  // Only meaningful when ok().
  const T& value() const { return *value_; }
  T& value() { return *value_; }
  // Only meaningful when !ok().
  const std::string& error() const { return error_; }

 private:
  ParseResult() = default;
  std::optional<T> value_;
  std::string error_;
};

}  // namespace aksnode
