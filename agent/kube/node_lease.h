#pragma once
// One acting agent per node. Two agents for one node (a rollout overlap, a second DaemonSet, an
// agent started by hand) both cordoned, drained and wrote Events. Like kubelet's node lease and
// controllers' leader election, the agents share a coordination.k8s.io/v1 Lease named
// "aks-node-agent-<node>" in the agent's namespace: the holder acts, the others stand by
// (still polling IMDS, probing and serving metrics) and take over once the holder has not
// renewed for leaseDuration, measured on their own clock from when they saw the last renewal
// (client-go's rule: no trust in the other agent's clock).
//
// Fail-open: if the API server refuses leases altogether (403: RBAC from an older manifest;
// 404 on create: no coordination API), the agent acts as it did before leases existed and says
// so. Never acting would leave the node unprotected, which is worse than a double drain.
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <functional>
#include <string>

#include "agent/core/time_source.h"

namespace aksnode {

class KubeClient;
class Timers;
class Alarm;

struct NodeLeaseOptions {
  std::string ns;      // the agent's namespace
  std::string name;    // aks-node-agent-<node>
  std::string holder;  // this agent: the pod name, else host and a random suffix
  std::chrono::seconds leaseDuration{15};
  std::chrono::seconds renewInterval{5};  // the holder renews this often
  std::chrono::seconds retryInterval{2};  // a standby looks this often
};

class NodeLease {
 public:
  // onChange(true) when this agent starts acting, onChange(false) when it stops.
  NodeLease(KubeClient& kube, Timers& timers, NodeLeaseOptions options, std::function<void(bool)> onChange);
  ~NodeLease();

  boost::asio::awaitable<void> run();  // until stop()
  void stop();
  // On a clean shutdown: give the lease up (holder "") so that a standby, or the agent that
  // replaces this one in a rollout, acts at once instead of after leaseDuration.
  boost::asio::awaitable<void> release();
  bool isLeader() const;
  boost::json::object statusJson() const;

  // One round: read the Lease, then create, renew or take it over. Public for tests.
  boost::asio::awaitable<void> tryAcquireOrRenew();

  static std::string leaseName(const std::string& nodeName) { return "aks-node-agent-" + nodeName; }

 private:
  void setLeader(bool leader);
  void failOpen(int status, const std::string& message);
  boost::json::object leaseBody(const boost::json::object* old, bool takeOver) const;

  KubeClient& kube_;
  Timers& timers_;
  NodeLeaseOptions o_;
  std::function<void(bool)> onChange_;
  std::unique_ptr<Alarm> alarm_;
  bool stopped_ = false;
  bool leader_ = false;
  bool reported_ = false;
  bool failedOpen_ = false;
  MonotonicTime renewedAt_{};
  // The other holder's last renewal as this agent saw it, and when it saw it change.
  std::string observedHolder_;
  std::string observedRenewTime_;
  MonotonicTime observedAt_{};
  std::string lastError_;
  boost::json::object lastLease_;  // as last written by this agent (for release)
};

}  // namespace aksnode
