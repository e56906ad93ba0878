// The state annotation's round trip and its malformed forms; NodeView from a realistic Node
// and from garbage (a field of the wrong type reads as absent, never a crash).
#include "agent/engine/node_view.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "agent/engine/agent_annotation.h"
#include "unit/engine/engine_test_support.h"

namespace aksnode {
namespace {

using namespace std::chrono_literals;
using testing::NodeBuilder;

// --- agent annotation ----------------------------------------------------------------------

TEST(AgentAnnotation, RoundTripsEveryPhase) {
  for (auto phase : {ActionPhase::Cordoned, ActionPhase::Draining, ActionPhase::Drained, ActionPhase::Acknowledged,
                     ActionPhase::Failed}) {
    const AgentAnnotation a{"C7061BAC-AFDC-4513-B24B-AA5F13A16123", "Preempt", phase, testing::kWallStart + 17s,
                            phase == ActionPhase::Drained};
    const std::string text = serializeAnnotation(a);
    EXPECT_EQ(parseAnnotation(text), a) << text;
    EXPECT_EQ(actionPhaseFromString(toString(phase)), phase);
  }
}

TEST(AgentAnnotation, IsTheContractsCompactJson) {
  const AgentAnnotation a{"ev-1", "Reboot", ActionPhase::Draining, testing::kWallStart, true};
  EXPECT_EQ(serializeAnnotation(a), std::string(R"({"eventId":"ev-1","eventType":"Reboot","phase":"draining",)") +
                                        R"("since":")" + formatRfc3339(testing::kWallStart) +
                                        R"(","cordonedByAgent":true})");
}

TEST(AgentAnnotation, SinceIsWholeSeconds) {
  const AgentAnnotation a{"ev-1", "Reboot", ActionPhase::Draining, testing::kWallStart + 1500ms, false};
  auto back = parseAnnotation(serializeAnnotation(a));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->since, testing::kWallStart + 1s);
}

TEST(AgentAnnotation, MalformedInputsAreRejected) {
  const char* bad[] = {
      "",
      "null",
      "[]",
      "\"text\"",
      "{",
      "{}",
      R"({"eventId":"e","eventType":"Preempt","phase":"cordoned"})",                              // no cordonedByAgent
      R"({"eventId":"e","eventType":"Preempt","phase":"cordoned","cordonedByAgent":"true"})",     // string bool
      R"({"eventId":1,"eventType":"Preempt","phase":"cordoned","cordonedByAgent":true})",         // id not a string
      R"({"eventId":"e","eventType":null,"phase":"cordoned","cordonedByAgent":true})",            // type null
      R"({"eventId":"e","eventType":"Preempt","phase":"evicting","cordonedByAgent":true})",       // unknown phase
      R"({"eventId":"e","eventType":"Preempt","phase":"Cordoned","cordonedByAgent":true})",       // phases are lower case
      R"({"eventId":"e","eventType":"Preempt","phase":["cordoned"],"cordonedByAgent":true})",
      R"({"eventId":"e","eventType":"Preempt","phase":"cordoned","cordonedByAgent":true} trailing)",
  };
  for (const char* text : bad) EXPECT_FALSE(parseAnnotation(text)) << text;
  EXPECT_FALSE(parseAnnotation(std::string(5000, ' ') + R"({"eventId":"e","eventType":"Preempt",)"
                                                        R"("phase":"cordoned","cordonedByAgent":true})"));
}

TEST(AgentAnnotation, UnreadableOrMissingSinceIsTheEpochNotAFailure) {
  auto a = parseAnnotation(R"({"eventId":"e","eventType":"Preempt","phase":"drained","cordonedByAgent":false,)"
                           R"("since":"yesterday","extra":{"ignored":[1,2]}})");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->since, SystemTime{});
  EXPECT_EQ(a->phase, ActionPhase::Drained);
  EXPECT_FALSE(a->cordonedByAgent);
  auto b = parseAnnotation(R"({"eventId":"e","eventType":"Preempt","phase":"drained","cordonedByAgent":true})");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->since, SystemTime{});
}

TEST(AgentAnnotation, PhasesAreOrdered) {
  EXPECT_LT(ActionPhase::Cordoned, ActionPhase::Draining);
  EXPECT_LT(ActionPhase::Draining, ActionPhase::Drained);
  EXPECT_LT(ActionPhase::Drained, ActionPhase::Acknowledged);
  EXPECT_FALSE(actionPhaseFromString(""));
}

// --- node view -----------------------------------------------------------------------------

TEST(NodeView, ReadsARealisticNode) {
  const AgentAnnotation state{"ev-1", "Preempt", ActionPhase::Draining, testing::kWallStart, true};
  const auto v = parseNodeView(NodeBuilder("aks-spot-vmss000003")
                                   .resourceVersion("123456")
                                   .unschedulable()
                                   .taint("kubernetes.azure.com/scalesetpriority", "spot", "NoSchedule")
                                   .taint(kTaintScheduledEvent, "Preempt", "NoSchedule", "2027-01-15T08:00:00Z")
                                   .agentState(state)
                                   .condition("PreemptionScheduled", "True", "SpotEvictionIncoming", "soon",
                                              testing::kWallStart, testing::kWallStart - 1min)
                                   .json());
  ASSERT_TRUE(v);
  EXPECT_EQ(v->name, "aks-spot-vmss000003");
  EXPECT_EQ(v->uid, "6f1c4a8e-0000-4000-8000-000000000003");
  EXPECT_EQ(v->resourceVersion, "123456");
  EXPECT_THAT(v->providerID, ::testing::EndsWith("/virtualMachines/3"));
  EXPECT_TRUE(v->unschedulable);
  ASSERT_EQ(v->taints.size(), 2u);
  EXPECT_TRUE(v->hasTaint(kTaintScheduledEvent));
  EXPECT_FALSE(v->hasTaint(kTaintDiskUnhealthy));
  EXPECT_EQ(v->findTaint(kTaintScheduledEvent), (Taint{kTaintScheduledEvent, "Preempt", "NoSchedule"}));
  EXPECT_EQ(v->agentState, state);
  EXPECT_FALSE(v->agentStateUnreadable);
  ASSERT_EQ(v->conditions.count("Ready"), 1u);
  EXPECT_EQ(v->conditions.at("Ready").status, "True");
  const auto& p = v->conditions.at("PreemptionScheduled");
  EXPECT_EQ(p.reason, "SpotEvictionIncoming");
  EXPECT_EQ(p.lastHeartbeatTime, formatRfc3339(testing::kWallStart));
  EXPECT_EQ(p.lastTransitionTime, formatRfc3339(testing::kWallStart - 1min));
}

