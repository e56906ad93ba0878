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
#include "agent/core/timers.h"
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
  // Deleted and recreated under the same name with this UID (a StatefulSet pod, maybe on
  // another node: then it is no longer in this node's list) before the next eviction attempt;
  // the eviction's UID precondition then fails (409), as on a real API server.
  std::optional<std::string> recreatedWithUid;
  bool recreatedOnThisNode = false;
  // ... which happens right after this many eviction attempts were answered (0 = never).
  int recreateAfterAttempts = 0;
  std::string recreateUid = "recreated-uid";
  // Overload: answer 429 without a DisruptionBudget cause, with this Retry-After, this many times first.
  int overloaded = 0;
  std::chrono::seconds overloadRetryAfter{10};
  // Observed.
  int evictionAttempts = 0;
  int evictionsAccepted = 0;
  std::optional<int> grace;
  std::vector<std::string> preconditionUids;  // per attempt ("" = none sent)
  std::vector<MonotonicTime> attemptTimes;
  int evictionsOfRecreatedPod = 0;             // evictions that hit the recreated pod: must stay 0
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

  boost::asio::awaitable<KubeResult> listPods(std::string fieldSelector, ListSource source) override {
    ++listCalls;
    selectors.push_back(fieldSelector);
    sources.push_back(source);
    co_await timers_.sleepFor(listLatency);
    if (!listScript.empty()) {
      KubeResult r = listScript.front();
      listScript.pop_front();
      co_return r;
    }
    boost::json::array items;
    for (const auto& p : pods) {
      if (p.recreatedWithUid) {
        if (p.recreatedOnThisNode) {
          boost::json::value again = p.object;
          again.as_object()["metadata"].as_object()["uid"] = *p.recreatedWithUid;
          items.push_back(std::move(again));
        }
      } else if (!gone(p)) {
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

  boost::asio::awaitable<EvictionResult> evictPod(std::string ns, std::string name, std::string uid,
                                                  std::optional<int> gracePeriodSeconds) override {
    ++evictCalls;
    ++inFlight;
    maxInFlight = std::max(maxInFlight, inFlight);
    co_await timers_.sleepFor(evictLatency);
    --inFlight;
    EvictionResult r;
    FakePod* pod = find(ns, name);
    if (pod == nullptr || (gone(*pod) && !pod->recreatedWithUid)) {
      r.kind = EvictionResult::Kind::NotFound;
      r.status = 404;
      co_return r;
    }
    ++pod->evictionAttempts;
    pod->preconditionUids.push_back(uid);
    pod->attemptTimes.push_back(timers_.now());
    if (pod->recreatedWithUid) {
      // Another pod has this name now: the API server checks the UID precondition.
      if (!uid.empty() && uid != *pod->recreatedWithUid) {
        r.kind = EvictionResult::Kind::UidChanged;
        r.status = 409;
        r.message = "Precondition failed: UID in precondition: " + uid + ", UID in object meta: " + *pod->recreatedWithUid;
        co_return r;
      }
      ++pod->evictionsOfRecreatedPod;
      r.kind = EvictionResult::Kind::Evicted;
      r.status = 201;
      co_return r;
    }
    if (pod->overloaded > 0) {
      --pod->overloaded;
      r.kind = EvictionResult::Kind::Error;
      r.status = 429;
      r.message = "Too many requests, please try again later.";
      r.retryAfter = pod->overloadRetryAfter;
      co_return r;
    }
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
      if (pod->recreateAfterAttempts > 0 && pod->evictionAttempts == pod->recreateAfterAttempts) {
        pod->recreatedWithUid = pod->recreateUid;
      }
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
  std::vector<ListSource> sources;
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
