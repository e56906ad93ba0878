// PollSchedule::next: a fixed grid while healthy, capped doubling backoff after failures,
// Retry-After honoured, never more than 5 requests/s.
#include "probes/scheduled_events/poll_schedule.h"

#include <gtest/gtest.h>

#include <vector>

namespace aksnode {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

const MonotonicTime t0 = MonotonicTime{} + 1000s;

long long msAfterT0(MonotonicTime t) { return std::chrono::duration_cast<milliseconds>(t - t0).count(); }

MonotonicTime next(MonotonicTime lastStart, MonotonicTime now, milliseconds interval = 1000ms, int failures = 0,
                   std::optional<std::chrono::seconds> retryAfter = std::nullopt) {
  return PollSchedule::next(lastStart, now, interval, failures, retryAfter);
}

TEST(PollSchedule, HealthyPollsStayOnTheGridWithoutDrift) {
  // Polls that take 10 ms, 900 ms, 0 ms, 999 ms: the next one always starts on t0 + n s.
  MonotonicTime start = t0;
  std::vector<long long> starts;
  for (milliseconds took : {10ms, 900ms, 0ms, 999ms, 500ms}) {
    start = next(start, start + took);
    starts.push_back(msAfterT0(start));
  }
  EXPECT_EQ(starts, (std::vector<long long>{1000, 2000, 3000, 4000, 5000}));
}

TEST(PollSchedule, SlowPollSkipsMissedSlotsAndStaysOnTheGrid) {
  EXPECT_EQ(msAfterT0(next(t0, t0 + 2500ms)), 3000);
  EXPECT_EQ(msAfterT0(next(t0, t0 + 1001ms)), 2000);
  EXPECT_EQ(msAfterT0(next(t0, t0 + 9999ms)), 10000);
  // A poll that took exactly one interval keeps its slot (due now), not the one after.
  EXPECT_EQ(msAfterT0(next(t0, t0 + 1000ms)), 1000);
  EXPECT_EQ(msAfterT0(next(t0, t0 + 3000ms)), 3000);
  // Never in the past.
  for (auto took : {1ms, 999ms, 1000ms, 1001ms, 4321ms}) EXPECT_GE(next(t0, t0 + took), t0 + took) << took.count();
}

TEST(PollSchedule, BackoffDoublesFromTheIntervalAndIsCappedAtFiveSeconds) {
  std::vector<long long> delays;
  for (int failures = 1; failures <= 8; ++failures) delays.push_back(msAfterT0(next(t0, t0 + 10ms, 1000ms, failures)));
  EXPECT_EQ(delays, (std::vector<long long>{1000, 2000, 4000, 5000, 5000, 5000, 5000, 5000}));
  EXPECT_EQ(PollSchedule::kMaxBackoff, 5000ms);
  // A huge failure count does not overflow.
  EXPECT_EQ(msAfterT0(next(t0, t0, 1000ms, 1'000'000)), 5000);
}

TEST(PollSchedule, BackoffCountsFromTheStartButNeverBeforeNow) {
  // A poll that timed out after 2 s, first failure: the next one goes at once, not in the past.
  EXPECT_EQ(next(t0, t0 + 2000ms, 1000ms, 1), t0 + 2000ms);
  EXPECT_EQ(msAfterT0(next(t0, t0 + 2000ms, 1000ms, 3)), 4000);
}

TEST(PollSchedule, RetryAfterIsRespectedUpToFiveSeconds) {
  EXPECT_EQ(msAfterT0(next(t0, t0 + 5ms, 1000ms, 1, 3s)), 3005);
  EXPECT_EQ(msAfterT0(next(t0, t0 + 5ms, 1000ms, 1, 5s)), 5005);
  // A shorter Retry-After does not shorten the backoff.
  EXPECT_EQ(msAfterT0(next(t0, t0 + 5ms, 1000ms, 4, 1s)), 5000);
  EXPECT_EQ(msAfterT0(next(t0, t0 + 5ms, 1000ms, 1, 0s)), 1000);
}

// Issue 19, item 2: one 429 with Retry-After: 1000000000 stopped polling for 300 s; a 30 s
// notice allows a few seconds at most.
TEST(PollSchedule, AHugeRetryAfterStretchesTheWaitAFewSecondsAtMost) {
  EXPECT_EQ(PollSchedule::kMaxRetryAfter, 5s);
  for (std::chrono::seconds ra : {6s, 30s, 300s, std::chrono::seconds(1000000000)}) {
    EXPECT_EQ(msAfterT0(next(t0, t0 + 5ms, 1000ms, 1, ra)), 5005) << ra.count();
    EXPECT_EQ(msAfterT0(next(t0, t0 + 5ms, 1000ms, 9, ra)), 5005) << ra.count();
  }
}

TEST(PollSchedule, RetryAfterCountsFromTheAnswer) {
  // The 429 came back after 1.5 s with Retry-After: 1 -> not before 2.5 s.
  EXPECT_EQ(msAfterT0(next(t0, t0 + 1500ms, 1000ms, 1, 1s)), 2500);
}

TEST(PollSchedule, NeverMoreThanFiveRequestsPerSecond) {
  EXPECT_EQ(PollSchedule::kMinSpacing, 200ms);
  for (milliseconds interval : {0ms, 1ms, 50ms, 199ms}) {
    EXPECT_EQ(msAfterT0(next(t0, t0, interval)), 200) << interval.count();
    EXPECT_EQ(msAfterT0(next(t0, t0 + 1ms, interval, 1)), 200) << interval.count();
    EXPECT_EQ(msAfterT0(next(t0, t0 + 450ms, interval)), 600) << interval.count();
  }
  EXPECT_EQ(msAfterT0(next(t0, t0 + 1ms, 1000ms, 1, 0s)), 1000);
}

TEST(PollSchedule, LongIntervalIsNotShortenedByBackoff) {
  // With a 10 s interval, a failure must not make polling faster than healthy polling.
  EXPECT_EQ(msAfterT0(next(t0, t0 + 5ms, 10'000ms, 1)), 10000);
  EXPECT_EQ(msAfterT0(next(t0, t0 + 5ms, 10'000ms, 6)), 10000);
  EXPECT_EQ(msAfterT0(next(t0, t0 + 5ms, 10'000ms)), 10000);
}

TEST(PollSchedule, ShortIntervalBackoffStillCapsAtFiveSeconds) {
  std::vector<long long> delays;
  for (int failures = 1; failures <= 7; ++failures) delays.push_back(msAfterT0(next(t0, t0, 300ms, failures)));
  EXPECT_EQ(delays, (std::vector<long long>{300, 600, 1200, 2400, 4800, 5000, 5000}));
}

}  // namespace
}  // namespace aksnode
