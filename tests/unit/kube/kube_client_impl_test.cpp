#include "agent/kube/kube_client_impl.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/detached.hpp>
#include <boost/json.hpp>

#include "agent/config/config.h"
#include "agent/kube/bearer_token.h"
#include "agent/kube/kube_config.h"
#include "metrics/metrics.h"
#include "unit/kube/fake_http_client.h"
#include "unit/kube/pod_builder.h"
#include "support/sim_timers.h"
#include "support/temp_dir.h"

namespace aksnode {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::headerOf;
using testing::httpFailure;
using testing::httpResponse;
using testing::statusBody;

struct KubeClientTest : ::testing::Test {
  boost::asio::io_context io;
  SimulatedTimeSource time;
  testing::SimulatedTimers timers{io, time};
  testing::FakeHttpClient http{&timers};
  testing::TempDir dir;
  std::string tokenFile = dir.write("token", "token-1\n");
  BearerToken token{"", tokenFile, time};
  Config config;
  Metrics metrics{config};
  MonotonicTime start = time.monotonicTime();

  KubeClientOptions options() {
    KubeClientOptions o;
    o.server = "https://10.0.0.1:443";
    o.jitterSeed = 42;
    return o;
  }
  std::unique_ptr<KubeClientImpl> client(KubeClientOptions o) {
    return std::make_unique<KubeClientImpl>(std::move(o), http, timers, &token, &metrics);
  }
  std::unique_ptr<KubeClientImpl> client() { return client(options()); }
  double requests(const char* verb, const char* resource, const char* code) {
    return metrics.kubeRequest(verb, resource, code).Value();
  }
  long long elapsedMs() const { return (time.monotonicTime() - start) / 1ms; }
};

TEST_F(KubeClientTest, GetNodeSendsTheRightRequest) {
  http.script.push_back(httpResponse(200, R"({"kind":"Node","metadata":{"name":"node-1"}})"));
  auto c = client();
  const KubeResult r = timers.run(c->getNode("node-1"));
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.body.at("metadata").at("name"), "node-1");
  ASSERT_EQ(http.requests.size(), 1u);
  const HttpRequest& req = http.requests[0];
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.url, "https://10.0.0.1:443/api/v1/nodes/node-1");
  EXPECT_EQ(headerOf(req, "Authorization"), "Bearer token-1");
  EXPECT_EQ(headerOf(req, "Accept"), "application/json");
  EXPECT_EQ(headerOf(req, "User-Agent"), KubeClientOptions::defaultUserAgent());
  EXPECT_THAT(headerOf(req, "User-Agent"), ::testing::StartsWith("aks-node-agent/"));
  EXPECT_EQ(headerOf(req, "Content-Type"), "<absent>");
  EXPECT_EQ(req.timeout, 10s);
  EXPECT_EQ(req.bodyLimit, 1u << 20);
  EXPECT_EQ(requests("get", "nodes", "2xx"), 1);
}

TEST_F(KubeClientTest, PatchContentTypes) {
  http.handler = [](const HttpRequest&) { return httpResponse(200, "{}"); };
  auto c = client();
  const boost::json::value patch = {{"spec", {{"unschedulable", true}}}};
  timers.run(c->patchNode("n", patch, PatchType::StrategicMerge));
  timers.run(c->patchNode("n", patch, PatchType::Merge));
  timers.run(c->patchNode("n", boost::json::array{}, PatchType::Json));
  timers.run(c->patchNodeStatus("n", patch));
  timers.run(c->patchEvent("default", "n.123", patch));
  ASSERT_EQ(http.requests.size(), 5u);
  EXPECT_EQ(headerOf(http.requests[0], "Content-Type"), "application/strategic-merge-patch+json");
  EXPECT_EQ(headerOf(http.requests[1], "Content-Type"), "application/merge-patch+json");
  EXPECT_EQ(headerOf(http.requests[2], "Content-Type"), "application/json-patch+json");
  EXPECT_EQ(http.requests[0].method, "PATCH");
  EXPECT_EQ(boost::json::parse(http.requests[0].body), patch);
  EXPECT_EQ(http.requests[3].url, "https://10.0.0.1:443/api/v1/nodes/n/status");
  EXPECT_EQ(headerOf(http.requests[3], "Content-Type"), "application/strategic-merge-patch+json");
  EXPECT_EQ(http.requests[4].url, "https://10.0.0.1:443/api/v1/namespaces/default/events/n.123");
  EXPECT_EQ(requests("patch", "nodes", "2xx"), 3);
  EXPECT_EQ(requests("patch", "nodes/status", "2xx"), 1);
  EXPECT_EQ(requests("patch", "events", "2xx"), 1);
}

