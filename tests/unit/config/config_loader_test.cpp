#include "agent/config/config_loader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

namespace aksnode {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

EnvLookup fakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

ConfigLoadResult load(std::string_view yaml) { return loadConfigString(yaml, emptyEnvironment()); }

std::string sourceFile(const std::string& relative) { return std::string(AKSNODE_SOURCE_DIR) + "/" + relative; }

// ---- defaults and whole documents ----

TEST(ConfigLoader, EmptyDocumentsGiveDefaults) {
  for (const char* text : {"", "\n", "# only a comment\n# and another\n", "---\n", "~\n", "---\n# c\n...\n"}) {
    const ConfigLoadResult result = load(text);
    EXPECT_TRUE(result.ok()) << text << ": " << result.errorText();
    EXPECT_EQ(result.config, Config{}) << text;
  }
}

TEST(ConfigLoader, DefaultsMatchTheContract) {
  const Config c;
  EXPECT_EQ(c.imds.endpoint, "http://169.254.169.254");
  EXPECT_EQ(c.imds.pollInterval, seconds(1));
  EXPECT_EQ(c.imds.timeout, seconds(2));
  EXPECT_EQ(c.imds.firstCallTimeout, seconds(120));
  EXPECT_EQ(c.conditions.vmEventScheduled, VmEventConditionMode::Auto);
  EXPECT_EQ(c.conditions.preemptionScheduled, PreemptionConditionMode::AfterDrain);
  EXPECT_EQ(c.imds.actions.at(EventType::Preempt), EventAction::Drain);
  EXPECT_EQ(c.imds.actions.at(EventType::Freeze), EventAction::Notify);
  EXPECT_EQ(c.imds.actions.size(), 5U);
  EXPECT_EQ(c.kubernetes.qps, 100);
  EXPECT_EQ(c.kubernetes.burst, 300);
  EXPECT_EQ(c.drain.timeout, seconds(120));
  EXPECT_EQ(c.drain.parallelism, 32);
  EXPECT_EQ(c.drain.podGracePeriodCap, std::nullopt);
  ASSERT_EQ(c.disks.size(), 1U);
  EXPECT_EQ(c.disks[0].path, "/mnt");
  EXPECT_EQ(c.disks[0].maxProbeLatency, milliseconds(500));
  ASSERT_EQ(c.caches.size(), 1U);
  EXPECT_EQ(c.caches[0].path, "/mnt/e6data-cache");
  EXPECT_EQ(c.caches[0].maxUsedBytes, std::nullopt);
  EXPECT_EQ(c.healthInterval, seconds(30));
  EXPECT_EQ(c.identity.minRemainingValidity, minutes(10));
  EXPECT_EQ(c.identity.clockSkew, seconds(60));
  EXPECT_EQ(c.identity.exchange.interval, minutes(5));
  EXPECT_EQ(c.metrics.address, "0.0.0.0:9810");
}

TEST(ConfigLoader, ContractSampleLoadsToTheDefaults) {
  const ConfigLoadResult result =
      loadConfigFile(sourceFile("tests/unit/config/testdata/contract_sample.yaml"), emptyEnvironment());
  ASSERT_TRUE(result.ok()) << result.errorText();
  EXPECT_EQ(result.config, Config{});
}

TEST(ConfigLoader, ContractSampleTakesTheEnvironment) {
  const EnvLookup env = fakeEnv({{"NODE_NAME", "aks-spot-12345678-vmss000003"},
                                 {"AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/azure/tokens/azure-identity-token"},
                                 {"AZURE_CLIENT_ID", "11111111-2222-3333-4444-555555555555"},
                                 {"AZURE_TENANT_ID", "66666666-7777-8888-9999-000000000000"},
                                 {"AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us/"}});
  const ConfigLoadResult result =
      loadConfigFile(sourceFile("tests/unit/config/testdata/contract_sample.yaml"), env);
  ASSERT_TRUE(result.ok()) << result.errorText();
  EXPECT_EQ(result.config.nodeName, "aks-spot-12345678-vmss000003");
  EXPECT_EQ(result.config.identity.tokenFile, "/var/run/secrets/azure/tokens/azure-identity-token");
  EXPECT_EQ(result.config.identity.clientId, "11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(result.config.identity.tenantId, "66666666-7777-8888-9999-000000000000");
  EXPECT_EQ(result.config.identity.authorityHost, "https://login.microsoftonline.us/");
}

TEST(ConfigLoader, DeployedConfigsAreValid) {
  for (const char* file : {"deploy/base/config.yaml", "deploy/overlays/e6data/config.yaml"}) {
    if (!std::filesystem::exists(sourceFile(file))) continue;  // deploy/ is another engineer's
    const ConfigLoadResult result = loadConfigFile(sourceFile(file), fakeEnv({{"NODE_NAME", "aks-node-1"}}));
    EXPECT_TRUE(result.ok()) << file << ":\n" << result.errorText();
  }
}

TEST(ConfigLoader, ReadsEveryKey) {
  const ConfigLoadResult result = load(R"(
nodeName: aks-pool-1
imds:
  endpoint: http://127.0.0.1:8080
  scheduledEventsApiVersion: 2020-07-01
  instanceApiVersion: "2023-07-01"
  pollInterval: 200ms
  timeout: 1500ms
  firstCallTimeout: 90s
  resourceName: aks-pool-1_3
  actions:
    Preempt: cordon
    Freeze: none
  acknowledgeAfterDrain: [Reboot, Redeploy]
kubernetes:
  kubeconfig: /etc/kubeconfig
  qps: 2.5
  burst: 1
drain:
  timeout: 2m
  deadlineMargin: 0s
  evictionRetryInterval: 250ms
  parallelism: 1000
  podGracePeriodCap: 20s
  deleteEmptyDirData: false
  skipNamespaces: [kube-system, monitoring]
  taint: false
  outOfServiceTaintAfterDrain: true
  uncordonWhenEventEnds: false
conditions:
  enabled: false
  vmEventScheduled: never
  preemptionScheduled: onDetect
disks:
  - path: /mnt
    minFreeRatio: 0
    minFreeInodesRatio: 1
    writeProbe: false
    maxProbeLatency: 2s
    taintWhenUnhealthy: true
  - path: /var/lib/data
caches:
  - path: /mnt/cache
    maxUsedBytes: 1.5Ti
    writeProbe: false
    taintWhenUnhealthy: true
healthInterval: 10s
healthThreshold: 5
identity:
  enabled: false
  tokenFile: /var/run/token
  clientId: client
  tenantId: tenant
  authorityHost: http://127.0.0.1:9000/
  expectedAudience: api://Custom
  expectedIssuer: https://oidc.prod-aks.azure.com/tenant/guid/
  expectedSubject: system:serviceaccount:aks-node-agent:aks-node-agent
  minRemainingValidity: 0s
  clockSkew: 5m
  verifySignature: true
  exchange:
    enabled: true
    scope: api://x/.default
    interval: 1h
  podScan:
    enabled: true
    interval: 30s
metrics:
  address: "[::1]:0"
)");
  ASSERT_TRUE(result.ok()) << result.errorText();
  const Config& c = result.config;
  EXPECT_EQ(c.nodeName, "aks-pool-1");
  EXPECT_EQ(c.imds.endpoint, "http://127.0.0.1:8080");
  EXPECT_EQ(c.imds.scheduledEventsApiVersion, "2020-07-01");
  EXPECT_EQ(c.imds.instanceApiVersion, "2023-07-01");
  EXPECT_EQ(c.imds.pollInterval, milliseconds(200));
  EXPECT_EQ(c.imds.timeout, milliseconds(1500));
  EXPECT_EQ(c.imds.resourceName, "aks-pool-1_3");
  // Named types change; the others keep their defaults.
  EXPECT_EQ(c.imds.actions, (std::map<EventType, EventAction>{{EventType::Preempt, EventAction::Cordon},
                                                               {EventType::Terminate, EventAction::Drain},
                                                               {EventType::Reboot, EventAction::Drain},
                                                               {EventType::Redeploy, EventAction::Drain},
                                                               {EventType::Freeze, EventAction::None}}));
  EXPECT_EQ(c.imds.acknowledgeAfterDrain, (std::vector<std::string>{"Reboot", "Redeploy"}));
  EXPECT_EQ(c.kubernetes.kubeconfig, "/etc/kubeconfig");
  EXPECT_EQ(c.kubernetes.qps, 2.5);
  EXPECT_EQ(c.kubernetes.burst, 1);
  EXPECT_EQ(c.drain.timeout, minutes(2));
  EXPECT_EQ(c.drain.deadlineMargin, milliseconds(0));
  EXPECT_EQ(c.drain.evictionRetryInterval, milliseconds(250));
  EXPECT_EQ(c.drain.parallelism, 1000);
  EXPECT_EQ(c.drain.podGracePeriodCap, std::optional<Duration>(seconds(20)));
  EXPECT_EQ(c.imds.firstCallTimeout, seconds(90));
  EXPECT_EQ(c.conditions.vmEventScheduled, VmEventConditionMode::Never);
  EXPECT_EQ(c.conditions.preemptionScheduled, PreemptionConditionMode::OnDetect);
  EXPECT_FALSE(c.drain.deleteEmptyDirData);
  EXPECT_EQ(c.drain.skipNamespaces, (std::vector<std::string>{"kube-system", "monitoring"}));
  EXPECT_FALSE(c.drain.taint);
  EXPECT_TRUE(c.drain.outOfServiceTaintAfterDrain);
  EXPECT_FALSE(c.drain.uncordonWhenEventEnds);
  EXPECT_FALSE(c.conditions.enabled);
  ASSERT_EQ(c.disks.size(), 2U);
  EXPECT_EQ(c.disks[0].minFreeRatio, 0);
  EXPECT_EQ(c.disks[0].minFreeInodesRatio, 1);
  EXPECT_FALSE(c.disks[0].writeProbe);
  EXPECT_EQ(c.disks[0].maxProbeLatency, seconds(2));
  EXPECT_TRUE(c.disks[0].taintWhenUnhealthy);
  // An entry with only a path takes the defaults for the rest.
  DiskConfig second;
  second.path = "/var/lib/data";
  EXPECT_EQ(c.disks[1], second);
  ASSERT_EQ(c.caches.size(), 1U);
  EXPECT_EQ(c.caches[0].path, "/mnt/cache");
  EXPECT_EQ(c.caches[0].maxUsedBytes, std::optional<std::uint64_t>(1536ULL << 30));
  EXPECT_FALSE(c.caches[0].writeProbe);
  EXPECT_TRUE(c.caches[0].taintWhenUnhealthy);
  EXPECT_EQ(c.healthInterval, seconds(10));
  EXPECT_EQ(c.healthThreshold, 5);
  EXPECT_FALSE(c.identity.enabled);
  EXPECT_EQ(c.identity.tokenFile, "/var/run/token");
  EXPECT_EQ(c.identity.clientId, "client");
  EXPECT_EQ(c.identity.tenantId, "tenant");
  EXPECT_EQ(c.identity.authorityHost, "http://127.0.0.1:9000/");
  EXPECT_EQ(c.identity.expectedAudience, "api://Custom");
  EXPECT_EQ(c.identity.expectedIssuer, "https://oidc.prod-aks.azure.com/tenant/guid/");
  EXPECT_EQ(c.identity.expectedSubject, "system:serviceaccount:aks-node-agent:aks-node-agent");
  EXPECT_EQ(c.identity.minRemainingValidity, milliseconds(0));
  EXPECT_EQ(c.identity.clockSkew, minutes(5));
  EXPECT_TRUE(c.identity.verifySignature);
  EXPECT_TRUE(c.identity.exchange.enabled);
  EXPECT_EQ(c.identity.exchange.scope, "api://x/.default");
  EXPECT_EQ(c.identity.exchange.interval, minutes(60));
  EXPECT_TRUE(c.identity.podScan.enabled);
  EXPECT_EQ(c.identity.podScan.interval, seconds(30));
  EXPECT_EQ(c.metrics.address, "[::1]:0");
}

TEST(ConfigLoader, ImdsEndpointMayHaveAPathPrefix) {
  // A proxy, or the fake IMDS's per-VM paths (the fleet benchmark); the agent appends /metadata/...
  const ConfigLoadResult result = load("imds:\n  endpoint: http://127.0.0.1:8080/vm/aks-spot-2\n");
  ASSERT_TRUE(result.ok()) << result.errorText();
  EXPECT_EQ(result.config.imds.endpoint, "http://127.0.0.1:8080/vm/aks-spot-2");
  EXPECT_FALSE(load("imds:\n  endpoint: http://127.0.0.1:8080/vm/x/metadata/scheduledevents\n").ok());
}

TEST(ConfigLoader, EmptyListsAndNulls) {
  const ConfigLoadResult result = load(R"(
disks: []
caches:
imds:
  acknowledgeAfterDrain:
  actions:
  resourceName:
drain:
kubernetes: {}
)");
  ASSERT_TRUE(result.ok()) << result.errorText();
  EXPECT_TRUE(result.config.disks.empty());
  EXPECT_TRUE(result.config.caches.empty());
  EXPECT_EQ(result.config.imds, ImdsConfig{});
  EXPECT_EQ(result.config.drain, DrainConfig{});
}

TEST(ConfigLoader, ExpandsScalarValuesNotKeys) {
  const EnvLookup env = fakeEnv({{"NODE_NAME", "aks-node-7"},
                                 {"POLL", "500ms"},
                                 {"QPS", "50"},
                                 {"ON", "true"},
                                 {"KEY", "pollInterval"},
                                 {"DISK", "/data"}});
  const ConfigLoadResult result = loadConfigString(R"(
nodeName: ${NODE_NAME}
imds:
  pollInterval: ${POLL}
  timeout: ${TIMEOUT:-3s}
kubernetes:
  qps: ${QPS}
drain:
  taint: ${ON}
disks:
  - path: ${DISK}
    maxProbeLatency: ${LATENCY:-1s}
identity:
  expectedAudience: "price: $$5 ${UNSET}"
)",
                                                   env);
  ASSERT_TRUE(result.ok()) << result.errorText();
  EXPECT_EQ(result.config.nodeName, "aks-node-7");
  EXPECT_EQ(result.config.imds.pollInterval, milliseconds(500));
  EXPECT_EQ(result.config.imds.timeout, seconds(3));
  EXPECT_EQ(result.config.kubernetes.qps, 50);
  EXPECT_TRUE(result.config.drain.taint);
  ASSERT_EQ(result.config.disks.size(), 1U);
  EXPECT_EQ(result.config.disks[0].path, "/data");
  EXPECT_EQ(result.config.disks[0].maxProbeLatency, seconds(1));
  EXPECT_EQ(result.config.identity.expectedAudience, "price: $5 ");

  // A key is never expanded: "${KEY}" stays an unknown key.
  const ConfigLoadResult keyed = loadConfigString("imds:\n  ${KEY}: 2s\n", env);
  ASSERT_EQ(keyed.errors.size(), 1U) << keyed.errorText();
  EXPECT_EQ(keyed.errors[0].path, "imds.${KEY}");
}

TEST(ConfigLoader, UnsetNodeNameExpandsToEmptyAsInBash) {
  const ConfigLoadResult result = load("nodeName: ${NODE_NAME}\n");
  ASSERT_TRUE(result.ok()) << result.errorText();
  EXPECT_EQ(result.config.nodeName, "");
}

// ---- errors: one per row, with its key path and the start of its message ----

struct ErrorCase {
  const char* name;
  const char* yaml;
  const char* path;
  const char* message;  // the message must contain this
};

class ConfigErrors : public testing::TestWithParam<ErrorCase> {};

TEST_P(ConfigErrors, NamesTheKeyPath) {
  const ErrorCase& c = GetParam();
  const ConfigLoadResult result = loadConfigString(c.yaml, fakeEnv({{"BAD", "soon"}}));
  ASSERT_EQ(result.errors.size(), 1U) << c.yaml << "\n" << result.errorText();
  EXPECT_EQ(result.errors[0].path, c.path);
  EXPECT_NE(result.errors[0].message.find(c.message), std::string::npos)
      << "message: " << result.errors[0].message << "\nwanted: " << c.message;
}

const ErrorCase kErrorCases[] = {
    // Unknown keys, with a suggestion when there is a close one.
    {"typo", "imds:\n  pollIntervall: 1s\n", "imds.pollIntervall", "unknown key; did you mean \"pollInterval\"?"},
    {"typo_top", "healthIntervall: 30s\n", "healthIntervall", "did you mean \"healthInterval\"?"},
    {"typo_case", "drain:\n  Timeout: 3s\n", "drain.Timeout", "did you mean \"timeout\"?"},
    {"typo_nested", "identity:\n  exchange:\n    scoep: x\n", "identity.exchange.scoep", "did you mean \"scope\"?"},
    {"typo_disk", "disks:\n  - path: /mnt\n    minFreeRatoi: 0.1\n", "disks[0].minFreeRatoi",
     "did you mean \"minFreeRatio\"?"},
    {"unknown_far", "imds:\n  colour: blue\n", "imds.colour", "unknown key; valid keys are endpoint, "},
    {"unknown_section", "prometheus: {}\n", "prometheus", "unknown key"},
    {"duplicate_key", "drain:\n  timeout: 1s\n  timeout: 2s\n", "drain.timeout", "duplicate key"},
    {"long_key", "imds:\n  aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: 1\n",
     "imds.\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\"", "unknown key"},
    {"control_key", "imds:\n  \"a\\nb\": 1\n", "imds.\"a\\x0ab\"", "unknown key"},
    {"empty_key", "imds:\n  \"\": 1\n", "imds.\"\"", "unknown key"},
    {"complex_key", "imds:\n  ? [a]\n  : 1\n", "imds", "keys must be plain strings"},
    // Document shape.
    {"root_list", "- a\n- b\n", "", "must be a YAML map"},
    {"root_scalar", "hello\n", "", "must be a YAML map"},
    {"two_documents", "imds: {}\n---\ndrain: {}\n", "", "one YAML document"},
    {"bad_yaml", "imds: [\n", "", "invalid YAML at line"},
    // yaml-cpp 0.7's LoadAll loops forever on these (jbeder/yaml-cpp#1040); the loader must not.
    {"stuck_comma", ",\n", "", "invalid YAML at line 1, column 1"},
    {"stuck_comma_flow", ", {\n", "", "invalid YAML"},
    {"stuck_after_document", "imds: {}\n, x\n", "", "invalid YAML"},
    {"bad_yaml_indent", "imds:\n  timeout: 1s\n pollInterval: 1s\n", "", "invalid YAML"},
    {"section_scalar", "imds: fast\n", "imds", "expected a map, got a scalar"},
    {"section_list", "drain: [1]\n", "drain", "expected a map, got a list"},
    // Durations.
    {"duration_garbage", "drain:\n  timeout: soon\n", "drain.timeout", "expected a duration like 30s"},
    {"duration_unitless", "drain:\n  timeout: 30\n", "drain.timeout", "expected a duration like 30s"},
    {"duration_negative", "drain:\n  timeout: -5s\n", "drain.timeout", "negative"},
    {"duration_overflow", "healthInterval: 9999999999999h\n", "healthInterval", "too long"},
    {"duration_map", "drain:\n  timeout: {a: 1}\n", "drain.timeout", "expected a duration like 30s, got a map"},
    {"duration_null", "drain:\n  timeout:\n", "drain.timeout", "expected a duration like 30s"},
    {"duration_from_env", "drain:\n  timeout: ${BAD}\n", "drain.timeout", "got \"soon\""},
    {"poll_too_fast", "imds:\n  pollInterval: 100ms\n", "imds.pollInterval", "at least 200ms"},
    {"timeout_zero", "imds:\n  timeout: 0s\n", "imds.timeout", "greater than 0s"},
    {"drain_timeout_zero", "drain:\n  timeout: 0s\n", "drain.timeout", "greater than 0s"},
    {"retry_zero", "drain:\n  evictionRetryInterval: 0ms\n", "drain.evictionRetryInterval", "greater than 0s"},
    {"health_zero", "healthInterval: 0s\n", "healthInterval", "greater than 0s"},
    {"latency_zero", "disks:\n  - path: /mnt\n    maxProbeLatency: 0s\n", "disks[0].maxProbeLatency",
     "greater than 0s"},
    {"exchange_interval", "identity:\n  exchange:\n    interval: 0s\n", "identity.exchange.interval", "greater than 0s"},
    {"podscan_interval", "identity:\n  podScan:\n    interval: x\n", "identity.podScan.interval", "expected a duration"},
    {"grace_cap_garbage", "drain:\n  podGracePeriodCap: twenty\n", "drain.podGracePeriodCap",
     "expected a duration like 30s"},
    {"grace_cap_fraction", "drain:\n  podGracePeriodCap: 1500ms\n", "drain.podGracePeriodCap", "whole number of seconds"},
    // gracePeriodSeconds 0 is a force delete.
    {"grace_cap_zero", "drain:\n  podGracePeriodCap: 0s\n", "drain.podGracePeriodCap",
     "expected at least 1s (0s would be a force delete)"},
    {"first_call_timeout_zero", "imds:\n  firstCallTimeout: 0s\n", "imds.firstCallTimeout", "greater than 0s"},
    {"vm_event_mode", "conditions:\n  vmEventScheduled: sometimes\n", "conditions.vmEventScheduled",
     "expected one of auto, always, never"},
    {"preemption_mode", "conditions:\n  preemptionScheduled: afterdrain\n", "conditions.preemptionScheduled",
     "expected one of afterDrain, onDetect, never"},
    {"metrics_address_name", "metrics:\n  address: localhost:9810\n", "metrics.address", "a name is not resolved"},
    {"skew_bad", "identity:\n  clockSkew: 1d\n", "identity.clockSkew", "expected a duration"},
    // Numbers.
    {"ratio_high", "disks:\n  - path: /mnt\n  - path: /data\n    minFreeRatio: 1.5\n", "disks[1].minFreeRatio",
     "expected a number between 0 and 1"},
    {"ratio_negative", "disks:\n  - path: /mnt\n    minFreeInodesRatio: -0.1\n", "disks[0].minFreeInodesRatio",
     "expected a number between 0 and 1"},
    {"ratio_text", "disks:\n  - path: /mnt\n    minFreeRatio: ten\n", "disks[0].minFreeRatio", "between 0 and 1"},
    {"ratio_nan", "disks:\n  - path: /mnt\n    minFreeRatio: nan\n", "disks[0].minFreeRatio", "between 0 and 1"},
    {"ratio_percent", "disks:\n  - path: /mnt\n    minFreeRatio: 10%\n", "disks[0].minFreeRatio", "between 0 and 1"},
    {"parallelism_zero", "drain:\n  parallelism: 0\n", "drain.parallelism", "between 1 and 1000"},
    {"parallelism_high", "drain:\n  parallelism: 1001\n", "drain.parallelism", "between 1 and 1000"},
    {"parallelism_float", "drain:\n  parallelism: 2.5\n", "drain.parallelism", "expected an integer"},
    {"parallelism_huge", "drain:\n  parallelism: 99999999999999999999\n", "drain.parallelism", "between 1 and 1000"},
    {"qps_zero", "kubernetes:\n  qps: 0\n", "kubernetes.qps", "between 1 and 10000"},
    {"qps_negative", "kubernetes:\n  qps: -1\n", "kubernetes.qps", "between 1 and 10000"},
    {"qps_inf", "kubernetes:\n  qps: inf\n", "kubernetes.qps", "between 1 and 10000"},
    // Issue 19: accepted before, and the agent never cordoned (one request per 1e300 s).
    {"qps_tiny", "kubernetes:\n  qps: 1e-300\n", "kubernetes.qps", "between 1 and 10000"},
    {"qps_huge", "kubernetes:\n  qps: 1e308\n", "kubernetes.qps", "between 1 and 10000"},
    {"burst_zero", "kubernetes:\n  burst: 0\n", "kubernetes.burst", "between 1 and 100000"},
    {"burst_huge", "kubernetes:\n  burst: 100001\n", "kubernetes.burst", "between 1 and 100000"},
    {"burst_overflow", "kubernetes:\n  burst: 2147483648\n", "kubernetes.burst", "between 1 and 100000"},
    // Issue 19: unknown YAML tags are refused, not read as strings.
    {"tag_unknown", "kubernetes:\n  kubeconfig: !secret kc\n", "", "unknown YAML tag \"!secret\""},
    {"tag_python", "drain: !!python/object:os.system {}\n", "", "unknown YAML tag"},
    {"threshold_zero", "healthThreshold: 0\n", "healthThreshold", "at least 1"},
    {"threshold_list", "healthThreshold: [1]\n", "healthThreshold", "expected an integer, got a list"},
    // Booleans.
    {"bool_yes", "drain:\n  taint: yes\n", "drain.taint", "expected true or false"},
    {"bool_number", "conditions:\n  enabled: 1\n", "conditions.enabled", "expected true or false"},
    {"bool_null", "identity:\n  enabled:\n", "identity.enabled", "expected true or false"},
    // Event types and actions.
    {"action_value", "imds:\n  actions:\n    Preempt: evict\n", "imds.actions.Preempt",
     "expected one of none, notify, cordon, drain"},
    {"action_type_case", "imds:\n  actions:\n    preempt: drain\n", "imds.actions.preempt",
     "unknown event type; did you mean \"Preempt\"?"},
    {"action_type_unknown", "imds:\n  actions:\n    Explode: drain\n", "imds.actions.Explode",
     "expected one of Preempt, Terminate, Reboot, Redeploy, Freeze"},
    {"actions_list", "imds:\n  actions: [drain]\n", "imds.actions", "expected a map of event type to action"},
    {"ack_unknown", "imds:\n  acknowledgeAfterDrain: [Reboot, Reboto]\n", "imds.acknowledgeAfterDrain[1]",
     "expected an event type"},
    {"ack_duplicate", "imds:\n  acknowledgeAfterDrain: [Reboot, Reboot]\n", "imds.acknowledgeAfterDrain[1]",
     "duplicate"},
    {"ack_scalar", "imds:\n  acknowledgeAfterDrain: Reboot\n", "imds.acknowledgeAfterDrain", "expected a list"},
    // Disks and caches.
    {"disk_relative", "disks:\n  - path: mnt\n", "disks[0].path", "expected an absolute path"},
    {"disk_missing_path", "disks:\n  - minFreeRatio: 0.2\n", "disks[0].path", "required"},
    {"disk_duplicate", "disks:\n  - path: /mnt\n  - path: /data\n  - path: /mnt/\n", "disks[2].path",
     "duplicate of disks[0].path"},
    {"disk_scalar_entry", "disks:\n  - /mnt\n", "disks[0]", "expected a map with a path"},
    {"disks_map", "disks:\n  path: /mnt\n", "disks", "expected a list"},
    {"cache_duplicate", "caches:\n  - path: /c\n  - path: //c\n", "caches[1].path", "duplicate of caches[0].path"},
    {"cache_bytes_garbage", "caches:\n  - path: /c\n    maxUsedBytes: lots\n", "caches[0].maxUsedBytes",
     "expected a byte size like 200Gi"},
    {"cache_bytes_negative", "caches:\n  - path: /c\n    maxUsedBytes: -1Gi\n", "caches[0].maxUsedBytes", "negative"},
    {"cache_bytes_overflow", "caches:\n  - path: /c\n    maxUsedBytes: 16Ei\n", "caches[0].maxUsedBytes", "too large"},
    {"cache_bytes_zero", "caches:\n  - path: /c\n    maxUsedBytes: 0\n", "caches[0].maxUsedBytes", "greater than 0"},
    {"cache_typo", "caches:\n  - path: /c\n    maxUsedByte: 1Gi\n", "caches[0].maxUsedByte",
     "did you mean \"maxUsedBytes\"?"},
    // Strings and URLs.
    {"endpoint_scheme", "imds:\n  endpoint: ftp://169.254.169.254\n", "imds.endpoint", "expected an http(s) URL"},
    {"endpoint_no_scheme", "imds:\n  endpoint: 169.254.169.254\n", "imds.endpoint", "expected an http(s) URL"},
    {"endpoint_path", "imds:\n  endpoint: http://127.0.0.1/metadata\n", "imds.endpoint", "path"},
    {"endpoint_empty", "imds:\n  endpoint: \"\"\n", "imds.endpoint", "expected an http(s) URL"},
    {"authority_bad", "identity:\n  authorityHost: login.microsoftonline.com\n", "identity.authorityHost",
     "expected an http(s) URL"},
    {"issuer_bad", "identity:\n  expectedIssuer: not a url\n", "identity.expectedIssuer", "expected an http(s) URL"},
    {"subject_bad", "identity:\n  expectedSubject: aks-node-agent\n", "identity.expectedSubject",
     "system:serviceaccount:NAMESPACE:NAME"},
    {"scope_empty", "identity:\n  exchange:\n    scope: \"\"\n", "identity.exchange.scope", "expected a scope"},
    {"api_version", "imds:\n  scheduledEventsApiVersion: \"2020-07-01&x=1\"\n", "imds.scheduledEventsApiVersion",
     "expected an API version"},
    {"string_map", "kubernetes:\n  kubeconfig: {a: b}\n", "kubernetes.kubeconfig", "expected a string, got a map"},
    {"string_control", "imds:\n  resourceName: \"a\\x01b\"\n", "imds.resourceName", "without control characters"},
    {"node_name_upper", "nodeName: AKS-Node\n", "nodeName", "expected a Kubernetes node name"},
    {"namespace_bad", "drain:\n  skipNamespaces: [Kube_System]\n", "drain.skipNamespaces[0]",
     "expected a namespace name"},
    {"metrics_no_port", "metrics:\n  address: 0.0.0.0\n", "metrics.address", "expected host:port"},
    {"metrics_port_range", "metrics:\n  address: 0.0.0.0:65536\n", "metrics.address", "expected host:port"},
    {"metrics_ipv6_bare", "metrics:\n  address: \"::1:9810\"\n", "metrics.address", "brackets"},
    // Expansion errors name the key too.
    {"expand_unterminated", "nodeName: ${NODE_NAME\n", "nodeName", "unterminated"},
    {"expand_bad_name", "identity:\n  clientId: ${1X}\n", "identity.clientId", "invalid variable name"},
};

INSTANTIATE_TEST_SUITE_P(Config, ConfigErrors, testing::ValuesIn(kErrorCases),
                         [](const testing::TestParamInfo<ErrorCase>& param) { return std::string(param.param.name); });

TEST(ConfigLoader, TheContractExampleMessage) {
  const ConfigLoadResult result = load("drain:\n  timeout: abc\n");
  ASSERT_EQ(result.errors.size(), 1U);
  EXPECT_TRUE(result.errors[0].toString().starts_with("drain.timeout: expected a duration like 30s"))
      << result.errors[0].toString();
  const ConfigLoadResult ratio = load("disks:\n  - path: /a\n  - path: /b\n    minFreeRatio: 2\n");
  ASSERT_EQ(ratio.errors.size(), 1U);
  EXPECT_TRUE(ratio.errors[0].toString().starts_with("disks[1].minFreeRatio: expected a number between 0 and 1"))
      << ratio.errors[0].toString();
  const ConfigLoadResult typo = load("imds:\n  pollIntervall: 1s\n");
  ASSERT_EQ(typo.errors.size(), 1U);
  EXPECT_EQ(typo.errors[0].toString(), "imds.pollIntervall: unknown key; did you mean \"pollInterval\"?");
}

TEST(ConfigLoader, CollectsEveryError) {
  const ConfigLoadResult result = load(R"(
imds:
  pollIntervall: 1s
  timeout: never
  actions:
    Preempt: explode
drain:
  parallelism: 0
disks:
  - path: relative
  - minFreeRatio: 7
metrics:
  address: nowhere
)");
  std::vector<std::string> paths;
  for (const ConfigError& error : result.errors) paths.push_back(error.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"imds.timeout", "imds.actions.Preempt", "imds.pollIntervall",
                                             "drain.parallelism", "disks[0].path", "disks[1].path",
                                             "disks[1].minFreeRatio", "metrics.address"}))
      << result.errorText();
  // Invalid values leave the defaults in place.
  EXPECT_EQ(result.config.imds.timeout, ImdsConfig{}.timeout);
  EXPECT_EQ(result.config.drain.parallelism, DrainConfig{}.parallelism);
  EXPECT_EQ(result.errorText().find('\n') != std::string::npos, true);
}

