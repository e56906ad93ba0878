#include "agent/engine/desired_state.h"

#include <algorithm>

#include "probes/scheduled_events/resource_name.h"

namespace aksnode {

namespace {

int strength(EventAction a) {
  switch (a) {
    case EventAction::Drain: return 3;
    case EventAction::Cordon: return 2;
    case EventAction::Notify: return 1;
    case EventAction::None: return 0;
  }
  return 0;
}

EventAction actionFor(const Config& config, EventType type) {
  auto it = config.imds.actions.find(type);
  return it == config.imds.actions.end() ? EventAction::None : it->second;
}

bool inList(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// A failing result of `spec`'s probe, if any: the first in configuration order.
const ProbeResult* firstUnhealthy(const std::vector<ProbeResult>* health, const ProbeSpec& spec) {
  if (!health) return nullptr;
  for (const auto& r : *health) {
    if (r.spec == &spec && !r.healthy) return &r;
  }
  return nullptr;
}

DesiredCondition probeCondition(const std::vector<ProbeResult>* health, const ProbeSpec& spec) {
  if (const ProbeResult* bad = firstUnhealthy(health, spec)) {
    int failing = 0;
    for (const auto& r : *health) failing += (r.spec == &spec && !r.healthy) ? 1 : 0;
    std::string message = bad->target + ": " + bad->message;
    if (failing > 1) message += " (and " + std::to_string(failing - 1) + " more)";
    return {spec.conditionType, true, bad->reason.empty() ? "Unhealthy" : bad->reason, message};
  }
  return {spec.conditionType, false, spec.healthyReason, spec.healthyMessage};
}

// A probe condition left True by an earlier configuration (a disk, cache or identity check
// since removed) would otherwise claim a problem forever: nobody else owns these types. Set
// it False; a node that never had the condition gets none.
void appendUnmonitoredConditions(const EngineInputs& in, const NodeView& live, const Config& config,
                                 std::vector<DesiredCondition>& out) {
  for (const ProbeSpec* spec : in.probeSpecs) {
    if (spec->monitored(config)) continue;
    const auto it = live.conditions.find(spec->conditionType);
    if (it == live.conditions.end() || it->second.status == "False") continue;
    out.push_back({spec->conditionType, false, "NotMonitored",
                   "aks-node-agent no longer checks this (not in its configuration)"});
  }
}

// The kubelet no longer reports Ready: False or Unknown (the node lifecycle controller's
// value once the kubelet stops posting). An absent condition says nothing.
bool nodeNotReady(const NodeView& live) {
  const auto it = live.conditions.find("Ready");
  return it != live.conditions.end() && !it->second.status.empty() && it->second.status != "True";
}

// node.kubernetes.io/out-of-service force-deletes every pod without a matching toleration and
// detaches their volumes: right for a VM that is really down, wrong on a running kubelet. After
// the drain for a Preempt/Terminate, the agent owns the key: present exactly while the Node's
// Ready condition is not True.
void outOfServiceAfterDrain(const NodeView& live, DesiredNode& d) {
  d.ownedTaintKeys.push_back(kTaintOutOfService);
  if (nodeNotReady(live)) d.taints.push_back({kTaintOutOfService, "nodeshutdown", "NoExecute"});
}

}  // namespace

std::optional<ActiveEvent> chooseActiveEvent(const std::vector<PendingEvent>& pending, const Config& config) {
  std::optional<ActiveEvent> best;
  for (const auto& p : pending) {
    if (p.event.type == EventType::Unknown) continue;
    ActiveEvent candidate{p, actionFor(config, p.event.type)};
    if (candidate.action == EventAction::None) continue;
    if (!best || strength(candidate.action) > strength(best->action) ||
        (strength(candidate.action) == strength(best->action) && p.deadline < best->pending.deadline)) {
      best = candidate;
    }
  }
  return best;
}

std::set<std::string> preemptsWithDrainEnded(const EngineInputs& in, const NodeView& live) {
  std::set<std::string> out;
  if (!in.pending) return out;
  for (const auto& p : *in.pending) {
    if (p.event.type != EventType::Preempt) continue;
    std::optional<ActionPhase> phase;
    if (live.agentState && live.agentState->eventId == p.event.eventId) phase = live.agentState->phase;
    if (in.localPhases) {
      if (auto it = in.localPhases->find(p.event.eventId); it != in.localPhases->end()) {
        phase = phase ? std::max(*phase, it->second) : it->second;
      }
    }
    if (phase && *phase >= ActionPhase::Drained) out.insert(p.event.eventId);
  }
  return out;
}

std::vector<DesiredCondition> computeConditions(const EngineInputs& in, const NodeView& live, const Config& config) {
  std::vector<DesiredCondition> out;
  if (!config.conditions.enabled) return out;
  const std::vector<PendingEvent> none;
  const auto& pending = in.pending ? *in.pending : none;

  const PendingEvent* preempt = nullptr;
  for (const auto& p : pending) {
    if (p.event.type == EventType::Preempt && (!preempt || p.deadline < preempt->deadline)) preempt = &p;
  }
  // Karpenter's Azure provider repairs (force-deletes) a node as soon as PreemptionScheduled is
  // True: by default only once the agent's drain for that Preempt has ended. A Preempt the
  // agent does not drain (its action is not `drain`) has no drain to wait for.
  bool preemptTrue = false;
  if (preempt) {
    switch (config.conditions.preemptionScheduled) {
      case PreemptionConditionMode::OnDetect: preemptTrue = true; break;
      case PreemptionConditionMode::Never: break;
      case PreemptionConditionMode::AfterDrain:
        preemptTrue = actionFor(config, EventType::Preempt) != EventAction::Drain ||
                      preemptsWithDrainEnded(in, live).count(preempt->event.eventId) > 0;
        break;
    }
  }
  if (preemptTrue) {
    // Node-problem-detector's shape: Karpenter reads the deadline from the message.
    out.push_back({kPreemptionCondition, true, kPreemptReason, scheduledEventMessage(*preempt)});
  } else {
    out.push_back({kPreemptionCondition, false, kNoPreemptReason, preempt ? kPreemptAfterDrainMessage : kNoPreemptMessage});
  }

  const PendingEvent* first = nullptr;
  for (const auto& p : pending) {
    if (!first || p.deadline < first->deadline) first = &p;
  }
  if (first) {
    out.push_back({kVmEventCondition, true, kVmEventReason, scheduledEventMessage(*first)});
  } else {
    out.push_back({kVmEventCondition, false, kNoVmEventReason, kNoVmEventMessage});
  }

  for (const ProbeSpec* spec : in.probeSpecs) {
    if (spec->monitored(config)) out.push_back(probeCondition(in.health, *spec));
  }
  return out;
}


DesiredNode computeDesiredNode(const EngineInputs& in, const NodeView& live, const Config& config, SystemTime now) {
  DesiredNode d;
  d.ownedTaintKeys = {kTaintScheduledEvent, kTaintDiskUnhealthy};
  d.conditions = computeConditions(in, live, config);
  ConditionContext context;
  context.pending = in.pending;
  context.preemptsDrained = preemptsWithDrainEnded(in, live);
  context.preemptionMode = config.conditions.preemptionScheduled;
  applyConditionOwnership(live, context, config.conditions, d.conditions, d.yielded);
  appendUnmonitoredConditions(in, live, config, d.conditions);
  const std::vector<PendingEvent> none;
  const auto& pending = in.pending ? *in.pending : none;
  const std::optional<AgentAnnotation>& prev = live.agentState;

  auto active = chooseActiveEvent(pending, config);
  const bool acts = active && (active->action == EventAction::Cordon || active->action == EventAction::Drain);
  if (active) d.active = active;

  if (acts) {
    const auto& ev = active->pending.event;
    AgentAnnotation a;
    a.eventId = ev.eventId;
    a.eventType = toString(ev.type);
    if (prev && prev->eventId == ev.eventId) {
      a = *prev;
      a.eventType = toString(ev.type);
    } else {
      a.phase = ActionPhase::Cordoned;
      a.since = now;
      // A cordon the agent made for an earlier event (or an earlier id of this one) is still its own.
      a.cordonedByAgent = prev ? prev->cordonedByAgent : !live.unschedulable;
    }
    if (in.localPhases) {
      auto it = in.localPhases->find(ev.eventId);
      if (it != in.localPhases->end() && it->second > a.phase) a.phase = it->second;
    }
    d.annotation = a;
    d.unschedulable = true;
    if (active->action == EventAction::Drain) {
      if (config.drain.taint) d.taints.push_back({kTaintScheduledEvent, a.eventType, "NoSchedule"});
      d.drain = a.phase == ActionPhase::Cordoned || a.phase == ActionPhase::Draining;
      const bool drained = a.phase == ActionPhase::Drained;
      d.acknowledge = drained && inList(config.imds.acknowledgeAfterDrain, a.eventType) &&
                      eventTargetsOnlyVm(ev, in.vmName);
      const bool afterDrain = a.phase == ActionPhase::Drained || a.phase == ActionPhase::Acknowledged;
      if (config.drain.outOfServiceTaintAfterDrain && isFatal(ev.type) && afterDrain) {
        outOfServiceAfterDrain(live, d);
      }
    }
  } else if (prev && !in.eventsKnown) {
    // Which events are pending is not known yet: leave what the agent did as it is.
    d.annotation = prev;
    if (auto t = live.findTaint(kTaintScheduledEvent)) d.taints.push_back(*t);
    if (config.drain.outOfServiceTaintAfterDrain) {
      if (auto t = live.findTaint(kTaintOutOfService)) d.taints.push_back(*t);
      d.ownedTaintKeys.push_back(kTaintOutOfService);
    }
  } else if (prev) {
    // Nothing to act on, but the node carries what the agent did: undo it, unless it was for
    // a fatal event that ended only moments ago (the VM is most likely about to go).
    const bool fatal = isFatal(eventTypeFromString(prev->eventType));
    SystemTime ended = prev->since;
    if (in.endedAt) {
      if (auto it = in.endedAt->find(prev->eventId); it != in.endedAt->end()) ended = std::max(ended, it->second);
    }
    const bool keep = fatal && now - ended < kFatalUndoAfter;
    if (keep) {
      d.annotation = prev;
      d.unschedulable = true;
      // As it is: a fatal event handled by `cordon` never had the taint.
      if (auto t = live.findTaint(kTaintScheduledEvent)) d.taints.push_back(*t);
      const bool drained = prev->phase == ActionPhase::Drained || prev->phase == ActionPhase::Acknowledged;
      if (config.drain.outOfServiceTaintAfterDrain && fatal && drained) {
        outOfServiceAfterDrain(live, d);
      } else if (config.drain.outOfServiceTaintAfterDrain) {
        if (auto t = live.findTaint(kTaintOutOfService)) d.taints.push_back(*t);
        d.ownedTaintKeys.push_back(kTaintOutOfService);
      }
    } else {
      d.undo = true;
      if (prev->cordonedByAgent && config.drain.uncordonWhenEventEnds) d.unschedulable = false;
      // The out-of-service taint goes with the rest of what the agent did for that event, if
      // the agent can have added it (a fatal event drained to the end).
      const bool addedIt = fatal && (prev->phase == ActionPhase::Drained || prev->phase == ActionPhase::Acknowledged);
      if (config.drain.outOfServiceTaintAfterDrain && addedIt) d.ownedTaintKeys.push_back(kTaintOutOfService);
    }
  }

  if (in.health) {
    for (const auto& r : *in.health) {
      if (!r.healthy && r.taintWhenUnhealthy && r.spec && r.spec->mayTaint) {
        d.taints.push_back({kTaintDiskUnhealthy, r.reason.empty() ? "Unhealthy" : r.reason, "NoSchedule"});
        break;
      }
    }
  }
  return d;
}

}  // namespace aksnode
