// buildNodePatch / buildConditionPatch: the smallest patch that moves the live Node to the
// desired one, never touching what others wrote.
#include "agent/engine/node_patch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "unit/engine/engine_test_support.h"

namespace aksnode {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::NodeBuilder;

const SystemTime kNow = testing::kWallStart + 1h;
const Taint kPreemptTaint{kTaintScheduledEvent, "Preempt", "NoSchedule"};

DesiredNode desired(std::vector<Taint> taints, std::optional<bool> unschedulable,
                    std::optional<AgentAnnotation> annotation) {
  DesiredNode d;
  d.ownedTaintKeys = {kTaintScheduledEvent, kTaintDiskUnhealthy};
  d.taints = std::move(taints);
  d.unschedulable = unschedulable;
  d.annotation = std::move(annotation);
  return d;
}

AgentAnnotation state(std::string id = "ev-1", ActionPhase phase = ActionPhase::Cordoned) {
  return AgentAnnotation{std::move(id), "Preempt", phase, testing::kWallStart, true};
}

std::string js(const boost::json::value& v) { return boost::json::serialize(v); }
std::string str(const boost::json::value& v) { return std::string(v.as_string()); }

TEST(NodePatch, PreemptIsOnePatchWithTaintCordonAnnotationAndResourceVersion) {
  const NodeView live = NodeBuilder().resourceVersion("4711").view();
  auto p = buildNodePatch(live, desired({kPreemptTaint}, true, state()));
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->cordons);
  EXPECT_FALSE(p->uncordons);
  EXPECT_THAT(p->taintsAdded, ElementsAre("aks-node-agent/scheduled-event=Preempt:NoSchedule"));
  EXPECT_THAT(p->taintsRemoved, IsEmpty());
  const auto& o = p->patch.as_object();
  EXPECT_EQ(js(o.at("metadata").at("resourceVersion")), "\"4711\"");
  EXPECT_EQ(js(o.at("spec").at("taints")),
            R"([{"key":"aks-node-agent/scheduled-event","value":"Preempt","effect":"NoSchedule"}])");
  EXPECT_TRUE(o.at("spec").at("unschedulable").as_bool());
  const auto& ann = o.at("metadata").at("annotations").at(kAnnotationState);
  ASSERT_TRUE(ann.is_string());
  EXPECT_EQ(parseAnnotation(std::string(ann.as_string())), state());
  // Only the annotation the agent owns is in the patch: others' annotations are left to the merge.
  EXPECT_EQ(o.at("metadata").at("annotations").as_object().size(), 1u);
}

TEST(NodePatch, OthersTaintsArePreservedInOrderWithTimeAdded) {
  const NodeView live = NodeBuilder()
                            .taint("node.kubernetes.io/unreachable", "", "NoExecute", "2027-01-15T08:00:00Z")
                            .taint("kubernetes.azure.com/scalesetpriority", "spot", "NoSchedule")
                            .taint("example.com/dedicated", "gpu", "PreferNoSchedule", "2027-01-14T00:00:00Z")
                            .view();
  auto p = buildNodePatch(live, desired({kPreemptTaint}, true, state()));
  ASSERT_TRUE(p);
  EXPECT_EQ(js(p->patch.at("spec").at("taints")),
            R"([{"key":"node.kubernetes.io/unreachable","effect":"NoExecute","timeAdded":"2027-01-15T08:00:00Z"},)"
            R"({"key":"kubernetes.azure.com/scalesetpriority","effect":"NoSchedule","value":"spot"},)"
            R"({"key":"example.com/dedicated","effect":"PreferNoSchedule","value":"gpu","timeAdded":"2027-01-14T00:00:00Z"},)"
            R"({"key":"aks-node-agent/scheduled-event","value":"Preempt","effect":"NoSchedule"}])");
}

TEST(NodePatch, OurTaintIsReplacedWhenTheTypeChanges) {
  const NodeView live = NodeBuilder()
                            .unschedulable()
                            .taint("example.com/a", "1", "NoSchedule")
                            .taint(kTaintScheduledEvent, "Reboot", "NoSchedule", "2027-01-15T08:00:00Z")
                            .taint("example.com/b", "2", "NoSchedule")
                            .agentState(state())
                            .view();
  auto p = buildNodePatch(live, desired({kPreemptTaint}, true, state()));
  ASSERT_TRUE(p);
  EXPECT_THAT(p->taintsRemoved, ElementsAre(kTaintScheduledEvent));
  EXPECT_THAT(p->taintsAdded, ElementsAre("aks-node-agent/scheduled-event=Preempt:NoSchedule"));
  EXPECT_FALSE(p->cordons);
  std::vector<std::string> keys;
  for (const auto& t : p->patch.at("spec").at("taints").as_array()) {
    keys.push_back(std::string(t.at("key").as_string()) + "=" +
                   (t.as_object().contains("value") ? std::string(t.at("value").as_string()) : ""));
  }
  EXPECT_THAT(keys, ElementsAre("example.com/a=1", "example.com/b=2", "aks-node-agent/scheduled-event=Preempt"));
  EXPECT_FALSE(p->patch.at("spec").as_object().contains("unschedulable"));
  EXPECT_FALSE(p->patch.at("metadata").as_object().contains("annotations"));
}

