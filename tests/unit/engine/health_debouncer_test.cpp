// HealthDebouncer: the first result counts at once, later flips need `threshold` consecutive
// disagreeing results, agreeing results reset the count.
#include "agent/engine/health_debouncer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "unit/engine/engine_test_support.h"

namespace aksnode {
namespace {

using testing::probeResult;

ProbeResult disk(bool healthy, std::string reason = {}, std::string message = {}) {
  return probeResult("disk", "/mnt", healthy, healthy ? "" : reason, healthy ? "" : message);
}

TEST(HealthDebouncer, FirstResultIsTakenAtOnce) {
  HealthDebouncer d(3);
  auto flips = d.feed({disk(false, "ReadOnly", "read-only"), probeResult("cache", "/c", true)});
  ASSERT_EQ(flips.size(), 1u);  // a healthy first result is no flip
  EXPECT_FALSE(flips[0].nowHealthy);
  EXPECT_EQ(flips[0].result.reason, "ReadOnly");
  auto cur = d.current();
  ASSERT_EQ(cur.size(), 2u);
  EXPECT_FALSE(cur[0].healthy);
  EXPECT_TRUE(cur[1].healthy);
}

TEST(HealthDebouncer, FlipsAfterThresholdConsecutiveResults) {
  HealthDebouncer d(2);
  d.feed({disk(true)});
  EXPECT_TRUE(d.feed({disk(false, "LowSpace", "5%")}).empty());
  EXPECT_TRUE(d.current()[0].healthy);
  // Not flipped yet: the shown state keeps its (healthy) texts, not the raw failure's.
  EXPECT_EQ(d.current()[0].reason, "");
  auto flips = d.feed({disk(false, "LowSpace", "4%")});
  ASSERT_EQ(flips.size(), 1u);
  EXPECT_FALSE(flips[0].nowHealthy);
  EXPECT_FALSE(d.current()[0].healthy);
  EXPECT_EQ(d.current()[0].message, "4%");
  // Still failing: no new flip, details refreshed.
  EXPECT_TRUE(d.feed({disk(false, "LowSpace", "3%")}).empty());
  EXPECT_EQ(d.current()[0].message, "3%");
  // Back: also needs two.
  EXPECT_TRUE(d.feed({disk(true)}).empty());
  EXPECT_FALSE(d.current()[0].healthy);
  EXPECT_EQ(d.current()[0].message, "3%");
  flips = d.feed({disk(true)});
  ASSERT_EQ(flips.size(), 1u);
  EXPECT_TRUE(flips[0].nowHealthy);
  EXPECT_TRUE(d.current()[0].healthy);
}

TEST(HealthDebouncer, AnAgreeingResultResetsTheCount) {
  HealthDebouncer d(3);
  d.feed({disk(true)});
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(d.feed({disk(false, "ProbeHung", "x")}).empty());
    EXPECT_TRUE(d.feed({disk(false, "ProbeHung", "x")}).empty());
    EXPECT_TRUE(d.feed({disk(true)}).empty());  // flapping never flips
  }
  EXPECT_TRUE(d.current()[0].healthy);
  d.feed({disk(false, "ProbeHung", "x")});
  d.feed({disk(false, "ProbeHung", "x")});
  EXPECT_EQ(d.feed({disk(false, "ProbeHung", "x")}).size(), 1u);
}

TEST(HealthDebouncer, ThresholdOneFlipsImmediatelyAndBelowOneIsOne) {
  for (int threshold : {1, 0, -4}) {
    HealthDebouncer d(threshold);
    d.feed({disk(true)});
    EXPECT_EQ(d.feed({disk(false, "ReadOnly", "ro")}).size(), 1u) << threshold;
    EXPECT_EQ(d.feed({disk(true)}).size(), 1u) << threshold;
  }
}

TEST(HealthDebouncer, TargetsAreIndependentAndKeepFirstSeenOrder) {
  HealthDebouncer d(2);
  d.feed({probeResult("disk", "/b", true), probeResult("disk", "/a", true)});
  d.feed({probeResult("identity", "/t", true)});
  auto flips = d.feed({probeResult("disk", "/a", false, "ReadOnly", "ro"), probeResult("disk", "/b", true)});
  EXPECT_TRUE(flips.empty());
  flips = d.feed({probeResult("disk", "/a", false, "ReadOnly", "ro")});
  ASSERT_EQ(flips.size(), 1u);
  EXPECT_EQ(flips[0].result.target, "/a");
  auto cur = d.current();
  ASSERT_EQ(cur.size(), 3u);
  EXPECT_EQ(cur[0].target, "/b");
  EXPECT_EQ(cur[1].target, "/a");
  EXPECT_EQ(cur[2].kind, "identity");
  EXPECT_TRUE(cur[0].healthy);
  EXPECT_FALSE(cur[1].healthy);
  // Same path, other kind: another target.
  flips = d.feed({probeResult("cache", "/a", true)});
  EXPECT_TRUE(flips.empty());
  EXPECT_EQ(d.current().size(), 4u);
}

TEST(HealthDebouncer, NumbersFollowTheLatestRawResult) {
  HealthDebouncer d(2);
  ProbeResult r = disk(true);
  r.details["freeBytes"] = 100;
  d.feed({r});
  ProbeResult bad = disk(false, "LowSpace", "1%");
  bad.details["freeBytes"] = 1;
  d.feed({bad});
  EXPECT_TRUE(d.current()[0].healthy);
  EXPECT_EQ(d.current()[0].details.at("freeBytes").as_int64(), 1);
}

}  // namespace
}  // namespace aksnode
