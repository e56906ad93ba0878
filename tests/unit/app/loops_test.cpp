// Loops: the agent's periodic loops and their end at shutdown, on a simulated clock (no test
// sleeps): rounds come each interval, a round chooses its own wait (backoff), stop() ends every
// wait at once, and ended() returns when the last loop is gone or the grace period is over.
#include "agent/app/loops.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <vector>

#include "support/sim_timers.h"

namespace aksnode {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using Wait = std::optional<std::chrono::nanoseconds>;

// A loop that needs 300 ms to finish after stop() (as the lease, which is given up last).
asio::awaitable<void> loopThenRelease(Loops& loops, Timers& timers) {
  co_await loops.repeat([]() -> asio::awaitable<Wait> { co_return 1s; });
  co_await timers.sleepFor(300ms);
}

class LoopsTest : public ::testing::Test {
 protected:
  long long nowMs() const { return testing::msSinceStart(time.monotonicTime()) - startMs; }
  // Spawns `loop` guarded; `finished` counts the loops that returned.
  void spawn(asio::awaitable<void> loop) {
    asio::co_spawn(io, loops.guarded(std::move(loop)), [this](std::exception_ptr e) {
      EXPECT_FALSE(e);
      ++finished;
    });
  }
  // Runs Loops::ended(grace) on simulated time; true once it returned.
  bool waitForEnded(std::chrono::milliseconds grace) {
    bool ended = false;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
      co_await loops.ended(grace);
      ended = true;
    }, asio::detached);
    return timers.runUntil([&] { return ended; });
  }

  asio::io_context io;
  SimulatedTimeSource time;
  testing::SimulatedTimers timers{io, time};
  Loops loops{timers};
  const long long startMs = testing::msSinceStart(time.monotonicTime());
  int finished = 0;
};

TEST_F(LoopsTest, ARoundComesEveryInterval) {
  std::vector<long long> rounds;
  spawn(loops.repeat([&]() -> asio::awaitable<Wait> {
    rounds.push_back(nowMs());
    co_return 30s;
  }));
  ASSERT_TRUE(timers.runUntil([&] { return rounds.size() == 4; }));
  EXPECT_EQ(rounds, (std::vector<long long>{0, 30'000, 60'000, 90'000}));
  EXPECT_EQ(loops.live(), 1);
  EXPECT_EQ(finished, 0);
}

TEST_F(LoopsTest, EachRoundChoosesItsWaitSoALoopCanBackOff) {
  // The VM discovery's policy: 1 s, doubling, capped at 30 s.
  std::vector<long long> rounds;
  std::chrono::milliseconds backoff = 1s;
  spawn(loops.repeat([&]() -> asio::awaitable<Wait> {
    rounds.push_back(nowMs());
    const auto wait = backoff;
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, 30s);
    co_return wait;
  }));
  ASSERT_TRUE(timers.runUntil([&] { return rounds.size() == 8; }));
  EXPECT_EQ(rounds, (std::vector<long long>{0, 1'000, 3'000, 7'000, 15'000, 31'000, 61'000, 91'000}));
}

TEST_F(LoopsTest, ARoundWithoutAWaitEndsTheLoop) {
  int rounds = 0;
  spawn(loops.repeat([&]() -> asio::awaitable<Wait> {
    if (++rounds == 3) co_return std::nullopt;
    co_return 5s;
  }));
  ASSERT_TRUE(timers.runUntil([&] { return finished == 1; }));
  EXPECT_EQ(rounds, 3);
  EXPECT_EQ(nowMs(), 10'000);
  EXPECT_EQ(loops.live(), 0);
}

TEST_F(LoopsTest, StopEndsEveryWaitAtOnce) {
  int fast = 0, slow = 0;
  spawn(loops.repeat([&]() -> asio::awaitable<Wait> {
    ++fast;
    co_return 1s;
  }));
  spawn(loops.repeat([&]() -> asio::awaitable<Wait> {
    ++slow;
    co_return 1h;
  }));
  ASSERT_TRUE(timers.runUntil([&] { return fast == 3; }));
  EXPECT_EQ(loops.live(), 2);
  const long long stoppedAt = nowMs();
  loops.stop();
  EXPECT_TRUE(loops.stopping());
  ASSERT_TRUE(timers.runUntil([&] { return finished == 2; }));
  EXPECT_EQ(nowMs(), stoppedAt) << "a loop waited out its interval after stop()";
  EXPECT_EQ(fast, 3);
  EXPECT_EQ(slow, 1);
  EXPECT_EQ(loops.live(), 0);
}

TEST_F(LoopsTest, ARoundThatEndsAfterStopIsNotFollowedByAWait) {
  int rounds = 0;
  spawn(loops.repeat([&]() -> asio::awaitable<Wait> {
    ++rounds;
    loops.stop();  // as a SIGTERM during a probe round
    co_return 30s;
  }));
  ASSERT_TRUE(timers.runUntil([&] { return finished == 1; }));
  EXPECT_EQ(rounds, 1);
  EXPECT_EQ(nowMs(), 0);
}

TEST_F(LoopsTest, EndedReturnsWhenTheLastLoopEnds) {
  spawn(loopThenRelease(loops, timers));
  bool ended = false;
  ASSERT_TRUE(timers.runUntil([&] { return nowMs() >= 2'000; }, 2s));
  loops.stop();
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    co_await loops.ended(1500ms);
    ended = true;
  }, asio::detached);
  const long long stoppedAt = nowMs();
  ASSERT_TRUE(timers.runUntil([&] { return ended; }));
  EXPECT_EQ(finished, 1);
  EXPECT_EQ(nowMs() - stoppedAt, 300);
}

TEST_F(LoopsTest, EndedGivesUpAfterTheGracePeriod) {
  // A loop that never returns (a request in flight that does not end).
  spawn(timers.sleepFor(24h));
  loops.stop();
  ASSERT_TRUE(waitForEnded(1500ms));
  EXPECT_EQ(nowMs(), 1'500);
  EXPECT_EQ(loops.live(), 1);
}

TEST_F(LoopsTest, EndedReturnsAtOnceWhenNothingRuns) {
  ASSERT_TRUE(waitForEnded(1500ms));
  EXPECT_EQ(nowMs(), 0);
}

}  // namespace
}  // namespace aksnode
