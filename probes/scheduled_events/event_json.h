#pragma once
// Scheduled events as JSON, for /status and --once (never for metrics labels).
#include <boost/json/object.hpp>

#include "probes/scheduled_events/event_tracker.h"
#include "probes/scheduled_events/scheduled_event.h"

namespace aksnode {

// {"eventId","eventType","eventStatus","resourceType","resources","notBefore" (as IMDS wrote it),
//  "notBeforeTime" (RFC 3339 or null),"notBeforeUnreadable","description","eventSource",
//  "durationInSeconds"}
boost::json::object toJson(const ScheduledEvent& event);
// The above plus "deadline" (RFC 3339), "imminent", "firstSeen" (RFC 3339, wall clock).
boost::json::object toJson(const PendingEvent& pending);

}  // namespace aksnode
