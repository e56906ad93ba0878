// ImdsClient and ImdsPoller over a scripted HttpClient: the request IMDS must see, how each
// outcome is counted, Retry-After, and what a poll does to the tracker and the gauges.
#include "probes/scheduled_events/imds_poller.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <deque>
#include <functional>
#include <optional>

#include "agent/config/config.h"
#include "agent/http/http_client.h"
#include "agent/http/http_date.h"
#include "metrics/metrics.h"
#include "probes/scheduled_events/imds_client.h"
#include "support/sim_timers.h"
#include "unit/http/http_results.h"

namespace aksnode {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::string kVm = "aks-spot-12345678-vmss_3";

// Answers from a script; each exchange takes `latency` of simulated time.
class ScriptedHttp final : public HttpClient {
 public:
  explicit ScriptedHttp(SimulatedTimeSource& time) : time_(time) {}
  boost::asio::awaitable<HttpResult> send(HttpRequest request) override {
    requests.push_back(request);
    time_.advance(latency);
    if (onSend) onSend();
    if (script.empty()) co_return failure(HttpError::Unreachable, "nothing scripted");
    HttpResult r = std::move(script.front());
    script.pop_front();
    co_return r;
  }
  void shutdown() override {}

  static HttpResult answer(int status, std::string body,
                           std::vector<std::pair<std::string, std::string>> headers = {}) {
    return testing::httpResponse(status, std::move(body), std::move(headers));
  }
  static HttpResult failure(HttpError e, std::string message = "injected") {
    return testing::httpFailure(e, std::move(message));
  }

  std::vector<HttpRequest> requests;
  std::deque<HttpResult> script;
  std::chrono::milliseconds latency{3};
  std::function<void()> onSend;

 private:
  SimulatedTimeSource& time_;
};

std::string eventJson(const std::string& id, const std::string& type, std::optional<SystemTime> notBefore,
                      const std::string& vm = kVm, const std::string& status = "Scheduled") {
  boost::json::object e{{"EventId", id},
                        {"EventStatus", status},
                        {"EventType", type},
                        {"ResourceType", "VirtualMachine"},
                        {"Resources", boost::json::array{boost::json::value(vm)}},
                        {"NotBefore", notBefore ? formatRfc1123(*notBefore) : std::string()},
                        {"Description", ""},
                        {"EventSource", "Platform"},
                        {"DurationInSeconds", -1}};
  return boost::json::serialize(e);
}

std::string document(int incarnation, const std::vector<std::string>& events) {
  std::string out = R"({"DocumentIncarnation":)" + std::to_string(incarnation) + R"(,"Events":[)";
  for (std::size_t i = 0; i < events.size(); ++i) out += (i ? "," : "") + events[i];
  return out + "]}";
}

class ImdsTest : public ::testing::Test {
 protected:
  template <class T>
  T run(boost::asio::awaitable<T> work) {
    return timers.run(std::move(work));
  }
  double requests(ImdsEndpoint endpoint, ImdsOutcome result) {
    return metrics.imdsRequest(endpoint, result).Value();
  }
  double gauge(prometheus::Gauge& g) { return g.Value(); }

