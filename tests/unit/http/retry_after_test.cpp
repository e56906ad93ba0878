// parseRetryAfter: delay-seconds and HTTP-date, as RFC 9110 allows, and nothing else.
#include "agent/http/retry_after.h"

#include <gtest/gtest.h>

#include "agent/http/http_date.h"

namespace aksnode {
namespace {

using namespace std::chrono_literals;

const SystemTime kNow = *parseHttpDate("Wed, 21 Oct 2015 07:28:00 GMT");

TEST(RetryAfter, DelaySeconds) {
  EXPECT_EQ(parseRetryAfter("3", kNow), 3s);
  EXPECT_EQ(parseRetryAfter(" 10\t", kNow), 10s);
  EXPECT_EQ(parseRetryAfter("0", kNow), 0s);
  // Capped at a day, and a digit string of any length does not overflow.
  EXPECT_EQ(parseRetryAfter("172800", kNow), 24h);
  EXPECT_EQ(parseRetryAfter("99999999999999999999999999", kNow), 24h);
}

TEST(RetryAfter, HttpDateIsCountedFromNow) {
  EXPECT_EQ(parseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", kNow), 30s);
  // Rounded up: 500 ms before the date is still a 1 s wait, never a busy retry.
  EXPECT_EQ(parseRetryAfter("Wed, 21 Oct 2015 07:28:01 GMT", kNow + 500ms), 1s);
  // A date in the past means "now".
  EXPECT_EQ(parseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", kNow), 0s);
  EXPECT_EQ(parseRetryAfter("Thu, 22 Oct 2015 07:28:00 GMT", kNow), 24h);
  EXPECT_EQ(parseRetryAfter("Sat, 31 Oct 2015 07:28:00 GMT", kNow), 24h);
  // The obsolete forms RFC 9110 still asks recipients to accept.
  EXPECT_EQ(parseRetryAfter("Wednesday, 21-Oct-15 07:28:05 GMT", kNow), 5s);
  EXPECT_EQ(parseRetryAfter("Wed Oct 21 07:28:07 2015", kNow), 7s);
}

TEST(RetryAfter, AnythingElseIsIgnored) {
  for (const char* bad : {"", "  ", "-1", "1.5", "+3", "3s", "soon", "2015-10-21T07:28:30Z",
                          "Wed, 32 Oct 2015 07:28:00 GMT", "Wed, 21 Oct 2015 07:28:00 GMT junk"}) {
    EXPECT_FALSE(parseRetryAfter(bad, kNow)) << bad;
  }
}

}  // namespace
}  // namespace aksnode