TEST(ConfigLoader, RefusesMoreThanOneMebibyte) {
  std::string big = "# padding\n";
  big += std::string(kMaxConfigBytes, '#');
  const ConfigLoadResult result = load(big);
  ASSERT_EQ(result.errors.size(), 1U);
  EXPECT_NE(result.errors[0].message.find("larger than 1 MiB"), std::string::npos);

  // Exactly 1 MiB of comment is fine.
  std::string limit = "#";
  limit += std::string(kMaxConfigBytes - 1, 'x');
  EXPECT_TRUE(load(limit).ok());
}

TEST(ConfigLoader, DeepNestingIsAnErrorNotACrash) {
  for (const std::string& text : {std::string(100'000, '['), std::string("imds: ") + std::string(50'000, '{')}) {
    const ConfigLoadResult result = load(text);
    ASSERT_EQ(result.errors.size(), 1U);
    EXPECT_TRUE(result.errors[0].message.starts_with("invalid YAML")) << result.errors[0].message;
  }
}

TEST(ConfigLoader, ManyUnknownAndDuplicateKeysAreAllReported) {
  std::string text = "imds:\n";
  for (int i = 0; i < 2000; ++i) text += "  k" + std::to_string(i) + ": 1\n";
  text += "  k0: 2\n";
  const ConfigLoadResult result = load(text);
  ASSERT_EQ(result.errors.size(), 2001U);
  EXPECT_EQ(result.errors[0].toString(), "imds.k0: duplicate key");
}

class ConfigFile : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("aksnode-config-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const std::filesystem::path file = dir_ / name;
    std::ofstream(file, std::ios::binary) << text;
    return file.string();
  }
  std::filesystem::path dir_;
};

