#include "agent/config/command_line.h"

#include <algorithm>
#include <vector>

#include "agent/config/quote.h"
#include "agent/config/suggest.h"
#include "agent/config/validators.h"

namespace aksnode {
namespace {

enum class FlagId { Config, NodeName, DryRun, Once, CheckConfig, LogLevel, LogFormat, Version, Help };

struct Flag {
  FlagId id;
  std::string_view name;
  std::string_view valueName;  // "" for a flag without a value
  std::string_view help;
};

constexpr Flag kFlags[] = {
    {FlagId::Config, "--config", "FILE", "YAML configuration; without it, built-in defaults apply"},
    {FlagId::NodeName, "--node-name", "NAME",
     "Kubernetes node name; default: nodeName in the config, then env NODE_NAME"},
    {FlagId::DryRun, "--dry-run", "", "decide and log every action, change nothing (no API writes, no IMDS approval)"},
    {FlagId::Once, "--once", "", "run every probe once, print a JSON report, exit 0 if all healthy, else 1"},
    {FlagId::CheckConfig, "--check-config", "", "validate the configuration, print the effective config, exit 0 or 2"},
    {FlagId::LogLevel, "--log-level", "LEVEL", "trace, debug, info, warn or error (default info)"},
    {FlagId::LogFormat, "--log-format", "FORMAT", "json or text (default json)"},
    {FlagId::Version, "--version", "", "print version, git commit, build type and target architecture"},
    {FlagId::Help, "--help", "", "print this help (also -h)"},
};

const Flag* findFlag(std::string_view name) {
  if (name == "-h") name = "--help";
  for (const Flag& flag : kFlags) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

std::string unknownFlag(std::string_view name) {
  std::vector<std::string_view> names;
  for (const Flag& flag : kFlags) names.push_back(flag.name);
  std::string message = "unknown flag " + quoteForMessage(name);
  if (const auto suggestion = closestMatch(name, names)) message += "; did you mean " + *suggestion + "?";
  return message + " (see --help)";
}

}  // namespace

Result<CommandLine> parseCommandLine(std::span<const std::string_view> args) {
  using Out = Result<CommandLine>;
  CommandLine cli;
  std::vector<FlagId> seen;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (!arg.starts_with("-") || arg == "-" ) {
      return Out::failure("unexpected argument " + quoteForMessage(arg) + " (see --help)");
    }
    const std::size_t equals = arg.find('=');
    const std::string_view name = arg.substr(0, equals);
    const Flag* flag = findFlag(name);
    if (flag == nullptr) return Out::failure(unknownFlag(name));
    if (std::find(seen.begin(), seen.end(), flag->id) != seen.end()) {
      return Out::failure(std::string(flag->name) + " given more than once");
    }
    seen.push_back(flag->id);

    std::string value;
    if (flag->valueName.empty()) {
      if (equals != std::string_view::npos) return Out::failure(std::string(flag->name) + " takes no value");
    } else if (equals != std::string_view::npos) {
      value = std::string(arg.substr(equals + 1));
    } else {
      // "--config --once" is a forgotten value, not a file named "--once".
      if (i + 1 == args.size() || args[i + 1].starts_with("--")) {
        return Out::failure(std::string(flag->name) + " needs a value: " + std::string(flag->name) + " " +
                               std::string(flag->valueName));
      }
      value = std::string(args[++i]);
    }
    if (!flag->valueName.empty() && value.empty()) {
      return Out::failure(std::string(flag->name) + " needs a non-empty value");
    }

    switch (flag->id) {
      case FlagId::Config: cli.configPath = value; break;
      case FlagId::NodeName: cli.nodeName = value; break;
      case FlagId::DryRun: cli.dryRun = true; break;
      case FlagId::Once: cli.once = true; break;
      case FlagId::CheckConfig: cli.checkConfig = true; break;
      case FlagId::LogLevel:
        if (!log::parseLevel(value, cli.logLevel)) {
          return Out::failure("--log-level: expected trace, debug, info, warn or error, got " + quoteForMessage(value));
        }
        break;
      case FlagId::LogFormat:
        if (!log::parseFormat(value, cli.logFormat)) {
          return Out::failure("--log-format: expected json or text, got " + quoteForMessage(value));
        }
        break;
      case FlagId::Version: cli.version = true; break;
      case FlagId::Help: cli.help = true; break;
    }
  }
  return Out::success(std::move(cli));
}

Result<CommandLine> parseCommandLine(int argc, const char* const* argv) {
  std::vector<std::string_view> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i] != nullptr ? argv[i] : "");
  return parseCommandLine(std::span<const std::string_view>(args));
}

std::string commandLineHelp(std::string_view programName) {
  std::string text = "Usage: " + std::string(programName) + " [flags]\n\n";
  text +=
      "Watches Azure IMDS Scheduled Events and cordons/drains this Kubernetes node before a spot\n"
      "eviction or maintenance; checks local disks, caches and Azure Workload Identity; exports\n"
      "Prometheus metrics.\n\nFlags (--flag VALUE or --flag=VALUE):\n";
  for (const Flag& flag : kFlags) {
    std::string left = "  " + std::string(flag.name);
    if (!flag.valueName.empty()) left += " " + std::string(flag.valueName);
    left.resize(std::max<std::size_t>(left.size() + 2, 26), ' ');
    text += left + std::string(flag.help) + "\n";
  }
  text += "\nExit codes: 0 success, 1 runtime failure, 2 invalid configuration or flags.\n";
  return text;
}

bool kubernetesConfigured(const Config& config, const EnvLookup& env) {
  if (!config.kubernetes.kubeconfig.empty()) return true;
  const std::optional<std::string> host = env("KUBERNETES_SERVICE_HOST");
  return host && !host->empty();
}

Result<std::string> resolveNodeName(const CommandLine& cli, const Config& config, const EnvLookup& env) {
  using Out = Result<std::string>;
  std::string name;
  std::string source;
  if (cli.nodeName && !cli.nodeName->empty()) {
    name = *cli.nodeName;
    source = "--node-name";
  } else if (!config.nodeName.empty()) {
    name = config.nodeName;
    source = "nodeName";
  } else if (const auto fromEnv = env("NODE_NAME"); fromEnv && !fromEnv->empty()) {
    name = *fromEnv;
    source = "NODE_NAME";
  }
  if (!name.empty()) {
    if (!isDnsSubdomain(name)) {
      return Out::failure(source + ": expected a Kubernetes node name (lowercase letters, digits, '-' and '.'), got " +
                             quoteForMessage(name));
    }
    return Out::success(std::move(name));
  }
  if (cli.once && !kubernetesConfigured(config, env)) return Out::success("");
  return Out::failure(
      "no node name: pass --node-name, set nodeName in the config, or set NODE_NAME (downward API "
      "spec.nodeName); only --once without Kubernetes runs without one");
}

Result<void> checkNodeNameIfGiven(const CommandLine& cli, const Config& config, const EnvLookup& env) {
  const auto fromEnv = env("NODE_NAME");
  const bool given = (cli.nodeName && !cli.nodeName->empty()) || !config.nodeName.empty() || (fromEnv && !fromEnv->empty());
  if (!given) return Result<void>::success();
  auto name = resolveNodeName(cli, config, env);
  return name ? Result<void>::success() : Result<void>::failure(name.error());
}

}  // namespace aksnode
