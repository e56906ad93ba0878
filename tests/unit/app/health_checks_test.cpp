// makeHealthChecks: the one list of probes the running agent and --once build; and the one JSON
// shape of a probe result they and /status serve.
#include "probes/health_checks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "metrics/metrics.h"
#include "probes/disk/cache_probe.h"
#include "probes/disk/disk_probe.h"
#include "probes/identity/identity_probe.h"
#include "unit/kube/fake_http_client.h"

namespace aksnode {
namespace {

using ::testing::ElementsAre;

std::vector<const ProbeSpec*> built(const Config& config) {
  Metrics metrics{config};
  SimulatedTimeSource time;
  testing::FakeHttpClient http;
  std::vector<const ProbeSpec*> out;
  for (const auto& check : makeHealthChecks(config, {metrics, time, http})) out.push_back(&check->spec());
  return out;
}

TEST(HealthChecks, EveryProbeHasASpecInConditionOrder) {
  EXPECT_THAT(allProbeSpecs(), ElementsAre(&disk::kDiskProbe, &disk::kCacheProbe, &identity::kIdentityProbe));
}

TEST(HealthChecks, BuildsTheConfiguredProbesOnly) {
  Config config;
  config.caches.clear();
  config.identity.enabled = true;
  EXPECT_THAT(built(config), ElementsAre(&disk::kDiskProbe, &identity::kIdentityProbe));
  config.disks.clear();
  config.identity.enabled = false;
  EXPECT_TRUE(built(config).empty());
}

TEST(ProbeResultJson, OneShapeForStatusAndOnce) {
  ProbeResult r = ProbeResult::forSpec(disk::kDiskProbe);
  r.target = "/mnt";
  r.healthy = false;
  r.reason = "ReadOnly";
  r.message = "mounted read-only";
  r.details["freeBytes"] = 1;
  boost::json::object o = probeResultJson(r);
  EXPECT_EQ(o.at("kind"), "disk");
  EXPECT_EQ(o.at("target"), "/mnt");
  EXPECT_EQ(o.at("healthy"), false);
  EXPECT_EQ(o.at("reason"), "ReadOnly");
  EXPECT_EQ(o.at("message"), "mounted read-only");
  EXPECT_EQ(o.at("at"), "");  // not measured yet
  EXPECT_EQ(o.at("details").at("freeBytes"), 1);
  r.at = SystemTime{std::chrono::seconds{1'800'000'000}};
  EXPECT_EQ(probeResultJson(r).at("at"), "2027-01-15T08:00:00Z");
}

}  // namespace
}  // namespace aksnode
