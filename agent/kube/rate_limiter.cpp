#include "agent/kube/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace aksnode {

RateLimiter::RateLimiter(double qps, int burst, Timers& timers)
    : qps_(qps),
      burst_(static_cast<double>(std::max(burst, 1))),
      timers_(timers),
      tokens_(burst_),
      last_(timers.now()) {}

void RateLimiter::refill(MonotonicTime now) {
  if (now <= last_) return;
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
  last_ = now;
}

std::chrono::nanoseconds RateLimiter::currentDelay() {
  if (qps_ <= 0) return std::chrono::nanoseconds::zero();
  refill(timers_.now());
  if (tokens_ >= 1) return std::chrono::nanoseconds::zero();
  return std::chrono::nanoseconds(static_cast<long long>(std::ceil((1 - tokens_) / qps_ * 1e9)));
}

bool RateLimiter::tryAcquire() {
  if (qps_ <= 0) return true;
  refill(timers_.now());
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

boost::asio::awaitable<void> RateLimiter::acquire() {
  if (qps_ <= 0) co_return;
  const auto now = timers_.now();
  refill(now);
  tokens_ -= 1;  // reserve: later callers see the debt and wait behind this one
  if (tokens_ >= 0) co_return;
  const auto wait = std::chrono::nanoseconds(static_cast<long long>(std::ceil(-tokens_ / qps_ * 1e9)));
  co_await timers_.sleepUntil(now + wait);
}

}  // namespace aksnode
