// VMEventScheduled and PreemptionScheduled among their other writers (arch/ARCHITECTURE.md,
// "Neighbours"; docs/operators.md): the agent writes node-problem-detector's shapes, leaves a
// condition in any other shape to its owner, never fights over which pending event to name, and
// hands PreemptionScheduled (Karpenter's forced node repair) over only as
// conditions.preemptionScheduled says.
#include <gmock/gmock.h>
#include <optional>
#include <gtest/gtest.h>

#include "agent/engine/desired_state.h"
#include "agent/engine/node_patch.h"
#include "unit/engine/engine_test_support.h"

namespace aksnode {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::NodeBuilder;
using testing::pendingEvent;

const SystemTime kNow = testing::kWallStart + 1h;
const SystemTime kNotBefore = kNow + 30s;

struct ConditionOwnershipTest : ::testing::Test {
  Config config;
  std::vector<PendingEvent> pending;
  std::map<std::string, ActionPhase> localPhases;

  DesiredNode desired(const NodeView& live) {
    EngineInputs in;
    in.pending = &pending;
    in.vmName = testing::kVm;
    in.localPhases = &localPhases;
    return computeDesiredNode(in, live, config, kNow);
  }
  // The condition of that type the agent wants, by value (nullopt: it writes none).
  std::optional<DesiredCondition> wanted(const NodeView& live, const std::string& type) {
    const DesiredNode d = desired(live);
    if (const DesiredCondition* c = find(d, type)) return *c;
    return std::nullopt;
  }
  static const DesiredCondition* find(const DesiredNode& d, const std::string& type) {
    for (const auto& c : d.conditions) {
      if (c.type == type) return &c;
    }
    return nullptr;
  }
  // What the agent would PATCH onto nodes/status for this node: the types written.
  std::vector<std::string> written(const NodeView& live) {
    auto patch = buildConditionPatch(live, desired(live).conditions, kNow);
    std::vector<std::string> types;
    if (!patch) return types;
    for (const auto& c : patch->patch.at("status").at("conditions").as_array()) {
      types.emplace_back(c.at("type").as_string());
    }
    return types;
  }
  static NodeBuilder withNpd(NodeBuilder b, const std::string& type, const std::string& status,
                             const std::string& reason, const std::string& message) {
    // A fresh heartbeat: a stale one would be rewritten as a heartbeat, which is no fight.
    b.condition(type, status, reason, message, kNow - 10s, kNow - 1h);
    return b;
  }
};

TEST_F(ConditionOwnershipTest, WritesNodeProblemDetectorsShapes) {
  pending = {pendingEvent("ev-1", EventType::Reboot, kNotBefore)};
  DesiredNode d = desired(NodeBuilder().view());
  const DesiredCondition* vm = find(d, "VMEventScheduled");
  ASSERT_NE(vm, nullptr);
  EXPECT_TRUE(vm->status);
  EXPECT_EQ(vm->reason, "VMEventScheduled");
  EXPECT_EQ(vm->message, "Reboot Scheduled: " + formatRfc1123(kNotBefore) + ". EventId: ev-1");

  pending.clear();
  d = desired(NodeBuilder().view());
  vm = find(d, "VMEventScheduled");
  ASSERT_NE(vm, nullptr);
  EXPECT_FALSE(vm->status);
  EXPECT_EQ(vm->reason, "NoVMEventScheduled");
  EXPECT_EQ(vm->message, "VM has no scheduled event");
}

TEST_F(ConditionOwnershipTest, NoTugOfWarWithNodeProblemDetectorsIdleValue) {
  // NPD's heartbeat value with no event pending: the agent agrees and writes nothing.
  const NodeView live =
      withNpd(NodeBuilder(), "VMEventScheduled", "False", "NoVMEventScheduled", "VM has no scheduled event").view();
  config.conditions.preemptionScheduled = PreemptionConditionMode::Never;
  config.identity.enabled = false;
  config.disks.clear();
  config.caches.clear();
  EXPECT_THAT(written(live), IsEmpty());
}

TEST_F(ConditionOwnershipTest, AgreesWhenNodeProblemDetectorNamesAnotherPendingEvent) {
  pending = {pendingEvent("ev-reboot", EventType::Reboot, kNow + 10min),
             pendingEvent("ev-freeze", EventType::Freeze, kNow + 1min)};
  // NPD shows the Reboot, the agent would show the earlier Freeze: both are true statements.
  const std::string npd = "Reboot Scheduled: " + formatRfc1123(kNow + 10min) + ". EventId: ev-reboot";
  const NodeView live = withNpd(NodeBuilder(), "VMEventScheduled", "True", "VMEventScheduled", npd).view();
  const DesiredNode d = desired(live);
  ASSERT_NE(find(d, "VMEventScheduled"), nullptr);
  EXPECT_EQ(find(d, "VMEventScheduled")->message, npd);
  EXPECT_THAT(d.yielded, IsEmpty());
}

TEST_F(ConditionOwnershipTest, AConditionInAnotherShapeIsLeftToItsWriter) {
  pending = {pendingEvent("ev-1", EventType::Preempt, kNotBefore)};
  const NodeView live =
      withNpd(NodeBuilder(), "VMEventScheduled", "False", "NoMaintenance", "custom checker: nothing planned").view();
  const DesiredNode d = desired(live);
  EXPECT_EQ(find(d, "VMEventScheduled"), nullptr) << "auto: not the agent's to write";
  ASSERT_EQ(d.yielded.size(), 1u);
  EXPECT_EQ(d.yielded[0].type, "VMEventScheduled");
  EXPECT_EQ(d.yielded[0].reason, "NoMaintenance");
  // The agent still acts on the event.
  EXPECT_TRUE(d.drain);
  EXPECT_EQ(d.unschedulable, true);
}

TEST_F(ConditionOwnershipTest, AlwaysOverwritesAnotherWriterAndNeverNeverWrites) {
  const NodeView live =
      withNpd(NodeBuilder(), "VMEventScheduled", "False", "NoMaintenance", "custom checker: nothing planned").view();
  config.conditions.vmEventScheduled = VmEventConditionMode::Always;
  DesiredNode d = desired(live);
  ASSERT_NE(find(d, "VMEventScheduled"), nullptr);
  EXPECT_EQ(find(d, "VMEventScheduled")->reason, "NoVMEventScheduled");
  EXPECT_THAT(d.yielded, IsEmpty());

  config.conditions.vmEventScheduled = VmEventConditionMode::Never;
  d = desired(NodeBuilder().view());
  EXPECT_EQ(find(d, "VMEventScheduled"), nullptr);
  EXPECT_THAT(d.yielded, IsEmpty());
}

TEST_F(ConditionOwnershipTest, TheAgentsOwnOlderShapesAreReplaced) {
  const NodeView live = withNpd(NodeBuilder(), "VMEventScheduled", "True", "Preempt",
                                "Preempt Scheduled, NotBefore 2027-01-15T08:00:30Z, event ev-0")
                            .view();
  const DesiredNode d = desired(live);
  ASSERT_NE(find(d, "VMEventScheduled"), nullptr);
  EXPECT_EQ(find(d, "VMEventScheduled")->message, "VM has no scheduled event");
  EXPECT_THAT(d.yielded, IsEmpty());
}

TEST_F(ConditionOwnershipTest, PreemptionScheduledWaitsForTheDrainByDefault) {
  pending = {pendingEvent("ev-p", EventType::Preempt, kNotBefore)};
  for (ActionPhase phase : {ActionPhase::Cordoned, ActionPhase::Draining}) {
    localPhases["ev-p"] = phase;
    const std::optional<DesiredCondition> c = wanted(NodeBuilder().view(), "PreemptionScheduled");
    ASSERT_TRUE(c.has_value());
    EXPECT_FALSE(c->status) << toString(phase) << ": Karpenter would force-delete the pods now";
    EXPECT_EQ(c->reason, "NoPreemptionScheduled");
  }
  for (ActionPhase phase : {ActionPhase::Drained, ActionPhase::Failed, ActionPhase::Acknowledged}) {
    localPhases["ev-p"] = phase;
    const std::optional<DesiredCondition> c = wanted(NodeBuilder().view(), "PreemptionScheduled");
    ASSERT_TRUE(c.has_value());
    EXPECT_TRUE(c->status) << toString(phase);
    EXPECT_EQ(c->reason, "SpotEvictionIncoming");
    EXPECT_EQ(c->message, "Preempt Scheduled: " + formatRfc1123(kNotBefore) + ". EventId: ev-p");
  }
}

TEST_F(ConditionOwnershipTest, PreemptionScheduledFromTheAnnotationPhase) {
  pending = {pendingEvent("ev-p", EventType::Preempt, kNotBefore)};
  const NodeView live = NodeBuilder()
                            .unschedulable()
                            .agentState(AgentAnnotation{"ev-p", "Preempt", ActionPhase::Drained, kNow - 5s, true})
                            .view();
  const std::optional<DesiredCondition> c = wanted(live, "PreemptionScheduled");
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->status) << "a restarted agent knows the drain ended from the node's annotation";
}

