#include "agent/core/timers.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "support/sim_timers.h"

namespace aksnode {
namespace {

using namespace std::chrono_literals;

class AsioTimersTest : public ::testing::Test {
 protected:
  // `done` turns true when the wait returns.
  void spawn(boost::asio::awaitable<void> wait) {
    boost::asio::co_spawn(io, std::move(wait), [this](std::exception_ptr) { done = true; });
  }

  boost::asio::io_context io;
  RealTimeSource time;
  AsioTimers timers{io.get_executor(), time};
  bool done = false;
};

TEST_F(AsioTimersTest, PastDeadlineReturnsAtOnce) {
  spawn(timers.sleepUntil(time.monotonicTime() - 1s));
  io.run_for(5s);
  EXPECT_TRUE(done);
}

TEST_F(AsioTimersTest, WakeEndsAnHourLongWait) {
  auto alarm = timers.makeAlarm();
  spawn(alarm->waitUntil(time.monotonicTime() + 1h));
  io.poll();
  EXPECT_FALSE(done);
  alarm->wake();
  const auto before = time.monotonicTime();
  io.run_for(5s);
  EXPECT_TRUE(done);
  EXPECT_LT(time.monotonicTime() - before, 5s);
}

TEST_F(AsioTimersTest, WakeBeforeWaitIsRemembered) {
  auto alarm = timers.makeAlarm();
  alarm->wake();
  spawn(alarm->waitUntil(time.monotonicTime() + 1h));
  io.run_for(5s);
  EXPECT_TRUE(done);
}

TEST(SimulatedTimers, JumpsToTheNextDeadline) {
  boost::asio::io_context io;
  SimulatedTimeSource time;
  testing::SimulatedTimers timers(io, time);
  const auto start = time.monotonicTime();
  std::vector<long long> woke;
  for (int ms : {300, 100, 200}) {
    boost::asio::co_spawn(io, [&, ms]() -> boost::asio::awaitable<void> {
      co_await timers.sleepFor(std::chrono::milliseconds(ms));
      woke.push_back((time.monotonicTime() - start) / 1ms);
    }, boost::asio::detached);
  }
  ASSERT_TRUE(timers.runUntil([&] { return woke.size() == 3; }));
  EXPECT_EQ(woke, (std::vector<long long>{100, 200, 300}));
}

}  // namespace
}  // namespace aksnode
