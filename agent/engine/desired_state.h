#pragma once
// The heart of the engine, as one pure function: from what the probes observe now (pending
// scheduled events for this VM, debounced disk/cache/identity results) and the live Node,
// compute the Node the agent wants: its own taints, cordon, the state annotation, conditions,
// and whether a drain or an acknowledgement must run. The reconciler then moves the live Node
// toward it. Being level-triggered, a restart, a lost update or an event that changes its id
// heal on the next pass: nothing here depends on remembering what happened before, except
// the annotation on the Node itself and the phase the engine reached locally.
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/engine/agent_annotation.h"
#include "agent/engine/condition_shapes.h"
#include "agent/engine/node_view.h"
#include "probes/probe.h"
#include "probes/scheduled_events/event_tracker.h"

namespace aksnode {

// After a Preempt/Terminate event vanished while the VM still runs, keep the node cordoned
// this long before undoing: a fatal event usually ends with the VM, and an IMDS list that is
// briefly empty must not uncordon a node that is about to die.
inline constexpr std::chrono::minutes kFatalUndoAfter{10};

// The event the agent acts on, and how.
struct ActiveEvent {
  PendingEvent pending;
  EventAction action = EventAction::None;
};

struct DesiredNode {
  std::optional<ActiveEvent> active;            // the event driving node actions, if any
  std::vector<Taint> taints;                    // agent-owned taints that must be present
  std::vector<std::string> ownedTaintKeys;      // taint keys the agent manages (others kept as they are)
  std::optional<bool> unschedulable;            // nullopt = leave spec.unschedulable alone
  std::optional<AgentAnnotation> annotation;    // nullopt = the annotation must be absent
  std::vector<DesiredCondition> conditions;     // empty when conditions are disabled
  std::vector<YieldedCondition> yielded;        // conditions left to another writer (condition_shapes.h)
  bool drain = false;                           // a drain must be running for active->pending.event
  bool acknowledge = false;                     // StartRequests must be sent for it
  bool undo = false;                            // this pass removes what the agent did
};

struct EngineInputs {
  const std::vector<PendingEvent>* pending = nullptr;
  const std::vector<ProbeResult>* health = nullptr;  // debounced, one per target
  // The probes whose conditions the engine writes (set False when not configured): every one
  // the agent has; a test passes its own.
  std::span<const ProbeSpec* const> probeSpecs = allProbeSpecs();
  std::string vmName;
  // Phases the engine reached locally, by event id (drain finished before the annotation
  // write landed, or the API server is down): merged with the annotation, highest wins.
  const std::map<std::string, ActionPhase>* localPhases = nullptr;
  // False until the first good IMDS document read with the VM's name known: until then an empty
  // `pending` is no news (a restarted agent must not undo a drain before IMDS answered).
  bool eventsKnown = true;
  // When the engine first found the annotated event no longer pending, by event id: the
  // kFatalUndoAfter window runs from there (from the annotation's `since` when unknown).
  const std::map<std::string, SystemTime>* endedAt = nullptr;
};

// The pending event with the strongest configured action (drain > cordon > notify),
// earliest deadline first among equals. nullopt when nothing is pending.
std::optional<ActiveEvent> chooseActiveEvent(const std::vector<PendingEvent>& pending, const Config& config);

DesiredNode computeDesiredNode(const EngineInputs& inputs, const NodeView& live, const Config& config, SystemTime now);

// The conditions as the agent would write them: PreemptionScheduled (per
// conditions.preemptionScheduled), VMEventScheduled, then each configured probe's
// (ProbeSpec::conditionType). computeDesiredNode then applies the ownership rules.
std::vector<DesiredCondition> computeConditions(const EngineInputs& inputs, const NodeView& live, const Config& config);

// Preempt event ids whose drain has ended (drained, failed or acknowledged), from the node's
// annotation and the phases reached locally.
std::set<std::string> preemptsWithDrainEnded(const EngineInputs& inputs, const NodeView& live);

}  // namespace aksnode
