#pragma once
// An in-memory API server for one Node, enough for the action engine: GET returns the Node,
// PATCH applies the strategic-merge subset the engine sends (annotations merged with null =
// delete, taints replaced whole, unschedulable set) and answers 409 when the patch carries a
// stale metadata.resourceVersion; nodes/status merges conditions by type; Events are recorded.
// Scripted failures, a hook that lets "someone else" change the Node just before a PATCH,
// simulated latency through the test's Timers.
#include <boost/json.hpp>

#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "agent/kube/drainer.h"
#include "agent/kube/kube_client.h"
#include "agent/core/timers.h"

namespace aksnode::testing {

inline KubeResult kubeFailure(int status, std::string reason, std::string message) {
  KubeResult r;
  r.status = status;
  r.reason = std::move(reason);
  r.message = std::move(message);
  return r;
}

class FakeNodeKube final : public KubeClient {
 public:
  FakeNodeKube(Timers& timers, boost::json::value initial) : node(std::move(initial)), timers_(timers) {}

  boost::asio::awaitable<KubeResult> getNode(std::string name) override {
    ++getCalls;
    names.push_back(name);
    co_await timers_.sleepFor(latency);
    if (!getScript.empty()) {
      KubeResult r = getScript.front();
      getScript.pop_front();
      co_return r;
    }
    co_return ok(node);
  }

  boost::asio::awaitable<KubeResult> patchNode(std::string name, boost::json::value patch, PatchType type) override {
    ++patchCalls;
    names.push_back(name);
    patches.push_back(patch);
    patchTypes.push_back(type);
    co_await timers_.sleepFor(latency);
    if (beforePatch) {
      auto hook = std::move(beforePatch);
      beforePatch = nullptr;
      hook(*this);
    }
    if (!patchScript.empty()) {
      KubeResult r = patchScript.front();
      patchScript.pop_front();
      co_return r;
    }
    const auto* rv = patch.as_object().at("metadata").as_object().if_contains("resourceVersion");
    if (rv != nullptr && *rv != metadata().at("resourceVersion")) {
      ++conflicts;
      co_return kubeFailure(409, "Conflict",
                            "Operation cannot be fulfilled on nodes \"n\": the object has been modified; please apply "
                            "your changes to the latest version and try again");
    }
    if (const auto* meta = patch.as_object().at("metadata").as_object().if_contains("annotations")) {
      auto& annotations = metadata()["annotations"];
      if (!annotations.is_object()) annotations = boost::json::object{};
      for (const auto& [k, v] : meta->as_object()) {
        if (v.is_null()) {
          annotations.as_object().erase(k);
        } else {
          annotations.as_object()[k] = v;
        }
      }
    }
    if (const auto* spec = patch.as_object().if_contains("spec")) {
      if (const auto* taints = spec->as_object().if_contains("taints")) {
        // The API server refuses two taints with the same key and effect.
        std::set<std::string> seen;
        for (const auto& t : taints->as_array()) {
          const std::string id = std::string(t.at("key").as_string()) + ":" + std::string(t.at("effect").as_string());
          if (!seen.insert(id).second) co_return kubeFailure(422, "Invalid", "duplicate taint " + id);
        }
        specObject()["taints"] = *taints;
      }
      if (const auto* u = spec->as_object().if_contains("unschedulable")) specObject()["unschedulable"] = *u;
    }
    bump();
    co_return ok(node);
  }

  boost::asio::awaitable<KubeResult> patchNodeStatus(std::string name, boost::json::value patch) override {
    ++statusCalls;
    names.push_back(name);
    statusPatches.push_back(patch);
    co_await timers_.sleepFor(latency);
    if (!statusScript.empty()) {
      KubeResult r = statusScript.front();
      statusScript.pop_front();
      co_return r;
    }
    // A resourceVersion in the patch is a precondition on nodes/status too.
    if (const auto* meta = patch.as_object().if_contains("metadata")) {
      const auto* rv = meta->as_object().if_contains("resourceVersion");
      if (rv != nullptr && *rv != metadata().at("resourceVersion")) {
        ++conflicts;
        co_return kubeFailure(409, "Conflict", "Operation cannot be fulfilled on nodes \"n\": the object has been modified");
      }
    }
    auto& conditions = node.as_object()["status"].as_object()["conditions"];
    if (!conditions.is_array()) conditions = boost::json::array{};
    for (const auto& c : patch.at("status").at("conditions").as_array()) {
      bool replaced = false;
      for (auto& have : conditions.as_array()) {
        if (have.at("type") == c.at("type")) {
          have = c;
          replaced = true;
        }
      }
      if (!replaced) conditions.as_array().push_back(c);
    }
    bump();
    co_return ok(node);
  }

