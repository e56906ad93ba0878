#pragma once
// The two scheduled-event conditions the agent shares the Node with others (AKS's
// node-problem-detector writes VMEventScheduled and may write PreemptionScheduled; Karpenter's
// Azure provider acts on PreemptionScheduled). Pure.
//
// * Shapes: the agent writes node-problem-detector's reasons and message shapes, so that both
//   writers agree on the value and nobody flips lastTransitionTime:
//     VMEventScheduled     True  VMEventScheduled      "<EventType> Scheduled: <NotBefore, RFC 1123>. EventId: <id>"
//                          False NoVMEventScheduled    "VM has no scheduled event"
//     PreemptionScheduled  True  SpotEvictionIncoming  "Preempt Scheduled: <NotBefore, RFC 1123>. EventId: <id>"
//                          False NoPreemptionScheduled (two fixed messages of the agent's)
// * Ownership: a live condition whose reason/message is not one the agent writes (nor wrote
//   before version 14 of these rules) belongs to another writer: the agent leaves it alone
//   (unless conditions.vmEventScheduled is `always`) and reports it as yielded.
// * Agreement: a live True naming a pending event of the right type in the shared shape
//   satisfies the agent even when it would have named another pending event or spelled the
//   date differently: two writers must not fight over which event to show.
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/engine/node_view.h"
#include "probes/scheduled_events/event_tracker.h"

namespace aksnode {

inline constexpr const char* kVmEventCondition = "VMEventScheduled";
inline constexpr const char* kPreemptionCondition = "PreemptionScheduled";
inline constexpr const char* kVmEventReason = "VMEventScheduled";
inline constexpr const char* kNoVmEventReason = "NoVMEventScheduled";
inline constexpr const char* kNoVmEventMessage = "VM has no scheduled event";
inline constexpr const char* kPreemptReason = "SpotEvictionIncoming";
inline constexpr const char* kNoPreemptReason = "NoPreemptionScheduled";
inline constexpr const char* kNoPreemptMessage = "No Preempt event is pending for this VM";
inline constexpr const char* kPreemptAfterDrainMessage =
    "A Preempt event is pending; True once its drain has ended (conditions.preemptionScheduled: afterDrain)";

// "<EventType> Scheduled: <NotBefore, RFC 1123>. EventId: <id>" (the deadline when NotBefore
// is empty or unreadable).
std::string scheduledEventMessage(const PendingEvent& event);
// The EventId a shared-shape message names ("" when the text is not in that shape).
std::string eventIdInMessage(const std::string& message, const std::string& eventType = "");

struct DesiredCondition {
  std::string type;
  bool status = false;
  std::string reason;
  std::string message;
};

// What the engine knows when deciding who owns a condition.
struct ConditionContext {
  const std::vector<PendingEvent>* pending = nullptr;
  std::set<std::string> preemptsDrained;  // Preempt ids whose drain has ended (drained, failed, acknowledged)
  // onDetect: the agent itself sets True for a Preempt still draining.
  PreemptionConditionMode preemptionMode = PreemptionConditionMode::AfterDrain;
};

// True when `live` is a value the agent itself writes (or wrote with earlier rules).
bool agentWrites(const NodeCondition& live, const ConditionContext& context);

struct YieldedCondition {
  std::string type;
  std::string status;
  std::string reason;
  std::string message;
};

// Applies conditions.vmEventScheduled/preemptionScheduled and the ownership rules to the
// desired conditions: drops those the agent must not write (recording the foreign ones in
// `yielded`) and, where the live value already agrees, takes the live message.
void applyConditionOwnership(const NodeView& live, const ConditionContext& context, const ConditionsConfig& config,
                             std::vector<DesiredCondition>& desired, std::vector<YieldedCondition>& yielded);

}  // namespace aksnode
