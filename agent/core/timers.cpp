#include "agent/core/timers.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace aksnode {

boost::asio::awaitable<void> Timers::sleepUntil(MonotonicTime deadline) {
  auto alarm = makeAlarm();
  co_await alarm->waitUntil(deadline);
}

boost::asio::awaitable<void> Timers::sleepFor(std::chrono::nanoseconds duration) {
  co_await sleepUntil(now() + duration);
}

namespace {

class AsioAlarm final : public Alarm {
 public:
  AsioAlarm(boost::asio::any_io_executor executor, const TimeSource& time)
      : timer_(std::move(executor)), time_(time) {}

  boost::asio::awaitable<void> waitUntil(MonotonicTime deadline) override {
    if (woken_) {
      woken_ = false;
      co_return;
    }
    const auto remaining = deadline - time_.monotonicTime();
    if (remaining <= MonotonicTime::duration::zero()) co_return;
    timer_.expires_after(remaining);
    waiting_ = true;
    boost::system::error_code ec;  // operation_aborted = woken (or cancelled): both mean "return"
    co_await timer_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    waiting_ = false;
    woken_ = false;
  }

  void wake() override {
    if (waiting_) {
      timer_.cancel();
    } else {
      woken_ = true;
    }
  }

 private:
  boost::asio::steady_timer timer_;
  const TimeSource& time_;
  bool waiting_ = false;
  bool woken_ = false;
};

}  // namespace

AsioTimers::AsioTimers(boost::asio::any_io_executor executor, const TimeSource& time)
    : executor_(std::move(executor)), time_(time) {}

std::unique_ptr<Alarm> AsioTimers::makeAlarm() { return std::make_unique<AsioAlarm>(executor_, time_); }

}  // namespace aksnode