TEST_F(KubeClientTest, PathSegmentsAndQueryValuesAreEncoded) {
  auto c = client();
  EXPECT_EQ(c->urlFor({"api", "v1", "nodes", "a/b c?d#e%"}),
            "https://10.0.0.1:443/api/v1/nodes/a%2Fb%20c%3Fd%23e%25");
  const std::string url = c->urlFor({"api", "v1", "pods"}, {{"fieldSelector", "spec.nodeName=n&x=y"}, {"continue", "a+b/="}});
  // '&' in a value never splits the query; '+' would decode as a space in Go.
  EXPECT_EQ(url, "https://10.0.0.1:443/api/v1/pods?fieldSelector=spec.nodeName%3Dn%26x%3Dy&continue=a%2Bb%2F%3D");
  KubeClientOptions prefixed = options();
  prefixed.server = "https://rancher.example.com/k8s/clusters/c-1/";
  EXPECT_EQ(client(prefixed)->urlFor({"api", "v1", "nodes", "n"}),
            "https://rancher.example.com/k8s/clusters/c-1/api/v1/nodes/n");
}

TEST_F(KubeClientTest, ErrorsCarryTheStatusReasonAndMessage) {
  http.script.push_back(httpResponse(404, statusBody(404, "NotFound", "nodes \"x\" not found")));
  http.script.push_back(httpResponse(409, statusBody(409, "Conflict", "the object has been modified")));
  http.script.push_back(httpResponse(403, "<html>forbidden</html>"));
  auto c = client();
  KubeResult r = timers.run(c->getNode("x"));
  EXPECT_TRUE(r.notFound());
  EXPECT_EQ(r.reason, "NotFound");
  EXPECT_EQ(r.message, "nodes \"x\" not found");
  EXPECT_TRUE(r.body.is_null());
  r = timers.run(c->patchNode("x", boost::json::object{}, PatchType::StrategicMerge));
  EXPECT_TRUE(r.conflict());
  EXPECT_EQ(r.reason, "Conflict");
  r = timers.run(c->getNode("x"));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.message, "HTTP 403: <html>forbidden</html>");
  EXPECT_EQ(http.requests.size(), 3u) << "4xx are not retried";
  EXPECT_EQ(requests("get", "nodes", "4xx"), 2);
}

TEST_F(KubeClientTest, SuccessWithoutJsonIsAProtocolError) {
  http.script.push_back(httpResponse(200, "<html>"));
  auto c = client();
  const KubeResult r = timers.run(c->getNode("x"));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.transport, HttpError::Protocol);
  EXPECT_EQ(r.status, 200);
}

TEST_F(KubeClientTest, OversizedBodyIsRefusedEvenIfTheTransportDeliveredIt) {
  http.script.push_back(httpResponse(200, "\"" + std::string(1 << 20, 'x') + "\""));
  auto c = client();
  const KubeResult r = timers.run(c->getNode("x"));
  EXPECT_EQ(r.transport, HttpError::BodyTooLarge);
  EXPECT_EQ(requests("get", "nodes", "error"), 1);
}

