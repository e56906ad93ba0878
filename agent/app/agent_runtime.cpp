#include "agent/app/agent_runtime.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <optional>
#include <random>
#include <set>

#include "agent/app/endpoints.h"
#include "agent/app/loops.h"
#include "agent/app/outbound_http.h"
#include "agent/engine/action_engine.h"
#include "agent/http/http_client_impl.h"
#include "agent/http/http_server.h"
#include "agent/kube/bearer_token.h"
#include "agent/kube/drainer_impl.h"
#include "agent/kube/kube_client_impl.h"
#include "agent/kube/kube_config.h"
#include "agent/kube/node_lease.h"
#include "agent/core/timers.h"
#include "agent/core/logging.h"
#include "agent/notify/notifier_impl.h"
#include "build_info.h"
#include "metrics/metrics.h"
#include "probes/health_checks.h"
#include "probes/identity/pod_scan.h"
#include "probes/scheduled_events/imds_client.h"
#include "probes/scheduled_events/imds_poller.h"
#include "probes/scheduled_events/resource_name.h"

namespace aksnode {

namespace asio = boost::asio;

namespace {
// SIGTERM: in-flight requests get this long to finish before the loop is stopped (contract: 2 s).
constexpr std::chrono::milliseconds kShutdownGrace{1500};
}  // namespace

struct AgentRuntime::Impl {
  explicit Impl(RuntimeOptions o)
      : options(std::move(o)),
        config(options.config),
        metrics(config),
        timers(io.get_executor(), time),
        imdsHttp(io.get_executor()),
        imdsClient(imdsHttp, config.imds, metrics, time),
        poller(imdsClient, config.imds, metrics, time),
        identityHttp(io.get_executor(), TlsOptions{}, outboundProxy()),
        notifyHttp(io.get_executor(), TlsOptions{}, outboundProxy()),
        server(io.get_executor(), [this](std::string_view m, std::string_view p) { return endpoints->handle(m, p); }) {}

  RuntimeOptions options;
  const Config& config;
  asio::io_context io{1};
  RealTimeSource time;
  Metrics metrics;
  AsioTimers timers;
  Loops loops{timers};  // every loop below waits on its alarms; shutdown stops them
  HttpClientImpl imdsHttp;  // no proxy: IMDS is always direct (agent/app/outbound_http.h)
  ImdsClient imdsClient;
  ImdsPoller poller;
  HttpClientImpl identityHttp;  // Entra ID, OIDC discovery, JWKS: through the proxy variables
  // Webhook notices (agent/notify): their own client, through the proxy variables like every
  // request but IMDS's; a hung receiver's connections never share a pool with another peer.
  HttpClientImpl notifyHttp;
  std::unique_ptr<NotifierImpl> notifier;
  std::unique_ptr<HttpClientImpl> kubeHttp;
  std::unique_ptr<BearerToken> kubeToken;
  std::unique_ptr<KubeClientImpl> kube;
  std::unique_ptr<DrainerImpl> drainer;
  std::unique_ptr<NodeLease> lease;  // one acting agent per node
  std::string kubeNamespace;         // from the kubeconfig or the in-cluster namespace file
  std::string kubeNotConfigured;
  std::unique_ptr<ActionEngine> engine;
  std::vector<std::unique_ptr<HealthCheck>> probes;
  std::vector<ProbeResult> lastHealth;
  std::unique_ptr<Endpoints> endpoints;
  HttpServer server;
  std::optional<asio::signal_set> signals;
  std::optional<asio::signal_set> ignoredSignals;
  std::string vmName;
  std::string vmNameSource;
  std::optional<InstanceMetadata> instance;
  MonotonicTime lastTick{};

