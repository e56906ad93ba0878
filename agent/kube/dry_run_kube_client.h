#pragma once
// --dry-run on the Kubernetes side: decorators that change nothing in the cluster, so the
// engine runs one code path whether it writes or not.
//
// DryRunKubeClient wraps the real client. Reads pass through, except that the Node, once read,
// is served from a simulated copy: every write to it is logged ("dry run: would patch the node",
// "dry run: would update node conditions") and answered with a success whose body is that copy
// with the patch applied. The engine thus sees the node as it would be and makes each decision
// once, as a real run does, and the real Node is read only once (re-reading the untouched one
// would make the same decisions again every resync). Other writes are logged and answered 200.
//
// DryRunDrainer evicts nothing: every drain succeeds at once with "dry run: no pod evicted".
#include <map>
#include <string>

#include "agent/kube/drainer.h"
#include "agent/kube/kube_client.h"

namespace aksnode {

class DryRunKubeClient final : public KubeClient {
 public:
  explicit DryRunKubeClient(KubeClient& real) : real_(real) {}

  // Reads: passed through (the Node: the simulated copy, once read).
  boost::asio::awaitable<KubeResult> getNode(std::string name) override;
  boost::asio::awaitable<KubeResult> listPods(std::string fieldSelector, ListSource source) override;
  boost::asio::awaitable<KubeResult> getPod(std::string ns, std::string name) override;
  boost::asio::awaitable<KubeResult> getLease(std::string ns, std::string name) override;
  // Writes: logged, never sent, answered with a success.
  boost::asio::awaitable<KubeResult> patchNode(std::string name, boost::json::value patch, PatchType type) override;
  boost::asio::awaitable<KubeResult> patchNodeStatus(std::string name, boost::json::value patch) override;
  boost::asio::awaitable<EvictionResult> evictPod(std::string ns, std::string name, std::string uid,
                                                  std::optional<int> gracePeriodSeconds) override;
  boost::asio::awaitable<KubeResult> createEvent(std::string ns, boost::json::value event) override;
  boost::asio::awaitable<KubeResult> patchEvent(std::string ns, std::string name, boost::json::value patch) override;
  boost::asio::awaitable<KubeResult> createLease(std::string ns, boost::json::value lease) override;
  boost::asio::awaitable<KubeResult> updateLease(std::string ns, std::string name, boost::json::value lease) override;
  void shutdown() override { real_.shutdown(); }

 private:
  KubeResult simulated(const std::string& node) const;

  KubeClient& real_;
  std::map<std::string, boost::json::value> nodes_;  // by name: the Node as the writes would have left it
};

class DryRunDrainer final : public Drainer {
 public:
  boost::asio::awaitable<DrainOutcome> drain(DrainOptions options, std::shared_ptr<CancelFlag> cancel,
                                             std::function<void(const DrainProgress&)> onProgress) override;
};

}  // namespace aksnode
