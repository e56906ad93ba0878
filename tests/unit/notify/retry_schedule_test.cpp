// Backoff and budget of webhook retries (agent/notify/retry_schedule.h).
#include "agent/notify/retry_schedule.h"

#include <gtest/gtest.h>

namespace aksnode {
namespace {

using std::chrono::milliseconds;

TEST(NoticeBackoff, DoublesFromAQuarterSecondUpToFourWithEqualJitter) {
  EXPECT_EQ(noticeBackoff(0, 0.0), milliseconds(125));
  EXPECT_EQ(noticeBackoff(0, 1.0), milliseconds(250));
  EXPECT_EQ(noticeBackoff(1, 0.0), milliseconds(250));
  EXPECT_EQ(noticeBackoff(1, 0.5), milliseconds(375));
  EXPECT_EQ(noticeBackoff(2, 1.0), milliseconds(1000));
  EXPECT_EQ(noticeBackoff(4, 1.0), milliseconds(4000));
  EXPECT_EQ(noticeBackoff(5, 1.0), milliseconds(4000));   // capped
  EXPECT_EQ(noticeBackoff(60, 0.0), milliseconds(2000));  // no overflow for absurd counts
  EXPECT_EQ(noticeBackoff(-3, 0.0), milliseconds(125));
}

TEST(NoticeBackoff, JitterOutsideTheUnitIntervalIsClamped) {
  EXPECT_EQ(noticeBackoff(0, -5.0), milliseconds(125));
  EXPECT_EQ(noticeBackoff(0, 7.0), milliseconds(250));
  EXPECT_EQ(noticeBackoff(0, std::numeric_limits<double>::quiet_NaN()), milliseconds(125));
}

TEST(NextNoticeAttempt, WaitsOnlyWhenAUsefulAttemptStillFits) {
  EXPECT_EQ(nextNoticeAttempt(0, 0.0, std::nullopt, milliseconds(5000)), milliseconds(125));
  // 125 ms wait + 200 ms for the attempt = 325 ms.
  EXPECT_EQ(nextNoticeAttempt(0, 0.0, std::nullopt, milliseconds(325)), milliseconds(125));
  EXPECT_EQ(nextNoticeAttempt(0, 0.0, std::nullopt, milliseconds(324)), std::nullopt);
  EXPECT_EQ(nextNoticeAttempt(0, 0.0, std::nullopt, milliseconds(0)), std::nullopt);
  EXPECT_EQ(nextNoticeAttempt(0, 0.0, std::nullopt, milliseconds(-10)), std::nullopt);
}

TEST(NextNoticeAttempt, HonoursRetryAfterWhenItFitsAndGivesUpWhenNot) {
  EXPECT_EQ(nextNoticeAttempt(0, 0.0, milliseconds(2000), milliseconds(5000)), milliseconds(2000));
  EXPECT_EQ(nextNoticeAttempt(0, 0.0, milliseconds(10), milliseconds(5000)), milliseconds(125));  // never shorter
  EXPECT_EQ(nextNoticeAttempt(0, 0.0, milliseconds(60'000), milliseconds(5000)), std::nullopt);
}

TEST(NextNoticeAttempt, TheDefaultBudgetHoldsTheDefaultRetries) {
  // timeout 5s, retries 3, receivers that answer 500 at once: every retry fits, whatever the jitter.
  for (double r : {0.0, 0.5, 0.999}) {
    Duration left{5000};
    for (int retry = 0; retry < 3; ++retry) {
      const auto wait = nextNoticeAttempt(retry, r, std::nullopt, left);
      ASSERT_TRUE(wait.has_value()) << "retry " << retry << " jitter " << r;
      left -= *wait;
    }
    EXPECT_GT(left, Duration{0});
  }
}

}  // namespace
}  // namespace aksnode