  std::string startMetricsServer();
  void connectKubernetes();
  void discoverVm();
  void startImdsPolling();
  void startHealthProbes();
  void startNotifier();
  void startEngine();
  void handleSignals();
  void watchIgnoredSignals();
  asio::awaitable<void> releaseLeaseThenCloseKube();
  void shutdown(const char* why);
  // A long-running loop, counted: shutdown stops the io_context as soon as none is left.
  asio::awaitable<void> guarded(asio::awaitable<void> loop) { return loops.guarded(std::move(loop)); }
  using Wait = std::optional<std::chrono::nanoseconds>;  // after a round: wait this long, or end
  asio::awaitable<void> discoverVmLoop() { return loops.repeat([this] { return discoverVmRound(); }); }
  asio::awaitable<Wait> discoverVmRound();
  std::chrono::milliseconds discoverBackoff{1000};
  int discoverAttempts = 0;
  asio::awaitable<void> healthLoop() { return loops.repeat([this] { return healthRound(); }); }
  asio::awaitable<Wait> healthRound();
  asio::awaitable<void> podScanLoop() { return loops.repeat([this] { return podScanRound(); }); }
  asio::awaitable<Wait> podScanRound();
  std::set<std::string> podScanNamespaces;  // namespaces with a series in the gauge
  boost::json::object lastPodScan;
  asio::awaitable<void> tickLoop() { return loops.repeat([this] { return tickRound(); }); }
  asio::awaitable<Wait> tickRound();
  bool resolveVmName();
};

std::string AgentRuntime::Impl::startMetricsServer() {
  EndpointSources sources;
  sources.metrics = &metrics;
  sources.lastTick = [this] { return lastTick; };
  sources.now = [this] { return time.monotonicTime(); };
  sources.pollInterval = config.imds.pollInterval;
  sources.readiness = [this]() -> std::vector<std::string> {
    std::vector<std::string> reasons;
    const ImdsPollStatus& imdsStatus = poller.status();
    if (imdsStatus.firstCallInFlight) {
      const auto waited = std::chrono::duration_cast<std::chrono::seconds>(time.monotonicTime() -
                                                                           imdsStatus.firstCallStarted);
      reasons.push_back("waiting " + std::to_string(waited.count()) +
                        "s for the first IMDS Scheduled Events answer: the first call enables the service and "
                        "may take up to 2 minutes (imds.firstCallTimeout " +
                        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(config.imds.firstCallTimeout)
                                           .count()) +
                        "s)" + (imdsStatus.lastError.empty() ? std::string() : "; last error: " + imdsStatus.lastError));
    } else if (!imdsStatus.everSucceeded) {
      reasons.push_back("no successful IMDS Scheduled Events poll yet" +
                        (imdsStatus.lastError.empty() ? std::string() : ": " + imdsStatus.lastError));
    }
    if (engine && !engine->kubeReady()) reasons.push_back("Kubernetes API server: " + engine->kubeNotReadyReason());
    if (vmName.empty()) reasons.push_back("the VM resource name is not known yet (IMDS compute.name or node providerID)");
    return reasons;
  };
  sources.status = [this]() {
    boost::json::object o = engine ? engine->statusJson() : boost::json::object{};
    o["node"] = engine && engine->lastNode() ? o["node"] : boost::json::value(options.nodeName);
    o["nodeName"] = options.nodeName;
    o["vmResourceName"] = vmName;
    o["vmResourceNameSource"] = vmNameSource;
    o["dryRun"] = options.dryRun;
    o["version"] = build::kVersion;
    const auto& st = poller.status();
    o["imds"] = {{"endpoint", config.imds.endpoint},
                 {"polls", st.polls},
                 {"everSucceeded", st.everSucceeded},
                 {"firstCallInFlight", st.firstCallInFlight},
                 {"lastResult", toString(st.lastOutcome)},
                 {"lastError", st.lastError},
                 {"consecutiveFailures", st.consecutiveFailures},
                 {"incarnation", poller.tracker().lastIncarnation().value_or(0)}};
    if (!lastPodScan.empty()) o["identityPodScan"] = lastPodScan;
    if (lease) o["lease"] = lease->statusJson();
    if (notifier) o["notifications"] = notifier->statusJson();
    if (instance) {
      o["instance"] = {{"name", instance->name},         {"computerName", instance->computerName},
                       {"vmScaleSetName", instance->vmScaleSetName}, {"priority", instance->priority},
                       {"evictionPolicy", instance->evictionPolicy}, {"vmSize", instance->vmSize},
                       {"zone", instance->zone}};
    }
    return o;
  };
  endpoints = std::make_unique<Endpoints>(std::move(sources));
  server.onShed([this](ShedReason reason) {
    metrics.serverConnectionsShed(reason).Increment();
    // A flood repeats this line; the log's rate limit sums it up.
    log::warn("metrics server closed a connection to keep answering", {{"reason", toString(reason)}});
  });
  std::string error = server.listen(config.metrics.address);
  if (error.empty()) {
    log::info("serving /metrics /healthz /readyz /status", {{"address", config.metrics.address}, {"port", server.port()}});
  }
  return error;
}

