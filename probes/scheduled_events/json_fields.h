#pragma once
// Looking up members of untrusted JSON objects (IMDS bodies) without surprises.
// Internal to probes/scheduled_events.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <string_view>

namespace aksnode::json_fields {

struct Lookup {
  const boost::json::value* value = nullptr;  // nullptr: absent (or ambiguous)
  bool ambiguous = false;  // several keys equal `key` ignoring case, none exactly `key`
};

// The member named exactly `key`; else the only member whose name equals `key` ignoring ASCII
// case; else nothing (ambiguous is set when there were several candidates).
Lookup find(const boost::json::object& object, std::string_view key);

// The JSON type of a value, for messages: "string", "number", "null", ...
const char* kindName(const boost::json::value& value);

}  // namespace aksnode::json_fields
