#include "agent/kube/kube_client.h"

namespace aksnode {

namespace {
KubeResult noLeases() {
  KubeResult r;
  r.status = 404;
  r.reason = "NotFound";
  r.message = "this client does not support leases";
  return r;
}
}  // namespace

boost::asio::awaitable<KubeResult> KubeClient::getLease(std::string, std::string) { co_return noLeases(); }
boost::asio::awaitable<KubeResult> KubeClient::createLease(std::string, boost::json::value) { co_return noLeases(); }
boost::asio::awaitable<KubeResult> KubeClient::updateLease(std::string, std::string, boost::json::value) {
  co_return noLeases();
}

}  // namespace aksnode
