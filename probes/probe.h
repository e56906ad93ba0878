#pragma once
// What every health probe (disk, cache, identity) reports, and how the agent runs it.
// The app calls check() every `healthInterval` on the event loop; results feed the
// node's desired state (conditions, taints), /status, --once and the metrics.
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <string>
#include <vector>

#include "agent/core/time_source.h"
#include "probes/probe_spec.h"

namespace aksnode {

struct ProbeResult {
  std::string kind;    // spec->kind: "disk", "cache" or "identity"
  std::string target;  // the configured path, or the token file
  bool healthy = true;
  std::string reason;   // CamelCase cause when unhealthy (LowSpace, ReadOnly, TokenExpired, ...)
  std::string message;  // human-readable; never contains a token
  SystemTime at{};
  boost::json::object details;  // numbers for /status and --once (free bytes, latency, ...)
  // When unhealthy and the config asks for it (and spec->mayTaint), the node gets
  // aks-node-agent/disk-unhealthy.
  bool taintWhenUnhealthy = false;
  // The probe's Node surface (condition, Events, taint). Every probe sets it (forSpec); a
  // result without one shows on no condition and records no Event.
  const ProbeSpec* spec = nullptr;

  static ProbeResult forSpec(const ProbeSpec& s) {
    ProbeResult r;
    r.kind = s.kind;
    r.spec = &s;
    return r;
  }
};

// The one JSON shape of a result, in /status `probes` and the --once report (probe.cpp).
boost::json::object probeResultJson(const ProbeResult& r);

// The Event messages of a probe with one result per configured path (disk, cache):
// "<kind> <target> <reason>: <message>" and "<kind> <target> is healthy again". Inline: the
// probe libraries point their specs at them without linking aksnode_probes.
inline std::string targetUnhealthyEventMessage(const ProbeResult& r) {
  return r.kind + " " + r.target + " " + r.reason + ": " + r.message;
}
inline std::string targetRecoveredEventMessage(const ProbeResult& r) {
  return r.kind + " " + r.target + " is healthy again";
}

class HealthCheck {
 public:
  virtual ~HealthCheck() = default;
  virtual const ProbeSpec& spec() const = 0;
  // One round over every target of this probe. Must finish in bounded time and never
  // block the event loop thread (blocking I/O goes to a worker with a deadline).
  // Also updates the probe's own metrics.
  virtual boost::asio::awaitable<std::vector<ProbeResult>> check() = 0;
};

}  // namespace aksnode
