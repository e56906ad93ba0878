#include "agent/notify/attempt_result.h"

#include "agent/http/retry_after.h"

namespace aksnode {

AttemptResult classifyAttempt(const HttpResult& result, SystemTime now) {
  AttemptResult out;
  if (!result.ok()) {
    out.detail = std::string(toString(result.error)) + (result.errorMessage.empty() ? "" : ": " + result.errorMessage);
    switch (result.error) {
      case HttpError::Timeout:
        out.timedOut = true;
        out.verdict = AttemptVerdict::Retry;
        break;
      case HttpError::Unreachable:
      case HttpError::Protocol:
        out.verdict = AttemptVerdict::Retry;
        break;
      default:  // a bad URL or TLS failure repeats itself; BodyTooLarge: the receiver's bug; Cancelled: shutdown
        out.verdict = AttemptVerdict::Final;
    }
    return out;
  }
  const int status = result.response.status;
  out.detail = "HTTP " + std::to_string(status);
  if (status >= 200 && status < 300) {
    out.verdict = AttemptVerdict::Delivered;
  } else if (status == 429 || (status >= 500 && status < 600)) {
    out.verdict = AttemptVerdict::Retry;
    if (const auto after = parseRetryAfter(result.response.header("Retry-After"), now)) {
      out.retryAfter = std::chrono::duration_cast<Duration>(*after);
    }
  } else {
    out.verdict = AttemptVerdict::Final;
  }
  return out;
}

}  // namespace aksnode
