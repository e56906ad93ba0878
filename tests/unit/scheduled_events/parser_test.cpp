// parseScheduledEvents: every published sample, then every way a document or one event can be
// wrong, and what must survive anyway.
#include "probes/scheduled_events/parser.h"

#include <boost/json/parse.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace aksnode {
namespace {

using namespace std::chrono;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

SystemTime unix(long long secs) { return SystemTime{seconds{secs}}; }

ScheduledEventsDocument parseOk(std::string_view body) {
  Result<ScheduledEventsDocument> r = parseScheduledEvents(body);
  EXPECT_TRUE(r.ok()) << r.error() << "\n" << body;
  return r.ok() ? *r : ScheduledEventsDocument{};
}

// --- published samples -------------------------------------------------------------------------

// An `az vm simulate-eviction` run published in mspnp/interruptible-workload-on-spot.
TEST(ParserSamples, SimulatedSpotEviction) {
  const auto doc = parseOk(
      R"({"DocumentIncarnation":1,"Events":[{"EventId":"C1BF8322-4CBF-4FC4-9C45-B40CF3106D0E","EventStatus":"Scheduled","EventType":"Preempt","ResourceType":"VirtualMachine","Resources":["vm-spot"],"NotBefore":"Tue, 09 Aug 2022 17:07:32 GMT","Description":"","EventSource":"Platform","DurationInSeconds":-1}]})");
  EXPECT_EQ(doc.incarnation, 1);
  ASSERT_EQ(doc.events.size(), 1u);
  const auto& e = doc.events[0];
  EXPECT_EQ(e.eventId, "C1BF8322-4CBF-4FC4-9C45-B40CF3106D0E");
  EXPECT_EQ(e.type, EventType::Preempt);
  EXPECT_EQ(e.typeName, "Preempt");
  EXPECT_EQ(e.status, EventStatus::Scheduled);
  EXPECT_EQ(e.statusName, "Scheduled");
  EXPECT_EQ(e.resourceType, "VirtualMachine");
  EXPECT_THAT(e.resources, ElementsAre("vm-spot"));
  EXPECT_EQ(e.notBeforeRaw, "Tue, 09 Aug 2022 17:07:32 GMT");
  EXPECT_EQ(e.notBefore, unix(1660064852));
  EXPECT_FALSE(e.notBeforeUnreadable);
  EXPECT_EQ(e.description, "");
  EXPECT_EQ(e.eventSource, "Platform");
  EXPECT_EQ(e.durationSeconds, -1);
  EXPECT_THAT(doc.problems, IsEmpty());
  EXPECT_THAT(doc.warnings, IsEmpty());
}

// Microsoft Learn "Scheduled Events for Linux VMs", Example responses: a live migration of two
// VMs, four documents in a row (pretty-printed as PowerShell's ConvertTo-Json does).
TEST(ParserSamples, MicrosoftLearnLiveMigrationSequence) {
  const auto d1 = parseOk(R"({
    "DocumentIncarnation":  1,
    "Events":  [
               ]
})");
  EXPECT_EQ(d1.incarnation, 1);
  EXPECT_THAT(d1.events, IsEmpty());

