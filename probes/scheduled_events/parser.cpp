#include "probes/scheduled_events/parser.h"

#include <boost/json/array.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <limits>
#include <new>
#include <unordered_set>

#include "agent/http/http_date.h"
#include "probes/scheduled_events/json_fields.h"

namespace aksnode {
namespace {

namespace json = boost::json;
using json_fields::kindName;

std::optional<std::int64_t> asInteger(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return static_cast<std::int64_t>(v.get_uint64());
  }
  return std::nullopt;
}

std::string quoted(std::string_view s) {
  constexpr std::size_t kMax = 80;
  std::string out = "\"";
  out.append(s.substr(0, kMax));
  if (s.size() > kMax) out.append("...");
  out.append("\"");
  return out;
}

// Parses one element of Events. Returns the event, or why it is skipped.
// Non-fatal oddities go to `warnings`.
class EventReader {
 public:
  EventReader(std::size_t index, std::vector<std::string>& warnings)
      : index_(index), warnings_(warnings) {}

  Result<ScheduledEvent> read(const json::value& element) {
    if (!element.is_object()) {
      return skipped(where() + ": not an object but " + kindName(element));
    }
    const json::object& o = element.get_object();
    ScheduledEvent e;

    // --- required, the event is skipped without them -----------------------------------
    const auto id = json_fields::find(o, "EventId");
    if (!id.value) {
      return skipped(where() + (id.ambiguous ? ": EventId is ambiguous (keys differing only in case)"
                                          : ": EventId is missing"));
    }
    if (!id.value->is_string()) {
      return skipped(where() + ": EventId is not a string but " + kindName(*id.value));
    }
    e.eventId = std::string(id.value->get_string());
    if (e.eventId.empty()) {
      return skipped(where() + ": EventId is empty");
    }
    if (e.eventId.size() > kMaxEventIdLength) {
      return skipped(where() + ": EventId is longer than " + std::to_string(kMaxEventIdLength) + " bytes");
    }
    idForMessages_ = e.eventId;

    const auto type = json_fields::find(o, "EventType");
    if (!type.value || !type.value->is_string()) {
      return skipped(where() + ": EventType is " + describeBad(type));
    }
    e.typeName = std::string(type.value->get_string());
    e.type = eventTypeFromString(e.typeName);  // Unknown is kept; the tracker ignores it

    const auto resources = json_fields::find(o, "Resources");
    if (!resources.value || !resources.value->is_array()) {
      return skipped(where() + ": Resources is " + describeBad(resources, "an array"));
    }
    if (resources.value->get_array().size() > kMaxEventResources) {
      return skipped(where() + ": Resources lists " + std::to_string(resources.value->get_array().size()) +
                     " entries, more than " + std::to_string(kMaxEventResources));
    }
    for (const json::value& r : resources.value->get_array()) {
      if (!r.is_string()) {
        return skipped(where() + ": Resources holds a " + kindName(r) + ", not only strings");
      }
      e.resources.emplace_back(r.get_string());
    }

    // --- kept whatever they say ----------------------------------------------------------
    const auto status = json_fields::find(o, "EventStatus");
    if (status.value && status.value->is_string()) {
      e.statusName = std::string(status.value->get_string());
      e.status = eventStatusFromString(e.statusName);
      if (e.status == EventStatus::Unknown) {
        warn("EventStatus " + quoted(e.statusName) + " is not Scheduled or Started");
      }
    } else {
      warn("EventStatus is " + describeBad(status) + "; status Unknown");
    }

    readNotBefore(o, e);
    e.resourceType = optionalString(o, "ResourceType");
    e.description = optionalString(o, "Description");
    e.eventSource = optionalString(o, "EventSource");

    const auto duration = json_fields::find(o, "DurationInSeconds");
    if (duration.value && !duration.value->is_null()) {
      if (auto n = asInteger(*duration.value)) {
        e.durationSeconds = *n;
      } else {
        warn("DurationInSeconds is not an integer but " + std::string(kindName(*duration.value)) +
             "; using -1");
      }
    }
    return Result<ScheduledEvent>::success(std::move(e));
  }

 private:
  static Result<ScheduledEvent> skipped(std::string problem) { return Result<ScheduledEvent>::failure(std::move(problem)); }
  std::string where() const {
    std::string w = "Events[" + std::to_string(index_) + "]";
    if (!idForMessages_.empty()) w += " (EventId " + quoted(idForMessages_) + ")";
    return w;
  }
  void warn(const std::string& what) { warnings_.push_back(where() + ": " + what); }

  static std::string describeBad(const json_fields::Lookup& l, const char* expected = "a string") {
    if (l.ambiguous) return "ambiguous (keys differing only in case)";
    if (!l.value) return "missing";
    return std::string("not ") + expected + " but " + kindName(*l.value);
  }

  std::string optionalString(const json::object& o, std::string_view key) {
    const auto l = json_fields::find(o, key);
    if (!l.value || l.value->is_null()) return {};
    if (l.value->is_string()) return std::string(l.value->get_string());
    warn(std::string(key) + " is not a string but " + kindName(*l.value) + "; ignored");
    return {};
  }

