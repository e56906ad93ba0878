// Disk and cache probe timings on this machine's disk: p50/p90/p99/max of full probe rounds
// (thread start, mountinfo, statvfs, 4 KiB write + fsync + read-back + unlink, block stat),
// and of a cache walk over a generated tree.
//
//   disk_probe_bench [DIR] [ROUNDS] [CACHE_FILES]
//   DIR defaults to a fresh directory under $TMPDIR (/tmp); ROUNDS 100; CACHE_FILES 20000.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "metrics/metrics.h"
#include "probes/disk/cache_probe.h"
#include "probes/disk/disk_probe.h"

using namespace aksnode;

namespace {

template <class Probe>
std::vector<ProbeResult> runRound(boost::asio::io_context& io, Probe& probe) {
  std::optional<std::vector<ProbeResult>> out;
  boost::asio::co_spawn(io, probe.check(), [&](std::exception_ptr e, std::vector<ProbeResult> r) {
    if (!e) out = std::move(r);
  });
  io.restart();
  io.run();
  return out ? *out : std::vector<ProbeResult>{};
}

void report(const char* what, std::vector<double> ms) {
  if (ms.empty()) return;
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[static_cast<std::size_t>(q * static_cast<double>(ms.size() - 1))];
  };
  std::printf("%-28s n=%-4zu p50=%8.3f ms  p90=%8.3f ms  p99=%8.3f ms  max=%8.3f ms\n", what,
              ms.size(), at(0.5), at(0.9), at(0.99), ms.back());
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  bool ownDir = argc < 2;
  if (!ownDir) {
    dir = argv[1];
  } else {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "aksnode-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) return 1;
    dir = pattern;
  }
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 100;
  const int cacheFiles = argc > 3 ? std::atoi(argv[3]) : 20000;

  RealTimeSource time;
  boost::asio::io_context io;
  Config config;
  DiskConfig disk;
  disk.path = dir;
  disk.minFreeRatio = 0;
  disk.minFreeInodesRatio = 0;
  config.disks = {disk};
  CacheConfig cache;
  cache.path = dir + "/cache";
  config.caches = {cache};
  Metrics metrics(config);

  disk::DiskProbe diskProbe({disk}, metrics, time);
  std::vector<double> roundMs, writeMs;
  for (int i = 0; i < rounds; ++i) {
    auto start = time.monotonicTime();
    auto results = runRound(io, diskProbe);
    roundMs.push_back(
        std::chrono::duration<double, std::milli>(time.monotonicTime() - start).count());
    if (results.empty() || !results[0].healthy) {
      std::fprintf(stderr, "round %d: %s\n", i,
                   results.empty() ? "no result" : results[0].message.c_str());
      continue;
    }
    const auto& d = results[0].details;
    if (auto* w = d.if_contains("writeProbe")) {
      writeMs.push_back(w->as_object().at("latencySeconds").as_double() * 1000.0);
    }
  }
  if (!roundMs.empty()) {
    auto r = runRound(io, diskProbe);
    if (!r.empty()) {
      std::printf(
          "disk %s: %s (fsType=%s device=%s)\n", dir.c_str(), r[0].message.c_str(),
          r[0].details.contains("fsType") ? r[0].details.at("fsType").as_string().c_str() : "?",
          r[0].details.contains("device") ? r[0].details.at("device").as_string().c_str() : "?");
    }
  }
  report("disk probe round", roundMs);
  report("  of which write probe", writeMs);

  std::filesystem::create_directories(cache.path);
  for (int i = 0; i < cacheFiles; ++i) {
    auto sub = cache.path + "/d" + std::to_string(i / 1000);
    if (i % 1000 == 0) std::filesystem::create_directories(sub);
    std::ofstream(sub + "/f" + std::to_string(i)) << "cache block " << i;
  }
  disk::CacheProbe cacheProbe({cache}, {disk}, metrics, time);
  std::vector<double> cacheMs;
  for (int i = 0; i < std::max(1, rounds / 10); ++i) {
    auto start = time.monotonicTime();
    auto r = runRound(io, cacheProbe);
    cacheMs.push_back(
        std::chrono::duration<double, std::milli>(time.monotonicTime() - start).count());
    if (i == 0 && !r.empty()) std::printf("cache: %s\n", r[0].message.c_str());
  }
  char label[64];
  std::snprintf(label, sizeof label, "cache round (%d files)", cacheFiles);
  report(label, cacheMs);

  diskProbe.waitForWorkers(std::chrono::seconds(5));
  cacheProbe.waitForWorkers(std::chrono::seconds(5));
  if (ownDir) std::filesystem::remove_all(dir);
  return 0;
}
