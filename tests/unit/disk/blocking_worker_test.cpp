#include "probes/disk/blocking_worker.h"

#include <gtest/gtest.h>

#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "unit/disk/disk_test_support.h"

namespace aksnode::disk {
namespace {

using namespace std::chrono_literals;
using testing::runFor;
using Worker = BlockingWorker<int>;

// A gate the job blocks on until the test opens it.
struct Gate {
  std::mutex mutex;
  std::condition_variable cv;
  bool open = false;
  bool entered = false;
  void pass() {
    std::unique_lock lock(mutex);
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return open; });
  }
  void release() {
    std::lock_guard lock(mutex);
    open = true;
    cv.notify_all();
  }
  void waitEntered() {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return entered; });
  }
};

boost::asio::awaitable<Worker::Completion> runOnce(Worker& worker, Worker::Job job,
                                                   std::chrono::nanoseconds deadline) {
  auto executor = co_await boost::asio::this_coro::executor;
  co_return co_await worker.finish(worker.start(executor, std::move(job), deadline));
}

TEST(BlockingWorker, ReturnsTheResultComputedOffTheEventLoopThread) {
  boost::asio::io_context io;
  SimulatedTimeSource time;
  Worker worker(time);
  std::thread::id jobThread;
  auto c = runFor(io, runOnce(
                          worker,
                          [&](WorkerContext&) {
                            jobThread = std::this_thread::get_id();
                            return 42;
                          },
                          10s));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->outcome, WorkerOutcome::Done);
  EXPECT_EQ(*c->result, 42);
  EXPECT_NE(jobThread, std::this_thread::get_id());
  EXPECT_EQ(worker.started(), 1u);
  EXPECT_FALSE(worker.busy());
}

TEST(BlockingWorker, DeadlineThenStillBusyThenRecovery) {
  boost::asio::io_context io;
  SimulatedTimeSource time;
  Worker worker(time);
  Gate gate;
  std::atomic<int> jobsRun{0};
  auto blockingJob = [&](WorkerContext& c) {
    ++jobsRun;
    c.setStage("fsync");
    gate.pass();
    return 7;
  };

  auto first = runFor(io, runOnce(worker, blockingJob, 30ms));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->outcome, WorkerOutcome::TimedOut);
  EXPECT_FALSE(first->result);
  EXPECT_TRUE(worker.busy());
  gate.waitEntered();

  // The stuck thread's clock: 90 s later, another round starts nothing.
  time.advance(90s);
  auto second = runFor(io, runOnce(worker, blockingJob, 30ms));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->outcome, WorkerOutcome::StillBusy);
  EXPECT_EQ(second->stage, "fsync");
  EXPECT_EQ(second->stuckFor, 90s);
  EXPECT_EQ(worker.started(), 1u);
  EXPECT_EQ(jobsRun.load(), 1);

  gate.release();
  ASSERT_TRUE(worker.waitUntilIdle(10s));
  auto third = runFor(io, runOnce(
                              worker, [](WorkerContext&) { return 8; }, 10s));
  ASSERT_TRUE(third);
  EXPECT_EQ(third->outcome, WorkerOutcome::Done);
  EXPECT_EQ(*third->result, 8);
  EXPECT_EQ(worker.started(), 2u);
}

TEST(BlockingWorker, AResultThatArrivesBeforeTheWaitIsNotMissed) {
  // start() now, finish() only after the job has returned and its wake-up already ran: the
  // wait must see the result and not sleep until the (long) deadline.
  boost::asio::io_context io;
  SimulatedTimeSource time;
  Worker worker(time);
  auto task = [&]() -> boost::asio::awaitable<Worker::Completion> {
    auto executor = co_await boost::asio::this_coro::executor;
    auto pending = worker.start(
        executor, [](WorkerContext&) { return 5; }, 1h);
    worker.waitUntilIdle(10s);
    // Let the posted wake-up run before we wait.
    co_await boost::asio::post(executor, boost::asio::use_awaitable);
    co_return co_await worker.finish(std::move(pending));
  };
  auto c = runFor(io, task(), 10s);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->outcome, WorkerOutcome::Done);
  EXPECT_EQ(*c->result, 5);
}

