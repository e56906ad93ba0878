// The three webhook bodies (agent/notify/payload.h, docs/notifications.md): the JSON
// notice field by field, Slack's and Teams' shapes, and hostile outside text that must stay text.
#include "agent/notify/payload.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <set>

namespace aksnode {
namespace {

namespace json = boost::json;

const SystemTime kNow{std::chrono::seconds{1'800'000'000}};  // 2027-01-15T08:00:00Z

Notice preempt() {
  Notice n;
  n.node = "aks-spot-12345678-vmss000003";
  n.vm = "aks-spot-12345678-vmss_3";
  n.reason = "ScheduledEvent";
  n.severity = "Warning";
  n.subject = {"Preempt", "5DD55B64-1F5E-4A4D-9C7E-4D2B6F1E3C2A", kNow + std::chrono::seconds(30)};
  n.message = "Preempt event 5DD55B64 for VM aks-spot-12345678-vmss_3";
  n.time = kNow;
  return n;
}

// Outside text at its worst: quotes, backslashes, control characters, Slack mentions and link
// syntax, Markdown links, HTML, a non-ASCII name.
const std::string kHostile =
    "pod \"x\"\\ <!channel> <https://evil.example|click> &amp; [click](https://evil.example) <b>bold</b>\n\t\x01 é";

TEST(JsonPayload, IsExactlyTheDocumentedFieldsAsStrings) {
  const json::value v = json::parse(jsonPayload(preempt()));
  const json::object& o = v.as_object();
  std::set<std::string> keys;
  for (const auto& kv : o) keys.insert(std::string(kv.key()));
  EXPECT_EQ(keys, (std::set<std::string>{"node", "vm", "reason", "eventType", "eventId", "notBefore", "message", "time"}));
  EXPECT_EQ(o.at("node").as_string(), "aks-spot-12345678-vmss000003");
  EXPECT_EQ(o.at("vm").as_string(), "aks-spot-12345678-vmss_3");
  EXPECT_EQ(o.at("reason").as_string(), "ScheduledEvent");
  EXPECT_EQ(o.at("eventType").as_string(), "Preempt");
  EXPECT_EQ(o.at("eventId").as_string(), "5DD55B64-1F5E-4A4D-9C7E-4D2B6F1E3C2A");
  EXPECT_EQ(o.at("notBefore").as_string(), "2027-01-15T08:00:30Z");
  EXPECT_EQ(o.at("time").as_string(), "2027-01-15T08:00:00Z");
  EXPECT_EQ(o.at("message").as_string(), "Preempt event 5DD55B64 for VM aks-spot-12345678-vmss_3");
}

TEST(JsonPayload, FieldsThatDoNotApplyAreEmptyStrings) {
  Notice n = preempt();
  n.reason = "DiskUnhealthy";
  n.subject = {};
  const json::object o = json::parse(jsonPayload(n)).as_object();
  EXPECT_EQ(o.at("eventType").as_string(), "");
  EXPECT_EQ(o.at("eventId").as_string(), "");
  EXPECT_EQ(o.at("notBefore").as_string(), "");
  n = preempt();
  n.subject.notBefore.reset();  // an imminent event (unreadable NotBefore) or a Started one
  EXPECT_EQ(json::parse(jsonPayload(n)).at("notBefore").as_string(), "");
}

TEST(JsonPayload, HostileTextRoundTripsAsText) {
  Notice n = preempt();
  n.message = kHostile;
  n.vm = kHostile;
  const std::string body = jsonPayload(n);
  EXPECT_EQ(body.find('\n'), std::string::npos) << "raw control characters in the body";
  EXPECT_EQ(body.find('\x01'), std::string::npos);
  const json::object o = json::parse(body).as_object();
  EXPECT_EQ(o.at("message").as_string(), kHostile);
  EXPECT_EQ(o.at("vm").as_string(), kHostile);
}

TEST(JsonPayload, ADryRunSaysSoInTheMessage) {
  Notice n = preempt();
  n.dryRun = true;
  EXPECT_EQ(json::parse(jsonPayload(n)).at("message").as_string(),
            "[dry run] Preempt event 5DD55B64 for VM aks-spot-12345678-vmss_3");
}

TEST(SlackPayload, HasTextAndBlocks) {
  const json::object o = json::parse(slackPayload(preempt())).as_object();
  const std::string text(o.at("text").as_string());
  EXPECT_NE(text.find("Preempt scheduled for node aks-spot-12345678-vmss000003"), std::string::npos) << text;
  EXPECT_NE(text.find("Preempt event 5DD55B64"), std::string::npos) << text;
  const json::array& blocks = o.at("blocks").as_array();
  ASSERT_EQ(blocks.size(), 2U);
  EXPECT_EQ(blocks[0].at("type").as_string(), "section");
  EXPECT_EQ(blocks[0].at("text").at("type").as_string(), "mrkdwn");
  const std::string fields = json::serialize(blocks[1].at("fields"));
  EXPECT_NE(fields.find("NotBefore"), std::string::npos);
  EXPECT_NE(fields.find("Fri, 15 Jan 2027 08:00:30 GMT"), std::string::npos) << fields;
  EXPECT_LE(blocks[1].at("fields").as_array().size(), 10U);  // Slack's limit
}

TEST(SlackPayload, OutsideTextCannotMentionOrLink) {
  Notice n = preempt();
  n.message = kHostile;
  n.vm = kHostile;
  const json::object o = json::parse(slackPayload(n)).as_object();
  const std::string all = json::serialize(o);
  EXPECT_EQ(all.find("<!channel>"), std::string::npos) << all;
  EXPECT_EQ(all.find("<https://evil"), std::string::npos) << all;
  EXPECT_NE(std::string(o.at("text").as_string()).find("&lt;!channel&gt;"), std::string::npos);
  EXPECT_NE(std::string(o.at("text").as_string()).find("&amp;amp;"), std::string::npos);  // & escaped first
}

TEST(TeamsPayload, IsAMessageWithOneAdaptiveCard) {
  const json::object o = json::parse(teamsPayload(preempt())).as_object();
  EXPECT_EQ(o.at("type").as_string(), "message");
  const json::array& attachments = o.at("attachments").as_array();
  ASSERT_EQ(attachments.size(), 1U);
  EXPECT_EQ(attachments[0].at("contentType").as_string(), "application/vnd.microsoft.card.adaptive");
  const json::object& card = attachments[0].at("content").as_object();
  EXPECT_EQ(card.at("type").as_string(), "AdaptiveCard");
  EXPECT_EQ(card.at("version").as_string(), "1.4");
  EXPECT_EQ(card.at("$schema").as_string(), "http://adaptivecards.io/schemas/adaptive-card.json");
  const json::array& body = card.at("body").as_array();
  ASSERT_EQ(body.size(), 3U);
  EXPECT_EQ(body[0].at("type").as_string(), "TextBlock");
  EXPECT_EQ(body[0].at("text").as_string(), "Preempt scheduled for node aks-spot-12345678-vmss000003");
  EXPECT_EQ(body[0].at("color").as_string(), "Attention");
  EXPECT_EQ(body[2].at("type").as_string(), "FactSet");
  bool sawEvent = false;
  for (const auto& f : body[2].at("facts").as_array()) {
    if (f.at("title").as_string() == "Event") {
      sawEvent = true;
      EXPECT_EQ(f.at("value").as_string(), "Preempt 5DD55B64-1F5E-4A4D-9C7E-4D2B6F1E3C2A");
    }
  }
  EXPECT_TRUE(sawEvent);
}

TEST(TeamsPayload, OutsideTextCannotPlantALink) {
  Notice n = preempt();
  n.message = kHostile;
  const json::object o = json::parse(teamsPayload(n)).as_object();
  const std::string text(o.at("attachments").at(0).at("content").at("body").at(1).at("text").as_string());
  EXPECT_EQ(text.find("](https://"), std::string::npos) << text;
  EXPECT_NE(text.find("[click] (https://evil.example)"), std::string::npos) << text;
}

TEST(Payloads, EveryReasonHasAHeadline) {
  std::set<std::string> lines;
  for (const char* reason : kEventReasons) {
    Notice n = preempt();
    n.reason = reason;
    const std::string line = noticeHeadline(n);
    EXPECT_NE(line.find("aks-spot-12345678-vmss000003"), std::string::npos) << reason << ": " << line;
    lines.insert(line);
  }
  EXPECT_EQ(lines.size(), std::size(kEventReasons)) << "two reasons share a headline";
  Notice n = preempt();
  n.dryRun = true;
  EXPECT_EQ(noticeHeadline(n).rfind("[dry run] ", 0), 0U);
}

TEST(Payloads, BuildPayloadPicksTheFormat) {
  const Notice n = preempt();
  EXPECT_EQ(buildPayload(WebhookFormat::Json, n), jsonPayload(n));
  EXPECT_EQ(buildPayload(WebhookFormat::Slack, n), slackPayload(n));
  EXPECT_EQ(buildPayload(WebhookFormat::Teams, n), teamsPayload(n));
}

}  // namespace
}  // namespace aksnode
