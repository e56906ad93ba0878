#include "probes/identity/pod_scan.h"

#include <boost/json.hpp>

namespace aksnode::identity {

namespace {
const boost::json::value* at(const boost::json::value& v, std::initializer_list<const char*> path) {
  const boost::json::value* cur = &v;
  for (const char* key : path) {
    if (!cur->is_object()) return nullptr;
    cur = cur->as_object().if_contains(key);
    if (!cur) return nullptr;
  }
  return cur;
}

std::string str(const boost::json::value& v, std::initializer_list<const char*> path) {
  const auto* p = at(v, path);
  return p && p->is_string() ? std::string(p->as_string()) : std::string();
}

bool containerHasEnv(const boost::json::value& container, const char* name) {
  const auto* env = at(container, {"env"});
  if (!env || !env->is_array()) return false;
  for (const auto& e : env->as_array()) {
    if (str(e, {"name"}) == name) return true;
  }
  return false;
}

// The audience of the projected service-account token volume, "" when there is none.
std::string projectedTokenAudience(const boost::json::value& pod, bool& found) {
  found = false;
  const auto* volumes = at(pod, {"spec", "volumes"});
  if (!volumes || !volumes->is_array()) return {};
  for (const auto& v : volumes->as_array()) {
    const auto* sources = at(v, {"projected", "sources"});
    if (!sources || !sources->is_array()) continue;
    for (const auto& s : sources->as_array()) {
      const auto* token = at(s, {"serviceAccountToken"});
      if (!token || !token->is_object()) continue;
      const std::string audience = str(*token, {"audience"});
      if (audience.empty()) continue;  // the default kube-api-access token
      found = true;
      return audience;
    }
  }
  return {};
}
}  // namespace

PodScanResult scanIdentityPods(const boost::json::array& pods, const std::string& expectedAudience) {
  PodScanResult out;
  for (const auto& pod : pods) {
    if (str(pod, {"metadata", "labels", "azure.workload.identity/use"}) != "true") continue;
    const std::string phase = str(pod, {"status", "phase"});
    if (phase == "Succeeded" || phase == "Failed") continue;
    ++out.podsUsingIdentity;
    MisconfiguredPod m{str(pod, {"metadata", "namespace"}), str(pod, {"metadata", "name"}), {}};
    bool mutated = false;
    if (const auto* containers = at(pod, {"spec", "containers"}); containers && containers->is_array()) {
      for (const auto& c : containers->as_array()) {
        if (containerHasEnv(c, "AZURE_FEDERATED_TOKEN_FILE") && containerHasEnv(c, "AZURE_CLIENT_ID")) mutated = true;
      }
    }
    bool hasVolume = false;
    const std::string audience = projectedTokenAudience(pod, hasVolume);
    if (!mutated) {
      m.reason = "NotMutated";
    } else if (!hasVolume) {
      m.reason = "TokenVolumeMissing";
    } else if (!expectedAudience.empty() && audience != expectedAudience) {
      m.reason = "WrongAudience";
    }
    if (!m.reason.empty()) {
      out.perNamespace[m.ns]++;
      out.misconfigured.push_back(std::move(m));
    }
  }
  return out;
}

}  // namespace aksnode::identity