  const auto d2 = parseOk(R"({
    "DocumentIncarnation":  2,
    "Events":  [
                   {
                       "EventId":  "C7061BAC-AFDC-4513-B24B-AA5F13A16123",
                       "EventStatus":  "Scheduled",
                       "EventType":  "Freeze",
                       "ResourceType":  "VirtualMachine",
                       "Resources":  [
                                         "WestNO_0",
                                         "WestNO_1"
                                     ],
                       "NotBefore":  "Mon, 11 Apr 2026 22:26:58 GMT",
                       "Description":  "Virtual machine is being paused because of a memory-preserving Live Migration operation.",
                       "EventSource":  "Platform",
                       "DurationInSeconds":  5
                   }
               ]
})");
  EXPECT_EQ(d2.incarnation, 2);
  ASSERT_EQ(d2.events.size(), 1u);
  EXPECT_EQ(d2.events[0].type, EventType::Freeze);
  EXPECT_THAT(d2.events[0].resources, ElementsAre("WestNO_0", "WestNO_1"));
  // 11 Apr 2026 is a Saturday; the sample says Monday. The weekday is ignored.
  EXPECT_EQ(d2.events[0].notBefore, unix(1775946418));
  EXPECT_FALSE(d2.events[0].notBeforeUnreadable);
  EXPECT_EQ(d2.events[0].durationSeconds, 5);
  EXPECT_EQ(d2.events[0].description,
            "Virtual machine is being paused because of a memory-preserving Live Migration operation.");

  const auto d3 = parseOk(R"({
    "DocumentIncarnation":  3,
    "Events":  [
                   {
                       "EventId":  "C7061BAC-AFDC-4513-B24B-AA5F13A16123",
                       "EventStatus":  "Started",
                       "EventType":  "Freeze",
                       "ResourceType":  "VirtualMachine",
                       "Resources":  [
                                         "WestNO_0",
                                         "WestNO_1"
                                     ],
                       "NotBefore":  "",
                       "Description":  "Virtual machine is being paused because of a memory-preserving Live Migration operation.",
                       "EventSource":  "Platform",
                       "DurationInSeconds":  5
                   }
               ]
})");
  ASSERT_EQ(d3.events.size(), 1u);
  EXPECT_EQ(d3.events[0].status, EventStatus::Started);
  EXPECT_EQ(d3.events[0].notBefore, std::nullopt);  // empty once Started: normal
  EXPECT_FALSE(d3.events[0].notBeforeUnreadable);
  EXPECT_THAT(d3.warnings, IsEmpty());

  const auto d4 = parseOk(R"({"DocumentIncarnation":  4, "Events":  [ ] })");
  EXPECT_EQ(d4.incarnation, 4);
  EXPECT_THAT(d4.events, IsEmpty());
}

// Azure/vm-scheduled-events README: a user-initiated reboot.
TEST(ParserSamples, AzureVmScheduledEventsUserReboot) {
  const auto doc = parseOk(R"({
    "DocumentIncarnation": 2,
    "Events": [
        {
            "EventId": "4CAEA225-A741-474D-A72E-428C86FCD853",
            "EventStatus": "Scheduled",
            "EventType": "Reboot",
            "ResourceType": "VirtualMachine",
            "Resources": [
                "flatcar-vm1"
            ],
            "NotBefore": "Thu, 22 Jul 2021 04:50:17 GMT",
            "Description": "",
            "EventSource": "User",
            "DurationInSeconds": -1
        }
    ]
})");
  ASSERT_EQ(doc.events.size(), 1u);
  EXPECT_EQ(doc.events[0].type, EventType::Reboot);
  EXPECT_EQ(doc.events[0].eventSource, "User");
  EXPECT_EQ(doc.events[0].notBefore, unix(1626929417));
}

// Azure-Samples/scheduled-events-mock-server: ISO 8601 NotBefore (strftime "%Y-%m-%dT%H:%M:%SZ"),
// its "Spot Eviction" scenario, and the Started form with NotBefore "".
TEST(ParserSamples, MockServerSpotEvictionIso8601) {
  const auto scheduled = parseOk(
      R"({"DocumentIncarnation":2,"Events":[{"EventId":"0a8bdfb5-8a6e-4f3e-9d0f-3c0b7f2c1e11","EventStatus":"Scheduled","EventType":"Preempt","ResourceType":"VirtualMachine","Resources":["vmss_vm1"],"EventSource":"Platform","NotBefore":"2026-11-26T19:20:10Z","Description":"The Virtual Machine will be evicted.","DurationInSeconds":-1}]})");
  ASSERT_EQ(scheduled.events.size(), 1u);
  EXPECT_EQ(scheduled.events[0].type, EventType::Preempt);
  EXPECT_EQ(scheduled.events[0].notBefore, unix(1795720810));
  EXPECT_EQ(scheduled.events[0].description, "The Virtual Machine will be evicted.");

  const auto started = parseOk(
      R"({"DocumentIncarnation":3,"Events":[{"EventId":"5b0e5f0c-32a3-4d1d-a1a6-4a4f5d7c9e02","EventStatus":"Started","EventType":"Freeze","ResourceType":"VirtualMachine","Resources":["vmss_vm1"],"EventSource":"Platform","NotBefore":"","Description":"Host server is undergoing maintenance.","DurationInSeconds":9}]})");
  ASSERT_EQ(started.events.size(), 1u);
  EXPECT_EQ(started.events[0].status, EventStatus::Started);
  EXPECT_EQ(started.events[0].notBefore, std::nullopt);
  EXPECT_EQ(started.events[0].durationSeconds, 9);
}