TEST_F(KubeClientTest, TooManyRequestsHonoursRetryAfter) {
  http.script.push_back(httpResponse(429, statusBody(429, "TooManyRequests", "slow down"), {{"retry-after", "2"}}));
  http.script.push_back(httpResponse(200, "{}"));
  auto c = client();
  const KubeResult r = timers.run(c->getNode("x"));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(http.requests.size(), 2u);
  EXPECT_EQ(elapsedMs(), 2000);
  EXPECT_EQ(requests("get", "nodes", "429"), 1);
  EXPECT_EQ(requests("get", "nodes", "2xx"), 1);
}

TEST_F(KubeClientTest, RetryAfterIsCapped) {
  http.script.push_back(httpResponse(503, "", {{"Retry-After", "3600"}}));
  http.script.push_back(httpResponse(200, "{}"));
  auto c = client();
  EXPECT_TRUE(timers.run(c->getNode("x")).ok());
  EXPECT_EQ(elapsedMs(), 5000);
}

TEST_F(KubeClientTest, ServerErrorsBackOffWithJitterThenGiveUp) {
  http.handler = [](const HttpRequest&) { return httpResponse(503, statusBody(503, "ServiceUnavailable", "etcd")); };
  std::vector<long long> sentAt;
  auto wrapped = http.handler;
  http.handler = [&](const HttpRequest& r) {
    sentAt.push_back(elapsedMs());
    return wrapped(r);
  };
  auto c = client();
  const KubeResult r = timers.run(c->getNode("x"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.message, "etcd");
  ASSERT_EQ(sentAt.size(), 4u) << "maxAttempts";
  // Gaps: [50,100), [100,200), [200,400) ms.
  const long long gaps[3] = {sentAt[1] - sentAt[0], sentAt[2] - sentAt[1], sentAt[3] - sentAt[2]};
  EXPECT_GE(gaps[0], 50);
  EXPECT_LT(gaps[0], 100);
  EXPECT_GE(gaps[1], 100);
  EXPECT_LT(gaps[1], 200);
  EXPECT_GE(gaps[2], 200);
  EXPECT_LT(gaps[2], 400);
  EXPECT_EQ(requests("get", "nodes", "5xx"), 4);
}

TEST_F(KubeClientTest, TransportErrorsRetryForIdempotentCalls) {
  http.script.push_back(httpFailure(HttpError::Unreachable));
  http.script.push_back(httpFailure(HttpError::Timeout));
  http.script.push_back(httpResponse(200, "{}"));
  auto c = client();
  EXPECT_TRUE(timers.run(c->getPod("ns", "p")).ok());
  EXPECT_EQ(http.requests.size(), 3u);
  EXPECT_EQ(requests("get", "pods", "error"), 2);
  EXPECT_EQ(http.requests[0].url, "https://10.0.0.1:443/api/v1/namespaces/ns/pods/p");
}

TEST_F(KubeClientTest, TlsFailuresAreNotRetried) {
  http.script.push_back(httpFailure(HttpError::Tls, "certificate verify failed"));
  auto c = client();
  const KubeResult r = timers.run(c->getNode("x"));
  EXPECT_EQ(r.transport, HttpError::Tls);
  EXPECT_EQ(r.message, "certificate verify failed");
  EXPECT_EQ(http.requests.size(), 1u);
}

TEST_F(KubeClientTest, NonIdempotentCallsAreNotRetried) {
  http.handler = [](const HttpRequest&) { return httpResponse(503, ""); };
  auto c = client();
  const KubeResult r = timers.run(c->createEvent("default", boost::json::object{{"reason", "Cordoned"}}));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(http.requests.size(), 1u);
  EXPECT_EQ(http.requests[0].method, "POST");
  EXPECT_EQ(http.requests[0].url, "https://10.0.0.1:443/api/v1/namespaces/default/events");
  EXPECT_EQ(headerOf(http.requests[0], "Content-Type"), "application/json");
  EXPECT_EQ(requests("create", "events", "5xx"), 1);

  http.handler = [](const HttpRequest&) { return httpFailure(HttpError::Timeout); };
  const EvictionResult e = timers.run(c->evictPod("ns", "p", "", std::nullopt));
  EXPECT_EQ(e.kind, EvictionResult::Kind::Error);
  EXPECT_EQ(e.status, 0);
  EXPECT_EQ(http.requests.size(), 2u);

  // A JSON patch may append: replaying it could apply it twice.
  const boost::json::value append = boost::json::parse(R"([{"op":"add","path":"/spec/taints/-","value":{}}])");
  EXPECT_EQ(timers.run(c->patchNode("n", append, PatchType::Json)).transport, HttpError::Timeout);
  EXPECT_EQ(http.requests.size(), 3u);
  // A strategic merge patch is retried.
  EXPECT_EQ(timers.run(c->patchNode("n", boost::json::object{}, PatchType::StrategicMerge)).transport, HttpError::Timeout);
  EXPECT_EQ(http.requests.size(), 7u);
}

TEST_F(KubeClientTest, UnauthorizedRereadsTheTokenOnceAndRetries) {
  http.handler = [](const HttpRequest& r) {
    return headerOf(r, "Authorization") == "Bearer token-2" ? httpResponse(200, "{}") : httpResponse(401, statusBody(401, "Unauthorized", "Unauthorized"));
  };
  auto c = client();
  dir.write("token", "token-2");  // rotated, not yet re-read (the minute has not passed)
  EXPECT_TRUE(timers.run(c->getNode("x")).ok());
  ASSERT_EQ(http.requests.size(), 2u);
  EXPECT_EQ(headerOf(http.requests[0], "Authorization"), "Bearer token-1");
  EXPECT_EQ(headerOf(http.requests[1], "Authorization"), "Bearer token-2");
  EXPECT_EQ(requests("get", "nodes", "4xx"), 1);
  EXPECT_EQ(elapsedMs(), 0) << "no backoff for a re-read";
}

TEST_F(KubeClientTest, UnauthorizedTwiceIsReturned) {
  http.handler = [](const HttpRequest&) { return httpResponse(401, statusBody(401, "Unauthorized", "Unauthorized")); };
  auto c = client();
  const KubeResult r = timers.run(c->getNode("x"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(http.requests.size(), 2u) << "one re-read, one retry, no loop";
  // Also for evictions: a 401 means nothing was done, so one retry is safe.
  const EvictionResult e = timers.run(c->evictPod("ns", "p", "", std::nullopt));
  EXPECT_EQ(e.kind, EvictionResult::Kind::Error);
  EXPECT_EQ(e.status, 401);
  EXPECT_EQ(http.requests.size(), 4u);
}

TEST_F(KubeClientTest, TokenIsRereadEveryMinute) {
  http.handler = [](const HttpRequest&) { return httpResponse(200, "{}"); };
  auto c = client();
  timers.run(c->getNode("x"));
  dir.write("token", "token-2");
  time.advance(30s);
  timers.run(c->getNode("x"));
  time.advance(30s);
  timers.run(c->getNode("x"));
  EXPECT_EQ(headerOf(http.requests[1], "Authorization"), "Bearer token-1");
  EXPECT_EQ(headerOf(http.requests[2], "Authorization"), "Bearer token-2");
}

TEST_F(KubeClientTest, NoTokenNoAuthorizationHeader) {
  http.script.push_back(httpResponse(200, "{}"));
  KubeClientImpl c(options(), http, timers, nullptr, nullptr);
  EXPECT_TRUE(timers.run(c.getNode("x")).ok());
  EXPECT_EQ(headerOf(http.requests[0], "Authorization"), "<absent>");
}

std::string podPage(int from, int count, const std::string& continueToken) {
  boost::json::array items;
  for (int i = from; i < from + count; ++i) items.push_back(testing::PodBuilder("ns", "p" + std::to_string(i)).json());
  boost::json::object list{{"kind", "PodList"}, {"apiVersion", "v1"}, {"items", items},
                           {"metadata", {{"resourceVersion", "7"}}}};
  if (!continueToken.empty()) list["metadata"].as_object()["continue"] = continueToken;
  return boost::json::serialize(list);
}

TEST_F(KubeClientTest, ListPodsFollowsContinue) {
  http.script.push_back(httpResponse(200, podPage(0, 500, "page2")));
  http.script.push_back(httpResponse(200, podPage(500, 500, "page3")));
  http.script.push_back(httpResponse(200, podPage(1000, 7, "")));
  auto c = client();
  const KubeResult r = timers.run(c->listPods("spec.nodeName=node-1", ListSource::Consistent));
  ASSERT_TRUE(r.ok()) << r.message;
  ASSERT_TRUE(r.body.is_array());
  ASSERT_EQ(r.body.as_array().size(), 1007u);
  EXPECT_EQ(r.body.as_array()[1006].at("metadata").at("name"), "p1006");
  ASSERT_EQ(http.requests.size(), 3u);
  EXPECT_EQ(http.requests[0].url, "https://10.0.0.1:443/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1&limit=500");
  EXPECT_EQ(http.requests[1].url,
            "https://10.0.0.1:443/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1&limit=500&continue=page2");
  EXPECT_THAT(http.requests[2].url, HasSubstr("continue=page3"));
  EXPECT_EQ(http.requests[0].bodyLimit, 16u << 20) << "a page of 500 pods exceeds 1 MiB";
  EXPECT_EQ(requests("list", "pods", "2xx"), 3);
}

TEST_F(KubeClientTest, ListPodsRestartsOnceWhenTheContinueTokenExpired) {
  http.script.push_back(httpResponse(200, podPage(0, 2, "old")));
  http.script.push_back(httpResponse(410, statusBody(410, "Expired", "too old resource version")));
  http.script.push_back(httpResponse(200, podPage(0, 3, "")));
  auto c = client();
  const KubeResult r = timers.run(c->listPods("spec.nodeName=n", ListSource::Consistent));
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.body.as_array().size(), 3u) << "no duplicates from the abandoned listing";
  EXPECT_THAT(http.requests[2].url, ::testing::Not(HasSubstr("continue")));
}

TEST_F(KubeClientTest, ListPodsRejectsEndlessOrBrokenPagination) {
  http.handler = [](const HttpRequest&) { return httpResponse(200, podPage(0, 1, "same")); };
  auto c = client();
  KubeResult r = timers.run(c->listPods("spec.nodeName=n", ListSource::Consistent));
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.message, HasSubstr("pagination"));
  EXPECT_EQ(http.requests.size(), 2u);

  http.handler = [](const HttpRequest&) { return httpResponse(200, R"({"kind":"Status"})"); };
  r = timers.run(c->listPods("spec.nodeName=n", ListSource::Consistent));
  EXPECT_EQ(r.transport, HttpError::Protocol);

  int page = 0;
  http.handler = [&](const HttpRequest&) { return httpResponse(200, podPage(0, 1, "t" + std::to_string(page++))); };
  KubeClientOptions few = options();
  few.maxListPages = 5;
  auto limited = client(few);
  r = timers.run(limited->listPods("spec.nodeName=n", ListSource::Consistent));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(page, 5);
}

TEST_F(KubeClientTest, ListPodsPassesErrorsThrough) {
  http.script.push_back(httpResponse(403, statusBody(403, "Forbidden", "pods is forbidden")));
  auto c = client();
  const KubeResult r = timers.run(c->listPods("spec.nodeName=n", ListSource::Consistent));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.reason, "Forbidden");
}

