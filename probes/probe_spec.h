#pragma once
// What a health probe shows on the Node, owned by the probe (disk_probe.cpp, cache_probe.cpp,
// identity_probe.cpp) so the engine needs no edit for a new one: the engine loops over the specs
// for conditions and the disk-unhealthy taint, and reads a result's spec for its Events.
// The texts are the external contract (docs/interface.md): keep them as they are.
#include <span>
#include <string>

namespace aksnode {

struct Config;
struct ProbeResult;

struct ProbeSpec {
  const char* kind;  // ProbeResult::kind: "disk", "cache", "identity" (/status, --once, logs)
  // The Node condition: True while one of this probe's results fails (reason and message from
  // the first failing one), False with these while all pass.
  const char* conditionType;
  const char* healthyReason;
  const char* healthyMessage;
  // The Node Events when a debounced result flips: Warning `unhealthyEvent`, Normal `recoveredEvent`.
  const char* unhealthyEvent;
  std::string (*unhealthyEventMessage)(const ProbeResult&);
  const char* recoveredEvent;
  std::string (*recoveredEventMessage)(const ProbeResult&);
  // A failing result with taintWhenUnhealthy may put aks-node-agent/disk-unhealthy on the Node.
  bool mayTaint;
  // Configured: its probe runs and its condition is written. Not configured: a condition left
  // True by an earlier configuration is set False (NotMonitored).
  bool (*monitored)(const Config&);
};

// Every probe's spec, configured or not, in the order their conditions are written
// (probes/health_checks.cpp, which also builds the probes).
std::span<const ProbeSpec* const> allProbeSpecs();

}  // namespace aksnode
