// DiskProbe against the FakeFileSystem: every cause of LocalDiskProblem (docs/interface.md), the
// hung-disk behaviour and the metrics. Real filesystems are in disk_probe_real_test.cpp.
#include "probes/disk/disk_probe.h"

#include <gtest/gtest.h>

#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>

#include "unit/disk/disk_test_support.h"

namespace aksnode::disk {
namespace {

using namespace std::chrono_literals;
using testing::FakeFileSystem;
using testing::onlyResult;
using testing::runFor;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class DiskProbeTest : public ::testing::Test {
 protected:
  DiskProbeTest() {
    disk.path = "/mnt";
    disk.minFreeRatio = 0.10;
    disk.minFreeInodesRatio = 0.05;
    disk.maxProbeLatency = 500ms;
  }

  // One round of a fresh probe over `disk`.
  ProbeResult probeOnce() {
    auto probe = makeProbe();
    return onlyResult(io, *probe);
  }

  std::unique_ptr<DiskProbe> makeProbe(std::vector<DiskConfig> disks = {},
                                       std::chrono::nanoseconds deadline = 10s) {
    if (disks.empty()) disks = {disk};
    config.disks = disks;
    metrics = std::make_unique<Metrics>(config);
    DiskProbeOptions options;
    options.hangDeadline = deadline;
    return std::make_unique<DiskProbe>(disks, *metrics, time, fs, options);
  }

  double gauge(prometheus::Gauge& g) { return g.Value(); }

  DiskConfig disk;
  Config config;
  boost::asio::io_context io;
  SimulatedTimeSource time;
  std::shared_ptr<FakeFileSystem> fs = std::make_shared<FakeFileSystem>();
  std::unique_ptr<Metrics> metrics;
};

TEST_F(DiskProbeTest, HealthyDiskReportsDeviceNumbersAndMetrics) {
  disk.taintWhenUnhealthy = true;
  auto probe = makeProbe();
  auto results = runFor(io, probe->check());
  ASSERT_TRUE(results);
  ASSERT_EQ(results->size(), 1u);
  const ProbeResult& r = results->front();
  EXPECT_EQ(r.kind, "disk");
  EXPECT_EQ(r.target, "/mnt");
  EXPECT_TRUE(r.healthy) << r.message;
  EXPECT_EQ(r.reason, "");
  EXPECT_TRUE(r.taintWhenUnhealthy);
  EXPECT_EQ(r.at, time.systemTime());
  EXPECT_EQ(r.details.at("device").as_string(), "/dev/sdb1");
  EXPECT_EQ(r.details.at("fsType").as_string(), "ext4");
  EXPECT_EQ(r.details.at("mountPoint").as_string(), "/mnt");
  EXPECT_EQ(r.details.at("majorMinor").as_string(), "8:17");
  EXPECT_TRUE(r.details.at("isMountPoint").as_bool());
  EXPECT_EQ(r.details.at("freeBytes").as_uint64(), 500u * 4096);
  EXPECT_EQ(r.details.at("sizeBytes").as_uint64(), 1000u * 4096);
  EXPECT_DOUBLE_EQ(r.details.at("freeRatio").as_double(), 0.5);
  EXPECT_DOUBLE_EQ(r.details.at("freeInodesRatio").as_double(), 0.9);
  EXPECT_TRUE(r.details.at("writeProbe").as_object().at("ok").as_bool());
  EXPECT_EQ(r.details.at("ioInFlight").as_uint64(), 0u);
  EXPECT_TRUE(contains(r.message, "2.0 MiB free of 3.9 MiB (50.0%)")) << r.message;

  EXPECT_EQ(gauge(metrics->diskHealthy("/mnt")), 1);
  EXPECT_EQ(gauge(metrics->diskFreeBytes("/mnt")), 500.0 * 4096);
  EXPECT_EQ(gauge(metrics->diskSizeBytes("/mnt")), 1000.0 * 4096);
  EXPECT_DOUBLE_EQ(gauge(metrics->diskFreeInodesRatio("/mnt")), 0.9);
  EXPECT_EQ(gauge(metrics->diskReadOnly("/mnt")), 0);
  EXPECT_TRUE(
      contains(metrics->serialize(), "aksnode_disk_probe_duration_seconds_count{path=\"/mnt\"} 1"));

  // Every blocking call ran on a probe thread, none on the event loop (this) thread.
  EXPECT_EQ(fs->threads().count(std::this_thread::get_id()), 0u);
  EXPECT_EQ(fs->calls("stat"), 1);
  EXPECT_EQ(fs->calls("statvfs"), 1);
  EXPECT_EQ(fs->calls("write"), 1);
  EXPECT_EQ(fs->calls("blockstat"), 1);
  EXPECT_TRUE(fs->lastProbeFile().rfind(".aks-node-agent-probe-" + std::to_string(::getpid()) + "-",
                                        0) == 0)
      << fs->lastProbeFile();
}

TEST_F(DiskProbeTest, LowSpaceBelowMinFreeRatio) {
  FsStats s{0, 4096, 1000, 99, 1000, 900, false};
  fs->setStats(s);
  auto r = probeOnce();
  EXPECT_FALSE(r.healthy);
  EXPECT_EQ(r.reason, "LowSpace");
  EXPECT_TRUE(contains(r.message, "9.9% < 10.0%")) << r.message;
  s.blocksAvailable = 100;  // exactly at the threshold is fine
  fs->setStats(s);
  EXPECT_TRUE(probeOnce().healthy);
}

TEST_F(DiskProbeTest, LowInodesAndFilesystemsWithoutAnInodeTable) {
  fs->setStats(FsStats{0, 4096, 1000, 500, 1000, 40, false});
  auto r = probeOnce();
  EXPECT_EQ(r.reason, "LowInodes");
  EXPECT_TRUE(contains(r.message, "4.0% of inodes free")) << r.message;

  // btrfs: f_files == 0, never LowInodes.
  fs->setStats(FsStats{0, 4096, 1000, 500, 0, 0, false});
  r = probeOnce();
  EXPECT_TRUE(r.healthy) << r.message;
  EXPECT_DOUBLE_EQ(r.details.at("freeInodesRatio").as_double(), 1.0);
}

TEST_F(DiskProbeTest, ReadOnlyFromStatvfsSkipsTheWriteProbe) {
  FsStats s{0, 4096, 1000, 500, 1000, 900, true};
  fs->setStats(s);
  auto probe = makeProbe();
  auto r = runFor(io, probe->check())->front();
  EXPECT_EQ(r.reason, "ReadOnly");
  EXPECT_EQ(fs->calls("write"), 0);
  EXPECT_EQ(gauge(metrics->diskReadOnly("/mnt")), 1);
  EXPECT_EQ(gauge(metrics->diskHealthy("/mnt")), 0);
}

TEST_F(DiskProbeTest, ReadOnlyFromMountInfoSuperOptionsAndEmergencyRo) {
  fs->setMountInfo("98 22 8:17 / /mnt rw,relatime - ext4 /dev/sdb1 ro,errors=remount-ro\n");
  auto r = probeOnce();
  EXPECT_EQ(r.reason, "ReadOnly");
  EXPECT_TRUE(contains(r.message, "superblock")) << r.message;

  fs->setMountInfo("98 22 8:17 / /mnt rw - ext4 /dev/sdb1 rw,emergency_ro\n");
  r = probeOnce();
  EXPECT_EQ(r.reason, "ReadOnly");
  EXPECT_TRUE(contains(r.message, "emergency_ro")) << r.message;
  EXPECT_TRUE(r.details.at("readOnly").as_bool());

  fs->setMountInfo("98 22 8:17 / /mnt ro - ext4 /dev/sdb1 ro\n");
  EXPECT_EQ(probeOnce().reason, "ReadOnly");
}

TEST_F(DiskProbeTest, WriteProbeErrnosAreNamed) {
  struct Case {
    int error;
    const char* stage;
    const char* reason;
    const char* named;
  };
  for (const Case& c :
       {Case{EIO, "fsync", "WriteFailed", "EIO"}, Case{ENOSPC, "write", "LowSpace", "ENOSPC"},
        Case{EDQUOT, "write", "LowSpace", "EDQUOT"}, Case{EROFS, "open", "ReadOnly", "EROFS"},
        Case{EACCES, "open", "WriteFailed", "EACCES"}}) {
    WriteProbeResult w;
    w.error = c.error;
    w.stage = c.stage;
    fs->setWrite(w);
    auto r = probeOnce();
    EXPECT_FALSE(r.healthy);
    EXPECT_EQ(r.reason, c.reason) << c.named;
    EXPECT_TRUE(contains(r.message, c.named)) << r.message;
    EXPECT_TRUE(contains(r.message, std::string("at ") + c.stage)) << r.message;
    EXPECT_EQ(r.details.at("writeProbe").as_object().at("error").as_string(), c.named);
  }
}

TEST_F(DiskProbeTest, EnospcWithInodesExhaustedIsLowInodes) {
  fs->setStats(FsStats{0, 4096, 1000, 500, 1000, 0, false});
  WriteProbeResult w;
  w.error = ENOSPC;
  w.stage = "open";
  fs->setWrite(w);
  auto r = probeOnce();
  EXPECT_EQ(r.reason, "LowInodes");
  EXPECT_TRUE(contains(r.message, "ENOSPC")) << r.message;
}

TEST_F(DiskProbeTest, ChecksumMismatchIsWriteFailed) {
  WriteProbeResult w;
  w.checksumMismatch = true;
  w.stage = "verify";
  w.bytes = 4096;
  fs->setWrite(w);
  auto r = probeOnce();
  EXPECT_EQ(r.reason, "WriteFailed");
  EXPECT_TRUE(contains(r.message, "read back different data")) << r.message;
}

TEST_F(DiskProbeTest, SlowWriteIsSlowIO) {
  fs->makeSlow("write", time, 800ms);
  auto r = probeOnce();
  EXPECT_EQ(r.reason, "SlowIO");
  EXPECT_TRUE(contains(r.message, "800.0 ms (> 500.0 ms)")) << r.message;
  EXPECT_DOUBLE_EQ(r.details.at("writeProbe").as_object().at("latencySeconds").as_double(), 0.8);
  // Just under the limit is fine.
  fs->makeSlow("write", time, 499ms);
  EXPECT_TRUE(probeOnce().healthy);
}

TEST_F(DiskProbeTest, WithoutAWriteProbeASlowStatvfsIsSlowIO) {
  disk.writeProbe = false;
  fs->makeSlow("statvfs", time, 2s);
  auto probe = makeProbe();
  auto r = runFor(io, probe->check())->front();
  EXPECT_EQ(r.reason, "SlowIO");
  EXPECT_EQ(fs->calls("write"), 0);
  // The duration histogram got the 2 s sample: 0 in the buckets up to 1 s, 1 from 2.5 s.
  auto text = metrics->serialize();
  EXPECT_TRUE(
      contains(text, "aksnode_disk_probe_duration_seconds_bucket{path=\"/mnt\",le=\"1\"} 0"));
  EXPECT_TRUE(
      contains(text, "aksnode_disk_probe_duration_seconds_bucket{path=\"/mnt\",le=\"2.5\"} 1"));
}

TEST_F(DiskProbeTest, MissingPathAndNotADirectory) {
  PathInfo missing;
  missing.error = ENOENT;
  fs->setPathInfo(missing);
  auto r = probeOnce();
  EXPECT_EQ(r.reason, "Missing");
  EXPECT_FALSE(r.details.at("exists").as_bool());
  EXPECT_EQ(fs->calls("statvfs"), 0);

  PathInfo file;
  file.isDirectory = false;
  file.canonicalPath = "/mnt";
  fs->setPathInfo(file);
  r = probeOnce();
  EXPECT_EQ(r.reason, "Missing");
  EXPECT_TRUE(contains(r.message, "not a directory")) << r.message;

  PathInfo eio;
  eio.error = EIO;
  fs->setPathInfo(eio);
  r = probeOnce();
  EXPECT_EQ(r.reason, "ProbeFailed");
  EXPECT_TRUE(contains(r.message, "EIO")) << r.message;
}

TEST_F(DiskProbeTest, StatvfsErrorIsNamed) {
  FsStats s;
  s.error = EIO;
  fs->setStats(s);
  auto r = probeOnce();
  EXPECT_EQ(r.reason, "ProbeFailed");
  EXPECT_TRUE(contains(r.message, "statvfs failed: EIO")) << r.message;
}

TEST_F(DiskProbeTest, NotAMountPointIsUnhealthyOnlyWhenRequired) {
  // /mnt is a plain directory of the root filesystem (kind, dev machines).
  fs->setMountInfo("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n");
  auto r = probeOnce();
  EXPECT_TRUE(r.healthy) << r.message;
  EXPECT_FALSE(r.details.at("isMountPoint").as_bool());
  EXPECT_EQ(r.details.at("mountPoint").as_string(), "/");
  EXPECT_EQ(r.details.at("device").as_string(), "/dev/sda1");
  EXPECT_TRUE(contains(r.message, "not a mount point")) << r.message;

  disk.requireMountPoint = true;
  r = probeOnce();
  EXPECT_EQ(r.reason, "NotMounted");
  EXPECT_TRUE(contains(r.message, "it is on /, /dev/sda1")) << r.message;

  // Unreadable mountinfo: no claim either way.
  fs->setMountInfo("", EACCES);
  r = probeOnce();
  EXPECT_TRUE(r.healthy) << r.message;
  EXPECT_EQ(r.details.at("mountInfoError").as_string(), "EACCES");
}

TEST_F(DiskProbeTest, SeveralProblemsReportTheMostSevereAndListAll) {
  fs->setStats(FsStats{0, 4096, 1000, 10, 1000, 10, false});
  WriteProbeResult w;
  w.error = EIO;
  w.stage = "write";
  fs->setWrite(w);
  auto r = probeOnce();
  EXPECT_EQ(r.reason, "WriteFailed");
  const auto& problems = r.details.at("problems").as_array();
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_EQ(problems[0].as_string(), "WriteFailed");
  EXPECT_EQ(problems[1].as_string(), "LowSpace");
  EXPECT_EQ(problems[2].as_string(), "LowInodes");
  EXPECT_TRUE(contains(r.message, "EIO") && contains(r.message, "inodes")) << r.message;
}

TEST_F(DiskProbeTest, IoUtilizationFromTwoSamples) {
  auto probe = makeProbe();
  fs->setBlockStat("0 0 0 0 0 0 0 0 2 1000 0\n");
  auto first = runFor(io, probe->check())->front();
  EXPECT_EQ(first.details.at("ioInFlight").as_uint64(), 2u);
  EXPECT_FALSE(first.details.contains("ioUtilization"));
  time.advance(10s);
  fs->setBlockStat("0 0 0 0 0 0 0 0 1 3500 0\n");
  auto second = runFor(io, probe->check())->front();
  EXPECT_DOUBLE_EQ(second.details.at("ioUtilization").as_double(), 0.25);
}

TEST_F(DiskProbeTest, HungDiskIsProbeHungWithoutPilingUpThreadsAndRecovers) {
  // Long enough for a healthy round on a loaded CI machine, short enough for a unit test.
  auto probe = makeProbe({disk}, 500ms);
  fs->hangIn("write");

  // Round 1: the write never returns; the round ends at the deadline.
  auto r1 = runFor(io, probe->check(), 10s);
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->front().reason, "ProbeHung");
  EXPECT_FALSE(r1->front().healthy);
  EXPECT_TRUE(contains(r1->front().message, "did not return within 500.0 ms"))
      << r1->front().message;
  EXPECT_EQ(gauge(metrics->diskHealthy("/mnt")), 0);
  ASSERT_TRUE(fs->waitUntilBlocked());

