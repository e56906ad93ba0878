#include "agent/kube/kube_json.h"

#include <gtest/gtest.h>

#include "agent/kube/retry_policy.h"

namespace aksnode {
namespace {

using namespace std::chrono_literals;

constexpr const char* kPdbStatus = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
  "message":"Cannot evict pod as it would violate the pod's disruption budget.","reason":"TooManyRequests",
  "details":{"causes":[{"reason":"DisruptionBudget","message":"The disruption budget web needs 2 healthy pods and has 1 currently"}]},
  "code":429})";

TEST(KubeStatus, ParsesReasonMessageCodeAndCauses) {
  const auto body = parseJsonBody(kPdbStatus);
  ASSERT_TRUE(body);
  const auto status = parseKubeStatus(*body);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->reason, "TooManyRequests");
  EXPECT_EQ(status->message, "Cannot evict pod as it would violate the pod's disruption budget.");
  EXPECT_EQ(status->code, 429);
  ASSERT_EQ(status->causes.size(), 1u);
  EXPECT_EQ(status->causes[0].reason, "DisruptionBudget");
  EXPECT_EQ(status->causes[0].message, "The disruption budget web needs 2 healthy pods and has 1 currently");
}

TEST(KubeStatus, ToleratesWrongTypes) {
  const auto body = parseJsonBody(
      R"({"kind":"Status","reason":5,"message":["x"],"code":"429","details":{"causes":"no"}})");
  ASSERT_TRUE(body);
  const auto status = parseKubeStatus(*body);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->reason, "");
  EXPECT_EQ(status->message, "");
  EXPECT_EQ(status->code, 0);
  EXPECT_TRUE(status->causes.empty());
}

TEST(KubeStatus, NotAStatus) {
  EXPECT_FALSE(parseKubeStatus(*parseJsonBody(R"({"kind":"Pod","metadata":{}})")));
  EXPECT_FALSE(parseKubeStatus(*parseJsonBody(R"([1,2])")));
  EXPECT_FALSE(parseKubeStatus(*parseJsonBody(R"("Status")")));
}

TEST(KubeStatus, BoundsHostileText) {
  const std::string longMessage(5000, 'x');
  const auto status = parseKubeStatus(*parseJsonBody(R"({"kind":"Status","message":")" + longMessage + R"(\u0000\n"})"));
  ASSERT_TRUE(status);
  EXPECT_LE(status->message.size(), 1024u + 3);
  EXPECT_EQ(boundedText("a\nb\x01" "c"), "a b c");
  // A cut never leaves half a UTF-8 sequence behind.
  EXPECT_EQ(boundedText("ab\xc3\xa9" "cd", 3), "ab...");
}

TEST(JsonBody, RejectsGarbageAndDeepNesting) {
  EXPECT_FALSE(parseJsonBody(""));
  EXPECT_FALSE(parseJsonBody("{\"a\":"));
  EXPECT_FALSE(parseJsonBody("<html>"));
  EXPECT_FALSE(parseJsonBody("{} {}"));
  EXPECT_FALSE(parseJsonBody(std::string(100, '[') + std::string(100, ']')));
  EXPECT_TRUE(parseJsonBody(std::string(60, '[') + std::string(60, ']')));
}

TEST(ListPage, ItemsAndContinue) {
  auto page = parseListPage(*parseJsonBody(R"({"kind":"PodList","metadata":{"continue":"tok"},"items":[{"a":1},5,{"b":2}]})"));
  ASSERT_TRUE(page);
  EXPECT_EQ(page->items.size(), 2u) << "non-objects dropped";
  EXPECT_EQ(page->continueToken, "tok");
  page = parseListPage(*parseJsonBody(R"({"items":null})"));
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->items.empty());
  EXPECT_FALSE(parseListPage(*parseJsonBody(R"({"items":{}})")));
  EXPECT_FALSE(parseListPage(*parseJsonBody(R"({"kind":"Status"})")));
  EXPECT_FALSE(parseListPage(*parseJsonBody(R"([])")));
}

TEST(RetryPolicy, BackoffDoublesWithEqualJitterAndCaps) {
  RetryPolicy p;  // 100 ms base, 2 s cap
  EXPECT_EQ(p.backoff(1, 0.0), 50ms);
  EXPECT_EQ(p.backoff(1, 0.999), 99ms);
  EXPECT_EQ(p.backoff(2, 0.0), 100ms);
  EXPECT_EQ(p.backoff(3, 1.0), 400ms);
  EXPECT_EQ(p.backoff(10, 1.0), 2000ms);
  EXPECT_EQ(p.backoff(1000, 0.0), 1000ms);
}

TEST(RetryPolicy, RetryAfterWinsUpToItsCap) {
  RetryPolicy p;
  EXPECT_EQ(p.delayFor(1, 3s, 0.5), 3s);
  EXPECT_EQ(p.delayFor(1, 120s, 0.5), 5s);
  EXPECT_EQ(p.delayFor(2, std::nullopt, 0.0), 100ms);
  EXPECT_EQ(p.delayFor(2, 0s, 0.0), 100ms);
}

TEST(RetryPolicy, WhatIsRetryable) {
  EXPECT_TRUE(isRetryableStatus(429));
  EXPECT_TRUE(isRetryableStatus(500));
  EXPECT_TRUE(isRetryableStatus(503));
  EXPECT_FALSE(isRetryableStatus(404));
  EXPECT_FALSE(isRetryableStatus(409));
  EXPECT_TRUE(isRetryableTransport(HttpError::Timeout));
  EXPECT_TRUE(isRetryableTransport(HttpError::Unreachable));
  EXPECT_FALSE(isRetryableTransport(HttpError::Tls));
  EXPECT_FALSE(isRetryableTransport(HttpError::BodyTooLarge));
  EXPECT_FALSE(isRetryableTransport(HttpError::Cancelled));
}

}  // namespace
}  // namespace aksnode
