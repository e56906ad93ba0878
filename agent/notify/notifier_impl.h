#pragma once
// Webhook delivery (docs/notifications.md). One worker coroutine per webhook on the agent's one
// event loop: it takes notices from the webhook's bounded queue (notice_queue.h) in order and
// POSTs each through the HttpClient seam, retrying 429, 5xx and network failures with
// exponential backoff and jitter (retry_schedule.h) inside the webhook's `timeout`, which is the
// whole budget of one notice, retries included. Every notice ends in exactly one of
// aksnode_notifications_total{webhook,result="ok"|"error"|"timeout"}; a notice dropped from a
// full queue in aksnode_notifications_dropped_total{webhook}.
//
// notify() only queues and wakes the worker: nothing in agent/engine ever waits for a webhook
// (arch/ARCHITECTURE.md, "Notifications"). Waits go through Timers, so tests drive the backoff
// and the budget with a simulated clock.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/notify/notifier.h"
#include "metrics/metric_labels.h"

namespace aksnode {

class HttpClient;
class Metrics;
class Timers;

class NotifierImpl final : public Notifier {
 public:
  struct Options {
    // Notices waiting per webhook; the oldest is dropped beyond it.
    std::size_t queueCapacity = 32;
    // Uniform in [0, 1), for the backoff's jitter; unset: a seeded Mersenne twister.
    std::function<double()> random;
  };

  // http: the notifier's own client (agent/app builds it; IMDS's is never shared).
  NotifierImpl(boost::asio::any_io_executor executor, const NotificationsConfig& config, HttpClient& http,
               Timers& timers, Metrics& metrics, Options options);
  NotifierImpl(boost::asio::any_io_executor executor, const NotificationsConfig& config, HttpClient& http,
               Timers& timers, Metrics& metrics);
  ~NotifierImpl() override;
  NotifierImpl(const NotifierImpl&) = delete;
  NotifierImpl& operator=(const NotifierImpl&) = delete;

  void notify(const Notice& notice) override;

  // Starts one worker per webhook. Notices queued before start() wait for it.
  void start();
  // Workers end after their current attempt (an attempt in flight ends with the HTTP client's
  // shutdown or its own timeout); nothing more is counted.
  void stop();

  // For /status: per webhook its name, format, reasons, queue and last result; never the URL.
  boost::json::array statusJson() const;
  std::size_t queued(const std::string& webhook) const;
  bool busy(const std::string& webhook) const;

 private:
  struct Webhook;
  boost::asio::awaitable<void> run(Webhook& webhook);
  // notice lives in run()'s frame until this returns (a named local, not a temporary built in
  // the co_await expression: see the GCC 12 note in arch/ARCHITECTURE.md).
  boost::asio::awaitable<void> deliver(Webhook& webhook, const Notice& notice);
  // Not coroutines: logging with braced fields stays out of coroutine frames (GCC 12, see
  // arch/ARCHITECTURE.md "Compiler pitfalls").
  void finish(Webhook& webhook, const Notice& notice, NotificationResult result, int attempts, const std::string& detail,
              double seconds);
  void noteDropped(Webhook& webhook, const Notice& kept);

  boost::asio::any_io_executor executor_;
  HttpClient& http_;
  Timers& timers_;
  Metrics& metrics_;
  Options options_;
  std::vector<std::unique_ptr<Webhook>> webhooks_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace aksnode