  // Round 2, 30 s later, while the thread is still stuck: ProbeHung again, nothing started.
  time.advance(30s);
  auto r2 = runFor(io, probe->check(), 10s);
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->front().reason, "ProbeHung");
  EXPECT_TRUE(contains(r2->front().message, "still blocked in write")) << r2->front().message;
  EXPECT_DOUBLE_EQ(r2->front().details.at("stuckForSeconds").as_double(), 30.0);
  EXPECT_EQ(probe->threadsStarted(), 1u);
  EXPECT_EQ(fs->calls("stat"), 1);
  EXPECT_EQ(fs->calls("write"), 1);

  // The disk comes back: the stuck call returns, the next round is a normal one.
  fs->release();
  ASSERT_TRUE(probe->waitForWorkers(10s));
  auto r3 = runFor(io, probe->check(), 10s);
  ASSERT_TRUE(r3);
  EXPECT_TRUE(r3->front().healthy) << r3->front().message;
  EXPECT_EQ(probe->threadsStarted(), 2u);
  EXPECT_EQ(gauge(metrics->diskHealthy("/mnt")), 1);
}

TEST_F(DiskProbeTest, AHungStatvfsNamesTheStage) {
  auto probe = makeProbe({disk}, 20ms);
  fs->hangIn("statvfs");
  runFor(io, probe->check(), 10s);
  ASSERT_TRUE(fs->waitUntilBlocked());
  auto r = runFor(io, probe->check(), 10s)->front();
  EXPECT_EQ(r.reason, "ProbeHung");
  EXPECT_EQ(r.details.at("stage").as_string(), "statvfs");
  fs->release();
  EXPECT_TRUE(probe->waitForWorkers(10s));
}