  boost::asio::io_context io;
  SimulatedTimeSource time{SystemTime{std::chrono::seconds{1'800'000'000}}};
  Config config;
  Metrics metrics{config};
  ScriptedHttp http{time};
  ImdsClient client{http, config.imds, metrics, time};
  ImdsPoller poller{client, config.imds, metrics, time};
  testing::SimulatedTimers timers{io, time};
};

// --- the client ----------------------------------------------------------------------------

TEST_F(ImdsTest, ScheduledEventsRequestIsWhatImdsExpects) {
  http.script.push_back(ScriptedHttp::answer(200, document(1, {})));
  auto fetch = run(client.fetchScheduledEvents());
  EXPECT_EQ(fetch.outcome, ImdsOutcome::Ok);
  ASSERT_EQ(http.requests.size(), 1u);
  const HttpRequest& r = http.requests[0];
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.url, "http://169.254.169.254/metadata/scheduledevents?api-version=2020-07-01");
  EXPECT_EQ(testing::headerOf(r, "Metadata"), "true");
  for (const auto& [k, v] : r.headers) {
    std::string lower;
    for (char c : k) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    // IMDS refuses requests that look proxied.
    EXPECT_NE(lower, "x-forwarded-for");
    EXPECT_NE(lower, "forwarded");
  }
  EXPECT_EQ(r.timeout, 2000ms);
  EXPECT_EQ(r.bodyLimit, kMaxImdsBodyBytes);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(client.scheduledEventsUrl(), r.url);
}

TEST_F(ImdsTest, EndpointAndApiVersionComeFromTheConfig) {
  config.imds.endpoint = "http://127.0.0.1:18080//";
  config.imds.scheduledEventsApiVersion = "2019-08-01";
  config.imds.timeout = 750ms;
  ImdsClient c(http, config.imds, metrics, time);
  http.script.push_back(ScriptedHttp::answer(200, document(1, {})));
  run(c.fetchScheduledEvents());
  EXPECT_EQ(http.requests.at(0).url, "http://127.0.0.1:18080/metadata/scheduledevents?api-version=2019-08-01");
  EXPECT_EQ(http.requests.at(0).timeout, 750ms);
}

struct OutcomeCase {
  const char* name;
  HttpResult answer;
  ImdsOutcome outcome;
  const char* label;
};

TEST_F(ImdsTest, EveryOutcomeIsCountedUnderItsResultLabel) {
  const std::vector<OutcomeCase> cases = {
      {"ok", ScriptedHttp::answer(200, document(1, {})), ImdsOutcome::Ok, "ok"},
      {"not json", ScriptedHttp::answer(200, "<html>proxy</html>"), ImdsOutcome::BadResponse, "bad_response"},
      {"no Events", ScriptedHttp::answer(200, R"({"DocumentIncarnation":1})"), ImdsOutcome::BadResponse,
       "bad_response"},
      {"429", ScriptedHttp::answer(429, "Too many requests"), ImdsOutcome::Throttled, "throttled"},
      {"500", ScriptedHttp::answer(500, "oops"), ImdsOutcome::HttpError, "http_error"},
      {"410", ScriptedHttp::answer(410, "gone"), ImdsOutcome::HttpError, "http_error"},
      {"400", ScriptedHttp::answer(400, "Bad request. Required metadata header not specified"),
       ImdsOutcome::HttpError, "http_error"},
      {"timeout", ScriptedHttp::failure(HttpError::Timeout), ImdsOutcome::Timeout, "timeout"},
      {"refused", ScriptedHttp::failure(HttpError::Unreachable), ImdsOutcome::Unreachable, "unreachable"},
      {"too large", ScriptedHttp::failure(HttpError::BodyTooLarge), ImdsOutcome::BadResponse, "bad_response"},
      {"protocol", ScriptedHttp::failure(HttpError::Protocol), ImdsOutcome::BadResponse, "bad_response"},
      {"tls", ScriptedHttp::failure(HttpError::Tls), ImdsOutcome::Unreachable, "unreachable"},
  };
  for (const auto& c : cases) {
    std::map<ImdsOutcome, double> before;
    for (ImdsOutcome l : kImdsOutcomes) before[l] = requests(ImdsEndpoint::ScheduledEvents, l);
    http.script.push_back(c.answer);
    auto fetch = run(client.fetchScheduledEvents());
    EXPECT_EQ(fetch.outcome, c.outcome) << c.name;
    EXPECT_EQ(fetch.document.has_value(), c.outcome == ImdsOutcome::Ok) << c.name;
    if (c.outcome != ImdsOutcome::Ok) {
      EXPECT_FALSE(fetch.message.empty()) << c.name;
    }
    for (ImdsOutcome l : kImdsOutcomes) {
      EXPECT_EQ(requests(ImdsEndpoint::ScheduledEvents, l) - before[l], std::string(toString(l)) == c.label ? 1 : 0)
          << c.name << " " << toString(l);
    }
  }
  // The exposition has the contract's labels.
  EXPECT_THAT(metrics.serialize(),
              HasSubstr(R"(aksnode_imds_requests_total{endpoint="scheduledevents",imds_endpoint="scheduledevents",result="bad_response"} 4)"));
  EXPECT_EQ(requests(ImdsEndpoint::Instance, ImdsOutcome::Ok) + requests(ImdsEndpoint::Acknowledge, ImdsOutcome::Ok), 0);
}

TEST_F(ImdsTest, DurationIsObservedPerEndpoint) {
  http.latency = 40ms;
  http.script.push_back(ScriptedHttp::answer(200, document(1, {})));
  run(client.fetchScheduledEvents());
  auto h = metrics.imdsDuration(ImdsEndpoint::ScheduledEvents).Collect().histogram;
  EXPECT_EQ(h.sample_count, 1u);
  EXPECT_DOUBLE_EQ(h.sample_sum, 0.040);
  EXPECT_EQ(metrics.imdsDuration(ImdsEndpoint::Instance).Collect().histogram.sample_count, 0u);
}

TEST_F(ImdsTest, RetryAfterIsReadFrom429And503Only) {
  struct Case {
    int status;
    std::vector<std::pair<std::string, std::string>> headers;
    std::optional<std::chrono::seconds> want;
  };
  const std::vector<Case> cases = {
      {429, {{"Retry-After", "7"}}, 7s},
      {429, {{"retry-after", "2"}}, 2s},
      {503, {{"Retry-After", "0"}}, 0s},
      {429, {{"Retry-After", "100000"}}, 300s},  // capped: a broken value must not silence IMDS for a day
      {429, {{"Retry-After", "-1"}}, std::nullopt},
      {429, {{"Retry-After", "soon"}}, std::nullopt},
      {429, {{"Retry-After", "5s"}}, std::nullopt},
      {429, {{"Retry-After", ""}}, std::nullopt},
      {429, {{"Retry-After", "99999999999999999999999"}}, 300s},
      // An HTTP-date counts from now (RFC 9110); one in the past means at once.
      {429, {{"Retry-After", formatRfc1123(time.systemTime() + 12s)}}, 12s},
      {503, {{"Retry-After", formatRfc1123(time.systemTime() - 1h)}}, 0s},
      {429, {{"Retry-After", "2026-11-26T19:20:10Z"}}, std::nullopt},  // not an HTTP-date
      {429, {}, std::nullopt},
      {500, {{"Retry-After", "7"}}, std::nullopt},
      {200, {{"Retry-After", "7"}}, std::nullopt},
  };
  for (const auto& c : cases) {
    http.script.push_back(ScriptedHttp::answer(c.status, c.status == 200 ? document(1, {}) : "x", c.headers));
    auto fetch = run(client.fetchScheduledEvents());
    EXPECT_EQ(fetch.retryAfter, c.want) << c.status << " " << (c.headers.empty() ? "" : c.headers[0].second);
    EXPECT_EQ(fetch.status, c.status);
  }
}

TEST_F(ImdsTest, InstanceMetadataRequest) {
  http.script.push_back(ScriptedHttp::answer(200, R"({"compute":{"name":"aks-spot-12345678-vmss_3"}})"));
  auto fetch = run(client.fetchInstanceMetadata(10s));
  ASSERT_EQ(http.requests.size(), 1u);
  EXPECT_EQ(http.requests[0].url, "http://169.254.169.254/metadata/instance?api-version=2021-02-01");
  EXPECT_EQ(testing::headerOf(http.requests[0], "Metadata"), "true");
  EXPECT_EQ(http.requests[0].timeout, 10s);
  EXPECT_EQ(fetch.outcome, ImdsOutcome::Ok) << fetch.message;
  ASSERT_TRUE(fetch.metadata);
  EXPECT_EQ(fetch.metadata->name, kVm);
  EXPECT_EQ(requests(ImdsEndpoint::Instance, ImdsOutcome::Ok), 1);
  http.script.push_back(ScriptedHttp::answer(200, "[]"));
  EXPECT_EQ(run(client.fetchInstanceMetadata(10s)).outcome, ImdsOutcome::BadResponse);
  EXPECT_EQ(requests(ImdsEndpoint::Instance, ImdsOutcome::BadResponse), 1);
}

TEST_F(ImdsTest, AcknowledgementPostsStartRequests) {
  http.script.push_back(ScriptedHttp::answer(200, ""));
  const AcknowledgeResult first = run(client.acknowledge({"ev-1", "ev-2"}));
  EXPECT_EQ(first.outcome, ImdsOutcome::Ok);
  ASSERT_EQ(http.requests.size(), 1u);
  const HttpRequest& r = http.requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "http://169.254.169.254/metadata/scheduledevents?api-version=2020-07-01");
  EXPECT_EQ(testing::headerOf(r, "Metadata"), "true");
  EXPECT_EQ(testing::headerOf(r, "Content-Type"), "application/json");
  EXPECT_EQ(boost::json::parse(r.body),
            boost::json::parse(R"({"StartRequests":[{"EventId":"ev-1"},{"EventId":"ev-2"}]})"));
  EXPECT_EQ(first.message, "");
  EXPECT_EQ(requests(ImdsEndpoint::Acknowledge, ImdsOutcome::Ok), 1);
  http.script.push_back(ScriptedHttp::answer(400, "unknown event"));
  const AcknowledgeResult refused = run(client.acknowledge({"ev-3"}));
  EXPECT_EQ(refused.outcome, ImdsOutcome::HttpError);
  EXPECT_THAT(refused.message, HasSubstr("HTTP 400"));
  EXPECT_EQ(requests(ImdsEndpoint::Acknowledge, ImdsOutcome::HttpError), 1);
}

// --- the poller ----------------------------------------------------------------------------

TEST_F(ImdsTest, GoodDocumentFeedsTrackerGaugesAndCallback) {
  poller.setVmName(kVm);
  const SystemTime notBefore = time.systemTime() + 30s;
  http.script.push_back(ScriptedHttp::answer(
      200, document(3, {eventJson("ev-p", "Preempt", notBefore),
                        eventJson("ev-f", "Freeze", time.systemTime() + 5s),
                        eventJson("ev-other", "Preempt", notBefore, "aks-spot-12345678-vmss_4")})));
  int calls = 0;
  std::size_t changes = 0;
  EXPECT_TRUE(run(poller.pollOnce([&](const TrackerUpdate& u) {
    ++calls;
    changes = u.changes.size();
  })));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(changes, 2u);
  ASSERT_EQ(poller.tracker().pending().size(), 2u);
  EXPECT_EQ(gauge(metrics.scheduledEvents("Preempt", "Scheduled")), 1);
  EXPECT_EQ(gauge(metrics.scheduledEvents("Freeze", "Scheduled")), 1);
  EXPECT_EQ(gauge(metrics.scheduledEvents("Preempt", "Started")), 0);
  EXPECT_EQ(gauge(metrics.evictionPending()), 1);
  // The earliest eviction NotBefore, not the earlier Freeze.
  EXPECT_DOUBLE_EQ(gauge(metrics.evictionNotBefore()),
                   std::chrono::duration<double>(notBefore.time_since_epoch()).count());
  EXPECT_EQ(gauge(metrics.imdsDocumentIncarnation()), 3);
  EXPECT_EQ(metrics.scheduledEventsSeen("Preempt").Value(), 1);
  EXPECT_EQ(metrics.imdsEventsIgnored(IgnoredEventReason::OtherVm).Value(), 1);
  EXPECT_TRUE(poller.status().everSucceeded);
  EXPECT_EQ(poller.status().consecutiveFailures, 0);
  EXPECT_EQ(poller.status().lastSuccess, time.systemTime());
  EXPECT_EQ(poller.status().polls, 1u);
}

TEST_F(ImdsTest, BadPollKeepsTheEventsAndTheGauges) {
  poller.setVmName(kVm);
  const SystemTime notBefore = time.systemTime() + 30s;
  http.script.push_back(ScriptedHttp::answer(200, document(1, {eventJson("ev-p", "Preempt", notBefore)})));
  EXPECT_TRUE(run(poller.pollOnce({})));
  int calls = 0;
  auto count = [&](const TrackerUpdate&) { ++calls; };
  http.script.push_back(ScriptedHttp::answer(200, R"({"DocumentIncarnation":2,"Events":{}})"));
  http.script.push_back(ScriptedHttp::answer(200, "{\"DocumentIncar"));
  http.script.push_back(ScriptedHttp::failure(HttpError::Timeout));
  http.script.push_back(ScriptedHttp::answer(503, "busy"));
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(run(poller.pollOnce(count)));
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(poller.status().consecutiveFailures, 4);
  EXPECT_EQ(poller.status().lastOutcome, ImdsOutcome::HttpError);
  EXPECT_THAT(poller.status().lastError, HasSubstr("503"));
  ASSERT_EQ(poller.tracker().pending().size(), 1u);
  EXPECT_EQ(gauge(metrics.evictionPending()), 1);
  EXPECT_EQ(gauge(metrics.scheduledEvents("Preempt", "Scheduled")), 1);
  EXPECT_EQ(requests(ImdsEndpoint::ScheduledEvents, ImdsOutcome::BadResponse), 2);
  // A good empty document ends the event, and only that.
  http.script.push_back(ScriptedHttp::answer(200, document(3, {})));
  std::vector<LifecycleKind> kinds;
  EXPECT_TRUE(run(poller.pollOnce([&](const TrackerUpdate& u) {
    for (const auto& c : u.changes) kinds.push_back(c.kind);
  })));
  EXPECT_EQ(kinds, std::vector<LifecycleKind>{LifecycleKind::Ended});
  EXPECT_EQ(poller.status().consecutiveFailures, 0);
  EXPECT_THAT(poller.tracker().pending(), IsEmpty());
  EXPECT_EQ(gauge(metrics.evictionPending()), 0);
  EXPECT_EQ(gauge(metrics.evictionNotBefore()), 0);
  EXPECT_EQ(gauge(metrics.scheduledEvents("Preempt", "Scheduled")), 0);
}

TEST_F(ImdsTest, StartedEventMovesBetweenStatusGauges) {
  poller.setVmName(kVm);
  http.script.push_back(
      ScriptedHttp::answer(200, document(1, {eventJson("ev-r", "Reboot", time.systemTime() + 600s)})));
  run(poller.pollOnce({}));
  http.script.push_back(
      ScriptedHttp::answer(200, document(2, {eventJson("ev-r", "Reboot", std::nullopt, kVm, "Started")})));
  run(poller.pollOnce({}));
  EXPECT_EQ(gauge(metrics.scheduledEvents("Reboot", "Scheduled")), 0);
  EXPECT_EQ(gauge(metrics.scheduledEvents("Reboot", "Started")), 1);
  EXPECT_EQ(gauge(metrics.evictionPending()), 0);
  EXPECT_EQ(metrics.scheduledEventsSeen("Reboot").Value(), 1);
}

// An EventStatus IMDS never documented is kept (as Unknown): its gauge series must go back to 0
// when the event ends, like every other.
TEST_F(ImdsTest, UnknownStatusGaugeGoesBackToZero) {
  poller.setVmName(kVm);
  http.script.push_back(ScriptedHttp::answer(
      200, document(1, {eventJson("ev-r", "Reboot", time.systemTime() + 600s, kVm, "Postponed")})));
  run(poller.pollOnce({}));
  ASSERT_EQ(poller.tracker().pending().size(), 1u);
  EXPECT_EQ(gauge(metrics.scheduledEvents("Reboot", "Unknown")), 1);
  http.script.push_back(ScriptedHttp::answer(200, document(2, {})));
  run(poller.pollOnce({}));
  EXPECT_EQ(gauge(metrics.scheduledEvents("Reboot", "Unknown")), 0);
}

TEST_F(ImdsTest, WithoutTheVmNameNothingIsOurs) {
  http.script.push_back(
      ScriptedHttp::answer(200, document(1, {eventJson("ev-p", "Preempt", time.systemTime() + 30s)})));
  EXPECT_TRUE(run(poller.pollOnce({})));
  EXPECT_THAT(poller.tracker().pending(), IsEmpty());
  EXPECT_EQ(gauge(metrics.evictionPending()), 0);
}

// --- the loop, on simulated time --------------------------------------------------------

class ImdsLoopTest : public ImdsTest {
 protected:
  ImdsLoopTest() {
    poller.setVmName(kVm);
    http.latency = 0ms;
    http.onSend = [this] { pollStarts.push_back(testing::msSinceStart(time.monotonicTime()) - startMs); };
  }
  // Starts the loop; `finished` turns true when run() returns.
  void start() {
    boost::asio::co_spawn(io, poller.run(timers, [this](const TrackerUpdate&) { ++documents; }),
                          [this](std::exception_ptr e) {
                            EXPECT_FALSE(e);
                            finished = true;
                          });
  }
  bool runUntilPolls(std::size_t n) {
    return timers.runUntil([&] { return http.requests.size() >= n; });
  }

