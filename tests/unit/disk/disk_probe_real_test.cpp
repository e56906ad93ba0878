// DiskProbe over real directories and filesystems (PosixFileSystem, RealTimeSource).
// The mount-based tests skip where mounting is not allowed.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <cstring>
#include <filesystem>

#include "probes/disk/disk_probe.h"
#include "unit/disk/disk_test_support.h"

namespace aksnode::disk {
namespace {

using namespace std::chrono_literals;
using testing::onlyResult;
using testing::runFor;
using testing::ReadOnlyBindMount;
using testing::ScopedMount;
using aksnode::testing::TempDir;
using testing::writeFile;

class RealDiskProbeTest : public ::testing::Test {
 protected:
  ProbeResult probe(const DiskConfig& disk) {
    config.disks = {disk};
    metrics = std::make_unique<Metrics>(config);
    DiskProbe p({disk}, *metrics, time);
    return onlyResult(io, p);
  }

  Config config;
  std::unique_ptr<Metrics> metrics;
  boost::asio::io_context io;
  RealTimeSource time;
};

TEST_F(RealDiskProbeTest, ATempDirectoryIsHealthyAndTheProbeFileIsGone) {
  TempDir dir;
  DiskConfig disk;
  disk.path = dir.path();
  disk.minFreeRatio = 0.0;  // whatever this machine's disk looks like
  disk.minFreeInodesRatio = 0.0;
  disk.maxProbeLatency = 10s;
  auto r = probe(disk);
  EXPECT_TRUE(r.healthy) << r.message;
  EXPECT_GT(r.details.at("sizeBytes").as_uint64(), 0u);
  EXPECT_TRUE(r.details.at("writeProbe").as_object().at("ok").as_bool());
  EXPECT_FALSE(r.details.at("isMountPoint").as_bool());  // a plain directory
  EXPECT_FALSE(r.details.at("fsType").as_string().empty());
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
  EXPECT_GT(metrics->diskSizeBytes(dir.path()).Value(), 0);
  EXPECT_EQ(metrics->diskHealthy(dir.path()).Value(), 1);
}

TEST_F(RealDiskProbeTest, AMissingPath) {
  TempDir dir;
  DiskConfig disk;
  disk.path = dir.file("not-there");
  auto r = probe(disk);
  EXPECT_EQ(r.reason, "Missing");
  EXPECT_EQ(metrics->diskHealthy(disk.path).Value(), 0);
}

TEST_F(RealDiskProbeTest, ATmpfsMountPointFilledBelowTheThreshold) {
  TempDir dir;
  ScopedMount tmpfs("tmpfs", dir.path(), "tmpfs", 0, "size=1m,nr_inodes=1000");
  if (!tmpfs.mounted()) GTEST_SKIP() << "cannot mount tmpfs here: " << std::strerror(tmpfs.error());
  DiskConfig disk;
  disk.path = dir.path();
  disk.requireMountPoint = true;
  disk.maxProbeLatency = 10s;
  auto r = probe(disk);
  EXPECT_TRUE(r.healthy) << r.message;
  EXPECT_TRUE(r.details.at("isMountPoint").as_bool());
  EXPECT_EQ(r.details.at("fsType").as_string(), "tmpfs");
  EXPECT_EQ(r.details.at("sizeBytes").as_uint64(), 1u << 20);

  writeFile(dir.file("filler"), (1 << 20) - 64 * 1024);  // 64 KiB left: 6.25% < 10%
  r = probe(disk);
  EXPECT_EQ(r.reason, "LowSpace") << r.message;
  EXPECT_LT(metrics->diskFreeBytes(disk.path).Value(), 0.1 * (1 << 20));
}

TEST_F(RealDiskProbeTest, AReadOnlyBindMount) {
  TempDir dir;
  ReadOnlyBindMount ro(dir);
  if (!ro.mounted()) GTEST_SKIP() << "cannot bind mount here: " << std::strerror(ro.error());
  ASSERT_EQ(ro.remountError(), 0) << std::strerror(ro.remountError());
  DiskConfig disk;
  disk.path = dir.file("ro");
  disk.minFreeRatio = 0.0;
  disk.minFreeInodesRatio = 0.0;
  disk.maxProbeLatency = 10s;
  auto r = probe(disk);
  EXPECT_EQ(r.reason, "ReadOnly") << r.message;
  EXPECT_TRUE(r.details.at("isMountPoint").as_bool());
  EXPECT_EQ(metrics->diskReadOnly(disk.path).Value(), 1);
}

TEST_F(RealDiskProbeTest, APlainDirectoryWithRequireMountPointIsNotMounted) {
  TempDir dir;
  DiskConfig disk;
  disk.path = dir.path();
  disk.minFreeRatio = 0.0;
  disk.minFreeInodesRatio = 0.0;
  disk.maxProbeLatency = 10s;
  disk.requireMountPoint = true;
  auto r = probe(disk);
  EXPECT_EQ(r.reason, "NotMounted") << r.message;
}

}  // namespace
}  // namespace aksnode::disk