TEST_F(KubeClientTest, EvictionRequest) {
  http.script.push_back(httpResponse(201, R"({"kind":"Status","status":"Success","code":201})"));
  http.script.push_back(httpResponse(201, "{}"));
  auto c = client();
  EXPECT_EQ(timers.run(c->evictPod("shop", "web-1", "uid-web-1", 20)).kind, EvictionResult::Kind::Evicted);
  EXPECT_EQ(timers.run(c->evictPod("shop", "web-2", "", std::nullopt)).kind, EvictionResult::Kind::Evicted);
  const HttpRequest& req = http.requests[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.url, "https://10.0.0.1:443/api/v1/namespaces/shop/pods/web-1/eviction");
  EXPECT_EQ(req.timeout, 5s);
  EXPECT_EQ(headerOf(req, "Content-Type"), "application/json");
  EXPECT_EQ(boost::json::parse(req.body),
            boost::json::parse(R"({"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"web-1","namespace":"shop"},
                                   "deleteOptions":{"gracePeriodSeconds":20,"preconditions":{"uid":"uid-web-1"}}})"));
  EXPECT_FALSE(boost::json::parse(http.requests[1].body).as_object().contains("deleteOptions"));
  EXPECT_EQ(requests("create", "pods/eviction", "2xx"), 2);
}

