#include "probes/disk/disk_probe.h"

#include <algorithm>
#include <boost/json/array.hpp>
#include <cstdio>

#include "agent/core/logging.h"
#include "probes/disk/unfinished_probe.h"

namespace aksnode::disk {

constinit const ProbeSpec kDiskProbe = pathProbeSpec("disk", "LocalDiskProblem", "LocalDiskHealthy",
                                                     "Every configured local disk passes its probe",
                                                     [](const Config& c) { return !c.disks.empty(); });

DiskSample sampleDisk(FileSystem& fs, WorkerContext& context, const DiskConfig& config,
                      const std::string& probeFileName, std::size_t probeBytes) {
  DiskSample sample;
  const auto start = context.now();
  sample.fs =
      sampleFilesystem(fs, context, config.path, config.writeProbe, probeFileName, probeBytes);
  // Major 0 is not a block device (tmpfs, overlay, NFS): no I/O statistics to read.
  if (sample.fs.mount && sample.fs.mount->majorMinor.rfind("0:", 0) != 0) {
    context.setStage("blockstat");
    auto text = fs.readBlockDeviceStat(sample.fs.mount->majorMinor);
    if (text.error == 0) sample.blockStat = parseBlockDeviceStat(text.text);
    context.setStage("");
  }
  sample.sampledAt = context.now();
  sample.duration = sample.sampledAt - start;
  return sample;
}

std::chrono::nanoseconds defaultDiskDeadline(const DiskConfig& config) {
  return std::max<std::chrono::nanoseconds>(config.maxProbeLatency * 4, std::chrono::seconds(2));
}

ProbeResult evaluateDisk(const DiskConfig& config, const DiskSample& sample,
                         const std::optional<IoPressure>& pressure, SystemTime at) {
  ProbeResult r = pathResult(kDiskProbe, config.path, config.taintWhenUnhealthy, at);
  const FilesystemSample& fs = sample.fs;

  std::vector<Problem> problems = existenceProblems(config.path, fs);
  if (problems.empty()) {
    // Without mountinfo we cannot tell, and a false NotMounted is worse than none.
    bool knowsMounts = fs.mountInfoFile.error == 0 && fs.mount.has_value();
    if (config.requireMountPoint && knowsMounts && !fs.isMountPoint) {
      problems.push_back({"NotMounted", config.path + " is not a mount point (it is on " +
                                            fs.mount->mountPoint + ", " + fs.mount->source + ")"});
    }
    FilesystemLimits limits{config.minFreeRatio, config.minFreeInodesRatio, config.maxProbeLatency};
    for (auto& p : checkFilesystem(fs, limits)) problems.push_back(std::move(p));
    // Without a write probe, statvfs and mountinfo are the only timed I/O.
    if (!fs.writeAttempted && sample.duration > limits.maxLatency) {
      problems.push_back({"SlowIO", "probe took " + formatDuration(sample.duration) + " (> " +
                                        formatDuration(limits.maxLatency) + ")"});
    }
  }
  sortProblems(problems);

  auto& d = r.details;
  addFilesystemDetails(d, config.path, fs, sample.duration);
  d["minFreeRatio"] = config.minFreeRatio;
  d["minFreeInodesRatio"] = config.minFreeInodesRatio;
  d["requireMountPoint"] = config.requireMountPoint;
  if (pressure) {
    d["ioInFlight"] = pressure->inFlight;
    if (pressure->utilization) d["ioUtilization"] = *pressure->utilization;
  }
  if (applyProblems(r, config.path, problems)) return r;
  r.message = config.path + ": " + formatBytes(fs.freeBytes()) + " free of " +
              formatBytes(fs.sizeBytes()) + " (" + formatPercent(fs.freeRatio()) + "), " +
              formatPercent(fs.freeInodesRatio()) + " of inodes free";
  if (fs.writeAttempted) r.message += ", write probe " + formatDuration(fs.writeLatency);
  if (fs.mount && !fs.isMountPoint) {
    r.message += "; not a mount point (on " + fs.mount->mountPoint + ")";
  }
  return r;
}

DiskProbe::DiskProbe(std::vector<DiskConfig> disks, Metrics& metrics, const TimeSource& time,
                     std::shared_ptr<FileSystem> fs, DiskProbeOptions options)
    : WorkerProbe(metrics, time, std::move(fs), options) {
  addTargets(std::move(disks), [&](DiskTarget& target, const DiskConfig& config) {
    target.deadline = options_.hangDeadline.value_or(defaultDiskDeadline(config));
  });
}

DiskProbe::~DiskProbe() = default;

boost::asio::awaitable<std::vector<ProbeResult>> DiskProbe::check() {
  return runRound(
      [this](const DiskTarget& target) -> BlockingWorker<DiskSample>::Job {
        return [fs = fs_, config = target.config, file = nextProbeFileName(),
                bytes = options_.writeProbeBytes](WorkerContext& c) { return sampleDisk(*fs, c, config, file, bytes); };
      },
      [this](DiskTarget& target, const BlockingWorker<DiskSample>::Completion& c) {
        return c.outcome == WorkerOutcome::Done ? onSample(target, *c.result) : onUnfinished(target, c);
      });
}

ProbeResult DiskProbe::onSample(DiskTarget& target, const DiskSample& sample) {
  const std::string& path = target.config.path;
  std::optional<IoPressure> pressure;
  if (sample.blockStat) {
    pressure = IoPressure{sample.blockStat->inFlight, std::nullopt};
    if (target.lastBlockStat) {
      pressure->utilization = ioUtilization(*target.lastBlockStat, *sample.blockStat,
                                            sample.sampledAt - target.lastBlockStatAt);
    }
    target.lastBlockStat = sample.blockStat;
    target.lastBlockStatAt = sample.sampledAt;
  }
  ProbeResult result = evaluateDisk(target.config, sample, pressure, time_.systemTime());

  metrics_.diskHealthy(path).Set(result.healthy ? 1 : 0);
  metrics_.diskProbeDuration(path).Observe(seconds(sample.duration));
  const auto& fs = sample.fs;
  if (fs.exists() && fs.path.isDirectory && fs.fs.error == 0) {
    metrics_.diskFreeBytes(path).Set(static_cast<double>(fs.freeBytes()));
    metrics_.diskSizeBytes(path).Set(static_cast<double>(fs.sizeBytes()));
    metrics_.diskFreeInodesRatio(path).Set(fs.freeInodesRatio());
  }
  if (fs.exists()) metrics_.diskReadOnly(path).Set(fs.readOnly() ? 1 : 0);

  logVerdict(result);
  return result;
}

ProbeResult DiskProbe::onUnfinished(DiskTarget& target,
                                    const BlockingWorker<DiskSample>::Completion& c) {
  const std::string& path = target.config.path;
  Unfinished unfinished{c.outcome, c.stage, c.stuckFor, target.deadline, c.error};
  ProbeResult result = unfinishedResult(kDiskProbe, path, target.config.taintWhenUnhealthy, unfinished,
                                        time_.systemTime());
  metrics_.diskHealthy(path).Set(0);
  // A probe that hit its deadline lands in the top buckets; a round that started nothing
  // (StillBusy) has no duration to add.
  if (c.outcome == WorkerOutcome::TimedOut) {
    metrics_.diskProbeDuration(path).Observe(seconds(target.deadline));
  }
  log::warn("disk probe did not complete",
            {{"path", path}, {"reason", result.reason}, {"message", result.message}});
  return result;
}

}  // namespace aksnode::disk
