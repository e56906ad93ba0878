// EventTracker on simulated time: an event appears, starts, moves, changes id, disappears; other
// VMs' events, unknown types, broken events, and an incarnation that goes back.
#include "probes/scheduled_events/event_tracker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "probes/scheduled_events/event_json.h"
#include "agent/http/http_date.h"
#include "probes/scheduled_events/parser.h"

namespace aksnode {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

const std::string kMe = "aks-pool-12345678-vmss_3";
const std::string kSibling = "aks-pool-12345678-vmss_31";

ScheduledEvent makeEvent(std::string id, EventType type, std::vector<std::string> resources,
                         std::optional<SystemTime> notBefore, EventStatus status = EventStatus::Scheduled) {
  ScheduledEvent e;
  e.eventId = std::move(id);
  e.type = type;
  e.typeName = toString(type);
  e.resourceType = "VirtualMachine";
  e.resources = std::move(resources);
  e.status = status;
  e.statusName = toString(status);
  e.notBefore = notBefore;
  e.notBeforeRaw = notBefore ? formatRfc1123(*notBefore) : "";
  e.eventSource = "Platform";
  return e;
}

ScheduledEventsDocument doc(std::int64_t incarnation, std::vector<ScheduledEvent> events,
                            std::vector<std::string> problems = {}) {
  ScheduledEventsDocument d;
  d.incarnation = incarnation;
  d.events = std::move(events);
  d.problems = std::move(problems);
  return d;
}

class EventTrackerTest : public ::testing::Test {
 protected:
  TrackerUpdate poll(const ScheduledEventsDocument& d, const std::string& vm = kMe) {
    return tracker.update(d, vm, clock.monotonicTime(), clock.systemTime());
  }
  SystemTime in(std::chrono::seconds s) const { return clock.systemTime() + s; }

