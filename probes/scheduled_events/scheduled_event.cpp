#include "probes/scheduled_events/scheduled_event.h"

#include "agent/core/ascii.h"

namespace aksnode {

const char* toString(EventType t) {
  switch (t) {
    case EventType::Freeze: return "Freeze";
    case EventType::Reboot: return "Reboot";
    case EventType::Redeploy: return "Redeploy";
    case EventType::Preempt: return "Preempt";
    case EventType::Terminate: return "Terminate";
    case EventType::Unknown: break;
  }
  return "Unknown";
}

EventType eventTypeFromString(std::string_view s) {
  for (EventType t : {EventType::Freeze, EventType::Reboot, EventType::Redeploy, EventType::Preempt,
                      EventType::Terminate}) {
    if (ascii::iequals(s, toString(t))) return t;
  }
  return EventType::Unknown;
}

const char* toString(EventStatus s) {
  switch (s) {
    case EventStatus::Scheduled: return "Scheduled";
    case EventStatus::Started: return "Started";
    case EventStatus::Unknown: break;
  }
  return "Unknown";
}

EventStatus eventStatusFromString(std::string_view s) {
  if (ascii::iequals(s, "Scheduled")) return EventStatus::Scheduled;
  if (ascii::iequals(s, "Started")) return EventStatus::Started;
  return EventStatus::Unknown;
}

}  // namespace aksnode
