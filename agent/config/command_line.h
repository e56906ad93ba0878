#pragma once
// The command line of docs/interface.md, parsed without side effects: the caller decides
// what to print and which exit code to use (2 for any error here).
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "agent/config/config.h"
#include "agent/config/env_expand.h"
#include "agent/core/result.h"
#include "agent/core/logging.h"

namespace aksnode {

struct CommandLine {
  std::optional<std::string> configPath;  // --config FILE; unset = built-in defaults
  std::optional<std::string> nodeName;    // --node-name NAME; see resolveNodeName
  bool dryRun = false;                    // --dry-run
  bool once = false;                      // --once
  bool checkConfig = false;               // --check-config
  log::Level logLevel = log::Level::Info;    // --log-level trace|debug|info|warn|error
  log::Format logFormat = log::Format::Json;  // --log-format json|text
  bool version = false;                   // --version
  bool help = false;                      // --help, -h

  bool operator==(const CommandLine&) const = default;
};

// Parses the arguments after the program name. Flags with a value take it as the next argument
// or after "=" (--config=/etc/agent.yaml). Errors, one message each: an unknown flag (with the
// closest known flag suggested), a missing or empty value, a value given to a flag without one,
// a bad --log-level or --log-format, a flag given twice, a positional argument.
Result<CommandLine> parseCommandLine(std::span<const std::string_view> args);
// Same, from main's argc/argv (argv[0], the program name, is skipped).
Result<CommandLine> parseCommandLine(int argc, const char* const* argv);

// The --help text: usage and every flag with its meaning. Ends with a newline.
std::string commandLineHelp(std::string_view programName);

// Whether a Kubernetes API server is configured: a kubeconfig in the config, or the in-cluster
// environment (KUBERNETES_SERVICE_HOST set and non-empty).
bool kubernetesConfigured(const Config& config, const EnvLookup& env);

// The node name (docs/interface.md): --node-name, else the config's nodeName, else env
// NODE_NAME; the first non-empty one wins and must be a valid Kubernetes node name. With none,
// "" is fine only for --once without Kubernetes (nothing to act on); otherwise an error.
Result<std::string> resolveNodeName(const CommandLine& cli, const Config& config, const EnvLookup& env);

// For --check-config, which needs no node name but must refuse every one a run would refuse
// (it passed `--node-name $'a\nb'` that the agent then refused): when no name is given or
// the given one is valid (success), else resolveNodeName's reason.
Result<void> checkNodeNameIfGiven(const CommandLine& cli, const Config& config, const EnvLookup& env);

}  // namespace aksnode
