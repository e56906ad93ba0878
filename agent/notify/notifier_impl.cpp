#include "agent/notify/notifier_impl.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <optional>
#include <random>

#include "agent/http/http_client.h"
#include "agent/http/http_date.h"
#include "agent/core/timers.h"
#include "agent/core/logging.h"
#include "agent/notify/attempt_result.h"
#include "agent/notify/notice_queue.h"
#include "agent/notify/payload.h"
#include "agent/notify/retry_schedule.h"
#include "agent/notify/webhook_url.h"
#include "build_info.h"
#include "metrics/metrics.h"

namespace aksnode {

namespace asio = boost::asio;

namespace {
// Webhook answers are not read beyond their status: a receiver's page of HTML is refused early.
constexpr std::size_t kResponseBodyLimit = 64 * 1024;
// An idle worker re-checks now and then; notify() and stop() wake it at once.
constexpr std::chrono::hours kIdleWait{1};

std::function<double()> defaultRandom() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}
}  // namespace

struct NotifierImpl::Webhook {
  Webhook(WebhookConfig c, std::size_t capacity, Timers& timers)
      : config(std::move(c)), queue(capacity), wakeup(timers.makeAlarm()), backoff(timers.makeAlarm()) {}
  WebhookConfig config;
  NoticeQueue queue;
  std::unique_ptr<Alarm> wakeup;   // a notice was queued (or stop())
  std::unique_ptr<Alarm> backoff;  // the wait between attempts (stop() cuts it short)
  bool busy = false;
  long long ok = 0, error = 0, timeout = 0;
  std::string lastResult, lastReason, lastError;
  SystemTime lastAt{};
  int lastAttempts = 0;

  bool wants(const std::string& reason) const {
    return std::find(config.on.begin(), config.on.end(), reason) != config.on.end();
  }
};

NotifierImpl::NotifierImpl(asio::any_io_executor executor, const NotificationsConfig& config, HttpClient& http,
                           Timers& timers, Metrics& metrics)
    : NotifierImpl(std::move(executor), config, http, timers, metrics, Options{}) {}

NotifierImpl::NotifierImpl(asio::any_io_executor executor, const NotificationsConfig& config, HttpClient& http,
                           Timers& timers, Metrics& metrics, Options options)
    : executor_(std::move(executor)), http_(http), timers_(timers), metrics_(metrics), options_(std::move(options)) {
  if (!options_.random) options_.random = defaultRandom();
  for (const WebhookConfig& c : config.webhooks) {
    webhooks_.push_back(std::make_unique<Webhook>(c, options_.queueCapacity, timers_));
    // Resolved once now: the URL is registered as a secret before anything could echo it, and
    // a Secret that is not mounted (yet) is reported at start-up rather than at the first event.
    const Result<std::string> url = resolveWebhookUrl(c);
    if (url.ok()) {
      log::info("webhook configured", {{"webhook", c.name}, {"format", toString(c.format)},
                                       {"urlFrom", c.url.empty() ? "urlFile" : "url"}});
    } else {
      log::warn("webhook URL not usable (yet): its notices fail until it is", {{"webhook", c.name}, {"error", url.error()}});
    }
  }
}

NotifierImpl::~NotifierImpl() = default;

void NotifierImpl::notify(const Notice& notice) {
  if (stopped_) return;
  for (auto& w : webhooks_) {
    if (!w->wants(notice.reason)) continue;
    if (!w->queue.push(notice)) noteDropped(*w, notice);
    w->wakeup->wake();
  }
}

void NotifierImpl::noteDropped(Webhook& w, const Notice& kept) {
  metrics_.notificationsDropped(w.config.name).Increment();
  log::warn("webhook falling behind: dropped its oldest waiting notice",
            {{"webhook", w.config.name}, {"queued", static_cast<unsigned long>(w.queue.size())},
             {"dropped", w.queue.dropped()}, {"newReason", kept.reason}});
}

void NotifierImpl::start() {
  if (started_) return;
  started_ = true;
  for (auto& w : webhooks_) asio::co_spawn(executor_, run(*w), asio::detached);
}

void NotifierImpl::stop() {
  stopped_ = true;
  for (auto& w : webhooks_) {
    w->wakeup->wake();
    w->backoff->wake();
  }
}

asio::awaitable<void> NotifierImpl::run(Webhook& w) {
  while (!stopped_) {
    std::optional<Notice> next = w.queue.pop();
    if (!next) {
      co_await w.wakeup->waitUntil(timers_.now() + kIdleWait);
      continue;
    }
    const Notice notice = std::move(*next);
    w.busy = true;
    co_await deliver(w, notice);
    w.busy = false;
  }
}

