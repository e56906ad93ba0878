#include "agent/kube/drainer_impl.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "agent/kube/kube_client.h"
#include "agent/kube/pod_info.h"
#include "agent/core/logging.h"
#include "metrics/metrics.h"

namespace aksnode {

namespace {

using std::chrono::milliseconds;

enum class PodState {
  Waiting,   // not asked yet
  Evicting,  // eviction POST in flight
  Blocked,   // last attempt refused; retry at nextAttempt
  Evicted,   // eviction accepted; waiting for the pod to be gone
  Gone,      // deleted (404, absent from the node's list, or replaced by a new UID)
  EmptyDir,  // not evicted: emptyDir data and deleteEmptyDirData=false
};

struct TrackedPod {
  PodInfo info;
  PodState state = PodState::Waiting;
  MonotonicTime nextAttempt{};
  std::string blockReason;  // DisruptionBudget, MultiplePdbs, Error, EmptyDir
  std::string blockMessage;
  std::uint64_t blockedCount = 0;  // refusals so far: varies the retry spread
};

long long millis(std::chrono::nanoseconds d) { return std::chrono::duration_cast<milliseconds>(d).count(); }

bool retryableListFailure(const KubeResult& r) {
  if (r.transport != HttpError::None) {
    return r.transport == HttpError::Timeout || r.transport == HttpError::Unreachable ||
           r.transport == HttpError::Protocol;
  }
  return r.status == 429 || r.status >= 500;
}

// One drain: shared by the main loop and the eviction / list coroutines it spawns.
struct DrainRun {
  DrainRun(KubeClient& c, Timers& t, Metrics* m, DrainOptions o, std::shared_ptr<CancelFlag> flag,
           std::function<void(const DrainProgress&)> progress)
      : client(c), timers(t), metrics(m), options(std::move(o)), cancel(std::move(flag)),
        onProgress(std::move(progress)), alarm(t.makeAlarm()) {
    options.parallelism = std::max(options.parallelism, 1);
    options.evictionRetryInterval = std::max(options.evictionRetryInterval, DrainerImpl::kMinInterval);
    options.podGonePollInterval = std::max(options.podGonePollInterval, DrainerImpl::kMinInterval);
    slowRetryInterval = std::max(options.evictionRetryInterval * 5, DrainerImpl::kSlowRetryFloor);
    fieldSelector = "spec.nodeName=" + options.nodeName;
  }

  KubeClient& client;
  Timers& timers;
  Metrics* metrics;
  DrainOptions options;
  std::shared_ptr<CancelFlag> cancel;
  std::function<void(const DrainProgress&)> onProgress;
  std::unique_ptr<Alarm> alarm;  // the main loop sleeps here; results wake it
  milliseconds slowRetryInterval{};
  std::string fieldSelector;

  std::optional<KubeResult> initialList;  // set by fetchInitialList
  std::vector<TrackedPod> pods;  // never resized once the drain loop starts
  std::vector<std::string> skipped;
  std::vector<std::string> unreplicated;
  int podsToEvict = 0;
  int inFlight = 0;
  bool listInFlight = false;
  bool finished = false;
  bool changed = true;
  int evictionsIssued = 0;
  MonotonicTime lastEvictionIssuedAt{};

  void countEviction(EvictionLabel result) {
    if (metrics != nullptr) metrics->podEvictions(result).Increment();
  }

  int remaining() const {
    return static_cast<int>(std::count_if(pods.begin(), pods.end(), [](const TrackedPod& p) {
      return p.state != PodState::Gone && p.state != PodState::EmptyDir;
    }));
  }

  DrainProgress progress() const {
    DrainProgress p;
    p.podsToEvict = podsToEvict;
    p.podsRemaining = remaining();
    p.evictionsIssued = evictionsIssued;
    p.skipped = skipped;
    p.unreplicated = unreplicated;
    for (const auto& pod : pods) {
      const bool blocked = pod.state == PodState::EmptyDir ||
                           ((pod.state == PodState::Blocked || pod.state == PodState::Evicting) &&
                            !pod.blockReason.empty());
      if (blocked) p.blocked.push_back(BlockedPod{pod.info.ns, pod.info.name, pod.blockReason, pod.blockMessage});
    }
    return p;
  }

