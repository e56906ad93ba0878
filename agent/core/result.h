#pragma once
// The outcome of an operation that can fail with a human-readable reason: a value, or the
// message saying why not. The one result type of the agent (std::expected is C++23).
//
//   Result<Duration> parseDuration(std::string_view);     // Result<T>::success(v) / failure(msg)
//   Result<void> checkSomething(...);                       // Result<void>::success() / failure(msg)
//   if (auto r = parse(text)) use(r.value()); else report(r.error());
#include <optional>
#include <string>
#include <utility>

namespace aksnode {

template <typename T>
class Result {
 public:
  static Result success(T value) {
    Result result;
    result.value_ = std::move(value);
    return result;
  }
  static Result failure(std::string error) {
    Result result;
    result.error_ = std::move(error);
    return result;
  }

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  // Only meaningful when ok().
  const T& value() const& { return *value_; }
  T& value() & { return *value_; }
  T&& value() && { return std::move(*value_); }
  const T* operator->() const { return &*value_; }
  T* operator->() { return &*value_; }
  const T& operator*() const { return *value_; }
  T& operator*() { return *value_; }
  // Only meaningful when !ok().
  const std::string& error() const { return error_; }

 private:
  Result() = default;
  std::optional<T> value_;
  std::string error_;
};

template <>
class Result<void> {
 public:
  static Result success() { return Result(); }
  static Result failure(std::string error) {
    Result result;
    result.ok_ = false;
    result.error_ = std::move(error);
    return result;
  }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok(); }
  // Only meaningful when !ok().
  const std::string& error() const { return error_; }

 private:
  Result() = default;
  bool ok_ = true;
  std::string error_;
};

}  // namespace aksnode
