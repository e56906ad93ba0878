#pragma once
// An in-memory KubeClient for drain tests: pods on one node, evictions answered per pod
// script (PDB refusals, errors, several PDBs), pods that terminate some simulated time after
// an accepted eviction (or get replaced by a new UID, or never go), call counters and the
// largest number of evictions in flight at once.
#include <deque>
#include <map>
#include <optional>
#include <string>

#include "agent/kube/kube_client.h"
#include "agent/kube/timers.h"
#include "unit/kube/pod_builder.h"

namespace aksnode::testing {

struct FakePod {
  boost::json::value object;
  std::string ns;
  std::string name;
  std::string uid;
  // Eviction script, in this order of precedence.
  int errors = 0;  // answer errorStatus this many times first
  int errorStatus = 500;
  bool multiplePdbs = false;
  bool pdbForever = false;
  int pdbBlocks = 0;      // refuse (429 DisruptionBudget) this many times, then allow
  std::string pdbGroup;   // one disruption at a time among pods of the same group
  // What happens after an accepted eviction.
  std::chrono::milliseconds terminationTime{1000};
  bool replacedWithNewUid = false;  // a pod with the same name and a new UID shows up instead
  bool stuck = false;               // never goes away (finalizer)
  bool deletedBeforeEviction = false;
  // Observed.
  int evictionAttempts = 0;
  int evictionsAccepted = 0;
  std::optional<int> grace;
  std::optional<MonotonicTime> evictedAt;
  std::optional<MonotonicTime> goneAt;
};

class FakeKubeClient final : public KubeClient {
 public:
  explicit FakeKubeClient(Timers& timers) : timers_(timers) {}

  FakePod& add(const PodBuilder& builder) {
    FakePod pod;
    pod.object = builder.json();
    pod.ns = std::string(pod.object.at("metadata").at("namespace").as_string());
    pod.name = std::string(pod.object.at("metadata").at("name").as_string());
    pod.uid = std::string(pod.object.at("metadata").at("uid").as_string());
    pods.push_back(std::move(pod));
    return pods.back();
  }
  FakePod* find(const std::string& ns, const std::string& name) {
    for (auto& p : pods) {
      if (p.ns == ns && p.name == name) return &p;
    }
    return nullptr;
  }
  bool gone(const FakePod& p) const {
    return p.deletedBeforeEviction || (p.goneAt && timers_.now() >= *p.goneAt);
  }

  boost::asio::awaitable<KubeResult> listPods(std::string fieldSelector) override {
    ++listCalls;
    selectors.push_back(fieldSelector);
    co_await timers_.sleepFor(listLatency);
    if (!listScript.empty()) {
      KubeResult r = listScript.front();
      listScript.pop_front();
      co_return r;
    }
    boost::json::array items;
    for (const auto& p : pods) {
      if (!gone(p)) {
        items.push_back(p.object);
      } else if (p.replacedWithNewUid && !p.deletedBeforeEviction) {
        boost::json::value replacement = p.object;
        replacement.as_object()["metadata"].as_object()["uid"] = p.uid + "-replacement";
        items.push_back(std::move(replacement));
      }
    }
    KubeResult r;
    r.status = 200;
    r.body = std::move(items);
    co_return r;
  }

  boost::asio::awaitable<EvictionResult> evictPod(std::string ns, std::string name,
                                                  std::optional<int> gracePeriodSeconds) override {
    ++evictCalls;
    ++inFlight;
    maxInFlight = std::max(maxInFlight, inFlight);
    co_await timers_.sleepFor(evictLatency);
    --inFlight;
    EvictionResult r;
    FakePod* pod = find(ns, name);
    if (pod == nullptr || gone(*pod)) {
      r.kind = EvictionResult::Kind::NotFound;
      r.status = 404;
      co_return r;
    }
    ++pod->evictionAttempts;
    if (pod->errors > 0) {
      --pod->errors;
      r.kind = EvictionResult::Kind::Error;
      r.status = pod->errorStatus;
      r.message = "injected error " + std::to_string(pod->errorStatus);
      co_return r;
    }
    if (pod->multiplePdbs) {
      r.kind = EvictionResult::Kind::MultiplePdbs;
      r.status = 500;
      r.message = "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.";
      co_return r;
    }
    const bool groupBusy = !pod->pdbGroup.empty() && std::any_of(pods.begin(), pods.end(), [&](const FakePod& other) {
      return &other != pod && other.pdbGroup == pod->pdbGroup && other.evictedAt && !gone(other);
    });
    if (pod->pdbForever || pod->pdbBlocks > 0 || (groupBusy && !pod->evictedAt)) {
      if (pod->pdbBlocks > 0) --pod->pdbBlocks;
      r.kind = EvictionResult::Kind::BlockedByPdb;
      r.status = 429;
      r.message = "The disruption budget " + (pod->pdbGroup.empty() ? pod->name : pod->pdbGroup) +
                  " needs 2 healthy pods and has 1 currently";
      co_return r;
    }
    ++pod->evictionsAccepted;
    pod->grace = gracePeriodSeconds;
    if (!pod->evictedAt) {
      pod->evictedAt = timers_.now();
      if (!pod->stuck) pod->goneAt = timers_.now() + pod->terminationTime;
    }
    r.kind = EvictionResult::Kind::Evicted;
    r.status = 201;
    co_return r;
  }

  boost::asio::awaitable<KubeResult> getPod(std::string, std::string) override {
    ++getPodCalls;
    co_return unsupported();
  }
  boost::asio::awaitable<KubeResult> getNode(std::string) override { co_return unsupported(); }
  boost::asio::awaitable<KubeResult> patchNode(std::string, boost::json::value, PatchType) override {
    co_return unsupported();
  }
  boost::asio::awaitable<KubeResult> patchNodeStatus(std::string, boost::json::value) override {
    co_return unsupported();
  }
  boost::asio::awaitable<KubeResult> createEvent(std::string, boost::json::value) override { co_return unsupported(); }
  boost::asio::awaitable<KubeResult> patchEvent(std::string, std::string, boost::json::value) override {
    co_return unsupported();
  }
  void shutdown() override {}

  std::deque<FakePod> pods;
  std::deque<KubeResult> listScript;  // answered before the real list
  std::chrono::milliseconds evictLatency{20};
  std::chrono::milliseconds listLatency{10};
  std::vector<std::string> selectors;
  int listCalls = 0;
  int getPodCalls = 0;
  int evictCalls = 0;
  int inFlight = 0;
  int maxInFlight = 0;

 private:
  static KubeResult unsupported() {
    KubeResult r;
    r.status = 501;
    r.message = "not used by the drainer";
    return r;
  }
  Timers& timers_;
};

}  // namespace aksnode::testing