  void report() {
    if (!changed || finished) return;
    changed = false;
    const DrainProgress p = progress();
    if (metrics != nullptr) metrics->drainPodsRemaining().Set(p.podsRemaining);
    if (onProgress) onProgress(p);
  }

  // retryAfter: the API server's Retry-After for this refusal; the next attempt then waits at
  // least that long (the drain still ends at its deadline, so the wait is capped by it).
  void setBlocked(TrackedPod& pod, const char* reason, const std::string& message, milliseconds retryIn,
                  std::optional<std::chrono::seconds> retryAfter = std::nullopt) {
    const bool news = pod.blockReason != reason || pod.blockMessage != message;
    pod.state = PodState::Blocked;
    // Spread the retries over [retryIn/2, retryIn]: pods blocked by one budget must not all
    // ask again at the same instant, or only one of them can win per interval even when the
    // budget frees up much sooner (a replacement turns Ready in well under a second).
    // Deterministic per pod and attempt, so tests stay reproducible.
    const auto spread = static_cast<std::uint64_t>(retryIn.count()) / 2;
    const std::uint64_t mix = (std::hash<std::string>{}(pod.info.uid) ^ (++pod.blockedCount * 0x9E3779B97F4A7C15ULL));
    const milliseconds jitter{spread == 0 ? 0 : static_cast<long long>(mix % (spread + 1))};
    pod.nextAttempt = timers.now() + retryIn - jitter;
    if (retryAfter) pod.nextAttempt = std::max(pod.nextAttempt, timers.now() + *retryAfter);
    pod.blockReason = reason;
    pod.blockMessage = message;
    if (news) {
      log::warn("eviction blocked", {{"namespace", pod.info.ns}, {"pod", pod.info.name}, {"reason", reason},
                                     {"message", message},
                                     {"retryInMs", static_cast<long long>(millis(pod.nextAttempt - timers.now()))}});
    } else {
      log::debug("eviction still blocked", {{"namespace", pod.info.ns}, {"pod", pod.info.name}, {"reason", reason}});
    }
  }

  void onEvictionResult(std::size_t index, const EvictionResult& r) {
    TrackedPod& pod = pods[index];
    const bool current = pod.state == PodState::Evicting && !finished;
    using Kind = EvictionResult::Kind;
    switch (r.kind) {
      case Kind::Evicted:
        countEviction(EvictionLabel::Evicted);
        log::info("pod evicted", {{"namespace", pod.info.ns}, {"pod", pod.info.name}, {"result", "evicted"}});
        if (current) {
          pod.state = PodState::Evicted;
          pod.blockReason.clear();
          pod.blockMessage.clear();
          ++evictionsIssued;
          lastEvictionIssuedAt = timers.now();
        }
        break;
      case Kind::NotFound:
        countEviction(EvictionLabel::NotFound);
        log::info("pod already gone", {{"namespace", pod.info.ns}, {"pod", pod.info.name}, {"result", "not_found"}});
        if (current) pod.state = PodState::Gone;
        break;
      case Kind::UidChanged:
        // The UID precondition failed: the pod listed was deleted; one of the same name (maybe
        // on another node) is not this drain's to evict.
        countEviction(EvictionLabel::NotFound);
        log::info("pod already gone: another pod has its name now",
                  {{"namespace", pod.info.ns}, {"pod", pod.info.name}, {"uid", pod.info.uid}, {"result", "not_found"}});
        if (current) pod.state = PodState::Gone;
        break;
      case Kind::BlockedByPdb:
        countEviction(EvictionLabel::BlockedPdb);
        if (current) setBlocked(pod, "DisruptionBudget", r.message, options.evictionRetryInterval, r.retryAfter);
        break;
      case Kind::MultiplePdbs:
        countEviction(EvictionLabel::BlockedPdb);
        if (current) setBlocked(pod, "MultiplePdbs", r.message, slowRetryInterval, r.retryAfter);
        break;
      case Kind::Error: {
        countEviction(EvictionLabel::Error);
        const bool hopeless = r.status >= 400 && r.status < 500 && r.status != 429;
        if (current) {
          setBlocked(pod, "Error", r.message, hopeless ? slowRetryInterval : options.evictionRetryInterval,
                     r.retryAfter);
        }
        break;
      }
    }
    changed = true;
    alarm->wake();
  }