// The documented schema with every event type at once, several VMs, DurationInSeconds -1/0/N.
TEST(ParserSamples, EveryEventTypeAndDuration) {
  const auto doc = parseOk(R"({"DocumentIncarnation":7,"Events":[
    {"EventId":"a","EventType":"Freeze","ResourceType":"VirtualMachine","Resources":["FrontEnd_IN_0","BackEnd_IN_0"],"EventStatus":"Scheduled","NotBefore":"Mon, 19 Sep 2016 18:29:47 GMT","Description":"Host server is undergoing maintenance.","EventSource":"Platform","DurationInSeconds":9},
    {"EventId":"b","EventType":"Reboot","ResourceType":"VirtualMachine","Resources":["vm"],"EventStatus":"Started","NotBefore":"","Description":"","EventSource":"User","DurationInSeconds":-1},
    {"EventId":"c","EventType":"Redeploy","ResourceType":"VirtualMachine","Resources":["vm"],"EventStatus":"Scheduled","NotBefore":"Mon, 19 Sep 2016 18:29:47 GMT","Description":"","EventSource":"Platform","DurationInSeconds":0},
    {"EventId":"d","EventType":"Preempt","ResourceType":"VirtualMachine","Resources":["vm"],"EventStatus":"Scheduled","NotBefore":"Mon, 19 Sep 2016 18:29:47 GMT","Description":"","EventSource":"Platform","DurationInSeconds":-1},
    {"EventId":"e","EventType":"Terminate","ResourceType":"VirtualMachine","Resources":["vm"],"EventStatus":"Scheduled","NotBefore":"Mon, 19 Sep 2016 18:29:47 GMT","Description":"","EventSource":"User","DurationInSeconds":-1}
  ]})");
  ASSERT_EQ(doc.events.size(), 5u);
  EXPECT_EQ(doc.events[0].type, EventType::Freeze);
  EXPECT_EQ(doc.events[1].type, EventType::Reboot);
  EXPECT_EQ(doc.events[2].type, EventType::Redeploy);
  EXPECT_EQ(doc.events[3].type, EventType::Preempt);
  EXPECT_EQ(doc.events[4].type, EventType::Terminate);
  EXPECT_EQ(doc.events[0].durationSeconds, 9);
  EXPECT_EQ(doc.events[2].durationSeconds, 0);
  EXPECT_EQ(doc.events[3].durationSeconds, -1);
  EXPECT_THAT(doc.problems, IsEmpty());
  EXPECT_THAT(doc.warnings, IsEmpty());
}

// --- document-level problems: an error, nothing used ------------------------------------------

struct BadDocument {
  const char* name;
  std::string body;
  const char* errorContains;
};

class RefusesDocument : public ::testing::TestWithParam<BadDocument> {};

TEST_P(RefusesDocument, WithAClearMessage) {
  const Result<ScheduledEventsDocument> r = parseScheduledEvents(GetParam().body);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.error(), HasSubstr(GetParam().errorContains));
}

std::string nested(int depth) {
  std::string inner = "0";
  for (int i = 0; i < depth; ++i) inner = "[" + inner + "]";
  return R"({"DocumentIncarnation":1,"Events":[],"X":)" + inner + "}";
}

