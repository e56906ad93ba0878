#include "agent/engine/node_events.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>

#include "agent/kube/kube_client.h"
#include "agent/kube/kube_json.h"
#include "agent/core/logging.h"
#include "agent/notify/notifier.h"
#include "agent/core/secret_redaction.h"
#include "agent/http/http_date.h"

namespace aksnode {

NodeEventRecorder::NodeEventRecorder(boost::asio::any_io_executor executor, KubeClient* client, const TimeSource& time,
                                     std::string nodeName, bool dryRun)
    : executor_(std::move(executor)), client_(client), time_(time), nodeName_(std::move(nodeName)), dryRun_(dryRun) {}

bool NodeEventRecorder::take(const std::string& reason) {
  const MonotonicTime now = time_.monotonicTime();
  auto [it, fresh] = buckets_.try_emplace(reason);
  Bucket& b = it->second;
  if (!fresh) {
    const double refills = std::chrono::duration<double>(now - b.updated) / kRefill;
    b.tokens = std::min(kBurst, b.tokens + refills);
  }
  b.updated = now;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

void NodeEventRecorder::record(const std::string& type, const std::string& reason, const std::string& message,
                               const EventSubject& subject) {
  if (gate_ && !gate_()) return;  // a standby agent: the lease holder writes the Events
  if (!take(reason)) {
    ++dropped_;
    log::warn("node event dropped: too many with this reason", {{"reason", reason}, {"dropped", dropped_}});
    return;
  }
  log::info("node event", {{"reason", reason}, {"type", type}, {"message", message}, {"dryRun", dryRun_}});
  const auto now = time_.systemTime();
  // At most 1 KiB (events.k8s.io caps a note there), cut on a UTF-8 boundary; the notice says
  // the same as the Event.
  std::string text = boundedText(secrets::redactSecrets(message), 1021);
  if (notifier_) {
    Notice notice{nodeName_, vmName_, reason, type, subject, text, now, dryRun_};
    notifier_->notify(notice);
  }
  if (dryRun_ || !client_) return;
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  char suffix[48];
  std::snprintf(suffix, sizeof suffix, ".%llx%04lx", static_cast<unsigned long long>(nanos), ++counter_ & 0xffff);
  const std::string stamp = formatRfc3339(now);
  boost::json::object event{
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"name", nodeName_ + suffix}, {"namespace", "default"}}},
      {"involvedObject", {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", nodeName_}, {"uid", nodeUid_}}},
      {"reason", reason},
      {"message", std::move(text)},
      {"type", type},
      {"source", {{"component", "aks-node-agent"}, {"host", nodeName_}}},
      {"reportingComponent", "aks-node-agent"},
      {"reportingInstance", nodeName_},
      {"firstTimestamp", stamp},
      {"lastTimestamp", stamp},
      {"count", 1}};
  boost::asio::co_spawn(
      executor_,
      [client = client_, event = std::move(event), reason]() mutable -> boost::asio::awaitable<void> {
        KubeResult r = co_await client->createEvent("default", std::move(event));
        if (!r.ok()) {
          log::warn("cannot write node event", {{"reason", reason}, {"status", r.status}, {"error", r.message}});
        }
      },
      boost::asio::detached);
}

}  // namespace aksnode
