// Named constructors of the engine's Kubernetes Events (see events.h): reasons and texts.
#include "agent/engine/events.h"

#include "agent/http/http_date.h"

namespace aksnode::events {

namespace {
EventSubject subjectOf(const ScheduledEvent& e) { return EventSubject{toString(e.type), e.eventId, e.notBefore}; }
}  // namespace

std::string describe(const ScheduledEvent& e) {
  return std::string(toString(e.type)) + " event " + e.eventId +
         (e.notBefore ? ", NotBefore " + formatRfc3339(*e.notBefore) : std::string(", imminent"));
}

NodeEvent scheduledEventStarted(const ScheduledEvent& e, const std::string& vmName) {
  return {isFatal(e.type) ? "Warning" : "Normal", "ScheduledEvent",
          describe(e) + " for VM " + vmName + (e.description.empty() ? "" : ": " + e.description), subjectOf(e)};
}

NodeEvent cordoned(const ScheduledEvent& e) { return {"Warning", "Cordoned", "Cordoned for " + describe(e), subjectOf(e)}; }

NodeEvent cordonedByAgent() { return {"Warning", "Cordoned", "Cordoned for agent action", {}}; }

NodeEvent uncordoned() { return {"Normal", "Uncordoned", "The scheduled event ended; undoing the agent's cordon", {}}; }

NodeEvent drainStarted(const ScheduledEvent& e, double secondsLeft) {
  return {"Warning", "DrainStarted",
          "Draining for " + describe(e) + "; deadline in " + std::to_string(static_cast<int>(secondsLeft)) + "s",
          subjectOf(e)};
}

NodeEvent drainSucceeded(const ScheduledEvent& e, double seconds) {
  return {"Normal", "DrainSucceeded", "Drained in " + std::to_string(seconds).substr(0, 5) + "s for " + describe(e),
          subjectOf(e)};
}

NodeEvent drainFailed(const ScheduledEvent& e, const std::string& result, double seconds, const std::string& message,
                      const std::string& blocked) {
  return {"Warning", "DrainFailed",
          "Drain " + result + " after " + std::to_string(static_cast<int>(seconds)) + "s: " + message +
              (blocked.empty() ? "" : "; blocked: " + blocked),
          subjectOf(e)};
}

NodeEvent evictionBlocked(const ScheduledEvent& e, const BlockedPod& pod) {
  return {"Warning", "EvictionBlocked",
          "Eviction of pod " + pod.ns + "/" + pod.name + " blocked (" + pod.reason + "): " + pod.message, subjectOf(e)};
}

NodeEvent eventAcknowledged(const ScheduledEvent& e) {
  return {"Normal", "EventAcknowledged", "Approved " + describe(e) + " after the drain", subjectOf(e)};
}

}  // namespace aksnode::events
