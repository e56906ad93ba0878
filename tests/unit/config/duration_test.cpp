#include "agent/config/duration.h"

#include <gtest/gtest.h>

#include <limits>

namespace aksnode {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

struct GoodDuration {
  const char* text;
  Duration expected;
};

class ParseDurationGood : public testing::TestWithParam<GoodDuration> {};

TEST_P(ParseDurationGood, Parses) {
  const Result<Duration> parsed = parseDuration(GetParam().text);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed.value(), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(Durations, ParseDurationGood,
                         testing::Values(GoodDuration{"500ms", milliseconds(500)}, GoodDuration{"2s", seconds(2)},
                                         GoodDuration{"5m", minutes(5)}, GoodDuration{"1h", hours(1)},
                                         GoodDuration{"1m30s", seconds(90)}, GoodDuration{"0s", Duration{0}},
                                         GoodDuration{"0ms", Duration{0}}, GoodDuration{"120s", seconds(120)},
                                         GoodDuration{"1h30m", minutes(90)},
                                         GoodDuration{"1h2m3s4ms", hours(1) + minutes(2) + seconds(3) + milliseconds(4)},
                                         GoodDuration{"1.5s", milliseconds(1500)},
                                         GoodDuration{"0.25m", seconds(15)}, GoodDuration{"007s", seconds(7)},
                                         GoodDuration{"87600h", kMaxDuration}));

class ParseDurationBad : public testing::TestWithParam<const char*> {};

TEST_P(ParseDurationBad, IsRefusedWithTheContractMessage) {
  const Result<Duration> parsed = parseDuration(GetParam());
  ASSERT_FALSE(parsed.ok());
  EXPECT_TRUE(parsed.error().starts_with("expected a duration like 30s")) << parsed.error();
}

INSTANTIATE_TEST_SUITE_P(Durations, ParseDurationBad,
                         testing::Values("", "-5s", "-0s", "+5s", "5", "0", "30 s", " 30s", "30s ", "abc", "5x",
                                         "5sec", "1d", "1.s", ".5s", "1..5s", "s", "1s1m", "1s1s", "30s5",
                                         "1.0001ms", "0.5ms", "1.0000000001s",
                                         "87600h1ms",  // just past the maximum
                                         "9223372036854775807ms", "99999999999999999999999h",
                                         "5\xc2\xb5s", "1e3s", "nan", "inf"));

TEST(ParseDuration, ExplainsWhy) {
  EXPECT_NE(parseDuration("-5s").error().find("negative"), std::string::npos);
  EXPECT_NE(parseDuration("30").error().find("missing unit"), std::string::npos);
  EXPECT_NE(parseDuration("99999999999h").error().find("too long"), std::string::npos);
  EXPECT_NE(parseDuration("1s1m").error().find("largest first"), std::string::npos);
  // The offending text is quoted, control bytes escaped.
  EXPECT_EQ(parseDuration("a\nb").error(), "expected a duration like 30s, got \"a\\x0ab\"");
}

TEST(FormatDuration, WritesTheShortestForm) {
  EXPECT_EQ(formatDuration(Duration{0}), "0s");
  EXPECT_EQ(formatDuration(milliseconds(500)), "500ms");
  EXPECT_EQ(formatDuration(seconds(2)), "2s");
  EXPECT_EQ(formatDuration(seconds(90)), "1m30s");
  EXPECT_EQ(formatDuration(seconds(120)), "2m");
  EXPECT_EQ(formatDuration(minutes(5)), "5m");
  EXPECT_EQ(formatDuration(hours(1)), "1h");
  EXPECT_EQ(formatDuration(hours(25) + milliseconds(1)), "25h1ms");
  EXPECT_EQ(formatDuration(milliseconds(-1500)), "-1s500ms");
  EXPECT_EQ(formatDuration(Duration{std::numeric_limits<Duration::rep>::min()}).front(), '-');
}

TEST(FormatDuration, RoundTripsThroughTheParser) {
  for (const Duration::rep ms : std::initializer_list<Duration::rep>{0, 1LL, 999LL, 1000LL, 1001LL, 59'999LL, 60'000LL, 3'599'999LL, 3'600'000LL,
                                  90'061'001LL, kMaxDuration.count()}) {
    const Result<Duration> parsed = parseDuration(formatDuration(Duration{ms}));
    ASSERT_TRUE(parsed.ok()) << ms << ": " << parsed.error();
    EXPECT_EQ(parsed.value().count(), ms);
  }
}

struct GoodBytes {
  const char* text;
  std::uint64_t expected;
};

class ParseBytesGood : public testing::TestWithParam<GoodBytes> {};

TEST_P(ParseBytesGood, Parses) {
  const Result<std::uint64_t> parsed = parseBytes(GetParam().text);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed.value(), GetParam().expected);
}

constexpr std::uint64_t kGi = 1024ULL * 1024 * 1024;
INSTANTIATE_TEST_SUITE_P(
    Bytes, ParseBytesGood,
    testing::Values(GoodBytes{"200Gi", 200 * kGi}, GoodBytes{"10G", 10'000'000'000ULL},
                    GoodBytes{"512Mi", 512ULL * 1024 * 1024}, GoodBytes{"1024", 1024}, GoodBytes{"0", 0},
                    GoodBytes{"1.5Ti", 1536 * kGi}, GoodBytes{"1Ki", 1024}, GoodBytes{"1k", 1000},
                    GoodBytes{"2Pi", 2ULL << 50}, GoodBytes{"3P", 3'000'000'000'000'000ULL},
                    GoodBytes{"1T", 1'000'000'000'000ULL}, GoodBytes{"7M", 7'000'000},
                    GoodBytes{"15Ei", 15ULL << 60},
                    GoodBytes{"18446744073709551615", std::numeric_limits<std::uint64_t>::max()},
                    GoodBytes{"0.5Ki", 512}, GoodBytes{"0.3Ki", 308},  // 307.2 rounds up, as Kubernetes does
                    GoodBytes{"1.5", 2}));

class ParseBytesBad : public testing::TestWithParam<const char*> {};

TEST_P(ParseBytesBad, IsRefused) {
  const Result<std::uint64_t> parsed = parseBytes(GetParam());
  ASSERT_FALSE(parsed.ok());
  EXPECT_TRUE(parsed.error().starts_with("expected a byte size like 200Gi")) << parsed.error();
}

INSTANTIATE_TEST_SUITE_P(Bytes, ParseBytesBad,
                         testing::Values("", "-1", "-1Gi", "+1Gi", "Gi", "1 Gi", "1gi", "1GB", "1K", "1Xi", "1e3",
                                         "1.", ".5Gi", "abc", "16Ei", "18446744073709551616", "20E",
                                         "99999999999999999999999999999", "1.5.5Gi", "0x10"));

TEST(FormatBytes, UsesTheLargestExactSuffix) {
  EXPECT_EQ(formatBytes(0), "0");
  EXPECT_EQ(formatBytes(1), "1");
  EXPECT_EQ(formatBytes(1023), "1023");
  EXPECT_EQ(formatBytes(1024), "1Ki");
  EXPECT_EQ(formatBytes(1000), "1k");
  EXPECT_EQ(formatBytes(200 * kGi), "200Gi");
  EXPECT_EQ(formatBytes(1536 * kGi), "1536Gi");
  EXPECT_EQ(formatBytes(10'000'000'000ULL), "10G");
  EXPECT_EQ(formatBytes(1ULL << 60), "1Ei");
}

TEST(FormatBytes, RoundTripsThroughTheParser) {
  for (const std::uint64_t bytes : std::initializer_list<std::uint64_t>{0, 1ULL, 999ULL, 1000ULL, 1024ULL, 1025ULL, 123'456'789ULL, 200 * kGi,
                                    std::numeric_limits<std::uint64_t>::max(), 15ULL << 60}) {
    const Result<std::uint64_t> parsed = parseBytes(formatBytes(bytes));
    ASSERT_TRUE(parsed.ok()) << bytes << ": " << parsed.error();
    EXPECT_EQ(parsed.value(), bytes);
  }
}

}  // namespace
}  // namespace aksnode
