#include "probes/disk/directory_usage.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "unit/disk/disk_test_support.h"

namespace aksnode::disk {
namespace {

using testing::ScopedMount;
using aksnode::testing::TempDir;
using testing::writeFile;
namespace stdfs = std::filesystem;

std::uint64_t blocksOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return static_cast<std::uint64_t>(st.st_blocks) * 512;
}

TEST(DirectoryUsage, SumsAllocatedBlocksOfEveryEntry) {
  TempDir dir;
  writeFile(dir.file("a"), 10'000);
  writeFile(dir.file("b"), 1);
  stdfs::create_directories(dir.file("sub/deeper"));
  writeFile(dir.file("sub/c"), 100'000);
  writeFile(dir.file("sub/deeper/d"), 5000);
  std::uint64_t expected = blocksOf(dir.path());
  for (const auto& e : stdfs::recursive_directory_iterator(dir.path())) {
    expected += blocksOf(e.path().string());
  }
  auto u = measureDirectoryUsage(dir.path(), {});
  EXPECT_EQ(u.error, 0);
  EXPECT_EQ(u.bytes, expected);
  EXPECT_GE(u.bytes, 115'001u);
  EXPECT_EQ(u.entries, 6u);
  EXPECT_FALSE(u.partial);
  EXPECT_EQ(u.stoppedBy, "");
}

TEST(DirectoryUsage, DoesNotFollowSymlinksAndCountsHardLinksOnce) {
  TempDir outside, dir;
  writeFile(outside.file("big"), 1 << 20);
  stdfs::create_directory(outside.file("tree"));
  writeFile(outside.file("tree/big2"), 1 << 20);
  stdfs::create_symlink(outside.file("big"), dir.file("link-to-file"));
  stdfs::create_directory_symlink(outside.file("tree"), dir.file("link-to-dir"));
  writeFile(dir.file("f"), 64 * 1024);
  stdfs::create_hard_link(dir.file("f"), dir.file("f2"));
  auto u = measureDirectoryUsage(dir.path(), {});
  std::uint64_t expected = blocksOf(dir.path()) + blocksOf(dir.file("link-to-file")) +
                           blocksOf(dir.file("link-to-dir")) + blocksOf(dir.file("f"));
  EXPECT_EQ(u.bytes, expected);
  EXPECT_LT(u.bytes, 1u << 20);
  EXPECT_EQ(u.entries, 4u);
}

TEST(DirectoryUsage, StopsAtMaxEntriesAndSaysPartial) {
  TempDir dir;
  for (int i = 0; i < 10; ++i) writeFile(dir.file("f" + std::to_string(i)), 10);
  UsageLimits limits;
  limits.maxEntries = 4;
  auto u = measureDirectoryUsage(dir.path(), limits);
  EXPECT_TRUE(u.partial);
  EXPECT_EQ(u.stoppedBy, "maxEntries");
  EXPECT_EQ(u.entries, 4u);
  limits.maxEntries = 10;  // exactly enough
  u = measureDirectoryUsage(dir.path(), limits);
  EXPECT_FALSE(u.partial);
  EXPECT_EQ(u.entries, 10u);
}

TEST(DirectoryUsage, StopsWhenOutOfTime) {
  TempDir dir;
  for (int i = 0; i < 300; ++i) writeFile(dir.file("f" + std::to_string(i)), 0);
  UsageLimits limits;
  int polls = 0;
  limits.outOfTime = [&] { return ++polls >= 1; };
  auto u = measureDirectoryUsage(dir.path(), limits);
  EXPECT_TRUE(u.partial);
  EXPECT_EQ(u.stoppedBy, "timeBudget");
  EXPECT_EQ(u.entries, 256u);  // the clock is polled every 256 entries

  // Many small directories: the budget is also checked between directories.
  TempDir nested;
  for (int i = 0; i < 20; ++i) stdfs::create_directory(nested.file("d" + std::to_string(i)));
  polls = 0;
  limits.outOfTime = [&] { return ++polls >= 2; };
  u = measureDirectoryUsage(nested.path(), limits);
  EXPECT_TRUE(u.partial);
  EXPECT_EQ(u.stoppedBy, "timeBudget");
  EXPECT_LT(u.entries, 20u + 1);
  EXPECT_EQ(polls, 2);
}

TEST(DirectoryUsage, DeepTreesDoNotRecurse) {
  TempDir dir;
  std::string path = dir.path();
  for (int i = 0; i < 150; ++i) path += "/d";
  stdfs::create_directories(path);
  auto u = measureDirectoryUsage(dir.path(), {});
  EXPECT_EQ(u.entries, 150u);
  EXPECT_FALSE(u.partial);
}

TEST(DirectoryUsage, DoesNotCrossIntoOtherFilesystems) {
  TempDir dir;
  stdfs::create_directory(dir.file("mnt"));
  writeFile(dir.file("own"), 8192);
  ScopedMount tmpfs("tmpfs", dir.file("mnt"), "tmpfs", 0, "size=4m");
  if (!tmpfs.mounted()) GTEST_SKIP() << "cannot mount tmpfs here: " << std::strerror(tmpfs.error());
  writeFile(dir.file("mnt/foreign"), 2 << 20);
  auto u = measureDirectoryUsage(dir.path(), {});
  EXPECT_EQ(u.bytes, blocksOf(dir.path()) + blocksOf(dir.file("own")));
  EXPECT_EQ(u.entries, 2u);  // "own" and the mount point, which is skipped
}

TEST(DirectoryUsage, RootErrors) {
  TempDir dir;
  EXPECT_EQ(measureDirectoryUsage(dir.file("missing"), {}).error, ENOENT);
  writeFile(dir.file("file"), 1);
  EXPECT_EQ(measureDirectoryUsage(dir.file("file"), {}).error, ENOTDIR);
}

TEST(DirectoryUsage, UnreadableSubdirectoriesMakeItPartial) {
  TempDir dir;
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  stdfs::create_directory(dir.file("locked"));
  writeFile(dir.file("locked/x"), 100);
  ASSERT_EQ(::chmod((dir.file("locked")).c_str(), 0), 0);
  // Exit status: 0 = partial with one unreadable directory, as expected.
  int status = testing::runUnprivileged([&] {
    auto u = measureDirectoryUsage(dir.path(), {});
    return u.partial && u.unreadable == 1 && u.stoppedBy.empty() ? 0 : 1;
  });
  EXPECT_EQ(status, 0);
  ::chmod((dir.file("locked")).c_str(), 0755);
}

}  // namespace
}  // namespace aksnode::disk