// Issue 19, item 6: a 1 MiB `l: [a,a,...]` (524k nodes) was built into a yaml-cpp tree (246 MiB)
// before being refused as an unknown key. The streaming pass stops at the node limit first.
TEST(ConfigBounds, TooManyYamlNodesAreRefusedBeforeTheTreeIsBuilt) {
  std::string text = "l: [a";
  while (text.size() + 3 < kMaxConfigBytes) text += ",a";
  text += "]\n";
  const ConfigLoadResult r = loadConfigString(text, emptyEnvironment());
  ASSERT_EQ(r.errors.size(), 1U) << r.errorText();
  EXPECT_NE(r.errors[0].message.find("more than 10000 YAML nodes"), std::string::npos) << r.errorText();

  std::string nested = "drain:\n  skipNamespaces: [";
  for (std::size_t i = 0; i + 10 < kMaxConfigYamlNodes; ++i) nested += (i ? ",n" : "n") + std::to_string(i);
  nested += "]\n";
  const ConfigLoadResult fine = loadConfigString(nested, emptyEnvironment());
  EXPECT_TRUE(fine.ok()) << fine.errorText();
}

TEST_F(ConfigFile, LoadsAFile) {
  const ConfigLoadResult result = loadConfigFile(write("a.yaml", "drain:\n  parallelism: 8\n"), emptyEnvironment());
  ASSERT_TRUE(result.ok()) << result.errorText();
  EXPECT_EQ(result.config.drain.parallelism, 8);
}

