#include "probes/scheduled_events/json_fields.h"

#include "agent/core/ascii.h"

namespace aksnode::json_fields {

Lookup find(const boost::json::object& object, std::string_view key) {
  if (const auto* exact = object.if_contains(key)) return Lookup{exact, false};
  Lookup found;
  int matches = 0;
  for (const auto& member : object) {
    const std::string_view name(member.key().data(), member.key().size());
    if (ascii::iequals(name, key)) {
      ++matches;
      found.value = &member.value();
    }
  }
  if (matches > 1) return Lookup{nullptr, true};
  return found;
}

const char* kindName(const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return "boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_: return "number";
    case boost::json::kind::string: return "string";
    case boost::json::kind::array: return "array";
    case boost::json::kind::object: return "object";
  }
  return "unknown";
}

}  // namespace aksnode::json_fields
