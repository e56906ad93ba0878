#include "agent/engine/node_patch.h"

#include <algorithm>

#include "agent/kube/kube_json.h"
#include "agent/http/http_date.h"

namespace aksnode {

namespace {
std::string describe(const Taint& t) { return t.key + "=" + t.value + ":" + t.effect; }

bool owned(const DesiredNode& d, const std::string& key) {
  return std::find(d.ownedTaintKeys.begin(), d.ownedTaintKeys.end(), key) != d.ownedTaintKeys.end();
}
}  // namespace

std::optional<NodePatch> buildNodePatch(const NodeView& live, const DesiredNode& desired) {
  NodePatch out;
  boost::json::object metadata;
  boost::json::object spec;

  // Taints: others' untouched and in place, ours as desired.
  boost::json::array taints;
  bool taintsChanged = false;
  std::vector<Taint> wanted = desired.taints;
  for (const auto& t : live.taints) {
    const std::string key = jsonString(t, {"key"});
    if (!owned(desired, key)) {
      taints.push_back(t);
      continue;
    }
    Taint current{key, jsonString(t, {"value"}), jsonString(t, {"effect"})};
    auto it = std::find(wanted.begin(), wanted.end(), current);
    if (it != wanted.end()) {
      taints.push_back(t);  // already right: keep its timeAdded
      wanted.erase(it);
    } else {
      taintsChanged = true;
      out.taintsRemoved.push_back(key);
    }
  }
  for (const auto& t : wanted) {
    taints.push_back(boost::json::object{{"key", t.key}, {"value", t.value}, {"effect", t.effect}});
    out.taintsAdded.push_back(describe(t));
    taintsChanged = true;
  }
  if (taintsChanged) spec["taints"] = std::move(taints);

  if (desired.unschedulable && *desired.unschedulable != live.unschedulable) {
    spec["unschedulable"] = *desired.unschedulable;
    out.cordons = *desired.unschedulable;
    out.uncordons = !*desired.unschedulable;
  }

  boost::json::object annotations;
  if (desired.annotation) {
    const bool same = live.agentState && *live.agentState == *desired.annotation;
    if (!same) annotations[kAnnotationState] = serializeAnnotation(*desired.annotation);
  } else if (live.agentState || live.agentStateUnreadable) {
    annotations[kAnnotationState] = nullptr;
  }
  if (!annotations.empty()) metadata["annotations"] = std::move(annotations);

  if (spec.empty() && metadata.empty()) return std::nullopt;
  metadata["resourceVersion"] = live.resourceVersion;
  boost::json::object patch;
  patch["metadata"] = std::move(metadata);
  if (!spec.empty()) patch["spec"] = std::move(spec);
  out.patch = std::move(patch);
  return out;
}

std::optional<ConditionPatch> buildConditionPatch(const NodeView& live, const std::vector<DesiredCondition>& desired,
                                                  SystemTime now) {
  ConditionPatch out;
  boost::json::array conditions;
  const std::string nowText = formatRfc3339(now);
  for (const auto& want : desired) {
    const std::string status = want.status ? "True" : "False";
    auto it = live.conditions.find(want.type);
    bool write = false;
    std::string transition = nowText;
    if (it == live.conditions.end()) {
      write = true;
      out.changedTypes.push_back(want.type);
    } else {
      const NodeCondition& have = it->second;
      if (have.status == status && !have.lastTransitionTime.empty()) transition = have.lastTransitionTime;
      if (have.status != status || have.reason != want.reason || have.message != want.message) {
        write = true;
        out.changedTypes.push_back(want.type);
      } else {
        auto beat = parseHttpDate(have.lastHeartbeatTime);
        write = !beat || now - *beat >= kConditionHeartbeat;
      }
    }
    if (!write) continue;
    conditions.push_back(boost::json::object{{"type", want.type},
                                             {"status", status},
                                             {"reason", want.reason},
                                             {"message", want.message},
                                             {"lastHeartbeatTime", nowText},
                                             {"lastTransitionTime", transition}});
  }
  if (conditions.empty()) return std::nullopt;
  out.patch = boost::json::object{{"status", boost::json::object{{"conditions", std::move(conditions)}}}};
  return out;
}

}  // namespace aksnode