TEST_F(ConfigFile, MissingFileDirectoryAndHugeFileAreErrors) {
  const ConfigLoadResult missing = loadConfigFile((dir_ / "nope.yaml").string(), emptyEnvironment());
  ASSERT_EQ(missing.errors.size(), 1U);
  EXPECT_NE(missing.errors[0].message.find("No such file"), std::string::npos) << missing.errorText();

  const ConfigLoadResult directory = loadConfigFile(dir_.string(), emptyEnvironment());
  ASSERT_EQ(directory.errors.size(), 1U);
  EXPECT_NE(directory.errors[0].message.find("directory"), std::string::npos) << directory.errorText();

  const ConfigLoadResult huge = loadConfigFile(write("big.yaml", std::string(kMaxConfigBytes + 1, '#')), emptyEnvironment());
  ASSERT_EQ(huge.errors.size(), 1U);
  EXPECT_NE(huge.errors[0].message.find("larger than 1 MiB"), std::string::npos) << huge.errorText();

  const ConfigLoadResult empty = loadConfigFile(write("empty.yaml", ""), emptyEnvironment());
  EXPECT_TRUE(empty.ok());
  EXPECT_EQ(empty.config, Config{});
}

// ---- the effective config ----

Config everythingChanged() {
  Config c;
  c.nodeName = "aks-pool-1";
  c.imds.endpoint = "http://127.0.0.1:8080";
  c.imds.pollInterval = milliseconds(250);
  c.imds.timeout = milliseconds(1500);
  c.imds.resourceName = "vm_3";
  c.imds.actions[EventType::Freeze] = EventAction::Cordon;
  c.imds.actions[EventType::Preempt] = EventAction::None;
  c.imds.acknowledgeAfterDrain = {"Reboot", "Freeze"};
  c.kubernetes.kubeconfig = "/root/.kube/config";
  c.kubernetes.qps = 1.5;
  c.kubernetes.burst = 7;
  c.drain.timeout = seconds(90);
  c.drain.deadlineMargin = Duration{0};
  c.drain.podGracePeriodCap = seconds(20);
  c.drain.skipNamespaces = {"kube-system", "a"};
  c.drain.deleteEmptyDirData = false;
  c.drain.taint = false;
  c.drain.outOfServiceTaintAfterDrain = true;
  c.conditions.enabled = false;
  c.conditions.vmEventScheduled = VmEventConditionMode::Always;
  c.conditions.preemptionScheduled = PreemptionConditionMode::Never;
  c.imds.firstCallTimeout = seconds(45);
  c.disks = {DiskConfig{}, DiskConfig{"/data", 0.333, 1, false, milliseconds(1), true}};
  CacheConfig cache;
  cache.path = "/mnt/c";
  cache.maxUsedBytes = 1536ULL << 30;
  c.caches = {cache, CacheConfig{"/mnt/d", std::uint64_t{123456789}, false, true}};
  c.healthInterval = milliseconds(90'061'001);
  c.healthThreshold = 9;
  c.identity.tokenFile = "/tok/$weird${NOT_EXPANDED}";
  c.identity.clientId = "id \"quoted\" 'single' : # not a comment";
  c.identity.tenantId = "ünïcødé";
  c.identity.expectedIssuer = "https://issuer.example.com/x/";
  c.identity.expectedSubject = "system:serviceaccount:ns:sa";
  c.identity.expectedAudience = "true";  // must stay a string
  c.identity.verifySignature = true;
  c.identity.exchange.enabled = true;
  c.identity.exchange.interval = minutes(7);
  c.identity.podScan.interval = seconds(45);
  c.metrics.address = "[::]:9811";
  return c;
}

