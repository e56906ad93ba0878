// printEffectiveConfig (config_loader.h): the effective configuration written back as YAML.
#include <yaml-cpp/yaml.h>

#include <charconv>

#include "agent/config/config_loader.h"
#include "agent/config/duration.h"
#include "agent/config/quote.h"
#include "agent/config/validators.h"

namespace aksnode {

namespace {

// Writes YAML with the loader's conventions: strings double-quoted with "$" escaped, every
// other scalar in its plain text form.
class ConfigPrinter {
 public:
  void begin(std::string_view key) { out_ << YAML::Key << std::string(key) << YAML::Value << YAML::BeginMap; }
  void end() { out_ << YAML::EndMap; }
  void string(std::string_view key, const std::string& value) {
    out_ << YAML::Key << std::string(key) << YAML::Value << YAML::DoubleQuoted << escapeForExpansion(value);
  }
  void plain(std::string_view key, const std::string& value) {
    out_ << YAML::Key << std::string(key) << YAML::Value << value;
  }
  void boolean(std::string_view key, bool value) { plain(key, value ? "true" : "false"); }
  void integer(std::string_view key, long long value) { plain(key, std::to_string(value)); }
  void number(std::string_view key, double value) {
    char buffer[64];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);  // shortest round-trip form
    plain(key, ec == std::errc() ? std::string(buffer, end) : std::to_string(value));
  }
  void duration(std::string_view key, Duration value) { plain(key, formatDuration(value)); }
  void stringList(std::string_view key, const std::vector<std::string>& values) {
    out_ << YAML::Key;
    // YAML 1.1 readers (PyYAML, Helm) take a bare on for true (docs/notifications.md).
    if (key == "on") out_ << YAML::DoubleQuoted;
    out_ << std::string(key) << YAML::Value;
    if (values.empty()) out_ << YAML::Flow;
    out_ << YAML::BeginSeq;
    for (const std::string& value : values) out_ << YAML::DoubleQuoted << escapeForExpansion(value);
    out_ << YAML::EndSeq;
  }
  // A list of maps: beginList, then beginListEntry/end per entry, then endList.
  void beginList(std::string_view key, bool empty) {
    out_ << YAML::Key << std::string(key) << YAML::Value;
    if (empty) out_ << YAML::Flow;
    out_ << YAML::BeginSeq;
  }
  void beginListEntry() { out_ << YAML::BeginMap; }
  void endList() { out_ << YAML::EndSeq; }

  YAML::Emitter& emitter() { return out_; }

 private:
  YAML::Emitter out_;
};

}  // namespace