void AgentRuntime::Impl::connectKubernetes() {
  KubeConnectionResult conn = loadKubeConnection(config.kubernetes.kubeconfig);
  if (conn.status != KubeConfigStatus::Ok) {
    kubeNotConfigured = std::string("not configured (") + toString(conn.status) + "): " + conn.reason;
    log::warn("Kubernetes API server not available", {{"reason", kubeNotConfigured}});
    return;
  }
  try {
    kubeHttp = makeOutboundHttpClient(io.get_executor(), conn.connection->tls);
  } catch (const std::exception& e) {
    kubeNotConfigured = "TLS material of " + conn.connection->source + " is unusable: " + e.what();
    log::error("Kubernetes API server not available", {{"reason", kubeNotConfigured}});
    return;
  }
  if (!conn.connection->token.empty() || !conn.connection->tokenFile.empty()) {
    kubeToken = std::make_unique<BearerToken>(conn.connection->token, conn.connection->tokenFile, time);
  }
  kube = std::make_unique<KubeClientImpl>(KubeClientOptions::from(*conn.connection, config.kubernetes), *kubeHttp,
                                          timers, kubeToken.get(), &metrics);
  drainer = std::make_unique<DrainerImpl>(*kube, timers, &metrics);
  kubeNamespace = conn.connection->ns;
  log::info("Kubernetes API server", {{"server", conn.connection->server}, {"source", conn.connection->source}});
}

bool AgentRuntime::Impl::resolveVmName() {
  std::string providerID = engine && engine->lastNode() ? engine->lastNode()->providerID : std::string();
  ResourceNameResolution r =
      resolveResourceName(config.imds.resourceName, instance ? instance->name : std::string(), providerID);
  if (!r.ok()) return false;
  if (r.name != vmName) {
    vmName = r.name;
    vmNameSource = r.source;
    poller.setVmName(vmName);
    if (engine) engine->setVmName(vmName);
    log::info("acting on scheduled events for this VM", {{"vm", vmName}, {"source", r.source}});
    if (!r.warning.empty()) log::warn("VM name sources disagree", {{"warning", r.warning}});
  }
  return true;
}

asio::awaitable<AgentRuntime::Impl::Wait> AgentRuntime::Impl::discoverVmRound() {
  // IMDS's first call can be slow (it may be enabling the service): a generous timeout.
  InstanceMetadataFetch fetch = co_await imdsClient.fetchInstanceMetadata(std::chrono::seconds(10));
  const int attempts = ++discoverAttempts;
  if (fetch.metadata) {
    instance = fetch.metadata;
    log::info("instance metadata", {{"name", instance->name},
                                    {"computerName", instance->computerName},
                                    {"vmScaleSetName", instance->vmScaleSetName},
                                    {"priority", instance->priority},
                                    {"evictionPolicy", instance->evictionPolicy},
                                    {"vmSize", instance->vmSize},
                                    {"zone", instance->zone}});
    if (resolveVmName()) co_return std::nullopt;
  } else if (attempts == 1 || attempts % 10 == 0) {
    log::warn("instance metadata not available yet", {{"result", toString(fetch.outcome)}, {"error", fetch.message}});
  }
  // Without compute.name, the Node's providerID names the VM just as well.
  if (!fetch.metadata && resolveVmName() && vmNameSource != "config") {
    // Keep asking IMDS now and then: compute.name is the better source.
    discoverBackoff = std::chrono::seconds(30);
  }
  const std::chrono::milliseconds wait = discoverBackoff;
  discoverBackoff = std::min<std::chrono::milliseconds>(discoverBackoff * 2, std::chrono::seconds(30));
  co_return wait;
}

void AgentRuntime::Impl::discoverVm() {
  if (!config.imds.resourceName.empty()) {
    resolveVmName();
  }
  asio::co_spawn(io, guarded(discoverVmLoop()), asio::detached);
}

void AgentRuntime::Impl::startImdsPolling() {
  ImdsPoller::OnDocument onDocument = [this](const TrackerUpdate& update) {
    if (engine) engine->setPending(poller.tracker().pending(), update.changes);
  };
  asio::co_spawn(io, guarded(poller.run(timers, std::move(onDocument))), asio::detached);
}

