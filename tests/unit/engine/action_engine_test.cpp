// ActionEngine end to end on simulated time, against an in-memory Node (FakeNodeKube) and a
// drain the test controls (FakeDrainer): what it PATCHes, when it drains, how it heals.
#include "agent/engine/action_engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "agent/kube/kube_client.h"
#include "agent/notify/notifier_impl.h"
#include "metrics/metrics.h"
#include "probes/scheduled_events/imds_client.h"
#include "unit/engine/engine_test_support.h"
#include "unit/engine/fake_node_kube.h"
#include "unit/kube/fake_http_client.h"
#include "support/sim_timers.h"
#include "unit/notify/fake_webhook_client.h"

namespace aksnode {
namespace {

using namespace std::chrono_literals;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using testing::kVm;
using testing::NodeBuilder;
using testing::pendingEvent;

class ActionEngineTest : public ::testing::Test {
 protected:
  ActionEngineTest() { time.setSystemTime(testing::kWallStart); }
  ~ActionEngineTest() override { shutdown(); }

  void start(bool dryRun = false, bool withKube = true) {
    ActionEngineDeps deps{.config = config,
                          .kube = withKube ? &kube : nullptr,
                          .drainer = &drainer,
                          .imds = &imds,
                          .metrics = metrics,
                          .timers = timers,
                          .dryRun = dryRun,
                          .nodeName = "aks-spot-12345678-vmss000003",
                          .ownPodNamespace = "aks-node-agent",
                          .ownPodName = "aks-node-agent-x7k2p",
                          .kubeNotConfiguredReason = "no kubeconfig and not in a cluster",
                          .notifier = notifier};
    engine = std::make_unique<ActionEngine>(io.get_executor(), std::move(deps));
    engine->setVmName(kVm);
    boost::asio::co_spawn(io, engine->run(), [this](std::exception_ptr e) {
      runError = e;
      runFinished = true;
    });
    settle();
  }
  void shutdown() {
    if (!engine || runFinished) return;
    engine->stop();
    drainer.release = true;
    EXPECT_TRUE(timers.runUntil([&] { return runFinished; }, 1min));
    // Let detached work (drain, acknowledgement, Events) finish before the engine goes.
    timers.runUntil([&] { return !drainer.running; }, 1min);
    if (runError) std::rethrow_exception(runError);
  }
  // Runs the loop for `d` of simulated time.
  void settle(std::chrono::nanoseconds d = 100ms) {
    const auto until = time.monotonicTime() + d;
    timers.runUntil([&] { return time.monotonicTime() >= until; }, d + 1s);
  }
  bool runUntil(const std::function<bool()>& done, std::chrono::nanoseconds limit = 1min) {
    return timers.runUntil(done, limit);
  }

  PendingEvent event(const std::string& id, EventType type, std::chrono::seconds notice) {
    PendingEvent p = pendingEvent(id, type, time.systemTime() + notice);
    p.firstSeen = time.monotonicTime();
    p.firstSeenWall = time.systemTime();
    return p;
  }
  void appear(const std::vector<PendingEvent>& pending) {
    std::vector<LifecycleChange> changes;
    for (const auto& p : pending) changes.push_back(LifecycleChange{LifecycleKind::Started, p, {}, {}, false});
    engine->setPending(pending, changes);
  }
  void end(const PendingEvent& gone, const std::vector<PendingEvent>& still = {}) {
    engine->setPending(still, {LifecycleChange{LifecycleKind::Ended, gone, {}, {}, false}});
  }

  NodeView node() const { return *parseNodeView(kube.node); }
  std::optional<AgentAnnotation> state() const { return node().agentState; }
  double action(NodeAction name, bool ok = true, bool dry = false) { return metrics.action(name, ok, dry).Value(); }
  std::uint64_t detections() const {
    return const_cast<Metrics&>(metrics).eventDetectionLatency().Collect().histogram.sample_count;
  }

