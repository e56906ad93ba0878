// --dry-run's Kubernetes decorator: the real API server gets the one read, never a write, and
// the engine is answered with the Node as the writes would have left it.
#include "agent/kube/dry_run_kube_client.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace aksnode {
namespace {

class CountingKube final : public KubeClient {
 public:
  int reads = 0;
  int writes = 0;
  boost::asio::awaitable<KubeResult> getNode(std::string) override {
    ++reads;
    KubeResult r;
    r.status = 200;
    r.body = boost::json::parse(R"({"metadata":{"name":"n1","resourceVersion":"7","annotations":{"keep":"me","gone":"x"}},
                                    "spec":{"unschedulable":false},
                                    "status":{"conditions":[{"type":"Ready","status":"True"}]}})");
    co_return r;
  }
  boost::asio::awaitable<KubeResult> patchNode(std::string, boost::json::value, PatchType) override { co_return written(); }
  boost::asio::awaitable<KubeResult> patchNodeStatus(std::string, boost::json::value) override { co_return written(); }
  boost::asio::awaitable<KubeResult> listPods(std::string, ListSource) override { co_return written(); }
  boost::asio::awaitable<KubeResult> getPod(std::string, std::string) override { co_return written(); }
  boost::asio::awaitable<EvictionResult> evictPod(std::string, std::string, std::string, std::optional<int>) override {
    ++writes;
    co_return EvictionResult{};
  }
  boost::asio::awaitable<KubeResult> createEvent(std::string, boost::json::value) override { co_return written(); }
  boost::asio::awaitable<KubeResult> patchEvent(std::string, std::string, boost::json::value) override {
    co_return written();
  }
  void shutdown() override {}

 private:
  KubeResult written() {
    ++writes;
    return {};
  }
};

template <typename T>
T run(boost::asio::awaitable<T> work) {
  boost::asio::io_context io;
  std::optional<T> out;
  boost::asio::co_spawn(
      io, [&]() -> boost::asio::awaitable<void> { out = co_await std::move(work); }, boost::asio::detached);
  io.run();
  return std::move(*out);
}

TEST(DryRunKubeClientTest, WritesAreSimulatedOnTheNodeReadOnce) {
  CountingKube real;
  DryRunKubeClient dry(real);
  ASSERT_TRUE(run(dry.getNode("n1")).ok());

  auto patched = run(dry.patchNode(
      "n1",
      boost::json::parse(R"({"metadata":{"resourceVersion":"7","annotations":{"mine":"v","gone":null}},
                             "spec":{"unschedulable":true,"taints":[{"key":"k","effect":"NoSchedule"}]}})"),
      PatchType::StrategicMerge));
  ASSERT_TRUE(patched.ok());
  EXPECT_EQ(patched.body.at("spec").at("unschedulable"), true);
  EXPECT_EQ(patched.body.at("spec").at("taints").as_array().size(), 1u);
  const auto& annotations = patched.body.at("metadata").at("annotations").as_object();
  EXPECT_EQ(annotations.at("keep"), "me");
  EXPECT_EQ(annotations.at("mine"), "v");
  EXPECT_FALSE(annotations.contains("gone"));
  EXPECT_EQ(patched.body.at("metadata").at("resourceVersion"), "7");

  auto status = run(dry.patchNodeStatus(
      "n1", boost::json::parse(R"({"status":{"conditions":[{"type":"Ready","status":"False"},
                                                            {"type":"VMEventScheduled","status":"True"}]}})")));
  ASSERT_TRUE(status.ok());
  const auto& conditions = status.body.at("status").at("conditions").as_array();
  ASSERT_EQ(conditions.size(), 2u);
  EXPECT_EQ(conditions[0].at("status"), "False");

  // A re-read is answered with the simulated node, not a second GET of the untouched one.
  auto again = run(dry.getNode("n1"));
  EXPECT_EQ(again.body.at("spec").at("unschedulable"), true);
  EXPECT_EQ(real.reads, 1);

  EXPECT_EQ(run(dry.evictPod("ns", "p", "uid", std::nullopt)).kind, EvictionResult::Kind::Evicted);
  EXPECT_TRUE(run(dry.createEvent("default", boost::json::object{})).ok());
  EXPECT_EQ(real.writes, 0);
}

TEST(DryRunKubeClientTest, TheDrainerEvictsNothingAndSucceeds) {
  DryRunDrainer drainer;
  auto outcome = run(drainer.drain(DrainOptions{}, std::make_shared<CancelFlag>(), {}));
  EXPECT_EQ(outcome.result, DrainResult::Success);
  EXPECT_EQ(outcome.message, "dry run: no pod evicted");
  EXPECT_EQ(outcome.progress.evictionsIssued, 0);
}

}  // namespace
}  // namespace aksnode
