#pragma once
// Waiting on the injected clock. Everything in agent/kube that waits (rate limiter, retry
// backoff, the drain loop) goes through an Alarm made by Timers, never a raw steady_timer:
// production uses AsioTimers (real time), tests a simulated implementation that moves a
// SimulatedTimeSource forward, so deadlines and intervals are tested without sleeping.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>

#include "agent/core/time_source.h"

namespace aksnode {

// One waiter that can be woken early. Only one coroutine waits on an Alarm at a time.
class Alarm {
 public:
  virtual ~Alarm() = default;
  // Returns at `deadline` (per the TimeSource), or as soon as wake() is called, whichever is
  // first. A wake() while nobody waits is remembered: the next waitUntil returns at once.
  virtual boost::asio::awaitable<void> waitUntil(MonotonicTime deadline) = 0;
  virtual void wake() = 0;
};

class Timers {
 public:
  virtual ~Timers() = default;
  virtual std::unique_ptr<Alarm> makeAlarm() = 0;
  virtual const TimeSource& time() const = 0;

  MonotonicTime now() const { return time().monotonicTime(); }
  boost::asio::awaitable<void> sleepUntil(MonotonicTime deadline);
  boost::asio::awaitable<void> sleepFor(std::chrono::nanoseconds duration);
};

// Real time: each Alarm is a steady_timer on `executor`; deadlines on `time` are converted to
// a relative wait, so a TimeSource that is not steady_clock itself still works.
class AsioTimers final : public Timers {
 public:
  AsioTimers(boost::asio::any_io_executor executor, const TimeSource& time);
  std::unique_ptr<Alarm> makeAlarm() override;
  const TimeSource& time() const override { return time_; }

 private:
  boost::asio::any_io_executor executor_;
  const TimeSource& time_;
};

}  // namespace aksnode
