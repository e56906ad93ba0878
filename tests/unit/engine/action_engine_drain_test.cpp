// ActionEngine with the real DrainerImpl (pods from the kube tests' in-memory API server, the
// Node from FakeNodeKube): the whole path from event to drained node, and the lifetimes around
// the end of a drain (evictions still in flight, cancel, a second drain, shutdown) under ASan.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "agent/engine/action_engine.h"
#include "agent/kube/drainer_impl.h"
#include "metrics/metrics.h"
#include "probes/scheduled_events/imds_client.h"
#include "unit/engine/engine_test_support.h"
#include "unit/engine/fake_node_kube.h"
#include "unit/kube/fake_http_client.h"
#include "unit/kube/fake_kube_client.h"
#include "support/sim_timers.h"

namespace aksnode {
namespace {

using namespace std::chrono_literals;
using ::testing::Contains;
using testing::kVm;
using testing::NodeBuilder;
using testing::PodBuilder;

// Node calls to the Node fake, pod calls to the pod fake.
class SplitKube final : public KubeClient {
 public:
  SplitKube(testing::FakeNodeKube& node, testing::FakeKubeClient& pods) : node_(node), pods_(pods) {}
  boost::asio::awaitable<KubeResult> getNode(std::string name) override { co_return co_await node_.getNode(name); }
  boost::asio::awaitable<KubeResult> patchNode(std::string name, boost::json::value patch, PatchType type) override {
    co_return co_await node_.patchNode(name, std::move(patch), type);
  }
  boost::asio::awaitable<KubeResult> patchNodeStatus(std::string name, boost::json::value patch) override {
    co_return co_await node_.patchNodeStatus(name, std::move(patch));
  }
  boost::asio::awaitable<KubeResult> listPods(std::string selector, ListSource source) override {
    co_return co_await pods_.listPods(selector, source);
  }
  boost::asio::awaitable<KubeResult> getPod(std::string ns, std::string name) override {
    co_return co_await pods_.getPod(ns, name);
  }
  boost::asio::awaitable<EvictionResult> evictPod(std::string ns, std::string name, std::string uid,
                                                  std::optional<int> grace) override {
    co_return co_await pods_.evictPod(ns, name, uid, grace);
  }
  boost::asio::awaitable<KubeResult> createEvent(std::string ns, boost::json::value event) override {
    co_return co_await node_.createEvent(ns, std::move(event));
  }
  boost::asio::awaitable<KubeResult> patchEvent(std::string ns, std::string name, boost::json::value patch) override {
    co_return co_await node_.patchEvent(ns, name, std::move(patch));
  }
  void shutdown() override {}

 private:
  testing::FakeNodeKube& node_;
  testing::FakeKubeClient& pods_;
};

class EngineWithDrainerTest : public ::testing::Test {
 protected:
  EngineWithDrainerTest() { time.setSystemTime(testing::kWallStart); }
  ~EngineWithDrainerTest() override {
    if (engine && !runFinished) {
      engine->stop();
      EXPECT_TRUE(timers.runUntil([&] { return runFinished; }, 1min));
    }
    // Whatever is still in flight (evictions, Events) finishes before the fakes go.
    timers.runUntil([] { return false; }, 5min);
  }

  void start(bool dryRun = false) {
    ActionEngineDeps deps{.config = config,
                          .kube = &kube,
                          .drainer = &drainer,
                          .imds = &imds,
                          .metrics = metrics,
                          .timers = timers,
                          .dryRun = dryRun,
                          .nodeName = "node-1",
                          .ownPodNamespace = "aks-node-agent",
                          .ownPodName = "agent-abc"};
    engine = std::make_unique<ActionEngine>(io.get_executor(), std::move(deps));
    engine->setVmName(kVm);
    boost::asio::co_spawn(io, engine->run(), [this](std::exception_ptr e) {
      EXPECT_FALSE(e);
      runFinished = true;
    });
    timers.runUntil([] { return false; }, 50ms);
  }
  PendingEvent event(const std::string& id, EventType type, std::chrono::seconds notice) {
    PendingEvent p = testing::pendingEvent(id, type, time.systemTime() + notice);
    p.firstSeen = time.monotonicTime();
    return p;
  }
  void appear(const PendingEvent& p) {
    engine->setPending({p}, {LifecycleChange{LifecycleKind::Started, p, {}, {}, false}});
  }
  std::optional<AgentAnnotation> state() const { return parseNodeView(nodeKube.node)->agentState; }
  bool phase(ActionPhase p) const { return state() && state()->phase == p; }
  int podsLeft() const {
    int n = 0;
    for (const auto& p : pods.pods) n += pods.gone(p) ? 0 : 1;
    return n;
  }

