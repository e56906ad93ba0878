// PosixFileSystem on real directories and, where the test may mount, real tmpfs and
// read-only bind mounts.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "probes/disk/file_system_impl.h"
#include "probes/disk/mount_info.h"
#include "unit/disk/disk_test_support.h"

namespace aksnode::disk {
namespace {

using testing::ReadOnlyBindMount;
using testing::ScopedMount;
using aksnode::testing::TempDir;
using testing::writeFile;

std::size_t entriesIn(const std::string& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

TEST(PosixFileSystem, StatAndStatvfsOfARealDirectory) {
  TempDir dir;
  PosixFileSystem fs;
  auto info = fs.stat(dir.path());
  EXPECT_EQ(info.error, 0);
  EXPECT_TRUE(info.isDirectory);
  EXPECT_EQ(info.canonicalPath, std::filesystem::canonical(dir.path()).string());
  EXPECT_NE(info.device, 0u);

  auto stats = fs.statvfs(dir.path());
  EXPECT_EQ(stats.error, 0);
  EXPECT_GT(stats.fragmentSize, 0u);
  EXPECT_GT(stats.blocks, 0u);
  EXPECT_LE(stats.blocksAvailable, stats.blocks);
  EXPECT_LE(stats.filesAvailable, stats.files);

  EXPECT_EQ(fs.stat(dir.file("missing")).error, ENOENT);
  EXPECT_EQ(fs.statvfs(dir.file("missing")).error, ENOENT);
  writeFile(dir.file("file"), 10);
  auto file = fs.stat(dir.file("file"));
  EXPECT_EQ(file.error, 0);
  EXPECT_FALSE(file.isDirectory);
}

TEST(PosixFileSystem, WriteProbeRoundTripsAndLeavesNothingBehind) {
  TempDir dir;
  PosixFileSystem fs;
  for (std::size_t size : {std::size_t{1}, std::size_t{4096}, std::size_t{65537}}) {
    auto w = fs.writeProbe(dir.path(), ".aks-node-agent-probe-test", size);
    EXPECT_TRUE(w.ok()) << w.stage << " " << w.error;
    EXPECT_EQ(w.bytes, size);
    EXPECT_EQ(entriesIn(dir.path()), 0u);
  }
}

TEST(PosixFileSystem, WriteProbeNeverTouchesAnExistingFile) {
  TempDir dir;
  PosixFileSystem fs;
  writeFile(dir.file("taken"), 3, 'k');
  auto w = fs.writeProbe(dir.path(), "taken", 4096);
  EXPECT_EQ(w.error, EEXIST);
  EXPECT_EQ(w.stage, "open");
  std::ifstream in(dir.file("taken"));
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "kkk");  // neither overwritten nor unlinked
}

TEST(PosixFileSystem, WriteProbeInAMissingDirectory) {
  TempDir dir;
  PosixFileSystem fs;
  auto w = fs.writeProbe(dir.file("nope"), "probe", 16);
  EXPECT_EQ(w.error, ENOENT);
  EXPECT_EQ(w.stage, "open");
}

TEST(PosixFileSystem, WriteProbeWithoutWritePermission) {
  TempDir dir;
  ASSERT_EQ(::chmod(dir.path().c_str(), 0555), 0);  // readable, not writable, for everyone
  int error = testing::runUnprivileged([&] {
    PosixFileSystem fs;
    return fs.writeProbe(dir.path(), "probe", 16).error;
  });
  EXPECT_EQ(error, EACCES);
}

TEST(PosixFileSystem, FullTmpfsGivesEnospc) {
  TempDir dir;
  ScopedMount tmpfs("tmpfs", dir.path(), "tmpfs", 0, "size=64k");
  if (!tmpfs.mounted()) GTEST_SKIP() << "cannot mount tmpfs here: " << std::strerror(tmpfs.error());
  writeFile(dir.file("filler"), 64 * 1024);  // as much as fits
  PosixFileSystem fs;
  auto stats = fs.statvfs(dir.path());
  EXPECT_EQ(stats.blocksAvailable, 0u);
  auto w = fs.writeProbe(dir.path(), "probe", 4096);
  EXPECT_EQ(w.error, ENOSPC);
  EXPECT_EQ(w.stage, "write");
  EXPECT_FALSE(std::filesystem::exists(dir.file("probe")));  // removed after the failure
}

TEST(PosixFileSystem, ReadOnlyBindMountGivesErofsAndRdonlyFlags) {
  TempDir dir;
  ReadOnlyBindMount ro(dir);
  if (!ro.mounted()) GTEST_SKIP() << "cannot bind mount here: " << std::strerror(ro.error());
  ASSERT_EQ(ro.remountError(), 0) << std::strerror(ro.remountError());
  PosixFileSystem fs;
  EXPECT_TRUE(fs.statvfs(dir.file("ro")).readOnly);
  auto w = fs.writeProbe(dir.file("ro"), "probe", 16);
  EXPECT_EQ(w.error, EROFS);
  auto mounts = parseMountInfo(fs.readMountInfo().text);
  const MountEntry* m = findMountFor(mounts, std::filesystem::canonical(dir.file("ro")).string());
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->mountPoint, std::filesystem::canonical(dir.file("ro")).string());
  EXPECT_TRUE(mountIsReadOnly(*m));
}

TEST(PosixFileSystem, ReadsTheRealMountInfo) {
  PosixFileSystem fs;
  auto text = fs.readMountInfo();
  ASSERT_EQ(text.error, 0);
  auto mounts = parseMountInfo(text.text);
  ASSERT_FALSE(mounts.empty());
  const MountEntry* root = findMountFor(mounts, "/");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->mountPoint, "/");
}

TEST(PosixFileSystem, InjectedPathsAndSizeLimits) {
  TempDir dir;
  writeFile(dir.file("mountinfo"), 5, 'm');
  std::filesystem::create_directories(dir.file("block/8:17"));
  {
    std::ofstream out(dir.file("block/8:17/stat"));
    out << "1 2 3 4 5 6 7 8 9 10 11\n";
  }
  PosixFileSystem fs({dir.file("mountinfo"), dir.file("block")});
  EXPECT_EQ(fs.readMountInfo().text, "mmmmm");
  EXPECT_EQ(fs.readBlockDeviceStat("8:17").text, "1 2 3 4 5 6 7 8 9 10 11\n");
  EXPECT_EQ(fs.readBlockDeviceStat("8:18").error, ENOENT);

  writeFile(dir.file("big"), 11);
  auto big = readSmallFile(dir.file("big"), 10);
  EXPECT_EQ(big.error, EFBIG);
  EXPECT_TRUE(big.text.empty());
  EXPECT_EQ(readSmallFile(dir.file("big"), 11).text.size(), 11u);
}

TEST(Errno, NamesAndDescriptions) {
  EXPECT_EQ(errnoName(EIO), "EIO");
  EXPECT_EQ(errnoName(EDQUOT), "EDQUOT");
  EXPECT_EQ(describeErrno(EROFS), "EROFS (Read-only file system)");
  EXPECT_EQ(errnoName(100000), "errno 100000");
}

}  // namespace
}  // namespace aksnode::disk
