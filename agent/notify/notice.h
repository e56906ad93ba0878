#pragma once
// One notice: what a webhook is told when the agent records a Kubernetes Event on its Node
// (agent/engine/node_events.h feeds every recorded Event to the Notifier). Plain data; the
// payload builders (payload.h) turn it into a body, docs/notifications.md shows each format.
#include <optional>
#include <string>

#include "agent/core/time_source.h"

namespace aksnode {

// The scheduled event an Event is about, when it is about one.
struct EventSubject {
  std::string eventType;  // "Preempt", ...; "" when the Event is not about a scheduled event
  std::string eventId;
  std::optional<SystemTime> notBefore;  // unset: imminent, Started, or not about an event
};

struct Notice {
  std::string node;
  std::string vm;          // the VM resource name, "" while unknown
  std::string reason;      // the Event's reason (docs/interface.md; config.h kEventReasons)
  std::string severity;    // the Event's type: "Normal" or "Warning"
  EventSubject subject;
  std::string message;     // the Event's message: redacted and bounded, still outside text
  SystemTime time{};
  bool dryRun = false;     // the agent runs with --dry-run: nothing in the cluster was changed
};

}  // namespace aksnode
