// NodeEventRecorder: the core/v1 Event it writes (docs/interface.md) and the message bound.
#include "agent/engine/node_events.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "agent/core/timers.h"
#include "agent/core/time_source.h"
#include "unit/engine/fake_node_kube.h"

namespace aksnode {
namespace {

// True when `s` is well-formed UTF-8 (no sequence cut in half).
bool validUtf8(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

class NodeEventsTest : public ::testing::Test {
 protected:
  boost::asio::io_context io;
  SimulatedTimeSource time;
  AsioTimers timers{io.get_executor(), time};
  testing::FakeNodeKube kube{timers, boost::json::object{}};

  boost::json::object recordOne(const std::string& message, bool dryRun = false) {
    NodeEventRecorder recorder(io.get_executor(), &kube, time, "aks-spot-1", dryRun);
    recorder.setNodeUid("uid-1");
    recorder.record("Warning", "DiskUnhealthy", message);
    io.run();
    io.restart();
    if (kube.events.empty()) return {};
    return kube.events.back().as_object();
  }
};

TEST_F(NodeEventsTest, WritesACoreEventAboutTheNode) {
  const auto e = recordOne("disk /mnt LowSpace: 2% free");
  ASSERT_FALSE(e.empty());
  EXPECT_EQ(e.at("metadata").at("namespace").as_string(), "default");
  EXPECT_EQ(e.at("involvedObject").at("kind").as_string(), "Node");
  EXPECT_EQ(e.at("involvedObject").at("name").as_string(), "aks-spot-1");
  EXPECT_EQ(e.at("involvedObject").at("uid").as_string(), "uid-1");
  EXPECT_EQ(e.at("source").at("component").as_string(), "aks-node-agent");
  EXPECT_EQ(e.at("reason").as_string(), "DiskUnhealthy");
  EXPECT_EQ(e.at("type").as_string(), "Warning");
  EXPECT_EQ(e.at("message").as_string(), "disk /mnt LowSpace: 2% free");
}

TEST_F(NodeEventsTest, ALongMessageIsCutToOneKibibyteOnACharacterBoundary) {
  // 700 two-byte characters: byte 1024 falls inside one of them whatever the cut.
  std::string message;
  for (int i = 0; i < 700; ++i) message += "\xc3\xa9";  // é
  const auto e = recordOne(message);
  ASSERT_FALSE(e.empty());
  const std::string got(e.at("message").as_string());
  EXPECT_LE(got.size(), 1024u);
  EXPECT_GT(got.size(), 1000u);
  EXPECT_TRUE(validUtf8(got)) << "message cut inside a UTF-8 sequence";
  // With an odd offset too (one ASCII byte first).
  const std::string got2(recordOne("x" + message).at("message").as_string());
  EXPECT_LE(got2.size(), 1024u);
  EXPECT_TRUE(validUtf8(got2));
}

TEST_F(NodeEventsTest, DryRunWritesNothing) {
  EXPECT_TRUE(recordOne("would be written", true).empty());
}

}  // namespace
}  // namespace aksnode
