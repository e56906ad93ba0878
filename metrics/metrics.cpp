#include "metrics/metrics.h"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <array>
#include <sstream>

#include "agent/config/config.h"
#include "agent/core/event_type.h"
#include "build_info.h"

namespace aksnode {

namespace {
using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

constexpr std::array kEventStatuses{"Scheduled", "Started"};

// Families labelled by configured webhooks have no series without webhooks, and prometheus-cpp
// leaves a family without series out of the text entirely; every family is exposed from
// start-up (docs/metrics.md), so serialize() announces these (HELP and TYPE, no sample).
struct Announced {
  const char* name;
  const char* help;
};
constexpr Announced kNotificationsFamily{
    "aksnode_notifications_total",
    "Webhook notices by webhook and result (ok: a 2xx answer; error: refused or failed after the retries; "
    "timeout: no answer within the webhook's budget)."};
constexpr Announced kNotificationsDroppedFamily{
    "aksnode_notifications_dropped_total",
    "Webhook notices dropped unsent because the webhook's queue was full (the oldest goes first)."};
constexpr std::array kAnnouncedWhenEmpty{kNotificationsFamily, kNotificationsDroppedFamily};
constexpr std::array kCodes{"2xx", "4xx", "429", "5xx", "error"};
// The (verb, resource) pairs the Kubernetes client issues; see agent/kube/kube_client_impl.cpp.
constexpr std::array<std::array<const char*, 2>, 11> kKubeCalls{{{"get", "nodes"},
                                                                {"patch", "nodes"},
                                                                {"patch", "nodes/status"},
                                                                {"list", "pods"},
                                                                {"get", "pods"},
                                                                {"create", "pods/eviction"},
                                                                {"create", "events"},
                                                                {"patch", "events"},
                                                                {"get", "leases"},
                                                                {"create", "leases"},
                                                                {"update", "leases"}}};
}  // namespace

struct Metrics::Families {
  explicit Families(prometheus::Registry& r)
      : buildInfo(BuildGauge()
                      .Name("aksnode_build_info")
                      .Help("Build of the running agent; always 1.")
                      .Register(r)),
        imdsRequests(BuildCounter()
                         .Name("aksnode_imds_requests_total")
                         .Help("IMDS requests by endpoint and result (imds_endpoint = endpoint).")
                         .Register(r)),
        imdsDuration(BuildHistogram()
                         .Name("aksnode_imds_request_duration_seconds")
                         .Help("IMDS request latency, including failed requests.")
                         .Register(r)),
        imdsIncarnation(BuildGauge()
                            .Name("aksnode_imds_document_incarnation")
                            .Help("DocumentIncarnation of the last good Scheduled Events document.")
                            .Register(r)),
        scheduledEvents(BuildGauge()
                            .Name("aksnode_scheduled_events")
                            .Help("Scheduled events pending for this VM.")
                            .Register(r)),
        scheduledEventsSeen(BuildCounter()
                                .Name("aksnode_scheduled_events_seen_total")
                                .Help("Distinct scheduled event ids seen for this VM.")
                                .Register(r)),
        eventsIgnored(BuildCounter()
                          .Name("aksnode_scheduled_events_ignored_total")
                          .Help("Events not acted on, by reason (other_vm, unknown_type, "
                                "invalid).")
                          .Register(r)),
        evictionPending(BuildGauge()
                            .Name("aksnode_eviction_pending")
                            .Help("1 while a Preempt or Terminate event is pending for this VM.")
                            .Register(r)),
        evictionNotBefore(BuildGauge()
                              .Name("aksnode_eviction_not_before_timestamp_seconds")
                              .Help("Unix time of the earliest pending NotBefore (0 if none).")
                              .Register(r)),
        detectionLatency(BuildHistogram()
                             .Name("aksnode_event_detection_latency_seconds")
                             .Help("From the first poll that returned an event to the cordon "
                                   "accepted by the API server.")
                             .Register(r)),
        nodeCordoned(BuildGauge()
                         .Name("aksnode_node_cordoned")
                         .Help("1 while the node is unschedulable.")
                         .Register(r)),
        actions(BuildCounter()
                    .Name("aksnode_actions_total")
                    .Help("Node actions decided, by action and result.")
                    .Register(r)),
        drainDuration(BuildHistogram()
                          .Name("aksnode_drain_duration_seconds")
                          .Help("Duration of drains, by result.")
                          .Register(r)),
        drainPodsRemaining(BuildGauge()
                               .Name("aksnode_drain_pods_remaining")
                               .Help("Pods still to be evicted by the running drain.")
                               .Register(r)),
        podEvictions(BuildCounter()
                         .Name("aksnode_pod_evictions_total")
                         .Help("Eviction requests by result.")
                         .Register(r)),
        kubeRequests(BuildCounter()
                         .Name("aksnode_kube_requests_total")
                         .Help("Kubernetes API requests by verb, resource and status class.")
                         .Register(r)),
        diskHealthy(BuildGauge()
                        .Name("aksnode_disk_healthy")
                        .Help("1 while the disk at path passes its probe.")
                        .Register(r)),
        diskFree(BuildGauge()
                     .Name("aksnode_disk_free_bytes")
                     .Help("Bytes available to unprivileged users.")
                     .Register(r)),
        diskSize(BuildGauge().Name("aksnode_disk_size_bytes").Help("Filesystem size.").Register(r)),
        diskInodes(BuildGauge()
                       .Name("aksnode_disk_free_inodes_ratio")
                       .Help("Free inodes / total inodes (1 when the fs has no inode limit).")
                       .Register(r)),
        diskReadOnly(BuildGauge()
                         .Name("aksnode_disk_read_only")
                         .Help("1 when the filesystem is mounted or remounted read-only.")
                         .Register(r)),
        diskProbeDuration(BuildHistogram()
                              .Name("aksnode_disk_probe_duration_seconds")
                              .Help("Duration of the disk probe (statvfs and write probe).")
                              .Register(r)),
        cacheHealthy(BuildGauge()
                         .Name("aksnode_cache_healthy")
                         .Help("1 while the cache directory passes its probe.")
                         .Register(r)),
        cacheUsed(BuildGauge()
                      .Name("aksnode_cache_used_bytes")
                      .Help("Bytes used under the cache directory (bounded walk).")
                      .Register(r)),
        tokenValid(BuildGauge()
                       .Name("aksnode_identity_token_valid")
                       .Help("1 while the workload identity token passes every check.")
                       .Register(r)),
        tokenExpiry(BuildGauge()
                        .Name("aksnode_identity_token_expiry_timestamp_seconds")
                        .Help("exp claim of the projected token (0 when unknown).")
                        .Register(r)),
        identityChecks(BuildCounter()
                           .Name("aksnode_identity_checks_total")
                           .Help("Token checks by result (ok or the failure reason).")
                           .Register(r)),
        identityExchange(BuildCounter()
                             .Name("aksnode_identity_exchange_total")
                             .Help("Token exchanges with Microsoft Entra ID by result.")
                             .Register(r)),
        podsMisconfigured(BuildGauge()
                              .Name("aksnode_identity_pods_misconfigured")
                              .Help("Pods on this node using workload identity without a "
                                    "working projection, by namespace (pod_namespace = namespace).")
                              .Register(r)),
        nodeUnreadable(BuildCounter()
                           .Name("aksnode_node_unreadable_total")
                           .Help("Answers for this agent's Node that could not be read faithfully "
                                 "(no resourceVersion, taints of the wrong shape, not a Node); the "
                                 "Node was not patched.")
                           .Register(r)),
        notifications(BuildCounter().Name(kNotificationsFamily.name).Help(kNotificationsFamily.help).Register(r)),
        notificationsDropped(BuildCounter()
                                 .Name(kNotificationsDroppedFamily.name)
                                 .Help(kNotificationsDroppedFamily.help)
                                 .Register(r)),
        serverConnectionsShed(BuildCounter()
                                  .Name("aksnode_http_server_connections_shed_total")
                                  .Help("Connections to the metrics/health server closed by the agent "
                                        "to keep it answering, by reason (idle: the oldest idle one "
                                        "when the limit is reached; header_timeout: request headers "
                                        "not complete in time; refused: every connection busy).")
                                  .Register(r)) {}

