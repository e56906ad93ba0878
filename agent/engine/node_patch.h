#pragma once
// From (live Node, desired Node) to the smallest patches that get there. Pure.
//  * spec/metadata: one strategic-merge patch carrying metadata.resourceVersion, so the API
//    server refuses it (409) if the Node changed since it was read: spec.taints has no merge
//    key and is replaced whole, so it is rebuilt from the live list, keeping every taint the
//    agent does not own exactly as it was (timeAdded included).
//  * status: conditions merge by type on nodes/status, sent only for conditions that changed
//    (status, reason or message) or whose heartbeat is older than kConditionHeartbeat.
#include <boost/json/value.hpp>

#include <chrono>
#include <optional>
#include <vector>

#include "agent/engine/desired_state.h"
#include "agent/engine/node_view.h"

namespace aksnode {

inline constexpr std::chrono::minutes kConditionHeartbeat{5};

struct NodePatch {
  boost::json::value patch;     // strategic merge patch for the Node
  bool cordons = false;         // unschedulable false -> true
  bool uncordons = false;       // true -> false
  std::vector<std::string> taintsAdded;    // "key=value:effect"
  std::vector<std::string> taintsRemoved;  // keys
};

std::optional<NodePatch> buildNodePatch(const NodeView& live, const DesiredNode& desired);

struct ConditionPatch {
  boost::json::value patch;  // {"status":{"conditions":[...]}}
  std::vector<std::string> changedTypes;  // transitions and message changes, not heartbeats
};

std::optional<ConditionPatch> buildConditionPatch(const NodeView& live, const std::vector<DesiredCondition>& desired,
                                                  SystemTime now);

}  // namespace aksnode
