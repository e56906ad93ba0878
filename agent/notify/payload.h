#pragma once
// The bodies webhooks receive, as pure functions of a Notice (docs/notifications.md shows one
// of each). Every string in a Notice may carry outside text (IMDS descriptions, pod names, API
// server errors): JSON escaping is boost::json's; on top of it Slack's mrkdwn control
// characters (& < >) are escaped and Markdown links in Teams' TextBlocks are defused, so a
// hostile pod name or description cannot mention @channel or plant a link.
#include <string>
#include <string_view>

#include "agent/config/config.h"
#include "agent/notify/notice.h"

namespace aksnode {

// One line saying what happened: "Preempt scheduled for node aks-spot-1". Plain text.
std::string noticeHeadline(const Notice& notice);
// The message with "[dry run] " in front when the agent changes nothing.
std::string noticeMessage(const Notice& notice);

// {"node","vm","reason","eventType","eventId","notBefore","message","time"}: every value a
// string; "" where a field does not apply (notBefore also for an imminent event). Times are
// RFC 3339 UTC.
std::string jsonPayload(const Notice& notice);
// A Slack incoming-webhook body: `text` (the notification and fallback) and Block Kit blocks.
std::string slackPayload(const Notice& notice);
// A Teams message whose one attachment is an Adaptive Card 1.4, the shape a Teams Workflows
// "When a Teams webhook request is received" trigger posts to a channel.
std::string teamsPayload(const Notice& notice);

std::string buildPayload(WebhookFormat format, const Notice& notice);

// Slack mrkdwn: & < > as entities (the only characters Slack asks apps to escape).
std::string escapeSlack(std::string_view text);
// Adaptive Card TextBlocks render Markdown, and Teams' clients honour backslash escapes
// inconsistently (mobile shows the backslashes: microsoft/AdaptiveCards#5590). Emphasis from
// outside text is harmless; a link is not: every "](" becomes "] (", so [text](url) stays text.
std::string defuseCardLinks(std::string_view text);

}  // namespace aksnode
