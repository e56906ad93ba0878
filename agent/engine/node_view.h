#pragma once
// The parts of a live Node object the engine reads. Parsed defensively from the API server's
// JSON (kube_json.h): a field of the wrong type reads as absent, never as a crash.
#include <boost/json/value.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/result.h"
#include "agent/engine/agent_annotation.h"

namespace aksnode {

inline constexpr const char* kTaintScheduledEvent = "aks-node-agent/scheduled-event";
inline constexpr const char* kTaintDiskUnhealthy = "aks-node-agent/disk-unhealthy";
inline constexpr const char* kTaintOutOfService = "node.kubernetes.io/out-of-service";

struct Taint {
  std::string key;
  std::string value;
  std::string effect;
  bool operator==(const Taint&) const = default;
};

struct NodeCondition {
  std::string type;
  std::string status;  // "True" / "False" / "Unknown"
  std::string reason;
  std::string message;
  std::string lastHeartbeatTime;   // RFC 3339 as written by the API server
  std::string lastTransitionTime;
};

struct NodeView {
  std::string name;
  std::string uid;
  std::string resourceVersion;
  std::string providerID;
  bool unschedulable = false;
  boost::json::array taints;  // raw, so that others' taints (timeAdded, ...) are written back untouched
  std::optional<AgentAnnotation> agentState;  // our annotation, when present and readable
  bool agentStateUnreadable = false;          // present but not our JSON: overwritten on next action
  std::map<std::string, NodeCondition> conditions;

  bool hasTaint(const std::string& key) const;
  std::optional<Taint> findTaint(const std::string& key) const;
};

// A failure, saying why, when `node` cannot be read faithfully: not an object,
// no metadata.name or metadata.resourceVersion, or a field the agent rewrites (spec.taints,
// spec.unschedulable, metadata.annotations) of the wrong shape. The agent patches the Node from
// what it read (taints are rebuilt from the live list, the resourceVersion is the concurrency
// check), so a Node it cannot read exactly must never be patched: with `spec.taints` an object
// it used to write back only its own taint, deleting everyone else's.
Result<NodeView> parseNodeView(const boost::json::value& node);

}  // namespace aksnode
