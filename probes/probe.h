#pragma once
// What every health probe (disk, cache, identity) reports, and how the agent runs it.
// The app calls check() every `healthInterval` on the event loop; results feed the
// node's desired state (conditions, taints), /status, --once and the metrics.
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <string>
#include <vector>

#include "agent/core/time_source.h"

namespace aksnode {

struct ProbeResult {
  std::string kind;    // "disk", "cache" or "identity"
  std::string target;  // the configured path, or the token file
  bool healthy = true;
  std::string reason;   // CamelCase cause when unhealthy (LowSpace, ReadOnly, TokenExpired, ...)
  std::string message;  // human-readable; never contains a token
  SystemTime at{};
  boost::json::object details;  // numbers for /status and --once (free bytes, latency, ...)
  // When unhealthy and the config asks for it, the node gets aks-node-agent/disk-unhealthy.
  bool taintWhenUnhealthy = false;
};

class HealthCheck {
 public:
  virtual ~HealthCheck() = default;
  virtual std::string kind() const = 0;
  // One round over every target of this probe. Must finish in bounded time and never
  // block the event loop thread (blocking I/O goes to a worker with a deadline).
  // Also updates the probe's own metrics.
  virtual boost::asio::awaitable<std::vector<ProbeResult>> check() = 0;
};

}  // namespace aksnode
