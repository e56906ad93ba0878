// NodeLease: one acting agent per node (arch/FAULTS.md, "Attacks on the running binary"). Two
// electors share an in-memory Lease with the API server's compare-and-swap on resourceVersion; time
// is simulated.
#include "agent/kube/node_lease.h"

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <map>

#include "agent/kube/kube_client.h"
#include "agent/kube/kube_json.h"
#include "support/sim_timers.h"

namespace aksnode {
namespace {

using namespace std::chrono_literals;

KubeResult status(int code, const char* reason) {
  KubeResult r;
  r.status = code;
  r.reason = reason;
  r.message = reason;
  return r;
}

// Only leases; every other call is unsupported.
class LeaseStore final : public KubeClient {
 public:
  std::optional<boost::json::object> lease;
  long long rv = 0;
  int forbidden = 0;  // answer 403 to this many calls

  boost::asio::awaitable<KubeResult> getLease(std::string, std::string) override {
    if (forbidden > 0) co_return status(403, "Forbidden");
    if (!lease) co_return status(404, "NotFound");
    KubeResult r = status(200, "");
    r.body = *lease;
    co_return r;
  }
  boost::asio::awaitable<KubeResult> createLease(std::string, boost::json::value body) override {
    if (lease) co_return status(409, "AlreadyExists");
    co_return store(std::move(body));
  }
  boost::asio::awaitable<KubeResult> updateLease(std::string, std::string, boost::json::value body) override {
    if (jsonString(body, {"metadata", "resourceVersion"}) != std::to_string(rv)) co_return status(409, "Conflict");
    co_return store(std::move(body));
  }
  std::string holder() const { return lease ? jsonString(boost::json::value(*lease), {"spec", "holderIdentity"}) : ""; }
  long long transitions() const {
    const boost::json::value doc(*lease);  // jsonAt points into it: it must outlive t
    const auto* t = jsonAt(doc, {"spec", "leaseTransitions"});
    return t && t->is_int64() ? t->get_int64() : -1;
  }

  boost::asio::awaitable<KubeResult> getNode(std::string) override { co_return status(501, ""); }
  boost::asio::awaitable<KubeResult> patchNode(std::string, boost::json::value, PatchType) override {
    co_return status(501, "");
  }
  boost::asio::awaitable<KubeResult> patchNodeStatus(std::string, boost::json::value) override {
    co_return status(501, "");
  }
  boost::asio::awaitable<KubeResult> listPods(std::string, ListSource) override { co_return status(501, ""); }
  boost::asio::awaitable<KubeResult> getPod(std::string, std::string) override { co_return status(501, ""); }
  boost::asio::awaitable<EvictionResult> evictPod(std::string, std::string, std::string,
                                                  std::optional<int>) override {
    co_return EvictionResult{};
  }
  boost::asio::awaitable<KubeResult> createEvent(std::string, boost::json::value) override {
    co_return status(501, "");
  }
  boost::asio::awaitable<KubeResult> patchEvent(std::string, std::string, boost::json::value) override {
    co_return status(501, "");
  }
  void shutdown() override {}

 private:
  KubeResult store(boost::json::value body) {
    if (forbidden > 0) {
      --forbidden;
      return status(403, "Forbidden");
    }
    body.as_object()["metadata"].as_object()["resourceVersion"] = std::to_string(++rv);
    lease = body.as_object();
    KubeResult r = status(200, "");
    r.body = body;
    return r;
  }
};

struct NodeLeaseTest : ::testing::Test {
  boost::asio::io_context io;
  SimulatedTimeSource time;
  testing::SimulatedTimers timers{io, time};
  LeaseStore store;
  std::vector<std::string> changes;

