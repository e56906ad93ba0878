#include "agent/kube/node_lease.h"

#include <boost/json.hpp>

#include <algorithm>

#include "agent/http/http_date.h"
#include "agent/kube/kube_client.h"
#include "agent/kube/kube_json.h"
#include "agent/core/timers.h"
#include "agent/core/logging.h"

namespace aksnode {

namespace {

// Kubernetes MicroTime: RFC 3339 with exactly six fractional digits.
std::string microTime(SystemTime t) { return formatRfc3339(t, 6); }

}  // namespace

NodeLease::NodeLease(KubeClient& kube, Timers& timers, NodeLeaseOptions options, std::function<void(bool)> onChange)
    : kube_(kube), timers_(timers), o_(std::move(options)), onChange_(std::move(onChange)),
      alarm_(timers.makeAlarm()) {}

NodeLease::~NodeLease() = default;

bool NodeLease::isLeader() const {
  if (failedOpen_) return true;
  // A holder that could not renew in time must assume a standby has taken over.
  return leader_ && timers_.now() - renewedAt_ < o_.leaseDuration;
}

void NodeLease::stop() {
  stopped_ = true;
  alarm_->wake();
}

void NodeLease::setLeader(bool leader) {
  if (reported_ && leader == leader_) return;
  reported_ = true;  // the first decision is logged either way ("standing by" included)
  leader_ = leader;
  if (leader) {
    log::info("acting for this node: holding its lease", {{"lease", o_.ns + "/" + o_.name}, {"holder", o_.holder}});
  } else {
    log::warn("standing by: another agent holds this node's lease",
              {{"lease", o_.ns + "/" + o_.name}, {"holder", observedHolder_}});
  }
  if (onChange_) onChange_(leader);
}

void NodeLease::failOpen(int status, const std::string& message) {
  if (!failedOpen_) {
    log::warn("node lease not available: acting without coordination (grant leases to the agent's ServiceAccount)",
              {{"lease", o_.ns + "/" + o_.name}, {"status", status}, {"error", message}});
  }
  failedOpen_ = true;
  lastError_ = message;
  if (onChange_ && !leader_) onChange_(true);
  leader_ = true;
  renewedAt_ = timers_.now();
}

boost::json::object NodeLease::leaseBody(const boost::json::object* old, bool takeOver) const {
  const std::string now = microTime(timers_.time().systemTime());
  boost::json::object spec;
  if (old != nullptr) {
    if (const auto* s = old->if_contains("spec"); s && s->is_object()) spec = s->get_object();
  }
  spec["holderIdentity"] = o_.holder;
  spec["leaseDurationSeconds"] = static_cast<long long>(o_.leaseDuration.count());
  spec["renewTime"] = now;
  if (takeOver) {
    spec["acquireTime"] = now;
    long long transitions = 0;
    if (const auto* t = spec.if_contains("leaseTransitions"); t && t->is_int64()) transitions = t->get_int64();
    spec["leaseTransitions"] = old != nullptr ? transitions + 1 : 0;
  }
  boost::json::object metadata{{"name", o_.name}, {"namespace", o_.ns}};
  if (old != nullptr) {
    // The resourceVersion read makes the update a compare-and-swap: two standbys taking over
    // at once, one wins, the other gets 409.
    metadata["resourceVersion"] = jsonString(boost::json::value(*old), {"metadata", "resourceVersion"});
  }
  return {{"apiVersion", "coordination.k8s.io/v1"}, {"kind", "Lease"}, {"metadata", std::move(metadata)},
          {"spec", std::move(spec)}};
}

boost::asio::awaitable<void> NodeLease::tryAcquireOrRenew() {
  KubeResult got = co_await kube_.getLease(o_.ns, o_.name);
  if (got.status == 403) {
    failOpen(got.status, got.message);
    co_return;
  }
  if (got.notFound()) {
    KubeResult created = co_await kube_.createLease(o_.ns, leaseBody(nullptr, true));
    if (created.ok()) {
      if (created.body.is_object()) lastLease_ = created.body.get_object();
      renewedAt_ = timers_.now();
      setLeader(true);
    } else if (created.status == 403 || created.notFound()) {
      failOpen(created.status, created.message);
    } else {
      lastError_ = "create: HTTP " + std::to_string(created.status) + " " + created.message;
    }
    co_return;
  }
  if (!got.ok() || !got.body.is_object()) {
    // Unknown: keep what we had; isLeader() runs out with the lease duration.
    lastError_ = "get: HTTP " + std::to_string(got.status) + " " + got.message;
    co_return;
  }
  const boost::json::object& lease = got.body.get_object();
  const std::string holder = jsonString(got.body, {"spec", "holderIdentity"});
  const std::string renewTime = jsonString(got.body, {"spec", "renewTime"});
  const MonotonicTime now = timers_.now();
  const bool mine = holder == o_.holder;
  if (!mine && !holder.empty()) {
    if (holder != observedHolder_ || renewTime != observedRenewTime_) {
      observedHolder_ = holder;
      observedRenewTime_ = renewTime;
      observedAt_ = now;
    }
    std::chrono::seconds duration = o_.leaseDuration;
    if (const auto* d = jsonAt(got.body, {"spec", "leaseDurationSeconds"}); d && d->is_int64() && d->get_int64() > 0) {
      duration = std::chrono::seconds(std::min<long long>(d->get_int64(), 3600));
    }
    if (now - observedAt_ < duration) {
      setLeader(false);
      co_return;
    }
    log::warn("taking over this node's lease: its holder stopped renewing",
              {{"lease", o_.ns + "/" + o_.name}, {"previousHolder", holder}});
  }
  KubeResult updated = co_await kube_.updateLease(o_.ns, o_.name, leaseBody(&lease, !mine));
  if (updated.ok()) {
    if (updated.body.is_object()) lastLease_ = updated.body.get_object();
    renewedAt_ = timers_.now();
    lastError_.clear();
    setLeader(true);
  } else if (updated.status == 403) {
    failOpen(updated.status, updated.message);
  } else {
    lastError_ = "update: HTTP " + std::to_string(updated.status) + " " + updated.message;
    if (updated.conflict()) setLeader(false);  // someone else wrote it in between
  }
}

boost::asio::awaitable<void> NodeLease::run() {
  while (!stopped_) {
    co_await tryAcquireOrRenew();
    if (stopped_) break;
    if (leader_ && !isLeader()) setLeader(false);  // renewals failed for a whole lease duration
    const auto wait = isLeader() ? o_.renewInterval : o_.retryInterval;
    co_await alarm_->waitUntil(timers_.now() + wait);
  }
}

boost::asio::awaitable<void> NodeLease::release() {
  stop();
  if (!leader_ || failedOpen_ || lastLease_.empty()) co_return;
  boost::json::object lease = leaseBody(&lastLease_, false);
  auto& spec = lease["spec"].as_object();
  spec["holderIdentity"] = "";
  spec["leaseDurationSeconds"] = 1;
  leader_ = false;
  KubeResult r = co_await kube_.updateLease(o_.ns, o_.name, std::move(lease));
  if (r.ok()) {
    log::info("released this node's lease", {{"lease", o_.ns + "/" + o_.name}});
  } else {
    log::warn("could not release this node's lease; a standby takes over when it expires",
              {{"lease", o_.ns + "/" + o_.name}, {"status", r.status}, {"error", r.message}});
  }
}

boost::json::object NodeLease::statusJson() const {
  return {{"name", o_.ns + "/" + o_.name},
          {"holder", o_.holder},
          {"leader", isLeader()},
          {"coordinated", !failedOpen_},
          {"observedHolder", observedHolder_},
          {"lastError", lastError_}};
}

}  // namespace aksnode
