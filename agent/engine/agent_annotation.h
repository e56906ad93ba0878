#pragma once
// The `aks-node-agent/state` annotation (docs/interface.md, "What the agent writes on the Node"):
// what the agent did to the node for which event. It is the agent's memory across restarts: a new
// agent reads it to resume a drain, and to know which cordon it may undo (only one it made itself).
#include <optional>
#include <string>

#include "agent/core/time_source.h"

namespace aksnode {

// The Node annotation that holds the agent's own state (serializeAnnotation below).
inline constexpr const char* kAnnotationState = "aks-node-agent/state";

// Ordered: a phase never goes back for the same event (max() merges local and live).
enum class ActionPhase { Cordoned = 0, Draining = 1, Drained = 2, Acknowledged = 3, Failed = 4 };
const char* toString(ActionPhase phase);
std::optional<ActionPhase> actionPhaseFromString(const std::string& s);

struct AgentAnnotation {
  std::string eventId;
  std::string eventType;
  ActionPhase phase = ActionPhase::Cordoned;
  SystemTime since{};
  bool cordonedByAgent = false;
  bool operator==(const AgentAnnotation&) const = default;
};

// Compact JSON: {"eventId":..,"eventType":..,"phase":..,"since":"RFC 3339","cordonedByAgent":..}
std::string serializeAnnotation(const AgentAnnotation& a);
// nullopt unless the text is that JSON with the right types.
std::optional<AgentAnnotation> parseAnnotation(const std::string& text);

}  // namespace aksnode
