#pragma once
// When to poll IMDS next. Pure, so the policy is unit-tested without sockets or sleeps.
//  * healthy: every pollInterval on a fixed grid (start + n * interval), so a slow answer
//    does not push every later poll back ("without drift");
//  * after a failure (timeout, unreachable, 429, 410, 5xx, bad body): exponential backoff
//    from pollInterval, doubling per consecutive failure, capped at kMaxBackoff, and never
//    sooner than a Retry-After of at most kMaxRetryAfter. The caps are short on purpose: a
//    Preempt gives as little as 10 s of notice (30 s at best), so the agent must be back on
//    the normal interval quickly. A Retry-After is a hint from a peer the agent cannot
//    trust: one 429 with `Retry-After: 1000000000` used to blind it for 300 s.
//  * never more often than IMDS's limit of 5 requests/s (kMinSpacing).
#include <chrono>
#include <optional>

#include "agent/core/time_source.h"

namespace aksnode {

struct PollSchedule {
  static constexpr std::chrono::milliseconds kMaxBackoff{5000};
  static constexpr std::chrono::milliseconds kMinSpacing{200};
  static constexpr std::chrono::seconds kMaxRetryAfter{5};

  // The time of the next poll, given when the last one started and how it went.
  static MonotonicTime next(MonotonicTime lastStart, MonotonicTime now, std::chrono::milliseconds pollInterval,
                            int consecutiveFailures, std::optional<std::chrono::seconds> retryAfter);
};

}  // namespace aksnode
