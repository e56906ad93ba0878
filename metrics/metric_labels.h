#pragma once
// The label values of the agent's metrics that come from a closed set, as enums: a caller
// cannot invent a value, and each set is spelled once, in the name table of
// metric_labels.cpp (the strings docs/metrics.md lists; tests/integration/
// agent_metrics_doc_test.py holds the two together). Metrics (metrics.h) takes these enums and
// initialises every value to 0 from the same tables. Kept apart from metrics.h so low layers
// (the drainer, the IMDS client) can name a result without the prometheus headers.
#include <array>
#include <cstddef>

namespace aksnode {

// Every value of a label enum, in order, for initialising each label set to 0: the enums below
// run from 0 without gaps, and metric_labels.cpp checks each count against its name table.
template <class Enum, std::size_t N>
constexpr std::array<Enum, N> enumValues() {
  std::array<Enum, N> values{};
  for (std::size_t i = 0; i < N; ++i) values[i] = static_cast<Enum>(i);
  return values;
}

// action of aksnode_actions_total.
enum class NodeAction { Taint, Cordon, Drain, Uncordon, Acknowledge, Condition };
inline constexpr auto kNodeActions = enumValues<NodeAction, 6>();
const char* toString(NodeAction a);

// How a drain ended; result of aksnode_drain_duration_seconds (a cancelled drain is not observed).
enum class DrainResult { Success, Timeout, Error, Cancelled };
inline constexpr auto kObservedDrainResults = enumValues<DrainResult, 3>();
const char* toString(DrainResult r);

// result of aksnode_pod_evictions_total.
enum class EvictionLabel { Evicted, BlockedPdb, NotFound, Error };
inline constexpr auto kEvictionLabels = enumValues<EvictionLabel, 4>();
const char* toString(EvictionLabel r);

// endpoint (and imds_endpoint) of aksnode_imds_requests_total and aksnode_imds_request_duration_seconds.
enum class ImdsEndpoint { ScheduledEvents, Instance, Acknowledge };
inline constexpr auto kImdsEndpoints = enumValues<ImdsEndpoint, 3>();
const char* toString(ImdsEndpoint e);

// The `result` label values of aksnode_imds_requests_total: how one IMDS request ended.
enum class ImdsOutcome { Ok, HttpError, Throttled, Timeout, BadResponse, Unreachable };
inline constexpr auto kImdsOutcomes = enumValues<ImdsOutcome, 6>();
const char* toString(ImdsOutcome outcome);

// reason of aksnode_imds_events_ignored_total: an event not acted on.
enum class IgnoredEventReason { OtherVm, UnknownType, Invalid };
inline constexpr auto kIgnoredEventReasons = enumValues<IgnoredEventReason, 3>();
const char* toString(IgnoredEventReason r);

// result of aksnode_notifications_total.
enum class NotificationResult { Ok, Error, Timeout };
inline constexpr auto kNotificationResults = enumValues<NotificationResult, 3>();
const char* toString(NotificationResult r);

// reason of aksnode_http_server_connections_shed_total.
enum class ShedReason { Idle, HeaderTimeout, Refused };
inline constexpr auto kShedReasons = enumValues<ShedReason, 3>();
const char* toString(ShedReason r);

} // namespace aksnode