  void onPodList(const KubeResult& r) {
    if (finished) return;
    if (!r.ok() || !r.body.is_array()) {
      log::warn("cannot list the node's pods to see which are gone; trying again",
                {{"node", options.nodeName}, {"status", r.status}, {"message", r.message}});
      alarm->wake();
      return;
    }
    std::map<std::string, std::string> present;  // ns/name -> uid
    for (const auto& item : r.body.get_array()) {
      if (auto pod = parsePod(item)) present.emplace(pod->key(), pod->uid);
    }
    for (auto& pod : pods) {
      if (pod.state == PodState::Gone) continue;
      const auto it = present.find(pod.info.key());
      const bool replaced = it != present.end() && !pod.info.uid.empty() && it->second != pod.info.uid;
      if (it == present.end() || replaced) {
        log::info("pod gone", {{"namespace", pod.info.ns}, {"pod", pod.info.name}, {"replaced", replaced}});
        pod.state = PodState::Gone;
        changed = true;
      }
    }
    alarm->wake();
  }

  std::string blockedSummary() const {
    std::string out;
    int listed = 0;
    for (const auto& pod : pods) {
      const bool blocked = pod.state == PodState::EmptyDir ||
                           (pod.state != PodState::Gone && !pod.blockReason.empty());
      if (!blocked) continue;
      if (listed == 10) {
        out += ", ...";
        break;
      }
      out += (listed++ == 0 ? "" : ", ") + pod.info.key() + " (" + pod.blockReason +
             (pod.blockMessage.empty() ? "" : ": " + pod.blockMessage) + ")";
    }
    return out;
  }
};

boost::asio::awaitable<void> evictOne(std::shared_ptr<DrainRun> run, std::size_t index) {
  const PodInfo info = run->pods[index].info;
  // KubeClient never throws (kube_client.h): every failure is in the result.
  const EvictionResult result = co_await run->client.evictPod(
      info.ns, info.name, info.uid, evictionGracePeriod(info, run->options.gracePeriodSecondsCap));
  --run->inFlight;
  run->onEvictionResult(index, result);
}

boost::asio::awaitable<void> checkGone(std::shared_ptr<DrainRun> run) {
  // Every podGonePollInterval while pods terminate: from the watch cache, not etcd.
  KubeResult result = co_await run->client.listPods(run->fieldSelector, ListSource::Cached);
  run->listInFlight = false;
  run->onPodList(result);
}

// The first LIST runs beside the main loop, so a hung API server (the client may spend
// several request timeouts on it) cannot hold the drain past its deadline or a cancel.
boost::asio::awaitable<void> fetchInitialList(std::shared_ptr<DrainRun> run) {
  // Consistent: the pods to evict must include any scheduled a moment ago.
  run->initialList = co_await run->client.listPods(run->fieldSelector, ListSource::Consistent);
  run->alarm->wake();
}

DrainOutcome finish(DrainRun& run, DrainResult result, std::string message, MonotonicTime start) {
  run.report();
  run.finished = true;
  DrainOutcome outcome;
  outcome.result = result;
  outcome.progress = run.progress();
  outcome.message = std::move(message);
  outcome.duration = std::chrono::duration_cast<milliseconds>(run.timers.now() - start);
  outcome.lastEvictionIssuedAt = run.lastEvictionIssuedAt;
  if (run.metrics != nullptr) run.metrics->drainPodsRemaining().Set(0);
  const auto level = result == DrainResult::Success ? log::Level::Info : log::Level::Warn;
  log::write(level, "drain finished",
             {{"node", run.options.nodeName}, {"result", toString(result)}, {"message", outcome.message},
              {"podsToEvict", outcome.progress.podsToEvict}, {"podsRemaining", outcome.progress.podsRemaining},
              {"evictionsIssued", outcome.progress.evictionsIssued},
              {"blocked", static_cast<long long>(outcome.progress.blocked.size())},
              {"durationMs", static_cast<long long>(outcome.duration.count())}});
  return outcome;
}

boost::asio::awaitable<DrainOutcome> evictPodsUntilGone(std::shared_ptr<DrainRun> run) {
  DrainRun& r = *run;
  const auto start = r.timers.now();
  const auto deadline = r.options.deadline;
  const auto executor = co_await boost::asio::this_coro::executor;

  if (r.options.nodeName.empty()) co_return finish(r, DrainResult::Error, "no node name", start);

  // 1. The node's pods. A failing API server gets retried until the deadline: during a spot
  //    eviction it may well recover in time; a 4xx will not.
  KubeResult list;
  for (;;) {
    if (r.cancel->cancelled) co_return finish(r, DrainResult::Cancelled, "cancelled before listing pods", start);
    if (r.timers.now() >= deadline) {
      co_return finish(r, DrainResult::Timeout, "deadline reached before the node's pods could be listed" +
                                                    (list.message.empty() ? "" : ": " + list.message), start);
    }
    r.initialList.reset();
    boost::asio::co_spawn(executor, fetchInitialList(run), boost::asio::detached);
    while (!r.initialList) {
      if (r.cancel->cancelled) co_return finish(r, DrainResult::Cancelled, "cancelled while listing pods", start);
      const auto now = r.timers.now();
      if (now >= deadline) {
        co_return finish(r, DrainResult::Timeout, "deadline reached while listing the node's pods", start);
      }
      co_await r.alarm->waitUntil(std::min(deadline, now + r.options.podGonePollInterval));
    }
    list = std::move(*r.initialList);
    if (list.ok()) break;
    if (!retryableListFailure(list)) {
      co_return finish(r, DrainResult::Error, "cannot list the node's pods: " + list.message, start);
    }
    log::warn("cannot list the node's pods; retrying", {{"node", r.options.nodeName}, {"status", list.status},
                                                         {"message", list.message}});
    co_await r.alarm->waitUntil(std::min(deadline, r.timers.now() + r.options.evictionRetryInterval));
  }
  if (!list.body.is_array()) co_return finish(r, DrainResult::Error, "pod list is not an array", start);

  // 2. kubectl's filters.
  int malformed = 0;
  std::set<std::string> seen;
  for (const auto& item : list.body.get_array()) {
    auto pod = parsePod(item);
    if (!pod) {
      ++malformed;
      continue;
    }
    if (!seen.insert(pod->key()).second) continue;
    const PodDecision decision = classifyPod(*pod, r.options);
    if (decision.disposition == PodDisposition::Skip) {
      if (decision.why.starts_with(kOnAnotherNode)) {
        log::warn("the API server listed a pod of another node for this node; not evicting it",
                  {{"namespace", pod->ns}, {"pod", pod->name}, {"why", decision.why}});
      } else {
        log::debug("pod not evicted", {{"namespace", pod->ns}, {"pod", pod->name}, {"why", decision.why}});
      }
      r.skipped.push_back(pod->key() + ": " + decision.why);
      continue;
    }
    TrackedPod tracked{*pod};
    if (decision.disposition == PodDisposition::Block) {
      tracked.state = PodState::EmptyDir;
      tracked.blockReason = "EmptyDir";
      tracked.blockMessage = "pod uses emptyDir and drain.deleteEmptyDirData is false";
      log::warn("pod not evicted: it uses emptyDir and drain.deleteEmptyDirData is false",
                {{"namespace", pod->ns}, {"pod", pod->name}});
    } else {
      ++r.podsToEvict;
      if (decision.unreplicated) {
        r.unreplicated.push_back(pod->key());
        log::warn("pod has no controller; evicting it anyway, it will not be recreated",
                  {{"namespace", pod->ns}, {"pod", pod->name}});
      }
    }
    r.pods.push_back(std::move(tracked));
  }
  if (malformed > 0) log::warn("ignored malformed pods in the node's pod list", {{"count", malformed}});
  log::info("drain started", {{"node", r.options.nodeName}, {"podsToEvict", r.podsToEvict},
                              {"skipped", static_cast<long long>(r.skipped.size())},
                              {"unreplicated", static_cast<long long>(r.unreplicated.size())},
                              {"parallelism", r.options.parallelism},
                              {"deadlineInMs", static_cast<long long>(millis(deadline - start))}});

  // 3. Evict, retry, watch pods go.
  MonotonicTime nextListAt = start + r.options.podGonePollInterval;
  for (;;) {
    const int remaining = r.remaining();
    if (remaining == 0) {
      const std::string blocked = r.blockedSummary();
      if (!blocked.empty()) {
        co_return finish(r, DrainResult::Error, "pods not evicted: " + blocked, start);
      }
      co_return finish(r, DrainResult::Success, "drained " + std::to_string(r.podsToEvict) + " pods", start);
    }
    if (r.cancel->cancelled) co_return finish(r, DrainResult::Cancelled, "cancelled", start);
    const auto now = r.timers.now();
    if (now >= deadline) {
      const std::string blocked = r.blockedSummary();
      co_return finish(r, DrainResult::Timeout,
                       "deadline reached with " + std::to_string(remaining) + " of " + std::to_string(r.podsToEvict) +
                           " pods remaining" + (blocked.empty() ? "" : "; blocked: " + blocked),
                       start);
    }

    // First attempts before retries, so every pod is asked as early as possible.
    for (PodState wanted : {PodState::Waiting, PodState::Blocked}) {
      for (std::size_t i = 0; i < r.pods.size() && r.inFlight < r.options.parallelism; ++i) {
        TrackedPod& pod = r.pods[i];
        if (pod.state != wanted || (wanted == PodState::Blocked && pod.nextAttempt > now)) continue;
        pod.state = PodState::Evicting;
        ++r.inFlight;
        boost::asio::co_spawn(executor, evictOne(run, i), boost::asio::detached);
      }
    }
    const bool awaitingGone = std::any_of(r.pods.begin(), r.pods.end(),
                                          [](const TrackedPod& p) { return p.state == PodState::Evicted; });
    if (awaitingGone && !r.listInFlight && now >= nextListAt) {
      r.listInFlight = true;
      nextListAt = now + r.options.podGonePollInterval;
      boost::asio::co_spawn(executor, checkGone(run), boost::asio::detached);
    }

    r.report();
    // Sleep until something is due; results wake the alarm early. Never longer than one poll
    // interval, so a cancel is noticed promptly.
    MonotonicTime wakeAt = std::min(deadline, now + r.options.podGonePollInterval);
    if (awaitingGone && !r.listInFlight) wakeAt = std::min(wakeAt, nextListAt);
    if (r.inFlight < r.options.parallelism) {
      for (const auto& pod : r.pods) {
        if (pod.state == PodState::Blocked) wakeAt = std::min(wakeAt, pod.nextAttempt);
      }
    }
    co_await r.alarm->waitUntil(wakeAt);
  }
}

}  // namespace

DrainerImpl::DrainerImpl(KubeClient& client, Timers& timers, Metrics* metrics)
    : client_(client), timers_(timers), metrics_(metrics) {}

boost::asio::awaitable<DrainOutcome> DrainerImpl::drain(DrainOptions options, std::shared_ptr<CancelFlag> cancel,
                                                        std::function<void(const DrainProgress&)> onProgress) {
  if (!cancel) cancel = std::make_shared<CancelFlag>();
  auto run = std::make_shared<DrainRun>(client_, timers_, metrics_, std::move(options), std::move(cancel),
                                        std::move(onProgress));
  co_return co_await evictPodsUntilGone(run);
}

}  // namespace aksnode
