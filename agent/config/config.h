#pragma once
// The agent's configuration: docs/configuration.md, one field per key, with its default.
// Loaded and validated by config_loader.h; everything else reads this plain struct.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/event_type.h"

namespace aksnode {

using Duration = std::chrono::milliseconds;

// What the agent does for one scheduled event type.
enum class EventAction { None, Notify, Cordon, Drain };

struct ImdsConfig {
  std::string endpoint = "http://169.254.169.254";
  std::string scheduledEventsApiVersion = "2020-07-01";
  std::string instanceApiVersion = "2021-02-01";
  Duration pollInterval{1000};
  Duration timeout{2000};
  // The first Scheduled Events call enables the service and may take up to 2 minutes: every
  // call gets this long until one has been answered, then `timeout`.
  Duration firstCallTimeout{120'000};
  std::string resourceName;  // "" = IMDS compute.name, then node spec.providerID
  std::map<EventType, EventAction> actions = {
      {EventType::Preempt, EventAction::Drain}, {EventType::Terminate, EventAction::Drain},
      {EventType::Reboot, EventAction::Drain},  {EventType::Redeploy, EventAction::Drain},
      {EventType::Freeze, EventAction::Notify}};
  std::vector<std::string> acknowledgeAfterDrain;

  bool operator==(const ImdsConfig&) const = default;
};

struct KubernetesConfig {
  std::string kubeconfig;  // "" = in-cluster service account
  double qps = 100;
  int burst = 300;

  bool operator==(const KubernetesConfig&) const = default;
};

struct DrainConfig {
  Duration timeout{120'000};
  Duration deadlineMargin{3000};
  Duration evictionRetryInterval{1000};
  int parallelism = 32;
  std::optional<Duration> podGracePeriodCap;  // unset = keep each pod's own grace period
  bool deleteEmptyDirData = true;
  std::vector<std::string> skipNamespaces;
  bool taint = true;
  bool outOfServiceTaintAfterDrain = false;
  bool uncordonWhenEventEnds = true;

  bool operator==(const DrainConfig&) const = default;
};

// When the agent writes VMEventScheduled. Auto: unless another writer (AKS's
// node-problem-detector) owns the condition; Always: also then (the agent's value wins);
// Never: not at all.
enum class VmEventConditionMode { Auto, Always, Never };
// When the agent sets PreemptionScheduled=True (Karpenter's node repair force-deletes the node
// on it): AfterDrain once the drain for the pending Preempt has ended, OnDetect as soon as the
// Preempt is seen, Never. Like VMEventScheduled in Auto, it yields to another writer.
enum class PreemptionConditionMode { AfterDrain, OnDetect, Never };

struct ConditionsConfig {
  bool enabled = true;
  VmEventConditionMode vmEventScheduled = VmEventConditionMode::Auto;
  PreemptionConditionMode preemptionScheduled = PreemptionConditionMode::AfterDrain;

  bool operator==(const ConditionsConfig&) const = default;
};

// The Kubernetes Event reasons the agent writes (docs/interface.md, "What the agent writes on the
// Node"), in that order; a webhook's `on` names some of them.
inline constexpr const char* kEventReasons[] = {
    "ScheduledEvent", "Cordoned",   "DrainStarted",  "DrainSucceeded", "DrainFailed",     "EvictionBlocked",
    "EventAcknowledged", "Uncordoned", "DiskUnhealthy", "DiskRecovered", "IdentityInvalid", "IdentityRecovered"};
// A webhook's `on` when the configuration leaves it out: the news someone must hear about
// (docs/notifications.md); the rest are progress or recovery, available on request.
inline constexpr const char* kDefaultNotifyReasons[] = {"ScheduledEvent",  "DrainSucceeded", "DrainFailed",
                                                        "EvictionBlocked", "DiskUnhealthy",  "IdentityInvalid"};

// The body a webhook receives (docs/notifications.md): the JSON notice, a Slack
// incoming-webhook message, or a Teams message with an Adaptive Card.
enum class WebhookFormat { Json, Slack, Teams };

struct WebhookConfig {
  std::string name;     // the `webhook` label of aksnode_notifications_total
  std::string url;      // a credential: never logged, served or printed (see printEffectiveConfig)
  std::string urlFile;  // or: a file holding the URL (a mounted Secret), read for every notice
  WebhookFormat format = WebhookFormat::Json;
  std::vector<std::string> on{std::begin(kDefaultNotifyReasons), std::end(kDefaultNotifyReasons)};
  Duration timeout{5000};  // the whole budget of one notice, retries included
  int retries = 3;