  Family<Gauge>& buildInfo;
  Family<Counter>& imdsRequests;
  Family<Histogram>& imdsDuration;
  Family<Gauge>& imdsIncarnation;
  Family<Gauge>& scheduledEvents;
  Family<Counter>& scheduledEventsSeen;
  Family<Counter>& eventsIgnored;
  Family<Gauge>& evictionPending;
  Family<Gauge>& evictionNotBefore;
  Family<Histogram>& detectionLatency;
  Family<Gauge>& nodeCordoned;
  Family<Counter>& actions;
  Family<Histogram>& drainDuration;
  Family<Gauge>& drainPodsRemaining;
  Family<Counter>& podEvictions;
  Family<Counter>& kubeRequests;
  Family<Gauge>& diskHealthy;
  Family<Gauge>& diskFree;
  Family<Gauge>& diskSize;
  Family<Gauge>& diskInodes;
  Family<Gauge>& diskReadOnly;
  Family<Histogram>& diskProbeDuration;
  Family<Gauge>& cacheHealthy;
  Family<Gauge>& cacheUsed;
  Family<Gauge>& tokenValid;
  Family<Gauge>& tokenExpiry;
  Family<Counter>& identityChecks;
  Family<Counter>& identityExchange;
  Family<Gauge>& podsMisconfigured;
  Family<Counter>& nodeUnreadable;
  Family<Counter>& notifications;
  Family<Counter>& notificationsDropped;
  Family<Counter>& serverConnectionsShed;
};

prometheus::Histogram::BucketBoundaries Metrics::imdsLatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5};
}
prometheus::Histogram::BucketBoundaries Metrics::detectionLatencyBuckets() {
  return {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10};
}
prometheus::Histogram::BucketBoundaries Metrics::drainDurationBuckets() {
  return {0.5, 1, 2, 5, 10, 15, 20, 30, 45, 60, 120, 300};
}
prometheus::Histogram::BucketBoundaries Metrics::diskProbeBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

