// computeDesiredNode() as a table: (pending events, live node, annotation, local phases, config,
// health) -> (taints, cordon, annotation, conditions, drain, acknowledge, undo). Then the
// pieces that need more than a row: condition texts, the choice between events.
#include "agent/engine/desired_state.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "unit/engine/engine_test_support.h"

namespace aksnode {

// Readable failures.
void PrintTo(const Taint& t, std::ostream* os) { *os << t.key << "=" << t.value << ":" << t.effect; }

namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::kOtherVm;
using testing::kVm;
using testing::NodeBuilder;
using testing::pendingEvent;
using testing::probeResult;

const SystemTime kNow = testing::kWallStart + 1h;

// Everything a row can set up.
struct Inputs {
  std::vector<PendingEvent> pending;
  NodeBuilder node;
  std::map<std::string, ActionPhase> localPhases;
  std::map<std::string, SystemTime> endedAt;
  std::vector<ProbeResult> health;
  Config config;
  bool eventsKnown = true;
};

struct Expected {
  std::vector<Taint> taints;
  std::optional<bool> unschedulable;
  std::optional<AgentAnnotation> annotation;  // nullopt: must be absent
  std::vector<std::string> trueConditions;    // condition types with status True, in order
  std::vector<std::string> conditionTypes;    // every condition type, in order
  bool drain = false;
  bool acknowledge = false;
  bool undo = false;
};

struct Row {
  std::string name;
  std::function<void(Inputs&)> setup;
  Expected want;
};
// Printed by name (gtest would otherwise dump the bytes into every ctest test name).
void PrintTo(const Row& row, std::ostream* os) { *os << row.name; }

const Taint kPreemptTaint{kTaintScheduledEvent, "Preempt", "NoSchedule"};
const Taint kOutOfService{kTaintOutOfService, "nodeshutdown", "NoExecute"};
const std::vector<std::string> kAllConditions = {"PreemptionScheduled", "VMEventScheduled", "LocalDiskProblem",
                                                 "CacheProblem", "WorkloadIdentityProblem"};

AgentAnnotation annotation(std::string id, std::string type, ActionPhase phase, SystemTime since, bool byAgent) {
  return AgentAnnotation{std::move(id), std::move(type), phase, since, byAgent};
}

PendingEvent preempt(const std::string& id = "ev-preempt") { return pendingEvent(id, EventType::Preempt, kNow + 30s); }

std::vector<Row> rows() {
  std::vector<Row> r;
  r.push_back({"PreemptDrains",
               [](Inputs& in) { in.pending = {preempt()}; },
               {.taints = {kPreemptTaint},
                .unschedulable = true,
                .annotation = annotation("ev-preempt", "Preempt", ActionPhase::Cordoned, kNow, true),
                .trueConditions = {"VMEventScheduled"},  // PreemptionScheduled once the drain ended
                .conditionTypes = kAllConditions,
                .drain = true}});
  r.push_back({"FreezeNotifiesOnlyWithConditions",
               [](Inputs& in) { in.pending = {pendingEvent("ev-freeze", EventType::Freeze, kNow + 15min)}; },
               {.taints = {},
                .unschedulable = std::nullopt,
                .annotation = std::nullopt,
                .trueConditions = {"VMEventScheduled"},
                .conditionTypes = kAllConditions}});
  r.push_back({"CordonOnlyActionCordonsWithoutTaintOrDrain",
               [](Inputs& in) {
                 in.config.imds.actions[EventType::Reboot] = EventAction::Cordon;
                 in.pending = {pendingEvent("ev-reboot", EventType::Reboot, kNow + 10min)};
               },
               {.taints = {},
                .unschedulable = true,
                .annotation = annotation("ev-reboot", "Reboot", ActionPhase::Cordoned, kNow, true),
                .trueConditions = {"VMEventScheduled"},
                .conditionTypes = kAllConditions}});
  r.push_back({"ActionNoneIsIgnored",
               [](Inputs& in) {
                 in.config.imds.actions[EventType::Redeploy] = EventAction::None;
                 in.pending = {pendingEvent("ev-redeploy", EventType::Redeploy, kNow + 10min)};
               },
               {.trueConditions = {"VMEventScheduled"}, .conditionTypes = kAllConditions}});
  r.push_back({"StrongestActionWinsOverEarlierNotify",
               [](Inputs& in) {
                 in.pending = {pendingEvent("ev-freeze", EventType::Freeze, kNow + 5s),
                               pendingEvent("ev-redeploy", EventType::Redeploy, kNow + 10min)};
               },
               {.taints = {{kTaintScheduledEvent, "Redeploy", "NoSchedule"}},
                .unschedulable = true,
                .annotation = annotation("ev-redeploy", "Redeploy", ActionPhase::Cordoned, kNow, true),
                .trueConditions = {"VMEventScheduled"},
                .conditionTypes = kAllConditions,
                .drain = true}});
  r.push_back({"EarliestDeadlineWinsAmongEqualActions",
               [](Inputs& in) {
                 in.pending = {pendingEvent("ev-reboot", EventType::Reboot, kNow + 10min), preempt()};
               },
               {.taints = {kPreemptTaint},
                .unschedulable = true,
                .annotation = annotation("ev-preempt", "Preempt", ActionPhase::Cordoned, kNow, true),
                .trueConditions = {"VMEventScheduled"},  // PreemptionScheduled once the drain ended
                .conditionTypes = kAllConditions,
                .drain = true}});
  r.push_back({"NodeCordonedByOthersIsNotOurs",
               [](Inputs& in) {
                 in.pending = {preempt()};
                 in.node.unschedulable();
               },
               {.taints = {kPreemptTaint},
                .unschedulable = true,
                .annotation = annotation("ev-preempt", "Preempt", ActionPhase::Cordoned, kNow, false),
                .trueConditions = {"VMEventScheduled"},  // PreemptionScheduled once the drain ended
                .conditionTypes = kAllConditions,
                .drain = true}});
  r.push_back({"OthersCordonIsNotUndone",
               [](Inputs& in) {
                 in.config.imds.actions[EventType::Reboot] = EventAction::Cordon;
                 in.node.unschedulable().agentState(
                     annotation("ev-reboot", "Reboot", ActionPhase::Cordoned, kNow - 1min, false));
               },
               {.unschedulable = std::nullopt, .conditionTypes = kAllConditions, .undo = true}});
  r.push_back({"NonFatalEventEndedIsUndone",
               [](Inputs& in) {
                 in.node.unschedulable()
                     .taint(kTaintScheduledEvent, "Reboot", "NoSchedule")
                     .agentState(annotation("ev-reboot", "Reboot", ActionPhase::Drained, kNow - 1min, true));
               },
               {.taints = {}, .unschedulable = false, .conditionTypes = kAllConditions, .undo = true}});
  r.push_back({"UncordonWhenEventEndsOffKeepsTheCordon",
               [](Inputs& in) {
                 in.config.drain.uncordonWhenEventEnds = false;
                 in.node.unschedulable().agentState(
                     annotation("ev-reboot", "Reboot", ActionPhase::Drained, kNow - 1min, true));
               },
               {.unschedulable = std::nullopt, .conditionTypes = kAllConditions, .undo = true}});
  r.push_back({"FatalEventEndedMomentsAgoIsKept",
               [](Inputs& in) {
                 in.node.unschedulable()
                     .taint(kTaintScheduledEvent, "Preempt", "NoSchedule")
                     .agentState(annotation("ev-preempt", "Preempt", ActionPhase::Drained, kNow - 2min, true));
                 in.endedAt["ev-preempt"] = kNow - 1min;
               },
               {.taints = {kPreemptTaint},
                .unschedulable = true,
                .annotation = annotation("ev-preempt", "Preempt", ActionPhase::Drained, kNow - 2min, true),
                .conditionTypes = kAllConditions}});
  // The Preempt is gone from IMDS because the VM is going: once the kubelet stops reporting
  // Ready, the out-of-service taint follows the drain even in the keep window.
  r.push_back({"FatalEventEndedMomentsAgoOutOfServiceOnceNotReady",
               [](Inputs& in) {
                 in.config.drain.outOfServiceTaintAfterDrain = true;
                 in.node.unschedulable()
                     .taint(kTaintScheduledEvent, "Preempt", "NoSchedule")
                     .agentState(annotation("ev-preempt", "Preempt", ActionPhase::Drained, kNow - 2min, true))
                     .condition("Ready", "False", "KubeletNotReady", "kubelet stopped", kNow - 30s, kNow - 30s);
                 in.endedAt["ev-preempt"] = kNow - 1min;
               },
               {.taints = {kPreemptTaint, kOutOfService},
                .unschedulable = true,
                .annotation = annotation("ev-preempt", "Preempt", ActionPhase::Drained, kNow - 2min, true),
                .conditionTypes = kAllConditions}});
  // The window runs from the end of the event, not from the agent's first action: a Terminate
  // with 15 minutes of notice that vanishes from one IMDS answer must not uncordon at once.
  r.push_back({"FatalEventPendingLongEndedRecentlyIsKept",
               [](Inputs& in) {
                 in.node.unschedulable()
                     .taint(kTaintScheduledEvent, "Terminate", "NoSchedule")
                     .agentState(annotation("ev-term", "Terminate", ActionPhase::Drained, kNow - 14min, true));
                 in.endedAt["ev-term"] = kNow - 10s;
               },
               {.taints = {{kTaintScheduledEvent, "Terminate", "NoSchedule"}},
                .unschedulable = true,
                .annotation = annotation("ev-term", "Terminate", ActionPhase::Drained, kNow - 14min, true),
                .conditionTypes = kAllConditions}});
  r.push_back({"FatalEventEndedLongAgoIsUndone",
               [](Inputs& in) {
                 in.node.unschedulable()
                     .taint(kTaintScheduledEvent, "Preempt", "NoSchedule")
                     .agentState(annotation("ev-preempt", "Preempt", ActionPhase::Drained, kNow - 12min, true));
                 in.endedAt["ev-preempt"] = kNow - 10min;
               },
               {.taints = {}, .unschedulable = false, .conditionTypes = kAllConditions, .undo = true}});
  r.push_back({"FatalEventEndUnknownCountsFromSince",
               [](Inputs& in) {
                 in.node.unschedulable().agentState(
                     annotation("ev-preempt", "Preempt", ActionPhase::Drained, kNow - 11min, true));
               },
               {.unschedulable = false, .conditionTypes = kAllConditions, .undo = true}});
  // A fatal event handled by cordon only never had the taint: keeping its state must not add it.
  r.push_back({"KeptCordonOnlyFatalEventGetsNoTaint",
               [](Inputs& in) {
                 in.config.imds.actions[EventType::Preempt] = EventAction::Cordon;
                 in.node.unschedulable().agentState(
                     annotation("ev-preempt", "Preempt", ActionPhase::Cordoned, kNow - 1min, true));
                 in.endedAt["ev-preempt"] = kNow - 1min;
               },
               {.taints = {},
                .unschedulable = true,
                .annotation = annotation("ev-preempt", "Preempt", ActionPhase::Cordoned, kNow - 1min, true),
                .conditionTypes = kAllConditions}});
  // Just restarted, IMDS not answered yet: what the agent did stays as it is.
  r.push_back({"NothingUndoneBeforeEventsAreKnown",
               [](Inputs& in) {
                 in.eventsKnown = false;
                 in.config.drain.outOfServiceTaintAfterDrain = true;
                 in.node.unschedulable()
                     .taint(kTaintScheduledEvent, "Reboot", "NoSchedule")
                     .taint(kTaintOutOfService, "nodeshutdown", "NoExecute")
                     .agentState(annotation("ev-reboot", "Reboot", ActionPhase::Draining, kNow - 1h, true));
               },
               {.taints = {{kTaintScheduledEvent, "Reboot", "NoSchedule"}, kOutOfService},
                .unschedulable = std::nullopt,
                .annotation = annotation("ev-reboot", "Reboot", ActionPhase::Draining, kNow - 1h, true),
                .conditionTypes = kAllConditions}});
  r.push_back({"DiskTaintFollowsHealthBeforeEventsAreKnown",
               [](Inputs& in) {
                 in.eventsKnown = false;
                 in.node.taint(kTaintDiskUnhealthy, "ReadOnly", "NoSchedule")
                     .agentState(annotation("ev-reboot", "Reboot", ActionPhase::Cordoned, kNow - 1h, true));
                 in.health = {probeResult("disk", "/mnt", false, "LowSpace", "1% free", true)};
               },
               {.taints = {{kTaintDiskUnhealthy, "LowSpace", "NoSchedule"}},
                .annotation = annotation("ev-reboot", "Reboot", ActionPhase::Cordoned, kNow - 1h, true),
                .trueConditions = {"LocalDiskProblem"},
                .conditionTypes = kAllConditions}});
  r.push_back({"NewIdKeepsCordonedByAgent",
               [](Inputs& in) {
                 in.pending = {preempt("ev-new")};
                 in.node.unschedulable()
                     .taint(kTaintScheduledEvent, "Preempt", "NoSchedule")
                     .agentState(annotation("ev-old", "Preempt", ActionPhase::Draining, kNow - 20s, true));
               },
               {.taints = {kPreemptTaint},
                .unschedulable = true,
                .annotation = annotation("ev-new", "Preempt", ActionPhase::Cordoned, kNow, true),
                .trueConditions = {"VMEventScheduled"},  // PreemptionScheduled once the drain ended
                .conditionTypes = kAllConditions,
                .drain = true}});
  r.push_back({"SameIdKeepsTheAnnotation",
               [](Inputs& in) {
                 in.pending = {preempt()};
                 in.node.unschedulable().agentState(
                     annotation("ev-preempt", "Preempt", ActionPhase::Draining, kNow - 20s, true));
               },
               {.taints = {kPreemptTaint},
                .unschedulable = true,
                .annotation = annotation("ev-preempt", "Preempt", ActionPhase::Draining, kNow - 20s, true),
                .trueConditions = {"VMEventScheduled"},  // PreemptionScheduled once the drain ended
                .conditionTypes = kAllConditions,
                .drain = true}});
  r.push_back({"LocalPhaseBeatsAnnotationPhase",
               [](Inputs& in) {
                 in.pending = {preempt()};
                 in.node.unschedulable().agentState(
                     annotation("ev-preempt", "Preempt", ActionPhase::Draining, kNow - 20s, true));
                 in.localPhases["ev-preempt"] = ActionPhase::Drained;
               },
               {.taints = {kPreemptTaint},
                .unschedulable = true,
                .annotation = annotation("ev-preempt", "Preempt", ActionPhase::Drained, kNow - 20s, true),
                .trueConditions = {"PreemptionScheduled", "VMEventScheduled"},
                .conditionTypes = kAllConditions}});
  r.push_back({"LowerLocalPhaseDoesNotGoBack",
               [](Inputs& in) {
                 in.pending = {preempt()};
                 in.node.unschedulable().agentState(
                     annotation("ev-preempt", "Preempt", ActionPhase::Drained, kNow - 20s, true));
                 in.localPhases["ev-preempt"] = ActionPhase::Draining;
               },
               {.taints = {kPreemptTaint},
                .unschedulable = true,
                .annotation = annotation("ev-preempt", "Preempt", ActionPhase::Drained, kNow - 20s, true),
                .trueConditions = {"PreemptionScheduled", "VMEventScheduled"},
                .conditionTypes = kAllConditions}});
  r.push_back({"LocalPhaseOfAnotherEventIsIgnored",
               [](Inputs& in) {
                 in.pending = {preempt()};
                 in.localPhases["ev-other"] = ActionPhase::Drained;
               },
               {.taints = {kPreemptTaint},
                .unschedulable = true,
                .annotation = annotation("ev-preempt", "Preempt", ActionPhase::Cordoned, kNow, true),
                .trueConditions = {"VMEventScheduled"},  // PreemptionScheduled once the drain ended
                .conditionTypes = kAllConditions,
                .drain = true}});
  r.push_back({"FailedDrainIsNotRetried",
               [](Inputs& in) {
                 in.pending = {preempt()};
                 in.node.unschedulable().agentState(
                     annotation("ev-preempt", "Preempt", ActionPhase::Failed, kNow - 20s, true));
               },
               {.taints = {kPreemptTaint},
                .unschedulable = true,
                .annotation = annotation("ev-preempt", "Preempt", ActionPhase::Failed, kNow - 20s, true),
                .trueConditions = {"PreemptionScheduled", "VMEventScheduled"},
                .conditionTypes = kAllConditions}});
  auto drainedPreempt = [](Inputs& in) {
    in.config.imds.acknowledgeAfterDrain = {"Preempt"};
    in.pending = {preempt()};
    in.node.unschedulable().agentState(annotation("ev-preempt", "Preempt", ActionPhase::Drained, kNow - 20s, true));
  };
  const Expected drainedPreemptWant{
      .taints = {kPreemptTaint},
      .unschedulable = true,
      .annotation = annotation("ev-preempt", "Preempt", ActionPhase::Drained, kNow - 20s, true),
      .trueConditions = {"PreemptionScheduled", "VMEventScheduled"},
      .conditionTypes = kAllConditions};
  {
    Expected want = drainedPreemptWant;
    want.acknowledge = true;
    r.push_back({"AcknowledgeWhenDrainedListedAndOnlyThisVm", drainedPreempt, want});
  }
  r.push_back({"NoAcknowledgeWhenTypeNotListed",
               [=](Inputs& in) {
                 drainedPreempt(in);
                 in.config.imds.acknowledgeAfterDrain = {"Reboot", "Redeploy"};
               },
               drainedPreemptWant});
  r.push_back({"NoAcknowledgeWhenEventNamesAnotherVm",
               [=](Inputs& in) {
                 drainedPreempt(in);
                 in.pending = {pendingEvent("ev-preempt", EventType::Preempt, kNow + 30s, {kVm, kOtherVm})};
               },
               drainedPreemptWant});
  {
    Expected want = drainedPreemptWant;
    want.annotation->phase = ActionPhase::Draining;
    want.drain = true;
    want.trueConditions = {"VMEventScheduled"};  // PreemptionScheduled once the drain ended
    r.push_back({"NoAcknowledgeBeforeDrained",
                 [=](Inputs& in) {
                   drainedPreempt(in);
                   in.node = NodeBuilder().unschedulable().agentState(
                       annotation("ev-preempt", "Preempt", ActionPhase::Draining, kNow - 20s, true));
                 },
                 want});
  }
  {
    Expected want = drainedPreemptWant;
    want.annotation->phase = ActionPhase::Acknowledged;
    r.push_back({"NoSecondAcknowledge",
                 [=](Inputs& in) {
                   drainedPreempt(in);
                   in.localPhases["ev-preempt"] = ActionPhase::Acknowledged;
                 },
                 want});
  }
  {
    Expected want = drainedPreemptWant;
    want.taints = {kPreemptTaint, kOutOfService};
    r.push_back({"OutOfServiceTaintAfterDrainOnceTheNodeIsNotReady",
                 [=](Inputs& in) {
                   drainedPreempt(in);
                   in.config.imds.acknowledgeAfterDrain.clear();
                   in.config.drain.outOfServiceTaintAfterDrain = true;
                   in.node.condition("Ready", "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.",
                                     kNow - 1min, kNow - 1min);
                 },
                 want});
  }
  {
    // node.kubernetes.io/out-of-service force-deletes pods: never on a kubelet that reports Ready.
    r.push_back({"NoOutOfServiceTaintWhileTheKubeletReportsReady",
                 [=](Inputs& in) {
                   drainedPreempt(in);
                   in.config.imds.acknowledgeAfterDrain.clear();
                   in.config.drain.outOfServiceTaintAfterDrain = true;
                 },
                 drainedPreemptWant});
    r.push_back({"OutOfServiceTaintGoesWhenTheKubeletIsReadyAgain",
                 [=](Inputs& in) {
                   drainedPreempt(in);
                   in.config.imds.acknowledgeAfterDrain.clear();
                   in.config.drain.outOfServiceTaintAfterDrain = true;
                   in.node.taint(kTaintOutOfService, "nodeshutdown", "NoExecute");
                 },
                 drainedPreemptWant});
  }
  r.push_back({"NoOutOfServiceTaintBeforeDrained",
               [](Inputs& in) {
                 in.config.drain.outOfServiceTaintAfterDrain = true;
                 in.pending = {preempt()};
               },
               {.taints = {kPreemptTaint},
                .unschedulable = true,
                .annotation = annotation("ev-preempt", "Preempt", ActionPhase::Cordoned, kNow, true),
                .trueConditions = {"VMEventScheduled"},  // PreemptionScheduled once the drain ended
                .conditionTypes = kAllConditions,
                .drain = true}});
  r.push_back({"NoOutOfServiceTaintForRebootDrain",
               [](Inputs& in) {
                 in.config.drain.outOfServiceTaintAfterDrain = true;
                 in.pending = {pendingEvent("ev-reboot", EventType::Reboot, kNow + 10min)};
                 in.node.unschedulable().agentState(
                     annotation("ev-reboot", "Reboot", ActionPhase::Drained, kNow - 20s, true));
               },
               {.taints = {{kTaintScheduledEvent, "Reboot", "NoSchedule"}},
                .unschedulable = true,
                .annotation = annotation("ev-reboot", "Reboot", ActionPhase::Drained, kNow - 20s, true),
                .trueConditions = {"VMEventScheduled"},
                .conditionTypes = kAllConditions}});
  r.push_back({"TaintOffDrainsWithoutTaint",
               [](Inputs& in) {
                 in.config.drain.taint = false;
                 in.pending = {preempt()};
               },
               {.taints = {},
                .unschedulable = true,
                .annotation = annotation("ev-preempt", "Preempt", ActionPhase::Cordoned, kNow, true),
                .trueConditions = {"VMEventScheduled"},  // PreemptionScheduled once the drain ended
                .conditionTypes = kAllConditions,
                .drain = true}});
  r.push_back({"UnhealthyDiskWithTaintWhenUnhealthy",
               [](Inputs& in) {
                 in.health = {probeResult("disk", "/mnt", false, "ReadOnly", "mounted read-only", true),
                              probeResult("cache", "/mnt/cache", true)};
               },
               {.taints = {{kTaintDiskUnhealthy, "ReadOnly", "NoSchedule"}},
                .trueConditions = {"LocalDiskProblem"},
                .conditionTypes = kAllConditions}});
  r.push_back({"UnhealthyCacheWithTaintWhenUnhealthy",
               [](Inputs& in) {
                 in.health = {probeResult("cache", "/mnt/cache", false, "QuotaExceeded", "over quota", true)};
               },
               {.taints = {{kTaintDiskUnhealthy, "QuotaExceeded", "NoSchedule"}},
                .trueConditions = {"CacheProblem"},
                .conditionTypes = kAllConditions}});
  r.push_back({"UnhealthyDiskWithoutTaintWhenUnhealthy",
               [](Inputs& in) { in.health = {probeResult("disk", "/mnt", false, "LowSpace", "2% free", false)}; },
               {.taints = {}, .trueConditions = {"LocalDiskProblem"}, .conditionTypes = kAllConditions}});
  r.push_back({"UnhealthyIdentityNeverTaints",
               [](Inputs& in) {
                 in.health = {probeResult("identity", "/var/run/token", false, "TokenExpired", "expired", true)};
               },
               {.taints = {}, .trueConditions = {"WorkloadIdentityProblem"}, .conditionTypes = kAllConditions}});
  r.push_back({"ConditionsDisabled",
               [](Inputs& in) {
                 in.config.conditions.enabled = false;
                 in.pending = {preempt()};
                 in.health = {probeResult("disk", "/mnt", false, "ReadOnly", "mounted read-only", false)};
               },
               {.taints = {kPreemptTaint},
                .unschedulable = true,
                .annotation = annotation("ev-preempt", "Preempt", ActionPhase::Cordoned, kNow, true),
                .trueConditions = {},
                .conditionTypes = {},
                .drain = true}});
  r.push_back({"IdentityDisabledHasNoIdentityCondition",
               [](Inputs& in) { in.config.identity.enabled = false; },
               {.conditionTypes = {"PreemptionScheduled", "VMEventScheduled", "LocalDiskProblem", "CacheProblem"}}});
  r.push_back({"NoDisksNoCachesNoTheirConditions",
               [](Inputs& in) {
                 in.config.disks.clear();
                 in.config.caches.clear();
               },
               {.conditionTypes = {"PreemptionScheduled", "VMEventScheduled", "WorkloadIdentityProblem"}}});
  r.push_back({"NothingPendingNothingToDo", [](Inputs&) {}, {.conditionTypes = kAllConditions}});
  return r;
}

class DesiredStateTable : public ::testing::TestWithParam<Row> {};

TEST_P(DesiredStateTable, Row) {
  const Row& row = GetParam();
  Inputs in;
  row.setup(in);
  EngineInputs engine;
  engine.pending = &in.pending;
  engine.health = &in.health;
  engine.vmName = kVm;
  engine.localPhases = &in.localPhases;
  engine.endedAt = &in.endedAt;
  engine.eventsKnown = in.eventsKnown;
  const DesiredNode d = computeDesiredNode(engine, in.node.view(), in.config, kNow);
  const Expected& want = row.want;

  EXPECT_THAT(d.taints, ElementsAreArray(want.taints));
  EXPECT_EQ(d.unschedulable, want.unschedulable);
  EXPECT_EQ(d.annotation.has_value(), want.annotation.has_value());
  if (d.annotation && want.annotation) {
    EXPECT_EQ(d.annotation->eventId, want.annotation->eventId);
    EXPECT_EQ(d.annotation->eventType, want.annotation->eventType);
    EXPECT_STREQ(toString(d.annotation->phase), toString(want.annotation->phase));
    EXPECT_EQ(d.annotation->since, want.annotation->since);
    EXPECT_EQ(d.annotation->cordonedByAgent, want.annotation->cordonedByAgent);
  }
  std::vector<std::string> types, trueTypes;
  for (const auto& c : d.conditions) {
    types.push_back(c.type);
    if (c.status) trueTypes.push_back(c.type);
  }
  EXPECT_THAT(types, ElementsAreArray(want.conditionTypes));
  EXPECT_THAT(trueTypes, ElementsAreArray(want.trueConditions));
  EXPECT_EQ(d.drain, want.drain);
  EXPECT_EQ(d.acknowledge, want.acknowledge);
  EXPECT_EQ(d.undo, want.undo);
  // Every taint the agent wants is one it manages (otherwise the patch would duplicate it).
  for (const auto& t : d.taints) {
    EXPECT_NE(std::find(d.ownedTaintKeys.begin(), d.ownedTaintKeys.end(), t.key), d.ownedTaintKeys.end()) << t.key;
  }
}

INSTANTIATE_TEST_SUITE_P(Engine, DesiredStateTable, ::testing::ValuesIn(rows()),
                         [](const ::testing::TestParamInfo<Row>& row) { return row.param.name; });

// --- What a row does not show ------------------------------------------------------------

struct DesiredStateTest : ::testing::Test {
  Config config;
  std::vector<PendingEvent> pending;
  std::vector<ProbeResult> health;
  EngineInputs inputs() {
    EngineInputs in;
    in.pending = &pending;
    in.health = &health;
    in.vmName = kVm;
    return in;
  }
  const DesiredCondition& condition(const DesiredNode& d, const std::string& type) {
    for (const auto& c : d.conditions) {
      if (c.type == type) return c;
    }
    throw std::runtime_error("no condition " + type);
  }
};

TEST_F(DesiredStateTest, PreemptionConditionCarriesNotBeforeForKarpenter) {
  pending = {preempt()};
  const std::map<std::string, ActionPhase> drained{{"ev-preempt", ActionPhase::Drained}};
  EngineInputs in = inputs();
  in.localPhases = &drained;
  const auto d = computeDesiredNode(in, NodeBuilder().view(), config, kNow);
  const auto& c = condition(d, "PreemptionScheduled");
  EXPECT_TRUE(c.status);
  EXPECT_EQ(c.reason, "SpotEvictionIncoming");
  // node-problem-detector's shape, which Karpenter reads the deadline from.
  EXPECT_EQ(c.message, "Preempt Scheduled: " + formatRfc1123(kNow + 30s) + ". EventId: ev-preempt");
  const auto& vm = condition(d, "VMEventScheduled");
  EXPECT_TRUE(vm.status);
  EXPECT_EQ(vm.reason, "VMEventScheduled");
  EXPECT_EQ(vm.message, "Preempt Scheduled: " + formatRfc1123(kNow + 30s) + ". EventId: ev-preempt");
}

TEST_F(DesiredStateTest, NoEventConditionsAreFalseWithStableTexts) {
  const auto d1 = computeDesiredNode(inputs(), NodeBuilder().view(), config, kNow);
  const auto d2 = computeDesiredNode(inputs(), NodeBuilder().view(), config, kNow + 1h);
  ASSERT_EQ(d1.conditions.size(), d2.conditions.size());
  for (std::size_t i = 0; i < d1.conditions.size(); ++i) {
    EXPECT_FALSE(d1.conditions[i].status) << d1.conditions[i].type;
    // A text that changed with time would rewrite the status every pass.
    EXPECT_EQ(d1.conditions[i].message, d2.conditions[i].message);
    EXPECT_EQ(d1.conditions[i].reason, d2.conditions[i].reason);
  }
  EXPECT_EQ(condition(d1, "PreemptionScheduled").reason, "NoPreemptionScheduled");
}

TEST_F(DesiredStateTest, VmEventConditionNamesTheEarliestEvent) {
  pending = {pendingEvent("ev-reboot", EventType::Reboot, kNow + 10min),
             pendingEvent("ev-freeze", EventType::Freeze, kNow + 1min)};
  const auto d = computeDesiredNode(inputs(), NodeBuilder().view(), config, kNow);
  const auto& c = condition(d, "VMEventScheduled");
  EXPECT_EQ(c.reason, "VMEventScheduled");
  EXPECT_EQ(c.message, "Freeze Scheduled: " + formatRfc1123(kNow + 1min) + ". EventId: ev-freeze");
  EXPECT_FALSE(condition(d, "PreemptionScheduled").status);
  // The drain follows the Reboot, the stronger action.
  ASSERT_TRUE(d.active);
  EXPECT_EQ(d.active->pending.event.eventId, "ev-reboot");
}

TEST_F(DesiredStateTest, ProbeConditionNamesTheFirstFailureAndCountsTheRest) {
  config.disks = {DiskConfig{}, DiskConfig{}, DiskConfig{}};
  health = {probeResult("disk", "/mnt", true), probeResult("disk", "/mnt/a", false, "LowSpace", "3% free"),
            probeResult("disk", "/mnt/b", false, "ReadOnly", "read-only")};
  const auto d = computeDesiredNode(inputs(), NodeBuilder().view(), config, kNow);
  const auto& c = condition(d, "LocalDiskProblem");
  EXPECT_TRUE(c.status);
  EXPECT_EQ(c.reason, "LowSpace");
  EXPECT_EQ(c.message, "/mnt/a: 3% free (and 1 more)");
}

TEST_F(DesiredStateTest, AProbeConditionLeftByAnEarlierConfigIsSetFalse) {
  config.disks.clear();
  config.caches.clear();
  config.identity.enabled = false;
  // Left True by a disk probe since removed from the config, and False by a cache probe.
  const auto live = NodeBuilder()
                        .condition("LocalDiskProblem", "True", "LowSpace", "/mnt: 2% free", kNow - 1h, kNow - 1h)
                        .condition("CacheProblem", "False", "CacheHealthy", "ok", kNow - 1h, kNow - 1h)
                        .view();
  const auto d = computeDesiredNode(inputs(), live, config, kNow);
  const auto& disk = condition(d, "LocalDiskProblem");
  EXPECT_FALSE(disk.status);
  EXPECT_EQ(disk.reason, "NotMonitored");
  // Already False, or never there: nothing written.
  EXPECT_THROW(condition(d, "CacheProblem"), std::runtime_error);
  EXPECT_THROW(condition(d, "WorkloadIdentityProblem"), std::runtime_error);
  // A node that never had one gets none.
  const auto fresh = computeDesiredNode(inputs(), NodeBuilder().view(), config, kNow);
  EXPECT_THROW(condition(fresh, "LocalDiskProblem"), std::runtime_error);
}

TEST_F(DesiredStateTest, UnknownEventTypesAreNeverChosen) {
  pending = {pendingEvent("ev-x", EventType::Unknown, kNow + 1s)};
  EXPECT_FALSE(chooseActiveEvent(pending, config));
}

TEST_F(DesiredStateTest, ChooseActiveEventNotifyWhenOnlyNotify) {
  pending = {pendingEvent("ev-freeze", EventType::Freeze, kNow + 1min)};
  auto a = chooseActiveEvent(pending, config);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->action, EventAction::Notify);
  EXPECT_FALSE(chooseActiveEvent({}, config));
}

TEST_F(DesiredStateTest, NullInputsAreNothing) {
  const auto d = computeDesiredNode(EngineInputs{}, NodeBuilder().view(), config, kNow);
  EXPECT_FALSE(d.active);
  EXPECT_FALSE(d.drain);
  EXPECT_FALSE(d.annotation);
  EXPECT_THAT(d.taints, IsEmpty());
}

}  // namespace
}  // namespace aksnode
