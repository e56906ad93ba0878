#pragma once
// Runs one blocking job at a time for one path on its own thread, and lets a coroutine on the
// event loop await it with a deadline. This is what keeps a hung disk from stalling the agent:
//
//  - the job (statvfs, the write probe, ...) never runs on the event loop thread;
//  - the awaiting coroutine resumes at the deadline at the latest (TimedOut) while the thread
//    stays blocked in the kernel, possibly forever (a dead NVMe, a hung NFS server);
//  - while that thread is still stuck, start() refuses to start another (StillBusy): at most one
//    thread per path is ever blocked, rounds do not pile threads up;
//  - when the stuck call returns, the thread ends, and the next round starts normally.
//
// Completion travels back by posting a wake-up to the event loop's executor; the result itself
// sits in state shared with the thread. Requirements: start() and finish() run on one
// single-threaded executor (the agent's event loop), and the BlockingWorker is destroyed on it,
// before the io_context.
//
// Shutdown: the destructor joins a finished thread and detaches a stuck one. A detached thread
// holds only shared state (shared_ptr) and what its job captured by value (shared_ptr to the
// FileSystem), never the event loop or the probe, and asks the clock through WorkerContext,
// which refuses once the worker is abandoned. So it may return at any time later, or never
// (the process exits with it still blocked in the kernel), without touching freed memory.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include "agent/core/time_source.h"

namespace aksnode::disk {

// State shared by a BlockingWorker and its thread; outlives both.
struct WorkerShared {
  std::mutex mutex;
  std::condition_variable idle;
  // Guarded by mutex.
  bool running = false;
  bool abandoned = false;            // the BlockingWorker is gone
  const TimeSource* time = nullptr;  // only dereferenced under mutex while !abandoned
  const char* stage = "";            // a string literal naming the current blocking call
  MonotonicTime startedAt{};
};

// What a job may use besides its own captures.
class WorkerContext {
 public:
  explicit WorkerContext(std::shared_ptr<WorkerShared> shared) : shared_(std::move(shared)) {}
  // The probe's TimeSource. Once the worker is abandoned: MonotonicTime::max(), so time
  // budgets expire and the (discarded) job winds down.
  MonotonicTime now() const;
  // Names the blocking call the job is about to make ("statvfs", "write"): the message of a
  // hung probe says where it is stuck.
  void setStage(const char* stage);

 private:
  std::shared_ptr<WorkerShared> shared_;
};

enum class WorkerOutcome {
  Done,         // the job returned (possibly after the deadline, before we looked)
  TimedOut,     // deadline passed; the thread is still blocked
  StillBusy,    // the previous round's job is still blocked; nothing started
  StartFailed,  // no thread could be started, or the job threw
};
const char* toString(WorkerOutcome outcome);

template <class Result>
class BlockingWorker {
 public:
  using Job = std::function<Result(WorkerContext&)>;

  struct Completion {
    WorkerOutcome outcome = WorkerOutcome::StartFailed;
    std::optional<Result> result;          // set when Done
    std::string stage;                     // TimedOut / StillBusy: where the thread is stuck
    std::chrono::nanoseconds stuckFor{0};  // TimedOut / StillBusy: since the job started
    std::string error;                     // StartFailed
  };

  // Returned by start(); hand it to finish(). Its deadline runs from start(), so several
  // paths started together finish within the longest deadline, not the sum.
  // Dropping a Pending (also when the io_context destroys the coroutine frame holding it)
  // tells the thread that nobody waits any more: from then on it never posts to the executor.
  class Pending {
   public:
    Pending() = default;
    Pending(Pending&&) noexcept = default;
    Pending& operator=(Pending&&) = delete;
    Pending(const Pending&) = delete;
    Pending& operator=(const Pending&) = delete;
    ~Pending() {
      if (run && shared) {
        std::lock_guard lock(shared->mutex);
        run->waiting = false;
      }
    }

   private:
    friend class BlockingWorker;
    struct Run {
      // Guarded by WorkerShared::mutex.
      std::optional<Result> result;
      std::string failure;
      bool finished = false;
      bool waiting = true;  // a coroutine may still be waiting: the thread must wake it
      // Set before the thread starts, then only read by it.
      boost::asio::any_io_executor executor;
      std::weak_ptr<boost::asio::steady_timer> timer;  // owned by the event loop side only
    };
    std::optional<Completion> immediate;
    std::shared_ptr<WorkerShared> shared;
    std::shared_ptr<Run> run;
    std::shared_ptr<boost::asio::steady_timer> timer;
  };

  explicit BlockingWorker(const TimeSource& time) : shared_(std::make_shared<WorkerShared>()) {
    shared_->time = &time;
    time_ = &time;
  }
  BlockingWorker(const BlockingWorker&) = delete;
  BlockingWorker& operator=(const BlockingWorker&) = delete;

