// libFuzzer target: untrusted bytes as the body of GET /metadata/scheduledevents (arch/FAULTS.md).
// Beyond "no crash, no hang, no sanitizer report" it checks properties the agent
// relies on:
//  * every kept event has a non-empty EventId within the length limit, and no repeated id;
//  * every NotBefore that was read formats (RFC 3339) and reads back to the same second;
//  * the tracker is idempotent: the same document twice yields no second round of changes;
//  * an event is pending only if its Resources name the VM (never another VM's event);
//  * an empty document afterwards ends exactly the pending events.
// The same bytes also go through the NotBefore and providerID readers.
// Seeds: tests/fuzz/corpus/scheduled_events/.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>

#include "probes/scheduled_events/event_json.h"
#include "probes/scheduled_events/event_tracker.h"
#include "agent/http/http_date.h"
#include "probes/scheduled_events/parser.h"
#include "probes/scheduled_events/resource_name.h"

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

void checkDate(std::string_view text) {
  const auto t = aksnode::parseHttpDate(text);
  if (!t) return;
  const auto again = aksnode::parseHttpDate(aksnode::formatRfc3339(*t));
  check(again.has_value() && *again == std::chrono::floor<std::chrono::seconds>(*t));
  check(aksnode::parseHttpDate(aksnode::formatRfc1123(*t)) == again);
}

void checkTracker(const aksnode::ScheduledEventsDocument& doc, const std::string& vm) {
  aksnode::SimulatedTimeSource clock;
  aksnode::EventTracker tracker;
  tracker.update(doc, vm, clock.monotonicTime(), clock.systemTime());
  for (const auto& p : tracker.pending()) {
    check(aksnode::eventTargetsVm(p.event, vm));
    check(p.event.type != aksnode::EventType::Unknown);
    (void)aksnode::toJson(p);
  }
  (void)tracker.earliestNotBefore();
  (void)tracker.evictionPending();
  const std::size_t pending = tracker.pending().size();

  clock.advance(std::chrono::seconds{1});
  const auto again = tracker.update(doc, vm, clock.monotonicTime(), clock.systemTime());
  check(again.changes.empty());
  check(again.ignoredOtherVm == 0 && again.ignoredUnknownType == 0 && again.ignoredInvalid == 0);
  check(tracker.pending().size() == pending);

  aksnode::ScheduledEventsDocument empty;
  empty.incarnation = doc.incarnation + 1;
  const auto end = tracker.update(empty, vm, clock.monotonicTime(), clock.systemTime());
  check(end.changes.size() == pending);
  check(tracker.pending().empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  checkDate(input.substr(0, 128));
  (void)aksnode::resourceNameFromProviderId(input.substr(0, 512));

  const aksnode::Result<aksnode::ScheduledEventsDocument> result = aksnode::parseScheduledEvents(input);
  if (!result.ok()) {
    check(!result.error().empty());
    return 0;
  }
  const auto& doc = *result;
  std::unordered_set<std::string> ids;
  for (const auto& e : doc.events) {
    check(!e.eventId.empty() && e.eventId.size() <= aksnode::kMaxEventIdLength);
    check(ids.insert(e.eventId).second);
    check(!(e.notBefore && e.notBeforeUnreadable));
    if (e.notBefore) checkDate(e.notBeforeRaw);
    (void)aksnode::eventTargetsOnlyVm(e, "vm");
  }
  // Once as the VM the first event names (so some events are ours), once as nobody.
  const std::string vm =
      !doc.events.empty() && !doc.events[0].resources.empty() ? doc.events[0].resources[0] : "vm";
  checkTracker(doc, vm);
  checkTracker(doc, "");
  (void)aksnode::serializeStartRequests({ids.begin(), ids.end()});
  return 0;
}
