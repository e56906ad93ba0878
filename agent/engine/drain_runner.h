#pragma once
// One scheduled event's drain, from the engine's side: when it must end (the deadline), what
// the drainer is asked (DrainOptions from the drain config), what people are told while it runs
// (DrainStarted, EvictionBlocked) and after (DrainSucceeded/DrainFailed, the drain metrics, the
// outcome /status shows). The evictions themselves are the Drainer's (agent/kube/drainer.h);
// whether a drain is wanted is the engine's (desired_state.h). Split out of action_engine.cpp
// so the reconcile loop reads as the reconcile loop.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "agent/config/config.h"
#include "agent/engine/agent_annotation.h"
#include "agent/engine/desired_state.h"
#include "agent/kube/drainer.h"

namespace aksnode {

class Metrics;
class NodeEventRecorder;
class Timers;

// The earliest a drain may give up: evictions are worth issuing even when NotBefore has
// already passed (an imminent or Started event), since the pods then get their SIGTERM.
inline constexpr std::chrono::seconds kMinDrainWindow{2};

// min(now + drain.timeout, NotBefore - drain.deadlineMargin), and at least kMinDrainWindow away.
MonotonicTime drainDeadline(const DrainConfig& config, const PendingEvent& pending, MonotonicTime now,
                            SystemTime wallNow);

// The outcome of the last finished drain (for /status).
struct DrainSummary {
  std::string eventId;
  DrainResult result = DrainResult::Error;
  double seconds = 0;
  std::string message;
  int podsEvicted = 0;
  int podsRemaining = 0;
};

struct DrainRunnerDeps {
  const DrainConfig& config;
  Drainer* drainer = nullptr;  // null: start() is never called
  Metrics& metrics;
  Timers& timers;
  NodeEventRecorder& events;
  bool dryRun = false;  // the dry_run label of aksnode_actions_total
  std::string nodeName;
  std::string ownPodNamespace;
  std::string ownPodName;
  // The event's phase moved on (Draining, Drained, Failed); called on the event loop.
  std::function<void(const std::string& eventId, ActionPhase phase)> setPhase;
  // The drain has ended (whatever the outcome): the engine decides again.
  std::function<void()> finished;
};

class DrainRunner {
 public:
  DrainRunner(boost::asio::any_io_executor executor, DrainRunnerDeps deps);

  // Starts draining for `active` in the background. Only one drain runs at a time.
  void start(const ActiveEvent& active);
  // The running drain ends as soon as the drainer sees this (the event ended, shutdown, lost lease).
  void cancel();

  bool running() const { return running_.has_value(); }
  bool cancelled() const { return running_ && running_->cancel->cancelled; }
  // The event the running drain is for ("" when none runs).
  const std::string& eventId() const;
  // Of the running drain (when running()).
  const DrainProgress& progress() const { return running_->progress; }
  const std::optional<DrainSummary>& last() const { return last_; }

 private:
  boost::asio::awaitable<void> drainForEvent(ActiveEvent active, std::shared_ptr<CancelFlag> cancel);
  DrainOptions options(MonotonicTime deadline) const;
  void onProgress(const ScheduledEvent& ev, const DrainProgress& progress);
  void finish(const ScheduledEvent& ev, const DrainOutcome& outcome, double seconds);

  boost::asio::any_io_executor executor_;
  DrainRunnerDeps deps_;
  struct Running {
    std::string eventId;
    std::shared_ptr<CancelFlag> cancel;
    DrainProgress progress;
    std::set<std::string> blockedReported;
  };
  std::optional<Running> running_;
  std::optional<DrainSummary> last_;
};

}  // namespace aksnode