  boost::asio::io_context io;
  SimulatedTimeSource time;
  testing::SimulatedTimers timers{io, time};
  Config config;
  Metrics metrics{config};
  testing::FakeNodeKube nodeKube{timers, NodeBuilder("node-1").json()};
  testing::FakeKubeClient pods{timers};
  SplitKube kube{nodeKube, pods};
  DrainerImpl drainer{kube, timers, &metrics};
  testing::FakeHttpClient http{&timers};
  ImdsClient imds{http, config.imds, metrics, time};
  std::unique_ptr<ActionEngine> engine;
  bool runFinished = false;
};

TEST_F(EngineWithDrainerTest, PreemptDrainsEveryPodAndWritesDrained) {
  for (int i = 0; i < 12; ++i) pods.add(PodBuilder("shop", "web-" + std::to_string(i)).controller("ReplicaSet"));
  pods.add(PodBuilder("kube-system", "kube-proxy").controller("DaemonSet"));
  pods.add(PodBuilder("aks-node-agent", "agent-abc").controller("DaemonSet"));
  pods.find("shop", "web-3")->pdbBlocks = 3;
  start();
  appear(event("ev-preempt", EventType::Preempt, 30s));
  ASSERT_TRUE(timers.runUntil([&] { return phase(ActionPhase::Drained); }, 1min));
  EXPECT_EQ(podsLeft(), 2);  // the DaemonSet pods stay
  EXPECT_TRUE(parseNodeView(nodeKube.node)->unschedulable);
  EXPECT_THAT(nodeKube.eventReasons(), Contains("DrainSucceeded"));
  EXPECT_THAT(nodeKube.eventReasons(), Contains("EvictionBlocked"));
  EXPECT_EQ(metrics.drainDuration(DrainResult::Success).Collect().histogram.sample_count, 1u);
  EXPECT_EQ(metrics.drainPodsRemaining().Value(), 0);
  EXPECT_EQ(engine->statusJson().at("drain").at("podsEvicted").as_int64(), 12);
}

// Real event ids are GUIDs: longer than std::string's small buffer, so every copy of one is
// on the heap. (A GCC 12 coroutine bug destroyed the drain-progress lambda's captured id twice
// once the drain returned: a double free that short test ids never showed.)
TEST_F(EngineWithDrainerTest, GuidEventIdsSurviveTheEndOfADrain) {
  for (int i = 0; i < 3; ++i) pods.add(PodBuilder("shop", "web-" + std::to_string(i)).controller("ReplicaSet"));
  start();
  const PendingEvent first = event("C7061BAC-AFDC-4513-B24B-AA5F13A16123", EventType::Reboot, 600s);
  appear(first);
  ASSERT_TRUE(timers.runUntil([&] { return phase(ActionPhase::Drained); }, 1min));
  EXPECT_EQ(state()->eventId, "C7061BAC-AFDC-4513-B24B-AA5F13A16123");
  engine->setPending({}, {LifecycleChange{LifecycleKind::Ended, first, {}, {}, false}});
  ASSERT_TRUE(timers.runUntil([&] { return !state(); }, 1min));
  // A second event, a second drain, cancelled this time.
  pods.evictLatency = 5s;
  pods.add(PodBuilder("shop", "web-late").controller("ReplicaSet"));
  const PendingEvent second = event("D8172CBD-BFED-5624-C35C-BB6024B27234", EventType::Redeploy, 600s);
  appear(second);
  ASSERT_TRUE(timers.runUntil([&] { return pods.inFlight > 0; }, 1min));
  engine->setPending({}, {LifecycleChange{LifecycleKind::Ended, second, {}, {}, false}});
  ASSERT_TRUE(timers.runUntil([&] { return !state(); }, 1min));
  EXPECT_EQ(engine->statusJson().at("drain").at("eventId").as_string(), "D8172CBD-BFED-5624-C35C-BB6024B27234");
}

TEST_F(EngineWithDrainerTest, EventEndsWhileEvictionsAreInFlight) {
  for (int i = 0; i < 40; ++i) pods.add(PodBuilder("shop", "web-" + std::to_string(i)).controller("ReplicaSet"));
  pods.evictLatency = 2s;  // slow API server: evictions still in flight when the drain stops
  config.drain.parallelism = 8;
  start();
  const PendingEvent ev = event("ev-reboot", EventType::Reboot, 600s);
  appear(ev);
  ASSERT_TRUE(timers.runUntil([&] { return pods.inFlight == 8; }, 1min));
  engine->setPending({}, {LifecycleChange{LifecycleKind::Ended, ev, {}, {}, false}});
  ASSERT_TRUE(timers.runUntil([&] { return !state() && !parseNodeView(nodeKube.node)->unschedulable; }, 1min));
  // The in-flight evictions land after the drain returned; nothing may touch the finished drain.
  ASSERT_TRUE(timers.runUntil([&] { return pods.inFlight == 0; }, 1min));
  timers.runUntil([] { return false; }, 30s);
  EXPECT_LE(pods.evictCalls, 16);
  EXPECT_EQ(metrics.drainDuration(DrainResult::Success).Collect().histogram.sample_count, 0u);
}

TEST_F(EngineWithDrainerTest, NewEventIdCancelsAndStartsASecondDrain) {
  for (int i = 0; i < 6; ++i) pods.add(PodBuilder("shop", "web-" + std::to_string(i)).controller("ReplicaSet"));
  pods.find("shop", "web-0")->pdbForever = true;
  pods.evictLatency = 300ms;
  start();
  const PendingEvent first = event("ev-1", EventType::Preempt, 60s);
  appear(first);
  ASSERT_TRUE(timers.runUntil([&] { return phase(ActionPhase::Draining); }, 1min));
  timers.runUntil([] { return false; }, 1s);
  const PendingEvent second = event("ev-2", EventType::Preempt, 60s);
  engine->setPending({second}, {LifecycleChange{LifecycleKind::Started, second, {}, {}, false},
                                LifecycleChange{LifecycleKind::Ended, first, {}, {}, false}});
  ASSERT_TRUE(timers.runUntil([&] { return state() && state()->eventId == "ev-2" && state()->phase == ActionPhase::Draining; },
                              1min));
  // web-0 never gets past its PDB: the second drain times out at NotBefore - margin.
  ASSERT_TRUE(timers.runUntil([&] { return phase(ActionPhase::Failed); }, 5min));
  EXPECT_THAT(nodeKube.eventReasons(), Contains("DrainFailed"));
  EXPECT_EQ(metrics.drainDuration(DrainResult::Timeout).Collect().histogram.sample_count, 1u);
  EXPECT_EQ(podsLeft(), 1);
}

TEST_F(EngineWithDrainerTest, StopDuringADrain) {
  for (int i = 0; i < 20; ++i) pods.add(PodBuilder("shop", "web-" + std::to_string(i)).controller("ReplicaSet"));
  pods.evictLatency = 1s;
  start();
  appear(event("ev-preempt", EventType::Preempt, 60s));
  ASSERT_TRUE(timers.runUntil([&] { return pods.inFlight > 0; }, 1min));
  engine->stop();
  ASSERT_TRUE(timers.runUntil([&] { return runFinished; }, 1min));
  timers.runUntil([] { return false; }, 1min);
  EXPECT_EQ(pods.inFlight, 0);
  // Then the engine goes, and later work of the loop must not need it.
  engine.reset();
  timers.runUntil([] { return false; }, 1min);
}

TEST_F(EngineWithDrainerTest, DryRunEvictsNothing) {
  pods.add(PodBuilder("shop", "web-0").controller("ReplicaSet"));
  start(/*dryRun=*/true);
  appear(event("ev-preempt", EventType::Preempt, 60s));
  timers.runUntil([] { return false; }, 30s);
  EXPECT_EQ(pods.evictCalls, 0);
  EXPECT_EQ(pods.listCalls, 0);
  EXPECT_EQ(nodeKube.patchCalls, 0);
  EXPECT_EQ(engine->statusJson().at("currentAction").at("localPhase").as_string(), "drained");
}

}  // namespace
}  // namespace aksnode
