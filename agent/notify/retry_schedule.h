#pragma once
// When a webhook notice is tried again (docs/notifications.md, "Retries and the budget"). Pure:
// the caller passes the budget left and a random number, so tests need no clock and no luck.
#include <chrono>
#include <optional>

#include "agent/config/config.h"

namespace aksnode {

// The first retry waits about 250 ms, each further one twice as long, at most 4 s.
inline constexpr Duration kNoticeFirstBackoff{250};
inline constexpr Duration kNoticeMaxBackoff{4000};
// An attempt with less time than this left is not started: it could only time out.
inline constexpr Duration kNoticeMinAttempt{200};

// The wait before retry number `retry` (0 = the first retry) with "equal jitter": half of the
// exponential step fixed, half scaled by random01 in [0, 1), so that the agents of a node pool
// evicted together do not retry against the receiver in lockstep.
Duration noticeBackoff(int retry, double random01);

// The wait before the next attempt, or nullopt when the budget left cannot hold the wait and a
// useful attempt after it. A receiver's Retry-After (429) is honoured when it fits, and is the
// end of the road when it does not.
std::optional<Duration> nextNoticeAttempt(int retry, double random01, std::optional<Duration> retryAfter,
                                          Duration budgetLeft);

}  // namespace aksnode