TEST(NodePatch, OurTaintAlreadyRightKeepsItsTimeAdded) {
  const NodeView live = NodeBuilder()
                            .unschedulable()
                            .taint(kTaintScheduledEvent, "Preempt", "NoSchedule", "2027-01-15T08:00:00Z")
                            .agentState(state())
                            .view();
  // Everything already as desired: no patch at all.
  EXPECT_FALSE(buildNodePatch(live, desired({kPreemptTaint}, true, state())));
  // Only the annotation changes: the taint list is not rewritten.
  auto p = buildNodePatch(live, desired({kPreemptTaint}, true, state("ev-1", ActionPhase::Drained)));
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->patch.as_object().contains("spec"));
  EXPECT_EQ(parseAnnotation(std::string(p->patch.at("metadata").at("annotations").at(kAnnotationState).as_string()))
                ->phase,
            ActionPhase::Drained);
}

TEST(NodePatch, NoPatchWhenNothingChanges) {
  EXPECT_FALSE(buildNodePatch(NodeBuilder().view(), desired({}, std::nullopt, std::nullopt)));
  EXPECT_FALSE(buildNodePatch(NodeBuilder().unschedulable().view(), desired({}, true, std::nullopt)));
  // unschedulable nullopt means "leave it": a cordoned node stays as it is.
  EXPECT_FALSE(buildNodePatch(NodeBuilder().unschedulable().view(), desired({}, std::nullopt, std::nullopt)));
  // Others' taints alone never cause a patch.
  EXPECT_FALSE(buildNodePatch(NodeBuilder().taint("example.com/x", "y", "NoSchedule").view(),
                              desired({}, std::nullopt, std::nullopt)));
}

TEST(NodePatch, UndoRemovesAnnotationWithNullTaintAndUncordons) {
  const NodeView live = NodeBuilder()
                            .resourceVersion("99")
                            .unschedulable()
                            .taint("example.com/keep", "me", "NoSchedule")
                            .taint(kTaintScheduledEvent, "Reboot", "NoSchedule")
                            .annotation("example.com/other", "stays")
                            .agentState(state())
                            .view();
  DesiredNode d = desired({}, false, std::nullopt);
  d.undo = true;
  auto p = buildNodePatch(live, d);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->uncordons);
  EXPECT_FALSE(p->cordons);
  EXPECT_THAT(p->taintsRemoved, ElementsAre(kTaintScheduledEvent));
  EXPECT_EQ(js(p->patch),
            R"({"metadata":{"annotations":{"aks-node-agent/state":null},"resourceVersion":"99"},)"
            R"("spec":{"taints":[{"key":"example.com/keep","effect":"NoSchedule","value":"me"}],"unschedulable":false}})");
}

TEST(NodePatch, LastOwnTaintRemovedLeavesAnEmptyList) {
  const NodeView live = NodeBuilder().taint(kTaintDiskUnhealthy, "ReadOnly", "NoSchedule").view();
  auto p = buildNodePatch(live, desired({}, std::nullopt, std::nullopt));
  ASSERT_TRUE(p);
  // An empty list, not an absent key: strategic merge replaces taints whole.
  EXPECT_EQ(js(p->patch.at("spec").at("taints")), "[]");
}

TEST(NodePatch, UnreadableAnnotationIsOverwrittenOrRemoved) {
  const NodeView live = NodeBuilder().annotation(kAnnotationState, "{not json").view();
  ASSERT_TRUE(live.agentStateUnreadable);
  auto removed = buildNodePatch(live, desired({}, std::nullopt, std::nullopt));
  ASSERT_TRUE(removed);
  EXPECT_TRUE(removed->patch.at("metadata").at("annotations").at(kAnnotationState).is_null());
  auto replaced = buildNodePatch(live, desired({}, true, state()));
  ASSERT_TRUE(replaced);
  EXPECT_TRUE(replaced->patch.at("metadata").at("annotations").at(kAnnotationState).is_string());
}

TEST(NodePatch, DuplicateOwnTaintIsCollapsed) {
  const NodeView live = NodeBuilder()
                            .taint(kTaintScheduledEvent, "Preempt", "NoSchedule")
                            .taint(kTaintScheduledEvent, "Preempt", "NoSchedule")
                            .view();
  auto p = buildNodePatch(live, desired({kPreemptTaint}, std::nullopt, std::nullopt));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->patch.at("spec").at("taints").as_array().size(), 1u);
}

// --- conditions ----------------------------------------------------------------------------

DesiredCondition cond(std::string type, bool status, std::string reason, std::string message) {
  return {std::move(type), status, std::move(reason), std::move(message)};
}

