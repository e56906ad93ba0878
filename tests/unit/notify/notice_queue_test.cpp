// A webhook's bounded queue (agent/notify/notice_queue.h): oldest out first when full.
#include "agent/notify/notice_queue.h"

#include <gtest/gtest.h>

namespace aksnode {
namespace {

Notice numbered(int i) {
  Notice n;
  n.reason = "EvictionBlocked";
  n.message = std::to_string(i);
  return n;
}

TEST(NoticeQueue, KeepsOrder) {
  NoticeQueue q(4);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(q.push(numbered(i)));
  EXPECT_EQ(q.size(), 3U);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(q.pop()->message, std::to_string(i));
  EXPECT_FALSE(q.pop().has_value());
  EXPECT_EQ(q.dropped(), 0);
}

TEST(NoticeQueue, FullDropsTheOldestAndCountsIt) {
  NoticeQueue q(3);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(q.push(numbered(i)), i < 3) << i;
  EXPECT_EQ(q.size(), 3U);
  EXPECT_EQ(q.dropped(), 7);
  EXPECT_EQ(q.pop()->message, "7");  // the newest three survive, the drain's result among them
  EXPECT_EQ(q.pop()->message, "8");
  EXPECT_EQ(q.pop()->message, "9");
}

TEST(NoticeQueue, CapacityIsAtLeastOne) {
  NoticeQueue q(0);
  EXPECT_TRUE(q.push(numbered(1)));
  EXPECT_FALSE(q.push(numbered(2)));
  EXPECT_EQ(q.pop()->message, "2");
}

}  // namespace
}  // namespace aksnode
