#pragma once
// The probe of `disks:` (docs/configuration.md; arch/ARCHITECTURE.md "Health probes"): per
// configured path, on a worker thread with a deadline, whether it exists, which mount it is on,
// free space and inodes, read-only state, and a timed write probe; plus I/O pressure of the device
// underneath.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "agent/config/config.h"
#include "probes/disk/block_device_stat.h"
#include "probes/disk/file_system_impl.h"
#include "probes/disk/filesystem_sample.h"
#include "probes/disk/worker_probe.h"

namespace aksnode::disk {

// `disks:` on the Node: LocalDiskProblem, DiskUnhealthy/DiskRecovered, may taint.
extern const ProbeSpec kDiskProbe;

// hangDeadline unset: max(4 * maxProbeLatency, 2 s) per disk (defaultDiskDeadline).
using DiskProbeOptions = WorkerProbeOptions;

// What one probe thread measured about one disk.
struct DiskSample {
  FilesystemSample fs;
  std::optional<BlockDeviceStat> blockStat;
  MonotonicTime sampledAt{};
  std::chrono::nanoseconds duration{0};  // the whole sample, on the worker
};

// Runs on the worker thread.
DiskSample sampleDisk(FileSystem& fs, WorkerContext& context, const DiskConfig& config,
                      const std::string& probeFileName, std::size_t probeBytes);

struct IoPressure {
  std::uint64_t inFlight = 0;
  std::optional<double> utilization;  // needs two samples
};

// Pure: the verdict on one sample. Reasons by severity: Missing, ProbeFailed, NotMounted (only
// with requireMountPoint), ReadOnly, WriteFailed, LowSpace, LowInodes, SlowIO.
ProbeResult evaluateDisk(const DiskConfig& config, const DiskSample& sample,
                         const std::optional<IoPressure>& pressure, SystemTime at);

std::chrono::nanoseconds defaultDiskDeadline(const DiskConfig& config);

struct DiskTarget {
  DiskConfig config;
  std::chrono::nanoseconds deadline;
  std::unique_ptr<BlockingWorker<DiskSample>> worker;
  std::optional<BlockDeviceStat> lastBlockStat;
  MonotonicTime lastBlockStatAt{};
};

class DiskProbe final : public WorkerProbe<DiskTarget, DiskProbeOptions> {
 public:
  DiskProbe(std::vector<DiskConfig> disks, Metrics& metrics, const TimeSource& time,
            std::shared_ptr<FileSystem> fs = std::make_shared<PosixFileSystem>(),
            DiskProbeOptions options = {});
  // Joins finished probe threads, detaches stuck ones (see blocking_worker.h).
  ~DiskProbe() override;

  const ProbeSpec& spec() const override { return kDiskProbe; }
  // All disks are probed in parallel; the round takes at most the longest deadline.
  boost::asio::awaitable<std::vector<ProbeResult>> check() override;

 private:
  ProbeResult onSample(DiskTarget& target, const DiskSample& sample);
  ProbeResult onUnfinished(DiskTarget& target, const BlockingWorker<DiskSample>::Completion& c);
};

}  // namespace aksnode::disk