  boost::asio::io_context io;
  SimulatedTimeSource time;
  testing::SimulatedTimers timers{io, time};
  Config config;
  Metrics metrics{config};
  testing::FakeNodeKube kube{timers, NodeBuilder("aks-spot-12345678-vmss000003")
                                         .taint("kubernetes.azure.com/scalesetpriority", "spot", "NoSchedule",
                                                "2027-01-01T00:00:00Z")
                                         .json()};
  testing::FakeDrainer drainer{timers};
  testing::FakeHttpClient http{&timers};
  ImdsClient imds{http, config.imds, metrics, time};
  Notifier* notifier = nullptr;  // set before start()
  std::unique_ptr<ActionEngine> engine;
  bool runFinished = false;
  std::exception_ptr runError;
};

TEST_F(ActionEngineTest, StartReadsTheNodeAndWritesConditionsOnly) {
  start();
  EXPECT_EQ(kube.getCalls, 1);
  EXPECT_EQ(kube.patchCalls, 0);  // nothing to do to spec/metadata
  EXPECT_EQ(kube.statusCalls, 1);
  EXPECT_TRUE(engine->kubeReady());
  EXPECT_EQ(engine->kubeNotReadyReason(), "");
  EXPECT_THAT(kube.names, Contains("aks-spot-12345678-vmss000003"));
  EXPECT_EQ(node().conditions.at("PreemptionScheduled").status, "False");
  EXPECT_EQ(drainer.calls, 0);
  EXPECT_EQ(metrics.nodeCordoned().Value(), 0);
}

TEST_F(ActionEngineTest, AConditionAnotherWriterChangedSinceTheReadIsNotOverwritten) {
  start();
  // node-problem-detector writes VMEventScheduled in its own (non-agent) shape after the agent
  // read the node; the agent's view is stale when a Freeze (notify: no node patch) arrives.
  kube.externalUpdate([](boost::json::object& n) {
    n["status"].as_object()["conditions"].as_array().push_back(
        {{"type", "VMEventScheduled"}, {"status", "False"}, {"reason", "NoMaintenance"},
         {"message", "maintenance checker: nothing planned"}, {"lastHeartbeatTime", "2027-01-15T08:00:00Z"},
         {"lastTransitionTime", "2027-01-01T00:00:00Z"}});
  });
  appear({event("ev-freeze", EventType::Freeze, 15min)});
  settle(1s);
  EXPECT_EQ(node().conditions.at("VMEventScheduled").reason, "NoMaintenance") << "overwrote another writer";
  EXPECT_GE(kube.conflicts, 1) << "the status PATCH carries the node's resourceVersion";
  const auto left = engine->statusJson().at("conditionsLeftToOthers").as_array();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].at("type").as_string(), "VMEventScheduled");
}

TEST_F(ActionEngineTest, PreemptIsOnePatchThatCordonsTaintsAndAnnotates) {
  start();
  const auto rvBefore = node().resourceVersion;
  const PendingEvent ev = event("ev-preempt", EventType::Preempt, 30s);
  appear({ev});
  ASSERT_TRUE(runUntil([&] { return drainer.calls == 1; }));

  ASSERT_GE(kube.patchCalls, 1);
  EXPECT_EQ(kube.patchTypes[0], PatchType::StrategicMerge);
  const auto& patch = kube.patches[0].as_object();
  EXPECT_EQ(patch.at("metadata").at("resourceVersion").as_string(), rvBefore);
  EXPECT_TRUE(patch.at("spec").at("unschedulable").as_bool());
  EXPECT_EQ(patch.at("spec").at("taints").as_array().size(), 2u);
  EXPECT_TRUE(patch.at("metadata").at("annotations").as_object().contains(kAnnotationState));

  const NodeView n = node();
  EXPECT_TRUE(n.unschedulable);
  EXPECT_EQ(n.findTaint(kTaintScheduledEvent), (Taint{kTaintScheduledEvent, "Preempt", "NoSchedule"}));
  // The spot taint written by AKS is still there, with its timeAdded.
  EXPECT_EQ(boost::json::serialize(n.taints[0]),
            R"({"key":"kubernetes.azure.com/scalesetpriority","effect":"NoSchedule","value":"spot","timeAdded":"2027-01-01T00:00:00Z"})");
  ASSERT_TRUE(n.agentState);
  EXPECT_EQ(n.agentState->eventId, "ev-preempt");
  EXPECT_TRUE(n.agentState->cordonedByAgent);
  // Karpenter's node repair acts on PreemptionScheduled=True at once: not before the drain ended.
  EXPECT_EQ(n.conditions.at("PreemptionScheduled").status, "False");
  EXPECT_EQ(n.conditions.at("VMEventScheduled").status, "True");
  EXPECT_EQ(n.conditions.at("VMEventScheduled").reason, "VMEventScheduled");

  EXPECT_EQ(action(NodeAction::Cordon), 1);
  EXPECT_EQ(action(NodeAction::Taint), 1);
  EXPECT_EQ(metrics.nodeCordoned().Value(), 1);
  EXPECT_THAT(kube.eventReasons(), Contains("ScheduledEvent"));
  EXPECT_THAT(kube.eventReasons(), Contains("Cordoned"));
  EXPECT_THAT(kube.eventReasons(), Contains("DrainStarted"));
  for (const auto& ns : kube.eventNamespaces) EXPECT_EQ(ns, "default");
  for (const auto& e : kube.events) {
    EXPECT_EQ(e.at("involvedObject").at("uid").as_string(), "6f1c4a8e-0000-4000-8000-000000000003");
    EXPECT_EQ(e.at("source").at("component").as_string(), "aks-node-agent");
  }

  // The drain's deadline: NotBefore - deadlineMargin (27 s) is sooner than drain.timeout.
  // (30 s of notice, minus the 10 ms the simulated PATCHes took.)
  EXPECT_EQ(drainer.lastOptions.deadline - drainer.startedAt, 27s - 10ms);
  EXPECT_EQ(drainer.lastOptions.nodeName, "aks-spot-12345678-vmss000003");
  EXPECT_EQ(drainer.lastOptions.ownPodName, "aks-node-agent-x7k2p");
  // The phase reached locally is on the node too.
  ASSERT_TRUE(runUntil([&] { return state() && state()->phase == ActionPhase::Draining; }));
  EXPECT_EQ(kube.patchCalls, 2);  // the cordon, then the phase
  EXPECT_EQ(engine->statusJson().at("drain").at("running").as_bool(), true);
}

