#pragma once
// Virtual time for coroutine tests: alarms wait on a SimulatedTimeSource, and runUntil()
// jumps time straight to the next alarm whenever nothing else can run. Tests of
// minutes-long drains finish in milliseconds, and no test sleeps.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <functional>
#include <optional>
#include <set>
#include <stdexcept>

#include "agent/core/timers.h"
#include "agent/core/time_source.h"

namespace aksnode::testing {

class SimulatedTimers final : public Timers {
 public:
  SimulatedTimers(boost::asio::io_context& io, SimulatedTimeSource& time) : io_(io), time_(time) {}
  // Coroutines still suspended when the test ends (e.g. evictions in flight after a drain
  // timed out) are destroyed with the io_context, later: their alarms must not call back.
  ~SimulatedTimers() override {
    for (SimAlarm* a : alarms_) a->owner = nullptr;
  }
  SimulatedTimers(const SimulatedTimers&) = delete;
  SimulatedTimers& operator=(const SimulatedTimers&) = delete;

  std::unique_ptr<Alarm> makeAlarm() override { return std::make_unique<SimAlarm>(*this); }
  const TimeSource& time() const override { return time_; }
  SimulatedTimeSource& simulatedTime() { return time_; }
  boost::asio::io_context& io() { return io_; }

  // Runs ready work; when nothing is ready, advances time to the earliest alarm. True once
  // done() holds; false when nothing is left to wake or `limit` of simulated time passed.
  bool runUntil(const std::function<bool()>& done, std::chrono::nanoseconds limit = std::chrono::hours(2)) {
    const auto start = time_.monotonicTime();
    for (;;) {
      io_.restart();
      io_.poll();
      if (done()) return true;
      std::optional<MonotonicTime> next;
      for (SimAlarm* a : alarms_) {
        if (a->waiting && !a->fired && (!next || a->deadline < *next)) next = a->deadline;
      }
      if (!next || *next - start > limit) return false;
      if (*next > time_.monotonicTime()) time_.advance(*next - time_.monotonicTime());
      for (SimAlarm* a : alarms_) {
        if (a->waiting && !a->fired && a->deadline <= time_.monotonicTime()) {
          a->fired = true;
          a->timer.cancel();
        }
      }
    }
  }

  // Runs one coroutine to completion (rethrowing its exception) and returns its value.
  template <class T>
  T run(boost::asio::awaitable<T> work) {
    std::optional<T> value;
    std::exception_ptr error;
    bool finished = false;
    boost::asio::co_spawn(io_, std::move(work), [&](std::exception_ptr e, T v) {
      error = e;
      if (!e) value.emplace(std::move(v));
      finished = true;
    });
    if (!runUntil([&] { return finished; })) throw std::runtime_error("coroutine did not finish (deadlock)");
    if (error) std::rethrow_exception(error);
    return std::move(*value);
  }
  void run(boost::asio::awaitable<void> work) {
    std::exception_ptr error;
    bool finished = false;
    boost::asio::co_spawn(io_, std::move(work), [&](std::exception_ptr e) {
      error = e;
      finished = true;
    });
    if (!runUntil([&] { return finished; })) throw std::runtime_error("coroutine did not finish (deadlock)");
    if (error) std::rethrow_exception(error);
  }

 private:
  struct SimAlarm final : Alarm {
    explicit SimAlarm(SimulatedTimers& parent) : owner(&parent), timer(parent.io_) { owner->alarms_.insert(this); }
    ~SimAlarm() override {
      if (owner != nullptr) owner->alarms_.erase(this);
    }

    boost::asio::awaitable<void> waitUntil(MonotonicTime until) override {
      if (woken) {
        woken = false;
        co_return;
      }
      if (owner == nullptr || until <= owner->time_.monotonicTime()) co_return;
      deadline = until;
      waiting = true;
      fired = false;
      timer.expires_at(boost::asio::steady_timer::time_point::max());
      boost::system::error_code ec;
      co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      waiting = false;
      woken = false;
    }
    void wake() override {
      if (waiting) {
        fired = true;
        timer.cancel();
      } else {
        woken = true;
      }
    }

    SimulatedTimers* owner;
    boost::asio::steady_timer timer;
    MonotonicTime deadline{};
    bool waiting = false;
    bool fired = false;
    bool woken = false;
  };

  boost::asio::io_context& io_;
  SimulatedTimeSource& time_;
  std::set<SimAlarm*> alarms_;
};

// Milliseconds since the epoch of a SimulatedTimeSource's monotonic clock (readable asserts).
inline long long msSinceStart(MonotonicTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace aksnode::testing