asio::awaitable<void> NotifierImpl::deliver(Webhook& w, const Notice& notice) {
  const MonotonicTime started = timers_.now();
  const MonotonicTime deadline = started + w.config.timeout;
  const Result<std::string> target = resolveWebhookUrl(w.config);
  if (!target.ok()) {
    finish(w, notice, NotificationResult::Error, 0, target.error(), 0);
    co_return;
  }
  HttpRequest request;
  request.method = "POST";
  request.url = target.value();
  request.headers = {{"Content-Type", "application/json"},
                     {"User-Agent", std::string("aks-node-agent/") + build::kVersion}};
  request.body = buildPayload(w.config.format, notice);
  request.bodyLimit = kResponseBodyLimit;

  AttemptResult last;
  int attempts = 0;
  for (int retry = 0;; ++retry) {
    request.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - timers_.now());
    HttpRequest attempt = request;
    HttpResult result = co_await http_.send(std::move(attempt));
    ++attempts;
    if (stopped_) co_return;  // shutting down: the attempt was cut short, not answered
    last = classifyAttempt(result, timers_.time().systemTime());
    if (last.verdict == AttemptVerdict::Delivered) break;
    if (last.verdict == AttemptVerdict::Final || retry >= w.config.retries) break;
    const auto left = std::chrono::duration_cast<Duration>(deadline - timers_.now());
    const std::optional<Duration> wait = nextNoticeAttempt(retry, options_.random(), last.retryAfter, left);
    if (!wait) break;
    co_await w.backoff->waitUntil(timers_.now() + *wait);
    if (stopped_) co_return;
  }
  const double seconds = std::chrono::duration<double>(timers_.now() - started).count();
  const NotificationResult result = last.verdict == AttemptVerdict::Delivered ? NotificationResult::Ok
                                    : last.timedOut                             ? NotificationResult::Timeout
                                                                                : NotificationResult::Error;
  finish(w, notice, result, attempts, scrubUrl(last.detail, target.value()), seconds);
}

void NotifierImpl::finish(Webhook& w, const Notice& notice, NotificationResult result, int attempts,
                          const std::string& detail, double seconds) {
  metrics_.notification(w.config.name, result).Increment();
  const bool ok = result == NotificationResult::Ok;
  if (ok) {
    ++w.ok;
  } else if (result == NotificationResult::Timeout) {
    ++w.timeout;
  } else {
    ++w.error;
  }
  const std::string r = toString(result);
  w.lastResult = r;
  w.lastReason = notice.reason;
  w.lastError = ok ? std::string() : detail;
  w.lastAt = timers_.time().systemTime();
  w.lastAttempts = attempts;
  if (ok) {
    log::info("webhook notice delivered", {{"webhook", w.config.name}, {"reason", notice.reason},
                                           {"eventId", notice.subject.eventId}, {"attempts", attempts},
                                           {"seconds", seconds}});
  } else {
    log::warn("webhook notice not delivered", {{"webhook", w.config.name}, {"reason", notice.reason},
                                               {"eventId", notice.subject.eventId}, {"result", r},
                                               {"attempts", attempts}, {"seconds", seconds}, {"error", detail}});
  }
}

boost::json::array NotifierImpl::statusJson() const {
  boost::json::array out;
  for (const auto& w : webhooks_) {
    boost::json::array on;
    for (const auto& reason : w->config.on) on.emplace_back(reason);
    boost::json::object o{{"name", w->config.name},
                          {"format", toString(w->config.format)},
                          {"urlFrom", w->config.url.empty() ? "urlFile" : "url"},
                          {"on", std::move(on)},
                          {"queued", w->queue.size()},
                          {"dropped", w->queue.dropped()},
                          {"sending", w->busy},
                          {"results", {{"ok", w->ok}, {"error", w->error}, {"timeout", w->timeout}}}};
    if (!w->config.urlFile.empty()) o["urlFile"] = w->config.urlFile;
    if (!w->lastResult.empty()) {
      o["last"] = {{"result", w->lastResult},
                   {"reason", w->lastReason},
                   {"attempts", w->lastAttempts},
                   {"at", formatRfc3339(w->lastAt)},
                   {"error", w->lastError}};
    }
    out.push_back(std::move(o));
  }
  return out;
}

std::size_t NotifierImpl::queued(const std::string& webhook) const {
  for (const auto& w : webhooks_) {
    if (w->config.name == webhook) return w->queue.size();
  }
  return 0;
}

bool NotifierImpl::busy(const std::string& webhook) const {
  for (const auto& w : webhooks_) {
    if (w->config.name == webhook) return w->busy;
  }
  return false;
}

}  // namespace aksnode
