#pragma once
// Every health probe the agent knows, in one table (health_checks.cpp): the engine writes their
// conditions from allProbeSpecs(), and the running agent and --once build their probes with
// makeHealthChecks, so both run the same set.
#include <memory>
#include <vector>

#include "agent/config/config.h"
#include "agent/http/http_client.h"
#include "agent/core/time_source.h"
#include "probes/probe.h"

namespace aksnode {

class Metrics;

// What the probes are built from (each takes what it needs).
struct HealthCheckDeps {
  Metrics& metrics;
  const TimeSource& time;
  HttpClient& identityHttp;  // Entra ID, OIDC discovery, JWKS: through the proxy variables
};

// The probes `config` enables (spec->monitored), in allProbeSpecs() order.
std::vector<std::unique_ptr<HealthCheck>> makeHealthChecks(const Config& config, const HealthCheckDeps& deps);

}  // namespace aksnode
