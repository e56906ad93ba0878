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

namespace {
// A field that may be absent (or null) but, when present, must have the expected kind.
bool absentOr(const boost::json::value* v, bool (boost::json::value::*is)() const noexcept) {
  return v == nullptr || v->is_null() || (v->*is)();
}
}  // namespace

Result<NodeView> parseNodeView(const boost::json::value& node) {
  auto fail = [](const char* why) { return Result<NodeView>::failure(why); };
  if (!node.is_object()) return fail("not a JSON object");
  if (!absentOr(jsonAt(node, {"metadata"}), &boost::json::value::is_object)) return fail("metadata is not an object");
  NodeView v;
  v.name = jsonString(node, {"metadata", "name"});
  if (v.name.empty()) return fail("metadata.name is missing");
  v.uid = jsonString(node, {"metadata", "uid"});
  v.resourceVersion = jsonString(node, {"metadata", "resourceVersion"});
  // Without it a PATCH has no concurrency check and may overwrite a change it never saw.
  if (v.resourceVersion.empty()) return fail("metadata.resourceVersion is missing");
  if (!absentOr(jsonAt(node, {"metadata", "annotations"}), &boost::json::value::is_object)) {
    return fail("metadata.annotations is not an object");
  }
  if (!absentOr(jsonAt(node, {"spec"}), &boost::json::value::is_object)) return fail("spec is not an object");
  v.providerID = jsonString(node, {"spec", "providerID"});
  const auto* u = jsonAt(node, {"spec", "unschedulable"});
  if (!absentOr(u, &boost::json::value::is_bool)) return fail("spec.unschedulable is not a boolean");
  if (u && u->is_bool()) v.unschedulable = u->get_bool();
  const auto* t = jsonAt(node, {"spec", "taints"});
  if (!absentOr(t, &boost::json::value::is_array)) return fail("spec.taints is not a list");
  if (t && t->is_array()) {
    for (const auto& item : t->get_array()) {
      // Every taint is written back as it was read: one the agent cannot read is one it would drop.
      if (!item.is_object()) return fail("spec.taints holds an entry that is not an object");
      const auto* key = item.as_object().if_contains("key");
      if (key == nullptr || !key->is_string() || key->get_string().empty()) {
        return fail("spec.taints holds an entry without a key");
      }
      v.taints.push_back(item);
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
  return Result<NodeView>::success(std::move(v));
}

}  // namespace aksnode