  const long long startMs = testing::msSinceStart(time.monotonicTime());
  std::vector<long long> pollStarts;  // ms after the test's start
  int documents = 0;
  bool finished = false;
};

TEST_F(ImdsLoopTest, HealthyPollsComeEveryInterval) {
  for (int i = 0; i < 4; ++i) http.script.push_back(ScriptedHttp::answer(200, document(1, {})));
  start();
  ASSERT_TRUE(runUntilPolls(4));
  EXPECT_EQ(pollStarts, (std::vector<long long>{0, 1000, 2000, 3000}));
  EXPECT_EQ(documents, 4);
  EXPECT_FALSE(finished);
}

TEST_F(ImdsLoopTest, SlowAnswersDoNotPushLaterPollsBack) {
  http.latency = 300ms;
  for (int i = 0; i < 3; ++i) http.script.push_back(ScriptedHttp::answer(200, document(1, {})));
  start();
  ASSERT_TRUE(runUntilPolls(3));
  // onSend sees the time after the latency: every poll still starts on the 1 s grid.
  EXPECT_EQ(pollStarts, (std::vector<long long>{300, 1300, 2300}));
}

TEST_F(ImdsLoopTest, FailuresBackOffExponentiallyUpToTheCapThenRecover) {
  for (int i = 0; i < 4; ++i) http.script.push_back(ScriptedHttp::answer(500, "oops"));
  http.script.push_back(ScriptedHttp::answer(200, document(1, {})));
  http.script.push_back(ScriptedHttp::answer(200, document(1, {})));
  start();
  ASSERT_TRUE(runUntilPolls(6));
  // 1 s, 2 s, 4 s, then the 5 s cap; after the good answer, the interval again.
  EXPECT_EQ(pollStarts, (std::vector<long long>{0, 1000, 3000, 7000, 12000, 13000}));
  EXPECT_EQ(poller.status().consecutiveFailures, 0);
  EXPECT_EQ(documents, 2);
}

TEST_F(ImdsLoopTest, RetryAfterStretchesTheWaitAfterAFailure) {
  http.script.push_back(ScriptedHttp::answer(503, "busy", {{"Retry-After", "3"}}));
  http.script.push_back(ScriptedHttp::answer(200, document(1, {})));
  start();
  ASSERT_TRUE(runUntilPolls(2));
  EXPECT_EQ(pollStarts, (std::vector<long long>{0, 3000}));
}

TEST_F(ImdsLoopTest, StopWhileWaitingEndsTheLoopAtOnce) {
  http.script.push_back(ScriptedHttp::answer(200, document(1, {})));
  start();
  ASSERT_TRUE(runUntilPolls(1));
  const auto stoppedAt = time.monotonicTime();
  poller.stop();
  ASSERT_TRUE(timers.runUntil([&] { return finished; }));
  EXPECT_EQ(time.monotonicTime(), stoppedAt) << "the loop waited out its interval after stop()";
  EXPECT_EQ(http.requests.size(), 1u);
}

TEST_F(ImdsLoopTest, StopDuringAPollEndsTheLoopWithoutWaiting) {
  http.script.push_back(ScriptedHttp::answer(200, document(1, {})));
  http.onSend = [&] { poller.stop(); };
  start();
  ASSERT_TRUE(timers.runUntil([&] { return finished; }));
  EXPECT_EQ(testing::msSinceStart(time.monotonicTime()), startMs) << "the loop waited after stop()";
  EXPECT_EQ(http.requests.size(), 1u);
  EXPECT_EQ(documents, 1);
}

}  // namespace
}  // namespace aksnode