TEST(BlockingWorker, AThrowingJobIsReportedNotPropagated) {
  boost::asio::io_context io;
  SimulatedTimeSource time;
  Worker worker(time);
  auto c =
      runFor(io, runOnce(
                     worker, [](WorkerContext&) -> int { throw std::runtime_error("boom"); }, 10s));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->outcome, WorkerOutcome::StartFailed);
  EXPECT_NE(c->error.find("boom"), std::string::npos);
  EXPECT_FALSE(worker.busy());
}

TEST(BlockingWorker, TheEventLoopKeepsTurningWhileAJobHangs) {
  boost::asio::io_context io;
  SimulatedTimeSource time;
  Worker worker(time);
  Gate gate;
  bool probeDone = false;
  int turnsWhileWaiting = 0;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        co_await runOnce(
            worker,
            [&](WorkerContext&) {
              gate.pass();
              return 1;
            },
            200ms);
        probeDone = true;
      },
      boost::asio::detached);
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        // Another task of the agent (the IMDS poll) runs on the same loop meanwhile.
        while (!probeDone && turnsWhileWaiting < 1000) {
          ++turnsWhileWaiting;
          co_await boost::asio::post(co_await boost::asio::this_coro::executor,
                                     boost::asio::use_awaitable);
          if (turnsWhileWaiting == 3) gate.waitEntered();  // the job is now really blocked
        }
      },
      boost::asio::detached);
  io.run_for(20s);
  EXPECT_TRUE(probeDone);
  EXPECT_GE(turnsWhileWaiting, 3);
  gate.release();
  EXPECT_TRUE(worker.waitUntilIdle(10s));
}

TEST(BlockingWorker, DestroyedWhileAJobIsStuckDetachesSafely) {
  boost::asio::io_context io;
  SimulatedTimeSource time;
  auto gate = std::make_shared<Gate>();
  auto clockReadAfterAbandon = std::make_shared<std::atomic<bool>>(false);
  auto finished = std::make_shared<Gate>();  // opened by the job as its last act
  {
    Worker worker(time);
    auto c = runFor(io, runOnce(
                            worker,
                            [gate, clockReadAfterAbandon, finished](WorkerContext& ctx) {
                              gate->pass();
                              // The worker is gone by now: the clock must refuse.
                              clockReadAfterAbandon->store(ctx.now() == MonotonicTime::max());
                              finished->release();
                              return 1;
                            },
                            20ms));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->outcome, WorkerOutcome::TimedOut);
    gate->waitEntered();
  }  // ~BlockingWorker with the thread stuck: detached
  gate->release();
  {
    std::unique_lock lock(finished->mutex);
    finished->cv.wait(lock, [&] { return finished->open; });
  }
  EXPECT_TRUE(clockReadAfterAbandon->load());
}

TEST(BlockingWorker, IoContextDestroyedMidWaitIsNeverPostedToAfterwards) {
  SimulatedTimeSource time;
  Worker worker(time);
  Gate gate;
  {
    boost::asio::io_context io;
    boost::asio::co_spawn(io,
                          runOnce(
                              worker,
                              [&](WorkerContext&) {
                                gate.pass();
                                return 1;
                              },
                              1h),
                          boost::asio::detached);
    io.poll();  // starts the job and suspends on the (1 h) deadline
    gate.waitEntered();
    EXPECT_TRUE(worker.busy());
  }                // the io_context and the suspended coroutine frame are destroyed
  gate.release();  // the job returns now: it must not post to the dead io_context
  EXPECT_TRUE(worker.waitUntilIdle(10s));
}

}  // namespace
}  // namespace aksnode::disk
