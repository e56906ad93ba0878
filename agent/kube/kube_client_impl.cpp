#include "agent/kube/kube_client_impl.h"

#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <boost/url/url.hpp>

#include <algorithm>
#include <cctype>

#include "agent/config/config.h"
#include "agent/http/retry_after.h"
#include "agent/kube/bearer_token.h"
#include "agent/kube/kube_config.h"
#include "agent/kube/kube_json.h"
#include "agent/core/logging.h"
#include "build_info.h"
#include "metrics/metrics.h"

namespace aksnode {

namespace {

const char* transportName(HttpError error) {
  switch (error) {
    case HttpError::None: return "none";
    case HttpError::Timeout: return "timeout";
    case HttpError::Unreachable: return "unreachable";
    case HttpError::BodyTooLarge: return "body too large";
    case HttpError::Protocol: return "protocol error";
    case HttpError::Tls: return "TLS error";
    case HttpError::BadUrl: return "bad URL";
    case HttpError::Cancelled: return "cancelled";
  }
  return "error";
}

std::string headerValue(const HttpResponse& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      return value;
    }
  }
  return "";
}

HttpResult transportFailure(HttpError error, std::string message) {
  HttpResult r;
  r.error = error;
  r.errorMessage = std::move(message);
  return r;
}

}  // namespace

struct KubeClientImpl::ParsedServer {
  boost::urls::url url;
};

constexpr std::chrono::milliseconds kLeaseCallTimeout{4'000};

struct KubeClientImpl::Call {
  const char* verb;      // metric label: get, list, patch, create
  const char* resource;  // metric label: nodes, nodes/status, pods, pods/eviction, events
  std::string method;
  std::string url;
  std::string body;
  std::string contentType;
  std::chrono::milliseconds timeout;
  std::size_t bodyLimit;
  bool idempotent;
};

std::string KubeClientOptions::defaultUserAgent() { return std::string("aks-node-agent/") + build::kVersion; }

KubeClientOptions KubeClientOptions::from(const KubeConnection& connection, const KubernetesConfig& config) {
  KubeClientOptions o;
  o.server = connection.server;
  o.qps = config.qps;
  o.burst = config.burst;
  return o;
}

KubeClientImpl::KubeClientImpl(KubeClientOptions options, HttpClient& http, Timers& timers,
                               BearerToken* token, Metrics* metrics)
    : options_(std::move(options)),
      http_(http),
      timers_(timers),
      token_(token),
      metrics_(metrics),
      limiter_(options_.qps, options_.burst, timers),
      rng_(options_.jitterSeed != 0 ? options_.jitterSeed : std::random_device{}()) {
  auto parsed = boost::urls::parse_uri(options_.server);
  if (parsed && (parsed->scheme() == "https" || parsed->scheme() == "http") && !parsed->encoded_host().empty()) {
    server_ = std::make_unique<ParsedServer>(ParsedServer{boost::urls::url(*parsed)});
    server_->url.remove_query().remove_fragment();
    // Keep a path prefix (API server behind a proxy) but no trailing empty segment.
    auto segs = server_->url.segments();
    while (!segs.empty() && segs.back().empty()) segs.pop_back();
  } else {
    log::error("Kubernetes API server URL is unusable", {{"server", options_.server}});
  }
}

KubeClientImpl::~KubeClientImpl() = default;

const char* KubeClientImpl::contentType(PatchType type) {
  switch (type) {
    case PatchType::StrategicMerge: return "application/strategic-merge-patch+json";
    case PatchType::Merge: return "application/merge-patch+json";
    case PatchType::Json: return "application/json-patch+json";
  }
  return "application/strategic-merge-patch+json";
}

std::string KubeClientImpl::urlFor(std::initializer_list<std::string_view> segments,
                                   std::initializer_list<std::pair<std::string_view, std::string_view>> query) const {
  if (!server_) return "";
  boost::urls::url u = server_->url;
  auto segs = u.segments();
  for (std::string_view s : segments) segs.push_back(s);
  // Query keys and values: everything but RFC 3986 unreserved characters is percent-encoded.
  // Go's url.ParseQuery (the API server) reads '+' as a space, so a literal '+' must be %2B.
  std::string encoded;
  for (const auto& [key, value] : query) {
    if (!encoded.empty()) encoded += '&';
    encoded += boost::urls::encode(key, boost::urls::unreserved_chars);
    encoded += '=';
    encoded += boost::urls::encode(value, boost::urls::unreserved_chars);
  }
  if (!encoded.empty()) u.set_encoded_query(encoded);
  return std::string(u.buffer());
}

double KubeClientImpl::random01() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }

boost::asio::awaitable<void> KubeClientImpl::sleepFor(std::chrono::milliseconds delay) {
  auto alarm = timers_.makeAlarm();
  sleeping_.insert(alarm.get());
  co_await alarm->waitUntil(timers_.now() + delay);
  sleeping_.erase(alarm.get());
}

boost::asio::awaitable<HttpResult> KubeClientImpl::execute(const Call& call) {
  if (call.url.empty()) co_return transportFailure(HttpError::BadUrl, "API server URL is unusable: " + options_.server);
  int attempt = 0;
  bool reauthenticated = false;
  const MonotonicTime deadline = timers_.now() + std::max(options_.callDeadline, call.timeout);
  // A retry is only worth it with at least this much of the deadline left.
  constexpr std::chrono::milliseconds kMinAttempt{500};
  auto left = [&] { return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - timers_.now()); };
  for (;;) {
    if (shutdown_) co_return transportFailure(HttpError::Cancelled, "Kubernetes client is shutting down");
    co_await limiter_.acquire();
    if (shutdown_) co_return transportFailure(HttpError::Cancelled, "Kubernetes client is shutting down");

    HttpRequest request;
    request.method = call.method;
    request.url = call.url;
    request.timeout = std::max(kMinAttempt, std::min(call.timeout, left()));
    request.bodyLimit = call.bodyLimit;
    request.headers.emplace_back("Accept", "application/json");
    request.headers.emplace_back("User-Agent", options_.userAgent);
    if (token_ != nullptr) {
      const std::string& token = token_->current();
      if (!token.empty()) request.headers.emplace_back("Authorization", "Bearer " + token);
    }
    if (!call.body.empty()) {
      request.headers.emplace_back("Content-Type", call.contentType);
      request.body = call.body;
    }

    HttpResult result = co_await http_.send(std::move(request));
    if (result.ok() && result.response.body.size() > call.bodyLimit) {
      result = transportFailure(HttpError::BodyTooLarge, "response body larger than " +
                                                             std::to_string(call.bodyLimit) + " bytes");
    }
    ++attempt;
    const std::string code = result.ok() ? kubeCodeClass(result.response.status) : "error";
    if (metrics_ != nullptr) metrics_->kubeRequest(call.verb, call.resource, code).Increment();

    if (!result.ok()) {
      if (call.idempotent && !shutdown_ && isRetryableTransport(result.error) && attempt < options_.retry.maxAttempts &&
          left() - options_.retry.backoff(attempt, 0.5) >= kMinAttempt) {
        const auto delay = options_.retry.backoff(attempt, random01());
        // Warn: a failing API server delays the cordon, and that must be visible at the
        // default log level.
        log::warn("Kubernetes request failed; retrying",
                  {{"verb", call.verb}, {"resource", call.resource}, {"error", transportName(result.error)},
                   {"attempt", attempt}, {"delayMs", static_cast<long long>(delay.count())}});
        co_await sleepFor(delay);
        continue;
      }
      co_return result;
    }
    const int status = result.response.status;
    if (status == 401 && token_ != nullptr && !reauthenticated && !token_->file().empty()) {
      // Bound tokens rotate: re-read the file once and try again (this retry is free).
      reauthenticated = true;
      const bool changed = token_->reload();
      log::info("API server answered 401; re-read the token and retrying",
                {{"verb", call.verb}, {"resource", call.resource}, {"tokenChanged", changed}});
      --attempt;
      continue;
    }
    if (call.idempotent && !shutdown_ && isRetryableStatus(status) && attempt < options_.retry.maxAttempts) {
      const auto retryAfter = parseRetryAfter(headerValue(result.response, "Retry-After"), timers_.time().systemTime());
      const auto delay = options_.retry.delayFor(attempt, retryAfter, random01());
      if (left() - delay < kMinAttempt) co_return result;  // no time left for another try
      log::warn("Kubernetes request failed; retrying",
                {{"verb", call.verb}, {"resource", call.resource}, {"status", status},
                 {"attempt", attempt}, {"delayMs", static_cast<long long>(delay.count())}});
      co_await sleepFor(delay);
      continue;
    }
    co_return result;
  }
}