  ~BlockingWorker() {
    bool stuck = false;
    {
      std::lock_guard lock(shared_->mutex);
      shared_->abandoned = true;
      stuck = shared_->running;
    }
    if (thread_.joinable()) {
      if (stuck) {
        thread_.detach();  // see the header comment: it only holds shared state
      } else {
        thread_.join();  // already finished or about to: returns at once
      }
    }
  }

  // Starts `job` on a new thread unless the previous one is still running.
  Pending start(const boost::asio::any_io_executor& executor, Job job,
                std::chrono::nanoseconds deadline) {
    Pending pending;
    {
      std::lock_guard lock(shared_->mutex);
      if (shared_->running) {
        pending.immediate = stuckCompletionLocked(WorkerOutcome::StillBusy);
        return pending;
      }
    }
    if (thread_.joinable()) thread_.join();  // the previous job has returned

    pending.timer = std::make_shared<boost::asio::steady_timer>(executor);
    pending.timer->expires_after(deadline);
    pending.shared = shared_;
    pending.run = std::make_shared<typename Pending::Run>();
    pending.run->executor = executor;
    pending.run->timer = pending.timer;
    {
      std::lock_guard lock(shared_->mutex);
      shared_->running = true;
      shared_->stage = "starting";
      shared_->startedAt = time_->monotonicTime();
    }
    try {
      thread_ = std::thread(&BlockingWorker::runJob, shared_, pending.run, std::move(job));
      ++started_;
    } catch (const std::system_error& e) {
      std::lock_guard lock(shared_->mutex);
      shared_->running = false;
      pending.immediate = Completion{};
      pending.immediate->error = std::string("cannot start a probe thread: ") + e.what();
    }
    return pending;
  }

  // Resumes when the job returns or at its deadline, whichever is first.
  boost::asio::awaitable<Completion> finish(Pending pending) {
    if (pending.immediate) co_return std::move(*pending.immediate);
    bool finished = false;
    {
      std::lock_guard lock(shared_->mutex);
      finished = pending.run->finished;
    }
    if (!finished) {
      // The wake-up the thread posts cannot run before this wait is registered: both happen
      // on the single event loop thread, and the wait is initiated before this coroutine yields.
      boost::system::error_code ignored;
      co_await pending.timer->async_wait(
          boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
    }
    std::lock_guard lock(shared_->mutex);
    pending.run->waiting = false;
    if (!pending.run->finished) co_return stuckCompletionLocked(WorkerOutcome::TimedOut);
    Completion done;
    if (pending.run->result) {
      done.outcome = WorkerOutcome::Done;
      done.result = std::move(pending.run->result);
    } else {
      done.outcome = WorkerOutcome::StartFailed;
      done.error = pending.run->failure;
    }
    co_return done;
  }

  bool busy() const {
    std::lock_guard lock(shared_->mutex);
    return shared_->running;
  }
  // Blocks the caller until no job runs or the timeout passes. For tests, and for an orderly
  // shutdown that wants to give a slow (not hung) probe a moment.
  bool waitUntilIdle(std::chrono::milliseconds timeout) {
    std::unique_lock lock(shared_->mutex);
    return shared_->idle.wait_for(lock, timeout, [&] { return !shared_->running; });
  }
  // Threads started so far.
  std::uint64_t started() const { return started_; }

 private:
  static void runJob(std::shared_ptr<WorkerShared> shared,
                     std::shared_ptr<typename Pending::Run> run, Job job) {
    WorkerContext context(shared);
    std::optional<Result> result;
    std::string failure;
    try {
      result.emplace(job(context));
    } catch (const std::exception& e) {
      failure = std::string("probe failed: ") + e.what();
    } catch (...) {
      failure = "probe failed: unknown exception";
    }
    job = nullptr;  // release what the job captured here, not wherever the last reference goes
    std::lock_guard lock(shared->mutex);
    run->result = std::move(result);
    run->failure = std::move(failure);
    run->finished = true;
    shared->running = false;
    shared->stage = "";
    if (run->waiting && !shared->abandoned) {
      // Only a weak reference travels: the timer is created and destroyed on the event loop.
      boost::asio::post(run->executor, [timer = run->timer] {
        if (auto t = timer.lock()) t->cancel();
      });
    }
    shared->idle.notify_all();
  }

  Completion stuckCompletionLocked(WorkerOutcome outcome) {
    Completion c;
    c.outcome = outcome;
    c.stage = shared_->stage;
    c.stuckFor = time_->monotonicTime() - shared_->startedAt;
    return c;
  }

  std::shared_ptr<WorkerShared> shared_;
  const TimeSource* time_;
  std::thread thread_;
  std::uint64_t started_ = 0;
};

}  // namespace aksnode::disk
