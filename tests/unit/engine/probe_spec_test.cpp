// arch/ARCHITECTURE.md "Adding a probe", followed once with a probe that exists only here: its
// ProbeSpec alone gives it a condition, Events and the disk-unhealthy taint; no engine edit.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "agent/engine/action_engine.h"
#include "agent/engine/desired_state.h"
#include "agent/notify/notifier.h"
#include "metrics/metrics.h"
#include "unit/engine/engine_test_support.h"
#include "support/sim_timers.h"

namespace aksnode {
namespace {

using ::testing::ElementsAre;

// A fan probe has no configuration section; the test says whether it is configured.
bool fanConfigured = true;

const ProbeSpec kFanProbe{
    .kind = "fan",
    .conditionType = "FanProblem",
    .healthyReason = "FansHealthy",
    .healthyMessage = "Every fan spins",
    .unhealthyEvent = "FanFailing",
    .unhealthyEventMessage = [](const ProbeResult& r) { return "fan " + r.target + " " + r.reason; },
    .recoveredEvent = "FanRecovered",
    .recoveredEventMessage = targetRecoveredEventMessage,
    .mayTaint = true,
    .monitored = [](const Config&) { return fanConfigured; },
};
const ProbeSpec* const kSpecs[] = {&kFanProbe};

ProbeResult fan(const std::string& target, bool healthy, bool taint = true) {
  ProbeResult r = ProbeResult::forSpec(kFanProbe);
  r.target = target;
  r.healthy = healthy;
  r.reason = healthy ? "" : "Stalled";
  r.message = healthy ? "" : "0 rpm";
  r.taintWhenUnhealthy = taint;
  return r;
}

class FanProbeTest : public ::testing::Test {
 protected:
  FanProbeTest() { fanConfigured = true; }
  DesiredNode desired(const std::vector<ProbeResult>& health, const NodeView& live) {
    EngineInputs in;
    in.health = &health;
    in.probeSpecs = kSpecs;
    return computeDesiredNode(in, live, config, testing::kWallStart);
  }
  static const DesiredCondition* find(const DesiredNode& d, const std::string& type) {
    for (const auto& c : d.conditions) {
      if (c.type == type) return &c;
    }
    return nullptr;
  }
  Config config;
  NodeView healthyNode = testing::NodeBuilder().view();
};

TEST_F(FanProbeTest, AFailingFanSetsItsConditionAndTaints) {
  const DesiredNode d = desired({fan("cpu0", true), fan("cpu1", false), fan("cpu2", false)}, healthyNode);
  const DesiredCondition* c = find(d, "FanProblem");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->status);
  EXPECT_EQ(c->reason, "Stalled");
  EXPECT_EQ(c->message, "cpu1: 0 rpm (and 1 more)");
  ASSERT_EQ(d.taints.size(), 1u);
  EXPECT_EQ(d.taints[0].key, kTaintDiskUnhealthy);
  EXPECT_EQ(d.taints[0].value, "Stalled");
}

TEST_F(FanProbeTest, HealthyFansHaveTheHealthyCondition) {
  const DesiredNode d = desired({fan("cpu0", true), fan("cpu1", false, /*taint=*/false)}, healthyNode);
  EXPECT_TRUE(d.taints.empty());  // the result did not ask for the taint
  const DesiredNode allHealthy = desired({fan("cpu0", true)}, healthyNode);  // named: find() points into it
  const DesiredCondition* c = find(allHealthy, "FanProblem");
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->status);
  EXPECT_EQ(c->reason, "FansHealthy");
  EXPECT_EQ(c->message, "Every fan spins");
}

TEST_F(FanProbeTest, AFanNoLongerConfiguredHasItsConditionSetFalse) {
  fanConfigured = false;
  EXPECT_EQ(find(desired({}, healthyNode), "FanProblem"), nullptr);  // never had it: none
  const NodeView left = testing::NodeBuilder()
                            .condition("FanProblem", "True", "Stalled", "cpu1: 0 rpm", testing::kWallStart,
                                       testing::kWallStart)
                            .view();
  const DesiredNode unmonitored = desired({}, left);  // named: find() points into it
  const DesiredCondition* c = find(unmonitored, "FanProblem");
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->status);
  EXPECT_EQ(c->reason, "NotMonitored");
}

class RecordingNotifier final : public Notifier {
 public:
  void notify(const Notice& notice) override { notices.push_back(notice.reason + " " + notice.message); }
  std::vector<std::string> notices;
};

TEST_F(FanProbeTest, FlipsRecordTheSpecsEvents) {
  boost::asio::io_context io;
  SimulatedTimeSource time;
  testing::SimulatedTimers timers{io, time};
  config.healthThreshold = 1;
  Metrics metrics{config};
  RecordingNotifier recorder;
  ActionEngine engine(io.get_executor(), {.config = config,
                                          .metrics = metrics,
                                          .timers = timers,
                                          .nodeName = "aks-spot-12345678-vmss000003",
                                          .notifier = &recorder});
  engine.setHealth({fan("cpu1", false)});
  engine.setHealth({fan("cpu1", true)});
  EXPECT_THAT(recorder.notices, ElementsAre("FanFailing fan cpu1 Stalled", "FanRecovered fan cpu1 is healthy again"));
}

}  // namespace
}  // namespace aksnode
