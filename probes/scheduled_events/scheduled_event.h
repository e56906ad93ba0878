#pragma once
// The IMDS Scheduled Events document, as the agent understands it (Microsoft Learn,
// "Azure Metadata Service: Scheduled Events for Linux VMs",
// https://learn.microsoft.com/azure/virtual-machines/linux/scheduled-events). Produced by parser.h,
// tracked across polls by event_tracker.h, turned into node actions by agent/engine.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/event_type.h"
#include "agent/core/time_source.h"

namespace aksnode {

enum class EventStatus { Scheduled, Started, Unknown };
const char* toString(EventStatus s);
// Case-insensitive; anything else (there is no "Completed": a finished event disappears) is Unknown.
EventStatus eventStatusFromString(std::string_view s);

struct ScheduledEvent {
  std::string eventId;
  EventType type = EventType::Unknown;
  std::string typeName;  // as IMDS wrote it (kept for logs when Unknown)
  std::string resourceType;
  std::vector<std::string> resources;
  EventStatus status = EventStatus::Unknown;
  std::string statusName;
  std::string notBeforeRaw;
  // Parsed NotBefore; nullopt when empty (Started) or unreadable.
  std::optional<SystemTime> notBefore;
  // True when NotBefore was non-empty but could not be read: the event is treated as imminent.
  bool notBeforeUnreadable = false;
  std::string description;
  std::string eventSource;
  std::int64_t durationSeconds = -1;

  friend bool operator==(const ScheduledEvent&, const ScheduledEvent&) = default;
};

struct ScheduledEventsDocument {
  std::int64_t incarnation = 0;
  std::vector<ScheduledEvent> events;
  // Events skipped because they were malformed (missing EventId, wrong types): reported, never fatal.
  std::vector<std::string> problems;
  // Oddities in events that were kept (an auxiliary field of the wrong type, an unreadable
  // NotBefore, an unknown EventStatus): for the log only.
  std::vector<std::string> warnings;
};

}  // namespace aksnode