asio::awaitable<AgentRuntime::Impl::Wait> AgentRuntime::Impl::healthRound() {
  std::vector<ProbeResult> results;
  for (auto& probe : probes) {
    auto r = co_await probe->check();
    if (loops.stopping()) co_return std::nullopt;
    results.insert(results.end(), r.begin(), r.end());
  }
  // No log here: each probe logs its own failures, the engine logs state changes as Events.
  lastHealth = results;
  if (engine) engine->setHealth(results);
  co_return config.healthInterval;
}

asio::awaitable<AgentRuntime::Impl::Wait> AgentRuntime::Impl::podScanRound() {
  KubeResult pods = co_await kube->listPods("spec.nodeName=" + options.nodeName, ListSource::Cached);
  if (loops.stopping()) co_return std::nullopt;
  if (pods.ok() && pods.body.is_array()) {
    identity::PodScanResult scan = identity::scanIdentityPods(pods.body.as_array(), config.identity.expectedAudience);
    // Namespaces that were misconfigured before and are fine now go back to 0.
    for (const auto& ns : podScanNamespaces) {
      if (!scan.perNamespace.count(ns)) metrics.identityPodsMisconfigured(ns).Set(0);
    }
    boost::json::array bad;
    for (const auto& [ns, n] : scan.perNamespace) {
      metrics.identityPodsMisconfigured(ns).Set(n);
      podScanNamespaces.insert(ns);
    }
    for (const auto& m : scan.misconfigured) {
      log::warn("pod uses workload identity but was not set up for it",
                {{"namespace", m.ns}, {"pod", m.name}, {"reason", m.reason}});
      bad.push_back({{"namespace", m.ns}, {"name", m.name}, {"reason", m.reason}});
    }
    lastPodScan = {{"podsUsingIdentity", scan.podsUsingIdentity}, {"misconfigured", std::move(bad)}};
  } else {
    log::warn("workload identity pod scan failed", {{"status", pods.status}, {"error", pods.message}});
  }
  co_return config.identity.podScan.interval;
}

void AgentRuntime::Impl::startHealthProbes() {
  probes = makeHealthChecks(config, {metrics, time, identityHttp});
  if (!probes.empty()) asio::co_spawn(io, guarded(healthLoop()), asio::detached);
  if (config.identity.enabled && config.identity.podScan.enabled && kube) {
    asio::co_spawn(io, guarded(podScanLoop()), asio::detached);
  }
}

namespace {
std::string leaseHolderIdentity(const std::string& podName) {
  if (!podName.empty()) return podName;
  // Outside a pod: the host name and a random suffix (two agents started by hand on one host
  // must not share an identity).
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::random_device random;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "%08x", random());
  return std::string(host) + "-" + suffix;
}
}  // namespace

void AgentRuntime::Impl::startNotifier() {
  if (config.notifications.webhooks.empty()) return;
  notifier = std::make_unique<NotifierImpl>(io.get_executor(), config.notifications, notifyHttp, timers, metrics);
  notifier->start();
}

void AgentRuntime::Impl::startEngine() {
  ActionEngineDeps deps{config, kube.get(), drainer.get(), &imdsClient, metrics, timers, options.dryRun,
                        options.nodeName, options.ownPodNamespace, options.ownPodName, kubeNotConfigured, {},
                        notifier.get()};
  // A dry run writes nothing, not even a Lease: it always "acts" (and logs what it would do).
  if (kube && !options.dryRun) {
    NodeLeaseOptions lo;
    lo.ns = !options.ownPodNamespace.empty() ? options.ownPodNamespace
                                             : (!kubeNamespace.empty() ? kubeNamespace : "default");
    lo.name = NodeLease::leaseName(options.nodeName);
    lo.holder = leaseHolderIdentity(options.ownPodName);
    lease = std::make_unique<NodeLease>(*kube, timers, lo, [this](bool acting) {
      if (engine) engine->setActing(acting);
    });
    deps.mayAct = [this] { return lease->isLeader(); };
  }
  engine = std::make_unique<ActionEngine>(io.get_executor(), std::move(deps));
  if (!vmName.empty()) engine->setVmName(vmName);
  if (lease) asio::co_spawn(io, guarded(lease->run()), asio::detached);
  asio::co_spawn(io, guarded(engine->run()), asio::detached);
}