TEST(ConditionPatch, NewConditionsAreWrittenWithNowAsBothTimes) {
  auto p = buildConditionPatch(NodeBuilder().view(),
                               {cond("PreemptionScheduled", true, "SpotEvictionIncoming", "soon")}, kNow);
  ASSERT_TRUE(p);
  EXPECT_THAT(p->changedTypes, ElementsAre("PreemptionScheduled"));
  const auto& c = p->patch.at("status").at("conditions").as_array();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(js(c[0]), R"({"type":"PreemptionScheduled","status":"True","reason":"SpotEvictionIncoming",)"
                      R"("message":"soon","lastHeartbeatTime":")" +
                          formatRfc3339(kNow) + R"(","lastTransitionTime":")" + formatRfc3339(kNow) + R"("})");
}

TEST(ConditionPatch, NothingWhenUnchangedAndHeartbeatFresh) {
  const NodeView live = NodeBuilder()
                            .condition("LocalDiskProblem", "False", "LocalDiskHealthy", "ok", kNow - 4min, kNow - 1h)
                            .view();
  EXPECT_FALSE(buildConditionPatch(live, {cond("LocalDiskProblem", false, "LocalDiskHealthy", "ok")}, kNow));
  EXPECT_FALSE(buildConditionPatch(live, {}, kNow));
}

TEST(ConditionPatch, HeartbeatAfterFiveMinutesKeepsTransitionTime) {
  const NodeView live = NodeBuilder()
                            .condition("LocalDiskProblem", "False", "LocalDiskHealthy", "ok", kNow - 5min, kNow - 1h)
                            .view();
  auto p = buildConditionPatch(live, {cond("LocalDiskProblem", false, "LocalDiskHealthy", "ok")}, kNow);
  ASSERT_TRUE(p);
  EXPECT_THAT(p->changedTypes, IsEmpty());  // a heartbeat is not a change
  const auto& c = p->patch.at("status").at("conditions").as_array().at(0);
  EXPECT_EQ(str(c.at("lastHeartbeatTime")), formatRfc3339(kNow));
  EXPECT_EQ(str(c.at("lastTransitionTime")), formatRfc3339(kNow - 1h));
}

TEST(ConditionPatch, MessageChangeKeepsTransitionStatusChangeMovesIt) {
  const NodeView live =
      NodeBuilder()
          .condition("LocalDiskProblem", "True", "LowSpace", "/mnt: 4% free", kNow - 1min, kNow - 1h)
          .condition("CacheProblem", "True", "QuotaExceeded", "over", kNow - 1min, kNow - 2h)
          .view();
  auto p = buildConditionPatch(live,
                               {cond("LocalDiskProblem", true, "LowSpace", "/mnt: 3% free"),
                                cond("CacheProblem", false, "CacheHealthy", "fine")},
                               kNow);
  ASSERT_TRUE(p);
  EXPECT_THAT(p->changedTypes, ElementsAre("LocalDiskProblem", "CacheProblem"));
  const auto& c = p->patch.at("status").at("conditions").as_array();
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(str(c[0].at("lastTransitionTime")), formatRfc3339(kNow - 1h));
  EXPECT_EQ(str(c[1].at("lastTransitionTime")), formatRfc3339(kNow));
  EXPECT_EQ(str(c[1].at("status")), "False");
}

TEST(ConditionPatch, OnlyChangedConditionsAreSent) {
  const NodeView live = NodeBuilder()
                            .condition("LocalDiskProblem", "False", "LocalDiskHealthy", "ok", kNow - 1min, kNow - 1h)
                            .view();
  auto p = buildConditionPatch(live,
                               {cond("LocalDiskProblem", false, "LocalDiskHealthy", "ok"),
                                cond("VMEventScheduled", true, "Reboot", "Reboot Scheduled")},
                               kNow);
  ASSERT_TRUE(p);
  EXPECT_THAT(p->changedTypes, ElementsAre("VMEventScheduled"));
  ASSERT_EQ(p->patch.at("status").at("conditions").as_array().size(), 1u);
  // Others' conditions (Ready) are never in the patch: conditions merge by type.
  EXPECT_EQ(str(p->patch.at("status").at("conditions").as_array()[0].at("type")), "VMEventScheduled");
}

TEST(ConditionPatch, UnreadableHeartbeatIsRewritten) {
  NodeBuilder b;
  b.condition("LocalDiskProblem", "False", "LocalDiskHealthy", "ok", kNow, kNow - 1h);
  boost::json::value node = b.json();
  node.as_object()["status"].as_object()["conditions"].as_array().back().as_object()["lastHeartbeatTime"] = "garbage";
  auto live = parseNodeView(node);
  ASSERT_TRUE(live);
  auto p = buildConditionPatch(*live, {cond("LocalDiskProblem", false, "LocalDiskHealthy", "ok")}, kNow);
  ASSERT_TRUE(p);
  EXPECT_THAT(p->changedTypes, IsEmpty());
}

}  // namespace
}  // namespace aksnode