std::string huge() {
  std::string body = R"({"DocumentIncarnation":1,"Events":[],"Pad":")";
  body.append(kMaxImdsBodyBytes, 'x');
  body.append("\"}");
  return body;
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, RefusesDocument,
    ::testing::Values(
        BadDocument{"Empty", "", "not JSON"},
        BadDocument{"Text", "Service Unavailable", "not JSON"},
        BadDocument{"Html", "<html><body>Bad Request</body></html>", "not JSON"},
        BadDocument{"Truncated", R"({"DocumentIncarnation":1,"Events":[{"EventId":"a")", "not JSON"},
        BadDocument{"TrailingComma", R"({"DocumentIncarnation":1,"Events":[],})", "not JSON"},
        BadDocument{"Comment", R"({"DocumentIncarnation":1, /* x */ "Events":[]})", "not JSON"},
        BadDocument{"TwoDocuments", R"({"DocumentIncarnation":1,"Events":[]}{})", "not JSON"},
        BadDocument{"InvalidUtf8", "{\"DocumentIncarnation\":1,\"Events\":[],\"X\":\"\xff\xfe\"}", "not JSON"},
        BadDocument{"TooDeep", nested(40), "not JSON"},
        BadDocument{"TooBig", huge(), "limit"},
        BadDocument{"Array", "[]", "not a JSON object but array"},
        BadDocument{"Null", "null", "not a JSON object but null"},
        BadDocument{"Number", "42", "not a JSON object but number"},
        BadDocument{"String", R"("events")", "not a JSON object but string"},
        BadDocument{"NoIncarnation", R"({"Events":[]})", "DocumentIncarnation is missing"},
        BadDocument{"IncarnationString", R"({"DocumentIncarnation":"5","Events":[]})",
                    "DocumentIncarnation is not an integer but string"},
        BadDocument{"IncarnationFraction", R"({"DocumentIncarnation":5.5,"Events":[]})",
                    "DocumentIncarnation is not an integer but a non-integer number"},
        BadDocument{"IncarnationExponent", R"({"DocumentIncarnation":1e3,"Events":[]})",
                    "DocumentIncarnation is not an integer"},
        BadDocument{"IncarnationNull", R"({"DocumentIncarnation":null,"Events":[]})",
                    "DocumentIncarnation is not an integer but null"},
        BadDocument{"IncarnationTooBig", R"({"DocumentIncarnation":18446744073709551615,"Events":[]})",
                    "DocumentIncarnation is not an integer but a number out of range"},
        BadDocument{"IncarnationAmbiguous",
                    R"({"documentIncarnation":1,"DOCUMENTINCARNATION":2,"Events":[]})",
                    "DocumentIncarnation is ambiguous"},
        BadDocument{"NoEvents", R"({"DocumentIncarnation":1})", "Events is missing"},
        BadDocument{"EventsNull", R"({"DocumentIncarnation":1,"Events":null})",
                    "Events is not an array but null"},
        BadDocument{"EventsObject", R"({"DocumentIncarnation":1,"Events":{"EventId":"a"}})",
                    "Events is not an array but object"},
        BadDocument{"EventsString", R"({"DocumentIncarnation":1,"Events":"none"})",
                    "Events is not an array but string"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(Parser, AcceptsABodyRightAtTheLimit) {
  std::string body = R"({"DocumentIncarnation":1,"Events":[],"Pad":")";
  body.append(kMaxImdsBodyBytes - body.size() - 2, 'x');
  body.append("\"}");
  ASSERT_EQ(body.size(), kMaxImdsBodyBytes);
  EXPECT_TRUE(parseScheduledEvents(body).ok());
}

TEST(Parser, AcceptsTheSchemaDepthWithRoomForExtras) { EXPECT_TRUE(parseScheduledEvents(nested(20)).ok()); }

TEST(Parser, AcceptsAUtf8ByteOrderMark) {
  const auto doc = parseOk("\xEF\xBB\xBF{\"DocumentIncarnation\":3,\"Events\":[]}");
  EXPECT_EQ(doc.incarnation, 3);
}

TEST(Parser, AcceptsIntegerIncarnationsOfEveryWidth) {
  EXPECT_EQ(parseOk(R"({"DocumentIncarnation":0,"Events":[]})").incarnation, 0);
  EXPECT_EQ(parseOk(R"({"DocumentIncarnation":-3,"Events":[]})").incarnation, -3);
  EXPECT_EQ(parseOk(R"({"DocumentIncarnation":9223372036854775807,"Events":[]})").incarnation,
            9223372036854775807LL);
}

// --- event-level problems: that event skipped, the rest used ----------------------------------

struct BadEvent {
  const char* name;
  const char* event;  // one element of Events, placed before a good event
  const char* problemContains;
};

class SkipsEvent : public ::testing::TestWithParam<BadEvent> {};

TEST_P(SkipsEvent, AndKeepsTheRest) {
  const std::string body = std::string(R"({"DocumentIncarnation":9,"Events":[)") + GetParam().event +
                           R"(,{"EventId":"good","EventType":"Preempt","Resources":["vm"],"EventStatus":"Scheduled","NotBefore":"Tue, 09 Aug 2022 17:07:32 GMT"}]})";
  const auto doc = parseOk(body);
  EXPECT_EQ(doc.incarnation, 9);
  ASSERT_EQ(doc.events.size(), 1u);
  EXPECT_EQ(doc.events[0].eventId, "good");
  EXPECT_EQ(doc.events[0].type, EventType::Preempt);
  ASSERT_EQ(doc.problems.size(), 1u);
  EXPECT_THAT(doc.problems[0], HasSubstr("Events[0]"));
  EXPECT_THAT(doc.problems[0], HasSubstr(GetParam().problemContains));
}

const std::string kLongId(kMaxEventIdLength + 1, 'a');
const std::string kLongIdEvent =
    R"({"EventId":")" + kLongId + R"(","EventType":"Preempt","Resources":["vm"]})";

INSTANTIATE_TEST_SUITE_P(
    Malformed, SkipsEvent,
    ::testing::Values(
        BadEvent{"NotAnObject", R"("Preempt")", "not an object but string"},
        BadEvent{"Null", "null", "not an object but null"},
        BadEvent{"Array", R"(["a"])", "not an object but array"},
        BadEvent{"NoEventId", R"({"EventType":"Preempt","Resources":["vm"]})", "EventId is missing"},
        BadEvent{"EventIdNumber", R"({"EventId":7,"EventType":"Preempt","Resources":["vm"]})",
                 "EventId is not a string but number"},
        BadEvent{"EventIdNull", R"({"EventId":null,"EventType":"Preempt","Resources":["vm"]})",
                 "EventId is not a string but null"},
        BadEvent{"EventIdEmpty", R"({"EventId":"","EventType":"Preempt","Resources":["vm"]})",
                 "EventId is empty"},
        BadEvent{"EventIdTooLong", kLongIdEvent.c_str(), "EventId is longer than"},
        BadEvent{"EventIdAmbiguous",
                 R"({"eventid":"x","EVENTID":"y","EventType":"Preempt","Resources":["vm"]})",
                 "EventId is ambiguous"},
        BadEvent{"NoEventType", R"({"EventId":"x","Resources":["vm"]})", "EventType is missing"},
        BadEvent{"EventTypeNumber", R"({"EventId":"x","EventType":3,"Resources":["vm"]})",
                 "EventType is not a string but number"},
        BadEvent{"EventTypeArray", R"({"EventId":"x","EventType":["Preempt"],"Resources":["vm"]})",
                 "EventType is not a string but array"},
        BadEvent{"NoResources", R"({"EventId":"x","EventType":"Preempt"})", "Resources is missing"},
        BadEvent{"ResourcesString", R"({"EventId":"x","EventType":"Preempt","Resources":"vm"})",
                 "Resources is not an array but string"},
        BadEvent{"ResourcesNull", R"({"EventId":"x","EventType":"Preempt","Resources":null})",
                 "Resources is not an array but null"},
        BadEvent{"ResourcesNumbers", R"({"EventId":"x","EventType":"Preempt","Resources":[1]})",
                 "Resources holds a number"},
        BadEvent{"ResourcesWithNull", R"({"EventId":"x","EventType":"Preempt","Resources":["vm",null]})",
                 "Resources holds a null"},
        BadEvent{"ResourcesNested", R"({"EventId":"x","EventType":"Preempt","Resources":[["vm"]]})",
                 "Resources holds a array"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(Parser, ProblemsNameTheEventIdWhenKnown) {
  const auto doc = parseOk(
      R"({"DocumentIncarnation":1,"Events":[{"EventId":"abc-123","EventType":"Preempt","Resources":"vm"}]})");
  ASSERT_EQ(doc.problems.size(), 1u);
  EXPECT_THAT(doc.problems[0], HasSubstr("\"abc-123\""));
}

TEST(Parser, ARepeatedEventIdKeepsTheFirst) {
  const auto doc = parseOk(R"({"DocumentIncarnation":1,"Events":[
    {"EventId":"same","EventType":"Preempt","Resources":["vm-a"]},
    {"EventId":"same","EventType":"Freeze","Resources":["vm-b"]}]})");
  ASSERT_EQ(doc.events.size(), 1u);
  EXPECT_EQ(doc.events[0].type, EventType::Preempt);
  ASSERT_EQ(doc.problems.size(), 1u);
  EXPECT_THAT(doc.problems[0], HasSubstr("repeats an EventId"));
}

TEST(Parser, AllEventsBadStillParsesTheDocument) {
  const auto doc = parseOk(R"({"DocumentIncarnation":4,"Events":[1,2,{}]})");
  EXPECT_EQ(doc.incarnation, 4);
  EXPECT_THAT(doc.events, IsEmpty());
  EXPECT_EQ(doc.problems.size(), 3u);
}

// --- kept whatever they say -------------------------------------------------------------------

ScheduledEvent parseOne(const std::string& eventJson, ScheduledEventsDocument* docOut = nullptr) {
  const auto doc = parseOk(R"({"DocumentIncarnation":1,"Events":[)" + eventJson + "]}");
  EXPECT_THAT(doc.problems, IsEmpty());
  EXPECT_EQ(doc.events.size(), 1u);
  if (docOut) *docOut = doc;
  return doc.events.empty() ? ScheduledEvent{} : doc.events[0];
}

TEST(ParserKeeps, UnknownEventTypeAsUnknownWithItsName) {
  const auto e = parseOne(R"({"EventId":"x","EventType":"Hibernate","Resources":["vm"],"EventStatus":"Scheduled"})");
  EXPECT_EQ(e.type, EventType::Unknown);
  EXPECT_EQ(e.typeName, "Hibernate");
}

TEST(ParserKeeps, EventTypeInAnyCase) {
  EXPECT_EQ(parseOne(R"({"EventId":"x","EventType":"preempt","Resources":["vm"]})").type, EventType::Preempt);
  EXPECT_EQ(parseOne(R"({"EventId":"x","EventType":"TERMINATE","Resources":["vm"]})").type,
            EventType::Terminate);
}

TEST(ParserKeeps, UnreadableNotBeforeAsImminent) {
  ScheduledEventsDocument doc;
  const auto e = parseOne(
      R"({"EventId":"x","EventType":"Preempt","Resources":["vm"],"EventStatus":"Scheduled","NotBefore":"in 30 seconds"})", &doc);
  EXPECT_TRUE(e.notBeforeUnreadable);
  EXPECT_EQ(e.notBefore, std::nullopt);
  EXPECT_EQ(e.notBeforeRaw, "in 30 seconds");
  ASSERT_EQ(doc.warnings.size(), 1u);
  EXPECT_THAT(doc.warnings[0], HasSubstr("treated as imminent"));
}

TEST(ParserKeeps, NonStringNotBeforeAsImminent) {
  const auto e = parseOne(R"({"EventId":"x","EventType":"Preempt","Resources":["vm"],"NotBefore":1660064852})");
  EXPECT_TRUE(e.notBeforeUnreadable);
  EXPECT_EQ(e.notBeforeRaw, "1660064852");
}

TEST(ParserKeeps, EmptyNullOrAbsentNotBeforeAsNone) {
  for (const char* nb : {R"(,"NotBefore":"")", R"(,"NotBefore":null)", "", R"(,"NotBefore":"  ")"}) {
    const auto e = parseOne(std::string(R"({"EventId":"x","EventType":"Reboot","Resources":["vm"],"EventStatus":"Started")") +
                            nb + "}");
    EXPECT_EQ(e.notBefore, std::nullopt) << nb;
    EXPECT_FALSE(e.notBeforeUnreadable) << nb;
    EXPECT_EQ(e.notBeforeRaw, "") << nb;
  }
}

TEST(ParserKeeps, UnknownOrMissingStatusAsUnknown) {
  ScheduledEventsDocument doc;
  auto e = parseOne(R"({"EventId":"x","EventType":"Preempt","Resources":["vm"],"EventStatus":"Completed"})", &doc);
  EXPECT_EQ(e.status, EventStatus::Unknown);
  EXPECT_EQ(e.statusName, "Completed");
  EXPECT_EQ(doc.warnings.size(), 1u);
  e = parseOne(R"({"EventId":"x","EventType":"Preempt","Resources":["vm"]})", &doc);
  EXPECT_EQ(e.status, EventStatus::Unknown);
  EXPECT_EQ(doc.warnings.size(), 1u);
  e = parseOne(R"({"EventId":"x","EventType":"Preempt","Resources":["vm"],"EventStatus":1})", &doc);
  EXPECT_EQ(e.status, EventStatus::Unknown);
  EXPECT_THAT(doc.warnings.at(0), HasSubstr("not a string but number"));
  e = parseOne(R"({"EventId":"x","EventType":"Preempt","Resources":["vm"],"EventStatus":"started"})", &doc);
  EXPECT_EQ(e.status, EventStatus::Started);
}

TEST(ParserKeeps, DurationInSecondsDefaultsToMinusOne) {
  EXPECT_EQ(parseOne(R"({"EventId":"x","EventType":"Freeze","Resources":["vm"]})").durationSeconds, -1);
  EXPECT_EQ(parseOne(R"({"EventId":"x","EventType":"Freeze","Resources":["vm"],"DurationInSeconds":null})")
                .durationSeconds,
            -1);
  EXPECT_EQ(parseOne(R"({"EventId":"x","EventType":"Freeze","Resources":["vm"],"DurationInSeconds":0})")
                .durationSeconds,
            0);
  ScheduledEventsDocument doc;
  EXPECT_EQ(parseOne(R"({"EventId":"x","EventType":"Freeze","Resources":["vm"],"EventStatus":"Scheduled","DurationInSeconds":"9"})", &doc)
                .durationSeconds,
            -1);
  EXPECT_THAT(doc.warnings.at(0), HasSubstr("DurationInSeconds is not an integer"));
  EXPECT_EQ(parseOne(R"({"EventId":"x","EventType":"Freeze","Resources":["vm"],"DurationInSeconds":9.5})", &doc)
                .durationSeconds,
            -1);
}

TEST(ParserKeeps, AuxiliaryFieldsOfTheWrongTypeAsEmpty) {
  ScheduledEventsDocument doc;
  const auto e = parseOne(
      R"({"EventId":"x","EventType":"Preempt","Resources":["vm"],"EventStatus":"Scheduled","ResourceType":1,"Description":{"a":1},"EventSource":true})",
      &doc);
  EXPECT_EQ(e.type, EventType::Preempt);
  EXPECT_EQ(e.resourceType, "");
  EXPECT_EQ(e.description, "");
  EXPECT_EQ(e.eventSource, "");
  EXPECT_EQ(doc.warnings.size(), 3u);
}

TEST(ParserKeeps, EmptyResourcesAndEmptyNames) {
  EXPECT_THAT(parseOne(R"({"EventId":"x","EventType":"Preempt","Resources":[]})").resources, IsEmpty());
  EXPECT_THAT(parseOne(R"({"EventId":"x","EventType":"Preempt","Resources":["",""]})").resources,
              ElementsAre("", ""));
}

TEST(ParserTolerates, UnknownExtraKeysEverywhere) {
  const auto doc = parseOk(R"({"DocumentIncarnation":1,"Future":{"a":[1,2,{"b":null}]},"Events":[
    {"EventId":"x","EventType":"Preempt","Resources":["vm"],"EventStatus":"Scheduled","Priority":"High","Extra":[{}],"NotBefore":"2026-11-26T19:20:10Z"}]})");
  ASSERT_EQ(doc.events.size(), 1u);
  EXPECT_EQ(doc.events[0].notBefore, unix(1795720810));
  EXPECT_THAT(doc.warnings, IsEmpty());
}

