#include "agent/engine/condition_shapes.h"

#include <algorithm>
#include <string_view>

#include "agent/http/http_date.h"

namespace aksnode {

namespace {

constexpr std::string_view kScheduledInfix = " Scheduled: ";
constexpr std::string_view kEventIdInfix = ". EventId: ";

bool isEventTypeName(std::string_view text) {
  return eventTypeFromExactName(text) != EventType::Unknown;
}

// The messages the agent wrote before it used node-problem-detector's shapes: still its own,
// so an upgraded agent replaces them.
bool legacyVmEvent(const NodeCondition& c) {
  if (c.status == "False") return c.reason == kNoVmEventReason && c.message == "No scheduled event is pending for this VM";
  return isEventTypeName(c.reason) && c.message.starts_with(c.reason + " ") &&
         c.message.find(", event ") != std::string::npos;
}
bool legacyPreemption(const NodeCondition& c) {
  if (c.status == "False") return false;  // the agent's False message has not changed
  return c.reason == kPreemptReason && c.message.starts_with("Azure will preempt this spot VM; NotBefore ");
}

bool pendingOfType(const ConditionContext& context, const std::string& id, const char* type) {
  if (context.pending == nullptr || id.empty()) return false;
  return std::any_of(context.pending->begin(), context.pending->end(), [&](const PendingEvent& p) {
    return p.event.eventId == id && (type == nullptr || toString(p.event.type) == std::string_view(type));
  });
}

// The live value already says what the agent wants (see the header: agreement).
bool agrees(const NodeCondition& live, const DesiredCondition& want, const ConditionContext& context) {
  if (live.status != (want.status ? "True" : "False") || live.reason != want.reason) return false;
  if (live.message == want.message) return true;
  if (!want.status) return false;
  if (want.type == kVmEventCondition) return pendingOfType(context, eventIdInMessage(live.message), nullptr);
  if (want.type == kPreemptionCondition) {
    const std::string id = eventIdInMessage(live.message, "Preempt");
    return pendingOfType(context, id, "Preempt") &&
           (context.preemptionMode == PreemptionConditionMode::OnDetect || context.preemptsDrained.count(id) > 0);
  }
  return false;
}

}  // namespace

std::string scheduledEventMessage(const PendingEvent& p) {
  const SystemTime when = p.event.notBefore ? *p.event.notBefore : p.deadline;
  return std::string(toString(p.event.type)) + std::string(kScheduledInfix) + formatRfc1123(when) +
         std::string(kEventIdInfix) + p.event.eventId;
}

std::string eventIdInMessage(const std::string& message, const std::string& eventType) {
  const std::size_t scheduled = message.find(kScheduledInfix);
  if (scheduled == std::string::npos || scheduled == 0) return {};
  const std::string type = message.substr(0, scheduled);
  if (!isEventTypeName(type) || (!eventType.empty() && type != eventType)) return {};
  const std::size_t id = message.rfind(kEventIdInfix);
  if (id == std::string::npos || id < scheduled + kScheduledInfix.size()) return {};
  std::string out = message.substr(id + kEventIdInfix.size());
  if (out.empty() || out.find(' ') != std::string::npos) return {};
  return out;
}

bool agentWrites(const NodeCondition& live, const ConditionContext& context) {
  if (live.type == kVmEventCondition) {
    if (live.status == "False") return (live.reason == kNoVmEventReason && live.message == kNoVmEventMessage) || legacyVmEvent(live);
    if (live.status == "True" && live.reason == kVmEventReason) return !eventIdInMessage(live.message).empty();
    return live.status == "True" && legacyVmEvent(live);
  }
  if (live.type == kPreemptionCondition) {
    if (live.status == "False") {
      return live.reason == kNoPreemptReason && (live.message == kNoPreemptMessage || live.message == kPreemptAfterDrainMessage);
    }
    if (live.status != "True") return false;
    if (legacyPreemption(live)) return true;
    if (live.reason != kPreemptReason) return false;
    const std::string id = eventIdInMessage(live.message, "Preempt");
    if (id.empty()) return false;
    // The agent sets True only once that Preempt's drain has ended: a True for a Preempt still
    // draining is someone else's (node-problem-detector may set it first on its own). For a
    // Preempt no longer pending, it may be the agent's own from before: the agent clears it.
    return context.preemptionMode == PreemptionConditionMode::OnDetect || !pendingOfType(context, id, "Preempt") ||
           context.preemptsDrained.count(id) > 0;
  }
  return true;  // the probe conditions have no other writer
}

void applyConditionOwnership(const NodeView& live, const ConditionContext& context, const ConditionsConfig& config,
                             std::vector<DesiredCondition>& desired, std::vector<YieldedCondition>& yielded) {
  std::vector<DesiredCondition> kept;
  kept.reserve(desired.size());
  for (DesiredCondition& want : desired) {
    const bool vmEvent = want.type == kVmEventCondition;
    const bool preemption = want.type == kPreemptionCondition;
    if (!vmEvent && !preemption) {
      kept.push_back(std::move(want));
      continue;
    }
    if ((vmEvent && config.vmEventScheduled == VmEventConditionMode::Never) ||
        (preemption && config.preemptionScheduled == PreemptionConditionMode::Never)) {
      continue;
    }
    const auto it = live.conditions.find(want.type);
    if (it != live.conditions.end()) {
      const NodeCondition& have = it->second;
      const bool always = vmEvent && config.vmEventScheduled == VmEventConditionMode::Always;
      if (!always && !agentWrites(have, context)) {
        yielded.push_back({have.type, have.status, have.reason, have.message});
        continue;
      }
      if (agrees(have, want, context)) want.message = have.message;
    }
    kept.push_back(std::move(want));
  }
  desired = std::move(kept);
}

}  // namespace aksnode
