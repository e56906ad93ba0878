#include "agent/config/env_expand.h"

#include <cstdlib>

#include "agent/config/quote.h"

namespace aksnode {

EnvLookup processEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    // getenv is only racy against setenv, which the agent never calls.
    const char* value = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe)
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

EnvLookup emptyEnvironment() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

namespace {

constexpr int kMaxNesting = 8;

bool isNameStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool isNameChar(char c) { return isNameStart(c) || (c >= '0' && c <= '9'); }

class Expander {
 public:
  explicit Expander(const EnvLookup& env) : env_(env) {}

  // Appends the expansion of text to out; false (with error_ set) on failure.
  bool expand(std::string_view text, std::string& out, int depth) {
    if (depth > kMaxNesting) return fail("${...} defaults nested more than 8 deep");
    std::size_t i = 0;
    while (i < text.size()) {
      const char c = text[i];
      if (c != '$' || i + 1 == text.size()) {
        if (!append(out, std::string_view(&text[i], 1))) return false;
        ++i;
        continue;
      }
      const char next = text[i + 1];
      if (next == '$') {
        if (!append(out, "$")) return false;
        i += 2;
        continue;
      }
      if (next != '{') {
        if (!append(out, "$")) return false;
        ++i;
        continue;
      }
      // "${" ... matching "}", counting nested "${" in defaults.
      const std::size_t bodyStart = i + 2;
      const std::size_t close = findClose(text, bodyStart);
      if (close == std::string_view::npos) {
        return fail("unterminated \"${\" in " + quoteForMessage(text));
      }
      if (!expandReference(text.substr(bodyStart, close - bodyStart), out, depth)) return false;
      i = close + 1;
    }
    return true;
  }

  const std::string& error() const { return error_; }

 private:
  // Index of the "}" closing a "${" whose body starts at `from`, or npos.
  static std::size_t findClose(std::string_view text, std::size_t from) {
    int open = 1;
    for (std::size_t i = from; i < text.size(); ++i) {
      if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '$') {
        ++i;  // "$$" is an escaped dollar, not the start of a reference
      } else if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
        ++open;
        ++i;
      } else if (text[i] == '}' && --open == 0) {
        return i;
      }
    }
    return std::string_view::npos;
  }

  // body is what stands between "${" and its "}".
  bool expandReference(std::string_view body, std::string& out, int depth) {
    std::size_t nameEnd = 0;
    while (nameEnd < body.size() && isNameChar(body[nameEnd])) ++nameEnd;
    const std::string name(body.substr(0, nameEnd));
    if (name.empty() || !isNameStart(name.front())) {
      return fail("invalid variable name in " + quoteForMessage("${" + std::string(body) + "}"));
    }
    const std::string_view rest = body.substr(nameEnd);
    const std::optional<std::string> value = env_(name);
    if (rest.empty()) return append(out, value.value_or(""));
    if (!rest.starts_with(":-")) {
      return fail("unsupported expansion " + quoteForMessage("${" + std::string(body) + "}") +
                  ": use ${VAR} or ${VAR:-default}");
    }
    if (value && !value->empty()) return append(out, *value);
    return expand(rest.substr(2), out, depth + 1);
  }

  bool append(std::string& out, std::string_view piece) {
    if (out.size() + piece.size() > kMaxExpandedLength) {
      return fail("expanded value is longer than 1 MiB");
    }
    out += piece;
    return true;
  }

  bool fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }

  const EnvLookup& env_;
  std::string error_;
};

}  // namespace

Result<std::string> expandEnvironment(std::string_view text, const EnvLookup& env) {
  // The common case, no "$" at all, costs one scan.
  if (text.find('$') == std::string_view::npos) {
    return Result<std::string>::success(std::string(text));
  }
  Expander expander(env);
  std::string out;
  if (!expander.expand(text, out, 0)) return Result<std::string>::failure(expander.error());
  return Result<std::string>::success(std::move(out));
}

std::string escapeForExpansion(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    out += c;
    if (c == '$') out += '$';
  }
  return out;
}

}  // namespace aksnode
