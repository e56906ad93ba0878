#pragma once
// The real FileSystem: POSIX calls, nothing cached.
#include <string>

#include "probes/disk/file_system.h"

namespace aksnode::disk {

class PosixFileSystem final : public FileSystem {
 public:
  struct Paths {
    std::string mountInfo = "/proc/self/mountinfo";
    std::string sysDevBlock = "/sys/dev/block";
  };
  PosixFileSystem() = default;
  explicit PosixFileSystem(Paths paths) : paths_(std::move(paths)) {}

  PathInfo stat(const std::string& path) override;
  FsStats statvfs(const std::string& path) override;
  WriteProbeResult writeProbe(const std::string& directory, const std::string& fileName,
                              std::size_t size) override;
  TextFile readMountInfo() override;
  TextFile readBlockDeviceStat(const std::string& majorMinor) override;
  UsageResult directoryUsage(const std::string& directory, const UsageLimits& limits) override;

  // mountinfo of a Kubernetes node with hundreds of pods is a few hundred KiB.
  static constexpr std::size_t kMaxMountInfoBytes = 8 * 1024 * 1024;

 private:
  Paths paths_;
};

// Reads at most maxBytes; error EFBIG (and no text) when the file is larger.
TextFile readSmallFile(const std::string& path, std::size_t maxBytes);

}  // namespace aksnode::disk
