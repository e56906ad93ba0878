#pragma once
// The Kubernetes Events the engine records about scheduled events, cordons and drains, one named
// constructor each (like Karpenter's events.go): the reason and message text of every Event are
// written here and nowhere else, so docs/interface.md's list of reasons can be checked against
// one file. Each returns a NodeEvent that NodeEventRecorder (node_events.h) records.
// The identity and disk health Events are built where health flips (ActionEngine::setHealth).
#include <string>

#include "agent/engine/node_events.h"
#include "agent/kube/drainer.h"
#include "probes/scheduled_events/scheduled_event.h"

namespace aksnode::events {

// "Preempt event <id>, NotBefore <time>" or "..., imminent": how an Event names its event.
std::string describe(const ScheduledEvent& e);

NodeEvent scheduledEventStarted(const ScheduledEvent& e, const std::string& vmName);
NodeEvent cordoned(const ScheduledEvent& e);
NodeEvent cordonedByAgent();  // a cordon with no event behind it
NodeEvent uncordoned();
NodeEvent drainStarted(const ScheduledEvent& e, double secondsLeft);
NodeEvent drainSucceeded(const ScheduledEvent& e, double seconds);
// result: "timeout" or "error"; blocked: "ns/name, ..." of the pods still blocked ("" if none).
NodeEvent drainFailed(const ScheduledEvent& e, const std::string& result, double seconds, const std::string& message,
                      const std::string& blocked);
NodeEvent evictionBlocked(const ScheduledEvent& e, const BlockedPod& pod);
NodeEvent eventAcknowledged(const ScheduledEvent& e);

}  // namespace aksnode::events
