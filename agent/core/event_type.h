#pragma once
// The IMDS scheduled event types (Microsoft Learn, "Azure Metadata Service: Scheduled Events"):
// the one list of them, for the parser, the configuration (imds.actions), the engine and the
// metrics. Header-only so that every layer, metrics included, can use it.
#include <array>
#include <string_view>

#include "agent/core/ascii.h"

namespace aksnode {

enum class EventType { Freeze, Reboot, Redeploy, Preempt, Terminate, Unknown };

struct EventTypeName {
  EventType type;
  const char* name;  // the IMDS spelling
};
// Every known type, in the order the contract lists them (docs/configuration.md, metrics).
inline constexpr std::array<EventTypeName, 5> kEventTypes{{{EventType::Preempt, "Preempt"},
                                                           {EventType::Terminate, "Terminate"},
                                                           {EventType::Reboot, "Reboot"},
                                                           {EventType::Redeploy, "Redeploy"},
                                                           {EventType::Freeze, "Freeze"}}};
// The names alone, in the same order.
inline constexpr std::array<std::string_view, kEventTypes.size()> kEventTypeNames = [] {
  std::array<std::string_view, kEventTypes.size()> names{};
  for (std::size_t i = 0; i < names.size(); ++i) names[i] = kEventTypes[i].name;
  return names;
}();

// The IMDS spelling ("Preempt"); "Unknown" for Unknown.
constexpr const char* toString(EventType t) {
  for (const EventTypeName& known : kEventTypes) {
    if (known.type == t) return known.name;
  }
  return "Unknown";
}
// Case-insensitive ("preempt" is a Preempt: missing an eviction over letter case would be the
// worse mistake); anything else is Unknown.
constexpr EventType eventTypeFromString(std::string_view s) {
  for (const EventTypeName& known : kEventTypes) {
    if (ascii::iequals(s, known.name)) return known.type;
  }
  return EventType::Unknown;
}
// The type whose IMDS spelling is exactly s (the configuration's keys are case-sensitive).
constexpr EventType eventTypeFromExactName(std::string_view s) {
  for (const EventTypeName& known : kEventTypes) {
    if (s == known.name) return known.type;
  }
  return EventType::Unknown;
}
// Preempt and Terminate end the VM: nothing to undo afterwards.
constexpr bool isFatal(EventType t) { return t == EventType::Preempt || t == EventType::Terminate; }

}  // namespace aksnode
