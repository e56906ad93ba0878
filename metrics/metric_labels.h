#pragma once
// The label values of the agent's metrics that come from a closed set, as enums: a caller
// cannot invent a value, and each set is spelled once, in the name table of
// metric_labels.cpp (the strings docs/metrics.md lists; tests/integration/
// agent_metrics_doc_test.py holds the two together). Metrics (metrics.h) takes these enums and
// initialises every value to 0 from the same tables. Kept apart from metrics.h so low layers
// (the drainer, the IMDS client) can name a result without the prometheus headers.
#include <array>

namespace aksnode {

// action of aksnode_actions_total.
enum class NodeAction { Taint, Cordon, Drain, Uncordon, Acknowledge, Condition };
inline constexpr std::array kNodeActions{NodeAction::Taint,    NodeAction::Cordon,      NodeAction::Drain,
                                         NodeAction::Uncordon, NodeAction::Acknowledge, NodeAction::Condition};
const char* toString(NodeAction a);

// How a drain ended; result of aksnode_drain_duration_seconds (a cancelled drain is not observed).
enum class DrainResult { Success, Timeout, Error, Cancelled };
inline constexpr std::array kObservedDrainResults{DrainResult::Success, DrainResult::Timeout, DrainResult::Error};
const char* toString(DrainResult r);

// result of aksnode_pod_evictions_total.
enum class EvictionLabel { Evicted, BlockedPdb, NotFound, Error };
inline constexpr std::array kEvictionLabels{EvictionLabel::Evicted, EvictionLabel::BlockedPdb, EvictionLabel::NotFound,
                                            EvictionLabel::Error};
const char* toString(EvictionLabel r);

// endpoint (and imds_endpoint) of aksnode_imds_requests_total and aksnode_imds_request_duration_seconds.
enum class ImdsEndpoint { ScheduledEvents, Instance, Acknowledge };
inline constexpr std::array kImdsEndpoints{ImdsEndpoint::ScheduledEvents, ImdsEndpoint::Instance,
                                           ImdsEndpoint::Acknowledge};
const char* toString(ImdsEndpoint e);

// The `result` label values of aksnode_imds_requests_total: how one IMDS request ended.
enum class ImdsOutcome { Ok, HttpError, Throttled, Timeout, BadResponse, Unreachable };
inline constexpr std::array kImdsOutcomes{ImdsOutcome::Ok,      ImdsOutcome::HttpError,   ImdsOutcome::Throttled,
                                          ImdsOutcome::Timeout, ImdsOutcome::BadResponse, ImdsOutcome::Unreachable};
const char* toString(ImdsOutcome outcome);

// reason of aksnode_imds_events_ignored_total: an event not acted on.
enum class IgnoredEventReason { OtherVm, UnknownType, Invalid };
inline constexpr std::array kIgnoredEventReasons{IgnoredEventReason::OtherVm, IgnoredEventReason::UnknownType,
                                                 IgnoredEventReason::Invalid};
const char* toString(IgnoredEventReason r);

// result of aksnode_notifications_total.
enum class NotificationResult { Ok, Error, Timeout };
inline constexpr std::array kNotificationResults{NotificationResult::Ok, NotificationResult::Error,
                                                 NotificationResult::Timeout};
const char* toString(NotificationResult r);

// reason of aksnode_http_server_connections_shed_total.
enum class ShedReason { Idle, HeaderTimeout, Refused };
inline constexpr std::array kShedReasons{ShedReason::Idle, ShedReason::HeaderTimeout, ShedReason::Refused};
const char* toString(ShedReason r);

}  // namespace aksnode
