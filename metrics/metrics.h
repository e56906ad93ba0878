#pragma once
// Every metric of the agent, defined in one place (docs/metrics.md lists them;
// tests/integration/agent_metrics_doc_test.py holds the two together). Label values are bounded
// by construction: the helpers below take enums or config-derived strings (paths, event types),
// never pod names, event ids or token content.
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <vector>

#include "metrics/metric_labels.h"

namespace aksnode {

struct Config;

class Metrics {
 public:
  // Registers every family and initialises its known label sets to 0.
  explicit Metrics(const Config& config);
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Prometheus text format 0.0.4.
  std::string serialize() const;
  prometheus::Registry& registry() { return *registry_; }

  // --- IMDS ----------------------------------------------------------------------------
  prometheus::Counter& imdsRequest(ImdsEndpoint endpoint, ImdsOutcome result);
  prometheus::Histogram& imdsDuration(ImdsEndpoint endpoint);
  prometheus::Gauge& imdsDocumentIncarnation();
  prometheus::Gauge& scheduledEvents(const std::string& type, const std::string& status);
  prometheus::Counter& scheduledEventsSeen(const std::string& type);
  prometheus::Gauge& evictionPending();
  prometheus::Gauge& evictionNotBefore();
  prometheus::Histogram& eventDetectionLatency();
  // Extensions beyond the contract.
  prometheus::Counter& imdsEventsIgnored(IgnoredEventReason reason);

  // --- Node actions ----------------------------------------------------------------------
  prometheus::Gauge& nodeCordoned();
  prometheus::Counter& action(NodeAction action, bool success, bool dryRun);
  prometheus::Histogram& drainDuration(DrainResult result);
  prometheus::Gauge& drainPodsRemaining();
  prometheus::Counter& podEvictions(EvictionLabel result);
  prometheus::Counter& kubeRequest(const std::string& verb, const std::string& resource,
                                   const std::string& code);
  // Extension: a GET of the Node that could not be read faithfully (not patched).
  prometheus::Counter& nodeUnreadable();

  // --- Webhook notifications (agent/notify) ------------------------------------------------
  // webhook: a configured name (bounded by the config loader).
  prometheus::Counter& notification(const std::string& webhook, NotificationResult result);
  // Extension: notices dropped from a webhook's full queue (oldest first).
  prometheus::Counter& notificationsDropped(const std::string& webhook);

  // --- The agent's own HTTP server (extension) -------------------------------------------
  prometheus::Counter& serverConnectionsShed(ShedReason reason);

  // --- Disks and caches ------------------------------------------------------------------
  prometheus::Gauge& diskHealthy(const std::string& path);
  prometheus::Gauge& diskFreeBytes(const std::string& path);
  prometheus::Gauge& diskSizeBytes(const std::string& path);
  prometheus::Gauge& diskFreeInodesRatio(const std::string& path);
  prometheus::Gauge& diskReadOnly(const std::string& path);
  prometheus::Histogram& diskProbeDuration(const std::string& path);
  prometheus::Gauge& cacheHealthy(const std::string& path);
  prometheus::Gauge& cacheUsedBytes(const std::string& path);

  // --- Identity --------------------------------------------------------------------------
  prometheus::Gauge& identityTokenValid();
  prometheus::Gauge& identityTokenExpiry();
  // result: "ok" or a failure reason: the reasons are probes/identity's (token_reason.h,
  // token_exchange.h), which register them at start-up, hence a string.
  prometheus::Counter& identityCheck(const std::string& result);
  prometheus::Counter& identityExchange(const std::string& result);
  prometheus::Gauge& identityPodsMisconfigured(const std::string& ns);

  // Histogram bucket layouts, shared with tests.
  static prometheus::Histogram::BucketBoundaries imdsLatencyBuckets();
  static prometheus::Histogram::BucketBoundaries detectionLatencyBuckets();
  static prometheus::Histogram::BucketBoundaries drainDurationBuckets();
  static prometheus::Histogram::BucketBoundaries diskProbeBuckets();

 ~Metrics();

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  struct Families;
  std::unique_ptr<Families> f_;
};

// HTTP status -> the `code` label of aksnode_kube_requests_total ("2xx", "4xx", "429", "5xx").
std::string kubeCodeClass(int httpStatus);

}  // namespace aksnode