  SimulatedTimeSource clock;
  EventTracker tracker;
};

std::vector<LifecycleKind> kinds(const TrackerUpdate& u) {
  std::vector<LifecycleKind> out;
  for (const auto& c : u.changes) out.push_back(c.kind);
  return out;
}

// --- the normal life of a spot eviction ---------------------------------------------------------

TEST_F(EventTrackerTest, PreemptAppearsStartsAndEnds) {
  EXPECT_EQ(tracker.lastIncarnation(), std::nullopt);
  auto u = poll(doc(1, {}));
  EXPECT_THAT(u.changes, IsEmpty());
  EXPECT_EQ(u.previousIncarnation, std::nullopt);
  EXPECT_FALSE(u.incarnationChanged);
  EXPECT_FALSE(tracker.evictionPending());
  EXPECT_EQ(tracker.earliestNotBefore(), std::nullopt);

  // Appears, 30 s ahead.
  clock.advance(1s);
  const SystemTime notBefore = in(30s);
  const MonotonicTime detectedAt = clock.monotonicTime();
  const SystemTime detectedWall = clock.systemTime();
  u = poll(doc(2, {makeEvent("E1", EventType::Preempt, {kMe}, notBefore)}));
  EXPECT_TRUE(u.incarnationChanged);
  EXPECT_EQ(u.previousIncarnation, 1);
  ASSERT_THAT(kinds(u), ElementsAre(LifecycleKind::Started));
  EXPECT_EQ(u.changes[0].event.event.eventId, "E1");
  EXPECT_FALSE(u.changes[0].reappeared);
  EXPECT_EQ(u.changes[0].event.deadline, notBefore);
  EXPECT_FALSE(u.changes[0].event.imminent);
  EXPECT_EQ(u.newlySeen.at(EventType::Preempt), 1);
  ASSERT_EQ(tracker.pending().size(), 1u);
  EXPECT_EQ(tracker.pending()[0].firstSeen, detectedAt);
  EXPECT_EQ(tracker.pending()[0].firstSeenWall, detectedWall);
  EXPECT_TRUE(tracker.evictionPending());
  EXPECT_EQ(tracker.earliestNotBefore(), notBefore);
  EXPECT_EQ(tracker.earliestNotBefore(true), notBefore);

  // The same document a second later: nothing new, first-seen time kept (detection latency is
  // measured from it).
  clock.advance(1s);
  u = poll(doc(2, {makeEvent("E1", EventType::Preempt, {kMe}, notBefore)}));
  EXPECT_THAT(u.changes, IsEmpty());
  EXPECT_THAT(u.newlySeen, IsEmpty());
  EXPECT_FALSE(u.incarnationChanged);
  EXPECT_EQ(clock.monotonicTime() - tracker.pending()[0].firstSeen, 1s);

  // Started: NotBefore becomes "". The deadline becomes "now" and stays there.
  clock.advance(28s);
  const SystemTime startedAt = clock.systemTime();
  u = poll(doc(3, {makeEvent("E1", EventType::Preempt, {kMe}, std::nullopt, EventStatus::Started)}));
  ASSERT_THAT(kinds(u), ElementsAre(LifecycleKind::Changed));
  EXPECT_TRUE(u.changes[0].what.status);
  EXPECT_TRUE(u.changes[0].what.notBefore);
  EXPECT_FALSE(u.changes[0].what.type);
  EXPECT_FALSE(u.changes[0].what.resources);
  EXPECT_EQ(u.changes[0].what.toString(), "status,notBefore");
  EXPECT_EQ(u.changes[0].previous.status, EventStatus::Scheduled);
  EXPECT_EQ(u.changes[0].event.event.status, EventStatus::Started);
  EXPECT_TRUE(u.changes[0].event.imminent);
  EXPECT_EQ(u.changes[0].event.deadline, startedAt);
  EXPECT_EQ(tracker.pending()[0].firstSeen, detectedAt);

  clock.advance(5s);
  u = poll(doc(3, {makeEvent("E1", EventType::Preempt, {kMe}, std::nullopt, EventStatus::Started)}));
  EXPECT_THAT(u.changes, IsEmpty());
  EXPECT_EQ(tracker.pending()[0].deadline, startedAt);  // does not drift with every poll
  EXPECT_EQ(tracker.earliestNotBefore(), startedAt);

  // Gone: there is no Completed status.
  clock.advance(1s);
  u = poll(doc(4, {}));
  ASSERT_THAT(kinds(u), ElementsAre(LifecycleKind::Ended));
  EXPECT_EQ(u.changes[0].event.event.eventId, "E1");
  EXPECT_EQ(u.changes[0].event.event.status, EventStatus::Started);  // the last version seen
  EXPECT_THAT(tracker.pending(), IsEmpty());
  EXPECT_FALSE(tracker.evictionPending());
  EXPECT_EQ(tracker.earliestNotBefore(), std::nullopt);
  EXPECT_EQ(tracker.lastIncarnation(), 4);
}

TEST_F(EventTrackerTest, NotBeforeMovesAndTypeChanges) {
  const SystemTime first = in(15min);
  poll(doc(1, {makeEvent("E1", EventType::Reboot, {kMe}, first)}));

  const SystemTime later = in(20min);
  auto u = poll(doc(2, {makeEvent("E1", EventType::Reboot, {kMe}, later)}));
  ASSERT_THAT(kinds(u), ElementsAre(LifecycleKind::Changed));
  EXPECT_EQ(u.changes[0].what.toString(), "notBefore");
  EXPECT_EQ(u.changes[0].previous.notBefore, first);
  EXPECT_EQ(tracker.pending()[0].deadline, later);

  u = poll(doc(3, {makeEvent("E1", EventType::Redeploy, {kMe}, later)}));
  ASSERT_THAT(kinds(u), ElementsAre(LifecycleKind::Changed));
  EXPECT_EQ(u.changes[0].what.toString(), "type");
  EXPECT_EQ(tracker.pending()[0].event.type, EventType::Redeploy);
  EXPECT_THAT(u.newlySeen, IsEmpty());  // same id: not a newly seen event

  // Another VM joins the event (the acknowledgement guard must notice).
  u = poll(doc(4, {makeEvent("E1", EventType::Redeploy, {kMe, kSibling}, later)}));
  ASSERT_THAT(kinds(u), ElementsAre(LifecycleKind::Changed));
  EXPECT_EQ(u.changes[0].what.toString(), "resources");

  // A change of letter case or of order only is no change.
  u = poll(doc(5, {makeEvent("E1", EventType::Redeploy, {"AKS-POOL-12345678-VMSS_3", kSibling}, later)}));
  EXPECT_THAT(u.changes, IsEmpty());
  u = poll(doc(6, {makeEvent("E1", EventType::Redeploy, {kSibling, kMe}, later)}));
  EXPECT_THAT(u.changes, IsEmpty());
  // The same count of names, but a different VM.
  u = poll(doc(7, {makeEvent("E1", EventType::Redeploy, {kMe, "aks-pool-12345678-vmss_7"}, later)}));
  ASSERT_THAT(kinds(u), ElementsAre(LifecycleKind::Changed));
  EXPECT_EQ(u.changes[0].what.toString(), "resources");
}

// --- Azure re-issues the event under a new id ---------------------------------------------------

TEST_F(EventTrackerTest, IdChangeIsEndedOldPlusStartedNew) {
  const SystemTime notBefore = in(30s);
  poll(doc(1, {makeEvent("OLD", EventType::Preempt, {kMe}, notBefore)}));
  clock.advance(2s);
  // (The Microsoft mock server issues a new EventId on every status change.)
  auto u = poll(doc(2, {makeEvent("NEW", EventType::Preempt, {kMe}, std::nullopt, EventStatus::Started)}));
  // Started first, so a consumer acting change by change never sees "nothing pending" in between.
  ASSERT_THAT(kinds(u), ElementsAre(LifecycleKind::Started, LifecycleKind::Ended));
  EXPECT_EQ(u.changes[0].event.event.eventId, "NEW");
  EXPECT_EQ(u.changes[1].event.event.eventId, "OLD");
  EXPECT_EQ(u.newlySeen.at(EventType::Preempt), 1);
  ASSERT_EQ(tracker.pending().size(), 1u);
  EXPECT_EQ(tracker.pending()[0].event.eventId, "NEW");
  EXPECT_TRUE(tracker.evictionPending());  // level: still an eviction pending throughout
}

// --- other VMs, unknown types, broken events ------------------------------------------------------

TEST_F(EventTrackerTest, SiblingVmEventIsIgnoredAndCountedOnce) {
  const auto sibling = makeEvent("S1", EventType::Preempt, {kSibling}, in(30s));
  auto u = poll(doc(1, {sibling}));
  EXPECT_THAT(u.changes, IsEmpty());
  EXPECT_THAT(tracker.pending(), IsEmpty());
  EXPECT_FALSE(tracker.evictionPending());
  EXPECT_EQ(u.ignoredOtherVm, 1);
  ASSERT_EQ(u.newlyIgnored.size(), 1u);
  EXPECT_EQ(u.newlyIgnored[0].reason, "other_vm");
  EXPECT_EQ(u.newlyIgnored[0].event.eventId, "S1");
  EXPECT_THAT(u.newlySeen, IsEmpty());  // seen_total is for this VM only

  // Polled again for a minute: still counted once.
  for (int i = 0; i < 60; ++i) {
    clock.advance(1s);
    u = poll(doc(1, {sibling}));
    EXPECT_EQ(u.ignoredOtherVm, 0);
    EXPECT_THAT(u.newlyIgnored, IsEmpty());
  }
}

TEST_F(EventTrackerTest, PlacementGroupEventNamingUsIsOurs) {
  auto u = poll(doc(1, {makeEvent("G", EventType::Freeze, {"aks-pool-12345678-vmss_30", kMe, kSibling}, in(15min))}));
  ASSERT_THAT(kinds(u), ElementsAre(LifecycleKind::Started));
  EXPECT_EQ(u.ignoredOtherVm, 0);
  EXPECT_FALSE(tracker.evictionPending());  // Freeze is not an eviction
}

TEST_F(EventTrackerTest, UnknownTypeForUsIsReportedNotTracked) {
  auto e = makeEvent("U1", EventType::Unknown, {kMe}, in(10min));
  e.typeName = "Hibernate";
  auto u = poll(doc(1, {e}));
  EXPECT_THAT(u.changes, IsEmpty());
  EXPECT_THAT(tracker.pending(), IsEmpty());
  EXPECT_EQ(u.ignoredUnknownType, 1);
  EXPECT_EQ(u.ignoredOtherVm, 0);
  ASSERT_EQ(u.newlyIgnored.size(), 1u);
  EXPECT_EQ(u.newlyIgnored[0].reason, "unknown_type");
  EXPECT_EQ(u.newlyIgnored[0].event.typeName, "Hibernate");
  u = poll(doc(1, {e}));
  EXPECT_EQ(u.ignoredUnknownType, 0);
  // An unknown type for another VM is just another VM's event.
  e.resources = {kSibling};
  u = poll(doc(2, {e}));
  EXPECT_EQ(u.ignoredOtherVm, 1);
  EXPECT_EQ(u.ignoredUnknownType, 0);
}

TEST_F(EventTrackerTest, InvalidEventsAreCountedOncePerDistinctProblem) {
  auto u = poll(doc(1, {}, {"Events[0]: EventId is missing", "Events[1]: EventId is missing"}));
  EXPECT_EQ(u.ignoredInvalid, 2);
  EXPECT_EQ(u.newProblems.size(), 2u);
  u = poll(doc(1, {}, {"Events[0]: EventId is missing", "Events[1]: EventId is missing"}));
  EXPECT_EQ(u.ignoredInvalid, 0);
  u = poll(doc(2, {}, {"Events[0]: EventId is missing", "Events[0]: EventId is missing"}));
  EXPECT_EQ(u.ignoredInvalid, 0);
  u = poll(doc(3, {}));
  EXPECT_EQ(u.ignoredInvalid, 0);
  u = poll(doc(4, {}, {"Events[0]: EventId is missing"}));  // back after a clean document
  EXPECT_EQ(u.ignoredInvalid, 1);
}

TEST_F(EventTrackerTest, EventThatStopsNamingUsEnds) {
  poll(doc(1, {makeEvent("E", EventType::Terminate, {kMe}, in(5min))}));
  auto u = poll(doc(2, {makeEvent("E", EventType::Terminate, {kSibling}, in(5min))}));
  ASSERT_THAT(kinds(u), ElementsAre(LifecycleKind::Ended));
  EXPECT_EQ(u.ignoredOtherVm, 1);
  EXPECT_FALSE(tracker.evictionPending());
}

TEST_F(EventTrackerTest, EventWhoseTypeBecomesUnknownEnds) {
  poll(doc(1, {makeEvent("E", EventType::Reboot, {kMe}, in(5min))}));
  auto e = makeEvent("E", EventType::Unknown, {kMe}, in(5min));
  e.typeName = "Something";
  auto u = poll(doc(2, {e}));
  ASSERT_THAT(kinds(u), ElementsAre(LifecycleKind::Ended));
  EXPECT_EQ(u.ignoredUnknownType, 1);
}

TEST_F(EventTrackerTest, WithoutAVmNameNothingIsOurs) {
  auto u = poll(doc(1, {makeEvent("E", EventType::Preempt, {kMe}, in(30s))}), "");
  EXPECT_THAT(u.changes, IsEmpty());
  EXPECT_EQ(u.ignoredOtherVm, 1);
  EXPECT_FALSE(tracker.evictionPending());
}

TEST_F(EventTrackerTest, VmNamesMatchIgnoringCase) {
  auto u = poll(doc(1, {makeEvent("E", EventType::Preempt, {"AKS-Pool-12345678-VMSS_3"}, in(30s))}));
  ASSERT_THAT(kinds(u), ElementsAre(LifecycleKind::Started));
}

// --- deadlines when NotBefore is missing or unreadable -------------------------------------------

TEST_F(EventTrackerTest, UnreadableNotBeforeIsImminentUntilReadable) {
  auto e = makeEvent("E", EventType::Preempt, {kMe}, std::nullopt);
  e.notBeforeRaw = "soon";
  e.notBeforeUnreadable = true;
  const SystemTime firstSeen = clock.systemTime();
  auto u = poll(doc(1, {e}));
  ASSERT_THAT(kinds(u), ElementsAre(LifecycleKind::Started));
  EXPECT_TRUE(u.changes[0].event.imminent);
  EXPECT_EQ(u.changes[0].event.deadline, firstSeen);
  EXPECT_EQ(tracker.earliestNotBefore(true), firstSeen);

  clock.advance(3s);
  u = poll(doc(1, {e}));
  EXPECT_THAT(u.changes, IsEmpty());
  EXPECT_EQ(tracker.pending()[0].deadline, firstSeen);

  const SystemTime readable = in(20s);
  u = poll(doc(2, {makeEvent("E", EventType::Preempt, {kMe}, readable)}));
  ASSERT_THAT(kinds(u), ElementsAre(LifecycleKind::Changed));
  EXPECT_EQ(u.changes[0].what.toString(), "notBefore");
  EXPECT_FALSE(tracker.pending()[0].imminent);
  EXPECT_EQ(tracker.pending()[0].deadline, readable);
}

TEST_F(EventTrackerTest, ScheduledWithoutNotBeforeIsImminent) {
  const SystemTime now = clock.systemTime();
  poll(doc(1, {makeEvent("E", EventType::Terminate, {kMe}, std::nullopt)}));
  EXPECT_TRUE(tracker.pending()[0].imminent);
  EXPECT_EQ(tracker.pending()[0].deadline, now);
}

TEST_F(EventTrackerTest, HardwareFailureArrivesAlreadyStarted) {
  // Azure skips Scheduled after a host failure: Reboot, Started, no NotBefore.
  const SystemTime now = clock.systemTime();
  auto u = poll(doc(1, {makeEvent("HW", EventType::Reboot, {kMe}, std::nullopt, EventStatus::Started)}));
  ASSERT_THAT(kinds(u), ElementsAre(LifecycleKind::Started));
  EXPECT_EQ(u.changes[0].event.event.status, EventStatus::Started);
  EXPECT_TRUE(u.changes[0].event.imminent);
  EXPECT_EQ(u.changes[0].event.deadline, now);
  EXPECT_EQ(u.newlySeen.at(EventType::Reboot), 1);
}

// --- DocumentIncarnation going backwards --------------------------------------------------------

TEST_F(EventTrackerTest, IncarnationGoingBackIsReportedAndTheListStillTrusted) {
  const SystemTime notBefore = in(10min);
  poll(doc(5, {makeEvent("E", EventType::Freeze, {kMe}, notBefore)}));

  // A stale cache answers with an older document that does not have the event yet.
  auto u = poll(doc(4, {}));
  EXPECT_TRUE(u.incarnationWentBack);
  EXPECT_TRUE(u.incarnationChanged);
  EXPECT_EQ(u.previousIncarnation, 5);
  ASSERT_THAT(kinds(u), ElementsAre(LifecycleKind::Ended));  // trusted: the engine is level-triggered
  EXPECT_THAT(tracker.pending(), IsEmpty());

  // The fresh document again: the event is back, flagged, and not counted as newly seen.
  clock.advance(1s);
  u = poll(doc(5, {makeEvent("E", EventType::Freeze, {kMe}, notBefore)}));
  EXPECT_FALSE(u.incarnationWentBack);
  ASSERT_THAT(kinds(u), ElementsAre(LifecycleKind::Started));
  EXPECT_TRUE(u.changes[0].reappeared);
  EXPECT_THAT(u.newlySeen, IsEmpty());
  EXPECT_EQ(tracker.pending()[0].firstSeen, clock.monotonicTime());
}

TEST_F(EventTrackerTest, IncarnationResetToOneAfterAHostMoveIsUsed) {
  poll(doc(41, {makeEvent("OLD", EventType::Freeze, {kMe}, in(1min))}));
  auto u = poll(doc(1, {makeEvent("NEW", EventType::Reboot, {kMe}, in(15min))}));
  EXPECT_TRUE(u.incarnationWentBack);
  ASSERT_THAT(kinds(u), ElementsAre(LifecycleKind::Started, LifecycleKind::Ended));
  ASSERT_EQ(tracker.pending().size(), 1u);
  EXPECT_EQ(tracker.pending()[0].event.eventId, "NEW");
  EXPECT_EQ(tracker.lastIncarnation(), 1);
}

TEST_F(EventTrackerTest, EndedIdsAreRememberedBoundedly) {
  // Fill the memory of ended ids past its bound; the first one is forgotten and counts again.
  poll(doc(1, {makeEvent("first", EventType::Freeze, {kMe}, in(1h))}));
  poll(doc(2, {}));
  for (std::size_t i = 0; i < EventTracker::kRememberEnded; ++i) {
    poll(doc(3, {makeEvent("e" + std::to_string(i), EventType::Freeze, {kMe}, in(1h))}));
  }
  poll(doc(4, {}));
  auto u = poll(doc(5, {makeEvent("first", EventType::Freeze, {kMe}, in(1h))}));
  ASSERT_THAT(kinds(u), ElementsAre(LifecycleKind::Started));
  EXPECT_FALSE(u.changes[0].reappeared);
  EXPECT_EQ(u.newlySeen.at(EventType::Freeze), 1);
}

// --- several events ------------------------------------------------------------------------------

TEST_F(EventTrackerTest, SeveralEventsDeadlinesAndOrder) {
  const SystemTime freezeAt = in(15min);
  const SystemTime preemptAt = in(30s);
  const SystemTime rebootAt = in(10s);
  auto u = poll(doc(1, {makeEvent("F", EventType::Freeze, {kMe}, freezeAt),
                        makeEvent("P", EventType::Preempt, {kMe}, preemptAt),
                        makeEvent("S", EventType::Preempt, {kSibling}, in(5s)),
                        makeEvent("R", EventType::Reboot, {kMe}, rebootAt)}));
  ASSERT_THAT(kinds(u), ElementsAre(LifecycleKind::Started, LifecycleKind::Started, LifecycleKind::Started));
  EXPECT_EQ(u.newlySeen.at(EventType::Freeze), 1);
  EXPECT_EQ(u.newlySeen.at(EventType::Preempt), 1);  // the sibling's Preempt is not ours
  EXPECT_EQ(u.newlySeen.at(EventType::Reboot), 1);
  EXPECT_EQ(u.ignoredOtherVm, 1);
  EXPECT_EQ(tracker.earliestNotBefore(), rebootAt);
  EXPECT_EQ(tracker.earliestNotBefore(true), preemptAt);  // evictions only
  EXPECT_TRUE(tracker.evictionPending());
  ASSERT_NE(tracker.find("P"), nullptr);
  EXPECT_EQ(tracker.find("P")->deadline, preemptAt);
  EXPECT_EQ(tracker.find("S"), nullptr);

  // Order of first sight is kept even when the document reorders; a new one goes last.
  u = poll(doc(2, {makeEvent("N", EventType::Redeploy, {kMe}, in(10min)),
                   makeEvent("R", EventType::Reboot, {kMe}, rebootAt),
                   makeEvent("F", EventType::Freeze, {kMe}, freezeAt)}));
  ASSERT_THAT(kinds(u), ElementsAre(LifecycleKind::Started, LifecycleKind::Ended));
  EXPECT_EQ(u.changes[1].event.event.eventId, "P");
  std::vector<std::string> ids;
  for (const auto& p : tracker.pending()) ids.push_back(p.event.eventId);
  EXPECT_THAT(ids, ElementsAre("F", "R", "N"));
  EXPECT_FALSE(tracker.evictionPending());
  EXPECT_EQ(tracker.earliestNotBefore(true), std::nullopt);
}

TEST_F(EventTrackerTest, RepeatedIdInAHandMadeDocumentCountsOnce) {
  auto u = poll(doc(1, {makeEvent("D", EventType::Preempt, {kMe}, in(30s)),
                        makeEvent("D", EventType::Preempt, {kMe}, in(40s))}));
  ASSERT_THAT(kinds(u), ElementsAre(LifecycleKind::Started));
  ASSERT_EQ(tracker.pending().size(), 1u);
  EXPECT_EQ(tracker.pending()[0].deadline, in(30s));
}

// --- end to end: parser + tracker on the Microsoft Learn sequence --------------------------------

TEST_F(EventTrackerTest, MicrosoftLearnSequenceThroughTheParser) {
  const char* bodies[] = {
      R"({"DocumentIncarnation":1,"Events":[]})",
      R"({"DocumentIncarnation":2,"Events":[{"EventId":"C7061BAC-AFDC-4513-B24B-AA5F13A16123","EventStatus":"Scheduled","EventType":"Freeze","ResourceType":"VirtualMachine","Resources":["WestNO_0","WestNO_1"],"NotBefore":"Mon, 11 Apr 2026 22:26:58 GMT","Description":"Virtual machine is being paused because of a memory-preserving Live Migration operation.","EventSource":"Platform","DurationInSeconds":5}]})",
      R"({"DocumentIncarnation":3,"Events":[{"EventId":"C7061BAC-AFDC-4513-B24B-AA5F13A16123","EventStatus":"Started","EventType":"Freeze","ResourceType":"VirtualMachine","Resources":["WestNO_0","WestNO_1"],"NotBefore":"","Description":"Virtual machine is being paused because of a memory-preserving Live Migration operation.","EventSource":"Platform","DurationInSeconds":5}]})",
      R"({"DocumentIncarnation":4,"Events":[]})",
  };
  std::vector<std::string> seen;
  for (const char* body : bodies) {
    const Result<ScheduledEventsDocument> r = parseScheduledEvents(body);
    ASSERT_TRUE(r.ok()) << r.error();
    const TrackerUpdate u = poll(*r, "westno_1");
    for (const auto& c : u.changes) {
      const char* kind = c.kind == LifecycleKind::Started   ? "started"
                         : c.kind == LifecycleKind::Changed ? "changed"
                                                            : "ended";
      seen.push_back(std::string(kind) + ":" + c.what.toString());
    }
    clock.advance(1s);
  }
  EXPECT_THAT(seen, ElementsAre("started:", "changed:status,notBefore", "ended:"));
}

TEST_F(EventTrackerTest, PendingEventAsJsonForStatus) {
  const SystemTime notBefore = SystemTime{std::chrono::seconds{1795720810}};
  poll(doc(1, {makeEvent("E1", EventType::Preempt, {kMe}, notBefore)}));
  const auto j = toJson(tracker.pending()[0]);
  EXPECT_EQ(j.at("eventId").as_string(), "E1");
  EXPECT_EQ(j.at("eventType").as_string(), "Preempt");
  EXPECT_EQ(j.at("eventStatus").as_string(), "Scheduled");
  EXPECT_EQ(j.at("resources").as_array().size(), 1u);
  EXPECT_EQ(j.at("notBeforeTime").as_string(), "2026-11-26T19:20:10Z");
  EXPECT_EQ(j.at("deadline").as_string(), "2026-11-26T19:20:10Z");
  EXPECT_EQ(j.at("imminent").as_bool(), false);
  EXPECT_EQ(j.at("durationInSeconds").as_int64(), -1);
  EXPECT_EQ(j.at("firstSeen").as_string(), formatRfc3339(clock.systemTime()));

  auto unknown = makeEvent("U", EventType::Unknown, {kMe}, std::nullopt, EventStatus::Unknown);
  unknown.typeName = "Hibernate";
  unknown.statusName = "Paused";
  const auto u = toJson(unknown);
  EXPECT_EQ(u.at("eventType").as_string(), "Hibernate");
  EXPECT_EQ(u.at("eventStatus").as_string(), "Paused");
  EXPECT_TRUE(u.at("notBeforeTime").is_null());
}

}  // namespace
}  // namespace aksnode
