#include "agent/app/once_report.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <iostream>

#include "agent/app/outbound_http.h"
#include "agent/http/http_client_impl.h"
#include "agent/kube/bearer_token.h"
#include "agent/kube/kube_client_impl.h"
#include "agent/kube/kube_config.h"
#include "agent/core/timers.h"
#include "agent/core/logging.h"
#include "agent/core/secret_redaction.h"
#include "build_info.h"
#include "metrics/metrics.h"
#include "probes/health_checks.h"
#include "probes/scheduled_events/event_json.h"
#include "probes/scheduled_events/imds_client.h"
#include "probes/scheduled_events/imds_poller.h"
#include "probes/scheduled_events/resource_name.h"

namespace aksnode {

namespace asio = boost::asio;

namespace {

constexpr std::chrono::seconds kOnceKubeDeadline{5};

asio::awaitable<void> collect(const Config& config, const std::string& nodeName, asio::io_context& io,
                              boost::json::object& report, bool& healthy) {
  RealTimeSource time;
  Metrics metrics(config);
  HttpClientImpl http(io.get_executor());  // IMDS: always direct
  ImdsClient imds(http, config.imds, metrics, time);
  logOutboundProxy();

  // Instance metadata and the VM name.
  InstanceMetadataFetch instance = co_await imds.fetchInstanceMetadata(std::chrono::seconds(5));
  std::string providerID;

  // The Node, when an API server is configured.
  boost::json::object kubeReport;
  KubeConnectionResult conn = loadKubeConnection(config.kubernetes.kubeconfig);
  if (conn.status == KubeConfigStatus::Ok && !nodeName.empty()) {
    AsioTimers timers(io.get_executor(), time);
    HttpClientImpl kubeHttp(io.get_executor(), conn.connection->tls, outboundProxy());
    std::unique_ptr<BearerToken> token;
    if (!conn.connection->token.empty() || !conn.connection->tokenFile.empty()) {
      token = std::make_unique<BearerToken>(conn.connection->token, conn.connection->tokenFile, time);
    }
    // One read, reported at once: a hung API server must not hold --once for 4 x 10 s.
    KubeClientOptions options = KubeClientOptions::from(*conn.connection, config.kubernetes);
    options.requestTimeout = kOnceKubeDeadline;
    options.callDeadline = kOnceKubeDeadline;
    KubeClientImpl kube(std::move(options), kubeHttp, timers, token.get(), &metrics);
    KubeResult node = co_await kube.getNode(nodeName);
    kubeReport["configured"] = true;
    kubeReport["ok"] = node.ok();
    if (node.ok()) {
      if (const auto* p = node.body.as_object().if_contains("spec")) {
        if (const auto* id = p->as_object().if_contains("providerID"); id && id->is_string()) {
          providerID = std::string(id->as_string());
        }
      }
      kubeReport["providerID"] = providerID;
    } else {
      kubeReport["error"] = secrets::redactSecrets("HTTP " + std::to_string(node.status) + " " + node.message);
      healthy = false;
    }
    kubeHttp.shutdown();
  } else {
    kubeReport["configured"] = false;
    kubeReport["reason"] = conn.status == KubeConfigStatus::Ok ? "no node name" : conn.reason;
    if (conn.status == KubeConfigStatus::Invalid) healthy = false;
  }
  report["kubernetes"] = std::move(kubeReport);

  ResourceNameResolution name =
      resolveResourceName(config.imds.resourceName, instance.metadata ? instance.metadata->name : "", providerID);
  report["vmResourceName"] = name.name;
  report["vmResourceNameSource"] = name.ok() ? name.source : name.reason;
  if (instance.metadata) {
    report["instance"] = {{"name", instance.metadata->name},
                          {"computerName", instance.metadata->computerName},
                          {"priority", instance.metadata->priority},
                          {"vmSize", instance.metadata->vmSize}};
  }

  // Scheduled events.
  ImdsPoller poller(imds, config.imds, metrics, time);
  poller.setVmName(name.name);
  poller.setPatientFirstCall(false);  // a report now, with imds.timeout
  const bool polled = co_await poller.pollOnce({});
  boost::json::array pending;
  for (const auto& p : poller.tracker().pending()) pending.push_back(toJson(p));
  report["imds"] = {{"ok", polled},
                    {"result", toString(poller.status().lastOutcome)},
                    {"error", poller.status().lastError},
                    {"pendingEvents", std::move(pending)}};
  if (!polled) healthy = false;

  // Disk, cache and identity probes. Entra ID, OIDC discovery and JWKS follow the proxy
  // variables (agent/app/outbound_http.h).
  HttpClientImpl identityHttp(io.get_executor(), TlsOptions{}, outboundProxy());
  boost::json::array results;
  for (auto& probe : makeHealthChecks(config, {metrics, time, identityHttp})) {
    for (const auto& r : co_await probe->check()) {
      results.push_back(probeResultJson(r));
      if (!r.healthy) healthy = false;
    }
  }
  report["probes"] = std::move(results);
  http.shutdown();
  identityHttp.shutdown();
}

}  // namespace

int runOnce(const Config& config, const std::string& nodeName) {
  asio::io_context io;
  boost::json::object report;
  report["version"] = build::kVersion;
  report["node"] = nodeName;
  bool healthy = true;
  bool done = false;
  asio::co_spawn(io, collect(config, nodeName, io, report, healthy), [&](std::exception_ptr e) {
    done = true;
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        report["error"] = ex.what();
      }
      healthy = false;
    }
  });
  io.run();
  report["healthy"] = healthy && done;
  std::cout << boost::json::serialize(report) << std::endl;
  return healthy && done ? 0 : 1;
}

}  // namespace aksnode
