#include "probes/scheduled_events/poll_schedule.h"

#include <algorithm>

namespace aksnode {

MonotonicTime PollSchedule::next(MonotonicTime lastStart, MonotonicTime now, std::chrono::milliseconds pollInterval,
                                 int consecutiveFailures, std::optional<std::chrono::seconds> retryAfter) {
  const auto interval = std::max(pollInterval, kMinSpacing);
  if (consecutiveFailures <= 0) {
    MonotonicTime due = lastStart + interval;
    // Fell behind (a poll slower than the interval): skip the missed slots, stay on the grid.
    // A poll that took exactly the interval is not behind: its next slot is now.
    if (due < now) {
      // The first grid slot at or after now (a poll that ends on a slot keeps it).
      const auto behind = now - lastStart;
      const auto slots = (behind + interval - std::chrono::nanoseconds(1)) / interval;
      due = lastStart + slots * interval;
    }
    return due;
  }
  auto delay = interval;
  for (int i = 1; i < consecutiveFailures && delay < kMaxBackoff; ++i) delay *= 2;
  delay = std::min<std::chrono::milliseconds>(delay, std::max(kMaxBackoff, interval));
  MonotonicTime due = std::max(now, lastStart + delay);
  // Retry-After counts from the answer, not from when the request was sent; it may stretch
  // the wait a little, never past kMaxRetryAfter.
  if (retryAfter) due = std::max(due, now + std::min<std::chrono::seconds>(*retryAfter, kMaxRetryAfter));
  return due;
}

}  // namespace aksnode
