#pragma once
// Reading the body of GET /metadata/scheduledevents into a ScheduledEventsDocument.
//
// Two levels of trouble, handled differently on purpose:
//  * the document itself is unusable (too big, not JSON, not an object, DocumentIncarnation
//    missing or not an integer, Events missing, not an array or longer than kMaxImdsEvents):
//    an error, the poller counts
//    `bad_response` and keeps the events it already knows;
//  * one event is unusable (EventId missing, not a string or empty; EventType not a string;
//    Resources not an array of at most kMaxEventResources strings; a repeated EventId): that
//    event alone is skipped and
//    described in `problems`, the rest of the document is used.
// What is never a reason to drop an event: an unknown EventType (kept as Unknown, reported and
// ignored for action by the tracker), an unreadable NotBefore (kept with notBeforeUnreadable,
// treated as imminent), an unknown or missing EventStatus (kept as Unknown), an auxiliary field
// (ResourceType, Description, EventSource, DurationInSeconds) of the wrong type (kept with its
// default, noted in `warnings`). Unknown extra keys are ignored.
//
// Keys: IMDS writes PascalCase and that exact spelling is looked up first; a key that differs
// only in case ("eventId") is accepted when it is the only such key, so a differently-cased
// producer (a mock, a proxy) cannot hide an eviction. Duplicate keys: the last one wins
// (Boost.JSON). Pure function: no I/O, no clock, never throws.
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"
#include "probes/scheduled_events/scheduled_event.h"

namespace aksnode {

// arch/SECURITY.md "Bounded inputs": bodies over 1 MiB are refused.
inline constexpr std::size_t kMaxImdsBodyBytes = std::size_t{1} << 20;
// The schema is 4 levels deep; unknown extra fields may nest a little, nothing needs more.
inline constexpr std::size_t kMaxImdsJsonDepth = 32;
// An EventId is a GUID; anything much longer is not an id (and would flood the logs).
inline constexpr std::size_t kMaxEventIdLength = 256;
// Azure lists a handful of events per VM. A document with more is not one to act on: it is
// refused as a whole (one bad_response, the known events kept) instead of being read element
// by element, which for a 1 MiB `{"Events":[0,0,...]}` meant 524k problems and log lines.
inline constexpr std::size_t kMaxImdsEvents = 100;
// An event names the VMs it affects: at most an availability set or a scale set's placement
// group (1000). More is refused for that event alone.
inline constexpr std::size_t kMaxEventResources = 1000;

// The document, or why it is unusable.
Result<ScheduledEventsDocument> parseScheduledEvents(std::string_view body);

// An IMDS answer's body (Scheduled Events, instance metadata) as a JSON object, in an arena of
// its own: at most kMaxImdsBodyBytes, a leading UTF-8 byte order mark skipped (some Windows-side
// tools write one), strict JSON at most kMaxImdsJsonDepth deep. Anything else is not ok(), and
// error() says why.
// `parse(body)` with every exception it may throw (out of memory, a parser bug) turned into a
// Result whose error says so: an IMDS body never ends the agent.
template <class Result, class Parse>
Result parseImdsBody(std::string_view body, Parse parse) {
  try {
    return parse(body);
  } catch (const std::bad_alloc&) {
    return Result::failure("out of memory while parsing");
  } catch (const std::exception& e) {
    return Result::failure(std::string("unexpected parser failure: ") + e.what());
  }
}

class ImdsJsonObject {
 public:
  explicit ImdsJsonObject(std::string_view body);
  ImdsJsonObject(const ImdsJsonObject&) = delete;
  ImdsJsonObject& operator=(const ImdsJsonObject&) = delete;

  bool ok() const { return root_.is_object(); }
  const std::string& error() const { return error_; }
  const boost::json::object& object() const { return root_.get_object(); }  // when ok()

 private:
  static boost::json::value parse(std::string_view body, boost::json::storage_ptr storage, std::string& error);

  unsigned char buffer_[8192];
  boost::json::monotonic_resource arena_;
  std::string error_;
  boost::json::value root_;  // null unless a JSON object, allocated in arena_
};

// The body of the acknowledgement POST: {"StartRequests":[{"EventId":"..."}, ...]}.
// (The lead's IMDS client sends it; kept here so the JSON shape lives beside the parser.)
std::string serializeStartRequests(const std::vector<std::string>& eventIds);

}  // namespace aksnode