TEST(NodeView, MinimalNodeHasDefaults) {
  const auto v = parseNodeView(boost::json::parse(R"({"metadata":{"name":"n","resourceVersion":"1"}})"));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->name, "n");
  EXPECT_FALSE(v->unschedulable);
  EXPECT_TRUE(v->taints.empty());
  EXPECT_FALSE(v->agentState);
  EXPECT_FALSE(v->agentStateUnreadable);
  EXPECT_TRUE(v->conditions.empty());
}

TEST(NodeView, NotANodeIsNullopt) {
  for (const char* text : {"null", "[]", "1", "\"n\"", "{}", R"({"metadata":null})", R"({"metadata":{"name":7}})",
                           R"({"metadata":{"name":""}})", R"({"metadata":[{"name":"n"}]})"}) {
    EXPECT_FALSE(parseNodeView(boost::json::parse(text))) << text;
  }
}

// Fields the agent only reads, never writes back, may be of the wrong type: they read as absent.
TEST(NodeView, WrongTypesOfReadOnlyFieldsReadAsAbsent) {
  const auto v = parseNodeView(boost::json::parse(R"({
    "metadata": {"name": "n", "uid": 5, "resourceVersion": "9", "annotations": {"aks-node-agent/state": {"eventId": "x"}}},
    "spec": {"providerID": false, "taints": [{"key": "ok", "effect": "NoSchedule"}]},
    "status": {"conditions": [7, null, {"type": 1}, {"type": ""}, {"status": "True"},
                              {"type": "X", "status": true, "reason": [], "lastHeartbeatTime": 5}]}
  })"));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->uid, "");
  EXPECT_EQ(v->providerID, "");
  EXPECT_TRUE(v->hasTaint("ok"));
  // An annotation value that is not a string is not ours to interpret (and cannot be: the API
  // server only stores strings).
  EXPECT_FALSE(v->agentState);
  ASSERT_EQ(v->conditions.size(), 1u);
  EXPECT_EQ(v->conditions.at("X").status, "");
  EXPECT_EQ(v->conditions.at("X").lastHeartbeatTime, "");
  const auto w = parseNodeView(boost::json::parse(R"({"metadata":{"name":"n","resourceVersion":"1"},"status":"x"})"));
  EXPECT_TRUE(w);
}

// Issue 19, item 4: the agent patches from what it read (taints rebuilt from the live list,
// resourceVersion as the concurrency check). Read wrongly, the PATCH deleted others' taints.
TEST(NodeView, ANodeThatCannotBeReadFaithfullyIsRefusedWithTheReason) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"metadata":{"name":"n"}})", "resourceVersion"},
      {R"({"metadata":{"name":"n","resourceVersion":["1"]}})", "resourceVersion"},
      {R"({"metadata":{"name":"n","resourceVersion":"1"},"spec":{"taints":{"key":"k"}}})", "spec.taints"},
      {R"({"metadata":{"name":"n","resourceVersion":"1"},"spec":{"taints":"k=v:NoSchedule"}})", "spec.taints"},
      {R"({"metadata":{"name":"n","resourceVersion":"1"},"spec":{"taints":[1,{"key":"k"}]}})", "spec.taints"},
      {R"({"metadata":{"name":"n","resourceVersion":"1"},"spec":{"taints":[{"key":3,"effect":"NoSchedule"}]}})",
       "without a key"},
      {R"({"metadata":{"name":"n","resourceVersion":"1"},"spec":{"taints":[{"effect":"NoSchedule"}]}})",
       "without a key"},
      {R"({"metadata":{"name":"n","resourceVersion":"1"},"spec":{"unschedulable":"true"}})", "spec.unschedulable"},
      {R"({"metadata":{"name":"n","resourceVersion":"1"},"spec":7})", "spec"},
      {R"({"metadata":{"name":"n","resourceVersion":"1","annotations":"x"}})", "metadata.annotations"},
  };
  for (const auto& [text, why] : cases) {
    const auto v = parseNodeView(boost::json::parse(text));
    EXPECT_FALSE(v) << text;
    EXPECT_THAT(v.error(), ::testing::HasSubstr(why)) << text;
  }
  // Null is the API server's way of saying "absent".
  EXPECT_TRUE(parseNodeView(boost::json::parse(
      R"({"metadata":{"name":"n","resourceVersion":"1","annotations":null},"spec":{"taints":null,"unschedulable":null}})")));
}

TEST(NodeView, UnreadableAnnotationIsFlagged) {
  const auto v = parseNodeView(NodeBuilder().annotation(kAnnotationState, "cordoned by bob").json());
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->agentState);
  EXPECT_TRUE(v->agentStateUnreadable);
}

}  // namespace
}  // namespace aksnode
