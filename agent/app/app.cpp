#include "agent/app/app.h"

#include <cstdlib>
#include <iostream>

#include "agent/app/agent_runtime.h"
#include "agent/app/once_report.h"
#include "agent/config/command_line.h"
#include "agent/config/config_loader.h"
#include "agent/config/env_expand.h"
#include "agent/core/logging.h"
#include "build_info.h"

namespace aksnode {

namespace {
constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;
constexpr int kExitConfig = 2;

std::string envOr(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}
}  // namespace

int runMain(int argc, char** argv) {
  auto cli = parseCommandLine(argc, argv);
  if (!cli) {
    std::cerr << "aks-node-agent: " << cli.error() << "\n" << "try --help\n";
    return kExitConfig;
  }
  const CommandLine& args = cli.value();
  if (args.help) {
    std::cout << commandLineHelp("aks-node-agent");
    return kExitOk;
  }
  if (args.version) {
    std::cout << "aks-node-agent " << build::kVersion << " (commit " << build::kCommit << ", " << build::kBuildType
              << ", " << build::kArch << ")\n";
    return kExitOk;
  }
  log::init(args.logLevel, args.logFormat);

  const EnvLookup env = processEnvironment();
  ConfigLoadResult loaded;
  if (args.configPath) {
    loaded = loadConfigFile(*args.configPath, env);
  } else {
    loaded = loadConfigString("", env);
  }
  if (!loaded.ok()) {
    std::cerr << "aks-node-agent: invalid configuration" << (args.configPath ? " in " + *args.configPath : "") << ":\n"
              << loaded.errorText() << "\n";
    return kExitConfig;
  }
  if (args.checkConfig) {
    // One validator for both: a node name the agent would refuse fails the check too.
    if (const Result<void> name = checkNodeNameIfGiven(args, loaded.config, env); !name) {
      std::cerr << "aks-node-agent: " << name.error() << "\n";
      return kExitConfig;
    }
    std::cout << printEffectiveConfig(loaded.config, ConfigSecrets::Redacted);  // webhook URLs are credentials
    return kExitOk;
  }

  auto nodeName = resolveNodeName(args, loaded.config, env);
  if (args.once) {
    return runOnce(loaded.config, nodeName ? nodeName.value() : std::string());
  }
  if (!nodeName) {
    std::cerr << "aks-node-agent: " << nodeName.error() << "\n";
    return kExitConfig;
  }

  RuntimeOptions options;
  options.config = loaded.config;
  options.nodeName = nodeName.value();
  options.dryRun = args.dryRun;
  options.ownPodNamespace = envOr("POD_NAMESPACE");
  options.ownPodName = envOr("POD_NAME");
  AgentRuntime runtime(std::move(options));
  if (std::string error = runtime.start(); !error.empty()) {
    log::error("cannot start", {{"error", error}});
    return kExitRuntime;
  }
  return runtime.run();
}

}  // namespace aksnode
