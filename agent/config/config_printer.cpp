// printEffectiveConfig (config_loader.h): the effective configuration written back as YAML, in
// the contract's key order, one field table per section.
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <initializer_list>
#include <variant>

#include "agent/config/config_loader.h"
#include "agent/config/duration.h"
#include "agent/config/quote.h"
#include "agent/config/validators.h"

namespace aksnode {

namespace {

// Text written as is (an enum's spelling, a byte size); every std::string is double-quoted.
struct Plain {
  std::string text;
};

// One key and its value; the value's type says how it is written.
struct Field {
  std::string_view key;
  std::variant<std::string, Plain, Duration, bool, long long, double> value;
};

// "" when unset (which reads back as unset), else the value.
template <typename T>
Field optionalField(std::string_view key, const std::optional<T>& value, std::string (*format)(T)) {
  if (!value) return Field{key, std::string()};
  return Field{key, Plain{format(*value)}};
}

// Writes YAML with the loader's conventions: strings double-quoted with "$" escaped, every
// other scalar in its plain text form.
class ConfigPrinter {
 public:
  ConfigPrinter() { out_ << YAML::BeginMap; }

  void begin(std::string_view key) { out_ << YAML::Key << std::string(key) << YAML::Value << YAML::BeginMap; }
  void end() { out_ << YAML::EndMap; }
  // A section of scalars only.
  void section(std::string_view key, std::initializer_list<Field> list) {
    begin(key);
    fields(list);
    end();
  }
  void fields(std::initializer_list<Field> list) {
    for (const Field& field : list) std::visit([&](const auto& value) { write(field.key, value); }, field.value);
  }
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
  // A list of maps, entry(printer, element) writing the fields of each.
  template <typename Entry, typename Write>
  void list(std::string_view key, const std::vector<Entry>& entries, Write entry) {
    out_ << YAML::Key << std::string(key) << YAML::Value;
    if (entries.empty()) out_ << YAML::Flow;
    out_ << YAML::BeginSeq;
    for (const Entry& element : entries) {
      out_ << YAML::BeginMap;
      entry(*this, element);
      out_ << YAML::EndMap;
    }
    out_ << YAML::EndSeq;
  }

  std::string text() {
    out_ << YAML::EndMap;
    return std::string(out_.c_str()) + "\n";
  }

 private:
  void plain(std::string_view key, const std::string& value) {
    out_ << YAML::Key << std::string(key) << YAML::Value << value;
  }
  void write(std::string_view key, const std::string& value) {
    out_ << YAML::Key << std::string(key) << YAML::Value << YAML::DoubleQuoted << escapeForExpansion(value);
  }
  void write(std::string_view key, const Plain& value) { plain(key, value.text); }
  void write(std::string_view key, Duration value) { plain(key, formatDuration(value)); }
  void write(std::string_view key, bool value) { plain(key, value ? "true" : "false"); }
  void write(std::string_view key, long long value) { plain(key, std::to_string(value)); }
  void write(std::string_view key, double value) {
    char buffer[64];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);  // shortest round-trip form
    plain(key, ec == std::errc() ? std::string(buffer, end) : std::to_string(value));
  }