TEST_F(ActionEngineTest, ConflictRereadsAndRetriesKeepingTheOtherWriter) {
  start();
  kube.beforePatch = [](testing::FakeNodeKube& k) {
    k.externalUpdate([](boost::json::object& n) {
      n["spec"].as_object()["taints"].as_array().push_back(
          boost::json::object{{"key", "example.com/maintenance"}, {"value", "true"}, {"effect", "NoSchedule"}});
    });
  };
  appear({event("ev-preempt", EventType::Preempt, 30s)});
  ASSERT_TRUE(runUntil([&] { return drainer.calls == 1; }));
  EXPECT_EQ(kube.conflicts, 1);
  EXPECT_EQ(kube.getCalls, 2);  // the start, and the re-read after the 409
  // The retry was computed from the fresh node: it carries the new resourceVersion and the
  // other writer's taint.
  ASSERT_GE(kube.patchCalls, 2);
  EXPECT_NE(kube.patches[1].at("metadata").at("resourceVersion"), kube.patches[0].at("metadata").at("resourceVersion"));
  EXPECT_EQ(kube.patches[1].at("spec").at("taints").as_array().size(), 3u);
  const NodeView n = node();
  EXPECT_TRUE(n.hasTaint("example.com/maintenance"));
  EXPECT_TRUE(n.hasTaint(kTaintScheduledEvent));
  EXPECT_TRUE(n.hasTaint("kubernetes.azure.com/scalesetpriority"));
  EXPECT_TRUE(n.unschedulable);
  EXPECT_EQ(action(NodeAction::Cordon), 1);
  EXPECT_EQ(action(NodeAction::Cordon, false), 0);
}

TEST_F(ActionEngineTest, PersistentConflictsGiveUpThePassAndHealLater) {
  start();
  for (int i = 0; i < 20; ++i) kube.patchScript.push_back(testing::kubeFailure(409, "Conflict", "modified"));
  appear({event("ev-preempt", EventType::Preempt, 60s)});
  settle(2s);
  EXPECT_GE(kube.patchCalls, 9);
  EXPECT_FALSE(node().unschedulable);
  // No drain on a node that is not cordoned: evicted pods could come straight back.
  EXPECT_EQ(drainer.calls, 0);
  // The pass that gave up counts as failed: the next one comes after the short backoff with a
  // fresh read (not after the 10 s resync), and gets through once the conflicts stop.
  ASSERT_TRUE(runUntil([&] { return node().unschedulable; }, 5s));
  ASSERT_TRUE(runUntil([&] { return drainer.calls == 1; }));
}

