#pragma once
// ${VAR} and ${VAR:-default} in configuration values (docs/configuration.md), from an injectable
// environment so tests never touch the process environment.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace aksnode {

// Looks a variable up: its value, or nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment (getenv).
EnvLookup processEnvironment();
// An environment with no variables at all.
EnvLookup emptyEnvironment();

// The longest text expansion produces; beyond it the value is refused (a hostile environment
// must not blow up memory through nested defaults).
inline constexpr std::size_t kMaxExpandedLength = 1 << 20;

// Expands one scalar value, with shell (bash) semantics:
//   ${VAR}            the value of VAR; "" when VAR is unset (as bash does without `set -u`)
//   ${VAR:-default}   the value of VAR when set and non-empty, else default; default may itself
//                     contain ${...} (expanded only when used) and may be empty: ${VAR:-}
//   $$                a literal "$"
//   $ followed by anything else is kept as it is ("a$b" stays "a$b").
// Errors: an unterminated "${", an empty or invalid name (names are [A-Za-z_][A-Za-z0-9_]*),
// an operator other than ":-", defaults nested deeper than 8, a result over kMaxExpandedLength.
Result<std::string> expandEnvironment(std::string_view text, const EnvLookup& env);

// Escapes text so that expandEnvironment returns it unchanged ("$" -> "$$").
std::string escapeForExpansion(std::string_view text);

}  // namespace aksnode
