// LogRateLimiter: one message at most `burst` times per window, the rest counted and summed up
// once the window ends (arch/FAULTS.md, "Attacks on the running binary": 2,000 new event ids per
// poll wrote 26 MB of log in 14 s).
#include "agent/core/log_rate_limiter.h"

#include <gtest/gtest.h>

namespace aksnode::log {
namespace {

using namespace std::chrono_literals;
using Clock = LogRateLimiter::Clock;

TEST(LogRateLimiter, PassesTheBurstThenCountsAndSumsUp) {
  LogRateLimiter limiter({10s, 3, 100});
  const Clock::time_point t0{};
  int written = 0;
  for (int i = 0; i < 1000; ++i) written += limiter.admit("scheduled event not for this VM", t0 + 1ms * i) ? 1 : 0;
  EXPECT_EQ(written, 3);
  EXPECT_TRUE(limiter.takeEnded(t0 + 9s).empty()) << "the window has not ended";
  const auto ended = limiter.takeEnded(t0 + 10s);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].message, "scheduled event not for this VM");
  EXPECT_EQ(ended[0].count, 997);
  EXPECT_TRUE(limiter.takeEnded(t0 + 11s).empty()) << "reported once";
  // A new window: the burst again.
  EXPECT_TRUE(limiter.admit("scheduled event not for this VM", t0 + 21s));
}

TEST(LogRateLimiter, MessagesAreLimitedSeparately) {
  LogRateLimiter limiter({10s, 1, 100});
  const Clock::time_point t0{};
  EXPECT_TRUE(limiter.admit("a", t0));
  EXPECT_FALSE(limiter.admit("a", t0));
  EXPECT_TRUE(limiter.admit("b", t0));
}

TEST(LogRateLimiter, QuietMessagesNeverProduceASummary) {
  LogRateLimiter limiter({10s, 5, 100});
  const Clock::time_point t0{};
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.admit("m", t0));
  EXPECT_TRUE(limiter.takeEnded(t0 + 1h).empty());
}

TEST(LogRateLimiter, TheNumberOfTrackedMessagesIsBounded) {
  LogRateLimiter limiter({10s, 1, 4});
  const Clock::time_point t0{};
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(limiter.admit("message " + std::to_string(i), t0));
  // Untracked messages are written, never dropped silently.
  EXPECT_TRUE(limiter.admit("message 99", t0));
}

}  // namespace
}  // namespace aksnode::log