// Issue 19: an API server answering 409 forever made the agent PATCH and GET ~17 times a second
// (432 PATCH + 479 GET in 25 s). Retries within a pass are spread and the passes back off.
TEST_F(ActionEngineTest, EndlessConflictsBackOff) {
  start();
  for (int i = 0; i < 10'000; ++i) kube.patchScript.push_back(testing::kubeFailure(409, "Conflict", "modified"));
  appear({event("ev-preempt", EventType::Preempt, 60s)});
  settle(60s);
  // Nine attempts per pass (1.3 s), passes 5 s apart once backed off: ~105 in a minute, where
  // retrying at once made thousands.
  EXPECT_GE(kube.patchCalls, 18);
  EXPECT_LE(kube.patchCalls, 150);
  EXPECT_FALSE(node().unschedulable);
  const auto lastError = engine->statusJson().at("kubernetes").at("lastError").as_string();
  EXPECT_THAT(std::string(lastError.data(), lastError.size()), ::testing::HasSubstr("conflicting"));
}

TEST_F(ActionEngineTest, FailedPatchIsRetriedAndNeverUsesAStaleNode) {
  start();
  kube.patchScript.push_back(testing::kubeFailure(500, "InternalError", "etcd timeout"));
  appear({event("ev-preempt", EventType::Preempt, 60s)});
  settle(50ms);
  EXPECT_EQ(kube.patchCalls, 1);
  EXPECT_EQ(action(NodeAction::Cordon, false), 1);
  EXPECT_FALSE(node().unschedulable);
  ASSERT_TRUE(runUntil([&] { return node().unschedulable; }, 30s));
  EXPECT_EQ(action(NodeAction::Cordon), 1);
  ASSERT_TRUE(runUntil([&] { return drainer.calls == 1; }));
}

TEST_F(ActionEngineTest, DrainStartsOnceNotTwice) {
  start();
  const PendingEvent ev = event("ev-preempt", EventType::Preempt, 60s);
  appear({ev});
  ASSERT_TRUE(runUntil([&] { return drainer.calls == 1; }));
  // More documents with the same event, health rounds, resyncs: still one drain.
  for (int i = 0; i < 5; ++i) {
    engine->setPending({ev}, {});
    engine->setHealth({});
    settle(3s);
  }
  EXPECT_EQ(drainer.calls, 1);
  EXPECT_TRUE(drainer.running);
  EXPECT_FALSE(drainer.lastCancel->cancelled);
  EXPECT_EQ(kube.patchCalls, 2);  // the cordon, then the phase "draining"
}

TEST_F(ActionEngineTest, EventEndingDuringTheDrainCancelsItAndUndoes) {
  start();
  const PendingEvent ev = event("ev-reboot", EventType::Reboot, 300s);
  appear({ev});
  ASSERT_TRUE(runUntil([&] { return drainer.calls == 1 && state() && state()->phase == ActionPhase::Draining; }));
  end(ev);
  ASSERT_TRUE(runUntil([&] { return drainer.lastCancel->cancelled; }, 5s));
  ASSERT_TRUE(runUntil([&] { return !drainer.running && !node().unschedulable; }, 30s));
  const NodeView n = node();
  EXPECT_FALSE(n.agentState);
  EXPECT_FALSE(n.hasTaint(kTaintScheduledEvent));
  EXPECT_TRUE(n.hasTaint("kubernetes.azure.com/scalesetpriority"));
  EXPECT_EQ(action(NodeAction::Uncordon), 1);
  EXPECT_THAT(kube.eventReasons(), Contains("Uncordoned"));
  EXPECT_THAT(kube.eventReasons(), Not(Contains("DrainFailed")));
  EXPECT_EQ(drainer.calls, 1);
  // A cancelled drain is not a drain result.
  EXPECT_EQ(metrics.drainDuration(DrainResult::Success).Collect().histogram.sample_count, 0u);
}

TEST_F(ActionEngineTest, DrainSuccessWritesPhaseDrained) {
  start();
  appear({event("ev-preempt", EventType::Preempt, 60s)});
  ASSERT_TRUE(runUntil([&] { return drainer.calls == 1; }));
  settle(4s);
  drainer.release = true;
  ASSERT_TRUE(runUntil([&] { return state() && state()->phase == ActionPhase::Drained; }));
  EXPECT_THAT(kube.eventReasons(), Contains("DrainSucceeded"));
  const auto drained = metrics.drainDuration(DrainResult::Success).Collect().histogram;
  EXPECT_EQ(drained.sample_count, 1u);
  EXPECT_NEAR(drained.sample_sum, 4.0, 0.2);
  EXPECT_EQ(metrics.drainPodsRemaining().Value(), 0);
  EXPECT_EQ(action(NodeAction::Drain), 1);
  // Drained is final for this event: no second drain, no acknowledgement (not configured).
  settle(30s);
  EXPECT_EQ(drainer.calls, 1);
  EXPECT_TRUE(http.requests.empty());
  const auto status = engine->statusJson();
  EXPECT_EQ(status.at("drain").at("result").as_string(), "success");
  EXPECT_EQ(status.at("currentAction").at("phase").as_string(), "drained");
}

TEST_F(ActionEngineTest, DrainFailureWritesPhaseFailedAndIsNotRetried) {
  start();
  drainer.outcome = DrainOutcome{DrainResult::Timeout, {}, "deadline reached with 1 of 3 pods remaining", {}, {}};
  drainer.outcome.progress.podsRemaining = 1;
  appear({event("ev-preempt", EventType::Preempt, 60s)});
  ASSERT_TRUE(runUntil([&] { return drainer.calls == 1; }));
  drainer.release = true;
  ASSERT_TRUE(runUntil([&] { return state() && state()->phase == ActionPhase::Failed; }));
  EXPECT_THAT(kube.eventReasons(), Contains("DrainFailed"));
  EXPECT_THAT(kube.eventReasons(), Contains("EvictionBlocked"));
  EXPECT_EQ(metrics.drainDuration(DrainResult::Timeout).Collect().histogram.sample_count, 1u);
  EXPECT_EQ(metrics.drainPodsRemaining().Value(), 1);
  EXPECT_EQ(action(NodeAction::Drain, false), 1);
  settle(30s);
  EXPECT_EQ(drainer.calls, 1);
  EXPECT_TRUE(node().unschedulable);  // still cordoned: the VM is going anyway
}

TEST_F(ActionEngineTest, AcknowledgesAfterDrainWhenConfigured) {
  config.imds.acknowledgeAfterDrain = {"Preempt"};
  http.handler = [](const HttpRequest&) { return testing::httpResponse(200, ""); };
  start();
  appear({event("ev-preempt", EventType::Preempt, 60s)});
  ASSERT_TRUE(runUntil([&] { return drainer.calls == 1; }));
  drainer.release = true;
  ASSERT_TRUE(runUntil([&] { return state() && state()->phase == ActionPhase::Acknowledged; }));
  ASSERT_EQ(http.requests.size(), 1u);
  EXPECT_EQ(http.requests[0].method, "POST");
  EXPECT_EQ(http.requests[0].url, "http://169.254.169.254/metadata/scheduledevents?api-version=2020-07-01");
  EXPECT_EQ(testing::headerOf(http.requests[0], "Metadata"), "true");
  EXPECT_EQ(boost::json::parse(http.requests[0].body),
            boost::json::parse(R"({"StartRequests":[{"EventId":"ev-preempt"}]})"));
  EXPECT_EQ(action(NodeAction::Acknowledge), 1);
  EXPECT_THAT(kube.eventReasons(), Contains("EventAcknowledged"));
  settle(30s);
  EXPECT_EQ(http.requests.size(), 1u);  // once
}

TEST_F(ActionEngineTest, FailedAcknowledgementIsRetried) {
  config.imds.acknowledgeAfterDrain = {"Preempt"};
  http.script.push_back(testing::httpResponse(500, "oops"));
  http.handler = [](const HttpRequest&) { return testing::httpResponse(200, ""); };
  start();
  appear({event("ev-preempt", EventType::Preempt, 60s)});
  ASSERT_TRUE(runUntil([&] { return drainer.calls == 1; }));
  drainer.release = true;
  ASSERT_TRUE(runUntil([&] { return state() && state()->phase == ActionPhase::Acknowledged; }, 2min));
  EXPECT_EQ(http.requests.size(), 2u);
  EXPECT_EQ(action(NodeAction::Acknowledge, false), 1);
  EXPECT_EQ(action(NodeAction::Acknowledge), 1);
}

TEST_F(ActionEngineTest, DryRunMutatesNothingButCountsDecisions) {
  config.imds.acknowledgeAfterDrain = {"Preempt"};
  start(/*dryRun=*/true);
  appear({event("ev-preempt", EventType::Preempt, 60s)});
  settle(30s);
  EXPECT_EQ(kube.patchCalls, 0);
  EXPECT_EQ(kube.statusCalls, 0);
  EXPECT_TRUE(kube.events.empty());
  EXPECT_EQ(drainer.calls, 0);  // no pod is evicted
  EXPECT_TRUE(http.requests.empty());  // no acknowledgement
  EXPECT_GE(kube.getCalls, 1);  // reading is fine
  EXPECT_EQ(action(NodeAction::Cordon, true, true), 1);
  EXPECT_EQ(action(NodeAction::Taint, true, true), 1);
  EXPECT_EQ(action(NodeAction::Drain, true, true), 1);
  EXPECT_EQ(action(NodeAction::Cordon, true, false), 0);
  EXPECT_EQ(action(NodeAction::Acknowledge, true, true), 1);
  EXPECT_FALSE(parseNodeView(kube.node)->unschedulable);
  // The decision is made once, not on every pass.
  EXPECT_EQ(detections(), 1u);
}

TEST_F(ActionEngineTest, DetectionLatencyIsObservedOnce) {
  start();
  const PendingEvent ev = event("ev-preempt", EventType::Preempt, 60s);
  time.advance(250ms);  // the tracker saw the event 250 ms before the engine got it
  appear({ev});
  ASSERT_TRUE(runUntil([&] { return node().unschedulable; }));
  const auto h = metrics.eventDetectionLatency().Collect().histogram;
  EXPECT_EQ(h.sample_count, 1u);
  EXPECT_NEAR(h.sample_sum, 0.255, 1e-6);  // + one simulated PATCH of 5 ms
  // Someone uncordons; the agent cordons again, which is no new detection.
  kube.externalUpdate([](boost::json::object& n) { n["spec"].as_object()["unschedulable"] = false; });
  settle(11s);  // the resync sees it
  EXPECT_TRUE(node().unschedulable);
  EXPECT_EQ(action(NodeAction::Cordon), 2);
  EXPECT_EQ(detections(), 1u);
}

TEST_F(ActionEngineTest, RestartResumesADrainLeftDraining) {
  kube.node = NodeBuilder("aks-spot-12345678-vmss000003")
                  .unschedulable()
                  .taint(kTaintScheduledEvent, "Preempt", "NoSchedule")
                  .agentState(AgentAnnotation{"ev-preempt", "Preempt", ActionPhase::Draining, time.systemTime(), true})
                  .json();
  start();
  appear({event("ev-preempt", EventType::Preempt, 60s)});
  ASSERT_TRUE(runUntil([&] { return drainer.calls == 1; }));
  EXPECT_EQ(kube.patchCalls, 0);  // nothing to change: already cordoned, tainted and annotated
  EXPECT_TRUE(state()->cordonedByAgent);
  EXPECT_THAT(kube.eventReasons(), Not(Contains("Cordoned")));
}

// After a restart the first pass may come before IMDS answered (or before the VM's name is
// known, when nothing is "ours" yet): an empty list then is no news, and must not undo a drain.
TEST_F(ActionEngineTest, NothingIsUndoneBeforeTheFirstImdsDocument) {
  kube.node = NodeBuilder("aks-spot-12345678-vmss000003")
                  .unschedulable()
                  .taint(kTaintScheduledEvent, "Reboot", "NoSchedule")
                  .agentState(AgentAnnotation{"ev-reboot", "Reboot", ActionPhase::Draining, time.systemTime(), true})
                  .json();
  start();
  engine->setVmName("");
  engine->setPending({}, {});  // a document, but nothing can be ours without the VM name
  settle(30s);
  EXPECT_EQ(kube.patchCalls, 0);
  EXPECT_TRUE(node().unschedulable);
  ASSERT_TRUE(state());
  EXPECT_EQ(state()->phase, ActionPhase::Draining);
  engine->setVmName(kVm);
  appear({event("ev-reboot", EventType::Reboot, 300s)});
  ASSERT_TRUE(runUntil([&] { return drainer.calls == 1; }));
  EXPECT_TRUE(state()->cordonedByAgent);
  EXPECT_EQ(action(NodeAction::Uncordon), 0);
}

TEST_F(ActionEngineTest, NodeCordonedByOthersStaysCordonedAfterTheEvent) {
  kube.node = NodeBuilder("aks-spot-12345678-vmss000003").unschedulable().json();
  start();
  const PendingEvent ev = event("ev-redeploy", EventType::Redeploy, 300s);
  appear({ev});
  ASSERT_TRUE(runUntil([&] { return drainer.calls == 1; }));
  EXPECT_FALSE(state()->cordonedByAgent);
  drainer.release = true;
  ASSERT_TRUE(runUntil([&] { return state() && state()->phase == ActionPhase::Drained; }));
  end(ev);
  ASSERT_TRUE(runUntil([&] { return !state(); }));
  EXPECT_TRUE(node().unschedulable);
  EXPECT_FALSE(node().hasTaint(kTaintScheduledEvent));
  EXPECT_EQ(action(NodeAction::Uncordon), 0);
}

TEST_F(ActionEngineTest, FatalEventThatVanishesIsKeptTenMinutesFromItsEnd) {
  start();
  const PendingEvent ev = event("ev-term", EventType::Terminate, 900s);
  appear({ev});
  ASSERT_TRUE(runUntil([&] { return drainer.calls == 1; }));
  drainer.release = true;
  ASSERT_TRUE(runUntil([&] { return state() && state()->phase == ActionPhase::Drained; }));
  settle(12min);  // the event stays pending a long time (15 min Terminate notice)
  end(ev);        // and vanishes from one IMDS answer
  settle(9min);
  EXPECT_TRUE(node().unschedulable);
  EXPECT_TRUE(state());
  ASSERT_TRUE(runUntil([&] { return !node().unschedulable; }, 2min));
  EXPECT_FALSE(state());
}

TEST_F(ActionEngineTest, ChangedEventIdKeepsTheCordonOwnership) {
  start();
  const PendingEvent first = event("ev-1", EventType::Preempt, 60s);
  appear({first});
  ASSERT_TRUE(runUntil([&] { return drainer.calls == 1 && state() && state()->phase == ActionPhase::Draining; }));
  const PendingEvent second = event("ev-2", EventType::Preempt, 60s);
  std::vector<LifecycleChange> changes{LifecycleChange{LifecycleKind::Started, second, {}, {}, false},
                                       LifecycleChange{LifecycleKind::Ended, first, {}, {}, false}};
  engine->setPending({second}, changes);
  ASSERT_TRUE(runUntil([&] { return state() && state()->eventId == "ev-2"; }));
  EXPECT_TRUE(state()->cordonedByAgent);
  EXPECT_TRUE(node().unschedulable);
  // The first drain is cancelled (its event is gone) and one for the new id follows.
  ASSERT_TRUE(runUntil([&] { return drainer.calls == 2; }));
  EXPECT_EQ(detections(), 1u);  // no second cordon
}

TEST_F(ActionEngineTest, ApiServerDownFirstAndRecovering) {
  for (int i = 0; i < 3; ++i) kube.getScript.push_back(testing::kubeFailure(503, "ServiceUnavailable", "down"));
  start();
  EXPECT_FALSE(engine->kubeReady());
  EXPECT_THAT(engine->kubeNotReadyReason(), HasSubstr("HTTP 503"));
  appear({event("ev-preempt", EventType::Preempt, 60s)});
  ASSERT_TRUE(runUntil([&] { return node().unschedulable; }, 30s));
  EXPECT_TRUE(engine->kubeReady());
  EXPECT_EQ(engine->kubeNotReadyReason(), "");
}

TEST_F(ActionEngineTest, NoKubeConfiguredStillRuns) {
  start(false, /*withKube=*/false);
  appear({event("ev-preempt", EventType::Preempt, 60s)});
  settle(20s);
  EXPECT_FALSE(engine->kubeReady());
  EXPECT_EQ(engine->kubeNotReadyReason(), "no kubeconfig and not in a cluster");
  EXPECT_EQ(kube.getCalls, 0);
  EXPECT_EQ(drainer.calls, 0);
  EXPECT_FALSE(engine->statusJson().at("kubernetes").at("configured").as_bool());
}

TEST_F(ActionEngineTest, UnhealthyDiskTaintsAndEmitsEventsOnFlips) {
  config.healthThreshold = 1;
  config.disks[0].taintWhenUnhealthy = true;
  start();
  engine->setHealth({testing::probeResult("disk", "/mnt", false, "ReadOnly", "mounted read-only", true)});
  ASSERT_TRUE(runUntil([&] {
    return node().hasTaint(kTaintDiskUnhealthy) && node().conditions.at("LocalDiskProblem").status == "True";
  }));
  EXPECT_EQ(node().findTaint(kTaintDiskUnhealthy)->value, "ReadOnly");
  EXPECT_THAT(kube.eventReasons(), Contains("DiskUnhealthy"));
  engine->setHealth({testing::probeResult("disk", "/mnt", true)});
  ASSERT_TRUE(runUntil([&] {
    return !node().hasTaint(kTaintDiskUnhealthy) && node().conditions.at("LocalDiskProblem").status == "False";
  }));
  EXPECT_THAT(kube.eventReasons(), Contains("DiskRecovered"));
  EXPECT_FALSE(node().unschedulable);
}


// ---- webhook notices (agent/notify, docs/notifications.md) ----

class RecordingNotifier final : public Notifier {
 public:
  void notify(const Notice& notice) override { notices.push_back(notice); }
  std::vector<std::string> reasons() const {
    std::vector<std::string> out;
    for (const auto& n : notices) out.push_back(n.reason);
    return out;
  }
  std::vector<Notice> notices;
};

TEST_F(ActionEngineTest, EveryRecordedEventIsANoticeAboutItsScheduledEvent) {
  RecordingNotifier recorder;
  notifier = &recorder;
  start();
  const PendingEvent ev = event("ev-preempt", EventType::Preempt, 60s);
  appear({ev});
  // The ScheduledEvent notice is handed over as the event is seen, before the cordon's PATCH.
  ASSERT_EQ(recorder.reasons(), std::vector<std::string>{"ScheduledEvent"});
  EXPECT_EQ(kube.patchCalls, 0);
  const Notice& first = recorder.notices[0];
  EXPECT_EQ(first.node, "aks-spot-12345678-vmss000003");
  EXPECT_EQ(first.vm, kVm);
  EXPECT_EQ(first.severity, "Warning");
  EXPECT_EQ(first.subject.eventType, "Preempt");
  EXPECT_EQ(first.subject.eventId, "ev-preempt");
  EXPECT_EQ(first.subject.notBefore, ev.event.notBefore);
  EXPECT_FALSE(first.dryRun);
  EXPECT_EQ(first.time, time.systemTime());
  ASSERT_TRUE(runUntil([&] { return drainer.calls == 1; }));
  drainer.release = true;
  ASSERT_TRUE(runUntil([&] { return state() && state()->phase == ActionPhase::Drained; }));
  EXPECT_THAT(recorder.reasons(),
              ElementsAre("ScheduledEvent", "Cordoned", "DrainStarted", "EvictionBlocked", "DrainSucceeded"));
  // The same Events as on the Node, the same messages.
  EXPECT_EQ(recorder.reasons(), kube.eventReasons());
  for (const Notice& n : recorder.notices) EXPECT_EQ(n.subject.eventId, "ev-preempt") << n.reason;
}

TEST_F(ActionEngineTest, ADryRunStillNotifiesAndSaysSo) {
  RecordingNotifier recorder;
  notifier = &recorder;
  start(/*dryRun=*/true);
  appear({event("ev-preempt", EventType::Preempt, 60s)});
  settle(5s);
  EXPECT_TRUE(kube.events.empty());  // nothing written to the cluster
  ASSERT_FALSE(recorder.notices.empty());
  EXPECT_EQ(recorder.notices[0].reason, "ScheduledEvent");
  for (const Notice& n : recorder.notices) EXPECT_TRUE(n.dryRun) << n.reason;
  EXPECT_THAT(recorder.reasons(), Contains("DrainSucceeded"));
}

TEST_F(ActionEngineTest, HealthFlipsAreNoticesToo) {
  RecordingNotifier recorder;
  notifier = &recorder;
  config.healthThreshold = 1;
  start();
  engine->setHealth({testing::probeResult("disk", "/mnt", false, "ReadOnly", "remounted read-only")});
  engine->setHealth({testing::probeResult("identity", "token", false, "Expired", "token expired")});
  EXPECT_THAT(recorder.reasons(), Contains("DiskUnhealthy"));
  EXPECT_THAT(recorder.reasons(), Contains("IdentityInvalid"));
  for (const Notice& n : recorder.notices) EXPECT_TRUE(n.subject.eventId.empty()) << n.reason;
}

TEST_F(ActionEngineTest, AHangingWebhookNeverDelaysTheCordonOrTheDrain) {
  // The real notifier, with a receiver that never answers and a long budget: the cordon, the
  // drain and its result must all happen while the first notice is still waiting for an answer.
  WebhookConfig hook;
  hook.name = "hung";
  hook.url = "https://hooks.example.com/hung";
  hook.timeout = 60s;
  config.notifications.webhooks.push_back(hook);
  Metrics notifyMetrics{config};
  testing::FakeWebhookClient receiver{timers};
  receiver.fallback = testing::WebhookReply{.hang = true};
  NotifierImpl real(io.get_executor(), config.notifications, receiver, timers, notifyMetrics);
  real.start();
  notifier = &real;
  start();
  const MonotonicTime appeared = time.monotonicTime();
  appear({event("ev-preempt", EventType::Preempt, 60s)});
  ASSERT_TRUE(runUntil([&] { return node().unschedulable; }));
  const auto cordonAfter = time.monotonicTime() - appeared;
  EXPECT_LE(cordonAfter, 100ms);  // the fake API server's 5 ms per call, nothing more
  EXPECT_EQ(receiver.inFlight, 1);  // the ScheduledEvent notice is out and hanging
  ASSERT_TRUE(runUntil([&] { return drainer.calls == 1; }));
  drainer.release = true;
  ASSERT_TRUE(runUntil([&] { return state() && state()->phase == ActionPhase::Drained; }));
  EXPECT_LT(time.monotonicTime() - appeared, 5s);
  EXPECT_EQ(receiver.inFlight, 1);
  EXPECT_EQ(notifyMetrics.notification("hung", NotificationResult::Timeout).Value(), 0);  // still within its budget
  EXPECT_GE(real.queued("hung"), 1U);  // the drain's result waits its turn behind it
  // Only then does the hung notice end in a timeout.
  ASSERT_TRUE(runUntil([&] { return notifyMetrics.notification("hung", NotificationResult::Timeout).Value() >= 1; }, 2min));
  EXPECT_GE(time.monotonicTime() - appeared, 60s);
  shutdown();
  real.stop();
  timers.runUntil([] { return false; }, 5min);
}

}  // namespace
}  // namespace aksnode
