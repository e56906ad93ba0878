#pragma once
// What the disk and the cache probes share: one BlockingWorker per configured target, each
// sampling on its own thread with a deadline, over the injected FileSystem and TimeSource.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/this_coro.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "agent/core/time_source.h"
#include "metrics/metrics.h"
#include "probes/disk/file_system.h"
#include "probes/probe.h"

namespace aksnode::disk {

// What every worker-thread probe (disk, cache) can be told; the cache probe adds its walk limits.
struct WorkerProbeOptions {
  // How long a round waits for one target's thread before reporting ProbeHung. Unset: from the
  // target's own limits (disk_probe.h, cache_probe.h).
  std::optional<std::chrono::nanoseconds> hangDeadline;
  std::size_t writeProbeBytes = 4096;
};

// Target: one configured path, with a `worker` (std::unique_ptr<BlockingWorker<…>>).
template <class Target, class Options>
class WorkerProbe : public HealthCheck {
 public:
  // Blocks until no probe thread runs, waiting at most `timeout` per target; false if one is
  // still stuck.
  bool waitForWorkers(std::chrono::milliseconds timeout) {
    bool idle = true;
    for (auto& target : targets_) idle = target.worker->waitUntilIdle(timeout) && idle;
    return idle;
  }
  // Probe threads started so far, over all targets.
  std::uint64_t threadsStarted() const {
    std::uint64_t n = 0;
    for (const auto& target : targets_) n += target.worker->started();
    return n;
  }

 protected:
  WorkerProbe(Metrics& metrics, const TimeSource& time, std::shared_ptr<FileSystem> fs, Options options)
      : metrics_(metrics), time_(time), fs_(std::move(fs)), options_(std::move(options)) {}

  // One target per configured path, each with its own worker; `setUp(target, config)` fills in
  // what the probe adds (its deadline, its limits) before the config moves into the target.
  template <class Config, class SetUp>
  void addTargets(std::vector<Config> configs, SetUp setUp) {
    using Worker = typename decltype(Target::worker)::element_type;
    targets_.reserve(configs.size());
    for (auto& config : configs) {
      Target target;
      setUp(target, config);
      target.config = std::move(config);
      target.worker = std::make_unique<Worker>(time_);
      targets_.push_back(std::move(target));
    }
  }

  // One round: every target's job (`jobFor(target)`) starts first, so one hung target delays
  // the round by its deadline only once; then each completion, in order, becomes that target's
  // result through `resultOf(target, completion)`.
  template <class JobFor, class ResultOf>
  boost::asio::awaitable<std::vector<ProbeResult>> runRound(JobFor jobFor, ResultOf resultOf) {
    auto executor = co_await boost::asio::this_coro::executor;
    using Worker = typename decltype(Target::worker)::element_type;
    std::vector<typename Worker::Pending> pending;
    pending.reserve(targets_.size());
    for (auto& target : targets_) pending.push_back(target.worker->start(executor, jobFor(target), target.deadline));
    std::vector<ProbeResult> results;
    results.reserve(targets_.size());
    for (std::size_t i = 0; i < targets_.size(); ++i) {
      const typename Worker::Completion completion = co_await targets_[i].worker->finish(std::move(pending[i]));
      results.push_back(resultOf(targets_[i], completion));
    }
    co_return results;
  }

  Metrics& metrics_;
  const TimeSource& time_;
  std::shared_ptr<FileSystem> fs_;
  Options options_;
  std::vector<Target> targets_;
};

}  // namespace aksnode::disk
