#pragma once
// The probe of `caches:` (docs/configuration.md; arch/ARCHITECTURE.md "Health probes"): per cache
// directory, on a worker thread with a deadline, whether it exists and is a directory, a write
// probe inside it, the bytes it holds (a walk bounded in entries and time: partial rather than
// endless), its quota, and the health of the filesystem it lives on.
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "agent/config/config.h"
#include "probes/disk/file_system_impl.h"
#include "probes/disk/filesystem_sample.h"
#include "probes/disk/worker_probe.h"

namespace aksnode::disk {

// `caches:` on the Node: CacheProblem, the same DiskUnhealthy/DiskRecovered Events as a disk
// (kind "cache" in the message), may taint.
extern const ProbeSpec kCacheProbe;

// hangDeadline unset: walkTimeBudget + max(4 * the write latency limit, 2 s).
struct CacheProbeOptions : WorkerProbeOptions {
  std::uint64_t walkMaxEntries = 200'000;
  std::chrono::nanoseconds walkTimeBudget = std::chrono::seconds(1);
};

struct CacheSample {
  FilesystemSample fs;
  bool usageMeasured = false;
  UsageResult usage;
  std::chrono::nanoseconds duration{0};
};

// Runs on the worker thread.
CacheSample sampleCache(FileSystem& fs, WorkerContext& context, const CacheConfig& config,
                        const std::string& probeFileName, const CacheProbeOptions& options);

// A cache is held to the space, inode and latency limits of the configured disk it lives under
// (the longest disk path that contains it), else to the defaults of a disk entry.
FilesystemLimits limitsForCache(const CacheConfig& cache, const std::vector<DiskConfig>& disks);

// Pure: the verdict on one sample. Reasons by severity: Missing, ProbeFailed, ReadOnly,
// WriteFailed, OverQuota, LowSpace, LowInodes, SlowIO.
ProbeResult evaluateCache(const CacheConfig& config, const FilesystemLimits& limits,
                          const CacheSample& sample, SystemTime at);

struct CacheTarget {
  CacheConfig config;
  FilesystemLimits limits;
  std::chrono::nanoseconds deadline;
  std::unique_ptr<BlockingWorker<CacheSample>> worker;
};

class CacheProbe final : public WorkerProbe<CacheTarget, CacheProbeOptions> {
 public:
  CacheProbe(std::vector<CacheConfig> caches, const std::vector<DiskConfig>& disks,
             Metrics& metrics, const TimeSource& time,
             std::shared_ptr<FileSystem> fs = std::make_shared<PosixFileSystem>(),
             CacheProbeOptions options = {});
  ~CacheProbe() override;

  const ProbeSpec& spec() const override { return kCacheProbe; }
  boost::asio::awaitable<std::vector<ProbeResult>> check() override;

 private:
  ProbeResult onCompletion(CacheTarget& target, const BlockingWorker<CacheSample>::Completion& c);
};

}  // namespace aksnode::disk
