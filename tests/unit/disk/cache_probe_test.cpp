#include "probes/disk/cache_probe.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>

#include "unit/disk/disk_test_support.h"

namespace aksnode::disk {
namespace {

using namespace std::chrono_literals;
using testing::FakeFileSystem;
using testing::onlyResult;
using testing::runFor;
using aksnode::testing::TempDir;
using testing::writeFile;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::uint64_t treeBytes(const std::string& root) {
  auto blocks = [](const std::filesystem::path& p) {
    struct stat st {};
    ::lstat(p.c_str(), &st);
    return static_cast<std::uint64_t>(st.st_blocks) * 512;
  };
  std::uint64_t total = blocks(root);
  for (const auto& e : std::filesystem::recursive_directory_iterator(root))
    total += blocks(e.path());
  return total;
}

class CacheProbeTest : public ::testing::Test {
 protected:
  std::unique_ptr<CacheProbe> makeProbe(std::shared_ptr<FileSystem> fs,
                                        CacheProbeOptions options = {}) {
    config.caches = {cache};
    config.disks = {};
    metrics = std::make_unique<Metrics>(config);
    return std::make_unique<CacheProbe>(config.caches, disks, *metrics, time, std::move(fs),
                                        options);
  }
  ProbeResult probeOnce(std::shared_ptr<FileSystem> fs, CacheProbeOptions options = {}) {
    auto probe = makeProbe(std::move(fs), options);
    return onlyResult(io, *probe);
  }

