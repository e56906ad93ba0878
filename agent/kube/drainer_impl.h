#pragma once
// Drainer with kubectl drain's semantics, built for a spot eviction's deadline:
// - one LIST of the node's pods, kubectl's filters (pod_info.h);
// - every eviction issued at once, at most `parallelism` POSTs in flight; a pod waiting for a
//   PodDisruptionBudget holds no slot, it retries every evictionRetryInterval;
// - "gone" is checked with one paginated LIST of the node's pods per podGonePollInterval
//   (absent, or present with a new UID), never one GET per pod: 250 pods cost one request
//   per interval, not 250. Those repeated LISTs use resourceVersion=0 (the watch cache); only
//   the first LIST is a quorum read.
// - every eviction carries the listed pod's UID as a precondition: a pod deleted and recreated
//   under the same name (a StatefulSet pod, now maybe on another node) is never evicted by a
//   retry; the 409 means the pod the drain meant is gone.
// - every wait (the first LIST included) is bounded by the deadline and the CancelFlag, which
//   is checked at least every podGonePollInterval.
// Decisions worth knowing:
// - 500 "more than one PodDisruptionBudget": reported as MultiplePdbs and retried at the slow
//   rate (max(5 x evictionRetryInterval, 5 s)) until the deadline: retrying cannot fix it, but
//   an operator can, and the VM goes away at the deadline anyway.
// - Other 4xx answers (403: RBAC) are retried at the slow rate too; transport errors, 5xx and
//   throttling 429s at evictionRetryInterval, and never sooner than the answer's Retry-After
//   (API server overload answers 429 with Retry-After and no DisruptionBudget cause); the
//   deadline still ends the drain.
// - emptyDir pods with deleteEmptyDirData=false are never evicted; once every other pod is
//   gone the drain ends with Error instead of waiting for the deadline.
// - On Timeout or Cancelled no new request is issued; evictions already in flight complete
//   in the background (they cannot be recalled).
// - aksnode_drain_pods_remaining follows the running drain and is 0 once it returns.
#include <chrono>

#include "agent/kube/drainer.h"
#include "agent/core/timers.h"

namespace aksnode {

class DrainerImpl final : public Drainer {
 public:
  static constexpr std::chrono::milliseconds kMinInterval{10};
  static constexpr std::chrono::milliseconds kSlowRetryFloor{5000};

  // client, timers and metrics must outlive every drain (also its in-flight evictions).
  DrainerImpl(KubeClient& client, Timers& timers, Metrics* metrics = nullptr);

  boost::asio::awaitable<DrainOutcome> drain(DrainOptions options, std::shared_ptr<CancelFlag> cancel,
                                             std::function<void(const DrainProgress&)> onProgress) override;

 private:
  KubeClient& client_;
  Timers& timers_;
  Metrics* metrics_;
};

}  // namespace aksnode