KubeResult KubeClientImpl::toKubeResult(HttpResult result, bool parseBody) const {
  KubeResult out;
  if (!result.ok()) {
    out.transport = result.error;
    out.message = result.errorMessage.empty() ? transportName(result.error) : boundedText(result.errorMessage);
    return out;
  }
  out.status = result.response.status;
  const std::string& body = result.response.body;
  if (out.status >= 200 && out.status < 300) {
    if (!parseBody) return out;
    auto parsed = parseJsonBody(body);
    if (!parsed) {
      out.transport = HttpError::Protocol;
      out.message = "API server response is not JSON (HTTP " + std::to_string(out.status) + ")";
      return out;
    }
    out.body = std::move(*parsed);
    return out;
  }
  std::optional<KubeStatus> status;
  if (auto parsed = parseJsonBody(body)) status = parseKubeStatus(*parsed);
  if (status) {
    out.reason = status->reason;
    out.message = status->message;
  }
  if (out.message.empty()) {
    out.message = "HTTP " + std::to_string(out.status);
    if (!body.empty()) out.message += ": " + boundedText(body, 200);
  }
  return out;
}

boost::asio::awaitable<KubeResult> KubeClientImpl::getNode(std::string name) {
  Call call{"get", "nodes", "GET", urlFor({"api", "v1", "nodes", name}), "", "",
            options_.requestTimeout, options_.bodyLimit, true};
  co_return toKubeResult(co_await execute(call), true);
}

boost::asio::awaitable<KubeResult> KubeClientImpl::patchNode(std::string name, boost::json::value patch,
                                                             PatchType type) {
  // Merge patches are idempotent: applying one twice gives the same object, and one carrying a
  // resourceVersion precondition answers 409 on replay, which the caller handles anyway. A JSON
  // patch may append ("/spec/taints/-"): replaying it after a lost answer could apply it twice,
  // so it is not retried.
  const bool idempotent = type != PatchType::Json;
  Call call{"patch", "nodes", "PATCH", urlFor({"api", "v1", "nodes", name}), boost::json::serialize(patch),
            contentType(type), options_.requestTimeout, options_.bodyLimit, idempotent};
  co_return toKubeResult(co_await execute(call), true);
}

boost::asio::awaitable<KubeResult> KubeClientImpl::patchNodeStatus(std::string name, boost::json::value patch) {
  Call call{"patch", "nodes/status", "PATCH", urlFor({"api", "v1", "nodes", name, "status"}),
            boost::json::serialize(patch), contentType(PatchType::StrategicMerge), options_.requestTimeout,
            options_.bodyLimit, true};
  co_return toKubeResult(co_await execute(call), true);
}

