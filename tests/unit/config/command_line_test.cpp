#include "agent/config/command_line.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace aksnode {
namespace {

Result<CommandLine> parse(std::vector<std::string_view> args) {
  return parseCommandLine(std::span<const std::string_view>(args));
}

EnvLookup fakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(CommandLine, NoArgumentsGiveDefaults) {
  const Result<CommandLine> result = parse({});
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_EQ(result.value(), CommandLine{});
  EXPECT_EQ(result.value().configPath, std::nullopt);
  EXPECT_EQ(result.value().logLevel, log::Level::Info);
  EXPECT_EQ(result.value().logFormat, log::Format::Json);
}

TEST(CommandLine, EveryFlagInBothForms) {
  const Result<CommandLine> spaced =
      parse({"--config", "/etc/a.yaml", "--node-name", "aks-1", "--dry-run", "--once", "--check-config",
             "--log-level", "debug", "--log-format", "text", "--version", "--help"});
  ASSERT_TRUE(spaced.ok()) << spaced.error();
  CommandLine expected;
  expected.configPath = "/etc/a.yaml";
  expected.nodeName = "aks-1";
  expected.dryRun = true;
  expected.once = true;
  expected.checkConfig = true;
  expected.logLevel = log::Level::Debug;
  expected.logFormat = log::Format::Text;
  expected.version = true;
  expected.help = true;
  EXPECT_EQ(spaced.value(), expected);

  const Result<CommandLine> joined = parse({"--config=/etc/a.yaml", "--node-name=aks-1", "--dry-run", "--once",
                                                 "--check-config", "--log-level=debug", "--log-format=text",
                                                 "--version", "-h"});
  ASSERT_TRUE(joined.ok()) << joined.error();
  EXPECT_EQ(joined.value(), expected);
}

TEST(CommandLine, ValuesMayContainEquals) {
  const Result<CommandLine> result = parse({"--config=/tmp/a=b.yaml"});
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_EQ(result.value().configPath, "/tmp/a=b.yaml");
}

TEST(CommandLine, EveryLogLevel) {
  const std::pair<const char*, log::Level> levels[] = {{"trace", log::Level::Trace}, {"debug", log::Level::Debug},
                                                       {"info", log::Level::Info},   {"warn", log::Level::Warn},
                                                       {"error", log::Level::Error}};
  for (const auto& [text, level] : levels) {
    const Result<CommandLine> result = parse({"--log-level", text});
    ASSERT_TRUE(result.ok()) << text;
    EXPECT_EQ(result.value().logLevel, level) << text;
  }
}

struct BadArgs {
  std::vector<std::string_view> args;
  const char* message;
};

class CommandLineErrors : public testing::TestWithParam<BadArgs> {};

TEST_P(CommandLineErrors, AreReported) {
  const Result<CommandLine> result = parse(GetParam().args);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().find(GetParam().message), std::string::npos) << result.error();
}

INSTANTIATE_TEST_SUITE_P(
    Flags, CommandLineErrors,
    testing::Values(BadArgs{{"--confg", "a.yaml"}, "unknown flag \"--confg\"; did you mean --config?"},
                    BadArgs{{"--frobnicate"}, "unknown flag \"--frobnicate\""},
                    BadArgs{{"-x"}, "unknown flag"}, BadArgs{{"--dryrun"}, "did you mean --dry-run?"},
                    BadArgs{{"--config"}, "--config needs a value"},
                    BadArgs{{"--node-name"}, "--node-name needs a value"},
                    BadArgs{{"--config", "--once"}, "--config needs a value"},
                    BadArgs{{"--config="}, "--config needs a non-empty value"},
                    BadArgs{{"--log-level"}, "--log-level needs a value"},
                    BadArgs{{"--log-level", "loud"}, "--log-level: expected trace, debug, info, warn or error"},
                    BadArgs{{"--log-level=INFO"}, "--log-level: expected"},
                    BadArgs{{"--log-format", "xml"}, "--log-format: expected json or text"},
                    BadArgs{{"--once=true"}, "--once takes no value"},
                    BadArgs{{"--config", "a", "--config", "b"}, "--config given more than once"},
                    BadArgs{{"config.yaml"}, "unexpected argument \"config.yaml\""},
                    BadArgs{{"--once", "extra"}, "unexpected argument \"extra\""},
                    BadArgs{{"-"}, "unexpected argument"}));

TEST(CommandLine, ArgcArgvSkipsTheProgramName) {
  const char* argv[] = {"aks-node-agent", "--check-config", "--config", "/c.yaml"};
  const Result<CommandLine> result = parseCommandLine(4, argv);
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_TRUE(result.value().checkConfig);
  EXPECT_EQ(result.value().configPath, "/c.yaml");
}

