#include "agent/notify/retry_schedule.h"

#include <algorithm>
#include <cmath>

namespace aksnode {

Duration noticeBackoff(int retry, double random01) {
  const int doublings = std::clamp(retry, 0, 16);
  const Duration step = std::min<Duration>(kNoticeMaxBackoff, Duration(kNoticeFirstBackoff.count() << doublings));
  const double r = std::isfinite(random01) ? std::clamp(random01, 0.0, 1.0) : 0.0;
  const auto half = step.count() / 2;
  return Duration(half + static_cast<Duration::rep>(std::llround(static_cast<double>(step.count() - half) * r)));
}

std::optional<Duration> nextNoticeAttempt(int retry, double random01, std::optional<Duration> retryAfter,
                                          Duration budgetLeft) {
  Duration wait = noticeBackoff(retry, random01);
  if (retryAfter) wait = std::max(wait, *retryAfter);
  if (wait + kNoticeMinAttempt > budgetLeft) return std::nullopt;
  return wait;
}

}  // namespace aksnode
