#include "probes/scheduled_events/event_json.h"

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include "agent/http/http_date.h"

namespace aksnode {

boost::json::object toJson(const ScheduledEvent& event) {
  boost::json::object o;
  o["eventId"] = event.eventId;
  o["eventType"] = event.type == EventType::Unknown ? event.typeName : std::string(toString(event.type));
  o["eventStatus"] = event.status == EventStatus::Unknown ? event.statusName : std::string(toString(event.status));
  o["resourceType"] = event.resourceType;
  boost::json::array resources;
  for (const auto& r : event.resources) resources.emplace_back(r);
  o["resources"] = std::move(resources);
  o["notBefore"] = event.notBeforeRaw;
  if (event.notBefore) {
    o["notBeforeTime"] = formatRfc3339(*event.notBefore);
  } else {
    o["notBeforeTime"] = nullptr;
  }
  o["notBeforeUnreadable"] = event.notBeforeUnreadable;
  o["description"] = event.description;
  o["eventSource"] = event.eventSource;
  o["durationInSeconds"] = event.durationSeconds;
  return o;
}

boost::json::object toJson(const PendingEvent& pending) {
  boost::json::object o = toJson(pending.event);
  o["deadline"] = formatRfc3339(pending.deadline);
  o["imminent"] = pending.imminent;
  o["firstSeen"] = formatRfc3339(pending.firstSeenWall);
  return o;
}

}  // namespace aksnode
