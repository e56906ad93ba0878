// notifications.webhooks in the config loader (docs/configuration.md, docs/notifications.md):
// the shape, the errors with their key paths, and the URL kept out of every message and of
// --check-config's output.
#include <gtest/gtest.h>

#include <map>

#include "agent/config/config_loader.h"

namespace aksnode {
namespace {

constexpr const char* kSlackUrl = "https://hooks.slack.com/services/T0000/B0000/XXXXsecretXXXX";
constexpr const char* kTeamsUrl =
    "https://prod-01.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke"
    "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=SECRETSIGNATURE123";

ConfigLoadResult load(const std::string& yaml, std::map<std::string, std::string> vars = {}) {
  return loadConfigString(yaml, [vars](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  });
}

std::string webhooks(const std::string& entries) { return "notifications:\n  webhooks:\n" + entries; }

bool hasError(const ConfigLoadResult& r, const std::string& path, const std::string& fragment) {
  for (const auto& e : r.errors) {
    if (e.path == path && e.message.find(fragment) != std::string::npos) return true;
  }
  return false;
}

TEST(NotificationsConfig, NoneByDefault) {
  EXPECT_TRUE(Config{}.notifications.webhooks.empty());
  const auto r = load("notifications:\n  webhooks: []\n");
  ASSERT_TRUE(r.ok()) << r.errorText();
  EXPECT_TRUE(r.config.notifications.webhooks.empty());
}

TEST(NotificationsConfig, AWebhookWithOnlyANameAndAUrlGetsTheDefaults) {
  const auto r = load(webhooks("    - name: ops\n      url: \"" + std::string(kSlackUrl) + "\"\n"));
  ASSERT_TRUE(r.ok()) << r.errorText();
  ASSERT_EQ(r.config.notifications.webhooks.size(), 1U);
  const WebhookConfig& w = r.config.notifications.webhooks[0];
  EXPECT_EQ(w.name, "ops");
  EXPECT_EQ(w.url, kSlackUrl);
  EXPECT_EQ(w.format, WebhookFormat::Json);
  EXPECT_EQ(w.timeout, std::chrono::seconds(5));
  EXPECT_EQ(w.retries, 3);
  EXPECT_EQ(w.on, (std::vector<std::string>{"ScheduledEvent", "DrainSucceeded", "DrainFailed", "EvictionBlocked",
                                            "DiskUnhealthy", "IdentityInvalid"}));
}

TEST(NotificationsConfig, EveryKeyIsRead) {
  const auto r = load(webhooks(
      "    - name: team-chat_1\n      urlFile: /etc/aks-node-agent/webhooks/teams\n      format: teams\n"
      "      on: [ScheduledEvent, Cordoned, Uncordoned]\n      timeout: 10s\n      retries: 0\n"
      "    - name: slack\n      url: ${SLACK_URL}\n      format: slack\n"),
      {{"SLACK_URL", kSlackUrl}});
  ASSERT_TRUE(r.ok()) << r.errorText();
  ASSERT_EQ(r.config.notifications.webhooks.size(), 2U);
  const WebhookConfig& t = r.config.notifications.webhooks[0];
  EXPECT_EQ(t.urlFile, "/etc/aks-node-agent/webhooks/teams");
  EXPECT_TRUE(t.url.empty());
  EXPECT_EQ(t.format, WebhookFormat::Teams);
  EXPECT_EQ(t.on, (std::vector<std::string>{"ScheduledEvent", "Cordoned", "Uncordoned"}));
  EXPECT_EQ(t.timeout, std::chrono::seconds(10));
  EXPECT_EQ(t.retries, 0);
  EXPECT_EQ(r.config.notifications.webhooks[1].url, kSlackUrl);  // from the environment
}

TEST(NotificationsConfig, ATeamsWorkflowUrlWithItsQueryIsAccepted) {
  const auto r = load(webhooks("    - name: teams\n      url: \"" + std::string(kTeamsUrl) + "\"\n      format: teams\n"));
  ASSERT_TRUE(r.ok()) << r.errorText();
  EXPECT_EQ(r.config.notifications.webhooks[0].url, kTeamsUrl);
}

TEST(NotificationsConfig, ExactlyOneOfUrlAndUrlFile) {
  auto r = load(webhooks("    - name: a\n"));
  EXPECT_TRUE(hasError(r, "notifications.webhooks[0].url", "exactly one of url or urlFile")) << r.errorText();
  r = load(webhooks("    - name: a\n      url: https://example.com/x\n      urlFile: /run/x\n"));
  EXPECT_TRUE(hasError(r, "notifications.webhooks[0].urlFile", "not both")) << r.errorText();
  r = load(webhooks("    - name: a\n      url: \"\"\n"));  // ${UNSET} expands to ""
  EXPECT_TRUE(hasError(r, "notifications.webhooks[0].url", "exactly one")) << r.errorText();
  r = load(webhooks("    - name: a\n      urlFile: relative/path\n"));
  EXPECT_TRUE(hasError(r, "notifications.webhooks[0].urlFile", "absolute path")) << r.errorText();
}

TEST(NotificationsConfig, ABadUrlIsReportedWithoutQuotingIt) {
  for (const char* url : {"ftp://hooks.example.com/services/SECRET-PART-1234",
                                "https://hooks.example.com/services/SECRET-PART-1234#frag",
                                "https://user:SECRET-PART-1234@hooks.example.com/x", "not a url SECRET-PART-1234"}) {
    const auto r = load(webhooks("    - name: a\n      url: \"" + std::string(url) + "\"\n"));
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_TRUE(hasError(r, "notifications.webhooks[0].url", "credential")) << r.errorText();
    EXPECT_EQ(r.errorText().find("SECRET-PART"), std::string::npos) << r.errorText();
  }
  // A broken ${...} in the value does not echo it either.
  const auto r = load(webhooks("    - name: a\n      url: \"https://x.example/SECRET-PART-1234${\"\n"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.errorText().find("SECRET-PART"), std::string::npos) << r.errorText();
}

TEST(NotificationsConfig, NamesAreRequiredBoundedAndUnique) {
  auto r = load(webhooks("    - url: https://example.com/x\n"));
  EXPECT_TRUE(hasError(r, "notifications.webhooks[0].name", "required")) << r.errorText();
  for (const std::string& bad : std::vector<std::string>{"\"\"", "\"has space\"", "\"-leading\"", "\"a{b}\"",
                                                        "\"quote\\\"d\"", "\"" + std::string(64, 'a') + "\""}) {
    r = load(webhooks("    - name: " + bad + "\n      url: https://example.com/x\n"));
    EXPECT_TRUE(hasError(r, "notifications.webhooks[0].name", "metric label")) << bad << ": " << r.errorText();
  }
  r = load(webhooks("    - name: ops\n      url: https://example.com/x\n    - name: ops\n      url: https://example.com/y\n"));
  EXPECT_TRUE(hasError(r, "notifications.webhooks[1].name", "duplicate of notifications.webhooks[0].name"))
      << r.errorText();
}

TEST(NotificationsConfig, FormatsReasonsTimeoutsAndRetriesAreChecked) {
  const std::string head = "    - name: a\n      url: https://example.com/x\n";
  auto r = load(webhooks(head + "      format: discord\n"));
  EXPECT_TRUE(hasError(r, "notifications.webhooks[0].format", "one of json, slack, teams")) << r.errorText();
  r = load(webhooks(head + "      on: [DrainSucceded]\n"));
  EXPECT_TRUE(hasError(r, "notifications.webhooks[0].on[0]", "did you mean \"DrainSucceeded\"")) << r.errorText();
  r = load(webhooks(head + "      on: [Exploded]\n"));
  EXPECT_TRUE(hasError(r, "notifications.webhooks[0].on[0]", "one of ScheduledEvent")) << r.errorText();
  r = load(webhooks(head + "      on: [ScheduledEvent, ScheduledEvent]\n"));
  EXPECT_TRUE(hasError(r, "notifications.webhooks[0].on[1]", "duplicate")) << r.errorText();
  r = load(webhooks(head + "      on: []\n"));
  EXPECT_TRUE(hasError(r, "notifications.webhooks[0].on", "at least one")) << r.errorText();
  r = load(webhooks(head + "      timeout: 50ms\n"));
  EXPECT_TRUE(hasError(r, "notifications.webhooks[0].timeout", "at least 100ms")) << r.errorText();
  r = load(webhooks(head + "      timeout: 10m\n"));
  EXPECT_TRUE(hasError(r, "notifications.webhooks[0].timeout", "at most 5m")) << r.errorText();
  r = load(webhooks(head + "      retries: 11\n"));
  EXPECT_TRUE(hasError(r, "notifications.webhooks[0].retries", "between 0 and 10")) << r.errorText();
  r = load(webhooks(head + "      retries: -1\n"));
  EXPECT_FALSE(r.ok());
}

TEST(NotificationsConfig, UnknownKeysSuggestTheClosest) {
  auto r = load(webhooks("    - name: a\n      url: https://example.com/x\n      retires: 2\n"));
  EXPECT_TRUE(hasError(r, "notifications.webhooks[0].retires", "did you mean \"retries\"")) << r.errorText();
  r = load("notifications:\n  webhook: []\n");
  EXPECT_TRUE(hasError(r, "notifications.webhook", "did you mean \"webhooks\"")) << r.errorText();
  r = load("notification:\n  webhooks: []\n");
  EXPECT_TRUE(hasError(r, "notification", "did you mean \"notifications\"")) << r.errorText();
}

TEST(NotificationsConfig, AtMostSixteenWebhooks) {
  std::string entries;
  for (int i = 0; i < 17; ++i) entries += "    - name: w" + std::to_string(i) + "\n      url: https://example.com/x\n";
  const auto r = load(webhooks(entries));
  EXPECT_TRUE(hasError(r, "notifications.webhooks", "at most 16")) << r.errorText();
}

TEST(NotificationsConfig, CheckConfigOutputRedactsTheUrlAndShownRoundTrips) {
  Config c;
  WebhookConfig slack;
  slack.name = "slack";
  slack.url = kSlackUrl;
  slack.format = WebhookFormat::Slack;
  WebhookConfig teams;
  teams.name = "teams";
  teams.url = kTeamsUrl;
  teams.format = WebhookFormat::Teams;
  teams.on = {"DrainFailed"};
  teams.timeout = std::chrono::milliseconds(2500);
  teams.retries = 5;
  WebhookConfig file;
  file.name = "generic";
  file.urlFile = "/etc/aks-node-agent/webhooks/generic";
  c.notifications.webhooks = {slack, teams, file};

  const std::string redacted = printEffectiveConfig(c);
  EXPECT_EQ(redacted.find("XXXXsecretXXXX"), std::string::npos) << redacted;
  EXPECT_EQ(redacted.find("SECRETSIGNATURE"), std::string::npos) << redacted;
  EXPECT_EQ(redacted.find("/services/"), std::string::npos) << redacted;
  EXPECT_NE(redacted.find("https://hooks.slack.com/[redacted]"), std::string::npos) << redacted;
  EXPECT_NE(redacted.find("https://prod-01.westeurope.logic.azure.com:443/[redacted]"), std::string::npos) << redacted;
  EXPECT_NE(redacted.find("/etc/aks-node-agent/webhooks/generic"), std::string::npos) << redacted;
  EXPECT_FALSE(load(redacted).ok()) << "a redacted URL must not load as if it were the real one";
  EXPECT_NE(redacted.find("\"on\":"), std::string::npos) << "on is quoted for YAML 1.1 readers\n" << redacted;

  const std::string shown = printEffectiveConfig(c, ConfigSecrets::Shown);
  const auto r = load(shown);
  ASSERT_TRUE(r.ok()) << r.errorText() << "\n" << shown;
  EXPECT_EQ(r.config, c) << shown;
}

}  // namespace
}  // namespace aksnode
