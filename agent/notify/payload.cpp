#include "agent/notify/payload.h"

#include <boost/json.hpp>

#include <string_view>
#include <utility>

#include "agent/http/http_date.h"

namespace aksnode {

namespace json = boost::json;

namespace {

std::string notBeforeText(const Notice& n) {
  return n.subject.notBefore ? formatRfc3339(*n.subject.notBefore) : std::string();
}

// "Preempt" when the Event is about a scheduled event, else "".
const std::string& eventType(const Notice& n) { return n.subject.eventType; }

// Facts shown by Slack and Teams: (title, plain value); empty values are left out.
std::vector<std::pair<std::string, std::string>> facts(const Notice& n) {
  std::vector<std::pair<std::string, std::string>> out{{"Node", n.node}, {"VM", n.vm}, {"Reason", n.reason}};
  if (!n.subject.eventType.empty()) out.emplace_back("Event", n.subject.eventType + " " + n.subject.eventId);
  if (n.subject.notBefore) out.emplace_back("NotBefore", formatRfc1123(*n.subject.notBefore));
  out.emplace_back("Time", formatRfc3339(n.time));
  std::erase_if(out, [](const auto& f) { return f.second.empty(); });
  return out;
}

bool warning(const Notice& n) { return n.severity == "Warning"; }

}  // namespace

std::string noticeHeadline(const Notice& n) {
  const std::string node = n.node.empty() ? std::string("this node") : "node " + n.node;
  const std::string type = eventType(n).empty() ? std::string("A scheduled event") : eventType(n);
  // One line per reason: {type} is the event type, {node} the node.
  static constexpr std::pair<std::string_view, std::string_view> kHeadlines[] = {
      {"ScheduledEvent", "{type} scheduled for {node}"},
      {"Cordoned", "Cordoned {node}"},
      {"DrainStarted", "Draining {node}"},
      {"DrainSucceeded", "Drained {node}"},
      {"DrainFailed", "Drain of {node} failed"},
      {"EvictionBlocked", "A pod eviction is blocked on {node}"},
      {"EventAcknowledged", "{type} approved for {node}"},
      {"Uncordoned", "Uncordoned {node}"},
      {"DiskUnhealthy", "A disk or cache is unhealthy on {node}"},
      {"DiskRecovered", "A disk or cache recovered on {node}"},
      {"IdentityInvalid", "Workload identity is broken on {node}"},
      {"IdentityRecovered", "Workload identity works again on {node}"},
  };
  std::string_view pattern = "{reason} on {node}";
  for (const auto& [reason, headline] : kHeadlines) {
    if (n.reason == reason) pattern = headline;
  }
  std::string line;
  for (std::size_t i = 0; i < pattern.size();) {
    if (pattern.substr(i, 6) == "{node}") {
      line += node;
      i += 6;
    } else if (pattern.substr(i, 6) == "{type}") {
      line += type;
      i += 6;
    } else if (pattern.substr(i, 8) == "{reason}") {
      line += n.reason;
      i += 8;
    } else {
      line += pattern[i++];
    }
  }
  return n.dryRun ? "[dry run] " + line : line;
}

std::string noticeMessage(const Notice& n) { return n.dryRun ? "[dry run] " + n.message : n.message; }

std::string jsonPayload(const Notice& n) {
  const json::object body{{"node", n.node},
                          {"vm", n.vm},
                          {"reason", n.reason},
                          {"eventType", n.subject.eventType},
                          {"eventId", n.subject.eventId},
                          {"notBefore", notBeforeText(n)},
                          {"message", noticeMessage(n)},
                          {"time", formatRfc3339(n.time)}};
  return json::serialize(body);
}

std::string slackPayload(const Notice& n) {
  const std::string icon = warning(n) ? ":warning: " : ":information_source: ";
  const std::string text = icon + "*" + escapeSlack(noticeHeadline(n)) + "*\n" + escapeSlack(noticeMessage(n));
  // Every piece of outside text goes through escapeSlack: with & < > escaped, Slack parses no
  // mention (<!channel>) and no link (<url|text>) out of it.
  json::array fields;
  for (const auto& [title, value] : facts(n)) {
    fields.push_back(json::object{{"type", "mrkdwn"}, {"text", "*" + title + "*\n" + escapeSlack(value)}});
  }
  if (fields.size() > 10) fields.resize(10);  // Slack's limit per section
  json::array blocks{
      json::object{{"type", "section"}, {"text", json::object{{"type", "mrkdwn"}, {"text", text}}}},
      json::object{{"type", "section"}, {"fields", std::move(fields)}}};
  const json::object body{{"text", text}, {"blocks", std::move(blocks)}};
  return json::serialize(body);
}

std::string teamsPayload(const Notice& n) {
  json::array factList;
  for (const auto& [title, value] : facts(n)) {
    factList.push_back(json::object{{"title", title}, {"value", defuseCardLinks(value)}});
  }
  json::array cardBody{
      json::object{{"type", "TextBlock"},
                   {"text", defuseCardLinks(noticeHeadline(n))},
                   {"weight", "Bolder"},
                   {"size", "Medium"},
                   {"color", warning(n) ? "Attention" : "Good"},
                   {"wrap", true}},
      json::object{{"type", "TextBlock"}, {"text", defuseCardLinks(noticeMessage(n))}, {"wrap", true}},
      json::object{{"type", "FactSet"}, {"facts", std::move(factList)}}};
  const json::object card{{"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
                          {"type", "AdaptiveCard"},
                          {"version", "1.4"},
                          {"body", std::move(cardBody)}};
  const json::object body{
      {"type", "message"},
      {"attachments",
       json::array{json::object{{"contentType", "application/vnd.microsoft.card.adaptive"}, {"contentUrl", nullptr},
                                {"content", card}}}}};
  return json::serialize(body);
}

std::string buildPayload(WebhookFormat format, const Notice& notice) {
  switch (format) {
    case WebhookFormat::Slack: return slackPayload(notice);
    case WebhookFormat::Teams: return teamsPayload(notice);
    case WebhookFormat::Json: break;
  }
  return jsonPayload(notice);
}

std::string escapeSlack(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string defuseCardLinks(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    out += text[i];
    if (text[i] == ']' && i + 1 < text.size() && text[i + 1] == '(') out += ' ';
  }
  return out;
}

}  // namespace aksnode