TEST_F(DiskProbeTest, OneHungDiskDoesNotHideTheOthers) {
  // Two probes on one event loop, one over a hung filesystem: the other's round is not
  // delayed by it. (Each has its own fake: a hang in the fake catches every write.)
  auto hungFs = std::make_shared<FakeFileSystem>();
  hungFs->hangIn("write");
  DiskConfig a = disk, b = disk;
  a.path = "/mnt";
  b.path = "/mnt2";
  config.disks = {a, b};
  metrics = std::make_unique<Metrics>(config);
  DiskProbeOptions options;
  options.hangDeadline = 1s;  // generous: the healthy probe must beat it on a loaded machine
  DiskProbe hung({a}, *metrics, time, hungFs, options);
  DiskProbe fine({b}, *metrics, time, fs, options);

  bool hungDone = false, fineDone = false;
  std::vector<ProbeResult> hungResults, fineResults;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        hungResults = co_await hung.check();
        hungDone = true;
      },
      boost::asio::detached);
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        fineResults = co_await fine.check();
        fineDone = true;
        // The healthy disk's round completed while the other was still waiting for its deadline.
        EXPECT_FALSE(hungDone);
      },
      boost::asio::detached);
  io.run_for(10s);
  ASSERT_TRUE(hungDone && fineDone);
  EXPECT_EQ(hungResults.front().reason, "ProbeHung");
  EXPECT_TRUE(fineResults.front().healthy);
  hungFs->release();
  EXPECT_TRUE(hung.waitForWorkers(10s));
}

