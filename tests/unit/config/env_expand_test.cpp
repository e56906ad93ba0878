#include "agent/config/env_expand.h"

#include <gtest/gtest.h>

#include <map>

namespace aksnode {
namespace {

EnvLookup fakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

struct Expansion {
  const char* text;
  const char* expected;
};

class ExpandGood : public testing::TestWithParam<Expansion> {};

TEST_P(ExpandGood, Expands) {
  const EnvLookup env = fakeEnv({{"NODE_NAME", "aks-pool-1"}, {"EMPTY", ""}, {"A", "x"}, {"DOLLAR", "$HOME${A}"}});
  const Result<std::string> result = expandEnvironment(GetParam().text, env);
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_EQ(result.value(), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Env, ExpandGood,
    testing::Values(Expansion{"plain", "plain"}, Expansion{"", ""}, Expansion{"${NODE_NAME}", "aks-pool-1"},
                    Expansion{"node-${NODE_NAME}-x", "node-aks-pool-1-x"},
                    // bash: unset without a default is "".
                    Expansion{"${UNSET}", ""}, Expansion{"a${UNSET}b", "ab"},
                    Expansion{"${UNSET:-fallback}", "fallback"}, Expansion{"${UNSET:-}", ""},
                    // bash ":-": set but empty also takes the default.
                    Expansion{"${EMPTY:-fallback}", "fallback"}, Expansion{"${EMPTY}", ""},
                    Expansion{"${NODE_NAME:-fallback}", "aks-pool-1"},
                    Expansion{"${UNSET:-https://login.microsoftonline.com/}", "https://login.microsoftonline.com/"},
                    Expansion{"${UNSET:-a:-b}", "a:-b"},
                    // Defaults may hold references, expanded only when used.
                    Expansion{"${UNSET:-${A}}", "x"}, Expansion{"${UNSET:-${UNSET2:-deep}}", "deep"},
                    Expansion{"${A:-${UNTERMINATED_BUT_UNUSED}}", "x"},
                    // "$$" escapes; a lone "$" is literal; values are never re-expanded.
                    Expansion{"$$", "$"}, Expansion{"$${A}", "${A}"}, Expansion{"a$b", "a$b"}, Expansion{"$", "$"},
                    Expansion{"5$", "5$"}, Expansion{"${DOLLAR}", "$HOME${A}"}, Expansion{"${UNSET:-$$}", "$"},
                    Expansion{"${A}${A}", "xx"}, Expansion{"{A}", "{A}"}, Expansion{"}", "}"}));

class ExpandBad : public testing::TestWithParam<const char*> {};

TEST_P(ExpandBad, IsAnError) {
  const Result<std::string> result = expandEnvironment(GetParam(), fakeEnv({{"A", "x"}}));
  EXPECT_FALSE(result.ok()) << "expanded to " << (result.ok() ? result.value() : "");
}

INSTANTIATE_TEST_SUITE_P(Env, ExpandBad,
                         testing::Values("${", "${A", "abc ${A", "${A:-x", "${}", "${1A}", "${A B}", "${A-x}",
                                         "${A:=x}", "${A:?x}", "${-x}", "${A:-${B}", "${UNSET:-${UNSET:-${"));

TEST(Expand, UnterminatedSaysSo) {
  const Result<std::string> result = expandEnvironment("${NODE_NAME", emptyEnvironment());
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().find("unterminated"), std::string::npos) << result.error();
}

TEST(Expand, NestingIsBounded) {
  std::string text;
  for (int i = 0; i < 20; ++i) text += "${U:-";
  text += "x";
  for (int i = 0; i < 20; ++i) text += "}";
  EXPECT_FALSE(expandEnvironment(text, emptyEnvironment()).ok());
}

TEST(Expand, ResultSizeIsBounded) {
  const std::string big(600'000, 'a');
  const EnvLookup env = fakeEnv({{"BIG", big}});
  EXPECT_TRUE(expandEnvironment("${BIG}", env).ok());
  const Result<std::string> twice = expandEnvironment("${BIG}${BIG}", env);
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().find("1 MiB"), std::string::npos);
}

TEST(Expand, LooksUpOnlyReferencedVariables) {
  std::vector<std::string> asked;
  const EnvLookup env = [&](const std::string& name) -> std::optional<std::string> {
    asked.push_back(name);
    return name == "SET" ? std::optional<std::string>("v") : std::nullopt;
  };
  ASSERT_TRUE(expandEnvironment("${SET:-${NOT_ASKED}}", env).ok());
  EXPECT_EQ(asked, std::vector<std::string>{"SET"});
}

TEST(Expand, ProcessEnvironmentReadsGetenv) {
  ASSERT_EQ(::setenv("AKSNODE_CONFIG_TEST_VAR", "from-env", 1), 0);
  const EnvLookup env = processEnvironment();
  EXPECT_EQ(env("AKSNODE_CONFIG_TEST_VAR"), std::optional<std::string>("from-env"));
  ASSERT_EQ(::unsetenv("AKSNODE_CONFIG_TEST_VAR"), 0);
  EXPECT_EQ(env("AKSNODE_CONFIG_TEST_VAR"), std::nullopt);
}

TEST(EscapeForExpansion, ExpandsBackToTheOriginal) {
  for (const char* text : {"", "plain", "$", "$$", "${A}", "a$b$", "${A:-x}", "}{$"}) {
    const Result<std::string> result = expandEnvironment(escapeForExpansion(text), fakeEnv({{"A", "x"}}));
    ASSERT_TRUE(result.ok()) << text << ": " << result.error();
    EXPECT_EQ(result.value(), text);
  }
}

}  // namespace
}  // namespace aksnode