TEST_F(KubeClientTest, EvictionOutcomes) {
  auto c = client();
  const auto evict = [&](HttpResult answer) {
    http.script.push_back(std::move(answer));
    const size_t before = http.requests.size();
    EvictionResult r = timers.run(c->evictPod("ns", "p", "", std::nullopt));
    EXPECT_EQ(http.requests.size(), before + 1) << "evictions are never retried by the client";
    return r;
  };
  EvictionResult r = evict(httpResponse(429, statusBody(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.",
                                                        R"([{"reason":"DisruptionBudget","message":"The disruption budget web needs 2 healthy pods and has 1 currently"}])"),
                                        {{"Retry-After", "1"}}));
  EXPECT_EQ(r.kind, EvictionResult::Kind::BlockedByPdb);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.message, "The disruption budget web needs 2 healthy pods and has 1 currently");

  r = evict(httpResponse(429, statusBody(429, "TooManyRequests", "Too many requests, please try your request again later.")));
  EXPECT_EQ(r.kind, EvictionResult::Kind::Error) << "API priority and fairness, not a PDB";

  r = evict(httpResponse(500, statusBody(500, "InternalError",
                                         "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.")));
  EXPECT_EQ(r.kind, EvictionResult::Kind::MultiplePdbs);
  EXPECT_THAT(r.message, HasSubstr("more than one PodDisruptionBudget"));

  r = evict(httpResponse(500, statusBody(500, "InternalError", "etcdserver: request timed out")));
  EXPECT_EQ(r.kind, EvictionResult::Kind::Error);

  r = evict(httpResponse(404, statusBody(404, "NotFound", "pods \"p\" not found")));
  EXPECT_EQ(r.kind, EvictionResult::Kind::NotFound);

  r = evict(httpResponse(403, "forbidden"));
  EXPECT_EQ(r.kind, EvictionResult::Kind::Error);
  EXPECT_EQ(r.message, "HTTP 403: forbidden");

  EXPECT_EQ(requests("create", "pods/eviction", "429"), 2);
  EXPECT_EQ(requests("create", "pods/eviction", "5xx"), 2);
  EXPECT_EQ(requests("create", "pods/eviction", "4xx"), 2);
}

