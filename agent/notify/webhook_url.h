#pragma once
// Where a webhook's URL comes from, and keeping it secret (docs/notifications.md, "The URL is
// a credential"). A Slack or Teams webhook URL lets anyone who holds it post to the channel:
// it is never logged, served by /status or exported in a metric. Its path and query (where the
// credential lives) are registered with agent/core/secret_redaction.h, so text that echoes it
// (an error message, a proxy's answer) is redacted too.
#include <string>
#include <string_view>

#include "agent/config/config.h"
#include "agent/core/result.h"

namespace aksnode {

// config.url, or the first line of config.urlFile (a mounted Secret, re-read on every call so
// that a rotated Secret is picked up without a restart; surrounding whitespace is ignored).
// Either way the URL is checked like the loader checks `url` and registered as a secret. A
// failure says why without quoting the URL.
Result<std::string> resolveWebhookUrl(const WebhookConfig& config);

// text with every occurrence of url, and of its path-and-query, replaced by "[redacted]".
std::string scrubUrl(std::string_view text, std::string_view url);

// The most a urlFile may hold.
inline constexpr std::size_t kMaxWebhookUrlFileBytes = 8192;

}  // namespace aksnode