TEST(ParserTolerates, KeysInAnotherCase) {
  const auto doc = parseOk(R"({"documentIncarnation":5,"events":[
    {"eventId":"x","eventType":"Preempt","resources":["vm"],"eventStatus":"Scheduled","notBefore":"2026-11-26T19:20:10Z","durationInSeconds":3}]})");
  EXPECT_EQ(doc.incarnation, 5);
  ASSERT_EQ(doc.events.size(), 1u);
  EXPECT_EQ(doc.events[0].eventId, "x");
  EXPECT_EQ(doc.events[0].status, EventStatus::Scheduled);
  EXPECT_EQ(doc.events[0].notBefore, unix(1795720810));
  EXPECT_EQ(doc.events[0].durationSeconds, 3);
}

TEST(ParserTolerates, TheExactKeyWinsOverOtherCases) {
  const auto doc = parseOk(R"({"DocumentIncarnation":5,"documentincarnation":"junk","Events":[
    {"EventId":"right","eventid":"wrong","EventType":"Preempt","Resources":["vm"]}]})");
  EXPECT_EQ(doc.incarnation, 5);
  ASSERT_EQ(doc.events.size(), 1u);
  EXPECT_EQ(doc.events[0].eventId, "right");
}

TEST(ParserTolerates, DuplicateKeysLastWins) {
  const auto doc = parseOk(R"({"DocumentIncarnation":1,"DocumentIncarnation":2,"Events":[]})");
  EXPECT_EQ(doc.incarnation, 2);
}

