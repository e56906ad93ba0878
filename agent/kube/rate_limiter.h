#pragma once
// Client-side request rate limit, like client-go's token bucket: `burst` requests at once,
// then `qps` per second. Callers reserve a token and wait for their turn, so concurrent
// callers are served in the order they asked (no thundering herd, no starvation).
#include <boost/asio/awaitable.hpp>

#include <chrono>

#include "agent/core/timers.h"

namespace aksnode {

class RateLimiter {
 public:
  // qps <= 0 disables the limit; burst < 1 counts as 1. The bucket starts full.
  RateLimiter(double qps, int burst, Timers& timers);

  // Waits until the caller may send one request.
  boost::asio::awaitable<void> acquire();
  // Takes a token when one is available now; never waits.
  bool tryAcquire();
  // How long an acquire() issued now would wait (0 when a token is available).
  std::chrono::nanoseconds currentDelay();

 private:
  void refill(MonotonicTime now);

  double qps_;
  double burst_;
  Timers& timers_;
  double tokens_;  // may go negative: reservations of callers still waiting
  MonotonicTime last_;
};

}  // namespace aksnode