boost::asio::awaitable<KubeResult> KubeClientImpl::listPods(std::string fieldSelector, ListSource source) {
  const std::string limit = std::to_string(std::max(options_.listPageSize, 1));
  boost::json::array all;
  std::string continueToken;
  int pages = 0;
  bool restarted = false;
  for (;;) {
    Call call{"list", "pods", "GET", "", "", "", options_.requestTimeout, options_.listBodyLimit, true};
    if (continueToken.empty() && source == ListSource::Cached) {
      // The watch cache, not a quorum read of etcd. A continued page carries its own position
      // (the token), so only the first page names a resourceVersion.
      call.url = urlFor({"api", "v1", "pods"},
                        {{"fieldSelector", fieldSelector}, {"limit", limit}, {"resourceVersion", "0"}});
    } else if (continueToken.empty()) {
      call.url = urlFor({"api", "v1", "pods"}, {{"fieldSelector", fieldSelector}, {"limit", limit}});
    } else {
      call.url = urlFor({"api", "v1", "pods"},
                        {{"fieldSelector", fieldSelector}, {"limit", limit}, {"continue", continueToken}});
    }
    KubeResult page = toKubeResult(co_await execute(call), true);
    if (page.status == 410 && !continueToken.empty() && !restarted) {
      // The continue token expired (etcd compaction): start over once, like client-go's pager.
      log::info("pod list continue token expired; listing again from the start");
      restarted = true;
      all.clear();
      continueToken.clear();
      pages = 0;
      continue;
    }
    if (!page.ok()) co_return page;
    auto parsed = parseListPage(std::move(page.body));
    if (!parsed) {
      KubeResult bad;
      bad.transport = HttpError::Protocol;
      bad.status = page.status;
      bad.message = "API server pod list has no items array";
      co_return bad;
    }
    if (all.size() + parsed->items.size() > options_.maxListItems) {
      KubeResult bad;
      bad.transport = HttpError::BodyTooLarge;
      bad.status = page.status;
      bad.message = "pod list longer than " + std::to_string(options_.maxListItems) + " items";
      co_return bad;
    }
    for (auto& item : parsed->items) all.push_back(std::move(item));
    ++pages;
    if (parsed->continueToken.empty()) {
      KubeResult done;
      done.status = page.status;
      done.body = std::move(all);
      co_return done;
    }
    if (parsed->continueToken == continueToken || pages >= options_.maxListPages) {
      KubeResult bad;
      bad.transport = HttpError::Protocol;
      bad.status = page.status;
      bad.message = "pod list pagination does not end (" + std::to_string(pages) + " pages)";
      co_return bad;
    }
    continueToken = std::move(parsed->continueToken);
  }
}

boost::asio::awaitable<KubeResult> KubeClientImpl::getPod(std::string ns, std::string name) {
  Call call{"get", "pods", "GET", urlFor({"api", "v1", "namespaces", ns, "pods", name}), "", "",
            options_.requestTimeout, options_.bodyLimit, true};
  co_return toKubeResult(co_await execute(call), true);
}

EvictionResult evictionResultFrom(const HttpResult& http, SystemTime now) {
  EvictionResult out;
  if (!http.ok()) {
    out.kind = EvictionResult::Kind::Error;
    out.message = http.errorMessage.empty() ? transportName(http.error) : boundedText(http.errorMessage);
    return out;
  }
  out.status = http.response.status;
  if (out.status >= 200 && out.status < 300) {
    out.kind = EvictionResult::Kind::Evicted;
    return out;
  }
  std::optional<KubeStatus> status;
  if (auto parsed = parseJsonBody(http.response.body)) status = parseKubeStatus(*parsed);
  out.message = status ? status->message : "";
  if (out.message.empty()) {
    out.message = "HTTP " + std::to_string(out.status);
    if (!http.response.body.empty()) out.message += ": " + boundedText(http.response.body, 200);
  }
  if (auto seconds = parseRetryAfter(headerValue(http.response, "Retry-After"), now)) {
    out.retryAfter = *seconds;
  } else if (status && status->retryAfterSeconds > 0) {
    out.retryAfter = std::chrono::seconds(status->retryAfterSeconds);
  }
  if (out.status == 404) {
    out.kind = EvictionResult::Kind::NotFound;
  } else if (out.status == 409) {
    // Only the UID precondition can fail: the pod the agent listed is gone.
    out.kind = EvictionResult::Kind::UidChanged;
  } else if (out.status == 429) {
    // A PDB answers 429 with a DisruptionBudget cause whose message names the budget ("The
    // disruption budget web needs 2 healthy pods and has 1 currently"); priority-and-fairness
    // throttling also answers 429, without it: that is an error to retry, not a budget.
    out.kind = EvictionResult::Kind::Error;
    if (status) {
      for (const auto& cause : status->causes) {
        if (cause.reason == "DisruptionBudget") {
          out.kind = EvictionResult::Kind::BlockedByPdb;
          if (!cause.message.empty()) out.message = cause.message;
          break;
        }
      }
      if (out.kind == EvictionResult::Kind::Error && status->message.find("disruption budget") != std::string::npos) {
        out.kind = EvictionResult::Kind::BlockedByPdb;
      }
    }
  } else if (out.status == 500 && out.message.find("more than one PodDisruptionBudget") != std::string::npos) {
    out.kind = EvictionResult::Kind::MultiplePdbs;
  } else {
    out.kind = EvictionResult::Kind::Error;
  }
  return out;
}

