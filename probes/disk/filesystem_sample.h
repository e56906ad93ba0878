#pragma once
// What the disk and the cache probes both measure about a path, on the worker thread, and the
// checks both apply to it (read-only, free space and inodes, the write probe).
#include <boost/json/object.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "probes/disk/blocking_worker.h"
#include "probes/disk/file_system.h"
#include "probes/disk/mount_info.h"
#include "probes/probe.h"

namespace aksnode::disk {

// The Node surface of a probe of configured paths (disk, cache): its own condition, the
// DiskUnhealthy/DiskRecovered Events both write (naming kind and path), and the taint.
constexpr ProbeSpec pathProbeSpec(const char* kind, const char* conditionType, const char* healthyReason,
                                  const char* healthyMessage, bool (*monitored)(const Config&)) {
  return {.kind = kind,
          .conditionType = conditionType,
          .healthyReason = healthyReason,
          .healthyMessage = healthyMessage,
          .unhealthyEvent = "DiskUnhealthy",
          .unhealthyEventMessage = targetUnhealthyEventMessage,
          .recoveredEvent = "DiskRecovered",
          .recoveredEventMessage = targetRecoveredEventMessage,
          .mayTaint = true,
          .monitored = monitored};
}

struct FilesystemSample {
  PathInfo path;
  TextFile mountInfoFile;  // text dropped after parsing; error kept
  std::optional<MountEntry> mount;
  bool isMountPoint = false;
  FsStats fs;
  bool writeAttempted = false;
  WriteProbeResult write;
  std::chrono::nanoseconds writeLatency{0};

  bool exists() const { return path.error == 0; }
  bool readOnly() const {
    return (fs.error == 0 && fs.readOnly) || (mount && mountIsReadOnly(*mount));
  }
  std::uint64_t freeBytes() const { return fs.blocksAvailable * fs.fragmentSize; }
  std::uint64_t sizeBytes() const { return fs.blocks * fs.fragmentSize; }
  double freeRatio() const;
  // 1.0 when the filesystem has no fixed inode table (f_files == 0, e.g. btrfs).
  double freeInodesRatio() const;
};

// The unique name of one write probe file: .aks-node-agent-probe-<pid>-<n>.
std::string nextProbeFileName();

// stat, mountinfo, statvfs and (when asked and not read-only) the write probe, in that order.
// Stops after stat when the path is missing or not a directory.
FilesystemSample sampleFilesystem(FileSystem& fs, WorkerContext& context, const std::string& path,
                                  bool writeProbe, const std::string& probeFileName,
                                  std::size_t probeBytes);

// Thresholds a filesystem is held to.
struct FilesystemLimits {
  double minFreeRatio = 0.10;
  double minFreeInodesRatio = 0.05;
  std::chrono::nanoseconds maxLatency{std::chrono::milliseconds(500)};
};

// One reason a probe is unhealthy.
struct Problem {
  std::string reason;   // CamelCase, the LocalDiskProblem/CacheProblem reason (docs/interface.md)
  std::string message;  // human-readable
};

// Severity order of the reasons: the first problem in this order becomes ProbeResult::reason.
int problemRank(const std::string& reason);
// Sorted by rank; the message joins all of them.
void sortProblems(std::vector<Problem>& problems);
std::string joinMessages(const std::vector<Problem>& problems);

// Missing (ENOENT, ENOTDIR, not a directory) or ProbeFailed (any other stat error).
std::optional<Problem> checkExists(const std::string& path, const FilesystemSample& sample);
// The same as a list: empty when the path exists, so the other checks run.
inline std::vector<Problem> existenceProblems(const std::string& path, const FilesystemSample& sample) {
  if (auto missing = checkExists(path, sample)) return {*missing};
  return {};
}
// ReadOnly, statvfs errors, LowSpace, LowInodes, WriteFailed (and ENOSPC/EDQUOT/EROFS from the
// write probe named in the message), SlowIO.
std::vector<Problem> checkFilesystem(const FilesystemSample& sample,
                                     const FilesystemLimits& limits);

// Numbers for /status and --once: the path, mount, device, fs type, free space, inodes, the
// write probe and how long the probe took.
void addFilesystemDetails(boost::json::object& details, const std::string& path, const FilesystemSample& sample,
                          std::chrono::nanoseconds duration);

// The result of one disk or cache target, before its checks: `spec`'s kind, the target, when.
ProbeResult pathResult(const ProbeSpec& spec, const std::string& path, bool taintWhenUnhealthy, SystemTime at);
// Records `problems` (sorted) in details.problems; when there is one, the result is unhealthy
// with the first one's reason and every message, and this returns true.
bool applyProblems(ProbeResult& result, const std::string& path, const std::vector<Problem>& problems);
// "<kind> probe ok" at debug, "<kind> probe unhealthy" (with the reason) at warn.
void logVerdict(const ProbeResult& result);

// "80.1 GiB"
std::string formatBytes(std::uint64_t bytes);
// "12.5%" for 0.125
std::string formatPercent(double ratio);
// "1.2 ms", "3.40 s"
std::string formatDuration(std::chrono::nanoseconds duration);
double seconds(std::chrono::nanoseconds duration);

}  // namespace aksnode::disk
