// --dry-run's Kubernetes decorators (dry_run_kube_client.h): log the write, simulate its success.
#include "agent/kube/dry_run_kube_client.h"

#include <boost/json.hpp>

#include <algorithm>

#include "agent/core/logging.h"

namespace aksnode {

namespace {

KubeResult okResult(boost::json::value body) {
  KubeResult r;
  r.status = 200;
  r.body = std::move(body);
  return r;
}

boost::json::object& objectAt(boost::json::object& o, const char* key) {
  auto& v = o[key];
  if (!v.is_object()) v = boost::json::object{};
  return v.as_object();
}

// The parts of a strategic-merge patch the engine sends: spec fields replace, annotations merge
// (null removes one). metadata.resourceVersion is a precondition, not a change.
void applyNodePatch(boost::json::object& node, const boost::json::object& patch) {
  if (const auto* spec = patch.if_contains("spec"); spec && spec->is_object()) {
    auto& target = objectAt(node, "spec");
    for (const auto& [key, value] : spec->as_object()) target[key] = value;
  }
  const auto* meta = patch.if_contains("metadata");
  const auto* annotations = meta && meta->is_object() ? meta->as_object().if_contains("annotations") : nullptr;
  if (annotations && annotations->is_object()) {
    auto& target = objectAt(objectAt(node, "metadata"), "annotations");
    for (const auto& [key, value] : annotations->as_object()) {
      if (value.is_null()) {
        target.erase(key);
      } else {
        target[key] = value;
      }
    }
  }
}

// status.conditions is merged by type, as the API server does.
std::string applyConditionPatch(boost::json::object& node, const boost::json::object& patch) {
  std::string types;
  const auto* status = patch.if_contains("status");
  const auto* conditions = status && status->is_object() ? status->as_object().if_contains("conditions") : nullptr;
  if (!conditions || !conditions->is_array()) return types;
  auto& live = objectAt(node, "status")["conditions"];
  if (!live.is_array()) live = boost::json::array{};
  for (const auto& c : conditions->as_array()) {
    const auto& type = c.at("type");
    types += (types.empty() ? "" : ",") + std::string(type.as_string());
    auto& list = live.as_array();
    auto same = std::find_if(list.begin(), list.end(), [&](const boost::json::value& l) {
      return l.is_object() && l.as_object().if_contains("type") && l.at("type") == type;
    });
    if (same != list.end()) {
      *same = c;
    } else {
      list.push_back(c);
    }
  }
  return types;
}

}  // namespace

KubeResult DryRunKubeClient::simulated(const std::string& node) const { return okResult(nodes_.at(node)); }

boost::asio::awaitable<KubeResult> DryRunKubeClient::getNode(std::string name) {
  if (nodes_.count(name)) co_return simulated(name);
  KubeResult r = co_await real_.getNode(name);
  if (r.ok() && r.body.is_object()) nodes_[name] = r.body;
  co_return r;
}

boost::asio::awaitable<KubeResult> DryRunKubeClient::patchNode(std::string name, boost::json::value patch, PatchType) {
  log::info("dry run: would patch the node", {{"patch", boost::json::serialize(patch)}});
  auto& node = nodes_[name];
  if (!node.is_object()) node = boost::json::object{};
  if (patch.is_object()) applyNodePatch(node.as_object(), patch.as_object());
  co_return simulated(name);
}

boost::asio::awaitable<KubeResult> DryRunKubeClient::patchNodeStatus(std::string name, boost::json::value patch) {
  auto& node = nodes_[name];
  if (!node.is_object()) node = boost::json::object{};
  const std::string types = patch.is_object() ? applyConditionPatch(node.as_object(), patch.as_object()) : "";
  log::info("dry run: would update node conditions", {{"conditions", types}});
  co_return simulated(name);
}

boost::asio::awaitable<KubeResult> DryRunKubeClient::listPods(std::string fieldSelector, ListSource source) {
  co_return co_await real_.listPods(std::move(fieldSelector), source);
}

boost::asio::awaitable<KubeResult> DryRunKubeClient::getPod(std::string ns, std::string name) {
  co_return co_await real_.getPod(std::move(ns), std::move(name));
}

boost::asio::awaitable<EvictionResult> DryRunKubeClient::evictPod(std::string ns, std::string name, std::string,
                                                                  std::optional<int>) {
  log::info("dry run: would evict the pod", {{"namespace", ns}, {"pod", name}});
  EvictionResult r;
  r.kind = EvictionResult::Kind::Evicted;
  r.status = 201;
  co_return r;
}

boost::asio::awaitable<KubeResult> DryRunKubeClient::createEvent(std::string ns, boost::json::value event) {
  log::debug("dry run: would create the event", {{"namespace", ns}});
  co_return okResult(std::move(event));
}

boost::asio::awaitable<KubeResult> DryRunKubeClient::patchEvent(std::string ns, std::string name, boost::json::value) {
  log::debug("dry run: would patch the event", {{"namespace", ns}, {"name", name}});
  co_return okResult(boost::json::object{});
}

boost::asio::awaitable<KubeResult> DryRunKubeClient::getLease(std::string ns, std::string name) {
  co_return co_await real_.getLease(std::move(ns), std::move(name));
}

boost::asio::awaitable<KubeResult> DryRunKubeClient::createLease(std::string ns, boost::json::value lease) {
  log::debug("dry run: would create the lease", {{"namespace", ns}});
  co_return okResult(std::move(lease));
}

boost::asio::awaitable<KubeResult> DryRunKubeClient::updateLease(std::string ns, std::string name,
                                                                 boost::json::value lease) {
  log::debug("dry run: would update the lease", {{"namespace", ns}, {"name", name}});
  co_return okResult(std::move(lease));
}

boost::asio::awaitable<DrainOutcome> DryRunDrainer::drain(DrainOptions, std::shared_ptr<CancelFlag>,
                                                          std::function<void(const DrainProgress&)>) {
  DrainOutcome outcome;
  outcome.result = DrainResult::Success;
  outcome.message = "dry run: no pod evicted";
  co_return outcome;
}

}  // namespace aksnode
