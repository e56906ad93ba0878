// NotBefore timestamps: every format IMDS (or its mock) is known to write, and the ones that
// must be refused. Expected values were computed independently (Python calendar.timegm).
#include "agent/http/http_date.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace aksnode {
namespace {

using namespace std::chrono;

SystemTime unix(long long secs) { return SystemTime{seconds{secs}}; }

struct GoodDate {
  const char* text;
  long long unixSeconds;
  long long extraNanos = 0;
};

class ParsesHttpDate : public ::testing::TestWithParam<GoodDate> {};

TEST_P(ParsesHttpDate, ToTheRightInstant) {
  const auto& c = GetParam();
  const auto parsed = parseHttpDate(c.text);
  ASSERT_TRUE(parsed.has_value()) << c.text;
  EXPECT_EQ(*parsed, unix(c.unixSeconds) + duration_cast<SystemTime::duration>(nanoseconds{c.extraNanos}))
      << c.text;
}

INSTANTIATE_TEST_SUITE_P(
    Formats, ParsesHttpDate,
    ::testing::Values(
        // RFC 1123 as documented, and as in the published simulate-eviction sample.
        GoodDate{"Tue, 09 Aug 2022 17:07:32 GMT", 1660064852},
        GoodDate{"Mon, 19 Sep 2016 18:29:47 GMT", 1474309787},
        // Azure/vm-scheduled-events README sample.
        GoodDate{"Thu, 22 Jul 2021 04:50:17 GMT", 1626929417},
        // Microsoft Learn's own example: 11 Apr 2026 is a Saturday, not a Monday. Weekday ignored.
        GoodDate{"Mon, 11 Apr 2026 22:26:58 GMT", 1775946418},
        GoodDate{"Fri, 09 Aug 2022 17:07:32 GMT", 1660064852},  // wrong weekday again
        GoodDate{"Tue, 9 Aug 2022 17:07:32 GMT", 1660064852},   // one-digit day
        GoodDate{"tue, 09 aug 2022 17:07:32 gmt", 1660064852},  // any case
        GoodDate{"Tuesday, 09 Aug 2022 17:07:32 GMT", 1660064852},
        GoodDate{"09 Aug 2022 17:07:32 GMT", 1660064852},       // RFC 822: weekday optional
        GoodDate{"Tue, 09 Aug 2022 17:07:32 UTC", 1660064852},
        GoodDate{"Tue, 09 Aug 2022 17:07:32 +0000", 1660064852},
        GoodDate{"Tue, 09 Aug 2022 19:07:32 +0200", 1660064852},
        GoodDate{"Tue, 09 Aug 2022 15:07:32 -02:00", 1660064852},
        GoodDate{"Tue, 09 Aug 2022 17:07:32", 1660064852},      // no zone: UTC
        GoodDate{"Tue, 09 Aug 2022 17:07 GMT", 1660064820},     // RFC 822 without seconds
        GoodDate{"  Tue, 09 Aug 2022 17:07:32 GMT \r\n", 1660064852},
        // RFC 850 and asctime (RFC 7231's obsolete forms).
        GoodDate{"Sunday, 06-Nov-94 08:49:37 GMT", 784111777},
        GoodDate{"Sunday, 06-Nov-1994 08:49:37 GMT", 784111777},
        GoodDate{"Tuesday, 09-Aug-22 17:07:32 GMT", 1660064852},
        GoodDate{"Sun Nov  6 08:49:37 1994", 784111777},
        GoodDate{"Tue Aug 9 17:07:32 2022", 1660064852},
        // ISO 8601 / RFC 3339, as the Microsoft mock server writes it and variants.
        GoodDate{"2026-11-26T19:20:10Z", 1795720810},
        GoodDate{"2026-11-26t19:20:10z", 1795720810},
        GoodDate{"2026-11-26 19:20:10Z", 1795720810},
        GoodDate{"2026-11-26T19:20:10", 1795720810},            // no zone: UTC
        GoodDate{"2026-11-26T20:20:10+01:00", 1795720810},
        GoodDate{"2026-11-26T20:20:10+0100", 1795720810},
        GoodDate{"2026-11-26T20:20:10+01", 1795720810},
        GoodDate{"2026-11-26T18:20:10-01:00", 1795720810},
        GoodDate{"2026-11-26T19:20:10+00:00", 1795720810},
        GoodDate{"2026-11-26T19:20:10.5Z", 1795720810, 500'000'000},
        GoodDate{"2026-11-26T19:20:10,25Z", 1795720810, 250'000'000},
        GoodDate{"2026-11-26T19:20:10.1234567Z", 1795720810, 123'456'700},  // .NET's 7 digits
        GoodDate{"2026-11-26T19:20:10.123456789123Z", 1795720810, 123'456'789},
        GoodDate{"2026-11-26T19:20Z", 1795720800},
        GoodDate{"2000-02-29T00:00:00Z", 951782400},            // leap day
        GoodDate{"2026-11-26T19:20:60Z", 1795720860},           // leap second: 19:21:00
        GoodDate{"2026-11-27T00:20:10+05:00", 1795720810}));    // offset crosses midnight

class RefusesHttpDate : public ::testing::TestWithParam<const char*> {};

TEST_P(RefusesHttpDate, AsUnreadable) { EXPECT_FALSE(parseHttpDate(GetParam()).has_value()) << GetParam(); }

INSTANTIATE_TEST_SUITE_P(
    Garbage, RefusesHttpDate,
    ::testing::Values("", "   ", "now", "0", "1660064852", "Tue, 32 Aug 2022 17:07:32 GMT",
                      "Tue, 00 Aug 2022 17:07:32 GMT", "Tue, 29 Feb 2023 17:07:32 GMT",
                      "Tue, 09 Foo 2022 17:07:32 GMT", "Tue, 09 Aug 2022 24:00:00 GMT",
                      "Tue, 09 Aug 2022 17:60:00 GMT", "Tue, 09 Aug 2022 17:07:61 GMT",
                      "Tue, 09 Aug 2022 17:07:32 PST",   // named zones other than GMT/UTC: no
                      "Tue, 09 Aug 2022 17:07:32 GMT x", "Tue, 09 Aug 22 17:07:32 GMT",
                      "Tue, 009 Aug 2022 17:07:32 GMT", "Tue 09 Aug 2022 17:07:32 GMT",
                      "Xyz, 09 Aug 2022 17:07:32 GMT", "Tue, 09 Aug 2022 17:7:32 GMT",
                      "Tue, 09 Aug 2022 17:07:32 +2500", "2026-11-26", "2026-11-26T",
                      "2026-13-26T19:20:10Z", "2026-00-26T19:20:10Z", "2026-02-30T19:20:10Z",
                      "2026-11-26T25:20:10Z", "2026-11-26T19:20:10.Z", "2026-11-26T19:20:10ZZ",
                      "2026-11-26T19:20:10+1:00", "2026-11-26T19:20:10+24:00",
                      "2026-11-26T19:20:10+01:60", "2026-11-26T19:20:10 +01:00",
                      "2026-11-26T19:20:100Z", "26-11-26T19:20:10Z", "+2026-11-26T19:20:10Z",
                      "1899-12-31T23:59:59Z", "2200-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
                      "Sun Nov  6 08:49:37 94",
                      "Sun Nov 31 08:49:37 1994",
                      // In range locally, out of range in UTC.
                      "1900-01-01T00:30:00+01:00", "2199-12-31T23:30:00-01:00"));

TEST(HttpDate, EmbeddedNulIsNotADate) {
  const std::string withNul("2026-11-26T19:20:10Z\0", 21);
  EXPECT_FALSE(parseHttpDate(withNul).has_value());
}

TEST(HttpDate, RangeEdgesAreInclusive) {
  EXPECT_TRUE(parseHttpDate("1900-01-01T00:00:00Z").has_value());
  EXPECT_TRUE(parseHttpDate("2199-12-31T23:59:59Z").has_value());
}

TEST(HttpDate, FamiliesAreSeparate) {
  EXPECT_FALSE(parseRfc1123Date("2026-11-26T19:20:10Z").has_value());
  EXPECT_FALSE(parseIso8601Date("Tue, 09 Aug 2022 17:07:32 GMT").has_value());
  EXPECT_TRUE(parseRfc1123Date("Tue, 09 Aug 2022 17:07:32 GMT").has_value());
  EXPECT_TRUE(parseIso8601Date("2026-11-26T19:20:10Z").has_value());
}

TEST(HttpDate, FormatsRfc3339InUtcWholeSeconds) {
  EXPECT_EQ(formatRfc3339(unix(1795720810)), "2026-11-26T19:20:10Z");
  EXPECT_EQ(formatRfc3339(unix(1795720810) + milliseconds{999}), "2026-11-26T19:20:10Z");
  EXPECT_EQ(formatRfc3339(unix(0)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(formatRfc3339(unix(951782400)), "2000-02-29T00:00:00Z");
  EXPECT_EQ(formatRfc3339(unix(-1)), "1969-12-31T23:59:59Z");  // floor, not truncation
}

TEST(HttpDate, FormatsRfc3339WithFractionDigitsRoundedDown) {
  const SystemTime t = unix(1795720810) + nanoseconds{123'456'789};
  EXPECT_EQ(formatRfc3339(t, 6), "2026-11-26T19:20:10.123456Z");  // a Kubernetes MicroTime
  EXPECT_EQ(formatRfc3339(t, 3), "2026-11-26T19:20:10.123Z");
  EXPECT_EQ(formatRfc3339(t, 9), "2026-11-26T19:20:10.123456789Z");
  EXPECT_EQ(formatRfc3339(unix(0), 6), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(formatRfc3339(t, 0), "2026-11-26T19:20:10Z");
}

TEST(HttpDate, FormatsRfc3339FromWholeSeconds) {
  EXPECT_EQ(formatRfc3339(sys_seconds{seconds{1795720810}}), "2026-11-26T19:20:10Z");
  // Past what a nanosecond SystemTime holds (year 2262): a JWT may say anything.
  EXPECT_EQ(formatRfc3339(sys_seconds{seconds{253402300799}}), "9999-12-31T23:59:59Z");
}

TEST(HttpDate, FormatsRfc1123WithTheRightWeekday) {
  EXPECT_EQ(formatRfc1123(unix(1660064852)), "Tue, 09 Aug 2022 17:07:32 GMT");
  EXPECT_EQ(formatRfc1123(unix(1775946418)), "Sat, 11 Apr 2026 22:26:58 GMT");
}

TEST(HttpDate, RoundTripsAcrossThreeDecades) {
  // Both formats read back what they write, across month ends and leap years.
  for (long long t = 946684800; t < 1893456000; t += 86400 * 7 + 3607) {
    const SystemTime when = unix(t);
    ASSERT_EQ(parseHttpDate(formatRfc3339(when)), when) << formatRfc3339(when);
    ASSERT_EQ(parseHttpDate(formatRfc1123(when)), when) << formatRfc1123(when);
  }
}

}  // namespace
}  // namespace aksnode
