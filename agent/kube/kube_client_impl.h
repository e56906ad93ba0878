#pragma once
// KubeClient over the HttpClient seam: URLs (path segments and query values percent-encoded),
// headers, client-side QPS/burst, token rotation, retries with jittered backoff for idempotent
// calls, response size limits, list pagination, Status parsing and request metrics.
// No Beast here: the transport is whatever HttpClient it is given.
//
// Retried (429 honouring Retry-After, 5xx, timeout/unreachable/protocol errors; jittered
// exponential backoff per RetryPolicy): GET node and pod, the pod list, strategic-merge and
// merge PATCHes of the node, its status and events. Not retried: eviction POSTs (429 and 500
// are the drainer's decisions), event creation, JSON patches (an append is not idempotent).
// Every call gets one extra try after a 401, with the token file re-read first.
// Each HTTP exchange counts in aksnode_kube_requests_total{verb,resource,code}.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <string>

#include "agent/kube/kube_client.h"
#include "agent/kube/rate_limiter.h"
#include "agent/kube/retry_policy.h"
#include "agent/core/timers.h"

namespace aksnode {

class BearerToken;
class Metrics;
struct KubeConnection;
struct KubernetesConfig;

struct KubeClientOptions {
  std::string server;  // scheme://host[:port][/prefix] (KubeConnection::server)
  std::string userAgent = defaultUserAgent();
  double qps = 100;  // <= 0: no client-side limit
  int burst = 300;
  std::chrono::milliseconds requestTimeout{10'000};
  // One call, retries included, ends by this deadline (each attempt gets what is left): a hung
  // API server made one node GET take 4 x 10 s while the cordon waited.
  std::chrono::milliseconds callDeadline{15'000};
  std::chrono::milliseconds evictionTimeout{5'000};
  std::size_t bodyLimit = std::size_t{1} << 20;       // arch/SECURITY.md "Bounded inputs"
  std::size_t listBodyLimit = std::size_t{16} << 20;  // one page of up to listPageSize pods
  int listPageSize = 500;
  int maxListPages = 100;
  std::size_t maxListItems = 20'000;
  RetryPolicy retry;
  std::uint64_t jitterSeed = 0;  // 0 = from std::random_device

  static std::string defaultUserAgent();  // "aks-node-agent/<version>"
  static KubeClientOptions from(const KubeConnection& connection, const KubernetesConfig& config);
};

class KubeClientImpl final : public KubeClient {
 public:
  // `token` null = no Authorization header (client certificate or an open test server).
  // `http` must be dedicated to this API server (its TLS options are the cluster's);
  // shutdown() shuts it down too. All of them must outlive the client.
  KubeClientImpl(KubeClientOptions options, HttpClient& http, Timers& timers,
                 BearerToken* token = nullptr, Metrics* metrics = nullptr);
  ~KubeClientImpl() override;

  boost::asio::awaitable<KubeResult> getNode(std::string name) override;
  boost::asio::awaitable<KubeResult> patchNode(std::string name, boost::json::value patch,
                                               PatchType type) override;
  boost::asio::awaitable<KubeResult> patchNodeStatus(std::string name, boost::json::value patch) override;
  boost::asio::awaitable<KubeResult> listPods(std::string fieldSelector, ListSource source) override;
  boost::asio::awaitable<KubeResult> getPod(std::string ns, std::string name) override;
  boost::asio::awaitable<EvictionResult> evictPod(std::string ns, std::string name, std::string uid,
                                                  std::optional<int> gracePeriodSeconds) override;
  boost::asio::awaitable<KubeResult> createEvent(std::string ns, boost::json::value event) override;
  boost::asio::awaitable<KubeResult> patchEvent(std::string ns, std::string name,
                                                boost::json::value patch) override;
  boost::asio::awaitable<KubeResult> getLease(std::string ns, std::string name) override;
  boost::asio::awaitable<KubeResult> createLease(std::string ns, boost::json::value lease) override;
  boost::asio::awaitable<KubeResult> updateLease(std::string ns, std::string name, boost::json::value lease) override;
  void shutdown() override;

  // "application/strategic-merge-patch+json" etc.
  static const char* contentType(PatchType type);
  // The absolute URL of an API path: segments are percent-encoded one by one ("a/b" stays one
  // segment), query values too. "" when the server URL is unusable.
  std::string urlFor(std::initializer_list<std::string_view> segments,
                     std::initializer_list<std::pair<std::string_view, std::string_view>> query = {}) const;

 private:
  struct Call;
  boost::asio::awaitable<HttpResult> execute(const Call& call);
  KubeResult toKubeResult(HttpResult result, bool parseBody) const;
  boost::asio::awaitable<void> sleepFor(std::chrono::milliseconds delay);
  double random01();

  KubeClientOptions options_;
  HttpClient& http_;
  Timers& timers_;
  BearerToken* token_;
  Metrics* metrics_;
  RateLimiter limiter_;
  std::mt19937_64 rng_;
  std::set<Alarm*> sleeping_;  // backoff waits, woken by shutdown()
  bool shutdown_ = false;
  struct ParsedServer;
  std::unique_ptr<ParsedServer> server_;
};

// Maps one eviction response to its outcome (exposed for tests); `now` dates a Retry-After.
EvictionResult evictionResultFrom(const HttpResult& response, SystemTime now);

}  // namespace aksnode