  bool operator==(const WebhookConfig&) const = default;
};

struct NotificationsConfig {
  std::vector<WebhookConfig> webhooks;

  bool operator==(const NotificationsConfig&) const = default;
};

struct DiskConfig {
  std::string path = "/mnt";
  double minFreeRatio = 0.10;
  double minFreeInodesRatio = 0.05;
  bool writeProbe = true;
  Duration maxProbeLatency{500};
  bool taintWhenUnhealthy = false;
  // Extension: a path that exists but is not a mount point is unhealthy (NotMounted) only when
  // set; on kind/dev machines /mnt is often a plain directory of the root filesystem.
  bool requireMountPoint = false;

  bool operator==(const DiskConfig&) const = default;
};

struct CacheConfig {
  std::string path = "/mnt/e6data-cache";
  std::optional<std::uint64_t> maxUsedBytes;  // unset = no quota
  bool writeProbe = true;
  bool taintWhenUnhealthy = false;

  bool operator==(const CacheConfig&) const = default;
};

struct IdentityExchangeConfig {
  bool enabled = false;
  std::string scope = "https://storage.azure.com/.default";
  Duration interval{300'000};

  bool operator==(const IdentityExchangeConfig&) const = default;
};

struct IdentityPodScanConfig {
  bool enabled = false;
  Duration interval{300'000};

  bool operator==(const IdentityPodScanConfig&) const = default;
};

struct IdentityConfig {
  bool enabled = true;
  std::string tokenFile;
  std::string clientId;
  std::string tenantId;
  std::string authorityHost = "https://login.microsoftonline.com/";
  std::string expectedAudience = "api://AzureADTokenExchange";
  std::string expectedIssuer;
  std::string expectedSubject;
  Duration minRemainingValidity{600'000};
  Duration clockSkew{60'000};
  bool verifySignature = false;
  IdentityExchangeConfig exchange;
  IdentityPodScanConfig podScan;

  bool operator==(const IdentityConfig&) const = default;
};

struct MetricsConfig {
  std::string address = "0.0.0.0:9810";

  bool operator==(const MetricsConfig&) const = default;
};

struct Config {
  std::string nodeName;
  ImdsConfig imds;
  KubernetesConfig kubernetes;
  DrainConfig drain;
  ConditionsConfig conditions;
  NotificationsConfig notifications;
  std::vector<DiskConfig> disks{DiskConfig{}};
  std::vector<CacheConfig> caches{CacheConfig{}};
  Duration healthInterval{30'000};
  // Extension: consecutive equal probe results before a disk/cache/identity state flips.
  int healthThreshold = 2;
  IdentityConfig identity;
  MetricsConfig metrics;

  bool operator==(const Config&) const = default;
};

const char* toString(EventAction action);
std::optional<EventAction> eventActionFromString(const std::string& text);
const char* toString(VmEventConditionMode mode);
std::optional<VmEventConditionMode> vmEventConditionModeFromString(const std::string& text);
const char* toString(PreemptionConditionMode mode);
std::optional<PreemptionConditionMode> preemptionConditionModeFromString(const std::string& text);
const char* toString(WebhookFormat format);
std::optional<WebhookFormat> webhookFormatFromString(const std::string& text);

}  // namespace aksnode