TEST(PrintEffectiveConfig, RoundTripsTheDefaults) {
  const std::string text = printEffectiveConfig(Config{});
  const ConfigLoadResult result = load(text);
  ASSERT_TRUE(result.ok()) << result.errorText() << "\n" << text;
  EXPECT_EQ(result.config, Config{});
}

TEST(PrintEffectiveConfig, RoundTripsEveryChangedKey) {
  const Config original = everythingChanged();
  const std::string text = printEffectiveConfig(original);
  // Whatever the environment holds, the printed config reads back the same.
  const ConfigLoadResult result = loadConfigString(text, fakeEnv({{"NOT_EXPANDED", "boom"}}));
  ASSERT_TRUE(result.ok()) << result.errorText() << "\n" << text;
  EXPECT_EQ(result.config, original) << text;
  EXPECT_EQ(printEffectiveConfig(result.config), text);
}

TEST(PrintEffectiveConfig, RoundTripsEmptyLists) {
  Config c;
  c.disks.clear();
  c.caches.clear();
  const ConfigLoadResult result = load(printEffectiveConfig(c));
  ASSERT_TRUE(result.ok()) << result.errorText();
  EXPECT_EQ(result.config, c);
}

TEST(PrintEffectiveConfig, WritesEveryKeyReadably) {
  const std::string text = printEffectiveConfig(Config{});
  for (const char* expected :
       {"nodeName: \"\"", "pollInterval: 1s", "timeout: 2s", "Preempt: drain", "Freeze: notify",
        "acknowledgeAfterDrain: []", "qps: 100", "burst: 300", "timeout: 2m", "deadlineMargin: 3s",
        "podGracePeriodCap: \"\"", "skipNamespaces: []", "minFreeRatio: 0.1", "maxProbeLatency: 500ms",
        "maxUsedBytes: \"\"", "healthInterval: 30s", "healthThreshold: 2", "minRemainingValidity: 10m",
        "clockSkew: 1m", "interval: 5m", "address: \"0.0.0.0:9810\"", "outOfServiceTaintAfterDrain: false"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << "missing " << expected << " in\n" << text;
  }
  // Documented order: sections appear as in docs/configuration.md.
  std::size_t last = 0;
  for (const char* section : {"nodeName:", "\nimds:", "\nkubernetes:", "\ndrain:", "\nconditions:", "\ndisks:",
                              "\ncaches:", "\nhealthInterval:", "\nhealthThreshold:", "\nidentity:", "\nmetrics:"}) {
    const std::size_t at = text.find(section);
    ASSERT_NE(at, std::string::npos) << section;
    EXPECT_GE(at, last) << section;
    last = at;
  }
  EXPECT_EQ(text.back(), '\n');
}

}  // namespace
}  // namespace aksnode
