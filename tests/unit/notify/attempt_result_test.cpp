// Which webhook answers are retried (agent/notify/attempt_result.h).
#include "agent/notify/attempt_result.h"

#include <gtest/gtest.h>

namespace aksnode {
namespace {

const SystemTime kNow{std::chrono::seconds{1'800'000'000}};

HttpResult answer(int status, std::vector<std::pair<std::string, std::string>> headers = {}) {
  HttpResult r;
  r.response.status = status;
  r.response.headers = std::move(headers);
  return r;
}
HttpResult failure(HttpError e) {
  HttpResult r;
  r.error = e;
  r.errorMessage = "POST hooks.example.com:443/services/SECRET: boom";
  return r;
}

TEST(ClassifyAttempt, TwoHundredsAreDelivered) {
  for (int s : {200, 201, 202, 204, 299}) EXPECT_EQ(classifyAttempt(answer(s), kNow).verdict, AttemptVerdict::Delivered) << s;
}

TEST(ClassifyAttempt, ThrottlingServerErrorsAndNetworkFailuresAreRetried) {
  for (int s : {429, 500, 502, 503, 504}) EXPECT_EQ(classifyAttempt(answer(s), kNow).verdict, AttemptVerdict::Retry) << s;
  for (HttpError e : {HttpError::Timeout, HttpError::Unreachable, HttpError::Protocol}) {
    EXPECT_EQ(classifyAttempt(failure(e), kNow).verdict, AttemptVerdict::Retry) << toString(e);
  }
  EXPECT_TRUE(classifyAttempt(failure(HttpError::Timeout), kNow).timedOut);
  EXPECT_FALSE(classifyAttempt(failure(HttpError::Unreachable), kNow).timedOut);
  EXPECT_FALSE(classifyAttempt(answer(503), kNow).timedOut);
}

TEST(ClassifyAttempt, OtherClientErrorsAndLocalFailuresAreFinal) {
  for (int s : {100, 301, 400, 401, 403, 404, 408, 410, 413}) {
    EXPECT_EQ(classifyAttempt(answer(s), kNow).verdict, AttemptVerdict::Final) << s;
  }
  for (HttpError e : {HttpError::Tls, HttpError::BadUrl, HttpError::BodyTooLarge, HttpError::Cancelled}) {
    EXPECT_EQ(classifyAttempt(failure(e), kNow).verdict, AttemptVerdict::Final) << toString(e);
  }
}

TEST(ClassifyAttempt, RetryAfterIsRead) {
  EXPECT_EQ(classifyAttempt(answer(429, {{"Retry-After", "3"}}), kNow).retryAfter, std::chrono::seconds(3));
  EXPECT_EQ(classifyAttempt(answer(503, {{"retry-after", "Fri, 15 Jan 2027 08:00:02 GMT"}}), kNow).retryAfter,
            std::chrono::seconds(2));
  EXPECT_EQ(classifyAttempt(answer(429, {{"Retry-After", "soon"}}), kNow).retryAfter, std::nullopt);
  EXPECT_EQ(classifyAttempt(answer(429), kNow).retryAfter, std::nullopt);
}

TEST(ClassifyAttempt, DetailNamesTheStatusOrError) {
  EXPECT_EQ(classifyAttempt(answer(503), kNow).detail, "HTTP 503");
  EXPECT_EQ(classifyAttempt(failure(HttpError::Unreachable), kNow).detail.rfind("unreachable: ", 0), 0U);
}

}  // namespace
}  // namespace aksnode
