#pragma once
// The checks that belong to one configuration key (an IMDS endpoint, a webhook URL, a pod grace
// period cap, ...): expanded text in, the value or the message after "path: " out. The generic
// ones (numbers, durations, URLs) are in scalar_parsers.h.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "agent/config/config.h"
#include "agent/core/result.h"

namespace aksnode::config_reader {

// imds.endpoint: an http(s) URL, a path prefix allowed but not /metadata.
Result<std::string> imdsEndpoint(const std::string& text);
// imds.*ApiVersion: like 2020-07-01.
Result<std::string> apiVersion(const std::string& text);
// An imds.actions key: one of the event types, spelled exactly.
Result<EventType> eventTypeKey(const std::string& text);
// An imds.acknowledgeAfterDrain entry.
Result<std::string> eventTypeName(const std::string& text);
// drain.podGracePeriodCap: "" (no cap) or whole seconds, at least 1s.
Result<std::optional<Duration>> gracePeriodCap(const std::string& text);
// caches[].maxUsedBytes: "" (no quota) or a byte size above 0.
Result<std::optional<std::uint64_t>> cacheQuota(const std::string& text);
// notifications.webhooks[].name: the `webhook` label of aksnode_notifications_total.
Result<std::string> webhookName(const std::string& text);
// notifications.webhooks[].url: a credential, never quoted in a message.
Result<std::string> webhookUrl(const std::string& text);
// notifications.webhooks[].on entries.
Result<std::string> eventReason(const std::string& text);
// identity.expectedSubject: "" or system:serviceaccount:NAMESPACE:NAME.
Result<std::string> serviceAccountSubject(const std::string& text);
// metrics.address: host:port (validators.h parseHostPort).
Result<std::string> hostPortText(const std::string& text);

}  // namespace aksnode::config_reader