TEST_F(ConditionOwnershipTest, OnDetectAndNever) {
  pending = {pendingEvent("ev-p", EventType::Preempt, kNotBefore)};
  config.conditions.preemptionScheduled = PreemptionConditionMode::OnDetect;
  const std::optional<DesiredCondition> c = wanted(NodeBuilder().view(), "PreemptionScheduled");
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->status);
  config.conditions.preemptionScheduled = PreemptionConditionMode::Never;
  localPhases["ev-p"] = ActionPhase::Drained;
  EXPECT_FALSE(wanted(NodeBuilder().view(), "PreemptionScheduled").has_value());
}

TEST_F(ConditionOwnershipTest, APreemptTheAgentDoesNotDrainHasNoDrainToWaitFor) {
  config.imds.actions[EventType::Preempt] = EventAction::Cordon;
  pending = {pendingEvent("ev-p", EventType::Preempt, kNotBefore)};
  const std::optional<DesiredCondition> c = wanted(NodeBuilder().view(), "PreemptionScheduled");
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->status);
}

TEST_F(ConditionOwnershipTest, NodeProblemDetectorSettingPreemptionFirstIsLeftAlone) {
  // NPD may set PreemptionScheduled on its own as soon as it sees the Preempt: the agent, still
  // draining, neither fights it (back to False) nor claims it.
  pending = {pendingEvent("ev-p", EventType::Preempt, kNotBefore)};
  localPhases["ev-p"] = ActionPhase::Draining;
  const std::string npd = "Preempt Scheduled: " + formatRfc1123(kNotBefore) + ". EventId: ev-p";
  NodeView live = withNpd(NodeBuilder(), "PreemptionScheduled", "True", "SpotEvictionIncoming", npd).view();
  DesiredNode d = desired(live);
  EXPECT_EQ(find(d, "PreemptionScheduled"), nullptr);
  ASSERT_EQ(d.yielded.size(), 1u);
  EXPECT_EQ(d.yielded[0].type, "PreemptionScheduled");
  // Once drained, the agent agrees with it: nothing to write, nothing yielded.
  localPhases["ev-p"] = ActionPhase::Drained;
  d = desired(live);
  ASSERT_NE(find(d, "PreemptionScheduled"), nullptr);
  EXPECT_EQ(find(d, "PreemptionScheduled")->message, npd);
  EXPECT_THAT(d.yielded, IsEmpty());
  EXPECT_FALSE(buildConditionPatch(live, {*find(d, "PreemptionScheduled")}, kNow).has_value());
}

