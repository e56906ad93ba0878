#include "agent/kube/rate_limiter.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "support/sim_timers.h"

namespace aksnode {
namespace {

using namespace std::chrono_literals;

struct RateLimiterTest : ::testing::Test {
  boost::asio::io_context io;
  SimulatedTimeSource time;
  testing::SimulatedTimers timers{io, time};
  MonotonicTime start = time.monotonicTime();

  // Starts n acquires at once; returns when each got its token, in ms from start.
  std::vector<long long> acquireAll(RateLimiter& limiter, int n) {
    std::vector<long long> at;
    for (int i = 0; i < n; ++i) {
      boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
        co_await limiter.acquire();
        at.push_back((time.monotonicTime() - start) / 1ms);
      }, boost::asio::detached);
    }
    EXPECT_TRUE(timers.runUntil([&] { return static_cast<int>(at.size()) == n; }));
    return at;
  }
};

TEST_F(RateLimiterTest, BurstIsImmediateThenOnePerInterval) {
  RateLimiter limiter(10, 5, timers);  // 10/s: one token every 100 ms
  const auto at = acquireAll(limiter, 8);
  EXPECT_EQ(at, (std::vector<long long>{0, 0, 0, 0, 0, 100, 200, 300}));
}

TEST_F(RateLimiterTest, SustainedRateMatchesQps) {
  RateLimiter limiter(100, 300, timers);  // the config defaults
  const auto at = acquireAll(limiter, 500);
  // 300 at once, the other 200 at 100/s: the last one 2 s in.
  EXPECT_EQ(std::count(at.begin(), at.end(), 0), 300);
  EXPECT_EQ(at.back(), 2000);
  EXPECT_TRUE(std::is_sorted(at.begin(), at.end()));
}

TEST_F(RateLimiterTest, IdleTimeRefillsUpToBurstOnly) {
  RateLimiter limiter(10, 3, timers);
  acquireAll(limiter, 3);
  time.advance(60s);
  start = time.monotonicTime();
  const auto at = acquireAll(limiter, 5);
  EXPECT_EQ(at, (std::vector<long long>{0, 0, 0, 100, 200}));
}

TEST_F(RateLimiterTest, TryAcquireAndCurrentDelay) {
  RateLimiter limiter(2, 1, timers);
  EXPECT_EQ(limiter.currentDelay(), 0ns);
  EXPECT_TRUE(limiter.tryAcquire());
  EXPECT_FALSE(limiter.tryAcquire());
  EXPECT_EQ(limiter.currentDelay(), 500ms);
  time.advance(250ms);
  EXPECT_EQ(limiter.currentDelay(), 250ms);
  time.advance(250ms);
  EXPECT_TRUE(limiter.tryAcquire());
}

TEST_F(RateLimiterTest, ZeroQpsMeansNoLimit) {
  RateLimiter limiter(0, 1, timers);
  const auto at = acquireAll(limiter, 1000);
  EXPECT_EQ(at.back(), 0);
  EXPECT_TRUE(limiter.tryAcquire());
}

}  // namespace
}  // namespace aksnode
