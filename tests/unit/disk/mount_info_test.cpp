#include "probes/disk/mount_info.h"

#include <gtest/gtest.h>

namespace aksnode::disk {
namespace {

TEST(MountInfo, ParsesTheDocumentedExampleWithOptionalFields) {
  auto e = parseMountInfoLine(
      "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->mountId, 36);
  EXPECT_EQ(e->parentId, 35);
  EXPECT_EQ(e->majorMinor, "98:0");
  EXPECT_EQ(e->root, "/mnt1");
  EXPECT_EQ(e->mountPoint, "/mnt/parent");
  EXPECT_EQ(e->mountOptions, "rw,noatime");
  ASSERT_EQ(e->optionalFields.size(), 1u);
  EXPECT_EQ(e->optionalFields[0], "master:1");
  EXPECT_EQ(e->fsType, "ext3");
  EXPECT_EQ(e->source, "/dev/root");
  EXPECT_EQ(e->superOptions, "rw,errors=continue");
  EXPECT_FALSE(mountIsReadOnly(*e));
}

TEST(MountInfo, ParsesZeroAndSeveralOptionalFields) {
  auto none = parseMountInfoLine("27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->optionalFields.empty());
  EXPECT_EQ(none->fsType, "ext4");
  EXPECT_EQ(none->source, "/dev/vda");

  auto many = parseMountInfoLine(
      "40 22 8:17 / /mnt rw shared:5 master:3 propagate_from:2 unbindable - xfs /dev/sdb1 rw");
  ASSERT_TRUE(many);
  EXPECT_EQ(many->optionalFields,
            (std::vector<std::string>{"shared:5", "master:3", "propagate_from:2", "unbindable"}));
  EXPECT_EQ(many->fsType, "xfs");
  EXPECT_EQ(many->source, "/dev/sdb1");
}

TEST(MountInfo, UnescapesOctalSequencesInPathsAndSource) {
  auto e = parseMountInfoLine(
      R"(50 22 8:33 /a\134b /mnt/my\040disk\011x rw - ext4 /dev/disk/by-label/data\040one rw)");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->root, "/a\\b");
  EXPECT_EQ(e->mountPoint, "/mnt/my disk\tx");
  EXPECT_EQ(e->source, "/dev/disk/by-label/data one");
  EXPECT_EQ(unescapeMountField(R"(a\012b)"), "a\nb");
  // Not an escape: kept as is.
  EXPECT_EQ(unescapeMountField(R"(a\09b\)"), R"(a\09b\)");
  EXPECT_EQ(unescapeMountField(R"(\04)"), R"(\04)");
  EXPECT_EQ(unescapeMountField(R"(\777)"), R"(\777)");  // beyond a byte
}

TEST(MountInfo, ReadOnlyFromMountOrSuperOptionsIncludingEmergencyRo) {
  auto mountRo = parseMountInfoLine("1 0 8:1 / /a ro,relatime - ext4 /dev/sda1 rw");
  auto superRo =
      parseMountInfoLine("2 0 8:1 / /b rw,relatime - ext4 /dev/sda1 ro,errors=remount-ro");
  auto emergency = parseMountInfoLine(
      "3 0 8:1 / /c rw,relatime - ext4 /dev/sda1 rw,emergency_ro,errors=remount-ro");
  auto notRo = parseMountInfoLine("4 0 8:1 / /d rw,errors=remount-ro - ext4 /dev/sda1 rw,rox");
  ASSERT_TRUE(mountRo && superRo && emergency && notRo);
  EXPECT_TRUE(mountIsReadOnly(*mountRo));
  EXPECT_TRUE(mountIsReadOnly(*superRo));
  EXPECT_TRUE(mountIsReadOnly(*emergency));
  // "errors=remount-ro" and "rox" are not "ro".
  EXPECT_FALSE(mountIsReadOnly(*notRo));
}

TEST(MountInfo, RejectsMalformedLines) {
  EXPECT_FALSE(parseMountInfoLine(""));
  EXPECT_FALSE(parseMountInfoLine("garbage"));
  // No separator.
  EXPECT_FALSE(parseMountInfoLine("1 0 8:1 / /a rw shared:1 ext4 /dev/sda1 rw"));
  // Separator but nothing after it.
  EXPECT_FALSE(parseMountInfoLine("1 0 8:1 / /a rw shared:1 -"));
  // Non-numeric ids, bad major:minor, relative mount point.
  EXPECT_FALSE(parseMountInfoLine("x 0 8:1 / /a rw - ext4 /dev/sda1 rw"));
  EXPECT_FALSE(parseMountInfoLine("1 0 81 / /a rw - ext4 /dev/sda1 rw"));
  EXPECT_FALSE(parseMountInfoLine("1 0 8: / /a rw - ext4 /dev/sda1 rw"));
  EXPECT_FALSE(parseMountInfoLine("1 0 8:1 / a rw - ext4 /dev/sda1 rw"));
  EXPECT_FALSE(parseMountInfoLine("-1 0 8:1 / /a rw - ext4 /dev/sda1 rw"));
  // The separator is looked for only after the six fixed fields: mount options that are
  // literally "-" are not it.
  auto dashOption = parseMountInfoLine("1 0 8:1 / /a - - ext4 /dev/sda1 rw");
  ASSERT_TRUE(dashOption);
  EXPECT_EQ(dashOption->mountOptions, "-");
  EXPECT_EQ(dashOption->fsType, "ext4");
}

TEST(MountInfo, ToleratesMissingSourceAndSuperOptionsAndCarriageReturns) {
  auto e = parseMountInfoLine("1 0 0:5 / /x rw - tmpfs\r");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->fsType, "tmpfs");
  EXPECT_EQ(e->source, "");
  EXPECT_EQ(e->superOptions, "");
}

TEST(MountInfo, ParsesAFileSkippingBadLines) {
  auto mounts = parseMountInfo(
      "27 1 254:0 / / rw - ext4 /dev/vda rw\n"
      "this is not a mount\n"
      "\n"
      "40 27 8:17 / /mnt rw shared:5 - ext4 /dev/sdb1 rw\n"
      "41 40 0:50 / /mnt/e6data-cache rw - tmpfs tmpfs rw,size=1024k");  // no final newline
  ASSERT_EQ(mounts.size(), 3u);
  EXPECT_EQ(mounts[2].mountPoint, "/mnt/e6data-cache");
}

TEST(MountInfo, FindsTheLongestContainingMountPoint) {
  auto mounts = parseMountInfo(
      "1 0 254:0 / / rw - ext4 /dev/vda rw\n"
      "2 1 8:17 / /mnt rw - ext4 /dev/sdb1 rw\n"
      "3 2 0:50 / /mnt/cache rw - tmpfs tmpfs rw\n");
  auto find = [&](const char* path) {
    const MountEntry* m = findMountFor(mounts, path);
    return m ? m->mountPoint : std::string("<none>");
  };
  EXPECT_EQ(find("/mnt"), "/mnt");
  EXPECT_EQ(find("/mnt/data/x"), "/mnt");
  EXPECT_EQ(find("/mnt/cache"), "/mnt/cache");
  EXPECT_EQ(find("/mnt/cache/a"), "/mnt/cache");
  // A path-component boundary, not a string prefix.
  EXPECT_EQ(find("/mntx"), "/");
  EXPECT_EQ(find("/mnt/cachex"), "/mnt");
  EXPECT_EQ(find("/"), "/");
  EXPECT_EQ(find("relative"), "<none>");
  EXPECT_EQ(findMountFor({}, "/mnt"), nullptr);
}

TEST(MountInfo, OverMountedPointResolvesToTheTopMount) {
  auto mounts = parseMountInfo(
      "1 0 254:0 / / rw - ext4 /dev/vda rw\n"
      "2 1 8:17 / /mnt rw - ext4 /dev/sdb1 rw\n"
      "3 2 259:1 / /mnt rw - xfs /dev/nvme0n1 ro\n");
  const MountEntry* m = findMountFor(mounts, "/mnt");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->source, "/dev/nvme0n1");
  EXPECT_TRUE(mountIsReadOnly(*m));
}

TEST(MountInfo, HasMountOptionMatchesWholeEntries) {
  EXPECT_TRUE(hasMountOption("rw,ro", "ro"));
  EXPECT_TRUE(hasMountOption("ro", "ro"));
  EXPECT_FALSE(hasMountOption("rw,errors=remount-ro", "ro"));
  EXPECT_FALSE(hasMountOption("", "ro"));
  EXPECT_FALSE(hasMountOption("rox,xro", "ro"));
}

}  // namespace
}  // namespace aksnode::disk
