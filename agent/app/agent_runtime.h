#pragma once
// The running agent: everything wired together on one io_context. start() runs the named
// start-up steps in this order (AgentRuntime::start() in agent_runtime.cpp); run() turns the
// loop until SIGTERM/SIGINT.
//
//   handleSignals        SIGTERM/SIGINT: stop everything, exit within 2 s (first: a signal
//                        during start-up is not lost)
//   startMetricsServer   /metrics /healthz /readyz /status (early: probes can see us)
//   connectKubernetes    in-cluster or kubeconfig; absent = IMDS and metrics only
//   startNotifier        webhook workers (agent/notify), fed by the engine's Events
//   startEngine          the reconcile loop (desired node state -> live node)
//   discoverVm           the VM name events must carry (config, IMDS compute.name, providerID)
//   startImdsPolling     Scheduled Events every pollInterval -> ActionEngine::setPending
//   startHealthProbes    disk, cache, identity every healthInterval -> ActionEngine::setHealth
//   tickLoop             the /healthz tick; resolves the VM name from the node's providerID
#include <memory>
#include <string>

#include "agent/config/config.h"

namespace aksnode {

struct RuntimeOptions {
  Config config;
  std::string nodeName;
  bool dryRun = false;
  std::string ownPodNamespace;  // POD_NAMESPACE
  std::string ownPodName;       // POD_NAME
};

class AgentRuntime {
 public:
  explicit AgentRuntime(RuntimeOptions options);
  ~AgentRuntime();
  // Returns "" or why the agent cannot start (exit code 1): e.g. the metrics port is taken.
  std::string start();
  // Runs until a signal; returns the process exit code.
  int run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace aksnode
