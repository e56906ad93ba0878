#pragma once
// The four variables the Azure Workload Identity webhook injects, checked against the
// `identity:` configuration. Missing variables mean the webhook did not mutate the pod
// (no azure.workload.identity/use label, a kube-system pod, webhook down); a variable that
// disagrees with the config means the agent would check a different identity than the
// SDKs in the pod use.
#include <functional>
#include <optional>
#include <string>

#include "agent/config/config.h"
#include "agent/config/env_expand.h"

namespace aksnode::identity {

// The environment is injected as the config loader's aksnode::EnvLookup (std::nullopt when
// unset; processEnvironment() in production), so tests need no setenv and the check stays
// a pure function.
using aksnode::EnvLookup;

// Not a Result<...>: the effective values are needed whether or not there is a problem
// (IdentityProbe reads the token file at tokenFile even when a variable is missing).
struct IdentityEnvironment {
  // Effective values: the config's when set, else the environment's.
  std::string tokenFile;
  std::string clientId;
  std::string tenantId;
  std::string authorityHost;  // always ends with '/'
  // "" when consistent; otherwise why not (names variables and config keys, no secrets).
  std::string problem;
  bool ok() const { return problem.empty(); }
};

IdentityEnvironment inspectEnvironment(const IdentityConfig& config, const EnvLookup& env);

}  // namespace aksnode::identity
