#include "agent/kube/drainer_impl.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "unit/kube/drainer_fixture.h"

namespace aksnode {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using testing::PodBuilder;

struct DrainerTest : testing::DrainerFixture {
  std::vector<DrainProgress> reports;

  DrainOutcome drain(DrainOptions o) {
    return timers.run(drainer.drain(std::move(o), cancel, [this](const DrainProgress& p) {
      reports.push_back(p);
      // The gauge follows the progress the engine sees.
      EXPECT_EQ(metrics.drainPodsRemaining().Value(), p.podsRemaining);
    }));
  }
  double evictions(EvictionLabel result) { return metrics.podEvictions(result).Value(); }
  bool everBlocked(const std::string& name, const std::string& reason) const {
    for (const auto& r : reports) {
      for (const auto& b : r.blocked) {
        if (b.name == name && b.reason == reason) return true;
      }
    }
    return false;
  }
};

TEST_F(DrainerTest, KubectlFiltersAndEvictsTheRest) {
  kube.add(PodBuilder("shop", "web-1").controller("ReplicaSet"));
  kube.add(PodBuilder("kube-system", "kube-proxy-x").controller("DaemonSet"));
  kube.add(PodBuilder("kube-system", "etcd-node-1").mirror());
  kube.add(PodBuilder("batch", "job-done").controller("Job").phase("Succeeded"));
  kube.add(PodBuilder("aks-node-agent", "agent-abc").controller("ReplicaSet"));
  kube.add(PodBuilder("monitoring", "prom-0").controller("StatefulSet"));
  kube.add(PodBuilder("shop", "bare"));
  DrainOptions o = options();
  o.ownPodNamespace = "aks-node-agent";
  o.ownPodName = "agent-abc";
  o.skipNamespaces = {"monitoring"};
  const DrainOutcome out = drain(o);

  EXPECT_EQ(out.result, DrainResult::Success) << out.message;
  EXPECT_EQ(kube.selectors.front(), "spec.nodeName=node-1");
  std::vector<std::string> evicted;
  for (const auto& p : kube.pods) {
    if (p.evictionAttempts > 0) evicted.push_back(p.name);
  }
  EXPECT_THAT(evicted, UnorderedElementsAre("web-1", "bare"));
  EXPECT_THAT(out.progress.skipped,
              UnorderedElementsAre("kube-system/kube-proxy-x: DaemonSet", "kube-system/etcd-node-1: mirror pod",
                                   "batch/job-done: finished", "aks-node-agent/agent-abc: own pod",
                                   "monitoring/prom-0: namespace skipped"));
  EXPECT_THAT(out.progress.unreplicated, ElementsAre("shop/bare"));
  EXPECT_EQ(out.progress.podsToEvict, 2);
  EXPECT_EQ(out.progress.podsRemaining, 0);
  EXPECT_EQ(out.progress.evictionsIssued, 2);
  EXPECT_TRUE(out.progress.blocked.empty());
  EXPECT_EQ(evictions(EvictionLabel::Evicted), 2);
  EXPECT_EQ(metrics.drainPodsRemaining().Value(), 0);
  ASSERT_FALSE(reports.empty());
  EXPECT_EQ(reports.front().podsRemaining, 2);
  EXPECT_EQ(reports.back().podsRemaining, 0);
}

TEST_F(DrainerTest, ParallelismBoundIsRespected) {
  for (int i = 0; i < 40; ++i) kube.add(PodBuilder("ns", "p" + std::to_string(i)).controller("ReplicaSet"));
  kube.evictLatency = 50ms;
  DrainOptions o = options();
  o.parallelism = 4;
  const DrainOutcome out = drain(o);
  EXPECT_EQ(out.result, DrainResult::Success) << out.message;
  EXPECT_EQ(kube.maxInFlight, 4);
  EXPECT_EQ(kube.evictCalls, 40);
  // 10 waves of 4 requests of 50 ms each, after a 10 ms list.
  EXPECT_EQ(ms(out.lastEvictionIssuedAt), 10 + 10 * 50);
}

TEST_F(DrainerTest, TwoHundredFiftyPodsAreAllAskedAtOnceAndWatchedByList) {
  for (int i = 0; i < 250; ++i) {
    auto& pod = kube.add(PodBuilder("ns", "p" + std::to_string(i)).controller("ReplicaSet"));
    pod.terminationTime = 5s;
  }
  const DrainOutcome out = drain(options());  // parallelism 32, poll 500 ms
  EXPECT_EQ(out.result, DrainResult::Success) << out.message;
  EXPECT_EQ(kube.maxInFlight, 32);
  EXPECT_EQ(kube.evictCalls, 250);
  // 8 waves of 20 ms requests: every eviction is issued within the first 0.2 s.
  EXPECT_LE(ms(out.lastEvictionIssuedAt), 10 + 8 * 20);
  EXPECT_EQ(kube.getPodCalls, 0) << "never one GET per pod";
  // One list per 500 ms while pods terminate (~5.2 s), plus the first.
  EXPECT_GE(kube.listCalls, 10);
  EXPECT_LE(kube.listCalls, 13);
  EXPECT_LE(out.duration, 5700ms);
}

TEST_F(DrainerTest, PdbRefusalsAreRetriedUntilAllowed) {
  auto& pod = kube.add(PodBuilder("shop", "web-1").controller("ReplicaSet"));
  pod.pdbBlocks = 3;
  kube.add(PodBuilder("shop", "other").controller("ReplicaSet"));
  DrainOptions o = options();
  o.evictionRetryInterval = 1s;
  const DrainOutcome out = drain(o);
  EXPECT_EQ(out.result, DrainResult::Success) << out.message;
  EXPECT_EQ(pod.evictionAttempts, 4);
  // Attempts at ~0, 1, 2, 3 s (each 20 ms long, retried 0.5 to 1 s after the refusal: the
  // retries of pods behind one budget are spread so they do not all ask at once).
  EXPECT_GE(ms(*pod.evictedAt), 10 + 3 * (20 + 500) + 20);
  EXPECT_LE(ms(*pod.evictedAt), 10 + 3 * (20 + 1000) + 20);
  EXPECT_TRUE(everBlocked("web-1", "DisruptionBudget"));
  bool sawMessage = false;
  for (const auto& r : reports) {
    for (const auto& b : r.blocked) sawMessage |= b.message == "The disruption budget web-1 needs 2 healthy pods and has 1 currently";
  }
  EXPECT_TRUE(sawMessage);
  EXPECT_TRUE(out.progress.blocked.empty()) << "no longer blocked at the end";
  EXPECT_EQ(evictions(EvictionLabel::BlockedPdb), 3);
  EXPECT_EQ(evictions(EvictionLabel::Evicted), 2);
}

TEST_F(DrainerTest, PdbAllowingOneDisruptionDrainsOneByOne) {
  for (int i = 0; i < 3; ++i) {
    auto& pod = kube.add(PodBuilder("db", "replica-" + std::to_string(i)).controller("StatefulSet"));
    pod.pdbGroup = "db";
    pod.terminationTime = 2s;
  }
  DrainOptions o = options();
  o.evictionRetryInterval = 1s;
  const DrainOutcome out = drain(o);
  EXPECT_EQ(out.result, DrainResult::Success) << out.message;
  std::vector<MonotonicTime> evictedAt;
  for (const auto& p : kube.pods) evictedAt.push_back(*p.evictedAt);
  std::sort(evictedAt.begin(), evictedAt.end());
  // Each eviction only after the previous pod terminated (2 s).
  EXPECT_GE(evictedAt[1] - evictedAt[0], 2s);
  EXPECT_GE(evictedAt[2] - evictedAt[1], 2s);
  EXPECT_GT(evictions(EvictionLabel::BlockedPdb), 0);
  EXPECT_LT(out.duration, 10s);
}

TEST_F(DrainerTest, DeadlineEndsTheDrainWithTheBlockedPods) {
  auto& blocked = kube.add(PodBuilder("shop", "web-1").controller("ReplicaSet"));
  blocked.pdbForever = true;
  kube.add(PodBuilder("shop", "fine").controller("ReplicaSet"));
  const DrainOutcome out = drain(options(10s));
  EXPECT_EQ(out.result, DrainResult::Timeout);
  EXPECT_EQ(out.duration, 10s);
  EXPECT_EQ(out.progress.podsRemaining, 1);
  ASSERT_EQ(out.progress.blocked.size(), 1u);
  EXPECT_EQ(out.progress.blocked[0].ns, "shop");
  EXPECT_EQ(out.progress.blocked[0].name, "web-1");
  EXPECT_EQ(out.progress.blocked[0].reason, "DisruptionBudget");
  EXPECT_EQ(out.progress.blocked[0].message, "The disruption budget web-1 needs 2 healthy pods and has 1 currently");
  EXPECT_THAT(out.message, HasSubstr("shop/web-1 (DisruptionBudget"));
  EXPECT_GE(blocked.evictionAttempts, 10) << "every 0.5 to 1 s until the deadline";
  EXPECT_LE(blocked.evictionAttempts, 20) << "every 0.5 to 1 s until the deadline";
  // Nothing is sent after the drain returned.
  const int calls = kube.evictCalls + kube.listCalls;
  timers.runUntil([] { return false; }, 30s);
  EXPECT_EQ(kube.evictCalls + kube.listCalls, calls);
  EXPECT_EQ(metrics.drainPodsRemaining().Value(), 0);
}

TEST_F(DrainerTest, DeadlineDoesNotWaitForEvictionsInFlight) {
  kube.add(PodBuilder("ns", "slow").controller("ReplicaSet"));
  kube.evictLatency = 3s;  // a hung API server (the real client times evictions out at 5 s)
  const DrainOutcome out = drain(options(1s));
  EXPECT_EQ(out.result, DrainResult::Timeout);
  EXPECT_EQ(out.duration, 1s);
  EXPECT_EQ(kube.inFlight, 1) << "left to finish in the background; the test ends with it pending";
}

TEST_F(DrainerTest, PodStuckTerminatingTimesOut) {
  auto& pod = kube.add(PodBuilder("ns", "finalizer").controller("ReplicaSet"));
  pod.stuck = true;
  const DrainOutcome out = drain(options(5s));
  EXPECT_EQ(out.result, DrainResult::Timeout);
  EXPECT_EQ(out.progress.podsRemaining, 1);
  EXPECT_EQ(out.progress.evictionsIssued, 1);
  EXPECT_TRUE(out.progress.blocked.empty());
  EXPECT_EQ(pod.evictionAttempts, 1) << "an accepted eviction is not repeated";
}

TEST_F(DrainerTest, CancelStopsBetweenSteps) {
  for (int i = 0; i < 3; ++i) {
    auto& pod = kube.add(PodBuilder("ns", "p" + std::to_string(i)).controller("ReplicaSet"));
    pod.pdbForever = true;
  }
  bool cancelledAt = false;
  MonotonicTime when{};
  const DrainOutcome out = timers.run(drainer.drain(options(), cancel, [&](const DrainProgress& p) {
    if (!cancelledAt && p.blocked.size() == 3) {
      cancel->cancelled = true;
      cancelledAt = true;
      when = time.monotonicTime();
    }
  }));
  EXPECT_EQ(out.result, DrainResult::Cancelled);
  EXPECT_LE(time.monotonicTime() - when, 500ms);
  const int calls = kube.evictCalls;
  timers.runUntil([] { return false; }, 30s);
  EXPECT_EQ(kube.evictCalls, calls);
}

TEST_F(DrainerTest, CancelledBeforeStartSendsNothing) {
  kube.add(PodBuilder("ns", "p").controller("ReplicaSet"));
  cancel->cancelled = true;
  EXPECT_EQ(drain(options()).result, DrainResult::Cancelled);
  EXPECT_EQ(kube.listCalls + kube.evictCalls, 0);
}

TEST_F(DrainerTest, ReplacedPodWithANewUidCountsAsGone) {
  auto& pod = kube.add(PodBuilder("db", "pg-0").controller("StatefulSet"));
  pod.replacedWithNewUid = true;
  pod.terminationTime = 1s;
  const DrainOutcome out = drain(options());
  EXPECT_EQ(out.result, DrainResult::Success) << out.message;
  EXPECT_LE(out.duration, 1600ms);
}

TEST_F(DrainerTest, NotFoundCountsAsGone) {
  auto& pod = kube.add(PodBuilder("ns", "vanished").controller("ReplicaSet"));
  kube.add(PodBuilder("ns", "normal").controller("ReplicaSet"));
  pod.deletedBeforeEviction = true;  // listed, then deleted before the eviction arrives
  kube.listScript.push_back([&] {
    KubeResult r;
    r.status = 200;
    r.body = boost::json::array{kube.pods[0].object, kube.pods[1].object};
    return r;
  }());
  const DrainOutcome out = drain(options());
  EXPECT_EQ(out.result, DrainResult::Success) << out.message;
  EXPECT_EQ(evictions(EvictionLabel::NotFound), 1);
  EXPECT_EQ(evictions(EvictionLabel::Evicted), 1);
  EXPECT_EQ(out.progress.evictionsIssued, 1);
}

TEST_F(DrainerTest, EmptyDirBlocksWithoutDeleteEmptyDirData) {
  kube.add(PodBuilder("ns", "cache").controller("StatefulSet").emptyDir());
  kube.add(PodBuilder("ns", "web").controller("ReplicaSet"));
  DrainOptions o = options();
  o.deleteEmptyDirData = false;
  const DrainOutcome out = drain(o);
  EXPECT_EQ(out.result, DrainResult::Error);
  EXPECT_THAT(out.message, HasSubstr("ns/cache (EmptyDir"));
  EXPECT_EQ(kube.find("ns", "cache")->evictionAttempts, 0);
  EXPECT_EQ(kube.find("ns", "web")->evictionsAccepted, 1);
  ASSERT_EQ(out.progress.blocked.size(), 1u);
  EXPECT_EQ(out.progress.blocked[0].reason, "EmptyDir");
  EXPECT_LT(out.duration, 5s) << "does not wait for the deadline";
}

TEST_F(DrainerTest, EmptyDirIsEvictedByDefault) {
  kube.add(PodBuilder("ns", "cache").controller("StatefulSet").emptyDir());
  EXPECT_EQ(drain(options()).result, DrainResult::Success);
  EXPECT_EQ(kube.find("ns", "cache")->evictionsAccepted, 1);
}

TEST_F(DrainerTest, MultiplePdbsIsReportedAndRetriedSlowly) {
  auto& pod = kube.add(PodBuilder("ns", "double-covered").controller("ReplicaSet"));
  pod.multiplePdbs = true;
  DrainOptions o = options(20s);
  o.evictionRetryInterval = 1s;
  const DrainOutcome out = drain(o);
  EXPECT_EQ(out.result, DrainResult::Timeout);
  ASSERT_EQ(out.progress.blocked.size(), 1u);
  EXPECT_EQ(out.progress.blocked[0].reason, "MultiplePdbs");
  EXPECT_THAT(out.progress.blocked[0].message, HasSubstr("more than one PodDisruptionBudget"));
  // The slow rate: every 2.5 to 5 s over 20 s.
  EXPECT_GE(pod.evictionAttempts, 4);
  EXPECT_LE(pod.evictionAttempts, 8);
  EXPECT_EQ(evictions(EvictionLabel::BlockedPdb), pod.evictionAttempts);
}

TEST_F(DrainerTest, TransientErrorsRetryAtTheRetryInterval) {
  auto& pod = kube.add(PodBuilder("ns", "p").controller("ReplicaSet"));
  pod.errors = 2;
  DrainOptions o = options();
  o.evictionRetryInterval = 1s;
  const DrainOutcome out = drain(o);
  EXPECT_EQ(out.result, DrainResult::Success) << out.message;
  EXPECT_EQ(pod.evictionAttempts, 3);
  EXPECT_TRUE(everBlocked("p", "Error"));
  EXPECT_EQ(evictions(EvictionLabel::Error), 2);
  EXPECT_LT(ms(*pod.evictedAt), 2200);
}

TEST_F(DrainerTest, ForbiddenRetriesSlowly) {
  auto& pod = kube.add(PodBuilder("ns", "p").controller("ReplicaSet"));
  pod.errors = 100;
  pod.errorStatus = 403;
  const DrainOutcome out = drain(options(12s));
  EXPECT_EQ(out.result, DrainResult::Timeout);
  EXPECT_EQ(pod.evictionAttempts, 3) << "at 0, 5 and 10 s";
}

TEST_F(DrainerTest, GracePeriodIsCappedOnlyWhenConfigured) {
  kube.add(PodBuilder("ns", "long").controller("ReplicaSet").grace(60));
  kube.add(PodBuilder("ns", "short").controller("ReplicaSet").grace(5));
  kube.add(PodBuilder("ns", "default").controller("ReplicaSet"));
  DrainOptions o = options();
  o.gracePeriodSecondsCap = 20;
  ASSERT_EQ(drain(o).result, DrainResult::Success);
  EXPECT_EQ(kube.find("ns", "long")->grace, 20);
  EXPECT_EQ(kube.find("ns", "short")->grace, 5);
  EXPECT_EQ(kube.find("ns", "default")->grace, 20);
}

TEST_F(DrainerTest, NoCapKeepsThePodsOwnGracePeriod) {
  kube.add(PodBuilder("ns", "long").controller("ReplicaSet").grace(60));
  ASSERT_EQ(drain(options()).result, DrainResult::Success);
  EXPECT_EQ(kube.find("ns", "long")->grace, std::nullopt);
}

TEST_F(DrainerTest, ListFailuresAreRetriedUntilTheDeadline) {
  kube.add(PodBuilder("ns", "p").controller("ReplicaSet"));
  KubeResult unavailable;
  unavailable.status = 503;
  unavailable.message = "etcd leader changed";
  KubeResult unreachable;
  unreachable.transport = HttpError::Unreachable;
  kube.listScript = {unavailable, unreachable};
  const DrainOutcome out = drain(options());
  EXPECT_EQ(out.result, DrainResult::Success) << out.message;

  kube.listScript = {unavailable, unavailable, unavailable, unavailable, unavailable};
  start = time.monotonicTime();
  const DrainOutcome late = drain(options(2500ms));
  EXPECT_EQ(late.result, DrainResult::Timeout);
  EXPECT_THAT(late.message, HasSubstr("etcd leader changed"));
}

TEST_F(DrainerTest, HungListDoesNotOverrunTheDeadline) {
  kube.add(PodBuilder("ns", "p").controller("ReplicaSet"));
  kube.listLatency = 40s;  // the real client may spend 4 x 10 s timeouts on a hung server
  const DrainOutcome out = drain(options(10s));
  EXPECT_EQ(out.result, DrainResult::Timeout);
  EXPECT_EQ(out.duration, 10s);
  EXPECT_THAT(out.message, HasSubstr("listing"));
}

TEST_F(DrainerTest, CancelWhileListing) {
  kube.add(PodBuilder("ns", "p").controller("ReplicaSet"));
  kube.listLatency = 40s;
  boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
    co_await timers.sleepFor(2s);
    cancel->cancelled = true;
  }, boost::asio::detached);
  const DrainOutcome out = drain(options(60s));
  EXPECT_EQ(out.result, DrainResult::Cancelled);
  EXPECT_LE(out.duration, 2500ms);
}

