// One scheduled event's drain, from the engine's side (see drain_runner.h).
#include "agent/engine/drain_runner.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <algorithm>

#include "agent/engine/events.h"
#include "agent/core/timers.h"
#include "agent/core/logging.h"
#include "metrics/metrics.h"

namespace aksnode {

namespace asio = boost::asio;

namespace {
// One Event per blocked pod per drain, and at most this many: Events are for people.
constexpr std::size_t kMaxBlockedEvents = 20;
}  // namespace

MonotonicTime drainDeadline(const DrainConfig& config, const PendingEvent& pending, MonotonicTime now,
                            SystemTime wallNow) {
  MonotonicTime deadline = now + config.timeout;
  const MonotonicTime notBefore = now + std::chrono::duration_cast<std::chrono::nanoseconds>(pending.deadline - wallNow);
  deadline = std::min(deadline, notBefore - config.deadlineMargin);
  return std::max(deadline, now + kMinDrainWindow);
}

DrainRunner::DrainRunner(asio::any_io_executor executor, DrainRunnerDeps deps)
    : executor_(std::move(executor)), deps_(std::move(deps)) {}

const std::string& DrainRunner::eventId() const {
  static const std::string none;
  return running_ ? running_->eventId : none;
}

void DrainRunner::start(const ActiveEvent& active) {
  if (running_) return;
  auto cancel = std::make_shared<CancelFlag>();
  running_ = Running{active.pending.event.eventId, cancel, {}, {}};
  asio::co_spawn(executor_, drainForEvent(active, cancel), asio::detached);
}

void DrainRunner::cancel() {
  if (running_) running_->cancel->cancelled = true;
}

DrainOptions DrainRunner::options(MonotonicTime deadline) const {
  const DrainConfig& cfg = deps_.config;
  DrainOptions options;
  options.nodeName = deps_.nodeName;
  options.deadline = deadline;
  if (cfg.podGracePeriodCap) {
    options.gracePeriodSecondsCap =
        static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(*cfg.podGracePeriodCap).count());
  }
  options.deleteEmptyDirData = cfg.deleteEmptyDirData;
  options.skipNamespaces = cfg.skipNamespaces;
  options.ownPodNamespace = deps_.ownPodNamespace;
  options.ownPodName = deps_.ownPodName;
  options.parallelism = cfg.parallelism;
  options.evictionRetryInterval = cfg.evictionRetryInterval;
  return options;
}

asio::awaitable<void> DrainRunner::drainForEvent(ActiveEvent active, std::shared_ptr<CancelFlag> cancel) {
  const ScheduledEvent ev = active.pending.event;
  const MonotonicTime now = deps_.timers.now();
  const MonotonicTime deadline = drainDeadline(deps_.config, active.pending, now, deps_.timers.time().systemTime());

  deps_.setPhase(ev.eventId, ActionPhase::Draining);
  deps_.metrics.action(NodeAction::Drain, true, deps_.dryRun).Increment();
  const double secondsLeft = std::chrono::duration<double>(deadline - now).count();
  deps_.events.record(events::drainStarted(ev, secondsLeft));
  log::warn("drain started", {{"eventId", ev.eventId}, {"eventType", toString(ev.type)}, {"deadlineSeconds", secondsLeft},
                              {"dryRun", deps_.dryRun}});

  // Named, not a temporary in the co_await expression: see "Compiler pitfalls" in
  // arch/ARCHITECTURE.md (GCC 12 destroyed the temporary lambda twice, a double free).
  std::function<void(const DrainProgress&)> onProgress = [this, ev](const DrainProgress& progress) {
    this->onProgress(ev, progress);
  };
  DrainOutcome outcome = co_await deps_.drainer->drain(options(deadline), cancel, std::move(onProgress));
  finish(ev, outcome, std::chrono::duration<double>(deps_.timers.now() - now).count());
}

void DrainRunner::onProgress(const ScheduledEvent& ev, const DrainProgress& progress) {
  if (!running_ || running_->eventId != ev.eventId) return;
  running_->progress = progress;
  for (const auto& b : progress.blocked) {
    if (running_->blockedReported.size() < kMaxBlockedEvents &&
        running_->blockedReported.insert(b.ns + "/" + b.name).second) {
      deps_.events.record(events::evictionBlocked(ev, b));
    }
  }
}

void DrainRunner::finish(const ScheduledEvent& ev, const DrainOutcome& outcome, double seconds) {
  const char* result = toString(outcome.result);  // "success", "timeout" or "error" below
  last_ = DrainSummary{ev.eventId,     outcome.result,
                       seconds,        outcome.message,
                       outcome.progress.evictionsIssued, outcome.progress.podsRemaining};
  if (outcome.result == DrainResult::Cancelled) {
    log::info("drain cancelled", {{"eventId", ev.eventId}, {"seconds", seconds}});
  } else {
    deps_.metrics.drainDuration(outcome.result).Observe(seconds);
    if (outcome.result == DrainResult::Success) {
      deps_.events.record(events::drainSucceeded(ev, seconds));
      log::info("drain succeeded", {{"eventId", ev.eventId}, {"seconds", seconds},
                                    {"evicted", outcome.progress.evictionsIssued}});
      deps_.setPhase(ev.eventId, ActionPhase::Drained);
    } else {
      std::string blocked;
      for (const auto& b : outcome.progress.blocked) blocked += (blocked.empty() ? "" : ", ") + b.ns + "/" + b.name;
      deps_.events.record(events::drainFailed(ev, result, seconds, outcome.message, blocked));
      log::error("drain failed", {{"eventId", ev.eventId}, {"result", result}, {"seconds", seconds},
                                  {"message", outcome.message}, {"blocked", blocked},
                                  {"podsRemaining", outcome.progress.podsRemaining}});
      deps_.metrics.action(NodeAction::Drain, false, deps_.dryRun).Increment();
      deps_.setPhase(ev.eventId, ActionPhase::Failed);
    }
  }
  deps_.metrics.drainPodsRemaining().Set(outcome.result == DrainResult::Success ? 0 : outcome.progress.podsRemaining);
  running_.reset();
  deps_.finished();
}

}  // namespace aksnode
