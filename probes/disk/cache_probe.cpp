#include "probes/disk/cache_probe.h"

#include <algorithm>
#include <boost/json/array.hpp>

#include "agent/core/logging.h"
#include "probes/disk/unfinished_probe.h"

namespace aksnode::disk {

namespace {

bool pathContains(const std::string& outer, const std::string& inner) {
  if (outer == "/") return !inner.empty() && inner.front() == '/';
  std::string o = outer;
  while (o.size() > 1 && o.back() == '/') o.pop_back();
  return inner.size() >= o.size() && inner.compare(0, o.size(), o) == 0 &&
         (inner.size() == o.size() || inner[o.size()] == '/');
}

}  // namespace

constinit const ProbeSpec kCacheProbe = pathProbeSpec("cache", "CacheProblem", "CacheHealthy",
                                                      "Every configured cache directory passes its probe",
                                                      [](const Config& c) { return !c.caches.empty(); });

CacheSample sampleCache(FileSystem& fs, WorkerContext& context, const CacheConfig& config,
                        const std::string& probeFileName, const CacheProbeOptions& options) {
  CacheSample sample;
  const auto start = context.now();
  sample.fs = sampleFilesystem(fs, context, config.path, config.writeProbe, probeFileName,
                               options.writeProbeBytes);
  if (sample.fs.exists() && sample.fs.path.isDirectory) {
    context.setStage("walk");
    // Saturating: an abandoned worker's clock reads MonotonicTime::max().
    const auto now = context.now();
    const auto walkDeadline = now > MonotonicTime::max() - options.walkTimeBudget
                                  ? MonotonicTime::max()
                                  : now + options.walkTimeBudget;
    UsageLimits limits;
    limits.maxEntries = options.walkMaxEntries;
    limits.outOfTime = [&context, walkDeadline] { return context.now() >= walkDeadline; };
    sample.usage = fs.directoryUsage(config.path, limits);
    sample.usageMeasured = true;
    context.setStage("");
  }
  sample.duration = context.now() - start;
  return sample;
}

FilesystemLimits limitsForCache(const CacheConfig& cache, const std::vector<DiskConfig>& disks) {
  const DiskConfig* best = nullptr;
  for (const auto& disk : disks) {
    if (pathContains(disk.path, cache.path) &&
        (best == nullptr || disk.path.size() > best->path.size())) {
      best = &disk;
    }
  }
  DiskConfig defaults;
  const DiskConfig& d = best ? *best : defaults;
  return FilesystemLimits{d.minFreeRatio, d.minFreeInodesRatio, d.maxProbeLatency};
}

ProbeResult evaluateCache(const CacheConfig& config, const FilesystemLimits& limits,
                          const CacheSample& sample, SystemTime at) {
  ProbeResult r = pathResult(kCacheProbe, config.path, config.taintWhenUnhealthy, at);
  const FilesystemSample& fs = sample.fs;

  std::vector<Problem> problems = existenceProblems(config.path, fs);
  if (problems.empty()) {
    problems = checkFilesystem(fs, limits);
    const UsageResult& u = sample.usage;
    if (sample.usageMeasured && u.error != 0) {
      problems.push_back(
          {"ProbeFailed", "cannot walk " + config.path + ": " + describeErrno(u.error)});
    } else if (sample.usageMeasured && config.maxUsedBytes && u.bytes > *config.maxUsedBytes) {
      // A partial walk only undercounts: over the quota partially means over the quota.
      problems.push_back({"OverQuota", formatBytes(u.bytes) + (u.partial ? " or more" : "") +
                                           " used (> maxUsedBytes " +
                                           formatBytes(*config.maxUsedBytes) + ")"});
    }
  }
  sortProblems(problems);

  auto& d = r.details;
  addFilesystemDetails(d, config.path, fs, sample.duration);
  if (sample.usageMeasured && sample.usage.error == 0) {
    d["usedBytes"] = sample.usage.bytes;
    d["entries"] = sample.usage.entries;
    d["partial"] = sample.usage.partial;
    if (!sample.usage.stoppedBy.empty()) d["stoppedBy"] = sample.usage.stoppedBy;
    if (sample.usage.unreadable > 0) d["unreadable"] = sample.usage.unreadable;
  }
  if (config.maxUsedBytes) d["maxUsedBytes"] = *config.maxUsedBytes;
  if (applyProblems(r, config.path, problems)) return r;
  r.message = config.path + ": " + formatBytes(sample.usage.bytes) +
              (sample.usage.partial ? " or more (partial walk)" : "") + " used";
  if (config.maxUsedBytes) r.message += " of " + formatBytes(*config.maxUsedBytes);
  r.message += ", " + formatBytes(fs.freeBytes()) + " free on " +
               (fs.mount ? fs.mount->mountPoint : std::string("its filesystem"));
  if (fs.writeAttempted) r.message += ", write probe " + formatDuration(fs.writeLatency);
  return r;
}

CacheProbe::CacheProbe(std::vector<CacheConfig> caches, const std::vector<DiskConfig>& disks,
                       Metrics& metrics, const TimeSource& time, std::shared_ptr<FileSystem> fs,
                       CacheProbeOptions options)
    : WorkerProbe(metrics, time, std::move(fs), options) {
  addTargets(std::move(caches), [&](CacheTarget& target, const CacheConfig& config) {
    target.limits = limitsForCache(config, disks);
    target.deadline = options_.hangDeadline.value_or(
        options_.walkTimeBudget +
        std::max<std::chrono::nanoseconds>(target.limits.maxLatency * 4, std::chrono::seconds(2)));
  });
}

CacheProbe::~CacheProbe() = default;

boost::asio::awaitable<std::vector<ProbeResult>> CacheProbe::check() {
  return runRound(
      [this](const CacheTarget& target) -> BlockingWorker<CacheSample>::Job {
        return [fs = fs_, config = target.config, file = nextProbeFileName(), options = options_](
                   WorkerContext& c) { return sampleCache(*fs, c, config, file, options); };
      },
      [this](CacheTarget& target, const BlockingWorker<CacheSample>::Completion& c) {
        return onCompletion(target, c);
      });
}

ProbeResult CacheProbe::onCompletion(CacheTarget& target, const BlockingWorker<CacheSample>::Completion& c) {
  const std::string& path = target.config.path;
  ProbeResult result;
  if (c.outcome == WorkerOutcome::Done) {
    result = evaluateCache(target.config, target.limits, *c.result, time_.systemTime());
    if (c.result->usageMeasured && c.result->usage.error == 0) {
      metrics_.cacheUsedBytes(path).Set(static_cast<double>(c.result->usage.bytes));
    }
  } else {
    Unfinished unfinished{c.outcome, c.stage, c.stuckFor, target.deadline, c.error};
    result = unfinishedResult(kCacheProbe, path, target.config.taintWhenUnhealthy, unfinished,
                              time_.systemTime());
  }
  metrics_.cacheHealthy(path).Set(result.healthy ? 1 : 0);
  logVerdict(result);
  return result;
}

}  // namespace aksnode::disk
