// The reconcile loop (see action_engine.h): read the Node, compute what it should be, write the
// difference, start the drain and the acknowledgement when they are due.
#include "agent/engine/action_engine.h"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/json.hpp>

#include <algorithm>

#include "agent/engine/dry_run_seams.h"
#include "agent/engine/engine_status.h"
#include "agent/engine/events.h"
#include "agent/engine/node_patch.h"
#include "agent/kube/kube_client.h"
#include "agent/core/timers.h"
#include "agent/core/secret_redaction.h"
#include "agent/core/logging.h"
#include "metrics/metrics.h"

namespace aksnode {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

namespace {
constexpr int kMaxConflictRetries = 8;
constexpr std::chrono::seconds kCordonLateAfter{5};

std::chrono::milliseconds conflictRetryDelay(int attempt) {
  return std::chrono::milliseconds(10 << std::min(attempt, 5));
}
}  // namespace

ActionEngine::ActionEngine(asio::any_io_executor executor, ActionEngineDeps deps)
    : executor_(executor),
      simulatedAck_(deps.dryRun || !deps.imds),
      deps_(withDryRunSeams(std::move(deps), dryRunSeams_)),
      events_(executor, deps_.kube, deps_.timers.time(), deps_.nodeName, deps_.dryRun),
      debouncer_(deps_.config.healthThreshold),
      alarm_(deps_.timers.makeAlarm()),
      watchAlarm_(deps_.timers.makeAlarm()),
      drain_(executor, DrainRunnerDeps{deps_.config.drain, deps_.drainer, deps_.metrics, deps_.timers, events_,
                                       deps_.dryRun, deps_.nodeName, deps_.ownPodNamespace, deps_.ownPodName,
                                       [this](const std::string& id, ActionPhase phase) { setPhase(id, phase); },
                                       [this] { kick(); }}),
      acknowledgements_(executor, AcknowledgementDeps{*deps_.imds, deps_.metrics, events_, simulatedAck_,
                                                      [this](const std::string& id, ActionPhase phase) {
                                                        setPhase(id, phase);
                                                      }}) {
  // Events are held back only by a known standby: until the lease is decided (the first few
  // milliseconds), a health flip's Event is written rather than lost.
  events_.setGate([this] { return !standingBy_; });
  events_.setNotifier(deps_.notifier);
}

ActionEngine::~ActionEngine() = default;

void ActionEngine::kick() { alarm_->wake(); }

bool ActionEngine::acting() const { return !deps_.mayAct || deps_.mayAct(); }

void ActionEngine::setActing(bool acting) {
  standingBy_ = !acting;
  if (!acting && drain_.running()) {
    log::warn("another agent now holds this node's lease: abandoning the drain to it", {{"eventId", drain_.eventId()}});
    drain_.cancel();
  }
  kick();
}

void ActionEngine::stop() {
  stopped_ = true;
  drain_.cancel();
  alarm_->wake();
  watchAlarm_->wake();
}

void ActionEngine::setVmName(std::string name) {
  vmName_ = std::move(name);
  events_.setVmName(vmName_);
}

void ActionEngine::setPending(const std::vector<PendingEvent>& pending, const std::vector<LifecycleChange>& changes) {
  const bool wasKnown = eventsKnown_;
  pending_ = pending;
  // Bounded by what is pending: over a long-lived VM's maintenance events the set would grow.
  std::erase_if(latencyObserved_, [&](const std::string& id) {
    return std::none_of(pending_.begin(), pending_.end(), [&](const PendingEvent& p) { return p.event.eventId == id; });
  });
  // Without the VM's name no event can be ours: an empty list then says nothing.
  if (!vmName_.empty()) eventsKnown_ = true;
  for (const auto& c : changes) {
    if (c.kind != LifecycleKind::Started) continue;
    events_.record(events::scheduledEventStarted(c.event.event, vmName_));
  }
  if (!changes.empty() || !wasKnown) kick();
}

void ActionEngine::setHealth(const std::vector<ProbeResult>& raw) {
  for (const auto& flip : debouncer_.feed(raw)) {
    const auto& r = flip.result;
    if (!r.spec) continue;  // no Node surface (probe.h): every probe's results carry their spec
    const ProbeSpec& s = *r.spec;
    if (flip.nowHealthy) {
      events_.record("Normal", s.recoveredEvent, s.recoveredEventMessage(r));
    } else {
      events_.record("Warning", s.unhealthyEvent, s.unhealthyEventMessage(r));
    }
  }
  health_ = debouncer_.current();
  kick();
}

EngineInputs ActionEngine::inputs() const {
  EngineInputs in;
  in.pending = &pending_;
  in.health = &health_;
  in.vmName = vmName_;
  in.localPhases = &localPhases_;
  in.eventsKnown = eventsKnown_;
  in.endedAt = &endedAt_;
  return in;
}

DesiredNode ActionEngine::desiredNow() {
  const SystemTime now = deps_.timers.time().systemTime();
  // Remember when the event the node's annotation names was first seen gone: a fatal event's
  // state is kept kFatalUndoAfter from then, not from when the agent acted (a Terminate can be
  // pending for 15 minutes, then vanish from one IMDS answer).
  const std::string id = node_->agentState ? node_->agentState->eventId : std::string();
  const bool pending = std::any_of(pending_.begin(), pending_.end(),
                                   [&](const PendingEvent& e) { return e.event.eventId == id; });
  std::erase_if(endedAt_, [&](const auto& entry) { return entry.first != id || pending; });
  if (!id.empty() && !pending && eventsKnown_) endedAt_.emplace(id, now);
  return computeDesiredNode(inputs(), *node_, deps_.config, now);
}

std::string ActionEngine::kubeNotReadyReason() const {
  if (!deps_.kube) return deps_.kubeNotConfiguredReason;
  if (!kubeEverOk_) return lastKubeError_.empty() ? "no API server request has succeeded yet" : lastKubeError_;
  return {};
}

void ActionEngine::onKubeResult(bool ok, const std::string& what) {
  if (ok) {
    kubeEverOk_ = true;
    consecutiveKubeFailures_ = 0;
    lastKubeError_.clear();
    return;
  }
  ++consecutiveKubeFailures_;
  lastKubeError_ = secrets::redactSecrets(what);  // served by /status and /readyz
}

asio::awaitable<void> ActionEngine::watchCordon() {
  // Its own loop: a pass stuck in a hung API call (up to the 15 s call deadline) must not
  // delay the warning.
  while (!stopped_) {
    if (acting()) warnIfCordonLate();
    co_await watchAlarm_->waitUntil(deps_.timers.now() + std::chrono::seconds(1));
  }
}

asio::awaitable<void> ActionEngine::run() {
  // Both loops end on stop(); run() returns only when both have, so neither outlives the engine.
  if (deps_.kube) {
    auto both = reconcileLoop() && watchCordon();  // named: see "Compiler pitfalls" in arch/ARCHITECTURE.md
    co_await std::move(both);
  } else {
    co_await reconcileLoop();
  }
}

asio::awaitable<void> ActionEngine::reconcileLoop() {
  if (!deps_.kube) {
    log::warn("no Kubernetes API server configured: watching IMDS and exporting metrics only",
              {{"reason", deps_.kubeNotConfiguredReason}});
  }
  MonotonicTime nextResync = deps_.timers.now();
  while (!stopped_) {
    // A dry run's re-read is answered with its simulated node (dry_run_kube_client.h).
    const bool due = deps_.timers.now() >= nextResync;
    const bool fresh = !node_ || due;
    if (deps_.kube && acting()) {
      co_await reconcile(fresh);
    } else if (deps_.kube && fresh) {
      // Standing by (or the lease is not decided yet): read, never write. /status, /readyz and
      // the VM name from spec.providerID stay current, and an unreachable API server is reported.
      co_await readNode();
    }
    if (stopped_) break;
    if (fresh || due) nextResync = deps_.timers.now() + kResyncInterval;
    // After a failed pass, back off a little so an unreachable API server is not hammered.
    MonotonicTime wakeAt = nextResync;
    if (const int failures = std::max(consecutiveKubeFailures_, conflictPasses_); failures > 0) {
      auto backoff = std::chrono::milliseconds(std::min(5000, 250 << std::min(failures, 5)));
      wakeAt = std::min(wakeAt, deps_.timers.now() + backoff);
      nextResync = std::min(nextResync, wakeAt);
    }
    co_await alarm_->waitUntil(wakeAt);
  }
}

void ActionEngine::warnIfCordonLate() {
  if (!deps_.kube || (node_ && node_->unschedulable)) return;
  const MonotonicTime now = deps_.timers.now();
  for (const auto& p : pending_) {
    const auto configured = deps_.config.imds.actions.find(p.event.type);
    const EventAction action = configured == deps_.config.imds.actions.end() ? EventAction::None : configured->second;
    if (action != EventAction::Cordon && action != EventAction::Drain) continue;
    const auto waited = now - p.firstSeen;
    // A Preempt gives 30 s at best: after 5 s without a cordon something is wrong, and the
    // operator must see it at the default log level (before, only info-level retry lines).
    if (waited < kCordonLateAfter || now - lastLateWarning_ < kCordonLateAfter) continue;
    lastLateWarning_ = now;
    log::warn("cordon is late: the node is not cordoned yet for a scheduled event",
              {{"eventId", p.event.eventId},
               {"eventType", toString(p.event.type)},
               {"secondsSinceSeen", std::chrono::duration<double>(waited).count()},
               {"lastError", lastKubeError_}});
    return;
  }
}

asio::awaitable<bool> ActionEngine::readNode() {
  KubeResult r = co_await deps_.kube->getNode(deps_.nodeName);
  if (!r.ok()) {
    std::string what = "GET node " + deps_.nodeName + ": " +
                       (r.status ? "HTTP " + std::to_string(r.status) + " " : std::string()) + r.message;
    if (consecutiveKubeFailures_ == 0) log::warn("cannot read the node", {{"error", what}});
    onKubeResult(false, what);
    co_return false;
  }
  auto view = parseNodeView(r.body);
  if (view && view->name != deps_.nodeName) view = Result<NodeView>::failure("metadata.name is not " + deps_.nodeName);
  if (!view) {
    // Not patched: every write is computed from this object (arch/FAULTS.md: a Node that cannot be
    // read faithfully is never patched). Retried with the reconcile backoff like any failed GET.
    deps_.metrics.nodeUnreadable().Increment();
    std::string what = "GET node " + deps_.nodeName + ": the API server's answer cannot be read faithfully (" +
                       view.error() + "); not patching the node";
    log::warn("node not patched: unreadable Node object", {{"error", what}});
    onKubeResult(false, what);
    co_return false;
  }
  onKubeResult(true, {});
  node_ = std::move(view).value();
  events_.setNodeUid(node_->uid);
  deps_.metrics.nodeCordoned().Set(node_->unschedulable ? 1 : 0);
  co_return true;
}

asio::awaitable<void> ActionEngine::reconcile(bool fresh) {
  if (fresh || !node_) {
    if (!co_await readNode()) co_return;
  }
  DesiredNode desired = desiredNow();
  co_await applyNode(desired);
  // A failed PATCH drops node_ (re-read next pass): nothing below may touch it then.
  if (stopped_ || !node_) co_return;
  // The conditions from the node as the PATCH returned it: another writer (node-problem-detector)
  // may have changed one since the node was read, and a stale view would overwrite it.
  co_await applyConditions();
  if (stopped_ || !node_) co_return;
  // Recompute with the node as it is now (the annotation may have just been written).
  desired = desiredNow();
  maybeStartDrain(desired);
  if (desired.acknowledge && desired.active) acknowledgements_.start(desired.active->pending.event);
}

asio::awaitable<void> ActionEngine::applyNode(const DesiredNode& first) {
  DesiredNode desired = first;
  for (int attempt = 0; attempt <= kMaxConflictRetries && !stopped_; ++attempt) {
    auto patch = buildNodePatch(*node_, desired);
    if (!patch) co_return;
    const bool dry = deps_.dryRun;  // for the logs and the dry_run label only
    KubeResult r = co_await deps_.kube->patchNode(deps_.nodeName, patch->patch, PatchType::StrategicMerge);
    if (r.conflict()) {
      log::debug("node changed under us; re-reading", {{"attempt", attempt}});
      // Spread the retries (10 ms doubling to 320 ms): an API server or another writer that
      // answers 409 forever made the agent PATCH and GET ~17 times a second.
      if (attempt < kMaxConflictRetries) co_await deps_.timers.sleepFor(conflictRetryDelay(attempt));
      if (stopped_ || !co_await readNode()) co_return;
      desired = desiredNow();
      continue;
    }
    if (!r.ok()) {
      const std::string what = "PATCH node " + deps_.nodeName + ": HTTP " + std::to_string(r.status) + " " + r.message;
      log::error("cannot update the node", {{"error", what}});
      onKubeResult(false, what);
      if (patch->cordons) deps_.metrics.action(NodeAction::Cordon, false, dry).Increment();
      if (!patch->taintsAdded.empty() || !patch->taintsRemoved.empty()) {
        deps_.metrics.action(NodeAction::Taint, false, dry).Increment();
      }
      if (patch->uncordons) deps_.metrics.action(NodeAction::Uncordon, false, dry).Increment();
      node_.reset();  // re-read next pass
      co_return;
    }
    onKubeResult(true, {});
    conflictPasses_ = 0;
    if (auto view = parseNodeView(r.body)) node_ = std::move(view).value();
    deps_.metrics.nodeCordoned().Set(node_->unschedulable ? 1 : 0);
    if (!patch->taintsAdded.empty() || !patch->taintsRemoved.empty()) {
      deps_.metrics.action(NodeAction::Taint, true, dry).Increment();
      std::string added, removed;
      for (const auto& t : patch->taintsAdded) added += (added.empty() ? "" : ",") + t;
      for (const auto& t : patch->taintsRemoved) removed += (removed.empty() ? "" : ",") + t;
      log::info("node taints updated", {{"added", added}, {"removed", removed}, {"dryRun", dry}});
    }
    if (patch->cordons) {
      deps_.metrics.action(NodeAction::Cordon, true, dry).Increment();
      events_.record(desired.active ? events::cordoned(desired.active->pending.event) : events::cordonedByAgent());
      if (desired.active) {
        const auto& p = desired.active->pending;
        if (latencyObserved_.insert(p.event.eventId).second) {
          const double latency = std::chrono::duration<double>(deps_.timers.now() - p.firstSeen).count();
          deps_.metrics.eventDetectionLatency().Observe(latency);
          log::info("node cordoned", {{"eventId", p.event.eventId},
                                      {"eventType", toString(p.event.type)},
                                      {"detectionLatencySeconds", latency},
                                      {"dryRun", dry}});
        }
      }
    }
    if (patch->uncordons) {
      deps_.metrics.action(NodeAction::Uncordon, true, dry).Increment();
      events_.record(events::uncordoned());
      log::info("node uncordoned: the scheduled event ended", {{"dryRun", dry}});
    } else if (desired.undo) {
      log::info("scheduled event ended: removed the agent's taint and state", {{"dryRun", dry}});
    }
    co_return;
  }
  // Still conflicting after every retry of this pass: end the pass as a failed PATCH does, so
  // that run() comes back after its short backoff with a fresh read, instead of waiting for the
  // 10 s resync (a Preempt gives 30 s at best, and the drain waits for the cordon).
  if (!stopped_) {
    const std::string what = "PATCH node " + deps_.nodeName + ": still conflicting after " +
                             std::to_string(kMaxConflictRetries + 1) + " attempts";
    log::warn("cannot update the node", {{"error", what}});
    onKubeResult(false, what);
    // The re-reads of this pass succeeded and reset the failure count; conflicts count on
    // their own so that the passes themselves back off too (up to 5 s apart).
    ++conflictPasses_;
    node_.reset();  // re-read next pass
  }
}

asio::awaitable<void> ActionEngine::applyConditions() {
  DesiredNode desired = desiredNow();
  noteYielded(desired.yielded);
  auto patch = buildConditionPatch(*node_, desired.conditions, deps_.timers.time().systemTime());
  if (!patch) co_return;
  std::string types;
  for (const auto& t : patch->changedTypes) types += (types.empty() ? "" : ",") + t;
  // With the node's resourceVersion: a condition another writer changed since the agent read
  // the node answers 409, and the agent decides again from a fresh read instead of overwriting.
  KubeResult r;
  for (int attempt = 0;; ++attempt) {
    patch->patch.as_object()["metadata"] = boost::json::object{{"resourceVersion", node_->resourceVersion}};
    r = co_await deps_.kube->patchNodeStatus(deps_.nodeName, patch->patch);
    if (!r.conflict() || attempt == kMaxConflictRetries || stopped_) break;
    log::debug("node changed under us; re-reading before writing conditions", {{"attempt", attempt}});
    if (!co_await readNode()) co_return;
    desired = desiredNow();
    noteYielded(desired.yielded);
    patch = buildConditionPatch(*node_, desired.conditions, deps_.timers.time().systemTime());
    if (!patch) co_return;
    types.clear();
    for (const auto& t : patch->changedTypes) types += (types.empty() ? "" : ",") + t;
  }
  deps_.metrics.action(NodeAction::Condition, r.ok(), deps_.dryRun).Increment();
  if (!r.ok()) {
    log::error("cannot update node conditions", {{"status", r.status}, {"error", r.message}});
    onKubeResult(false, "PATCH node status: HTTP " + std::to_string(r.status) + " " + r.message);
    co_return;
  }
  onKubeResult(true, {});
  // A dry run said "dry run: would update node conditions" instead (dry_run_kube_client.cpp).
  if (!types.empty() && !deps_.dryRun) log::info("node conditions updated", {{"conditions", types}});
  if (auto view = parseNodeView(r.body)) node_ = std::move(view).value();
}

void ActionEngine::noteYielded(const std::vector<YieldedCondition>& yielded) {
  for (const auto& y : yielded) {
    if (!yieldedLogged_.insert(y.type + "/" + y.status + "/" + y.reason).second) continue;
    log::info("node condition belongs to another writer; leaving it alone",
              {{"condition", y.type}, {"status", y.status}, {"reason", y.reason}, {"message", y.message}});
  }
  // Once a type is the agent's again, a later takeover is news again.
  std::erase_if(yieldedLogged_, [&](const std::string& key) {
    return std::none_of(yielded.begin(), yielded.end(), [&](const YieldedCondition& y) {
      return key.starts_with(y.type + "/");
    });
  });
  yielded_ = yielded;
}

void ActionEngine::setPhase(const std::string& eventId, ActionPhase phase) {
  auto& p = localPhases_[eventId];
  if (phase > p) p = phase;
  // Bound the memory: phases of events that are no longer pending are not needed.
  if (localPhases_.size() > 64) {
    for (auto it = localPhases_.begin(); it != localPhases_.end();) {
      const bool live = std::any_of(pending_.begin(), pending_.end(),
                                    [&](const PendingEvent& e) { return e.event.eventId == it->first; });
      it = live ? std::next(it) : localPhases_.erase(it);
    }
  }
  kick();
}

void ActionEngine::maybeStartDrain(const DesiredNode& desired) {
  const std::string wanted = desired.drain && desired.active ? desired.active->pending.event.eventId : std::string();
  if (drain_.running()) {
    if (drain_.eventId() != wanted && !drain_.cancelled() &&
        !(desired.active && desired.active->pending.event.eventId == drain_.eventId())) {
      log::info("scheduled event ended during the drain: cancelling it", {{"eventId", drain_.eventId()}});
      drain_.cancel();
    }
    return;
  }
  // kubectl's order: cordon first. A cordon that did not land this pass (conflicts to the end)
  // would let evicted pods come straight back; the next pass tries again.
  if (wanted.empty() || !deps_.drainer || !node_ || !node_->unschedulable) return;
  drain_.start(*desired.active);
}

boost::json::object ActionEngine::statusJson() const {
  EngineStatusSnapshot s;
  s.pending = pending_;
  s.active = chooseActiveEvent(pending_, deps_.config);
  if (s.active) {
    auto it = localPhases_.find(s.active->pending.event.eventId);
    if (it != localPhases_.end()) s.localPhase = it->second;
  }
  s.node = node_;
  if (drain_.running()) {
    s.drainEventId = drain_.eventId();
    s.drainProgress = drain_.progress();
  }
  s.lastDrain = drain_.last();
  s.yielded = yielded_;
  s.probes = health_;
  s.kubeConfigured = deps_.kube != nullptr;
  s.kubeReady = kubeEverOk_;
  s.kubeLastError = deps_.kube ? lastKubeError_ : deps_.kubeNotConfiguredReason;
  return engineStatusJson(s);
}

}  // namespace aksnode