Metrics::Metrics(const Config& config)
    : registry_(std::make_shared<prometheus::Registry>()),
      f_(std::make_unique<Families>(*registry_)) {
  f_->buildInfo.Add({{"version", build::kVersion}, {"commit", build::kCommit}, {"arch", build::kArch}})
      .Set(1);
  for (ImdsEndpoint e : kImdsEndpoints) {
    for (ImdsOutcome r : kImdsOutcomes) imdsRequest(e, r);
    imdsDuration(e);
  }
  imdsDocumentIncarnation();
  for (const EventTypeName& known : kEventTypes) {
    const char* t = known.name;
    for (const char* s : kEventStatuses) scheduledEvents(t, s);
    scheduledEventsSeen(t);
  }
  for (IgnoredEventReason reason : kIgnoredEventReasons) imdsEventsIgnored(reason);
  evictionPending();
  evictionNotBefore();
  eventDetectionLatency();
  nodeCordoned();
  for (NodeAction a : kNodeActions) {
    for (bool ok : {true, false}) {
      action(a, ok, false);
      action(a, ok, true);
    }
  }
  for (DrainResult r : kObservedDrainResults) drainDuration(r);
  drainPodsRemaining();
  for (EvictionLabel r : kEvictionLabels) podEvictions(r);
  for (const auto& call : kKubeCalls) {
    for (const char* c : kCodes) kubeRequest(call[0], call[1], c);
  }
  for (const auto& d : config.disks) {
    diskHealthy(d.path);
    diskFreeBytes(d.path);
    diskSizeBytes(d.path);
    diskFreeInodesRatio(d.path);
    diskReadOnly(d.path);
    diskProbeDuration(d.path);
  }
  for (const auto& c : config.caches) {
    cacheHealthy(c.path);
    cacheUsedBytes(c.path);
  }
  identityTokenValid();
  identityTokenExpiry();
  identityCheck("ok");
  for (const char* r : {"ok", "http_error", "unreachable"}) identityExchange(r);
  nodeUnreadable();
  for (const auto& w : config.notifications.webhooks) {
    for (NotificationResult r : kNotificationResults) notification(w.name, r);
    notificationsDropped(w.name);
  }
  for (ShedReason r : kShedReasons) serverConnectionsShed(r);
}

Metrics::~Metrics() = default;

std::string Metrics::serialize() const {
  std::ostringstream out;
  const std::vector<prometheus::MetricFamily> families = registry_->Collect();
  prometheus::TextSerializer().Serialize(out, families);
  for (const Announced& a : kAnnouncedWhenEmpty) {
    const bool present = std::any_of(families.begin(), families.end(),
                                     [&](const prometheus::MetricFamily& f) { return f.name == a.name; });
    if (!present) out << "# HELP " << a.name << " " << a.help << "\n# TYPE " << a.name << " counter\n";
  }
  return out.str();
}

