#include "probes/disk/filesystem_sample.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>

#include "agent/core/logging.h"

namespace aksnode::disk {

namespace {

// The order reasons are reported in when several apply: a missing path explains everything
// else; a read-only filesystem explains the failed write; space problems explain ENOSPC.
constexpr std::array kRankedReasons{"Missing",   "ProbeHung",   "ProbeFailed", "NotMounted",
                                    "ReadOnly",  "WriteFailed", "OverQuota",   "LowSpace",
                                    "LowInodes", "SlowIO"};

}  // namespace

double FilesystemSample::freeRatio() const {
  if (fs.blocks == 0) return 0.0;
  return static_cast<double>(fs.blocksAvailable) / static_cast<double>(fs.blocks);
}

double FilesystemSample::freeInodesRatio() const {
  if (fs.files == 0) return 1.0;
  return static_cast<double>(fs.filesAvailable) / static_cast<double>(fs.files);
}

std::string nextProbeFileName() {
  static std::atomic<std::uint64_t> counter{0};
  return ".aks-node-agent-probe-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter.fetch_add(1, std::memory_order_relaxed));
}

FilesystemSample sampleFilesystem(FileSystem& fs, WorkerContext& context, const std::string& path,
                                  bool writeProbe, const std::string& probeFileName,
                                  std::size_t probeBytes) {
  FilesystemSample sample;
  context.setStage("stat");
  sample.path = fs.stat(path);
  if (sample.path.error != 0 || !sample.path.isDirectory) return sample;

  context.setStage("mountinfo");
  sample.mountInfoFile = fs.readMountInfo();
  if (sample.mountInfoFile.error == 0) {
    const std::string& where = sample.path.canonicalPath.empty() ? path : sample.path.canonicalPath;
    auto mounts = parseMountInfo(sample.mountInfoFile.text);
    if (const MountEntry* mount = findMountFor(mounts, where)) {
      sample.mount = *mount;
      sample.isMountPoint = mount->mountPoint == where;
    }
  }
  sample.mountInfoFile.text.clear();
  sample.mountInfoFile.text.shrink_to_fit();

  context.setStage("statvfs");
  sample.fs = fs.statvfs(path);

  // A read-only filesystem already has its verdict; writing would only add EROFS.
  if (writeProbe && !sample.readOnly()) {
    context.setStage("write");
    sample.writeAttempted = true;
    auto start = context.now();
    sample.write = fs.writeProbe(path, probeFileName, probeBytes);
    sample.writeLatency = context.now() - start;
  }
  context.setStage("");
  return sample;
}

int problemRank(const std::string& reason) {
  for (std::size_t i = 0; i < kRankedReasons.size(); ++i) {
    if (reason == kRankedReasons[i]) return static_cast<int>(i);
  }
  return static_cast<int>(kRankedReasons.size());
}

void sortProblems(std::vector<Problem>& problems) {
  std::stable_sort(problems.begin(), problems.end(), [](const Problem& a, const Problem& b) {
    return problemRank(a.reason) < problemRank(b.reason);
  });
}

std::string joinMessages(const std::vector<Problem>& problems) {
  std::string out;
  for (const auto& p : problems) {
    if (!out.empty()) out += "; ";
    out += p.message;
  }
  return out;
}

std::optional<Problem> checkExists(const std::string& path, const FilesystemSample& sample) {
  if (sample.path.error == ENOENT || sample.path.error == ENOTDIR) {
    return Problem{"Missing", path + " does not exist"};
  }
  if (sample.path.error != 0) {
    return Problem{"ProbeFailed", "cannot stat " + path + ": " + describeErrno(sample.path.error)};
  }
  if (!sample.path.isDirectory) return Problem{"Missing", path + " exists but is not a directory"};
  return std::nullopt;
}

std::vector<Problem> checkFilesystem(const FilesystemSample& sample,
                                     const FilesystemLimits& limits) {
  std::vector<Problem> problems;
  if (sample.readOnly()) {
    std::string why;
    if (sample.mount && hasMountOption(sample.mount->superOptions, "emergency_ro")) {
      why = " (emergency_ro: the kernel remounted it after a filesystem error)";
    } else if (sample.mount && hasMountOption(sample.mount->superOptions, "ro") &&
               !hasMountOption(sample.mount->mountOptions, "ro")) {
      why = " (superblock is read-only, likely remounted after an error)";
    }
    std::string where = sample.mount ? sample.mount->mountPoint : sample.path.canonicalPath;
    problems.push_back({"ReadOnly", "filesystem " + where + " is read-only" + why});
  }
  if (sample.fs.error != 0) {
    problems.push_back({"ProbeFailed", "statvfs failed: " + describeErrno(sample.fs.error)});
  } else {
    if (sample.fs.blocks > 0 && sample.freeRatio() < limits.minFreeRatio) {
      problems.push_back({"LowSpace", formatBytes(sample.freeBytes()) + " free of " +
                                          formatBytes(sample.sizeBytes()) + " (" +
                                          formatPercent(sample.freeRatio()) + " < " +
                                          formatPercent(limits.minFreeRatio) + ")"});
    }
    if (sample.freeInodesRatio() < limits.minFreeInodesRatio) {
      problems.push_back({"LowInodes", formatPercent(sample.freeInodesRatio()) + " of inodes free (< " +
                                           formatPercent(limits.minFreeInodesRatio) + ")"});
    }
  }
  if (sample.writeAttempted) {
    const auto& w = sample.write;
    if (w.error != 0) {
      std::string what = "write probe failed at " + w.stage + ": " + describeErrno(w.error);
      if (w.error == EROFS) {
        problems.push_back({"ReadOnly", what});
      } else if (w.error == ENOSPC) {
        // ENOSPC also means "no inodes left"; say which when we can tell.
        bool inodes = sample.fs.error == 0 && sample.fs.files > 0 &&
                      sample.freeInodesRatio() < limits.minFreeInodesRatio;
        problems.push_back({inodes ? "LowInodes" : "LowSpace", what});
      } else if (w.error == EDQUOT) {
        problems.push_back({"LowSpace", what});
      } else {
        problems.push_back({"WriteFailed", what});
      }
    } else if (w.checksumMismatch) {
      problems.push_back({"WriteFailed", "write probe read back different data than it wrote (" +
                                             std::to_string(w.bytes) + " bytes read)"});
    } else if (sample.writeLatency > limits.maxLatency) {
      problems.push_back({"SlowIO", "write probe took " + formatDuration(sample.writeLatency) +
                                        " (> " + formatDuration(limits.maxLatency) + ")"});
    }
  }
  return problems;
}

ProbeResult pathResult(const ProbeSpec& spec, const std::string& path, bool taintWhenUnhealthy, SystemTime at) {
  ProbeResult r = ProbeResult::forSpec(spec);
  r.target = path;
  r.at = at;
  r.taintWhenUnhealthy = taintWhenUnhealthy;
  return r;
}

bool applyProblems(ProbeResult& result, const std::string& path, const std::vector<Problem>& problems) {
  boost::json::array reasons;
  for (const auto& p : problems) reasons.emplace_back(p.reason);
  result.details["problems"] = std::move(reasons);
  result.healthy = problems.empty();
  if (result.healthy) return false;
  result.reason = problems.front().reason;
  result.message = path + ": " + joinMessages(problems);
  return true;
}

void logVerdict(const ProbeResult& result) {
  const std::string kind = result.kind;
  if (result.healthy) {
    log::debug(kind + " probe ok", {{"path", result.target}, {"message", result.message}});
  } else {
    log::warn(kind + " probe unhealthy", {{"path", result.target}, {"reason", result.reason}, {"message", result.message}});
  }
}

void addFilesystemDetails(boost::json::object& details, const std::string& path, const FilesystemSample& sample,
                          std::chrono::nanoseconds duration) {
  details["path"] = path;
  details["exists"] = sample.exists();
  if (!sample.path.canonicalPath.empty()) details["canonicalPath"] = sample.path.canonicalPath;
  if (sample.mount) {
    details["mountPoint"] = sample.mount->mountPoint;
    details["device"] = sample.mount->source;
    details["fsType"] = sample.mount->fsType;
    details["majorMinor"] = sample.mount->majorMinor;
    details["mountOptions"] = sample.mount->mountOptions;
    details["superOptions"] = sample.mount->superOptions;
  } else if (sample.mountInfoFile.error != 0) {
    details["mountInfoError"] = errnoName(sample.mountInfoFile.error);
  }
  if (sample.exists() && sample.path.isDirectory) {
    details["isMountPoint"] = sample.isMountPoint;
    details["readOnly"] = sample.readOnly();
  }
  if (sample.exists() && sample.path.isDirectory && sample.fs.error == 0) {
    details["freeBytes"] = sample.freeBytes();
    details["sizeBytes"] = sample.sizeBytes();
    details["freeRatio"] = sample.freeRatio();
    details["freeInodesRatio"] = sample.freeInodesRatio();
  } else if (sample.fs.error != 0) {
    details["statvfsError"] = errnoName(sample.fs.error);
  }
  if (sample.writeAttempted) {
    boost::json::object write;
    write["ok"] = sample.write.ok();
    write["latencySeconds"] = seconds(sample.writeLatency);
    if (sample.write.error != 0) write["error"] = errnoName(sample.write.error);
    if (!sample.write.stage.empty()) write["stage"] = sample.write.stage;
    if (sample.write.checksumMismatch) write["checksumMismatch"] = true;
    details["writeProbe"] = std::move(write);
  }
  details["probeDurationSeconds"] = seconds(duration);
}

std::string formatPercent(double ratio) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f%%", ratio * 100.0);
  return buffer;
}

std::string formatBytes(std::uint64_t bytes) {
  static constexpr std::array kUnits{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < kUnits.size()) {
    value /= 1024.0;
    ++unit;
  }
  char buffer[32];
  if (unit == 0) {
    std::snprintf(buffer, sizeof buffer, "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buffer, sizeof buffer, "%.1f %s", value, kUnits[unit]);
  }
  return buffer;
}

double seconds(std::chrono::nanoseconds duration) {
  return std::chrono::duration<double>(duration).count();
}

std::string formatDuration(std::chrono::nanoseconds duration) {
  char buffer[32];
  double s = seconds(duration);
  if (s < 1.0) {
    std::snprintf(buffer, sizeof buffer, "%.1f ms", s * 1000.0);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.2f s", s);
  }
  return buffer;
}

}  // namespace aksnode::disk