  YAML::Emitter out_;
};

void printImds(ConfigPrinter& p, const ImdsConfig& imds) {
  p.begin("imds");
  p.fields({{"endpoint", imds.endpoint}, {"scheduledEventsApiVersion", imds.scheduledEventsApiVersion},
            {"instanceApiVersion", imds.instanceApiVersion}, {"pollInterval", imds.pollInterval},
            {"timeout", imds.timeout}, {"firstCallTimeout", imds.firstCallTimeout}, {"resourceName", imds.resourceName}});
  p.begin("actions");
  for (const EventTypeName& known : kEventTypes) {  // in the contract's order
    if (const auto it = imds.actions.find(known.type); it != imds.actions.end()) {
      p.fields({{known.name, Plain{toString(it->second)}}});
    }
  }
  if (const auto it = imds.actions.find(EventType::Unknown); it != imds.actions.end()) {
    p.fields({{toString(it->first), std::string(toString(it->second))}});  // quoted: not loadable
  }
  p.end();
  p.stringList("acknowledgeAfterDrain", imds.acknowledgeAfterDrain);
  p.end();
}

void printDrain(ConfigPrinter& p, const DrainConfig& drain) {
  p.begin("drain");
  p.fields({{"timeout", drain.timeout}, {"deadlineMargin", drain.deadlineMargin},
            {"evictionRetryInterval", drain.evictionRetryInterval}, {"parallelism", static_cast<long long>(drain.parallelism)},
            optionalField("podGracePeriodCap", drain.podGracePeriodCap, formatDuration),
            {"deleteEmptyDirData", drain.deleteEmptyDirData}});
  p.stringList("skipNamespaces", drain.skipNamespaces);
  p.fields({{"taint", drain.taint}, {"outOfServiceTaintAfterDrain", drain.outOfServiceTaintAfterDrain},
            {"uncordonWhenEventEnds", drain.uncordonWhenEventEnds}});
  p.end();
}

void printWebhook(ConfigPrinter& p, const WebhookConfig& webhook, ConfigSecrets secrets) {
  p.fields({{"name", webhook.name}});
  if (!webhook.url.empty()) {
    p.fields({{"url", secrets == ConfigSecrets::Shown ? webhook.url : redactedUrl(webhook.url)}});
  }
  if (!webhook.urlFile.empty()) p.fields({{"urlFile", webhook.urlFile}});
  p.fields({{"format", Plain{toString(webhook.format)}}});
  p.stringList("on", webhook.on);
  p.fields({{"timeout", webhook.timeout}, {"retries", static_cast<long long>(webhook.retries)}});
}

void printIdentity(ConfigPrinter& p, const IdentityConfig& identity) {
  p.begin("identity");
  p.fields({{"enabled", identity.enabled}, {"tokenFile", identity.tokenFile}, {"clientId", identity.clientId},
            {"tenantId", identity.tenantId}, {"authorityHost", identity.authorityHost},
            {"expectedAudience", identity.expectedAudience}, {"expectedIssuer", identity.expectedIssuer},
            {"expectedSubject", identity.expectedSubject}, {"minRemainingValidity", identity.minRemainingValidity},
            {"clockSkew", identity.clockSkew}, {"verifySignature", identity.verifySignature}});
  p.section("exchange", {{"enabled", identity.exchange.enabled}, {"scope", identity.exchange.scope},
                         {"interval", identity.exchange.interval}});
  p.section("podScan", {{"enabled", identity.podScan.enabled}, {"interval", identity.podScan.interval}});
  p.end();
}

}  // namespace

std::string printEffectiveConfig(const Config& config, ConfigSecrets secrets) {
  ConfigPrinter p;
  p.fields({{"nodeName", config.nodeName}});
  printImds(p, config.imds);
  p.section("kubernetes", {{"kubeconfig", config.kubernetes.kubeconfig}, {"qps", config.kubernetes.qps},
                           {"burst", static_cast<long long>(config.kubernetes.burst)}});
  printDrain(p, config.drain);
  p.section("conditions", {{"enabled", config.conditions.enabled},
                           {"vmEventScheduled", Plain{toString(config.conditions.vmEventScheduled)}},
                           {"preemptionScheduled", Plain{toString(config.conditions.preemptionScheduled)}}});
  p.begin("notifications");
  p.list("webhooks", config.notifications.webhooks,
         [&](ConfigPrinter& q, const WebhookConfig& webhook) { printWebhook(q, webhook, secrets); });
  p.end();
  p.list("disks", config.disks, [](ConfigPrinter& q, const DiskConfig& disk) {
    q.fields({{"path", disk.path}, {"minFreeRatio", disk.minFreeRatio}, {"minFreeInodesRatio", disk.minFreeInodesRatio},
              {"writeProbe", disk.writeProbe}, {"maxProbeLatency", disk.maxProbeLatency},
              {"taintWhenUnhealthy", disk.taintWhenUnhealthy}, {"requireMountPoint", disk.requireMountPoint}});
  });
  p.list("caches", config.caches, [](ConfigPrinter& q, const CacheConfig& cache) {
    q.fields({{"path", cache.path}, optionalField("maxUsedBytes", cache.maxUsedBytes, formatBytes),
              {"writeProbe", cache.writeProbe}, {"taintWhenUnhealthy", cache.taintWhenUnhealthy}});
  });
  p.fields({{"healthInterval", config.healthInterval}, {"healthThreshold", static_cast<long long>(config.healthThreshold)}});
  printIdentity(p, config.identity);
  p.section("metrics", {{"address", config.metrics.address}});
  return p.text();
}

}  // namespace aksnode
