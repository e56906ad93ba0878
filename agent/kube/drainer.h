#pragma once
// Drain with kubectl's semantics (see arch/ARCHITECTURE.md "Drain"): list the node's pods,
// skip DaemonSet-owned, mirror, finished and the agent's own pod, evict the rest through
// policy/v1 in parallel, retry 429 (PodDisruptionBudget) until the deadline, and wait for
// each pod to be gone (404 or a new UID).
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/time_source.h"
#include "metrics/metric_labels.h"  // DrainResult

namespace aksnode {

class KubeClient;
class Metrics;

struct DrainOptions {
  std::string nodeName;
  MonotonicTime deadline;                   // min(now + drain.timeout, NotBefore - margin)
  std::optional<int> gracePeriodSecondsCap;  // from drain.podGracePeriodCap
  bool deleteEmptyDirData = true;
  std::vector<std::string> skipNamespaces;
  std::string ownPodNamespace;  // POD_NAMESPACE / POD_NAME from the downward API
  std::string ownPodName;
  int parallelism = 32;
  std::chrono::milliseconds evictionRetryInterval{1000};
  std::chrono::milliseconds podGonePollInterval{500};
};

struct BlockedPod {
  std::string ns;
  std::string name;
  std::string reason;   // DisruptionBudget, MultiplePdbs, Error
  std::string message;  // the API server's explanation
};

struct DrainProgress {
  int podsToEvict = 0;   // after filtering
  int podsRemaining = 0; // not yet gone
  int evictionsIssued = 0;
  std::vector<BlockedPod> blocked;  // currently blocked (latest reason per pod)
  std::vector<std::string> skipped; // "ns/name: why" (DaemonSet, mirror, finished, own pod)
  // Additive: "ns/name" of pods evicted although no controller owns them (kubectl's --force):
  // they will not be recreated anywhere.
  std::vector<std::string> unreplicated;
};

struct DrainOutcome {
  DrainResult result = DrainResult::Error;
  DrainProgress progress;
  std::string message;
  std::chrono::milliseconds duration{0};
  MonotonicTime lastEvictionIssuedAt{};  // for benchmarks: time of the last eviction POST accepted
};

// Shared flag checked between steps: set by the engine when the event ends or on shutdown.
struct CancelFlag {
  bool cancelled = false;
};

class Drainer {
 public:
  virtual ~Drainer() = default;
  // onProgress is called on the event loop whenever progress changes (for /status, metrics).
  virtual boost::asio::awaitable<DrainOutcome> drain(DrainOptions options,
                                                     std::shared_ptr<CancelFlag> cancel,
                                                     std::function<void(const DrainProgress&)> onProgress) = 0;
};

}  // namespace aksnode
