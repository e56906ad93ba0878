#pragma once
// When the Kubernetes client retries, and how long it waits. Budgets are small on purpose:
// a spot eviction gives as little as 10 s, so a request must fail fast enough for the engine
// to try the next thing (the engine and drainer own the longer loops).
#include <chrono>
#include <optional>
#include <string_view>

#include "agent/http/http_client.h"

namespace aksnode {

struct RetryPolicy {
  int maxAttempts = 4;  // first try + 3 retries (401 re-auth is extra)
  std::chrono::milliseconds backoffBase{100};
  std::chrono::milliseconds backoffMax{2000};
  std::chrono::milliseconds maxRetryAfter{5000};  // Retry-After is honoured up to this

  // Wait before retry number `retry` (1 = first retry): base * 2^(retry-1) capped at max, with
  // "equal jitter" in [d/2, d] so clients hit by the same outage spread out. random01 in [0, 1).
  std::chrono::milliseconds backoff(int retry, double random01) const;
  // The wait after a 429/503 carrying Retry-After (seconds), else backoff().
  std::chrono::milliseconds delayFor(int retry, std::optional<std::chrono::seconds> retryAfter,
                                     double random01) const;
};

// Which failures are worth another try for an idempotent request.
bool isRetryableStatus(int status);          // 429, 5xx
bool isRetryableTransport(HttpError error);  // Timeout, Unreachable, Protocol

}  // namespace aksnode
