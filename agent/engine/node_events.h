#pragma once
// Kubernetes Events on the Node (docs/interface.md, "What the agent writes on the Node"): core/v1
// in namespace `default`, involvedObject the Node with its UID, source component `aks-node-agent`.
// Sent in the background: an Event that cannot be written is logged and counted, never waited for.
// Rate-limited per reason (a token bucket of kBurst, one more every kRefill), like the kubelet's
// event recorder: a peer that invents 200 new event ids per poll made the agent POST 1,250 Events
// in 10 s. Dropped Events are logged (and that log line is rate-limited too).
// Every Event written (or, in a dry run, logged) is also handed to the Notifier, which queues a
// webhook notice for it (agent/notify/notifier.h): one source for Events and notices, the same
// gate and the same rate limit, and the notice leaves as the Event is recorded, not later.
#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "agent/notify/notice.h"
#include "agent/core/time_source.h"

namespace aksnode {

class KubeClient;
class Notifier;

// One Event to record (agent/engine/events.h builds the engine's).
struct NodeEvent {
  std::string type;  // "Normal" or "Warning"
  std::string reason;
  std::string message;
  EventSubject subject;
};

class NodeEventRecorder {
 public:
  NodeEventRecorder(boost::asio::any_io_executor executor, KubeClient* client, const TimeSource& time,
                    std::string nodeName, bool dryRun);
  void setNodeUid(std::string uid) { nodeUid_ = std::move(uid); }
  // Events are written only while this returns true (the agent holds the node's lease).
  void setGate(std::function<bool()> gate) { gate_ = std::move(gate); }
  // Null: no webhooks. Not owned.
  void setNotifier(Notifier* notifier) { notifier_ = notifier; }
  void setVmName(std::string vm) { vmName_ = std::move(vm); }
  // type: "Normal" or "Warning"; reason: one of docs/interface.md's reasons; subject: the scheduled
  // event it is about, if any (it goes into the webhook notice).
  void record(const std::string& type, const std::string& reason, const std::string& message,
              const EventSubject& subject = {});
  void record(const NodeEvent& e) { record(e.type, e.reason, e.message, e.subject); }

  static constexpr double kBurst = 25;
  static constexpr std::chrono::seconds kRefill{5};
  long long dropped() const { return dropped_; }

 private:
  boost::asio::any_io_executor executor_;
  KubeClient* client_;
  const TimeSource& time_;
  std::string nodeName_;
  std::string nodeUid_;
  std::string vmName_;
  Notifier* notifier_ = nullptr;
  bool dryRun_;
  unsigned long counter_ = 0;
  struct Bucket {
    double tokens = kBurst;
    MonotonicTime updated{};
  };
  std::map<std::string, Bucket> buckets_;  // per reason: the contract's dozen reasons
  long long dropped_ = 0;
  std::function<bool()> gate_;
  bool take(const std::string& reason);
};

}  // namespace aksnode
