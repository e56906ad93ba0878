#include "agent/engine/node_view.h"

#include "agent/kube/kube_json.h"

namespace aksnode {

bool NodeView::hasTaint(const std::string& key) const { return findTaint(key).has_value(); }

std::optional<Taint> NodeView::findTaint(const std::string& key) const {
  for (const auto& t : taints) {
    if (jsonString(t, {"key"}) == key) return Taint{key, jsonString(t, {"value"}), jsonString(t, {"effect"})};
  }
  return std::nullopt;
}

std::optional<NodeView> parseNodeView(const boost::json::value& node) {
  if (!node.is_object()) return std::nullopt;
  NodeView v;
  v.name = jsonString(node, {"metadata", "name"});
  if (v.name.empty()) return std::nullopt;
  v.uid = jsonString(node, {"metadata", "uid"});
  v.resourceVersion = jsonString(node, {"metadata", "resourceVersion"});
  v.providerID = jsonString(node, {"spec", "providerID"});
  if (const auto* u = jsonAt(node, {"spec", "unschedulable"}); u && u->is_bool()) v.unschedulable = u->get_bool();
  if (const auto* t = jsonAt(node, {"spec", "taints"}); t && t->is_array()) {
    for (const auto& item : t->get_array()) {
      if (item.is_object()) v.taints.push_back(item);
    }
  }
  if (const auto* a = jsonAt(node, {"metadata", "annotations", kAnnotationState}); a && a->is_string()) {
    v.agentState = parseAnnotation(std::string(a->get_string()));
    v.agentStateUnreadable = !v.agentState.has_value();
  }
  if (const auto* c = jsonAt(node, {"status", "conditions"}); c && c->is_array()) {
    for (const auto& item : c->get_array()) {
      NodeCondition cond;
      cond.type = jsonString(item, {"type"});
      if (cond.type.empty()) continue;
      cond.status = jsonString(item, {"status"});
      cond.reason = jsonString(item, {"reason"});
      cond.message = jsonString(item, {"message"});
      cond.lastHeartbeatTime = jsonString(item, {"lastHeartbeatTime"});
      cond.lastTransitionTime = jsonString(item, {"lastTransitionTime"});
      v.conditions[cond.type] = std::move(cond);
    }
  }
  return v;
}

}  // namespace aksnode