TEST_F(DiskProbeTest, SeveralDisksInOneProbeAreProbedInParallel) {
  // One hung disk among several: the round takes one deadline, and the healthy disks still
  // report. The fake hangs every write, so only the paths without a write probe get through.
  DiskConfig a = disk, b = disk, c = disk;
  a.path = "/mnt/a";
  b.path = "/mnt/b";
  c.path = "/mnt/c";
  b.writeProbe = false;
  c.writeProbe = false;
  auto probe = makeProbe({a, b, c}, 1s);
  fs->hangIn("write");
  auto results = runFor(io, probe->check(), 10s);
  ASSERT_TRUE(results);
  ASSERT_EQ(results->size(), 3u);
  EXPECT_EQ((*results)[0].reason, "ProbeHung");
  EXPECT_TRUE((*results)[1].healthy) << (*results)[1].message;
  EXPECT_TRUE((*results)[2].healthy) << (*results)[2].message;
  EXPECT_EQ(gauge(metrics->diskHealthy("/mnt/a")), 0);
  EXPECT_EQ(gauge(metrics->diskHealthy("/mnt/b")), 1);
  fs->release();
  EXPECT_TRUE(probe->waitForWorkers(10s));
}

TEST_F(DiskProbeTest, ProbeDestroyedWhileItsThreadIsStuck) {
  {
    auto probe = makeProbe({disk}, 20ms);
    fs->hangIn("write");
    auto r = runFor(io, probe->check(), 10s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->front().reason, "ProbeHung");
    ASSERT_TRUE(fs->waitUntilBlocked());
  }               // the agent shuts down with the disk still hung
  fs->release();  // much later the kernel call returns: nothing may touch the dead probe
  EXPECT_TRUE(fs->waitUntilUnblocked());
}

TEST_F(DiskProbeTest, EventLoopDestroyedMidRoundWithSeveralThreadsOutstanding) {
  // Shutdown in the middle of a round: the coroutine waits on the first disk, the second
  // disk's thread has not been waited for yet. When both threads return later, neither may
  // post to the destroyed io_context (ASan would see the use after free).
  DiskConfig a = disk, b = disk;
  a.path = "/mnt/a";
  b.path = "/mnt/b";
  auto probe = makeProbe({a, b}, 1h);
  fs->hangIn("write");
  {
    boost::asio::io_context loop;
    boost::asio::co_spawn(loop, probe->check(), boost::asio::detached);
    loop.poll();  // both threads start; the round suspends on disk a
    EXPECT_EQ(probe->threadsStarted(), 2u);
  }
  fs->release();
  EXPECT_TRUE(probe->waitForWorkers(10s));
}

}  // namespace
}  // namespace aksnode::disk
