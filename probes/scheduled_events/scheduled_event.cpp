#include "probes/scheduled_events/scheduled_event.h"

#include "agent/core/ascii.h"

namespace aksnode {

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