asio::awaitable<AgentRuntime::Impl::Wait> AgentRuntime::Impl::tickRound() {
  // /healthz watches this: if the loop stops turning, the tick gets old.
  lastTick = time.monotonicTime();
  log::flushSuppressed();  // a flood of one log line that has stopped is still summed up
  // Once the VM name is known from IMDS nothing more is needed; until then, the providerID
  // the engine read may resolve it.
  if (vmName.empty() && engine && engine->lastNode()) resolveVmName();
  co_return std::min<std::chrono::milliseconds>(config.imds.pollInterval, std::chrono::seconds(1));
}

void AgentRuntime::Impl::shutdown(const char* why) {
  if (loops.stopping()) return;
  loops.stop();
  log::info("shutting down", {{"signal", why}});
  poller.stop();
  if (engine) engine->stop();
  server.stop();
  if (ignoredSignals) ignoredSignals->cancel();
  imdsHttp.shutdown();
  identityHttp.shutdown();
  if (notifier) notifier->stop();
  notifyHttp.shutdown();
  if (lease) {
    // Give the node's lease up first (one short PUT), then close the API server connections.
    asio::co_spawn(io, guarded(releaseLeaseThenCloseKube()), asio::detached);
  } else if (kubeHttp) {
    kubeHttp->shutdown();
  }
  // Stop as soon as every loop has finished; whatever is still in flight after the grace
  // period is abandoned.
  asio::co_spawn(io, [this]() -> asio::awaitable<void> {
    co_await loops.ended(kShutdownGrace);
    io.stop();
  }, asio::detached);
}

asio::awaitable<void> AgentRuntime::Impl::releaseLeaseThenCloseKube() {
  co_await lease->release();
  if (kubeHttp) kubeHttp->shutdown();
}

void AgentRuntime::Impl::handleSignals() {
  signals.emplace(io, SIGTERM, SIGINT);
  signals->async_wait([this](boost::system::error_code ec, int sig) {
    if (!ec) shutdown(sig == SIGTERM ? "SIGTERM" : "SIGINT");
  });
  // Their default action kills the process without a word (SIGQUIT even dumps core): a stray
  // `kill -HUP` from an operator or a log shipper must not take the node's protection away.
  // None of them has a meaning for the agent (the config is re-read by a restart), so each is
  // logged and ignored. SIGPIPE is ignored process-wide in main() (a write to a closed socket
  // or log pipe is an error return, not a death).
  ignoredSignals.emplace(io);
  for (int sig : {SIGHUP, SIGUSR1, SIGUSR2, SIGQUIT, SIGALRM}) ignoredSignals->add(sig);
  watchIgnoredSignals();
}

void AgentRuntime::Impl::watchIgnoredSignals() {
  ignoredSignals->async_wait([this](boost::system::error_code ec, int sig) {
    if (ec || loops.stopping()) return;
    const char* name = ::sigabbrev_np(sig);
    log::warn("signal ignored: only SIGTERM and SIGINT stop the agent",
              {{"signal", std::string("SIG") + (name ? name : "?")}});
    watchIgnoredSignals();
  });
}

AgentRuntime::AgentRuntime(RuntimeOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
AgentRuntime::~AgentRuntime() = default;

std::string AgentRuntime::start() {
  Impl& a = *impl_;
  log::info("aks-node-agent starting", {{"version", build::kVersion},
                                        {"commit", build::kCommit},
                                        {"arch", build::kArch},
                                        {"node", a.options.nodeName},
                                        {"dryRun", a.options.dryRun},
                                        {"imds", a.config.imds.endpoint}});
  logOutboundProxy();
  a.handleSignals();
  if (std::string error = a.startMetricsServer(); !error.empty()) return error;
  a.connectKubernetes();
  a.startNotifier();
  a.startEngine();
  a.discoverVm();
  a.startImdsPolling();
  a.startHealthProbes();
  asio::co_spawn(a.io, a.guarded(a.tickLoop()), asio::detached);
  return {};
}

int AgentRuntime::run() {
  impl_->io.run();
  log::info("aks-node-agent stopped");
  return 0;
}

}  // namespace aksnode
