#include "agent/kube/bearer_token.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>

#include "support/temp_dir.h"

namespace aksnode {
namespace {

using namespace std::chrono_literals;

struct BearerTokenTest : ::testing::Test {
  testing::TempDir dir;
  SimulatedTimeSource time;
  std::string file = dir.write("token", "first-token\n");
};

TEST_F(BearerTokenTest, ReadsAndTrimsTheFile) {
  BearerToken token("", file, time);
  EXPECT_EQ(token.current(), "first-token");
  EXPECT_FALSE(token.lastReadFailed());
}

TEST_F(BearerTokenTest, RereadsOnlyAfterTheRefreshInterval) {
  BearerToken token("", file, time);
  dir.write("token", "second-token");
  time.advance(59s);
  EXPECT_EQ(token.current(), "first-token");
  time.advance(1s);
  EXPECT_EQ(token.current(), "second-token");
}

TEST_F(BearerTokenTest, ReloadPicksUpARotatedTokenAtOnce) {
  BearerToken token("", file, time);
  dir.write("token", "rotated");
  EXPECT_TRUE(token.reload());
  EXPECT_EQ(token.current(), "rotated");
  EXPECT_FALSE(token.reload()) << "unchanged file";
}

TEST_F(BearerTokenTest, KeepsTheLastGoodTokenWhenTheFileVanishes) {
  BearerToken token("", file, time);
  std::filesystem::remove(file);
  time.advance(61s);
  EXPECT_EQ(token.current(), "first-token");
  EXPECT_TRUE(token.lastReadFailed());
  EXPECT_FALSE(token.reload());
  EXPECT_EQ(token.current(), "first-token");
}

TEST_F(BearerTokenTest, KeepsTheLastGoodTokenWhenTheFileIsEmptyOrHostile) {
  BearerToken token("", file, time);
  dir.write("token", "  \n");
  EXPECT_FALSE(token.reload());
  EXPECT_EQ(token.current(), "first-token");
  dir.write("token", "abc\r\nX-Injected: 1");
  EXPECT_FALSE(token.reload());
  EXPECT_EQ(token.current(), "first-token");
  dir.write("token", std::string(BearerToken::kMaxFileSize + 1, 'a'));
  EXPECT_FALSE(token.reload());
  EXPECT_EQ(token.current(), "first-token");
}

// Issue 19, item 5: std::ifstream waited forever for a writer of a FIFO.
TEST_F(BearerTokenTest, AFifoInPlaceOfTheFileIsRefusedWithoutBlocking) {
  BearerToken token("", file, time);
  std::filesystem::remove(file);
  ASSERT_EQ(::mkfifo(file.c_str(), 0600), 0);
  EXPECT_FALSE(token.reload());
  EXPECT_TRUE(token.lastReadFailed());
  EXPECT_EQ(token.current(), "first-token");
}

TEST_F(BearerTokenTest, AMissingFileIsRetriedOnEveryUseUntilItAppears) {
  BearerToken token("", dir.file("later"), time);
  EXPECT_EQ(token.current(), "");
  dir.write("later", "appeared");
  EXPECT_EQ(token.current(), "appeared") << "no minute-long wait without any token";
}

TEST_F(BearerTokenTest, FixedTokenWithoutFile) {
  BearerToken token("fixed", "", time);
  time.advance(1h);
  EXPECT_EQ(token.current(), "fixed");
  EXPECT_FALSE(token.reload());
}

TEST_F(BearerTokenTest, InitialTokenUntilTheFileIsReadable) {
  BearerToken token("initial", dir.file("missing"), time);
  EXPECT_EQ(token.current(), "initial");
}

TEST(BearerTokenValidity, PrintableAsciiOnly) {
  EXPECT_TRUE(isValidBearerToken("eyJhbGciOi.abc-_~+/="));
  EXPECT_FALSE(isValidBearerToken(""));
  EXPECT_FALSE(isValidBearerToken("a b"));
  EXPECT_FALSE(isValidBearerToken("a\nb"));
  EXPECT_FALSE(isValidBearerToken("caf\xc3\xa9"));
}

}  // namespace
}  // namespace aksnode
