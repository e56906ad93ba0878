// agent/core/host_port.h: the one splitter and joiner of "host:port" (metrics.address, NO_PROXY
// entries, proxy and origin addresses, the in-cluster API server).
#include "agent/core/host_port.h"

#include <gtest/gtest.h>

namespace aksnode {
namespace {

struct Split {
  std::string host;
  std::optional<std::string> port;
  bool bracketed;
  bool operator==(const Split&) const = default;
};

std::optional<Split> split(std::string_view text) {
  const auto s = splitHostPort(text);
  if (!s) return std::nullopt;
  return Split{std::string(s->host), s->port ? std::optional<std::string>(std::string(*s->port)) : std::nullopt,
               s->bracketed};
}

TEST(HostPort, Splits) {
  EXPECT_EQ(split("10.0.0.1:9810"), (Split{"10.0.0.1", "9810", false}));
  EXPECT_EQ(split("proxy.corp:3128"), (Split{"proxy.corp", "3128", false}));
  EXPECT_EQ(split("[::1]:9810"), (Split{"::1", "9810", true}));
  EXPECT_EQ(split("[fd00::1]"), (Split{"fd00::1", std::nullopt, true}));
  EXPECT_EQ(split("example.com"), (Split{"example.com", std::nullopt, false}));
  EXPECT_EQ(split("host:"), (Split{"host", "", false}));
  EXPECT_EQ(split(":80"), (Split{"", "80", false}));
  EXPECT_EQ(split("[::1]:"), (Split{"::1", "", true}));
}

TEST(HostPort, AnIpv6AddressWithoutBracketsIsAllHost) {
  EXPECT_EQ(split("::1"), (Split{"::1", std::nullopt, false}));
  EXPECT_EQ(split("fd00::1:443"), (Split{"fd00::1:443", std::nullopt, false}));
}

TEST(HostPort, RefusesBrokenBrackets) {
  EXPECT_FALSE(split("[::1"));
  EXPECT_FALSE(split("[::1]x"));
  EXPECT_FALSE(split("[::1]80"));
}

TEST(HostPort, ParsesPortNumbers) {
  EXPECT_EQ(parsePortNumber("0"), 0);
  EXPECT_EQ(parsePortNumber("443"), 443);
  EXPECT_EQ(parsePortNumber("08080"), 8080);
  EXPECT_EQ(parsePortNumber("65535"), 65535);
  for (const char* bad : {"", "65536", "-1", "+80", " 80", "80 ", "000080", "8o"}) {
    EXPECT_FALSE(parsePortNumber(bad)) << bad;
  }
}

TEST(HostPort, JoinsWithBracketsAroundIpv6) {
  EXPECT_EQ(joinHostPort("10.0.0.1", "443"), "10.0.0.1:443");
  EXPECT_EQ(joinHostPort("fd00::1", "443"), "[fd00::1]:443");
  EXPECT_EQ(joinHostPort("[fd00::1]", "443"), "[fd00::1]:443");
  EXPECT_EQ(joinHostPort("proxy.corp", "3128"), "proxy.corp:3128");
}

}  // namespace
}  // namespace aksnode