TEST_F(KubeClientTest, EvictionCarriesTheUidPreconditionAnd409MeansThatPodIsGone) {
  http.script.push_back(httpResponse(409, statusBody(409, "Conflict",
                                                     "Precondition failed: UID in precondition: uid-1, UID in object meta: uid-2")));
  auto c = client();
  const EvictionResult r = timers.run(c->evictPod("data", "db-0", "uid-1", std::nullopt));
  EXPECT_EQ(r.kind, EvictionResult::Kind::UidChanged);
  EXPECT_EQ(r.status, 409);
  ASSERT_EQ(http.requests.size(), 1u);
  EXPECT_EQ(boost::json::parse(http.requests[0].body).at("deleteOptions"),
            boost::json::parse(R"({"preconditions":{"uid":"uid-1"}})"));
}

TEST_F(KubeClientTest, EvictionOverloadCarriesRetryAfter) {
  auto c = client();
  http.script.push_back(httpResponse(429, statusBody(429, "TooManyRequests", "Too many requests, please try again later."),
                                     {{"Retry-After", "10"}}));
  EvictionResult r = timers.run(c->evictPod("ns", "p", "u", std::nullopt));
  EXPECT_EQ(r.kind, EvictionResult::Kind::Error);
  ASSERT_TRUE(r.retryAfter.has_value());
  EXPECT_EQ(*r.retryAfter, 10s);
  // Without the header, the Status' details.retryAfterSeconds says the same.
  http.script.push_back(httpResponse(429, R"({"kind":"Status","code":429,"reason":"TooManyRequests","message":"slow down",
                                              "details":{"retryAfterSeconds":7}})"));
  r = timers.run(c->evictPod("ns", "p", "u", std::nullopt));
  ASSERT_TRUE(r.retryAfter.has_value());
  EXPECT_EQ(*r.retryAfter, 7s);
  http.script.push_back(httpResponse(429, statusBody(429, "TooManyRequests", "Too many requests")));
  EXPECT_FALSE(timers.run(c->evictPod("ns", "p", "u", std::nullopt)).retryAfter.has_value());
}