// `endpoint` and `namespace` are also target labels the Prometheus operator sets; with
// honorLabels off Prometheus renames the agent's to exported_*. Each such label is therefore
// doubled by one no scrape config sets (imds_endpoint, pod_namespace), with the same value; the
// old names stay for existing queries. See docs/metrics.md.
prometheus::Counter& Metrics::imdsRequest(ImdsEndpoint endpoint, ImdsOutcome result) {
  const std::string e = toString(endpoint);
  return f_->imdsRequests.Add({{"endpoint", e}, {"imds_endpoint", e}, {"result", toString(result)}});
}
prometheus::Histogram& Metrics::imdsDuration(ImdsEndpoint endpoint) {
  const std::string e = toString(endpoint);
  return f_->imdsDuration.Add({{"endpoint", e}, {"imds_endpoint", e}}, imdsLatencyBuckets());
}
prometheus::Gauge& Metrics::imdsDocumentIncarnation() { return f_->imdsIncarnation.Add({}); }
prometheus::Gauge& Metrics::scheduledEvents(const std::string& type, const std::string& status) {
  return f_->scheduledEvents.Add({{"event_type", type}, {"event_status", status}});
}
prometheus::Counter& Metrics::scheduledEventsSeen(const std::string& type) {
  return f_->scheduledEventsSeen.Add({{"event_type", type}});
}
prometheus::Counter& Metrics::nodeUnreadable() { return f_->nodeUnreadable.Add({}); }
prometheus::Counter& Metrics::serverConnectionsShed(ShedReason reason) {
  return f_->serverConnectionsShed.Add({{"reason", toString(reason)}});
}
prometheus::Counter& Metrics::notification(const std::string& webhook, NotificationResult result) {
  return f_->notifications.Add({{"webhook", webhook}, {"result", toString(result)}});
}
prometheus::Counter& Metrics::notificationsDropped(const std::string& webhook) {
  return f_->notificationsDropped.Add({{"webhook", webhook}});
}
prometheus::Counter& Metrics::imdsEventsIgnored(IgnoredEventReason reason) {
  return f_->eventsIgnored.Add({{"reason", toString(reason)}});
}
prometheus::Gauge& Metrics::evictionPending() { return f_->evictionPending.Add({}); }
prometheus::Gauge& Metrics::evictionNotBefore() { return f_->evictionNotBefore.Add({}); }
prometheus::Histogram& Metrics::eventDetectionLatency() {
  return f_->detectionLatency.Add({}, detectionLatencyBuckets());
}
prometheus::Gauge& Metrics::nodeCordoned() { return f_->nodeCordoned.Add({}); }
prometheus::Counter& Metrics::action(NodeAction action, bool success, bool dryRun) {
  return f_->actions.Add({{"action", toString(action)},
                          {"result", success ? "success" : "error"},
                          {"dry_run", dryRun ? "true" : "false"}});
}
prometheus::Histogram& Metrics::drainDuration(DrainResult result) {
  return f_->drainDuration.Add({{"result", toString(result)}}, drainDurationBuckets());
}
prometheus::Gauge& Metrics::drainPodsRemaining() { return f_->drainPodsRemaining.Add({}); }
prometheus::Counter& Metrics::podEvictions(EvictionLabel result) {
  return f_->podEvictions.Add({{"result", toString(result)}});
}
prometheus::Counter& Metrics::kubeRequest(const std::string& verb, const std::string& resource,
                                          const std::string& code) {
  return f_->kubeRequests.Add({{"verb", verb}, {"resource", resource}, {"code", code}});
}
prometheus::Gauge& Metrics::diskHealthy(const std::string& path) {
  return f_->diskHealthy.Add({{"path", path}});
}
prometheus::Gauge& Metrics::diskFreeBytes(const std::string& path) {
  return f_->diskFree.Add({{"path", path}});
}
prometheus::Gauge& Metrics::diskSizeBytes(const std::string& path) {
  return f_->diskSize.Add({{"path", path}});
}
prometheus::Gauge& Metrics::diskFreeInodesRatio(const std::string& path) {
  return f_->diskInodes.Add({{"path", path}});
}
prometheus::Gauge& Metrics::diskReadOnly(const std::string& path) {
  return f_->diskReadOnly.Add({{"path", path}});
}
prometheus::Histogram& Metrics::diskProbeDuration(const std::string& path) {
  return f_->diskProbeDuration.Add({{"path", path}}, diskProbeBuckets());
}
prometheus::Gauge& Metrics::cacheHealthy(const std::string& path) {
  return f_->cacheHealthy.Add({{"path", path}});
}
prometheus::Gauge& Metrics::cacheUsedBytes(const std::string& path) {
  return f_->cacheUsed.Add({{"path", path}});
}
prometheus::Gauge& Metrics::identityTokenValid() { return f_->tokenValid.Add({}); }
prometheus::Gauge& Metrics::identityTokenExpiry() { return f_->tokenExpiry.Add({}); }
prometheus::Counter& Metrics::identityCheck(const std::string& result) {
  return f_->identityChecks.Add({{"result", result}});
}
prometheus::Counter& Metrics::identityExchange(const std::string& result) {
  return f_->identityExchange.Add({{"result", result}});
}
prometheus::Gauge& Metrics::identityPodsMisconfigured(const std::string& ns) {
  return f_->podsMisconfigured.Add({{"namespace", ns}, {"pod_namespace", ns}});
}

std::string kubeCodeClass(int httpStatus) {
  if (httpStatus == 429) return "429";
  if (httpStatus >= 200 && httpStatus < 300) return "2xx";
  if (httpStatus >= 400 && httpStatus < 500) return "4xx";
  if (httpStatus >= 500 && httpStatus < 600) return "5xx";
  return "error";
}

}  // namespace aksnode
