#include "agent/kube/retry_policy.h"

#include <algorithm>

namespace aksnode {

std::chrono::milliseconds RetryPolicy::backoff(int retry, double random01) const {
  using std::chrono::milliseconds;
  const int shift = std::clamp(retry - 1, 0, 30);
  const long long base = std::max<long long>(backoffBase.count(), 1);
  const long long cap = std::max<long long>(backoffMax.count(), base);
  const long long full = shift >= 62 || base > (cap >> shift) ? cap : std::min(cap, base << shift);
  const double r = std::clamp(random01, 0.0, 1.0);
  return milliseconds(full / 2 + static_cast<long long>(static_cast<double>(full - full / 2) * r));
}

std::chrono::milliseconds RetryPolicy::delayFor(int retry, std::optional<std::chrono::seconds> retryAfter,
                                                double random01) const {
  if (retryAfter && retryAfter->count() > 0) {
    return std::min<std::chrono::milliseconds>(*retryAfter, maxRetryAfter);
  }
  return backoff(retry, random01);
}

bool isRetryableStatus(int status) { return status == 429 || (status >= 500 && status <= 599); }

bool isRetryableTransport(HttpError error) {
  return error == HttpError::Timeout || error == HttpError::Unreachable || error == HttpError::Protocol;
}

}  // namespace aksnode