std::string printEffectiveConfig(const Config& config, ConfigSecrets secrets) {
  ConfigPrinter p;
  p.emitter() << YAML::BeginMap;
  p.string("nodeName", config.nodeName);

  const ImdsConfig& imds = config.imds;
  p.begin("imds");
  p.string("endpoint", imds.endpoint);
  p.string("scheduledEventsApiVersion", imds.scheduledEventsApiVersion);
  p.string("instanceApiVersion", imds.instanceApiVersion);
  p.duration("pollInterval", imds.pollInterval);
  p.duration("timeout", imds.timeout);
  p.duration("firstCallTimeout", imds.firstCallTimeout);
  p.string("resourceName", imds.resourceName);
  p.begin("actions");
  for (const EventTypeName& known : kEventTypes) {  // in the contract's order
    if (const auto it = imds.actions.find(known.type); it != imds.actions.end()) p.plain(known.name, toString(it->second));
  }
  if (const auto it = imds.actions.find(EventType::Unknown); it != imds.actions.end()) {
    p.string(toString(it->first), toString(it->second));  // not loadable
  }
  p.end();
  p.stringList("acknowledgeAfterDrain", imds.acknowledgeAfterDrain);
  p.end();

  const KubernetesConfig& kube = config.kubernetes;
  p.begin("kubernetes");
  p.string("kubeconfig", kube.kubeconfig);
  p.number("qps", kube.qps);
  p.integer("burst", kube.burst);
  p.end();

  const DrainConfig& drain = config.drain;
  p.begin("drain");
  p.duration("timeout", drain.timeout);
  p.duration("deadlineMargin", drain.deadlineMargin);
  p.duration("evictionRetryInterval", drain.evictionRetryInterval);
  p.integer("parallelism", drain.parallelism);
  if (drain.podGracePeriodCap) {
    p.duration("podGracePeriodCap", *drain.podGracePeriodCap);
  } else {
    p.string("podGracePeriodCap", "");
  }
  p.boolean("deleteEmptyDirData", drain.deleteEmptyDirData);
  p.stringList("skipNamespaces", drain.skipNamespaces);
  p.boolean("taint", drain.taint);
  p.boolean("outOfServiceTaintAfterDrain", drain.outOfServiceTaintAfterDrain);
  p.boolean("uncordonWhenEventEnds", drain.uncordonWhenEventEnds);
  p.end();

  p.begin("conditions");
  p.boolean("enabled", config.conditions.enabled);
  p.plain("vmEventScheduled", toString(config.conditions.vmEventScheduled));
  p.plain("preemptionScheduled", toString(config.conditions.preemptionScheduled));
  p.end();

  p.begin("notifications");
  p.beginList("webhooks", config.notifications.webhooks.empty());
  for (const WebhookConfig& webhook : config.notifications.webhooks) {
    p.beginListEntry();
    p.string("name", webhook.name);
    if (!webhook.url.empty()) {
      p.string("url", secrets == ConfigSecrets::Shown ? webhook.url : redactedUrl(webhook.url));
    }
    if (!webhook.urlFile.empty()) p.string("urlFile", webhook.urlFile);
    p.plain("format", toString(webhook.format));
    p.stringList("on", webhook.on);
    p.duration("timeout", webhook.timeout);
    p.integer("retries", webhook.retries);
    p.end();
  }
  p.endList();
  p.end();

  p.beginList("disks", config.disks.empty());
  for (const DiskConfig& disk : config.disks) {
    p.beginListEntry();
    p.string("path", disk.path);
    p.number("minFreeRatio", disk.minFreeRatio);
    p.number("minFreeInodesRatio", disk.minFreeInodesRatio);
    p.boolean("writeProbe", disk.writeProbe);
    p.duration("maxProbeLatency", disk.maxProbeLatency);
    p.boolean("taintWhenUnhealthy", disk.taintWhenUnhealthy);
    p.boolean("requireMountPoint", disk.requireMountPoint);
    p.end();
  }
  p.endList();

  p.beginList("caches", config.caches.empty());
  for (const CacheConfig& cache : config.caches) {
    p.beginListEntry();
    p.string("path", cache.path);
    if (cache.maxUsedBytes) {
      p.plain("maxUsedBytes", formatBytes(*cache.maxUsedBytes));
    } else {
      p.string("maxUsedBytes", "");
    }
    p.boolean("writeProbe", cache.writeProbe);
    p.boolean("taintWhenUnhealthy", cache.taintWhenUnhealthy);
    p.end();
  }
  p.endList();

  p.duration("healthInterval", config.healthInterval);
  p.integer("healthThreshold", config.healthThreshold);

  const IdentityConfig& identity = config.identity;
  p.begin("identity");
  p.boolean("enabled", identity.enabled);
  p.string("tokenFile", identity.tokenFile);
  p.string("clientId", identity.clientId);
  p.string("tenantId", identity.tenantId);
  p.string("authorityHost", identity.authorityHost);
  p.string("expectedAudience", identity.expectedAudience);
  p.string("expectedIssuer", identity.expectedIssuer);
  p.string("expectedSubject", identity.expectedSubject);
  p.duration("minRemainingValidity", identity.minRemainingValidity);
  p.duration("clockSkew", identity.clockSkew);
  p.boolean("verifySignature", identity.verifySignature);
  p.begin("exchange");
  p.boolean("enabled", identity.exchange.enabled);
  p.string("scope", identity.exchange.scope);
  p.duration("interval", identity.exchange.interval);
  p.end();
  p.begin("podScan");
  p.boolean("enabled", identity.podScan.enabled);
  p.duration("interval", identity.podScan.interval);
  p.end();
  p.end();

  p.begin("metrics");
  p.string("address", config.metrics.address);
  p.end();

  p.emitter() << YAML::EndMap;
  std::string text = p.emitter().c_str();
  text += '\n';
  return text;
}

}  // namespace aksnode