TEST_F(ConditionOwnershipTest, AStaleTrueForAPreemptNoLongerPendingIsCleared) {
  const std::string old = "Preempt Scheduled: " + formatRfc1123(kNow - 1h) + ". EventId: ev-gone";
  const NodeView live = withNpd(NodeBuilder(), "PreemptionScheduled", "True", "SpotEvictionIncoming", old).view();
  const std::optional<DesiredCondition> c = wanted(live, "PreemptionScheduled");
  ASSERT_TRUE(c.has_value());
  EXPECT_FALSE(c->status);
}

TEST_F(ConditionOwnershipTest, DisabledConditionsWriteNothing) {
  config.conditions.enabled = false;
  pending = {pendingEvent("ev-p", EventType::Preempt, kNotBefore)};
  EXPECT_THAT(desired(NodeBuilder().view()).conditions, IsEmpty());
}

TEST(ConditionShapes, EventIdInMessage) {
  EXPECT_EQ(eventIdInMessage("Preempt Scheduled: Tue, 09 Aug 2022 17:07:32 GMT. EventId: C1BF8322"), "C1BF8322");
  EXPECT_EQ(eventIdInMessage("Preempt Scheduled: Tue, 09 Aug 2022 17:07:32 GMT. EventId: C1BF8322", "Preempt"),
            "C1BF8322");
  EXPECT_EQ(eventIdInMessage("Reboot Scheduled: x. EventId: A", "Preempt"), "");
  EXPECT_EQ(eventIdInMessage("Hibernate Scheduled: x. EventId: A"), "");
  EXPECT_EQ(eventIdInMessage("VM has no scheduled event"), "");
  EXPECT_EQ(eventIdInMessage("Preempt Scheduled: x. EventId: "), "");
}

}  // namespace
}  // namespace aksnode
