#include "probes/disk/block_device_stat.h"

#include <gtest/gtest.h>

namespace aksnode::disk {
namespace {

using namespace std::chrono_literals;

TEST(BlockDeviceStat, ParsesInFlightAndIoTicks) {
  // A line as the kernel writes it (17 fields, right-aligned).
  auto s = parseBlockDeviceStat(
      "   70053    12789  4165346    50540    32967    10542  3509488    15522        3     9932"
      "    66885     6449       34  1372616      704     2534      117\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->inFlight, 3u);
  EXPECT_EQ(s->ioTicksMs, 9932u);
  // Old kernels: 11 fields.
  auto old = parseBlockDeviceStat("1 2 3 4 5 6 7 8 9 10 11");
  ASSERT_TRUE(old);
  EXPECT_EQ(old->inFlight, 9u);
  EXPECT_EQ(old->ioTicksMs, 10u);
}

TEST(BlockDeviceStat, RejectsShortOrGarbledText) {
  EXPECT_FALSE(parseBlockDeviceStat(""));
  EXPECT_FALSE(parseBlockDeviceStat("1 2 3 4 5 6 7 8 9 10"));
  EXPECT_FALSE(parseBlockDeviceStat("1 2 3 4 5 6 7 8 x 10 11"));
  EXPECT_FALSE(parseBlockDeviceStat("1 2 3 4 5 6 7 8 -9 10 11"));
  EXPECT_FALSE(parseBlockDeviceStat("1 2 3 4 5 6 7 8 9a 10 11"));
}

TEST(BlockDeviceStat, UtilizationIsTheBusyShareOfElapsedTime) {
  BlockDeviceStat a{0, 1000}, b{2, 1250};
  auto u = ioUtilization(a, b, 1000ms);
  ASSERT_TRUE(u);
  EXPECT_DOUBLE_EQ(*u, 0.25);
  // Clamped: io_ticks can run slightly ahead of our clock.
  EXPECT_DOUBLE_EQ(*ioUtilization(a, BlockDeviceStat{0, 3000}, 1000ms), 1.0);
  EXPECT_FALSE(ioUtilization(a, b, 0ms));
  EXPECT_FALSE(ioUtilization(b, a, 1000ms));  // counters reset
}

}  // namespace
}  // namespace aksnode::disk
