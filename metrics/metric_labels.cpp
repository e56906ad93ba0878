// The name tables of the closed metric label sets (metric_labels.h): the label strings, once,
// in the order of each enum.
#include "metrics/metric_labels.h"

#include <cstddef>

namespace aksnode {

namespace {
template <typename Enum, std::size_t N>
const char* nameOf(Enum value, const std::array<const char*, N>& names) {
  const auto i = static_cast<std::size_t>(value);
  return i < N ? names[i] : names[N - 1];
}

constexpr std::array<const char*, 6> kNodeActionNames{"taint",    "cordon",      "drain",
                                                       "uncordon", "acknowledge", "condition"};
constexpr std::array<const char*, 4> kDrainResultNames{"success", "timeout", "error", "cancelled"};
constexpr std::array<const char*, 4> kEvictionLabelNames{"evicted", "blocked_pdb", "not_found", "error"};
constexpr std::array<const char*, 3> kImdsEndpointNames{"scheduledevents", "instance", "acknowledge"};
constexpr std::array<const char*, 6> kImdsOutcomeNames{"ok",      "http_error",   "throttled",
                                                       "timeout", "bad_response", "unreachable"};
constexpr std::array<const char*, 3> kIgnoredEventReasonNames{"other_vm", "unknown_type", "invalid"};
constexpr std::array<const char*, 3> kNotificationResultNames{"ok", "error", "timeout"};
constexpr std::array<const char*, 3> kShedReasonNames{"idle", "header_timeout", "refused"};

static_assert(kNodeActionNames.size() == kNodeActions.size());
static_assert(kEvictionLabelNames.size() == kEvictionLabels.size());
static_assert(kImdsEndpointNames.size() == kImdsEndpoints.size());
static_assert(kImdsOutcomeNames.size() == kImdsOutcomes.size());
static_assert(kIgnoredEventReasonNames.size() == kIgnoredEventReasons.size());
static_assert(kNotificationResultNames.size() == kNotificationResults.size());
static_assert(kShedReasonNames.size() == kShedReasons.size());
}  // namespace

const char* toString(NodeAction a) { return nameOf(a, kNodeActionNames); }
const char* toString(DrainResult r) { return nameOf(r, kDrainResultNames); }
const char* toString(EvictionLabel r) { return nameOf(r, kEvictionLabelNames); }
const char* toString(ImdsEndpoint e) { return nameOf(e, kImdsEndpointNames); }
const char* toString(ImdsOutcome outcome) { return nameOf(outcome, kImdsOutcomeNames); }
const char* toString(IgnoredEventReason r) { return nameOf(r, kIgnoredEventReasonNames); }
const char* toString(NotificationResult r) { return nameOf(r, kNotificationResultNames); }
const char* toString(ShedReason r) { return nameOf(r, kShedReasonNames); }

}  // namespace aksnode
