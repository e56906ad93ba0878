// Webhook delivery (agent/notify/notifier_impl.h) on simulated time: what is sent, when it is
// tried again, how the budget ends it, what is counted, and that notify() never waits.
#include "agent/notify/notifier_impl.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "agent/notify/payload.h"
#include "agent/core/secret_redaction.h"
#include "metrics/metrics.h"
#include "support/sim_timers.h"
#include "support/temp_dir.h"
#include "unit/notify/fake_webhook_client.h"

namespace aksnode {
namespace {

using namespace std::chrono_literals;
using testing::FakeWebhookClient;
using testing::WebhookReply;

constexpr const char* kUrl = "https://hooks.example.com/services/T000/B000/SECRETTOKEN12345";

class NotifierTest : public ::testing::Test {
 protected:
  NotifierTest() { time.setSystemTime(SystemTime{std::chrono::seconds{1'800'000'000}}); }
  ~NotifierTest() override {
    if (notifier) notifier->stop();
    timers.runUntil([] { return false; }, 1min);  // let workers see stop()
  }

  WebhookConfig& addWebhook(const std::string& name, std::string url = kUrl) {
    WebhookConfig w;
    w.name = name;
    w.url = std::move(url);
    config.notifications.webhooks.push_back(w);
    return config.notifications.webhooks.back();
  }
  void start(std::size_t capacity = 32) {
    metrics = std::make_unique<Metrics>(config);
    NotifierImpl::Options options;
    options.queueCapacity = capacity;
    options.random = [] { return 0.0; };  // the shortest backoff: 125 ms, 250 ms, 500 ms...
    notifier = std::make_unique<NotifierImpl>(io.get_executor(), config.notifications, receiver, timers, *metrics,
                                              options);
    notifier->start();
  }
  Notice notice(const std::string& reason = "ScheduledEvent") {
    Notice n;
    n.node = "aks-spot-1";
    n.vm = "aks-spot-1-vm";
    n.reason = reason;
    n.severity = "Warning";
    n.subject = {"Preempt", "EV-1", time.systemTime() + 30s};
    n.message = "Preempt event EV-1";
    n.time = time.systemTime();
    return n;
  }
  double count(const std::string& webhook, NotificationResult result) {
    return metrics->notification(webhook, result).Value();
  }
  double total(const std::string& webhook) {
    double sum = 0;
    for (NotificationResult r : kNotificationResults) sum += count(webhook, r);
    return sum;
  }
  // Runs until every notice of `webhook` has a result, or `limit` of simulated time passed.
  bool runUntilCounted(const std::string& webhook, double n, std::chrono::nanoseconds limit = 1min) {
    return timers.runUntil([&] { return total(webhook) >= n; }, limit);
  }
  std::chrono::milliseconds sinceStart(MonotonicTime t) const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t - started);
  }

  boost::asio::io_context io;
  SimulatedTimeSource time;
  testing::SimulatedTimers timers{io, time};
  FakeWebhookClient receiver{timers};
  Config config;
  std::unique_ptr<Metrics> metrics;
  std::unique_ptr<NotifierImpl> notifier;
  MonotonicTime started{};
};

TEST_F(NotifierTest, NotifyOnlyQueuesAndTheWorkerPostsTheBody) {
  addWebhook("ops");
  start();
  notifier->notify(notice());
  // Nothing ran yet: notify() returned without sending, waiting or touching the network.
  EXPECT_TRUE(receiver.sent.empty());
  EXPECT_EQ(notifier->queued("ops"), 1U);
  ASSERT_TRUE(runUntilCounted("ops", 1));
  ASSERT_EQ(receiver.sent.size(), 1U);
  const HttpRequest& r = receiver.sent[0].request;
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, kUrl);
  EXPECT_EQ(r.body, jsonPayload(notice()));
  EXPECT_EQ(r.timeout, 5s);  // the whole budget for the first attempt
  bool json = false;
  for (const auto& [k, v] : r.headers) json = json || (k == "Content-Type" && v == "application/json");
  EXPECT_TRUE(json);
  EXPECT_EQ(count("ops", NotificationResult::Ok), 1);
  EXPECT_EQ(receiver.sent[0].at, time.monotonicTime());  // sent at once, not batched
}

TEST_F(NotifierTest, EachWebhookGetsOnlyTheReasonsItAsksForInItsFormat) {
  addWebhook("drains").on = {"DrainSucceeded", "DrainFailed"};
  addWebhook("teams").format = WebhookFormat::Teams;
  start();
  notifier->notify(notice("ScheduledEvent"));
  notifier->notify(notice("Cordoned"));  // in neither
  notifier->notify(notice("DrainSucceeded"));
  ASSERT_TRUE(runUntilCounted("teams", 2));
  ASSERT_TRUE(runUntilCounted("drains", 1));
  ASSERT_EQ(receiver.sent.size(), 3U);
  int teams = 0;
  for (const auto& s : receiver.sent) {
    const auto body = boost::json::parse(s.request.body);
    if (body.as_object().contains("attachments")) ++teams;
  }
  EXPECT_EQ(teams, 2);
  EXPECT_EQ(count("drains", NotificationResult::Ok), 1);
  EXPECT_EQ(count("teams", NotificationResult::Ok), 2);
}

TEST_F(NotifierTest, NoticesOfOneWebhookLeaveInOrder) {
  addWebhook("ops").on = {"ScheduledEvent", "DrainStarted", "DrainSucceeded"};
  start();
  for (const char* r : {"ScheduledEvent", "DrainStarted", "DrainSucceeded"}) notifier->notify(notice(r));
  ASSERT_TRUE(runUntilCounted("ops", 3));
  ASSERT_EQ(receiver.sent.size(), 3U);
  EXPECT_NE(receiver.sent[0].request.body.find("\"ScheduledEvent\""), std::string::npos);
  EXPECT_NE(receiver.sent[2].request.body.find("\"DrainSucceeded\""), std::string::npos);
}

TEST_F(NotifierTest, ServerErrorsAreRetriedWithGrowingWaitsInsideTheBudget) {
  addWebhook("ops");
  receiver.script = {WebhookReply{.status = 500}, WebhookReply{.status = 503}, WebhookReply{.status = 200}};
  start();
  started = time.monotonicTime();
  notifier->notify(notice());
  ASSERT_TRUE(runUntilCounted("ops", 1));
  EXPECT_EQ(count("ops", NotificationResult::Ok), 1);
  EXPECT_EQ(count("ops", NotificationResult::Error), 0);
  ASSERT_EQ(receiver.sent.size(), 3U);
  EXPECT_EQ(sinceStart(receiver.sent[0].at), 0ms);
  EXPECT_EQ(receiver.sent[1].at - receiver.sent[0].at, 125ms);  // jitter 0: half of 250 ms
  EXPECT_EQ(receiver.sent[2].at - receiver.sent[1].at, 250ms);
  // Each later attempt gets what is left of the budget, not a fresh one.
  EXPECT_EQ(receiver.sent[2].request.timeout, 5000ms - 375ms);
}

TEST_F(NotifierTest, RetriesEndAfterTheConfiguredCount) {
  addWebhook("ops").retries = 2;
  receiver.fallback = WebhookReply{.status = 502};
  start();
  notifier->notify(notice());
  ASSERT_TRUE(runUntilCounted("ops", 1));
  EXPECT_EQ(receiver.sent.size(), 3U);  // the first attempt and two retries
  EXPECT_EQ(count("ops", NotificationResult::Error), 1);
  EXPECT_EQ(count("ops", NotificationResult::Ok), 0);
}

TEST_F(NotifierTest, ClientErrorsOtherThan429AreNotRetried) {
  addWebhook("ops");
  receiver.fallback = WebhookReply{.status = 404};
  start();
  notifier->notify(notice());
  ASSERT_TRUE(runUntilCounted("ops", 1));
  EXPECT_EQ(receiver.sent.size(), 1U);
  EXPECT_EQ(count("ops", NotificationResult::Error), 1);
}

TEST_F(NotifierTest, ThrottlingHonoursRetryAfterAndGivesUpWhenItExceedsTheBudget) {
  addWebhook("ops");
  receiver.script = {WebhookReply{.status = 429, .headers = {{"Retry-After", "2"}}}, WebhookReply{.status = 200}};
  start();
  notifier->notify(notice());
  ASSERT_TRUE(runUntilCounted("ops", 1));
  ASSERT_EQ(receiver.sent.size(), 2U);
  EXPECT_EQ(receiver.sent[1].at - receiver.sent[0].at, 2s);
  EXPECT_EQ(count("ops", NotificationResult::Ok), 1);

  receiver.sent.clear();
  receiver.script = {WebhookReply{.status = 429, .headers = {{"Retry-After", "60"}}}};
  notifier->notify(notice());
  ASSERT_TRUE(runUntilCounted("ops", 2));
  EXPECT_EQ(receiver.sent.size(), 1U);  // waiting 60 s would break the 5 s budget
  EXPECT_EQ(count("ops", NotificationResult::Error), 1);
}

TEST_F(NotifierTest, AHangingReceiverEndsInTimeoutWhenTheBudgetIsSpent) {
  addWebhook("ops").timeout = 3s;
  receiver.fallback = WebhookReply{.hang = true};
  start();
  started = time.monotonicTime();
  notifier->notify(notice());
  notifier->notify(notice("DrainSucceeded"));
  ASSERT_TRUE(runUntilCounted("ops", 1));
  EXPECT_EQ(count("ops", NotificationResult::Timeout), 1);
  EXPECT_EQ(sinceStart(time.monotonicTime()), 3000ms);  // exactly the budget, never more
  ASSERT_EQ(receiver.sent.size(), 2U);  // no time left for a retry: the next notice went out
  EXPECT_NE(receiver.sent[1].request.body.find("DrainSucceeded"), std::string::npos);
  // The next notice gets its own budget.
  ASSERT_TRUE(runUntilCounted("ops", 2));
  EXPECT_EQ(count("ops", NotificationResult::Timeout), 2);
  EXPECT_EQ(sinceStart(time.monotonicTime()), 6000ms);
}

TEST_F(NotifierTest, SlowFailuresStopRetryingWhenTheBudgetRunsOut) {
  WebhookConfig& w = addWebhook("ops");
  w.timeout = 5s;
  w.retries = 10;
  receiver.fallback = WebhookReply{.status = 500, .delay = 1500ms};
  start();
  started = time.monotonicTime();
  notifier->notify(notice());
  ASSERT_TRUE(runUntilCounted("ops", 1));
  EXPECT_EQ(count("ops", NotificationResult::Error), 1);  // it answered every time: not a timeout
  EXPECT_LE(sinceStart(time.monotonicTime()), 5000ms);
  EXPECT_EQ(receiver.sent.size(), 3U);  // 1.5 + 0.125 + 1.5 + 0.25 + 1.5 = 4.875 s
}

TEST_F(NotifierTest, UnreachableIsRetriedAndTheUrlNeverReachesStatus) {
  addWebhook("ops");
  receiver.fallback = WebhookReply{.error = HttpError::Unreachable,
                                   .errorMessage = "connect to " + std::string(kUrl) + ": refused; target "
                                                   "/services/T000/B000/SECRETTOKEN12345"};
  start();
  notifier->notify(notice());
  ASSERT_TRUE(runUntilCounted("ops", 1));
  EXPECT_EQ(receiver.sent.size(), 4U);
  EXPECT_EQ(count("ops", NotificationResult::Error), 1);
  const std::string status = boost::json::serialize(notifier->statusJson());
  EXPECT_EQ(status.find("SECRETTOKEN"), std::string::npos) << status;
  EXPECT_EQ(status.find("/services/"), std::string::npos) << status;
  EXPECT_NE(status.find("unreachable"), std::string::npos) << status;
  EXPECT_NE(status.find("\"name\":\"ops\""), std::string::npos) << status;
  // And a log line echoing it would be redacted: the URL's path is a registered secret.
  EXPECT_TRUE(secrets::containsSecret(std::string("echo ") + kUrl));
}

TEST_F(NotifierTest, AFullQueueDropsTheOldestAndCountsIt) {
  addWebhook("ops").on = {"EvictionBlocked", "DrainSucceeded"};
  receiver.fallback = WebhookReply{.hang = true};
  start(4);
  notifier->notify(notice("EvictionBlocked"));
  ASSERT_TRUE(timers.runUntil([&] { return notifier->busy("ops"); }, 1s));
  for (int i = 0; i < 8; ++i) notifier->notify(notice("EvictionBlocked"));
  notifier->notify(notice("DrainSucceeded"));
  EXPECT_EQ(notifier->queued("ops"), 4U);
  EXPECT_EQ(metrics->notificationsDropped("ops").Value(), 5);
  ASSERT_TRUE(runUntilCounted("ops", 5, 10min));
  EXPECT_EQ(count("ops", NotificationResult::Timeout), 5);
  // The newest (the drain's result) survived and went last.
  EXPECT_NE(receiver.sent.back().request.body.find("DrainSucceeded"), std::string::npos);
}

TEST_F(NotifierTest, UrlFileIsReadForEveryNoticeSoARotatedSecretApplies) {
  testing::TempDir dir;
  WebhookConfig& w = addWebhook("ops", "");
  w.urlFile = dir.write("url", "https://a.example/hook/FIRSTSECRETVALUE\n");
  start();
  notifier->notify(notice());
  ASSERT_TRUE(runUntilCounted("ops", 1));
  dir.write("url", "  https://b.example/hook/SECONDSECRETVALUE  \n");
  notifier->notify(notice());
  ASSERT_TRUE(runUntilCounted("ops", 2));
  ASSERT_EQ(receiver.sent.size(), 2U);
  EXPECT_EQ(receiver.sent[0].request.url, "https://a.example/hook/FIRSTSECRETVALUE");
  EXPECT_EQ(receiver.sent[1].request.url, "https://b.example/hook/SECONDSECRETVALUE");
  EXPECT_TRUE(secrets::containsSecret("/hook/SECONDSECRETVALUE"));
}

TEST_F(NotifierTest, AMissingOrBadUrlFileCountsAnErrorAndSendsNothing) {
  testing::TempDir dir;
  addWebhook("missing", "").urlFile = dir.file("absent");
  addWebhook("bad", "").urlFile = dir.write("bad", "ftp://x.example/SECRETPATHVALUE\n");
  addWebhook("two", "").urlFile = dir.write("two", "https://x.example/a\nhttps://x.example/b\n");
  start();
  notifier->notify(notice());
  ASSERT_TRUE(runUntilCounted("missing", 1));
  ASSERT_TRUE(runUntilCounted("bad", 1));
  ASSERT_TRUE(runUntilCounted("two", 1));
  EXPECT_TRUE(receiver.sent.empty());
  EXPECT_EQ(count("missing", NotificationResult::Error) + count("bad", NotificationResult::Error) + count("two", NotificationResult::Error), 3);
  const std::string status = boost::json::serialize(notifier->statusJson());
  EXPECT_EQ(status.find("SECRETPATHVALUE"), std::string::npos) << status;
}

TEST_F(NotifierTest, EveryConfiguredWebhookHasItsSeriesFromStartUp) {
  addWebhook("a");
  addWebhook("b");
  start();
  const std::string text = metrics->serialize();
  for (const char* w : {"a", "b"}) {
    for (const char* r : {"ok", "error", "timeout"}) {
      const std::string series =
          std::string("aksnode_notifications_total{result=\"") + r + "\",webhook=\"" + w + "\"} 0";
      const std::string alt =
          std::string("aksnode_notifications_total{webhook=\"") + w + "\",result=\"" + r + "\"} 0";
      EXPECT_TRUE(text.find(series) != std::string::npos || text.find(alt) != std::string::npos) << series;
    }
  }
  EXPECT_EQ(text.find("hooks.example.com"), std::string::npos);
}

TEST_F(NotifierTest, StopEndsABackoffWithoutCountingIt) {
  addWebhook("ops");
  receiver.fallback = WebhookReply{.status = 500};
  start();
  notifier->notify(notice());
  ASSERT_TRUE(timers.runUntil([&] { return receiver.sent.size() == 1 && receiver.inFlight == 0; }, 1s));
  notifier->stop();
  timers.runUntil([] { return false; }, 1min);
  EXPECT_EQ(receiver.sent.size(), 1U);
  EXPECT_EQ(total("ops"), 0);
  notifier->notify(notice());  // ignored once stopped
  EXPECT_EQ(notifier->queued("ops"), 0U);
}

}  // namespace
}  // namespace aksnode
