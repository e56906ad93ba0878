#include "agent/kube/pod_info.h"

#include <algorithm>

#include "agent/kube/drainer.h"
#include "agent/kube/kube_json.h"

namespace aksnode {

std::optional<PodInfo> parsePod(const boost::json::value& pod) {
  const auto* nameValue = jsonAt(pod, {"metadata", "name"});
  const auto* nsValue = jsonAt(pod, {"metadata", "namespace"});
  if (nameValue == nullptr || nsValue == nullptr || !nameValue->is_string() || !nsValue->is_string()) {
    return std::nullopt;
  }
  PodInfo info;
  info.name = std::string(nameValue->get_string());
  info.ns = std::string(nsValue->get_string());
  if (info.name.empty() || info.ns.empty()) return std::nullopt;
  info.uid = jsonString(pod, {"metadata", "uid"});
  info.nodeName = jsonString(pod, {"spec", "nodeName"});
  info.phase = jsonString(pod, {"status", "phase"});
  if (const auto* deletion = jsonAt(pod, {"metadata", "deletionTimestamp"})) {
    info.terminating = !deletion->is_null();
  }
  if (const auto* annotations = jsonAt(pod, {"metadata", "annotations"}); annotations != nullptr && annotations->is_object()) {
    info.mirror = annotations->get_object().contains("kubernetes.io/config.mirror");
  }
  if (const auto* owners = jsonAt(pod, {"metadata", "ownerReferences"}); owners != nullptr && owners->is_array()) {
    for (const auto& owner : owners->get_array()) {
      const auto* controller = jsonAt(owner, {"controller"});
      if (controller != nullptr && controller->is_bool() && controller->get_bool()) {
        info.controllerKind = jsonString(owner, {"kind"});
        if (info.controllerKind.empty()) info.controllerKind = "Unknown";
        break;
      }
    }
  }
  if (const auto* volumes = jsonAt(pod, {"spec", "volumes"}); volumes != nullptr && volumes->is_array()) {
    for (const auto& volume : volumes->get_array()) {
      if (const auto* obj = volume.if_object(); obj != nullptr && obj->contains("emptyDir")) {
        info.emptyDir = true;
        break;
      }
    }
  }
  if (const auto* grace = jsonAt(pod, {"spec", "terminationGracePeriodSeconds"})) {
    if (const auto* i = grace->if_int64(); i != nullptr && *i >= 0) {
      info.terminationGracePeriodSeconds = *i;
    } else if (const auto* u = grace->if_uint64(); u != nullptr) {
      info.terminationGracePeriodSeconds = static_cast<std::int64_t>(std::min<std::uint64_t>(*u, INT64_MAX));
    }
  }
  return info;
}

PodDecision classifyPod(const PodInfo& pod, const DrainOptions& options) {
  const auto skip = [](std::string why) { return PodDecision{PodDisposition::Skip, std::move(why), false}; };
  // Defence in depth: the list asked for spec.nodeName=<node>; a pod the server returned for
  // another node (a buggy or hostile API server) is never evicted by this node's agent.
  if (!options.nodeName.empty() && pod.nodeName != options.nodeName) {
    return skip(kOnAnotherNode + (pod.nodeName.empty() ? std::string("(none)") : pod.nodeName));
  }
  if (std::find(options.skipNamespaces.begin(), options.skipNamespaces.end(), pod.ns) != options.skipNamespaces.end()) {
    return skip("namespace skipped");
  }
  if (!options.ownPodName.empty() && pod.name == options.ownPodName &&
      (options.ownPodNamespace.empty() || pod.ns == options.ownPodNamespace)) {
    return skip("own pod");
  }
  if (pod.phase == "Succeeded" || pod.phase == "Failed") return skip("finished");
  if (pod.mirror) return skip("mirror pod");
  if (pod.controllerKind == "DaemonSet") return skip("DaemonSet");
  if (pod.emptyDir && !options.deleteEmptyDirData) {
    return PodDecision{PodDisposition::Block, "EmptyDir", pod.controllerKind.empty()};
  }
  return PodDecision{PodDisposition::Evict, "", pod.controllerKind.empty()};
}

std::optional<int> evictionGracePeriod(const PodInfo& pod, std::optional<int> cap) {
  if (!cap) return std::nullopt;
  const std::int64_t own = pod.terminationGracePeriodSeconds.value_or(30);
  // Never under 1 s: gracePeriodSeconds 0 is a force delete (the API server removes the pod
  // object at once, whether or not its containers stopped).
  return static_cast<int>(std::max<std::int64_t>(kMinGracePeriodSeconds, std::min<std::int64_t>(own, *cap)));
}

}  // namespace aksnode
