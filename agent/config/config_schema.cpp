#include "agent/config/config_schema.h"

#include <limits>

#include "agent/config/config_loader.h"
#include "agent/config/config_values.h"

namespace aksnode::config_reader {

namespace {

// At most this many disks or caches: each becomes metric series and a probe every interval.
constexpr std::size_t kMaxListEntries = 100;
// At most this many webhooks: each is a worker, a queue and three metric series.
constexpr std::size_t kMaxWebhooks = 16;
constexpr int kMaxWebhookRetries = 10;
constexpr Duration kMinWebhookTimeout{100};
constexpr Duration kMaxWebhookTimeout{300'000};

const auto kRatio = numberIn(0.0, 1.0, "expected a number between 0 and 1");
const auto kAbsolutePath = textWhere([](const std::string& text) { return isAbsolutePath(text) && isCleanText(text); },
                                     "expected an absolute path like /mnt");

void readActions(Loader& loader, const Node& node, const std::string& path, std::map<EventType, EventAction>& out) {
  const auto entries = mapEntries(loader, node, path, "expected a map of event type to action");
  if (!entries) return;
  for (const MapEntry& entry : *entries) {
    const std::string entryPath = childPath(path, entry.key);
    const Result<EventType> type = eventTypeKey(entry.key);
    if (!type) {
      loader.error(entryPath, type.error());
      continue;
    }
    const std::string expected = "expected one of none, notify, cordon, drain";
    loader.scalar(entry.value, entryPath, out[type.value()], oneOf(eventActionFromString, expected), expected);
  }
}

void readImds(MapReader& map, ImdsConfig& out) {
  map.scalar("endpoint", out.endpoint, imdsEndpoint, "expected a URL");
  map.scalar("scheduledEventsApiVersion", out.scheduledEventsApiVersion, apiVersion, "expected a string");
  map.scalar("instanceApiVersion", out.instanceApiVersion, apiVersion, "expected a string");
  map.duration("pollInterval", out.pollInterval,
               durationIn(Duration{200}, kMaxDuration, "IMDS allows 5 requests per second per VM"));
  map.duration("timeout", out.timeout, positiveDuration());
  map.duration("firstCallTimeout", out.firstCallTimeout, positiveDuration());
  map.string("resourceName", out.resourceName);
  if (const Node* actions = map.take("actions")) readActions(map.loader(), *actions, map.child("actions"), out.actions);
  stringList(map.loader(), map.take("acknowledgeAfterDrain"), map.child("acknowledgeAfterDrain"),
             out.acknowledgeAfterDrain, eventTypeName, "expected an event type");
}

void readKubernetes(MapReader& map, KubernetesConfig& out) {
  map.string("kubeconfig", out.kubeconfig);
  // Ranges a drain inside a 30 s notice can live with: 1e-300 was accepted and meant one
  // request per 1e300 s (the agent never cordoned); 1e308 overflowed the wait computation.
  map.scalar("qps", out.qps, numberIn(kMinQps, kMaxQps, "expected a number between 1 and 10000"), "expected a number");
  map.scalar("burst", out.burst, integerIn(1, kMaxBurst, "expected an integer between 1 and 100000"),
             "expected an integer");
}

void readDrain(MapReader& map, DrainConfig& out) {
  map.duration("timeout", out.timeout, positiveDuration());
  map.duration("deadlineMargin", out.deadlineMargin, anyDuration());
  map.duration("evictionRetryInterval", out.evictionRetryInterval, positiveDuration());
  map.scalar("parallelism", out.parallelism, integerIn(1, 1000, "expected an integer between 1 and 1000"),
             "expected an integer");
  map.scalar("podGracePeriodCap", out.podGracePeriodCap, gracePeriodCap, kDurationExpected);
  map.boolean("deleteEmptyDirData", out.deleteEmptyDirData);
  stringList(map.loader(), map.take("skipNamespaces"), map.child("skipNamespaces"), out.skipNamespaces,
             textWhere([](const std::string& text) { return isDnsLabel(text); },
                       "expected a namespace name (lowercase letters, digits and '-')"),
             "expected a namespace name");
  map.boolean("taint", out.taint);
  map.boolean("outOfServiceTaintAfterDrain", out.outOfServiceTaintAfterDrain);
  map.boolean("uncordonWhenEventEnds", out.uncordonWhenEventEnds);
}

void readConditions(MapReader& map, ConditionsConfig& out) {
  map.boolean("enabled", out.enabled);
  map.choice("vmEventScheduled", out.vmEventScheduled, vmEventConditionModeFromString,
             "expected one of auto, always, never");
  map.choice("preemptionScheduled", out.preemptionScheduled, preemptionConditionModeFromString,
             "expected one of afterDrain, onDetect, never");
}

// notifications.webhooks[i] (docs/notifications.md); whether its name is valid.
bool readWebhook(MapReader& map, WebhookConfig& out) {
  Loader& loader = map.loader();
  const bool nameOk = map.scalar("name", out.name, webhookName, "expected a string");
  if (map.take("name") == nullptr) {
    loader.error(map.child("name"), "required: the webhook's name (the webhook label of aksnode_notifications_total)");
  }
  bool urlBad = false;
  if (const Node* node = map.take("url")) {
    const std::optional<std::string> text = loader.secretText(*node, map.child("url"));
    Result<std::string> parsed = text ? webhookUrl(*text) : Result<std::string>::failure({});
    if (parsed) {
      out.url = std::move(parsed.value());
    } else {
      urlBad = true;
      if (text) loader.error(map.child("url"), parsed.error());
    }
  }
  bool urlFileBad = false;  // a value that is not a scalar still leaves "exactly one of" to report
  const auto urlFile = textWhere([](const std::string& t) { return t.empty() || (isAbsolutePath(t) && isCleanText(t)); },
                                 "expected an absolute path like /etc/aks-node-agent/webhooks/slack");
  map.scalar("urlFile", out.urlFile,
             [&](const std::string& text) {
               auto parsed = urlFile(text);
               urlFileBad = !parsed.ok();
               return parsed;
             },
             "expected a string");
  if (!urlBad && !urlFileBad && out.url.empty() == out.urlFile.empty()) {
    loader.error(map.child(out.url.empty() ? "url" : "urlFile"),
                 out.url.empty() ? "required: exactly one of url or urlFile (a file from a mounted Secret)"
                                 : "give exactly one of url or urlFile, not both");
  }
  map.choice("format", out.format, webhookFormatFromString, "expected one of json, slack, teams");
  if (const Node* on = map.take("on")) {
    stringList(loader, on, map.child("on"), out.on, eventReason, "expected an Event reason");
    if (on->IsNull() || (on->IsSequence() && on->size() == 0)) {
      loader.error(map.child("on"), "expected at least one Event reason (a webhook for none would never be called)");
    }
  }
  map.duration("timeout", out.timeout, durationIn(kMinWebhookTimeout, kMaxWebhookTimeout));
  map.scalar("retries", out.retries,
             integerIn(0, kMaxWebhookRetries, "expected an integer between 0 and " + std::to_string(kMaxWebhookRetries)),
             "expected an integer");
  return nameOk;
}

void readNotifications(MapReader& map, NotificationsConfig& out) {
  const Node* list = map.take("webhooks");
  map.finish();  // unknown keys first, then the webhooks
  keyedList(map.loader(), list, map.child("webhooks"), out.webhooks,
            KeyedList{"a name and a url or urlFile", kMaxWebhooks, "webhooks", "name"}, readWebhook,
            [](const WebhookConfig& w) { return std::pair{w.name, w.name}; });
}

// The path of one disk or cache entry: required, absolute. Whether it is valid.
bool readEntryPath(MapReader& map, std::string& out) {
  if (map.scalar("path", out, kAbsolutePath, "expected an absolute path")) return true;
  if (map.take("path") == nullptr) {
    map.loader().error(map.child("path"), "required: the absolute path of the mount or directory");
  }
  return false;
}

bool readDisk(MapReader& map, DiskConfig& out) {
  const bool pathOk = readEntryPath(map, out.path);
  map.scalar("minFreeRatio", out.minFreeRatio, kRatio, "expected a number");
  map.scalar("minFreeInodesRatio", out.minFreeInodesRatio, kRatio, "expected a number");
  map.boolean("writeProbe", out.writeProbe);
  map.duration("maxProbeLatency", out.maxProbeLatency, positiveDuration());
  map.boolean("taintWhenUnhealthy", out.taintWhenUnhealthy);
  map.boolean("requireMountPoint", out.requireMountPoint);  // extension: NotMounted is a failure
  return pathOk;
}

bool readCache(MapReader& map, CacheConfig& out) {
  const bool pathOk = readEntryPath(map, out.path);
  map.scalar("maxUsedBytes", out.maxUsedBytes, cacheQuota, kBytesExpected);
  map.boolean("writeProbe", out.writeProbe);
  map.boolean("taintWhenUnhealthy", out.taintWhenUnhealthy);
  return pathOk;
}

void readExchange(MapReader& map, IdentityExchangeConfig& out) {
  map.boolean("enabled", out.enabled);
  map.scalar("scope", out.scope,
             textWhere([](const std::string& text) { return !text.empty() && isCleanText(text); },
                       "expected a scope like https://storage.azure.com/.default"),
             "expected a string");
  map.duration("interval", out.interval, positiveDuration());
}

void readPodScan(MapReader& map, IdentityPodScanConfig& out) {
  map.boolean("enabled", out.enabled);
  map.duration("interval", out.interval, positiveDuration());
}

void readIdentity(MapReader& map, IdentityConfig& out) {
  map.boolean("enabled", out.enabled);
  map.string("tokenFile", out.tokenFile);
  map.string("clientId", out.clientId);
  map.string("tenantId", out.tenantId);
  map.scalar("authorityHost", out.authorityHost, httpUrl({}, "https://login.microsoftonline.com/", false),
             "expected a URL");
  map.string("expectedAudience", out.expectedAudience);
  map.scalar("expectedIssuer", out.expectedIssuer, httpUrl({}, "https://oidc.example.com/issuer/", true),
             "expected a URL");
  map.scalar("expectedSubject", out.expectedSubject, serviceAccountSubject, "expected a string");
  map.duration("minRemainingValidity", out.minRemainingValidity, anyDuration());
  map.duration("clockSkew", out.clockSkew, anyDuration());
  map.boolean("verifySignature", out.verifySignature);
  map.section("exchange", out.exchange, readExchange);
  map.section("podScan", out.podScan, readPodScan);
}

void readMetrics(MapReader& map, MetricsConfig& out) {
  map.scalar("address", out.address, hostPortText, "expected host:port");
}

}  // namespace

void readConfig(Loader& loader, const Node& root, Config& out) {
  if (!root.IsNull() && !root.IsMap()) {
    loader.error("", std::string("the configuration must be a YAML map of keys like \"imds:\", got ") + describe(root));
    return;
  }
  MapReader map(loader, root, "");
  map.scalar("nodeName", out.nodeName,
             textWhere([](const std::string& text) { return text.empty() || isDnsSubdomain(text); },
                       "expected a Kubernetes node name (lowercase letters, digits, '-' and '.')"),
             "expected a string");
  map.section("imds", out.imds, readImds);
  map.section("kubernetes", out.kubernetes, readKubernetes);
  map.section("drain", out.drain, readDrain);
  map.section("conditions", out.conditions, readConditions);
  map.section("notifications", out.notifications, readNotifications);
  const KeyedList pathList{"a path", kMaxListEntries, "entries", "path"};
  const auto byPath = [](const auto& entry) { return std::pair{normalizePathForComparison(entry.path), entry.path}; };
  keyedList(loader, map.take("disks"), map.child("disks"), out.disks, pathList, readDisk, byPath);
  keyedList(loader, map.take("caches"), map.child("caches"), out.caches, pathList, readCache, byPath);
  map.duration("healthInterval", out.healthInterval, positiveDuration());
  map.scalar("healthThreshold", out.healthThreshold,
             integerIn(1, std::numeric_limits<int>::max(), "expected an integer of at least 1"), "expected an integer");
  map.section("identity", out.identity, readIdentity);
  map.section("metrics", out.metrics, readMetrics);
  map.finish();
}

}  // namespace aksnode::config_reader