  boost::asio::awaitable<KubeResult> createEvent(std::string ns, boost::json::value event) override {
    eventNamespaces.push_back(ns);
    events.push_back(event);
    KubeResult r;
    r.status = 201;
    r.body = event;
    co_return r;
  }

  boost::asio::awaitable<KubeResult> listPods(std::string, ListSource) override { co_return unsupported(); }
  boost::asio::awaitable<KubeResult> getPod(std::string, std::string) override { co_return unsupported(); }
  boost::asio::awaitable<EvictionResult> evictPod(std::string, std::string, std::string, std::optional<int>) override {
    co_return EvictionResult{};
  }
  boost::asio::awaitable<KubeResult> patchEvent(std::string, std::string, boost::json::value) override {
    co_return unsupported();
  }
  void shutdown() override {}

  // Someone else writes the Node (kubectl, the cloud controller): new resourceVersion.
  void externalUpdate(const std::function<void(boost::json::object& node)>& change) {
    change(node.as_object());
    bump();
  }

  std::vector<std::string> eventReasons() const {
    std::vector<std::string> out;
    for (const auto& e : events) out.emplace_back(e.at("reason").as_string());
    return out;
  }
  std::string annotation(const std::string& key) const {
    const auto* a = node.at("metadata").as_object().if_contains("annotations");
    if (a == nullptr || !a->is_object()) return "<absent>";
    const auto* v = a->as_object().if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : "<absent>";
  }

  boost::json::value node;
  std::chrono::milliseconds latency{5};
  std::deque<KubeResult> getScript, patchScript, statusScript;
  std::function<void(FakeNodeKube&)> beforePatch;
  std::vector<boost::json::value> patches, statusPatches, events;
  std::vector<PatchType> patchTypes;
  std::vector<std::string> names, eventNamespaces;
  int getCalls = 0, patchCalls = 0, statusCalls = 0, conflicts = 0;

 private:
  boost::json::object& metadata() { return node.as_object()["metadata"].as_object(); }
  boost::json::object& specObject() {
    auto& s = node.as_object()["spec"];
    if (!s.is_object()) s = boost::json::object{};
    return s.as_object();
  }
  void bump() {
    auto& rv = metadata()["resourceVersion"];
    rv = std::to_string(std::stoll(std::string(rv.as_string())) + 1);
  }
  static KubeResult ok(const boost::json::value& body) {
    KubeResult r;
    r.status = 200;
    r.body = body;
    return r;
  }
  static KubeResult unsupported() { return kubeFailure(501, "", "not used by the engine"); }
  Timers& timers_;
};

// A drain that runs until the test releases it (or the engine cancels it), on simulated time.
class FakeDrainer final : public Drainer {
 public:
  explicit FakeDrainer(Timers& timers) : timers_(timers) {}

  boost::asio::awaitable<DrainOutcome> drain(DrainOptions options, std::shared_ptr<CancelFlag> cancel,
                                             std::function<void(const DrainProgress&)> onProgress) override {
    ++calls;
    running = true;
    lastOptions = options;
    lastCancel = cancel;
    startedAt = timers_.now();
    DrainProgress p;
    p.podsToEvict = 3;
    p.podsRemaining = 3;
    p.blocked.push_back(BlockedPod{"shop", "web-0", "DisruptionBudget", "needs 2 healthy pods"});
    if (onProgress) onProgress(p);
    while (!release && !cancel->cancelled) co_await timers_.sleepFor(std::chrono::milliseconds(50));
    running = false;
    DrainOutcome out = outcome;
    if (cancel->cancelled) {
      out.result = DrainResult::Cancelled;
      out.message = "cancelled";
    }
    co_return out;
  }

  int calls = 0;
  bool running = false;
  bool release = false;
  DrainOutcome outcome{DrainResult::Success, {}, "drained 3 pods", {}, {}};
  DrainOptions lastOptions;
  std::shared_ptr<CancelFlag> lastCancel;
  MonotonicTime startedAt{};

 private:
  Timers& timers_;
};

}  // namespace aksnode::testing
