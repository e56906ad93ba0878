// Endpoints::handle: what /healthz, /readyz, /metrics, /status and everything else answer,
// without sockets, on a simulated clock.
#include "agent/app/endpoints.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "agent/config/config.h"
#include "metrics/metrics.h"

namespace aksnode {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class EndpointsTest : public ::testing::Test {
 protected:
  EndpointsTest() { time.advance(1h); }  // a monotonic clock is never at its epoch in production

  Endpoints endpoints() {
    EndpointSources s;
    s.metrics = &metrics;
    s.lastTick = [this] { return lastTick; };
    s.now = [this] { return time.monotonicTime(); };
    s.pollInterval = pollInterval;
    s.readiness = [this] { return notReady; };
    s.status = [this] { return status; };
    return Endpoints(std::move(s));
  }
  ServerResponse get(std::string_view path) { return endpoints().handle("GET", path); }

  SimulatedTimeSource time;
  Config config;
  Metrics metrics{config};
  MonotonicTime lastTick{};
  std::chrono::milliseconds pollInterval{1000};
  std::vector<std::string> notReady;
  boost::json::object status{{"node", "aks-spot-vmss000003"}, {"pendingEvents", boost::json::array{}}};
};

TEST_F(EndpointsTest, HealthzFollowsTheTick) {
  lastTick = time.monotonicTime();
  EXPECT_EQ(get("/healthz").status, 200);
  EXPECT_EQ(get("/healthz").body, "ok\n");
  time.advance(2999ms);
  EXPECT_EQ(get("/healthz").status, 200);
  time.advance(1ms);  // 3 poll intervals old: stale
  const auto stale = get("/healthz");
  EXPECT_EQ(stale.status, 503);
  EXPECT_THAT(stale.body, HasSubstr("stalled"));
  lastTick = time.monotonicTime();
  EXPECT_EQ(get("/healthz").status, 200);
}

TEST_F(EndpointsTest, HealthzBeforeTheFirstTickIs503) {
  EXPECT_EQ(get("/healthz").status, 503);
}

TEST_F(EndpointsTest, HealthzScalesWithALongPollInterval) {
  pollInterval = 5s;
  lastTick = time.monotonicTime();
  time.advance(14s);
  EXPECT_EQ(get("/healthz").status, 200);
  time.advance(1s);
  EXPECT_EQ(get("/healthz").status, 503);
}

TEST_F(EndpointsTest, ReadyzListsTheReasons) {
  EXPECT_EQ(get("/readyz").status, 200);
  EXPECT_EQ(get("/readyz").body, "ready\n");
  notReady = {"IMDS: no successful poll yet: connection refused", "Kubernetes API server: HTTP 401 Unauthorized"};
  const auto r = get("/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.contentType, "text/plain; charset=utf-8");
  EXPECT_EQ(r.body,
            "not ready:\n- IMDS: no successful poll yet: connection refused\n"
            "- Kubernetes API server: HTTP 401 Unauthorized\n");
}

TEST_F(EndpointsTest, MetricsIsPrometheusText) {
  metrics.imdsRequest(ImdsEndpoint::ScheduledEvents, ImdsOutcome::Ok).Increment(3);
  const auto r = get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.contentType, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_THAT(r.body, HasSubstr("# TYPE aksnode_imds_requests_total counter"));
  EXPECT_THAT(r.body, HasSubstr(R"(aksnode_imds_requests_total{endpoint="scheduledevents",imds_endpoint="scheduledevents",result="ok"} 3)"));
}

TEST_F(EndpointsTest, StatusIsJson) {
  const auto r = get("/status");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.contentType, StartsWith("application/json"));
  const auto v = boost::json::parse(r.body);
  EXPECT_EQ(v.at("node").as_string(), "aks-spot-vmss000003");
}

TEST_F(EndpointsTest, HeadIsAnsweredLikeGet) {
  lastTick = time.monotonicTime();
  EXPECT_EQ(endpoints().handle("HEAD", "/healthz").status, 200);
  EXPECT_EQ(endpoints().handle("HEAD", "/metrics").status, 200);
}

TEST_F(EndpointsTest, UnknownPathsAre404) {
  for (const char* path : {"/", "", "/metricsx", "/metrics/", "/healthz/", "/HEALTHZ", "/status.json", "/../metrics",
                           "/debug/pprof"}) {
    const auto r = get(path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.body, "not found\n");
  }
}

TEST_F(EndpointsTest, OtherMethodsAre405) {
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "get", ""}) {
    EXPECT_EQ(endpoints().handle(method, "/metrics").status, 405) << method;
    EXPECT_EQ(endpoints().handle(method, "/nope").status, 405) << method;
  }
}

}  // namespace
}  // namespace aksnode