boost::asio::awaitable<EvictionResult> KubeClientImpl::evictPod(std::string ns, std::string name, std::string uid,
                                                                std::optional<int> gracePeriodSeconds) {
  boost::json::object eviction{{"apiVersion", "policy/v1"},
                               {"kind", "Eviction"},
                               {"metadata", {{"name", name}, {"namespace", ns}}}};
  boost::json::object deleteOptions;
  if (gracePeriodSeconds) deleteOptions["gracePeriodSeconds"] = *gracePeriodSeconds;
  if (!uid.empty()) deleteOptions["preconditions"] = {{"uid", uid}};
  if (!deleteOptions.empty()) eviction["deleteOptions"] = std::move(deleteOptions);
  // Not retried here: 429 (PDB) and 500 (several PDBs) are the drainer's decisions.
  Call call{"create", "pods/eviction", "POST",
            urlFor({"api", "v1", "namespaces", ns, "pods", name, "eviction"}), boost::json::serialize(eviction),
            "application/json", options_.evictionTimeout, options_.bodyLimit, false};
  co_return evictionResultFrom(co_await execute(call), timers_.time().systemTime());
}

boost::asio::awaitable<KubeResult> KubeClientImpl::createEvent(std::string ns, boost::json::value event) {
  Call call{"create", "events", "POST", urlFor({"api", "v1", "namespaces", ns, "events"}),
            boost::json::serialize(event), "application/json", options_.requestTimeout, options_.bodyLimit, false};
  co_return toKubeResult(co_await execute(call), true);
}

boost::asio::awaitable<KubeResult> KubeClientImpl::patchEvent(std::string ns, std::string name,
                                                              boost::json::value patch) {
  Call call{"patch", "events", "PATCH", urlFor({"api", "v1", "namespaces", ns, "events", name}),
            boost::json::serialize(patch), contentType(PatchType::StrategicMerge), options_.requestTimeout,
            options_.bodyLimit, true};
  co_return toKubeResult(co_await execute(call), true);
}

// Leases: one short attempt each, never retried here. The elector runs again in a few seconds,
// and a call that outlived the lease would decide on a stale view.
boost::asio::awaitable<KubeResult> KubeClientImpl::getLease(std::string ns, std::string name) {
  Call call{"get", "leases", "GET",
            urlFor({"apis", "coordination.k8s.io", "v1", "namespaces", ns, "leases", name}), "", "",
            kLeaseCallTimeout, options_.bodyLimit, false};
  co_return toKubeResult(co_await execute(call), true);
}

boost::asio::awaitable<KubeResult> KubeClientImpl::createLease(std::string ns, boost::json::value lease) {
  Call call{"create", "leases", "POST", urlFor({"apis", "coordination.k8s.io", "v1", "namespaces", ns, "leases"}),
            boost::json::serialize(lease), "application/json", kLeaseCallTimeout, options_.bodyLimit, false};
  co_return toKubeResult(co_await execute(call), true);
}

boost::asio::awaitable<KubeResult> KubeClientImpl::updateLease(std::string ns, std::string name,
                                                               boost::json::value lease) {
  Call call{"update", "leases", "PUT",
            urlFor({"apis", "coordination.k8s.io", "v1", "namespaces", ns, "leases", name}),
            boost::json::serialize(lease), "application/json", kLeaseCallTimeout, options_.bodyLimit, false};
  co_return toKubeResult(co_await execute(call), true);
}

void KubeClientImpl::shutdown() {
  shutdown_ = true;
  for (Alarm* alarm : sleeping_) alarm->wake();
  http_.shutdown();
}

}  // namespace aksnode
