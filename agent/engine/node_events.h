#pragma once
// Kubernetes Events on the Node (CONTRACT.md section 4): core/v1 in namespace `default`,
// involvedObject the Node with its UID, source component `aks-node-agent`. Sent in the
// background: an Event that cannot be written is logged and counted, never waited for.
#include <boost/asio/any_io_executor.hpp>

#include <string>

#include "agent/time_source.h"

namespace aksnode {

class KubeClient;

class NodeEventRecorder {
 public:
  NodeEventRecorder(boost::asio::any_io_executor executor, KubeClient* client, const TimeSource& time,
                    std::string nodeName, bool dryRun);
  void setNodeUid(std::string uid) { nodeUid_ = std::move(uid); }
  // type: "Normal" or "Warning"; reason: one of the contract's reasons.
  void record(const std::string& type, const std::string& reason, const std::string& message);

 private:
  boost::asio::any_io_executor executor_;
  KubeClient* client_;
  const TimeSource& time_;
  std::string nodeName_;
  std::string nodeUid_;
  bool dryRun_;
  unsigned long counter_ = 0;
};

}  // namespace aksnode
