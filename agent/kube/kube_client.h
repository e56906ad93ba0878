#pragma once
// The Kubernetes API seam: the few calls the agent makes, as an interface.
// kube_client_impl.h implements it over HttpClient (QPS/burst, retries, token rotation);
// tests script it with a fake. Bodies are Boost.JSON values parsed with size limits.
#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "agent/http/http_client.h"

namespace aksnode {

struct KubeResult {
  HttpError transport = HttpError::None;  // network-level failure (then status == 0)
  int status = 0;                         // HTTP status
  std::string reason;                     // Status.reason on failures (Conflict, NotFound, ...)
  std::string message;                    // Status.message or transport error text
  boost::json::value body;                // parsed body on success (null otherwise)
  bool ok() const { return transport == HttpError::None && status >= 200 && status < 300; }
  bool conflict() const { return status == 409; }
  bool notFound() const { return status == 404; }
};

enum class PatchType { StrategicMerge, Merge, Json };

// Where a LIST may be answered from. Consistent: a quorum read of etcd (the default of a LIST
// without resourceVersion). Cached: resourceVersion=0, the API server's watch cache, possibly a
// little behind; what a loop that re-lists every few hundred milliseconds should use.
enum class ListSource { Consistent, Cached };

// Outcome of one POST pods/eviction.
struct EvictionResult {
  // UidChanged: 409, the UID precondition failed: the pod the agent meant was deleted (a pod
  // of that name now is another one, maybe on another node): for the drain it is gone.
  enum class Kind { Evicted, BlockedByPdb, NotFound, MultiplePdbs, UidChanged, Error };
  Kind kind = Kind::Error;
  int status = 0;
  std::string message;  // the API server's words (e.g. which PDB, how many healthy)
  // Retry-After (header, else Status details.retryAfterSeconds) of a refusal: API server
  // overload (429 without a DisruptionBudget cause) asks the client to wait this long.
  std::optional<std::chrono::seconds> retryAfter;
};

// Every call never throws: a transport failure, an error status or an unreadable body comes
// back in the result (the JSON reader turns even an allocation failure on a hostile body into
// a protocol error), so callers do not wrap these calls in try/catch.
class KubeClient {
 public:
  virtual ~KubeClient() = default;
  virtual boost::asio::awaitable<KubeResult> getNode(std::string name) = 0;
  virtual boost::asio::awaitable<KubeResult> patchNode(std::string name, boost::json::value patch,
                                                       PatchType type) = 0;
  virtual boost::asio::awaitable<KubeResult> patchNodeStatus(std::string name,
                                                             boost::json::value patch) = 0;
  // All pods matching the field selector, following `continue` until the list is complete.
  // body is a JSON array of pods.
  // Consistent for a first look, Cached (resourceVersion=0) for repeated LISTs.
  virtual boost::asio::awaitable<KubeResult> listPods(std::string fieldSelector, ListSource source) = 0;
  virtual boost::asio::awaitable<KubeResult> getPod(std::string ns, std::string name) = 0;
  // `uid` (when not empty) goes into deleteOptions.preconditions.uid: the API server then
  // evicts only that pod, never another one created under the same name since (409 instead).
  virtual boost::asio::awaitable<EvictionResult> evictPod(std::string ns, std::string name, std::string uid,
                                                          std::optional<int> gracePeriodSeconds) = 0;
  virtual boost::asio::awaitable<KubeResult> createEvent(std::string ns, boost::json::value event) = 0;
  virtual boost::asio::awaitable<KubeResult> patchEvent(std::string ns, std::string name,
                                                        boost::json::value patch) = 0;
  // coordination.k8s.io/v1 Leases (agent/kube/node_lease.h). Not pure: clients that never
  // coordinate (test fakes) answer 404 from kube_client.cpp.
  virtual boost::asio::awaitable<KubeResult> getLease(std::string ns, std::string name);
  virtual boost::asio::awaitable<KubeResult> createLease(std::string ns, boost::json::value lease);
  virtual boost::asio::awaitable<KubeResult> updateLease(std::string ns, std::string name, boost::json::value lease);
  virtual void shutdown() = 0;
};

}  // namespace aksnode