TEST_F(KubeClientTest, CachedPodListsAskTheWatchCacheOnTheFirstPageOnly) {
  http.script.push_back(httpResponse(200, podPage(0, 500, "page2")));
  http.script.push_back(httpResponse(200, podPage(500, 1, "")));
  auto c = client();
  ASSERT_TRUE(timers.run(c->listPods("spec.nodeName=node-1", ListSource::Cached)).ok());
  ASSERT_EQ(http.requests.size(), 2u);
  EXPECT_EQ(http.requests[0].url,
            "https://10.0.0.1:443/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1&limit=500&resourceVersion=0");
  EXPECT_EQ(http.requests[1].url,
            "https://10.0.0.1:443/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1&limit=500&continue=page2");
}

TEST_F(KubeClientTest, RateLimitSpacesRequests) {
  http.handler = [](const HttpRequest&) { return httpResponse(200, "{}"); };
  KubeClientOptions o = options();
  o.qps = 10;
  o.burst = 2;
  auto c = client(o);
  for (int i = 0; i < 5; ++i) timers.run(c->getNode("x"));
  EXPECT_EQ(elapsedMs(), 300) << "2 at once, then one per 100 ms";
}

TEST_F(KubeClientTest, ShutdownFailsFastAndWakesBackoff) {
  http.handler = [](const HttpRequest&) { return httpResponse(503, ""); };
  KubeClientOptions o = options();
  o.retry.backoffBase = 10s;
  o.retry.backoffMax = 10s;
  auto c = client(o);
  bool done = false;
  KubeResult result;
  boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
    result = co_await c->getNode("x");
    done = true;
  }, boost::asio::detached);
  io.poll();
  EXPECT_FALSE(done);  // sleeping in backoff
  c->shutdown();
  ASSERT_TRUE(timers.runUntil([&] { return done; }));
  EXPECT_EQ(elapsedMs(), 0);
  EXPECT_EQ(result.transport, HttpError::Cancelled);
  EXPECT_EQ(http.shutdownCalls, 1);
  EXPECT_EQ(timers.run(c->getNode("y")).transport, HttpError::Cancelled);
  EXPECT_EQ(http.requests.size(), 1u);
}

TEST_F(KubeClientTest, UnusableServerUrl) {
  KubeClientOptions o = options();
  o.server = "not a url";
  auto c = client(o);
  EXPECT_EQ(timers.run(c->getNode("x")).transport, HttpError::BadUrl);
  EXPECT_TRUE(http.requests.empty());
}

TEST(KubeClientOptionsFrom, TakesServerAndLimits) {
  KubeConnection conn;
  conn.server = "https://k:443";
  KubernetesConfig cfg;
  cfg.qps = 50;
  cfg.burst = 70;
  const auto o = KubeClientOptions::from(conn, cfg);
  EXPECT_EQ(o.server, "https://k:443");
  EXPECT_EQ(o.qps, 50);
  EXPECT_EQ(o.burst, 70);
}

}  // namespace
}  // namespace aksnode