TEST(ParserTolerates, EscapesAndUnicodeInStrings) {
  const auto e = parseOne(R"({"EventId":"a\"b\\c\u00e9","EventType":"Preempt","Resources":["v\u006d"],"Description":"line\nbreak"})");
  EXPECT_EQ(e.eventId, "a\"b\\c\xc3\xa9");
  EXPECT_THAT(e.resources, ElementsAre("vm"));
  EXPECT_EQ(e.description, "line\nbreak");
}

TEST(Parser, ManyEventsStayInDocumentOrder) {
  std::string body = R"({"DocumentIncarnation":1,"Events":[)";
  for (std::size_t i = 0; i < kMaxImdsEvents; ++i) {
    if (i) body += ',';
    body += R"({"EventId":"id-)" + std::to_string(i) + R"(","EventType":"Freeze","Resources":["vm-)" +
            std::to_string(i) + R"("]})";
  }
  body += "]}";
  const auto doc = parseOk(body);
  ASSERT_EQ(doc.events.size(), kMaxImdsEvents);
  EXPECT_EQ(doc.events[0].eventId, "id-0");
  EXPECT_EQ(doc.events[kMaxImdsEvents - 1].eventId, "id-" + std::to_string(kMaxImdsEvents - 1));
}

// Issue 19, item 3: a 1 MiB `{"Events":[0,0,...]}` (524k entries) was read element by element
// into 524k problems (one log line each). It is one bad document now.
TEST(Parser, RefusesADocumentWithMoreEventsThanAzureSends) {
  std::string body = R"({"DocumentIncarnation":1,"Events":[0)";
  while (body.size() + 4 < kMaxImdsBodyBytes) body += ",0";
  body += "]}";
  const auto r = parseScheduledEvents(body);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error(), HasSubstr("more than the " + std::to_string(kMaxImdsEvents)));
  EXPECT_LT(r.error().size(), 200u);

  std::string justOver = R"({"DocumentIncarnation":1,"Events":[0)";
  for (std::size_t i = 0; i < kMaxImdsEvents; ++i) justOver += ",0";
  justOver += "]}";
  EXPECT_FALSE(parseScheduledEvents(justOver).ok());
}