  std::unique_ptr<NodeLease> elector(const std::string& holder) {
    NodeLeaseOptions o;
    o.ns = "aks-node-agent";
    o.name = NodeLease::leaseName("node-1");
    o.holder = holder;
    return std::make_unique<NodeLease>(store, timers, o, [this, holder](bool acting) {
      changes.push_back(holder + (acting ? " acts" : " stands by"));
    });
  }
  void round(NodeLease& lease) {
    timers.run([&]() -> boost::asio::awaitable<bool> {
      co_await lease.tryAcquireOrRenew();
      co_return true;
    }());
  }
};

TEST_F(NodeLeaseTest, TheFirstAgentActsTheSecondStandsBy) {
  auto a = elector("agent-a");
  auto b = elector("agent-b");
  round(*a);
  round(*b);
  EXPECT_TRUE(a->isLeader());
  EXPECT_FALSE(b->isLeader());
  EXPECT_EQ(store.holder(), "agent-a");
  EXPECT_EQ(NodeLease::leaseName("node-1"), "aks-node-agent-node-1");
  // The holder keeps renewing: the standby never takes over, however long it watches.
  for (int i = 0; i < 30; ++i) {
    time.advance(5s);
    round(*a);
    round(*b);
    ASSERT_TRUE(a->isLeader()) << i;
    ASSERT_FALSE(b->isLeader()) << i;
  }
  EXPECT_EQ(store.holder(), "agent-a");
}

TEST_F(NodeLeaseTest, TheStandbyTakesOverWhenTheHolderStopsRenewing) {
  auto a = elector("agent-a");
  auto b = elector("agent-b");
  round(*a);
  round(*b);
  // agent-a is gone (killed, no release). agent-b waits a full lease duration from when it
  // last saw the lease change, on its own clock.
  time.advance(10s);
  round(*b);
  EXPECT_FALSE(b->isLeader());
  time.advance(6s);
  round(*b);
  EXPECT_TRUE(b->isLeader());
  EXPECT_EQ(store.holder(), "agent-b");
  EXPECT_EQ(store.transitions(), 1);
  // The old holder, had it only been cut off, no longer believes it acts.
  EXPECT_FALSE(a->isLeader());
  round(*a);
  EXPECT_FALSE(a->isLeader());
  EXPECT_EQ(changes, (std::vector<std::string>{"agent-a acts", "agent-b stands by", "agent-b acts",
                                                "agent-a stands by"}));
}

// A rollout replaces the agent: the old one releases on SIGTERM, the new one acts at once
// instead of after the lease duration.
TEST_F(NodeLeaseTest, AReleasedLeaseIsTakenAtOnce) {
  auto a = elector("agent-a");
  auto b = elector("agent-b");
  round(*a);
  round(*b);
  timers.run([&]() -> boost::asio::awaitable<bool> {
    co_await a->release();
    co_return true;
  }());
  EXPECT_FALSE(a->isLeader());
  EXPECT_EQ(store.holder(), "");
  time.advance(1s);
  round(*b);
  EXPECT_TRUE(b->isLeader());
  EXPECT_EQ(store.holder(), "agent-b");
}

TEST_F(NodeLeaseTest, TwoStandbysTakingOverAtOnceOneWins) {
  auto a = elector("agent-a");
  round(*a);
  auto b = elector("agent-b");
  auto c = elector("agent-c");
  round(*b);
  round(*c);
  time.advance(16s);
  // Both read the expired lease before either writes: the second write is a 409.
  bool bDone = false, cDone = false;
  boost::asio::co_spawn(io, b->tryAcquireOrRenew(), [&](std::exception_ptr) { bDone = true; });
  boost::asio::co_spawn(io, c->tryAcquireOrRenew(), [&](std::exception_ptr) { cDone = true; });
  ASSERT_TRUE(timers.runUntil([&] { return bDone && cDone; }));
  EXPECT_NE(b->isLeader(), c->isLeader());
  EXPECT_EQ(store.holder(), b->isLeader() ? "agent-b" : "agent-c");
}

TEST_F(NodeLeaseTest, ForbiddenLeasesFailOpen) {
  store.forbidden = 100;
  auto a = elector("agent-a");
  round(*a);
  EXPECT_TRUE(a->isLeader()) << "never acting would leave the node unprotected";
  EXPECT_FALSE(a->statusJson().at("coordinated").as_bool());
}

}  // namespace
}  // namespace aksnode