  // "" (normal once Started), absent or null: no NotBefore. Anything unreadable: kept, flagged,
  // and the tracker treats the event as imminent.
  void readNotBefore(const json::object& o, ScheduledEvent& e) {
    const auto l = json_fields::find(o, "NotBefore");
    if (!l.value || l.value->is_null()) {
      if (l.ambiguous) {
        e.notBeforeUnreadable = true;
        warn("NotBefore is ambiguous (keys differing only in case); treated as imminent");
      }
      return;
    }
    if (!l.value->is_string()) {
      e.notBeforeRaw = json::serialize(*l.value).substr(0, 80);
      e.notBeforeUnreadable = true;
      warn("NotBefore is not a string but " + std::string(kindName(*l.value)) +
           "; treated as imminent");
      return;
    }
    e.notBeforeRaw = std::string(l.value->get_string());
    if (e.notBeforeRaw.find_first_not_of(" \t") == std::string::npos) {
      e.notBeforeRaw.clear();
      return;
    }
    e.notBefore = parseHttpDate(e.notBeforeRaw);
    if (!e.notBefore) {
      e.notBeforeUnreadable = true;
      warn("NotBefore " + quoted(e.notBeforeRaw) + " is not a date; treated as imminent");
    }
  }

  std::size_t index_;
  std::vector<std::string>& warnings_;
  std::string idForMessages_;
};

Result<ScheduledEventsDocument> failure(std::string message) {
  return Result<ScheduledEventsDocument>::failure(std::move(message));
}

Result<ScheduledEventsDocument> parseDocument(std::string_view body) {
  const ImdsJsonObject document(body);
  if (!document.ok()) return failure(document.error());
  const json::object& o = document.object();

  ScheduledEventsDocument doc;
  const auto incarnation = json_fields::find(o, "DocumentIncarnation");
  if (!incarnation.value) {
    return failure(incarnation.ambiguous ? "DocumentIncarnation is ambiguous (keys differing only in case)"
                                         : "DocumentIncarnation is missing");
  }
  const auto n = asInteger(*incarnation.value);
  if (!n) {
    const json::value& v = *incarnation.value;
    return failure(std::string("DocumentIncarnation is not an integer but ") +
                   (v.is_uint64() ? "a number out of range" : v.is_double() ? "a non-integer number" : kindName(v)));
  }
  doc.incarnation = *n;

  const auto events = json_fields::find(o, "Events");
  if (!events.value) {
    return failure(events.ambiguous ? "Events is ambiguous (keys differing only in case)"
                                    : "Events is missing");
  }
  if (!events.value->is_array()) {
    return failure(std::string("Events is not an array but ") + kindName(*events.value));
  }
  const json::array& list = events.value->get_array();
  if (list.size() > kMaxImdsEvents) {
    return failure("Events has " + std::to_string(list.size()) + " entries, more than the " +
                   std::to_string(kMaxImdsEvents) + " a Scheduled Events document can hold");
  }
  doc.events.reserve(list.size());
  std::unordered_set<std::string> ids;
  for (std::size_t i = 0; i < list.size(); ++i) {
    EventReader reader(i, doc.warnings);
    Result<ScheduledEvent> event = reader.read(list[i]);
    if (!event) {
      doc.problems.push_back(event.error());
      continue;
    }
    if (!ids.insert(event->eventId).second) {
      // Two events with one id: keep the first, never guess which one is right.
      doc.problems.push_back("Events[" + std::to_string(i) + "] (EventId " + quoted(event->eventId) +
                             "): repeats an EventId seen earlier in the document; skipped");
      continue;
    }
    doc.events.push_back(std::move(*event));
  }
  return Result<ScheduledEventsDocument>::success(std::move(doc));
}

}  // namespace

Result<ScheduledEventsDocument> parseScheduledEvents(std::string_view body) {
  return parseImdsBody<Result<ScheduledEventsDocument>>(body, parseDocument);
}

ImdsJsonObject::ImdsJsonObject(std::string_view body)
    : arena_(buffer_, sizeof buffer_), root_(parse(body, &arena_, error_)) {}

json::value ImdsJsonObject::parse(std::string_view body, json::storage_ptr storage, std::string& error) {
  if (body.size() > kMaxImdsBodyBytes) {
    error = "body of " + std::to_string(body.size()) + " bytes is over the " + std::to_string(kMaxImdsBodyBytes) +
            "-byte limit";
    return nullptr;
  }
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (body.substr(0, kBom.size()) == kBom) body.remove_prefix(kBom.size());
  json::parse_options options;
  options.max_depth = kMaxImdsJsonDepth;  // strict JSON otherwise: no comments, no trailing commas
  boost::system::error_code ec;
  json::value root = json::parse(json::string_view(body.data(), body.size()), ec, std::move(storage), options);
  if (ec) {
    error = "not JSON: " + ec.message();
    return nullptr;
  }
  if (!root.is_object()) {
    error = std::string("not a JSON object but ") + kindName(root);
    return nullptr;
  }
  return root;
}

std::string serializeStartRequests(const std::vector<std::string>& eventIds) {
  json::array requests;
  for (const auto& id : eventIds) requests.push_back(json::object{{"EventId", id}});
  return json::serialize(json::object{{"StartRequests", std::move(requests)}});
}

}  // namespace aksnode
