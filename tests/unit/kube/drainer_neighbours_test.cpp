// The drain among the API server's real behaviours (arch/ARCHITECTURE.md, "Neighbours";
// docs/operators.md): UID preconditions on every eviction, 409 as "that pod is gone", watch-cache
// LISTs while waiting, Retry-After on an overloaded API server's 429, and never a grace period
// under 1 s.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/kube/pod_info.h"
#include "unit/kube/drainer_fixture.h"

namespace aksnode {
namespace {

using namespace std::chrono_literals;
using ::testing::Each;
using testing::PodBuilder;

struct DrainerNeighboursTest : testing::DrainerFixture {
  DrainOutcome drain(DrainOptions o) { return timers.run(drainer.drain(std::move(o), cancel, nullptr)); }
};

TEST_F(DrainerNeighboursTest, EveryEvictionNamesTheListedPodsUid) {
  auto& web = kube.add(PodBuilder("shop", "web-1").controller("ReplicaSet").uid("uid-web-1"));
  auto& db = kube.add(PodBuilder("data", "db-0").controller("StatefulSet").uid("uid-db-0"));
  db.pdbBlocks = 2;
  const DrainOutcome out = drain(options());
  ASSERT_EQ(out.result, DrainResult::Success) << out.message;
  EXPECT_THAT(web.preconditionUids, Each(std::string("uid-web-1")));
  ASSERT_EQ(db.preconditionUids.size(), 3u);
  EXPECT_THAT(db.preconditionUids, Each(std::string("uid-db-0")));
}

TEST_F(DrainerNeighboursTest, APodRecreatedUnderTheSameNameElsewhereIsNeverEvictedByARetry) {
  // Blocked by its budget, then deleted by someone else and recreated by its StatefulSet on
  // another node under the same name: the retry must not evict that new pod.
  auto& db = kube.add(PodBuilder("data", "db-0").controller("StatefulSet").uid("uid-old"));
  db.pdbForever = true;
  db.recreateAfterAttempts = 1;
  db.recreateUid = "uid-new";
  const DrainOutcome out = drain(options());
  EXPECT_EQ(out.result, DrainResult::Success) << out.message;
  EXPECT_EQ(db.evictionsOfRecreatedPod, 0);
  ASSERT_EQ(db.evictionAttempts, 2);
  EXPECT_EQ(db.preconditionUids.back(), "uid-old");
  EXPECT_EQ(out.progress.podsRemaining, 0);
  EXPECT_EQ(metrics.podEvictions(EvictionLabel::NotFound).Value(), 1) << "409: the pod the drain meant is gone";
}

TEST_F(DrainerNeighboursTest, APodRecreatedOnThisNodeIsNotTheDrainsEither) {
  // Same name, same node, new UID: the drain listed the old pod; the new one belongs to the
  // next drain (a kubelet-restarted static set, say), never to a retry of this one.
  auto& db = kube.add(PodBuilder("data", "db-0").controller("StatefulSet").uid("uid-old"));
  db.pdbForever = true;
  db.recreateAfterAttempts = 1;
  db.recreatedOnThisNode = true;
  const DrainOutcome out = drain(options());
  EXPECT_EQ(out.result, DrainResult::Success) << out.message;
  EXPECT_EQ(db.evictionsOfRecreatedPod, 0);
}

TEST_F(DrainerNeighboursTest, OnlyTheFirstListIsAQuorumRead) {
  for (int i = 0; i < 3; ++i) {
    auto& pod = kube.add(PodBuilder("ns", "p" + std::to_string(i)).controller("ReplicaSet"));
    pod.terminationTime = 3s;  // several gone-checks at 500 ms
  }
  const DrainOutcome out = drain(options());
  ASSERT_EQ(out.result, DrainResult::Success) << out.message;
  ASSERT_GE(kube.sources.size(), 3u);
  EXPECT_EQ(kube.sources.front(), ListSource::Consistent);
  const std::vector<ListSource> rest(kube.sources.begin() + 1, kube.sources.end());
  EXPECT_THAT(rest, Each(ListSource::Cached));
}

TEST_F(DrainerNeighboursTest, OverloadedApiServerRetryAfterIsHonoured) {
  auto& pod = kube.add(PodBuilder("ns", "p").controller("ReplicaSet"));
  pod.overloaded = 1;
  pod.overloadRetryAfter = 10s;
  DrainOptions o = options();
  o.evictionRetryInterval = 1s;
  const DrainOutcome out = drain(o);
  ASSERT_EQ(out.result, DrainResult::Success) << out.message;
  ASSERT_EQ(pod.attemptTimes.size(), 2u);
  EXPECT_GE(pod.attemptTimes[1] - pod.attemptTimes[0], 10s) << "not at evictionRetryInterval (1 s)";
}

TEST_F(DrainerNeighboursTest, RetryAfterIsCappedByTheDeadline) {
  auto& pod = kube.add(PodBuilder("ns", "p").controller("ReplicaSet"));
  pod.overloaded = 100;
  pod.overloadRetryAfter = 120s;
  const DrainOutcome out = drain(options(8s));
  EXPECT_EQ(out.result, DrainResult::Timeout);
  EXPECT_EQ(pod.evictionAttempts, 1);
  EXPECT_EQ(ms(start + out.duration), 8000) << "the drain ends at its deadline, not after Retry-After";
}

TEST_F(DrainerNeighboursTest, NeverAGracePeriodUnderOneSecond) {
  kube.add(PodBuilder("ns", "instant").controller("ReplicaSet").grace(0));
  DrainOptions o = options();
  o.gracePeriodSecondsCap = 20;
  ASSERT_EQ(drain(o).result, DrainResult::Success);
  EXPECT_EQ(kube.find("ns", "instant")->grace, 1) << "0 would be a force delete";
}

TEST(EvictionGracePeriod, NeverUnderOneSecond) {
  PodInfo pod;
  pod.terminationGracePeriodSeconds = 0;
  EXPECT_EQ(evictionGracePeriod(pod, 20), 1);
  EXPECT_EQ(evictionGracePeriod(pod, 0), 1);
  pod.terminationGracePeriodSeconds = 30;
  EXPECT_EQ(evictionGracePeriod(pod, 0), 1);
  EXPECT_EQ(evictionGracePeriod(pod, 5), 5);
  EXPECT_EQ(evictionGracePeriod(pod, std::nullopt), std::nullopt);
}

}  // namespace
}  // namespace aksnode