TEST_F(DrainerTest, ForbiddenListIsAnError) {
  KubeResult forbidden;
  forbidden.status = 403;
  forbidden.message = "pods is forbidden";
  kube.listScript = {forbidden};
  const DrainOutcome out = drain(options());
  EXPECT_EQ(out.result, DrainResult::Error);
  EXPECT_THAT(out.message, HasSubstr("pods is forbidden"));
  EXPECT_EQ(kube.listCalls, 1);
}

TEST_F(DrainerTest, DeadlineAlreadyPassed) {
  kube.add(PodBuilder("ns", "p").controller("ReplicaSet"));
  DrainOptions o = options();
  o.deadline = start - 1s;
  EXPECT_EQ(drain(o).result, DrainResult::Timeout);
  EXPECT_EQ(kube.listCalls + kube.evictCalls, 0);
}

TEST_F(DrainerTest, EmptyNodeSucceedsAtOnce) {
  kube.add(PodBuilder("kube-system", "ds").controller("DaemonSet"));
  const DrainOutcome out = drain(options());
  EXPECT_EQ(out.result, DrainResult::Success);
  EXPECT_EQ(out.progress.podsToEvict, 0);
  EXPECT_EQ(kube.evictCalls, 0);
}

TEST_F(DrainerTest, MalformedPodsAreIgnored) {
  KubeResult list;
  list.status = 200;
  list.body = boost::json::array{boost::json::object{{"metadata", 5}}, PodBuilder("ns", "ok").controller("ReplicaSet").json(),
                                 PodBuilder("ns", "ok").controller("ReplicaSet").json()};
  kube.add(PodBuilder("ns", "ok").controller("ReplicaSet"));
  kube.listScript = {list};
  const DrainOutcome out = drain(options());
  EXPECT_EQ(out.result, DrainResult::Success);
  EXPECT_EQ(out.progress.podsToEvict, 1) << "duplicates collapse";
}

TEST(DrainResultNames, MatchTheMetricLabels) {
  EXPECT_STREQ(toString(DrainResult::Success), "success");
  EXPECT_STREQ(toString(DrainResult::Timeout), "timeout");
  EXPECT_STREQ(toString(DrainResult::Error), "error");
  EXPECT_STREQ(toString(DrainResult::Cancelled), "cancelled");
}

}  // namespace
}  // namespace aksnode