namespace aksnode {
namespace {

// The first Scheduled Events call enables the service and may take up to 2 minutes
// (docs/configuration.md, `imds.firstCallTimeout`).
class FirstCallTest : public ImdsTest {};

TEST_F(FirstCallTest, EveryCallUntilTheFirstAnswerGetsTheFirstCallTimeout) {
  config.imds.timeout = 2s;
  config.imds.firstCallTimeout = 120s;
  http.script.push_back(ScriptedHttp::failure(HttpError::Timeout));
  http.script.push_back(ScriptedHttp::failure(HttpError::Unreachable));
  http.script.push_back(ScriptedHttp::answer(200, document(1, {})));
  http.script.push_back(ScriptedHttp::answer(200, document(1, {})));
  EXPECT_EQ(poller.nextCallTimeout(), 120s);
  EXPECT_FALSE(run(poller.pollOnce({})));
  EXPECT_FALSE(poller.status().firstCallInFlight);
  EXPECT_FALSE(run(poller.pollOnce({})));
  EXPECT_TRUE(run(poller.pollOnce({})));
  EXPECT_TRUE(run(poller.pollOnce({})));
  ASSERT_EQ(http.requests.size(), 4u);
  EXPECT_EQ(http.requests[0].timeout, 120s);
  EXPECT_EQ(http.requests[1].timeout, 120s) << "not answered yet: still the enabling call";
  EXPECT_EQ(http.requests[2].timeout, 120s);
  EXPECT_EQ(http.requests[3].timeout, 2s) << "answered once: the normal timeout from then on";
  EXPECT_EQ(poller.nextCallTimeout(), 2s);
}

TEST_F(FirstCallTest, TheFirstCallIsInFlightWhileItWaits) {
  http.onSend = [&] { EXPECT_TRUE(poller.status().firstCallInFlight); };
  http.script.push_back(ScriptedHttp::answer(200, document(1, {})));
  EXPECT_TRUE(run(poller.pollOnce({})));
  EXPECT_FALSE(poller.status().firstCallInFlight);
}

TEST_F(FirstCallTest, OnceReportsDoNotWaitForTheService) {
  poller.setPatientFirstCall(false);
  http.script.push_back(ScriptedHttp::failure(HttpError::Timeout));
  EXPECT_FALSE(run(poller.pollOnce({})));
  ASSERT_EQ(http.requests.size(), 1u);
  EXPECT_EQ(http.requests[0].timeout, config.imds.timeout);
}

}  // namespace
}  // namespace aksnode
