#pragma once
// What one POST to a webhook means for the notice (docs/notifications.md): 2xx delivered;
// 429, 5xx and network failures worth another attempt; any other answer (a 4xx: a revoked or
// mistyped URL, a payload the receiver refuses) final, since repeating it cannot help.
#include <optional>
#include <string>

#include "agent/config/config.h"
#include "agent/http/http_client.h"
#include "agent/core/time_source.h"

namespace aksnode {

enum class AttemptVerdict { Delivered, Retry, Final };

struct AttemptResult {
  AttemptVerdict verdict = AttemptVerdict::Final;
  bool timedOut = false;                // no answer inside the time the attempt had
  std::optional<Duration> retryAfter;   // a 429's or 503's Retry-After
  std::string detail;                   // "HTTP 503", "Unreachable: ..." (may quote the URL: scrub it)
};

AttemptResult classifyAttempt(const HttpResult& result, SystemTime now);

}  // namespace aksnode
