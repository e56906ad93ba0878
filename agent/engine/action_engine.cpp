#include "agent/engine/action_engine.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/json.hpp>

#include <algorithm>

#include "agent/engine/node_patch.h"
#include "agent/kube/kube_client.h"
#include "agent/core/timers.h"
#include "agent/core/secret_redaction.h"
#include "agent/core/logging.h"
#include "metrics/metrics.h"
#include "probes/scheduled_events/event_json.h"
#include "agent/http/http_date.h"
#include "probes/scheduled_events/imds_client.h"

namespace aksnode {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

namespace {
constexpr int kMaxConflictRetries = 8;
constexpr std::chrono::seconds kCordonLateAfter{5};

std::chrono::milliseconds conflictRetryDelay(int attempt) {
  return std::chrono::milliseconds(10 << std::min(attempt, 5));
}
// The earliest a drain may give up: evictions are worth issuing even when NotBefore has
// already passed (an imminent or Started event), since the pods then get their SIGTERM.
constexpr std::chrono::seconds kMinDrainWindow{2};

std::string describeEvent(const ScheduledEvent& e) {
  return std::string(toString(e.type)) + " event " + e.eventId +
         (e.notBefore ? ", NotBefore " + formatRfc3339(*e.notBefore) : std::string(", imminent"));
}

EventSubject subjectOf(const ScheduledEvent& e) {
  return EventSubject{toString(e.type), e.eventId, e.notBefore};
}

}  // namespace

ActionEngine::ActionEngine(asio::any_io_executor executor, ActionEngineDeps deps)
    : executor_(executor),
      deps_(std::move(deps)),
      events_(executor, deps_.kube, deps_.timers.time(), deps_.nodeName, deps_.dryRun),
      debouncer_(deps_.config.healthThreshold),
      alarm_(deps_.timers.makeAlarm()),
      watchAlarm_(deps_.timers.makeAlarm()) {
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
  if (!acting && drain_) {
    log::warn("another agent now holds this node's lease: abandoning the drain to it", {{"eventId", drain_->eventId}});
    drain_->cancel->cancelled = true;
  }
  kick();
}

void ActionEngine::stop() {
  stopped_ = true;
  if (drain_) drain_->cancel->cancelled = true;
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
    const auto& e = c.event.event;
    events_.record(isFatal(e.type) ? "Warning" : "Normal", "ScheduledEvent",
                   describeEvent(e) + " for VM " + vmName_ + (e.description.empty() ? "" : ": " + e.description),
                   subjectOf(e));
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
    auto both = reconcileLoop() && watchCordon();  // named: see the GCC 12 note in ARCHITECTURE.md
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
    // A dry run keeps its simulated node: re-reading the untouched real one would make the
    // same decisions again every resync (logged, counted in aksnode_actions_total again).
    const bool due = deps_.timers.now() >= nextResync;
    const bool fresh = !node_ || (due && !deps_.dryRun);
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
  std::string problem;
  auto view = parseNodeView(r.body, &problem);
  if (view && view->name != deps_.nodeName) {
    view.reset();
    problem = "metadata.name is not " + deps_.nodeName;
  }
  if (!view) {
    // Not patched: every write is computed from this object (arch/FAULTS.md: a Node that cannot be
    // read faithfully is never patched). Retried with the reconcile backoff like any failed GET.
    deps_.metrics.nodeUnreadable().Increment();
    std::string what = "GET node " + deps_.nodeName + ": the API server's answer cannot be read faithfully (" +
                       problem + "); not patching the node";
    log::warn("node not patched: unreadable Node object", {{"error", what}});
    onKubeResult(false, what);
    co_return false;
  }
  onKubeResult(true, {});
  node_ = std::move(view);
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
  if (desired.acknowledge && desired.active && !ackInFlight_.count(desired.active->pending.event.eventId)) {
    ackInFlight_.insert(desired.active->pending.event.eventId);
    asio::co_spawn(executor_, acknowledge(*desired.active), asio::detached);
  }
}

asio::awaitable<void> ActionEngine::applyNode(const DesiredNode& first) {
  DesiredNode desired = first;
  for (int attempt = 0; attempt <= kMaxConflictRetries && !stopped_; ++attempt) {
    auto patch = buildNodePatch(*node_, desired);
    if (!patch) co_return;
    const bool dry = deps_.dryRun;
    if (dry) {
      log::info("dry run: would patch the node", {{"patch", boost::json::serialize(patch->patch)}});
    } else {
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
        if (patch->cordons) deps_.metrics.action("cordon", false, false).Increment();
        if (!patch->taintsAdded.empty() || !patch->taintsRemoved.empty()) {
          deps_.metrics.action("taint", false, false).Increment();
        }
        if (patch->uncordons) deps_.metrics.action("uncordon", false, false).Increment();
        node_.reset();  // re-read next pass
        co_return;
      }
      onKubeResult(true, {});
      conflictPasses_ = 0;
      if (auto view = parseNodeView(r.body)) node_ = std::move(view);
    }
    if (dry) {
      // Keep a simulated node so the same decision is not logged on every pass.
      if (const auto* spec = patch->patch.as_object().if_contains("spec")) {
        if (const auto* t = spec->as_object().if_contains("taints")) node_->taints = t->as_array();
        if (const auto* u = spec->as_object().if_contains("unschedulable")) node_->unschedulable = u->as_bool();
      }
      node_->agentState = desired.annotation;
      node_->agentStateUnreadable = false;
    }
    deps_.metrics.nodeCordoned().Set(node_->unschedulable ? 1 : 0);
    if (!patch->taintsAdded.empty() || !patch->taintsRemoved.empty()) {
      deps_.metrics.action("taint", true, dry).Increment();
      std::string added, removed;
      for (const auto& t : patch->taintsAdded) added += (added.empty() ? "" : ",") + t;
      for (const auto& t : patch->taintsRemoved) removed += (removed.empty() ? "" : ",") + t;
      log::info("node taints updated", {{"added", added}, {"removed", removed}, {"dryRun", dry}});
    }
    if (patch->cordons) {
      deps_.metrics.action("cordon", true, dry).Increment();
      std::string why = desired.active ? describeEvent(desired.active->pending.event) : std::string("agent action");
      events_.record("Warning", "Cordoned", "Cordoned for " + why,
                     desired.active ? subjectOf(desired.active->pending.event) : EventSubject{});
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
      deps_.metrics.action("uncordon", true, dry).Increment();
      events_.record("Normal", "Uncordoned", "The scheduled event ended; undoing the agent's cordon");
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
  if (deps_.dryRun) {
    log::info("dry run: would update node conditions", {{"conditions", types}});
    deps_.metrics.action("condition", true, true).Increment();
    for (const auto& c : patch->patch.at("status").at("conditions").as_array()) {
      NodeCondition nc;
      nc.type = std::string(c.at("type").as_string());
      nc.status = std::string(c.at("status").as_string());
      nc.reason = std::string(c.at("reason").as_string());
      nc.message = std::string(c.at("message").as_string());
      nc.lastHeartbeatTime = std::string(c.at("lastHeartbeatTime").as_string());
      nc.lastTransitionTime = std::string(c.at("lastTransitionTime").as_string());
      node_->conditions[nc.type] = nc;
    }
    co_return;
  }
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
  deps_.metrics.action("condition", r.ok(), false).Increment();
  if (!r.ok()) {
    log::error("cannot update node conditions", {{"status", r.status}, {"error", r.message}});
    onKubeResult(false, "PATCH node status: HTTP " + std::to_string(r.status) + " " + r.message);
    co_return;
  }
  onKubeResult(true, {});
  if (!types.empty()) log::info("node conditions updated", {{"conditions", types}});
  if (auto view = parseNodeView(r.body)) node_ = std::move(view);
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
  if (drain_) {
    if (drain_->eventId != wanted && !drain_->cancel->cancelled &&
        !(desired.active && desired.active->pending.event.eventId == drain_->eventId)) {
      log::info("scheduled event ended during the drain: cancelling it", {{"eventId", drain_->eventId}});
      drain_->cancel->cancelled = true;
    }
    return;
  }
  // kubectl's order: cordon first. A cordon that did not land this pass (conflicts to the end)
  // would let evicted pods come straight back; the next pass tries again.
  if (wanted.empty() || !deps_.drainer || !node_ || !node_->unschedulable) return;
  auto cancel = std::make_shared<CancelFlag>();
  drain_ = RunningDrain{wanted, toString(desired.active->pending.event.type), cancel, {}, deps_.timers.now(), {}};
  asio::co_spawn(executor_, runDrain(*desired.active, cancel), asio::detached);
}

asio::awaitable<void> ActionEngine::runDrain(ActiveEvent active, std::shared_ptr<CancelFlag> cancel) {
  const auto& ev = active.pending.event;
  const auto& cfg = deps_.config.drain;
  const MonotonicTime now = deps_.timers.now();
  const SystemTime wallNow = deps_.timers.time().systemTime();
  MonotonicTime deadline = now + cfg.timeout;
  const MonotonicTime notBefore =
      now + std::chrono::duration_cast<std::chrono::nanoseconds>(active.pending.deadline - wallNow);
  deadline = std::min(deadline, notBefore - cfg.deadlineMargin);
  deadline = std::max(deadline, now + kMinDrainWindow);

  setPhase(ev.eventId, ActionPhase::Draining);
  deps_.metrics.action("drain", true, deps_.dryRun).Increment();
  const double secondsLeft = std::chrono::duration<double>(deadline - now).count();
  events_.record("Warning", "DrainStarted",
                 "Draining for " + describeEvent(ev) + "; deadline in " + std::to_string(static_cast<int>(secondsLeft)) + "s",
                 subjectOf(ev));
  log::warn("drain started", {{"eventId", ev.eventId}, {"eventType", toString(ev.type)}, {"deadlineSeconds", secondsLeft},
                              {"dryRun", deps_.dryRun}});

  DrainOutcome outcome;
  if (deps_.dryRun) {
    outcome.result = DrainResult::Success;
    outcome.message = "dry run: no pod evicted";
  } else {
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
    // Named, not a temporary in the co_await expression: GCC 12 destroys such a temporary
    // lambda twice (a double free seen under ASan).
    std::function<void(const DrainProgress&)> onProgress = [this, id = ev.eventId,
                                                             subject = subjectOf(ev)](const DrainProgress& progress) {
      if (!drain_ || drain_->eventId != id) return;
      drain_->progress = progress;
      for (const auto& b : progress.blocked) {
        const std::string key = b.ns + "/" + b.name;
        // One Event per blocked pod per drain, and at most 20: Events are for people.
        if (drain_->blockedReported.size() < 20 && drain_->blockedReported.insert(key).second) {
          events_.record("Warning", "EvictionBlocked", "Eviction of pod " + key + " blocked (" + b.reason + "): " + b.message,
                         subject);
        }
      }
    };
    outcome = co_await deps_.drainer->drain(options, cancel, std::move(onProgress));
  }
  const double seconds = std::chrono::duration<double>(deps_.timers.now() - now).count();
  const char* result = outcome.result == DrainResult::Success   ? "success"
                       : outcome.result == DrainResult::Timeout ? "timeout"
                                                                : "error";
  boost::json::object last{{"eventId", ev.eventId},
                           {"result", toString(outcome.result)},
                           {"seconds", seconds},
                           {"message", outcome.message},
                           {"podsEvicted", outcome.progress.evictionsIssued},
                           {"podsRemaining", outcome.progress.podsRemaining}};
  lastDrain_ = std::move(last);
  if (outcome.result == DrainResult::Cancelled) {
    log::info("drain cancelled", {{"eventId", ev.eventId}, {"seconds", seconds}});
  } else {
    deps_.metrics.drainDuration(result).Observe(seconds);
    if (outcome.result == DrainResult::Success) {
      events_.record("Normal", "DrainSucceeded",
                     "Drained in " + std::to_string(seconds).substr(0, 5) + "s for " + describeEvent(ev), subjectOf(ev));
      log::info("drain succeeded", {{"eventId", ev.eventId}, {"seconds", seconds},
                                    {"evicted", outcome.progress.evictionsIssued}});
      setPhase(ev.eventId, ActionPhase::Drained);
    } else {
      std::string blocked;
      for (const auto& b : outcome.progress.blocked) blocked += (blocked.empty() ? "" : ", ") + b.ns + "/" + b.name;
      events_.record("Warning", "DrainFailed",
                     std::string("Drain ") + result + " after " + std::to_string(static_cast<int>(seconds)) + "s: " +
                         outcome.message + (blocked.empty() ? "" : "; blocked: " + blocked),
                     subjectOf(ev));
      log::error("drain failed", {{"eventId", ev.eventId}, {"result", result}, {"seconds", seconds},
                                  {"message", outcome.message}, {"blocked", blocked},
                                  {"podsRemaining", outcome.progress.podsRemaining}});
      deps_.metrics.action("drain", false, deps_.dryRun).Increment();
      setPhase(ev.eventId, ActionPhase::Failed);
    }
  }
  deps_.metrics.drainPodsRemaining().Set(outcome.result == DrainResult::Success ? 0 : outcome.progress.podsRemaining);
  drain_.reset();
  kick();
}

asio::awaitable<void> ActionEngine::acknowledge(ActiveEvent active) {
  const ScheduledEvent ev = active.pending.event;
  if (deps_.dryRun || !deps_.imds) {
    finishAcknowledge(ev, true, "dry run");
    co_return;
  }
  std::string message;
  std::vector<std::string> ids;
  ids.push_back(ev.eventId);
  ImdsOutcome outcome = co_await deps_.imds->acknowledge(std::move(ids), &message);
  finishAcknowledge(ev, outcome == ImdsOutcome::Ok, message);
}

// Outside the coroutine on purpose: GCC 12 miscompiles braced log-field lists in some coroutines.
void ActionEngine::finishAcknowledge(const ScheduledEvent& ev, bool ok, const std::string& message) {
  deps_.metrics.action("acknowledge", ok, deps_.dryRun || !deps_.imds).Increment();
  ackInFlight_.erase(ev.eventId);
  if (!ok) {
    log::error("cannot acknowledge the scheduled event", {{"eventId", ev.eventId}, {"error", message}});
    return;  // the next pass tries again while the event is pending and drained
  }
  if (deps_.dryRun || !deps_.imds) {
    log::info("dry run: would acknowledge the scheduled event", {{"eventId", ev.eventId}});
  } else {
    events_.record("Normal", "EventAcknowledged", "Approved " + describeEvent(ev) + " after the drain", subjectOf(ev));
    log::info("scheduled event acknowledged", {{"eventId", ev.eventId}, {"eventType", toString(ev.type)}});
  }
  setPhase(ev.eventId, ActionPhase::Acknowledged);
}

boost::json::object ActionEngine::statusJson() const {
  boost::json::object o;
  boost::json::array pending;
  for (const auto& p : pending_) pending.push_back(toJson(p));
  o["pendingEvents"] = std::move(pending);
  auto active = chooseActiveEvent(pending_, deps_.config);
  if (active) {
    boost::json::object a{{"eventId", active->pending.event.eventId},
                          {"eventType", toString(active->pending.event.type)},
                          {"action", toString(active->action)}};
    if (node_ && node_->agentState && node_->agentState->eventId == active->pending.event.eventId) {
      a["phase"] = toString(node_->agentState->phase);
    }
    auto it = localPhases_.find(active->pending.event.eventId);
    if (it != localPhases_.end()) a["localPhase"] = toString(it->second);
    o["currentAction"] = std::move(a);
  } else {
    o["currentAction"] = nullptr;
  }
  if (drain_) {
    boost::json::array blocked;
    for (const auto& b : drain_->progress.blocked) {
      blocked.push_back({{"namespace", b.ns}, {"name", b.name}, {"reason", b.reason}, {"message", b.message}});
    }
    o["drain"] = {{"eventId", drain_->eventId},
                  {"running", true},
                  {"podsToEvict", drain_->progress.podsToEvict},
                  {"podsRemaining", drain_->progress.podsRemaining},
                  {"evictionsIssued", drain_->progress.evictionsIssued},
                  {"blocked", std::move(blocked)}};
  } else if (lastDrain_) {
    o["drain"] = *lastDrain_;
  } else {
    o["drain"] = nullptr;
  }
  if (node_) {
    boost::json::object n{{"name", node_->name},
                          {"unschedulable", node_->unschedulable},
                          {"resourceVersion", node_->resourceVersion}};
    if (node_->agentState) n["agentState"] = boost::json::parse(serializeAnnotation(*node_->agentState));
    o["node"] = std::move(n);
  }
  boost::json::array yielded;
  for (const auto& y : yielded_) {
    yielded.push_back({{"type", y.type}, {"status", y.status}, {"reason", y.reason}, {"message", y.message},
                       {"owner", "another writer (e.g. node-problem-detector)"}});
  }
  o["conditionsLeftToOthers"] = std::move(yielded);
  boost::json::array probes;
  for (const auto& r : health_) probes.push_back(probeResultJson(r));
  o["probes"] = std::move(probes);
  o["kubernetes"] = {{"configured", deps_.kube != nullptr},
                     {"ready", kubeEverOk_},
                     {"lastError", deps_.kube ? lastKubeError_ : deps_.kubeNotConfiguredReason}};
  return o;
}

}  // namespace aksnode
