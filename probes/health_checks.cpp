#include "probes/health_checks.h"

#include <array>

#include "probes/disk/cache_probe.h"
#include "probes/disk/disk_probe.h"
#include "probes/identity/identity_probe.h"

namespace aksnode {

namespace {

using Make = std::unique_ptr<HealthCheck> (*)(const Config&, const HealthCheckDeps&);

struct Entry {
  const ProbeSpec* spec;
  Make make;
};

// Adding a probe: one line here (arch/ARCHITECTURE.md "Adding a probe").
constexpr std::array<Entry, 3> kProbes{{
    {&disk::kDiskProbe,
     [](const Config& c, const HealthCheckDeps& d) -> std::unique_ptr<HealthCheck> {
       return std::make_unique<disk::DiskProbe>(c.disks, d.metrics, d.time);
     }},
    {&disk::kCacheProbe,
     [](const Config& c, const HealthCheckDeps& d) -> std::unique_ptr<HealthCheck> {
       return std::make_unique<disk::CacheProbe>(c.caches, c.disks, d.metrics, d.time);
     }},
    {&identity::kIdentityProbe,
     [](const Config& c, const HealthCheckDeps& d) -> std::unique_ptr<HealthCheck> {
       return std::make_unique<identity::IdentityProbe>(c.identity, d.identityHttp, d.time, d.metrics);
     }},
}};

constexpr std::array<const ProbeSpec*, kProbes.size()> kSpecs = [] {
  std::array<const ProbeSpec*, kProbes.size()> out{};
  for (std::size_t i = 0; i < kProbes.size(); ++i) out[i] = kProbes[i].spec;
  return out;
}();

}  // namespace

std::span<const ProbeSpec* const> allProbeSpecs() { return kSpecs; }

std::vector<std::unique_ptr<HealthCheck>> makeHealthChecks(const Config& config, const HealthCheckDeps& deps) {
  std::vector<std::unique_ptr<HealthCheck>> out;
  for (const auto& p : kProbes) {
    if (p.spec->monitored(config)) out.push_back(p.make(config, deps));
  }
  return out;
}

}  // namespace aksnode