TEST(CommandLine, HelpListsEveryFlag) {
  const std::string help = commandLineHelp("aks-node-agent");
  EXPECT_TRUE(help.starts_with("Usage: aks-node-agent"));
  for (const char* flag : {"--config FILE", "--node-name NAME", "--dry-run", "--once", "--check-config",
                           "--log-level LEVEL", "--log-format FORMAT", "--version", "--help"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag << " missing from\n" << help;
  }
  EXPECT_EQ(help.back(), '\n');
}

// ---- node name resolution ----

TEST(ResolveNodeName, FlagThenConfigThenEnvironment) {
  CommandLine cli;
  Config config;
  const EnvLookup env = fakeEnv({{"NODE_NAME", "from-env"}});
  EXPECT_EQ(resolveNodeName(cli, config, env).value(), "from-env");
  config.nodeName = "from-config";
  EXPECT_EQ(resolveNodeName(cli, config, env).value(), "from-config");
  cli.nodeName = "from-flag";
  EXPECT_EQ(resolveNodeName(cli, config, env).value(), "from-flag");
}

TEST(ResolveNodeName, EmptyValuesFallThrough) {
  CommandLine cli;
  Config config;
  config.nodeName = "";  // "${NODE_NAME}" with NODE_NAME unset
  EXPECT_EQ(resolveNodeName(cli, config, fakeEnv({{"NODE_NAME", "n1"}})).value(), "n1");
}

TEST(ResolveNodeName, RequiredUnlessOnceWithoutKubernetes) {
  CommandLine cli;
  Config config;
  const Result<std::string> missing = resolveNodeName(cli, config, emptyEnvironment());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("--node-name"), std::string::npos);

  cli.once = true;
  const Result<std::string> once = resolveNodeName(cli, config, emptyEnvironment());
  ASSERT_TRUE(once.ok()) << once.error();
  EXPECT_EQ(once.value(), "");

  // --once with an API server configured (in-cluster, or a kubeconfig) still needs the node.
  EXPECT_FALSE(resolveNodeName(cli, config, fakeEnv({{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}})).ok());
  config.kubernetes.kubeconfig = "/root/.kube/config";
  EXPECT_FALSE(resolveNodeName(cli, config, emptyEnvironment()).ok());
}

TEST(ResolveNodeName, RefusesInvalidNames) {
  CommandLine cli;
  cli.nodeName = "Bad_Node";
  const Result<std::string> result = resolveNodeName(cli, Config{}, emptyEnvironment());
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().find("--node-name: expected a Kubernetes node name"), std::string::npos) << result.error();
  EXPECT_FALSE(resolveNodeName(CommandLine{}, Config{}, fakeEnv({{"NODE_NAME", "has space"}})).ok());
}

// Issue 19: --check-config passed `--node-name $'a\nb'` that the agent then refused.
TEST(CheckNodeNameIfGiven, TheRunsValidatorWithoutRequiringAName) {
  Config config;
  CommandLine cli;
  EXPECT_TRUE(checkNodeNameIfGiven(cli, config, emptyEnvironment()).ok()) << "no name given: nothing to check";
  cli.nodeName = "a\nb";
  EXPECT_NE(checkNodeNameIfGiven(cli, config, emptyEnvironment()).error().find("--node-name"), std::string::npos);
  cli.nodeName = "aks-spot-1";
  EXPECT_TRUE(checkNodeNameIfGiven(cli, config, emptyEnvironment()).ok());
  cli.nodeName.reset();
  config.nodeName = "Bad_Name";
  EXPECT_NE(checkNodeNameIfGiven(cli, config, emptyEnvironment()).error().find("nodeName"), std::string::npos);
  config.nodeName.clear();
  EXPECT_NE(checkNodeNameIfGiven(cli, config, fakeEnv({{"NODE_NAME", "x y"}})).error().find("NODE_NAME"), std::string::npos);
}

TEST(KubernetesConfigured, KubeconfigOrInCluster) {
  Config config;
  EXPECT_FALSE(kubernetesConfigured(config, emptyEnvironment()));
  EXPECT_FALSE(kubernetesConfigured(config, fakeEnv({{"KUBERNETES_SERVICE_HOST", ""}})));
  EXPECT_TRUE(kubernetesConfigured(config, fakeEnv({{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}})));
  config.kubernetes.kubeconfig = "/k";
  EXPECT_TRUE(kubernetesConfigured(config, emptyEnvironment()));
}

}  // namespace
}  // namespace aksnode
