#include "agent/engine/desired_state.h"

#include <algorithm>

#include "agent/http/http_date.h"
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
  auto it = config.imds.actions.find(toString(type));
  return it == config.imds.actions.end() ? EventAction::None : it->second;
}

bool inList(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// A failing probe of `kind`, if any: the first in configuration order.
const ProbeResult* firstUnhealthy(const std::vector<ProbeResult>* health, const std::string& kind) {
  if (!health) return nullptr;
  for (const auto& r : *health) {
    if (r.kind == kind && !r.healthy) return &r;
  }
  return nullptr;
}

DesiredCondition probeCondition(const std::vector<ProbeResult>* health, const std::string& kind,
                                const std::string& type, const std::string& healthyReason,
                                const std::string& healthyMessage) {
  if (const ProbeResult* bad = firstUnhealthy(health, kind)) {
    int failing = 0;
    for (const auto& r : *health) failing += (r.kind == kind && !r.healthy) ? 1 : 0;
    std::string message = bad->target + ": " + bad->message;
    if (failing > 1) message += " (and " + std::to_string(failing - 1) + " more)";
    return {type, true, bad->reason.empty() ? "Unhealthy" : bad->reason, message};
  }
  return {type, false, healthyReason, healthyMessage};
}

// A probe condition left True by an earlier configuration (a disk, cache or identity check
// since removed) would otherwise claim a problem forever: nobody else owns these types. Set
// it False; a node that never had the condition gets none.
void appendUnmonitoredConditions(const NodeView& live, const Config& config, std::vector<DesiredCondition>& out) {
  const struct {
    const char* type;
    bool monitored;
  } probes[] = {{"LocalDiskProblem", !config.disks.empty()},
                {"CacheProblem", !config.caches.empty()},
                {"WorkloadIdentityProblem", config.identity.enabled}};
  for (const auto& p : probes) {
    if (p.monitored) continue;
    const auto it = live.conditions.find(p.type);
    if (it == live.conditions.end() || it->second.status == "False") continue;
    out.push_back({p.type, false, "NotMonitored",
                   "aks-node-agent no longer checks this (not in its configuration)"});
  }
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

std::vector<DesiredCondition> computeConditions(const EngineInputs& in, const Config& config) {
  std::vector<DesiredCondition> out;
  if (!config.conditions.enabled) return out;
  const std::vector<PendingEvent> none;
  const auto& pending = in.pending ? *in.pending : none;

  const PendingEvent* preempt = nullptr;
  for (const auto& p : pending) {
    if (p.event.type == EventType::Preempt && (!preempt || p.deadline < preempt->deadline)) preempt = &p;
  }
  if (preempt) {
    // Karpenter's Azure provider reads reason SpotEvictionIncoming and the NotBefore here.
    std::string when = formatRfc3339(preempt->deadline);
    out.push_back({"PreemptionScheduled", true, "SpotEvictionIncoming",
                   "Azure will preempt this spot VM; NotBefore " + when +
                       (preempt->imminent ? " (imminent: no readable NotBefore)" : "") + ", event " +
                       preempt->event.eventId});
  } else {
    out.push_back({"PreemptionScheduled", false, "NoPreemptionScheduled", "No Preempt event is pending for this VM"});
  }

  const PendingEvent* first = nullptr;
  for (const auto& p : pending) {
    if (!first || p.deadline < first->deadline) first = &p;
  }
  if (first) {
    std::string message = std::string(toString(first->event.type)) + " " + toString(first->event.status) +
                          ", NotBefore " + formatRfc3339(first->deadline) + ", event " + first->event.eventId;
    if (pending.size() > 1) message += " (" + std::to_string(pending.size()) + " events pending)";
    out.push_back({"VMEventScheduled", true, toString(first->event.type), message});
  } else {
    out.push_back({"VMEventScheduled", false, "NoVMEventScheduled", "No scheduled event is pending for this VM"});
  }

  if (!config.disks.empty()) {
    out.push_back(probeCondition(in.health, "disk", "LocalDiskProblem", "LocalDiskHealthy",
                                 "Every configured local disk passes its probe"));
  }
  if (!config.caches.empty()) {
    out.push_back(probeCondition(in.health, "cache", "CacheProblem", "CacheHealthy",
                                 "Every configured cache directory passes its probe"));
  }
  if (config.identity.enabled) {
    out.push_back(probeCondition(in.health, "identity", "WorkloadIdentityProblem", "WorkloadIdentityHealthy",
                                 "The workload identity token projection passes every check"));
  }
  return out;
}


DesiredNode computeDesiredNode(const EngineInputs& in, const NodeView& live, const Config& config, SystemTime now) {
  DesiredNode d;
  d.ownedTaintKeys = {kTaintScheduledEvent, kTaintDiskUnhealthy};
  d.conditions = computeConditions(in, config);
  appendUnmonitoredConditions(live, config, d.conditions);
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
        // Owned only from the moment the agent adds it: one set by someone else before the
        // drain finished is left alone.
        d.taints.push_back({kTaintOutOfService, "nodeshutdown", "NoExecute"});
        d.ownedTaintKeys.push_back(kTaintOutOfService);
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
      if (config.drain.outOfServiceTaintAfterDrain) {
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
      if (!r.healthy && r.taintWhenUnhealthy && (r.kind == "disk" || r.kind == "cache")) {
        d.taints.push_back({kTaintDiskUnhealthy, r.reason.empty() ? "Unhealthy" : r.reason, "NoSchedule"});
        break;
      }
    }
  }
  return d;
}

}  // namespace aksnode