  CacheConfig cache;
  std::vector<DiskConfig> disks{[] {
    DiskConfig d;
    d.path = "/";
    d.minFreeRatio = 0.0;
    d.minFreeInodesRatio = 0.0;
    d.maxProbeLatency = 10s;
    return d;
  }()};
  Config config;
  std::unique_ptr<Metrics> metrics;
  boost::asio::io_context io;
  SimulatedTimeSource time;
};

// --- real directories ----------------------------------------------------------------------

TEST_F(CacheProbeTest, MeasuresARealCacheDirectory) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("segments/2026"));
  writeFile(dir.file("segments/2026/part-0"), 300'000);
  writeFile(dir.file("index"), 12'345);
  cache.path = dir.path();
  cache.maxUsedBytes = 10'000'000;
  auto r = probeOnce(std::make_shared<PosixFileSystem>());
  EXPECT_EQ(r.kind, "cache");
  EXPECT_EQ(r.target, dir.path());
  EXPECT_TRUE(r.healthy) << r.message;
  const auto expected = treeBytes(dir.path());
  EXPECT_EQ(r.details.at("usedBytes").as_uint64(), expected);
  EXPECT_EQ(r.details.at("entries").as_uint64(), 4u);
  EXPECT_FALSE(r.details.at("partial").as_bool());
  EXPECT_TRUE(r.details.at("writeProbe").as_object().at("ok").as_bool());
  EXPECT_EQ(metrics->cacheUsedBytes(dir.path()).Value(), static_cast<double>(expected));
  EXPECT_EQ(metrics->cacheHealthy(dir.path()).Value(), 1);
  // The write probe cleaned up after itself: the walk would otherwise count it next time.
  EXPECT_EQ(treeBytes(dir.path()), expected);
}

TEST_F(CacheProbeTest, OverQuota) {
  TempDir dir;
  writeFile(dir.file("blob"), 200'000);
  cache.path = dir.path();
  cache.maxUsedBytes = 100'000;
  auto r = probeOnce(std::make_shared<PosixFileSystem>());
  EXPECT_EQ(r.reason, "OverQuota");
  EXPECT_TRUE(contains(r.message, "maxUsedBytes 97.7 KiB")) << r.message;
  EXPECT_EQ(metrics->cacheHealthy(dir.path()).Value(), 0);
  EXPECT_GE(metrics->cacheUsedBytes(dir.path()).Value(), 200'000);
}

TEST_F(CacheProbeTest, MissingOrNotADirectory) {
  TempDir dir;
  cache.path = dir.file("absent");
  auto r = probeOnce(std::make_shared<PosixFileSystem>());
  EXPECT_EQ(r.reason, "Missing");
  writeFile(dir.file("file"), 1);
  cache.path = dir.file("file");
  r = probeOnce(std::make_shared<PosixFileSystem>());
  EXPECT_EQ(r.reason, "Missing");
  EXPECT_TRUE(contains(r.message, "not a directory")) << r.message;
}

TEST_F(CacheProbeTest, ABoundedWalkReportsPartial) {
  TempDir dir;
  for (int i = 0; i < 5; ++i) writeFile(dir.file("f" + std::to_string(i)), 4096);
  cache.path = dir.path();
  CacheProbeOptions options;
  options.walkMaxEntries = 2;
  auto r = probeOnce(std::make_shared<PosixFileSystem>(), options);
  EXPECT_TRUE(r.healthy) << r.message;
  EXPECT_TRUE(r.details.at("partial").as_bool());
  EXPECT_EQ(r.details.at("stoppedBy").as_string(), "maxEntries");
  EXPECT_TRUE(contains(r.message, "or more (partial walk)")) << r.message;

  // A zero time budget stops the walk as soon as the clock is asked.
  std::filesystem::create_directory(dir.file("sub"));
  options = {};
  options.walkTimeBudget = 0s;
  r = probeOnce(std::make_shared<PosixFileSystem>(), options);
  EXPECT_TRUE(r.details.at("partial").as_bool());
  EXPECT_EQ(r.details.at("stoppedBy").as_string(), "timeBudget");
}

// --- the fake ------------------------------------------------------------------------------

TEST_F(CacheProbeTest, ReadOnlyAndWriteFailuresOfTheFilesystemUnderneath) {
  cache.path = "/mnt/e6data-cache";
  auto fs = std::make_shared<FakeFileSystem>();
  fs->setStats(FsStats{0, 4096, 1000, 500, 1000, 900, true});
  auto r = probeOnce(fs);
  EXPECT_EQ(r.reason, "ReadOnly");
  EXPECT_EQ(fs->calls("write"), 0);

  fs->setStats(FsStats{0, 4096, 1000, 500, 1000, 900, false});
  WriteProbeResult w;
  w.error = EIO;
  w.stage = "read";
  fs->setWrite(w);
  r = probeOnce(fs);
  EXPECT_EQ(r.reason, "WriteFailed");
  EXPECT_TRUE(contains(r.message, "EIO")) << r.message;
  EXPECT_EQ(metrics->cacheHealthy(cache.path).Value(), 0);
}

TEST_F(CacheProbeTest, LowSpaceUsesTheThresholdOfTheDiskItLivesOn) {
  cache.path = "/mnt/e6data-cache";
  DiskConfig mnt;
  mnt.path = "/mnt";
  mnt.minFreeRatio = 0.30;
  disks.push_back(mnt);
  auto fs = std::make_shared<FakeFileSystem>();
  fs->setStats(FsStats{0, 4096, 1000, 250, 1000, 900, false});  // 25% free
  auto r = probeOnce(fs);
  EXPECT_EQ(r.reason, "LowSpace");
  EXPECT_TRUE(contains(r.message, "< 30.0%")) << r.message;
}

TEST_F(CacheProbeTest, PartialUsageOverTheQuotaIsStillOverQuota) {
  cache.path = "/mnt/e6data-cache";
  cache.maxUsedBytes = 1000;
  auto fs = std::make_shared<FakeFileSystem>();
  UsageResult u;
  u.bytes = 5000;
  u.entries = 200'000;
  u.partial = true;
  u.stoppedBy = "maxEntries";
  fs->setUsage(u);
  auto r = probeOnce(fs);
  EXPECT_EQ(r.reason, "OverQuota");
  EXPECT_TRUE(contains(r.message, "or more")) << r.message;
}

TEST_F(CacheProbeTest, AHungWalkIsProbeHungAndStartsNoSecondThread) {
  cache.path = "/mnt/e6data-cache";
  auto fs = std::make_shared<FakeFileSystem>();
  fs->hangIn("walk");
  CacheProbeOptions options;
  options.hangDeadline = 500ms;
  auto probe = makeProbe(fs, options);
  auto r1 = runFor(io, probe->check(), 10s)->front();
  EXPECT_EQ(r1.reason, "ProbeHung");
  ASSERT_TRUE(fs->waitUntilBlocked());
  auto r2 = runFor(io, probe->check(), 10s)->front();
  EXPECT_EQ(r2.reason, "ProbeHung");
  EXPECT_EQ(r2.details.at("stage").as_string(), "walk");
  EXPECT_EQ(probe->threadsStarted(), 1u);
  EXPECT_EQ(metrics->cacheHealthy(cache.path).Value(), 0);
  fs->release();
  ASSERT_TRUE(probe->waitForWorkers(10s));
  auto r3 = runFor(io, probe->check(), 10s)->front();
  EXPECT_TRUE(r3.healthy) << r3.message;
  EXPECT_EQ(metrics->cacheHealthy(cache.path).Value(), 1);
}

TEST(CacheLimits, TheLongestContainingDiskPathWins) {
  DiskConfig root, mnt, other;
  root.path = "/";
  root.minFreeRatio = 0.01;
  mnt.path = "/mnt/";
  mnt.minFreeRatio = 0.2;
  mnt.maxProbeLatency = 900ms;
  other.path = "/mntx";
  other.minFreeRatio = 0.5;
  CacheConfig cache;
  cache.path = "/mnt/e6data-cache";
  auto limits = limitsForCache(cache, {root, other, mnt});
  EXPECT_DOUBLE_EQ(limits.minFreeRatio, 0.2);
  EXPECT_EQ(limits.maxLatency, 900ms);
  cache.path = "/mntx2/cache";
  EXPECT_DOUBLE_EQ(limitsForCache(cache, {root, other, mnt}).minFreeRatio, 0.01);
  EXPECT_DOUBLE_EQ(limitsForCache(cache, {}).minFreeRatio, DiskConfig{}.minFreeRatio);
}

}  // namespace
}  // namespace aksnode::disk
