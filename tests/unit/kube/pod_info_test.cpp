#include "agent/kube/pod_info.h"

#include <gtest/gtest.h>

#include "agent/kube/drainer.h"
#include "agent/kube/kube_json.h"
#include "unit/kube/pod_builder.h"

namespace aksnode {
namespace {

using testing::PodBuilder;

TEST(ParsePod, ReadsWhatTheDrainNeeds) {
  const auto pod = parsePod(PodBuilder("shop", "web-1").uid("u1").controller("ReplicaSet").emptyDir().grace(45)
                                .phase("Running").terminating().json());
  ASSERT_TRUE(pod);
  EXPECT_EQ(pod->ns, "shop");
  EXPECT_EQ(pod->name, "web-1");
  EXPECT_EQ(pod->uid, "u1");
  EXPECT_EQ(pod->phase, "Running");
  EXPECT_EQ(pod->controllerKind, "ReplicaSet");
  EXPECT_TRUE(pod->emptyDir);
  EXPECT_TRUE(pod->terminating);
  EXPECT_EQ(pod->terminationGracePeriodSeconds, 45);
  EXPECT_FALSE(pod->mirror);
  EXPECT_EQ(pod->key(), "shop/web-1");
}

TEST(ParsePod, NonControllerOwnersDoNotCount) {
  auto json = PodBuilder("a", "b").json();
  json.as_object()["metadata"].as_object()["ownerReferences"] = boost::json::array{
      boost::json::object{{"kind", "DaemonSet"}, {"name", "x"}, {"controller", false}},
      boost::json::object{{"kind", "Job"}, {"name", "y"}}};
  const auto pod = parsePod(json);
  ASSERT_TRUE(pod);
  EXPECT_EQ(pod->controllerKind, "");
}

TEST(ParsePod, RejectsPodsWithoutIdentity) {
  EXPECT_FALSE(parsePod(*parseJsonBody(R"({"metadata":{"name":"a"}})")));
  EXPECT_FALSE(parsePod(*parseJsonBody(R"({"metadata":{"name":"a","namespace":7}})")));
  EXPECT_FALSE(parsePod(*parseJsonBody(R"({"metadata":{"name":"","namespace":"n"}})")));
  EXPECT_FALSE(parsePod(*parseJsonBody(R"({"metadata":"x"})")));
  EXPECT_FALSE(parsePod(*parseJsonBody(R"([])")));
}

TEST(ParsePod, IgnoresWrongTypesElsewhere) {
  const auto pod = parsePod(*parseJsonBody(
      R"({"metadata":{"name":"a","namespace":"n","uid":5,"annotations":[],"ownerReferences":{},
          "deletionTimestamp":null},
          "spec":{"volumes":"x","terminationGracePeriodSeconds":-4},"status":{"phase":1}})"));
  ASSERT_TRUE(pod);
  EXPECT_EQ(pod->uid, "");
  EXPECT_EQ(pod->phase, "");
  EXPECT_FALSE(pod->mirror);
  EXPECT_FALSE(pod->emptyDir);
  EXPECT_FALSE(pod->terminating);
  EXPECT_FALSE(pod->terminationGracePeriodSeconds);
}

PodDecision decide(const PodBuilder& b, DrainOptions options = {}) {
  const auto pod = parsePod(b.json());
  EXPECT_TRUE(pod);
  return classifyPod(*pod, options);
}

TEST(ClassifyPod, KubectlFilters) {
  EXPECT_EQ(decide(PodBuilder("n", "ds").controller("DaemonSet")).why, "DaemonSet");
  EXPECT_EQ(decide(PodBuilder("kube-system", "etcd").mirror()).why, "mirror pod");
  EXPECT_EQ(decide(PodBuilder("n", "done").controller("Job").phase("Succeeded")).why, "finished");
  EXPECT_EQ(decide(PodBuilder("n", "failed").phase("Failed")).why, "finished");

  DrainOptions own;
  own.ownPodNamespace = "aks-node-agent";
  own.ownPodName = "agent-x";
  EXPECT_EQ(decide(PodBuilder("aks-node-agent", "agent-x").controller("DaemonSet"), own).why, "own pod");
  EXPECT_EQ(decide(PodBuilder("other", "agent-x").controller("ReplicaSet"), own).disposition, PodDisposition::Evict);

  DrainOptions skipNs;
  skipNs.skipNamespaces = {"kube-system"};
  EXPECT_EQ(decide(PodBuilder("kube-system", "coredns").controller("ReplicaSet"), skipNs).why, "namespace skipped");

  for (const auto& skipped : {decide(PodBuilder("n", "ds").controller("DaemonSet")),
                              decide(PodBuilder("kube-system", "etcd").mirror())}) {
    EXPECT_EQ(skipped.disposition, PodDisposition::Skip);
  }
}

TEST(ClassifyPod, APodOfAnotherNodeIsNeverEvicted) {
  DrainOptions mine;
  mine.nodeName = "node-1";
  EXPECT_EQ(decide(PodBuilder("n", "here").controller("ReplicaSet"), mine).disposition, PodDisposition::Evict);
  PodBuilder elsewhere("n", "elsewhere");
  elsewhere.controller("ReplicaSet");
  boost::json::object pod = elsewhere.json().as_object();
  pod["spec"].as_object()["nodeName"] = "node-2";
  const auto parsed = parsePod(pod);
  ASSERT_TRUE(parsed);
  const auto d = classifyPod(*parsed, mine);
  EXPECT_EQ(d.disposition, PodDisposition::Skip);
  EXPECT_EQ(d.why, std::string(kOnAnotherNode) + "node-2");
  pod["spec"].as_object().erase("nodeName");
  EXPECT_EQ(classifyPod(*parsePod(pod), mine).why, std::string(kOnAnotherNode) + "(none)");
}

TEST(ClassifyPod, EmptyDirNeedsDeleteEmptyDirData) {
  DrainOptions keep;
  keep.deleteEmptyDirData = false;
  const auto blocked = decide(PodBuilder("n", "cache").controller("StatefulSet").emptyDir(), keep);
  EXPECT_EQ(blocked.disposition, PodDisposition::Block);
  EXPECT_EQ(blocked.why, "EmptyDir");
  EXPECT_EQ(decide(PodBuilder("n", "cache").controller("StatefulSet").emptyDir()).disposition, PodDisposition::Evict);
}

TEST(ClassifyPod, UnreplicatedPodsAreEvictedAndNoted) {
  const auto bare = decide(PodBuilder("n", "bare"));
  EXPECT_EQ(bare.disposition, PodDisposition::Evict);
  EXPECT_TRUE(bare.unreplicated);
  EXPECT_FALSE(decide(PodBuilder("n", "rs").controller("ReplicaSet")).unreplicated);
}

TEST(EvictionGracePeriod, CapOnlyWhenConfigured) {
  const auto pod = [](std::optional<int> grace) {
    PodBuilder b("n", "p");
    if (grace) b.grace(*grace);
    return *parsePod(b.json());
  };
  EXPECT_EQ(evictionGracePeriod(pod(60), std::nullopt), std::nullopt);
  EXPECT_EQ(evictionGracePeriod(pod(60), 20), 20);
  EXPECT_EQ(evictionGracePeriod(pod(5), 20), 5);
  EXPECT_EQ(evictionGracePeriod(pod(std::nullopt), 20), 20) << "default 30 capped";
  EXPECT_EQ(evictionGracePeriod(pod(std::nullopt), 45), 30) << "default 30";
  EXPECT_EQ(evictionGracePeriod(pod(0), 20), 1) << "never 0: that would be a force delete";
}

}  // namespace
}  // namespace aksnode