TEST(Parser, AnEventNamingTooManyVmsIsSkippedAlone) {
  std::string many = "[";
  for (std::size_t i = 0; i <= kMaxEventResources; ++i) many += (i ? ",\"v" : "\"v") + std::to_string(i) + "\"";
  many += "]";
  const auto doc = parseOk(R"({"DocumentIncarnation":1,"Events":[{"EventId":"a","EventType":"Preempt","Resources":)" +
                           many + R"(},{"EventId":"b","EventType":"Preempt","Resources":["vm"]}]})");
  ASSERT_EQ(doc.events.size(), 1u);
  EXPECT_EQ(doc.events[0].eventId, "b");
  ASSERT_EQ(doc.problems.size(), 1u);
  EXPECT_THAT(doc.problems[0], HasSubstr("more than " + std::to_string(kMaxEventResources)));
}

// --- acknowledgement body ---------------------------------------------------------------------

TEST(StartRequests, SerialisesAsDocumented) {
  EXPECT_EQ(serializeStartRequests({"f020ba2e-3bc0-4c40-a10b-86575a9eabd5"}),
            R"({"StartRequests":[{"EventId":"f020ba2e-3bc0-4c40-a10b-86575a9eabd5"}]})");
  EXPECT_EQ(serializeStartRequests({}), R"({"StartRequests":[]})");
  // Odd characters stay inside the string.
  const auto body = serializeStartRequests({"a\"b", "c"});
  const auto v = boost::json::parse(body);
  EXPECT_EQ(v.at("StartRequests").at(0).at("EventId").as_string(), "a\"b");
  EXPECT_EQ(v.at("StartRequests").at(1).at("EventId").as_string(), "c");
}

// --- names --------------------------------------------------------------------------------------

TEST(EventNames, RoundTrip) {
  for (EventType t : {EventType::Freeze, EventType::Reboot, EventType::Redeploy, EventType::Preempt,
                      EventType::Terminate}) {
    EXPECT_EQ(eventTypeFromString(toString(t)), t);
  }
  EXPECT_EQ(eventTypeFromString("Unknown"), EventType::Unknown);
  EXPECT_EQ(eventTypeFromString(""), EventType::Unknown);
  EXPECT_EQ(eventTypeFromString("Preempted"), EventType::Unknown);
  EXPECT_EQ(eventStatusFromString("Scheduled"), EventStatus::Scheduled);
  EXPECT_EQ(eventStatusFromString("Started"), EventStatus::Started);
  EXPECT_EQ(eventStatusFromString("Completed"), EventStatus::Unknown);
  EXPECT_STREQ(toString(EventStatus::Unknown), "Unknown");
  EXPECT_TRUE(isFatal(EventType::Preempt));
  EXPECT_TRUE(isFatal(EventType::Terminate));
  EXPECT_FALSE(isFatal(EventType::Reboot));
  EXPECT_FALSE(isFatal(EventType::Unknown));
}

}  // namespace
}  // namespace aksnode
